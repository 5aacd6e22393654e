//! Named queues in Redis: the routing configuration (current and past versions, each change
//! audited), each case's queue recorded when the case is created, claims that take only
//! cases of queues the claimant may see, and the access check behind every page of a case.
//!
//! A case's queue is the hash field `route`, written by the script that creates the case,
//! so no case exists without its queue; a case created before routing (no field) counts in
//! the default queue. Queues are a view over the one priority order: cases stay in the
//! main and senior sorted sets, scored by rank and age as before, so the legal deadline and
//! urgency never depend on the queue, and a claim walks that order skipping cases the
//! claimant may not see (at most [`CLAIM_SCAN`] of them).

use super::handle::{ReviewStore, StoreError, ms, with_prelude};
use crate::model::{Case, MatchRecord, Role, Source};
use crate::routing::{RouteInput, RoutingConfig};
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};
use std::sync::LazyLock;
use takedown_core::clock::Clock;

/// How many queued cases one claim looks at, at most, for one the claimant may see.
pub const CLAIM_SCAN: usize = 5000;
/// How many past routing versions are kept.
pub const KEPT_VERSIONS: isize = 100;

/// Saves a routing configuration if the stored one is still at the expected version.
///
/// KEYS: audit, seq, routing, versions. ARGV: expected version, new JSON, actor, now,
/// version entry JSON, kept versions, audit after. Returns 1, or 0 on a version conflict.
static SAVE: LazyLock<redis::Script> = LazyLock::new(|| {
    with_prelude(
        r#"
local cur = redis.call('GET', KEYS[3])
local ver = 0
if cur then ver = tonumber(cjson.decode(cur).version) or 0 end
if ver ~= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[3], ARGV[2])
redis.call('LPUSH', KEYS[4], ARGV[5])
redis.call('LTRIM', KEYS[4], 0, tonumber(ARGV[6]) - 1)
audit('routing', ARGV[3], ARGV[4], 'routing.updated', cjson.encode({version = ver}),
  ARGV[7], '')
return 1
"#,
    )
});

/// Claims the first case, in queue order, that the claimant may see and did not take the
/// contested decision of, after returning expired leases. Escalated cases (the senior queue,
/// `KEYS[4]` when `ARGV[9]` is 1) are open to a senior whatever their named queue.
///
/// KEYS: audit, seq, leases, queue… ARGV: now, lease end, actor, key prefix, reap limit,
/// scan limit, `all` or `some`, default queue, senior queue first (1/0), count of known
/// queues, known…, count of allowed queues, allowed…. Returns `{id}` or `{}`.
static CLAIM: LazyLock<redis::Script> = LazyLock::new(|| {
    with_prelude(
        r#"
reap(KEYS[3], ARGV[4], ARGV[1], tonumber(ARGV[5]))
local all = ARGV[7] == 'all'
local default = ARGV[8]
local senior_first = ARGV[9] == '1'
local known, allowed = {}, {}
local i = 10
local nk = tonumber(ARGV[i])
for j = 1, nk do known[ARGV[i + j]] = true end
i = i + nk + 1
local na = tonumber(ARGV[i])
for j = 1, na do allowed[ARGV[i + j]] = true end
local budget = tonumber(ARGV[6])
local function may(ck, escalated)
  local f = redis.call('HMGET', ck, 'route', 'not_by')
  if f[2] and f[2] == ARGV[3] then return false end
  if all or escalated then return true end
  local r = f[1]
  if not r or not known[r] then r = default end
  return allowed[r] == true
end
for k = 4, #KEYS do
  local start = 0
  while budget > 0 do
    local n = math.min(100, budget)
    local ids = redis.call('ZRANGE', KEYS[k], start, start + n - 1)
    if #ids == 0 then break end
    budget = budget - #ids
    for _, id in ipairs(ids) do
      local ck = ARGV[4] .. ':case:' .. id
      if may(ck, senior_first and k == 4) then
        redis.call('ZREM', KEYS[k], id)
        redis.call('HSET', ck, 'holder', ARGV[3], 'lease_until', ARGV[2])
        redis.call('HSETNX', ck, 'first_claimed_at', ARGV[1])
        redis.call('HINCRBY', ck, 'ver', 1)
        redis.call('ZADD', KEYS[3], ARGV[2], id)
        audit(id, ARGV[3], ARGV[1], 'case.claimed', '{}',
          cjson.encode({holder = ARGV[3], lease_until = tonumber(ARGV[2])}), '')
        return {id}
      end
    end
    start = start + #ids
  end
end
return {}
"#,
    )
});

