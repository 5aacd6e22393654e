//! Cases and the queue: opening cases from matches, claims with leases, decisions with their
//! outbox and preservation, Annex III suspension and restart, and the deadline sweep.
//!
//! Queues, leases and deadlines are sorted sets, so two moderators never hold one case and a
//! deadline fires once across replicas.

use super::handle::{
    CaseView, Ops, ReviewStore, StoreError, deadline_member, from_ms, ms, with_prelude,
};
use crate::model::{
    Case, CaseState, DecisionInput, DecisionRecord, MatchRecord, Outcome, Source, Subject,
    TakedownAction, derive_id, queue_score, rank,
};
use crate::sla::{Preservation, SlaClass};
use redis::AsyncCommands;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::LazyLock;
use takedown_core::clock::Clock;
use takedown_core::messages::Match;
use time::OffsetDateTime;

/// Creates a case unless it exists.
///
/// KEYS: audit, seq, case, queue, deadlines. ARGV: case id, now, doc, state, score, audit
/// `after`, actor, named queue (`store/queues.rs`), who may not decide it, then deadline
/// (member, score) pairs.
static CREATE_CASE: LazyLock<redis::Script> = LazyLock::new(|| {
    with_prelude(
        r#"
if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
redis.call('HSET', KEYS[3], 'doc', ARGV[3], 'ver', 1, 'state', ARGV[4], 'score', ARGV[5],
  'queue', KEYS[4], 'esc', 0, 'route', ARGV[8])
if ARGV[9] ~= '' then redis.call('HSET', KEYS[3], 'not_by', ARGV[9]) end
if ARGV[4] == 'open' then redis.call('ZADD', KEYS[4], ARGV[5], ARGV[1]) end
for i = 10, #ARGV, 2 do redis.call('ZADD', KEYS[5], ARGV[i + 1], ARGV[i]) end
audit(ARGV[1], ARGV[7], ARGV[2], 'case.created', '{}', ARGV[6], '')
return 1
"#,
    )
});

/// Adds a match to its case, creating the case on the first match of a (post, media).
/// Returns 0 for a match already recorded, 1 for a match added to an existing case, 2 for a
/// new case.
///
/// The post's text, when the match carries it, is kept once per case beside it (the first
/// match's copy) and the case is put on the evidence retention schedule, which deletes the
/// text with the media when the case's retention ends.
///
/// KEYS: audit, seq, case, match index, match list, queue, deadlines, cluster set, case's
/// entry set, post text, evidence retention. ARGV: case id, match id, match JSON, now,
/// new-case doc, score, entry key, audit `after`, post text JSON or '', the new case's named
/// queue (`store/queues.rs`), then deadline (member, score) pairs.
static ADD_MATCH: LazyLock<redis::Script> = LazyLock::new(|| {
    with_prelude(
        r#"
if not redis.call('SET', KEYS[4], ARGV[1], 'NX') then return 0 end
if ARGV[9] ~= '' and redis.call('SET', KEYS[10], ARGV[9], 'NX') then
  redis.call('ZADD', KEYS[11], 'NX', ARGV[4], ARGV[1])
end
redis.call('RPUSH', KEYS[5], ARGV[3])
redis.call('SADD', KEYS[8], ARGV[1])
redis.call('SADD', KEYS[9], ARGV[7])
if redis.call('EXISTS', KEYS[3]) == 1 then
  local old = tonumber(redis.call('HGET', KEYS[3], 'score'))
  if tonumber(ARGV[6]) < old then
    redis.call('HSET', KEYS[3], 'score', ARGV[6])
    local q = redis.call('HGET', KEYS[3], 'queue')
    if redis.call('ZSCORE', q, ARGV[1]) then redis.call('ZADD', q, ARGV[6], ARGV[1]) end
  end
  audit(ARGV[1], 'matcher', ARGV[4], 'match.added', '{}', cjson.encode({match_id = ARGV[2]}), '')
  return 1
end
redis.call('HSET', KEYS[3], 'doc', ARGV[5], 'ver', 1, 'state', 'open', 'score', ARGV[6],
  'queue', KEYS[6], 'esc', 0, 'route', ARGV[10])
redis.call('ZADD', KEYS[6], ARGV[6], ARGV[1])
for i = 11, #ARGV, 2 do redis.call('ZADD', KEYS[7], ARGV[i + 1], ARGV[i]) end
audit(ARGV[1], 'matcher', ARGV[4], 'case.created', '{}', ARGV[8], '')
return 2
"#,
    )
});

