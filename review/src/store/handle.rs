//! The review store's handle and the primitives every aggregate uses.
//!
//! Cases are hashes (`doc` JSON plus the fields Lua scripts read: `ver`, `state`, `score`,
//! `queue`, `holder`, `lease_until`, `esc`, `breached_at`). Every change is one Lua script, so
//! no change exists without its audit entry: the scripts take the audit stream as `KEYS[1]` and
//! its sequence counter as `KEYS[2]` and append their audit entries themselves (the shared
//! prelude here). Rust computes documents; the compare-and-set transition here checks the
//! version it read and applies them. Times come from the injected clock as Unix milliseconds,
//! never from Redis's `TIME`.

use crate::model::{Case, DecisionError, MatchRecord};
use crate::sla::{DeadlineEvent, DeadlineKind, SlaConfig, SlaError};
use redis::AsyncCommands;
use redis::aio::MultiplexedConnection;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::LazyLock;
use takedown_core::clock::Clock;
use time::{Duration, OffsetDateTime};

/// Helpers prepended to every script.
const PRELUDE: &str = r#"
local function audit(subject, actor, at, action, before, after, cause)
  local seq = redis.call('INCR', KEYS[2])
  redis.call('XADD', KEYS[1], '*', 'seq', seq, 'subject', subject, 'actor', actor, 'at', at,
    'action', action, 'before', before, 'after', after, 'cause', cause)
  return seq
end

-- Returns cases whose lease ended before `now` to their queue.
local function reap(leases, prefix, now, limit)
  local expired = redis.call('ZRANGEBYSCORE', leases, '-inf', '(' .. now, 'LIMIT', 0, limit)
  for _, id in ipairs(expired) do
    local ck = prefix .. ':case:' .. id
    local holder = redis.call('HGET', ck, 'holder') or ''
    redis.call('ZREM', leases, id)
    redis.call('HDEL', ck, 'holder', 'lease_until')
    redis.call('HINCRBY', ck, 'ver', 1)
    if redis.call('HGET', ck, 'state') == 'open' then
      redis.call('ZADD', redis.call('HGET', ck, 'queue'), redis.call('HGET', ck, 'score'), id)
    end
    audit(id, 'system', now, 'lease.expired', cjson.encode({holder = holder}), '{}',
      'lease ended without a decision')
  end
  return #expired
end
"#;

pub(super) fn with_prelude(body: &str) -> redis::Script {
    redis::Script::new(&format!("{PRELUDE}\n{body}"))
}

/// A compare-and-set transition: if the case's version is still the one read (and, when
/// given, the actor still holds an unexpired lease), writes the new document and state,
/// appends the audit entry and runs the extra commands.
///
/// KEYS: audit, seq, case. ARGV: expected version, required holder or '', now, doc, state,
/// case id, actor, action, before, after, cause, command count, then each command as its
/// argument count followed by its arguments.
/// Returns `{1, seq}`, `{0, 'conflict'}` or `{0, 'not_holder'}`.
static TRANSITION: LazyLock<redis::Script> = LazyLock::new(|| {
    with_prelude(
        r#"
local cur = redis.call('HMGET', KEYS[3], 'ver', 'holder', 'lease_until')
if cur[1] ~= ARGV[1] then return {0, 'conflict'} end
if ARGV[2] ~= '' and (cur[2] ~= ARGV[2] or tonumber(cur[3] or '0') < tonumber(ARGV[3])) then
  return {0, 'not_holder'}
end
redis.call('HSET', KEYS[3], 'doc', ARGV[4], 'state', ARGV[5], 'ver', tonumber(ARGV[1]) + 1)
local seq = audit(ARGV[6], ARGV[7], ARGV[3], ARGV[8], ARGV[9], ARGV[10], ARGV[11])
local i = 13
for _ = 1, tonumber(ARGV[12]) do
  local argc = tonumber(ARGV[i])
  redis.call(unpack(ARGV, i + 1, i + argc))
  i = i + 1 + argc
end
return {1, seq}
"#,
    )
});