/// One saved version of the routing configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RoutingVersion {
    /// The version number.
    pub version: u64,
    /// Who saved it.
    pub actor: String,
    /// When (Unix ms).
    pub at_ms: i64,
    /// The configuration.
    pub config: RoutingConfig,
}

/// The queue a new case goes to, with what decided it.
#[derive(Debug, Clone)]
pub(crate) struct NewRoute {
    /// The queue's name.
    pub queue: String,
    /// Who may not decide it: the moderator who took the decision a complaint contests.
    pub not_by: String,
    /// The routing version used.
    pub version: u64,
    /// The rule that matched (from 0).
    pub rule: Option<usize>,
}

impl NewRoute {
    /// `summary` (a case's audit JSON) with the queue, the version and the rule added.
    pub fn audit_after(&self, summary: &str) -> String {
        let mut v: serde_json::Value =
            serde_json::from_str(summary).unwrap_or_else(|_| serde_json::json!({}));
        v["queue"] = self.queue.clone().into();
        v["routing_version"] = self.version.into();
        v["rule"] = self.rule.map(|r| r as u64).into();
        v.to_string()
    }
}

impl ReviewStore {
    fn routing_key(&self) -> String {
        self.key("routing")
    }

    /// The routing configuration in force (the built-in one until an admin saves one).
    pub async fn routing(&self) -> Result<RoutingConfig, StoreError> {
        let doc: Option<String> = self.conn.clone().get(self.routing_key()).await?;
        Ok(match doc {
            Some(d) => serde_json::from_str(&d)?,
            None => RoutingConfig::default(),
        })
    }

    /// Saves `config` as the next version if the one in force is still `expected` (else
    /// [`StoreError::State`]); refuses an invalid one with the field named. Audited as
    /// `routing.updated`; the last [`KEPT_VERSIONS`] versions are kept.
    pub async fn save_routing(
        &self,
        expected: u64,
        mut config: RoutingConfig,
        actor: &str,
    ) -> Result<u64, StoreError> {
        config
            .validate()
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        config.version = expected + 1;
        let now = ms(self.clock.now());
        let entry = RoutingVersion {
            version: config.version,
            actor: actor.to_string(),
            at_ms: now,
            config: config.clone(),
        };
        let [audit, seq] = self.audit_keys();
        let after = serde_json::json!({"version": config.version, "queues": config.queues.len(),
            "rules": config.rules.len(), "default_queue": config.default_queue});
        let ok: i64 = SAVE
            .key(audit)
            .key(seq)
            .key(self.routing_key())
            .key(self.key("routing:versions"))
            .arg(expected)
            .arg(serde_json::to_string(&config)?)
            .arg(actor)
            .arg(now)
            .arg(serde_json::to_string(&entry)?)
            .arg(KEPT_VERSIONS)
            .arg(after.to_string())
            .invoke_async(&mut self.conn.clone())
            .await?;
        match ok {
            1 => Ok(config.version),
            _ => Err(StoreError::State(
                "the routing rules were changed by someone else meanwhile; reload and retry",
            )),
        }
    }

    /// Saved routing versions, newest first.
    pub async fn routing_versions(&self, n: usize) -> Result<Vec<RoutingVersion>, StoreError> {
        let docs: Vec<String> = self
            .conn
            .clone()
            .lrange(self.key("routing:versions"), 0, n as isize - 1)
            .await?;
        docs.iter()
            .map(|d| serde_json::from_str(d).map_err(StoreError::from))
            .collect()
    }