/// Returns expired leases to their queues. KEYS: audit, seq, leases. ARGV: now, prefix, limit.
static REAP_LEASES: LazyLock<redis::Script> =
    LazyLock::new(|| with_prelude("return reap(KEYS[3], ARGV[2], ARGV[1], tonumber(ARGV[3]))"));

/// Fires due deadlines: takes the earliest due ones off the deadline set in one command and,
/// for each whose case is still open, records the escalation or breach with its cause.
/// Atomic, so a deadline fires once however many replicas sweep. The sequence numbers of the
/// batch's audit entries are reserved with one `INCRBY`.
///
/// KEYS: audit, seq, deadlines, SLA event stream. ARGV: now, limit, prefix.
/// Returns `{taken, fired}`.
static SWEEP: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r#"
local now = ARGV[1]
local due = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'WITHSCORES', 'LIMIT', 0,
  tonumber(ARGV[2]))
local taken = #due / 2
if taken == 0 then return {0, 0} end
-- The first `taken` members by rank are exactly those read (the range starts at -inf).
redis.call('ZREMRANGEBYRANK', KEYS[3], 0, taken - 1)
local t = tonumber(now)
local fire = {}
for i = 1, #due, 2 do
  local at = due[i + 1]
  local id, run, kind = string.match(due[i], '^(.*)|(%d+)|(%w+)$')
  if id then
    local ck = ARGV[3] .. ':case:' .. id
    local f = redis.call('HMGET', ck, 'state', 'holder', 'lease_until')
    if f[1] == 'open' then
      local cause = 'not claimed'
      if f[2] and tonumber(f[3] or '0') >= t then
        cause = 'claimed by ' .. f[2] .. ', not decided'
      end
      if kind == 'breach' then
        redis.call('HSET', ck, 'breached_at', at)
      else
        redis.call('HSET', ck, 'esc', string.sub(kind, 2))
      end
      fire[#fire + 1] = {id, run, kind, at, cause}
    end
  end
end
if #fire == 0 then return {taken, 0} end
local seq = redis.call('INCRBY', KEYS[2], #fire) - #fire
for _, e in ipairs(fire) do
  redis.call('XADD', KEYS[4], '*', 'case', e[1], 'run', e[2], 'kind', e[3], 'due_at', e[4],
    'fired_at', now, 'cause', e[5])
  seq = seq + 1
  redis.call('XADD', KEYS[1], '*', 'seq', seq, 'subject', e[1], 'actor', 'sla', 'at', now,
    'action', 'sla.' .. e[3], 'before', '{}', 'after', '{"due_at":' .. e[4] .. '}',
    'cause', e[5])
end
return {taken, #fire}
"#,
    )
});

/// What happened to a match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchOutcome {
    /// Already recorded (a redelivery).
    Duplicate,
    /// Added to the existing case of its post and media.
    Added,
    /// Opened a new case.
    Created,
}

/// The result of a decision.
#[derive(Debug, Clone, Serialize)]
pub struct Decided {
    /// The case after the decision.
    pub case_id: String,
    /// The takedown action queued for publishing, if any.
    pub action: Option<TakedownAction>,
    /// Whether the deadline was met.
    pub in_time: bool,
}

/// The registry entry whose trusted notice opened `case`, if any.
pub(crate) fn trusted_flagger_of(case: &Case) -> Option<&str> {
    case.sources.iter().find_map(|s| match s {
        Source::Notice {
            trusted_flagger: true,
            flagger_id: Some(id),
            ..
        } => Some(id.as_str()),
        _ => None,
    })
}

pub(crate) fn summary(case: &Case) -> String {
    serde_json::json!({"state": case.state, "class": case.sla.class, "rank": case.rank,
        "due_at": case.sla.due_at().map(ms)})
    .to_string()
}