/// Records a fact once about a subject (a published or enforced action, a purge): sets the
/// field if unset and audits it. KEYS: audit, seq, hash. ARGV: subject, actor, now, field,
/// value, action. Returns 1 if set now, 0 if it was already set.
pub(super) static SET_ONCE: LazyLock<redis::Script> = LazyLock::new(|| {
    with_prelude(
        r#"
if redis.call('HSETNX', KEYS[3], ARGV[4], ARGV[5]) == 0 then return 0 end
audit(ARGV[1], ARGV[2], ARGV[3], ARGV[6], '{}', cjson.encode({[ARGV[4]] = ARGV[5]}), '')
return 1
"#,
    )
});

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Redis failed.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// A stored document is not valid JSON of its type.
    #[error("corrupt stored document: {0}")]
    Json(#[from] serde_json::Error),
    /// No such case (or order, action).
    #[error("{0} not found")]
    NotFound(String),
    /// The case's state does not allow this.
    #[error("not allowed in the case's state: {0}")]
    State(&'static str),
    /// The caller does not hold the case's lease (never claimed, expired or someone else's).
    #[error("you do not hold a current lease on this case")]
    NotHolder,
    /// The case kept changing under us.
    #[error("the case changed concurrently; retry")]
    Busy,
    /// An SLA rule refused.
    #[error(transparent)]
    Sla(#[from] SlaError),
    /// The decision is invalid.
    #[error(transparent)]
    Decision(#[from] DecisionError),
    /// A value given to the store is not acceptable (the message says which and why).
    #[error("{0}")]
    Invalid(String),
    /// A field of a request is not acceptable.
    #[error("{}: {}", .0.field, .0.reason)]
    InvalidField(crate::field::FieldError),
}

/// Where the store keeps things and how long leases last.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Key prefix (e.g. `td:review`).
    pub prefix: String,
    /// How long a claim lasts without a decision.
    pub lease: Duration,
    /// SLA profiles.
    pub sla: SlaConfig,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            prefix: "td:review".into(),
            lease: Duration::minutes(10),
            sla: SlaConfig::default(),
        }
    }
}

/// The review store. Cheap to clone; clones share one multiplexed connection.
#[derive(Clone)]
pub struct ReviewStore {
    pub(crate) conn: MultiplexedConnection,
    pub(crate) opts: Arc<StoreOptions>,
    pub(crate) clock: Arc<dyn Clock>,
    /// The seed of the QA draw (`qa.rs`): random per process unless a test sets it.
    pub(crate) qa_seed: u64,
}

/// A case as read, with the fields Redis keeps beside the document.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CaseView {
    /// The document.
    #[serde(flatten)]
    pub case: Case,
    /// Compare-and-set version.
    pub version: u64,
    /// Who holds the lease.
    pub holder: Option<String>,
    /// When the lease ends.
    #[serde(with = "time::serde::rfc3339::option")]
    pub lease_until: Option<OffsetDateTime>,
    /// Escalation points fired so far.
    pub escalation_level: u8,
    /// When the deadline passed without a decision.
    #[serde(with = "time::serde::rfc3339::option")]
    pub breached_at: Option<OffsetDateTime>,
    /// Hash-list matches.
    pub matches: Vec<MatchRecord>,
    /// Other cases sharing a list entry with this one.
    pub cluster: Vec<String>,
    /// The deadline now, if the clock runs.
    #[serde(with = "time::serde::rfc3339::option")]
    pub due_at: Option<OffsetDateTime>,
}