    /// Where a new `case` with `matches` goes under the rules in force.
    pub(crate) async fn route_new(
        &self,
        case: &Case,
        matches: &[MatchRecord],
    ) -> Result<NewRoute, StoreError> {
        let config = self.routing().await?;
        let routed = config.route(&RouteInput::of(case, matches));
        let mut not_by = String::new();
        for s in &case.sources {
            if let Source::Complaint { against_case, .. } = s
                && let Ok(contested) = self.case(against_case).await
                && let Some(d) = contested.case.decision
            {
                not_by = d.decided_by;
            }
        }
        Ok(NewRoute {
            queue: routed.queue,
            not_by,
            version: config.version,
            rule: routed.rule,
        })
    }

    /// The queue case `id` was routed to (`None` before routing or for no such case).
    pub async fn case_queue(&self, id: &str) -> Result<Option<String>, StoreError> {
        Ok(self.conn.clone().hget(self.case_key(id), "route").await?)
    }

    /// Whether `role` may see case `id`: its named queue is open to the role, or it is
    /// escalated (in the senior queue) and the role is a senior moderator's, whose queue
    /// escalations are. A case that does not exist is left to the caller's "not found".
    pub async fn may_see_case(&self, id: &str, role: Role) -> Result<bool, StoreError> {
        if role == Role::Admin {
            return Ok(true);
        }
        let ((route, sorted), config): ((Option<String>, Option<String>), _) = (
            redis::cmd("HMGET")
                .arg(self.case_key(id))
                .arg("route")
                .arg("queue")
                .query_async(&mut self.conn.clone())
                .await?,
            self.routing().await?,
        );
        let escalated = sorted.as_deref() == Some(self.queue_key(true).as_str());
        Ok(config.may_see(route.as_deref(), role) || (escalated && role == Role::SeniorModerator))
    }

    /// Claims the next case `actor` (of `role`) may see, in priority order (senior
    /// moderators and admins take escalated cases first, from any named queue).
    pub async fn claim_next_as(
        &self,
        actor: &str,
        role: Role,
    ) -> Result<Option<String>, StoreError> {
        let config = self.routing().await?;
        let senior = matches!(role, Role::SeniorModerator | Role::Admin);
        if config.sees_all(role) {
            return self.claim_routed(actor, senior, None).await;
        }
        let visible: Vec<String> = config
            .visible(role)
            .iter()
            .map(|q| q.name.clone())
            .collect();
        if visible.is_empty() {
            return Ok(None);
        }
        self.claim_routed(actor, senior, Some((&config, &visible)))
            .await
    }

    /// Claims the first case of the senior (if `senior`) or main queue that `actor` may
    /// take: any not barred to them when `access` is `None`, else one of the named queues.
    pub(crate) async fn claim_routed(
        &self,
        actor: &str,
        senior: bool,
        access: Option<(&RoutingConfig, &[String])>,
    ) -> Result<Option<String>, StoreError> {
        let now = self.clock.now();
        let [audit, seq] = self.audit_keys();
        let mut inv = CLAIM.prepare_invoke();
        inv.key(audit).key(seq).key(self.key("leases"));
        if senior {
            inv.key(self.queue_key(true));
        }
        inv.key(self.queue_key(false));
        inv.arg(ms(now))
            .arg(ms(now + self.opts.lease))
            .arg(actor)
            .arg(&self.opts.prefix)
            .arg(100)
            .arg(CLAIM_SCAN);
        match access {
            None => {
                inv.arg("all").arg("").arg(senior as u8).arg(0).arg(0);
            }
            Some((config, allowed)) => {
                inv.arg("some")
                    .arg(&config.default_queue)
                    .arg(senior as u8)
                    .arg(config.queues.len());
                for q in &config.queues {
                    inv.arg(&q.name);
                }
                inv.arg(allowed.len());
                for a in allowed {
                    inv.arg(a);
                }
            }
        }
        let got: Vec<String> = inv.invoke_async(&mut self.conn.clone()).await?;
        Ok(got.into_iter().next())
    }
}