impl ReviewStore {
    /// Records a hash-list match: the first match of a (platform, post, media) opens a case
    /// (hash-match SLA from `matched_at`); later ones join it, raising its priority if the
    /// list is more severe. Redelivered matches change nothing.
    pub async fn ingest_match(&self, m: &Match) -> Result<(String, MatchOutcome), StoreError> {
        let case_id = derive_id("m", &[&m.platform, &m.post_id, &m.media_id]);
        let now = self.clock.now();
        let received = m.matched_at;
        let sla = self.opts.sla.start(SlaClass::HashMatch, received)?;
        let r = rank(SlaClass::HashMatch, Some(&m.severity), false);
        let case = Case {
            id: case_id.clone(),
            subject: Subject {
                platform: m.platform.clone(),
                post_id: Some(m.post_id.clone()),
                media_id: Some(m.media_id.clone()),
                url: m.post_url.clone(),
                language: (m.language.as_deref()).and_then(takedown_core::messages::language_tag),
            },
            sources: vec![Source::HashMatch],
            state: CaseState::Open,
            rank: r,
            senior_only: false,
            threat_to_life: false,
            sla,
            embargo: None,
            decision: None,
            history: vec![],
            preservation: None,
            evidence_holds: Vec::new(),
            created_at: now,
            first_claimed_at: None,
        };
        let record = MatchRecord {
            match_id: m.match_id.clone(),
            list_id: m.list_id.clone(),
            entry: m.entry.clone(),
            labels: m.labels.clone(),
            severity: m.severity.clone(),
            distance: m.distance,
            query_hash: m.query_hash.clone(),
            list_hash: m.list_hash.clone(),
            matched_at: m.matched_at,
            video: m.video.clone(),
        };
        let entry_key = format!("{}/{}", m.list_id, m.entry);
        let route = self.route_new(&case, std::slice::from_ref(&record)).await?;
        let [audit, seq] = self.audit_keys();
        let mut inv = ADD_MATCH.prepare_invoke();
        inv.key(audit)
            .key(seq)
            .key(self.case_key(&case_id))
            .key(self.key(&format!("match:{}", m.match_id)))
            .key(self.key(&format!("case:{case_id}:matches")))
            .key(self.queue_key(false))
            .key(self.key("deadlines"))
            .key(self.key(&format!("cluster:{entry_key}")))
            .key(self.key(&format!("case:{case_id}:entries")))
            .key(self.post_text_key(&case_id))
            .key(self.key("evidence:retain"));
        inv.arg(&case_id)
            .arg(&m.match_id)
            .arg(serde_json::to_string(&record)?)
            .arg(ms(now))
            .arg(serde_json::to_string(&case)?)
            .arg(queue_score(r, received))
            .arg(&entry_key)
            .arg(route.audit_after(&summary(&case)))
            .arg(match &m.post_text {
                Some(t) => serde_json::to_string(t)?,
                None => String::new(),
            })
            .arg(&route.queue);
        for e in case.sla.events() {
            inv.arg(deadline_member(&case_id, &e)).arg(ms(e.at));
        }
        let code: i64 = inv.invoke_async(&mut self.conn.clone()).await?;
        if code != 1 {
            // A new case, or a redelivery that may follow a crash before this event.
            self.ledger_opened(&case, std::slice::from_ref(&record))
                .await?;
        }
        let outcome = match code {
            0 => MatchOutcome::Duplicate,
            1 => MatchOutcome::Added,
            _ => MatchOutcome::Created,
        };
        Ok((case_id, outcome))
    }