pub(crate) fn ms(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

pub(crate) fn from_ms(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// The deadline-set member of an event: `<case>|<run>|<kind>`.
pub fn deadline_member(case_id: &str, e: &DeadlineEvent) -> String {
    let kind = match e.kind {
        DeadlineKind::Escalation(n) => format!("e{n}"),
        DeadlineKind::Breach => "breach".into(),
    };
    format!("{case_id}|{}|{kind}", e.run)
}

/// Extra commands for a transition.
#[derive(Default)]
pub(crate) struct Ops(Vec<Vec<String>>);

impl Ops {
    pub(crate) fn push<const N: usize>(&mut self, args: [&str; N]) {
        self.0.push(args.iter().map(|s| s.to_string()).collect());
    }
}

impl ReviewStore {
    /// Connects to Redis at `url`.
    pub async fn connect(
        url: &str,
        opts: StoreOptions,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, StoreError> {
        let client = redis::Client::open(url)?;
        // Many moderators and the sweeper share one pipelined connection: a burst queues
        // thousands of requests behind each other, more than the 500 ms default allows.
        let config = redis::AsyncConnectionConfig::new()
            .set_response_timeout(Some(std::time::Duration::from_secs(30)));
        let conn = client
            .get_multiplexed_async_connection_with_config(&config)
            .await?;
        Ok(ReviewStore {
            conn,
            opts: Arc::new(opts),
            clock,
            qa_seed: rand::random(),
        })
    }

    /// The same store drawing QA samples under `seed` (tests inject theirs).
    pub fn with_qa_seed(mut self, seed: u64) -> Self {
        self.qa_seed = seed;
        self
    }

    /// The injected clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The options.
    pub fn options(&self) -> &StoreOptions {
        &self.opts
    }

    /// A connection (for health checks and tools).
    pub fn connection(&self) -> MultiplexedConnection {
        self.conn.clone()
    }

    /// The key of `name` under the prefix.
    pub fn key(&self, name: &str) -> String {
        format!("{}:{name}", self.opts.prefix)
    }

    pub(crate) fn case_key(&self, id: &str) -> String {
        self.key(&format!("case:{id}"))
    }

    pub(crate) fn queue_key(&self, senior: bool) -> String {
        self.key(if senior { "queue:senior" } else { "queue" })
    }

    pub(crate) fn audit_keys(&self) -> [String; 2] {
        [self.key("audit"), self.key("audit:seq")]
    }

    /// Reads a case with its matches and cluster.
    pub async fn case(&self, id: &str) -> Result<CaseView, StoreError> {
        let mut conn = self.conn.clone();
        let (fields, matches, entries): (HashMap<String, String>, Vec<String>, Vec<String>) =
            redis::pipe()
                .hgetall(self.case_key(id))
                .lrange(self.key(&format!("case:{id}:matches")), 0, -1)
                .smembers(self.key(&format!("case:{id}:entries")))
                .query_async(&mut conn)
                .await?;
        if fields.is_empty() {
            return Err(StoreError::NotFound(format!("case {id}")));
        }
        let mut cluster = Vec::new();
        if !entries.is_empty() {
            let keys: Vec<String> = entries
                .iter()
                .map(|e| self.key(&format!("cluster:{e}")))
                .collect();
            let members: Vec<String> = conn.sunion(keys).await?;
            cluster = members.into_iter().filter(|m| m != id).collect();
            cluster.sort();
        }
        let matches = matches
            .iter()
            .map(|m| serde_json::from_str(m))
            .collect::<Result<Vec<MatchRecord>, _>>()?;
        self.view(fields, matches, cluster)
    }

    /// Reads a case for a transition in one round trip: its hash and whether it has matches
    /// (the view carries no match records and no cluster).
    pub(crate) async fn case_for_update(&self, id: &str) -> Result<(CaseView, bool), StoreError> {
        let (fields, matched): (HashMap<String, String>, bool) = redis::pipe()
            .hgetall(self.case_key(id))
            .exists(self.key(&format!("case:{id}:matches")))
            .query_async(&mut self.conn.clone())
            .await?;
        if fields.is_empty() {
            return Err(StoreError::NotFound(format!("case {id}")));
        }
        Ok((self.view(fields, Vec::new(), Vec::new())?, matched))
    }

    pub(crate) fn view(
        &self,
        fields: HashMap<String, String>,
        matches: Vec<MatchRecord>,
        cluster: Vec<String>,
    ) -> Result<CaseView, StoreError> {
        let get = |k: &str| fields.get(k).map(String::as_str);
        let num = |k: &str| get(k).and_then(|v| v.parse::<f64>().ok());
        let mut case: Case = serde_json::from_str(get("doc").unwrap_or("null"))?;
        if let Some(score) = num("score") {
            case.rank = (score / 1e13).floor() as u8;
        }
        let lease_until = num("lease_until").map(|v| from_ms(v as i64));
        let holder = get("holder").map(str::to_string);
        if case.first_claimed_at.is_none() {
            case.first_claimed_at = num("first_claimed_at").map(|v| from_ms(v as i64));
        }
        Ok(CaseView {
            due_at: case.sla.due_at(),
            case,
            version: num("ver").unwrap_or(0.0) as u64,
            holder,
            lease_until,
            escalation_level: num("esc").unwrap_or(0.0) as u8,
            breached_at: num("breached_at").map(|v| from_ms(v as i64)),
            matches,
            cluster,
        })
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn apply(
        &self,
        view: &CaseView,
        new: &Case,
        holder: Option<&str>,
        actor: &str,
        action: &str,
        before: String,
        after: String,
        cause: &str,
        ops: Ops,
    ) -> Result<bool, StoreError> {
        let [audit, seq] = self.audit_keys();
        let mut inv = TRANSITION.prepare_invoke();
        inv.key(audit).key(seq).key(self.case_key(&view.case.id));
        inv.arg(view.version)
            .arg(holder.unwrap_or(""))
            .arg(ms(self.clock.now()))
            .arg(serde_json::to_string(new)?)
            .arg(new.state.as_str())
            .arg(&view.case.id)
            .arg(actor)
            .arg(action)
            .arg(before)
            .arg(after)
            .arg(cause)
            .arg(ops.0.len());
        for op in &ops.0 {
            inv.arg(op.len());
            for a in op {
                inv.arg(a);
            }
        }
        let (ok, why): (i64, String) = inv.invoke_async(&mut self.conn.clone()).await?;
        match (ok, why.as_str()) {
            (1, _) => Ok(true),
            (_, "not_holder") => Err(StoreError::NotHolder),
            _ => Ok(false),
        }
    }

    /// Changes a case by `f` under compare-and-set, with its audit entry; `f` returns the
    /// extra commands, the audit action and cause.
    pub(crate) async fn update<F>(
        &self,
        case_id: &str,
        actor: &str,
        mut f: F,
    ) -> Result<CaseView, StoreError>
    where
        F: FnMut(&CaseView, &mut Case, &mut Ops) -> Result<(&'static str, String), StoreError>,
    {
        for _ in 0..8 {
            let (view, _) = self.case_for_update(case_id).await?;
            let mut new = view.case.clone();
            let mut ops = Ops::default();
            let (action, cause) = f(&view, &mut new, &mut ops)?;
            let before = serde_json::json!({"state": view.case.state}).to_string();
            let after = serde_json::json!({"state": new.state}).to_string();
            if self
                .apply(&view, &new, None, actor, action, before, after, &cause, ops)
                .await?
            {
                return self.case(case_id).await;
            }
        }
        Err(StoreError::Busy)
    }
}