    /// Stores a new case (orders, notices, complaints) unless one with its id exists.
    /// Returns whether it was created. Suspended cases enter no queue and set no deadline.
    pub async fn create_case(&self, case: &Case, actor: &str) -> Result<bool, StoreError> {
        let route = self.route_new(case, &[]).await?;
        let [audit, seq] = self.audit_keys();
        let mut inv = CREATE_CASE.prepare_invoke();
        inv.key(audit)
            .key(seq)
            .key(self.case_key(&case.id))
            .key(self.queue_key(case.senior_only))
            .key(self.key("deadlines"));
        inv.arg(&case.id)
            .arg(ms(self.clock.now()))
            .arg(serde_json::to_string(case)?)
            .arg(case.state.as_str())
            .arg(queue_score(case.rank, case.sla.received_at))
            .arg(route.audit_after(&summary(case)))
            .arg(actor)
            .arg(&route.queue)
            .arg(&route.not_by);
        if case.state == CaseState::Open {
            for e in case.sla.events() {
                inv.arg(deadline_member(&case.id, &e)).arg(ms(e.at));
            }
        }
        let created: i64 = inv.invoke_async(&mut self.conn.clone()).await?;
        self.ledger_opened(case, &[]).await?;
        Ok(created == 1)
    }

    /// Claims the next case in priority order for `actor`, with a lease. Senior moderators
    /// take escalated cases first. Returns `None` when the queues are empty. Every queue is
    /// open to the caller (see [`ReviewStore::claim_next_as`] for claims by role); only a
    /// complaint against `actor`'s own decision is passed over.
    pub async fn claim_next(
        &self,
        actor: &str,
        senior: bool,
    ) -> Result<Option<String>, StoreError> {
        self.claim_routed(actor, senior, None).await
    }

    /// Returns expired leases to their queues (the sweeper calls this; claims do it too).
    pub async fn reap_leases(&self) -> Result<usize, StoreError> {
        let [audit, seq] = self.audit_keys();
        let n: usize = REAP_LEASES
            .key(audit)
            .key(seq)
            .key(self.key("leases"))
            .arg(ms(self.clock.now()))
            .arg(&self.opts.prefix)
            .arg(1000)
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(n)
    }

    /// Records `actor`'s decision on a case they hold. Final outcomes close the case, cancel
    /// its deadlines and queue the takedown action (idempotent id) in the outbox; removals
    /// start preservation; escalations and threats to life move the case to the senior queue
    /// (threats at the very top, with a P0 record for the authorities).
    pub async fn decide(
        &self,
        case_id: &str,
        actor: &str,
        input: &DecisionInput,
    ) -> Result<Decided, StoreError> {
        for _ in 0..8 {
            let (view, matched) = self.case_for_update(case_id).await?;
            let case = &view.case;
            if case.state != CaseState::Open {
                return Err(StoreError::State("only open cases can be decided"));
            }
            input.validate(case)?;
            self.check_appeal_decider(case, actor).await?;
            let matches = match matched {
                true => self.ledger_matches(case_id).await?,
                false => vec![],
            };
            let contested = self.ledger_contested(case).await?;
            let now = self.clock.now();
            let in_time = case.sla.in_time(now);
            let mut new = case.clone();
            let mut ops = Ops::default();
            let leases = self.key("leases");
            let case_key = self.case_key(case_id);
            ops.push(["ZREM", &leases, case_id]);
            ops.push(["HDEL", &case_key, "holder", "lease_until"]);
            let mut action = None;
            let action_id = input.outcome.action_kind().map(|kind| {
                derive_id(
                    "a",
                    &[case_id, &case.history.len().to_string(), &kind.to_string()],
                )
            });
            let record = DecisionRecord {
                input: input.clone(),
                decided_by: actor.to_string(),
                decided_at: now,
                in_time,
                action_id: action_id.clone(),
                automated: false,
            };
            let ledger_event = super::ledger::decision_event(case, &record, &matches, contested);
            if let Some(prev) = new.decision.take() {
                new.history.push(prev);
            }
            new.decision = Some(record);
            if input.outcome.is_final() {
                new.state = CaseState::Decided;
                if let Some(e) = &ledger_event {
                    self.ledger_op(&mut ops, e)?;
                }
                if let Some(flagger) = trusted_flagger_of(case) {
                    let at = ms(now).to_string();
                    let decided = super::flaggers::counter_key(self, flagger, "decided");
                    ops.push(["ZADD", &decided, "NX", &at, case_id]);
                    if matches!(input.outcome, Outcome::Remove | Outcome::Disable { .. }) {
                        let acted = super::flaggers::counter_key(self, flagger, "acted");
                        ops.push(["ZADD", &acted, "NX", &at, case_id]);
                    }
                }
                for e in case.sla.events() {
                    ops.push([
                        "ZREM",
                        &self.key("deadlines"),
                        &deadline_member(case_id, &e),
                    ]);
                }
            } else {
                new.senior_only = true;
                if input.outcome == Outcome::ThreatToLife {
                    new.threat_to_life = true;
                    new.rank = 0;
                    ops.push([
                        "XADD",
                        &self.key("p0"),
                        "*",
                        "case",
                        case_id,
                        "actor",
                        actor,
                        "at",
                        &ms(now).to_string(),
                        "details",
                        &input.justification,
                    ]);
                }
                let score = queue_score(new.rank, case.sla.received_at).to_string();
                let senior = self.queue_key(true);
                ops.push(["HSET", &case_key, "queue", &senior, "score", &score]);
                ops.push(["ZADD", &senior, &score, case_id]);
            }
            let verdict = match input.outcome {
                Outcome::Remove | Outcome::Disable { .. } => Some("tp"),
                Outcome::NotTerroristContent { .. } => Some("fp"),
                _ => None,
            };
            if let Some(verdict) = verdict
                && matched
            {
                let job = format!("{case_id}|{}|{verdict}", case.history.len());
                ops.push([
                    "ZADD",
                    &self.key("feedback"),
                    "NX",
                    &ms(now).to_string(),
                    &job,
                ]);
            }
            if let (Some(kind), Some(action_id)) = (input.outcome.action_kind(), &action_id) {
                let order_id = case.sources.iter().find_map(|s| match s {
                    Source::RemovalOrder { order_id, .. } => Some(order_id.clone()),
                    _ => None,
                });
                let territories = match &input.outcome {
                    Outcome::Disable { territories } => territories.clone(),
                    _ => vec![],
                };
                if matches!(input.outcome, Outcome::Remove | Outcome::Disable { .. }) {
                    let p = Preservation::new(now);
                    ops.push([
                        "ZADD",
                        &self.key("preserve"),
                        &ms(p.keep_until).to_string(),
                        case_id,
                    ]);
                    new.preservation = Some(p);
                }
                let a = TakedownAction {
                    schema: 1,
                    action_id: action_id.clone(),
                    case_id: case_id.to_string(),
                    kind,
                    subject: case.subject.clone(),
                    territories,
                    grounds: input.grounds.clone(),
                    tos_clauses: input.tos_clauses.clone(),
                    order_id,
                    do_not_inform_until: new.embargo.as_ref().map(|e| e.until),
                    automated_decision: false,
                    decided_at: now,
                };
                let akey = self.key(&format!("action:{action_id}"));
                ops.push(["HSETNX", &akey, "json", &serde_json::to_string(&a)?]);
                ops.push([
                    "ZADD",
                    &self.key("outbox"),
                    "NX",
                    &ms(now).to_string(),
                    action_id,
                ]);
                action = Some(a);
            }
            let outcome = serde_json::to_value(&input.outcome)?;
            let before =
                serde_json::json!({"state": case.state, "holder": view.holder}).to_string();
            let after = serde_json::json!({"state": new.state, "decision": outcome,
                "action_id": action_id, "in_time": in_time})
            .to_string();
            if self
                .apply(
                    &view,
                    &new,
                    Some(actor),
                    actor,
                    "case.decided",
                    before,
                    after,
                    "",
                    ops,
                )
                .await?
            {
                if input.outcome.is_final() {
                    let seq = case.history.len() + case.decision.is_some() as usize;
                    self.qa_after_decision(case_id, seq, actor, &input.outcome)
                        .await;
                }
                return Ok(Decided {
                    case_id: case_id.to_string(),
                    action,
                    in_time,
                });
            }
        }
        Err(StoreError::Busy)
    }

    /// Annex III: suspends the case's clock (its deadlines are cancelled and it leaves the
    /// queue) because the order cannot be executed yet.
    pub async fn suspend(
        &self,
        case_id: &str,
        actor: &str,
        reason: &str,
    ) -> Result<CaseView, StoreError> {
        let now = self.clock.now();
        let deadlines = self.key("deadlines");
        let leases = self.key("leases");
        self.update(case_id, actor, |view, new, ops| {
            if view.case.state != CaseState::Open {
                return Err(StoreError::State("only open cases can be suspended"));
            }
            for e in new.sla.suspend(now)? {
                ops.push(["ZREM", &deadlines, &deadline_member(case_id, &e)]);
            }
            new.state = CaseState::Suspended;
            self.ledger_not_executed(ops, &view.case, now, reason)?;
            ops.push(["ZREM", &self.queue_key(new.senior_only), case_id]);
            ops.push(["ZREM", &leases, case_id]);
            ops.push(["HDEL", &self.case_key(case_id), "holder", "lease_until"]);
            Ok(("sla.suspended", reason.to_string()))
        })
        .await
    }

    /// The grounds ceased or the clarification arrived: the clock restarts with a fresh full
    /// period and the case re-enters its queue.
    pub async fn restart(&self, case_id: &str, actor: &str) -> Result<CaseView, StoreError> {
        let now = self.clock.now();
        let deadlines = self.key("deadlines");
        self.update(case_id, actor, |view, new, ops| {
            if view.case.state != CaseState::Suspended {
                return Err(StoreError::State("only suspended cases can restart"));
            }
            for e in new.sla.restart(now)? {
                ops.push([
                    "ZADD",
                    &deadlines,
                    &ms(e.at).to_string(),
                    &deadline_member(case_id, &e),
                ]);
            }
            new.state = CaseState::Open;
            let score = queue_score(new.rank, view.case.sla.received_at).to_string();
            ops.push(["ZADD", &self.queue_key(new.senior_only), &score, case_id]);
            Ok(("sla.restarted", String::new()))
        })
        .await
    }

    /// Fires deadlines due at the clock's now, at most `limit` per call; returns how many
    /// fired (deadlines of closed cases are dropped silently).
    pub async fn sweep(&self, limit: usize) -> Result<(usize, usize), StoreError> {
        let [audit, seq] = self.audit_keys();
        let (taken, fired): (usize, usize) = SWEEP
            .key(audit)
            .key(seq)
            .key(self.key("deadlines"))
            .key(self.key("sla_events"))
            .arg(ms(self.clock.now()))
            .arg(limit)
            .arg(&self.opts.prefix)
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok((taken, fired))
    }

    /// The next deadline, if any.
    pub async fn next_deadline(&self) -> Result<Option<OffsetDateTime>, StoreError> {
        let first: Vec<(String, f64)> = self
            .conn
            .clone()
            .zrange_withscores(self.key("deadlines"), 0, 0)
            .await?;
        Ok(first.first().map(|(_, s)| from_ms(*s as i64)))
    }

    /// Fired SLA events (escalations and breaches) with their causes, oldest first.
    pub async fn sla_events(
        &self,
        count: usize,
    ) -> Result<Vec<HashMap<String, String>>, StoreError> {
        let reply: redis::streams::StreamRangeReply = self
            .conn
            .clone()
            .xrange_count(self.key("sla_events"), "-", "+", count)
            .await?;
        Ok(reply
            .ids
            .into_iter()
            .map(|id| {
                id.map
                    .into_iter()
                    .filter_map(|(k, v)| redis::from_redis_value::<String>(v).ok().map(|v| (k, v)))
                    .collect()
            })
            .collect())
    }

    /// Counts of open work: (main queue, senior queue, leases, deadlines).
    pub async fn counts(&self) -> Result<(u64, u64, u64, u64), StoreError> {
        Ok(redis::pipe()
            .zcard(self.queue_key(false))
            .zcard(self.queue_key(true))
            .zcard(self.key("leases"))
            .zcard(self.key("deadlines"))
            .query_async(&mut self.conn.clone())
            .await?)
    }

    /// The first `n` case ids of the main queue.
    pub async fn queue_head(&self, n: usize) -> Result<Vec<String>, StoreError> {
        Ok(self
            .conn
            .clone()
            .zrange(self.queue_key(false), 0, n as isize - 1)
            .await?)
    }
}
