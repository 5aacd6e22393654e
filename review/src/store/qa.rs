//! QA second reviews in Redis: the draw after each final decision, the waiting tasks (a
//! sorted set by draw time, at most [`MAX_PENDING`]), the blind second review and the
//! agreement counts per moderator and per list.
//!
//! Keys: `qa:pending` (task ids by draw time), `qa:task:<id>` (a hash: case, decision
//! number, first decider, first verdict, lists, queue; then the second reviewer's verdict),
//! `qa:skipped` (draws not queued because the queue was full), `qa:mod:<name>` and
//! `qa:list:<id>` (hashes `reviewed`, `agreed`) with the sets `qa:mods` and `qa:lists`
//! naming them. A reviewed task's hash expires after [`KEEP_REVIEWED_DAYS`] days; the
//! counts and the audit entries stay.

use super::handle::{ReviewStore, StoreError, ms, with_prelude};
use crate::model::Outcome;
use crate::qa::{Agreement, MAX_PENDING, Verdict, sampled};
use redis::AsyncCommands;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::LazyLock;
use takedown_core::clock::Clock;

/// How long a reviewed task's record is kept.
pub const KEEP_REVIEWED_DAYS: i64 = 90;

/// Queues a drawn decision for a second review unless the queue is full.
///
/// KEYS: audit, seq, pending, task, skipped. ARGV: task id, now, max pending, case id, then
/// the task's field/value pairs. Returns 1 queued, 0 already queued, -1 queue full.
static DRAW: LazyLock<redis::Script> = LazyLock::new(|| {
    with_prelude(
        r#"
if redis.call('EXISTS', KEYS[4]) == 1 then return 0 end
if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[3]) then
  redis.call('INCR', KEYS[5])
  return -1
end
redis.call('HSET', KEYS[4], unpack(ARGV, 5))
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
audit(ARGV[4], 'qa', ARGV[2], 'qa.sampled', '{}', cjson.encode({task = ARGV[1]}), '')
return 1
"#,
    )
});

/// Records a second review once and counts its agreement.
///
/// KEYS: audit, seq, pending, task, mods set, lists set, moderator counts. ARGV: task id,
/// now, reviewer, verdict, agreed (0/1), expiry seconds, key prefix, then list ids.
/// Returns 1, 0 if already reviewed, -1 if there is no such task.
static REVIEW: LazyLock<redis::Script> = LazyLock::new(|| {
    with_prelude(
        r#"
local f = redis.call('HMGET', KEYS[4], 'case', 'first_by', 'reviewed_by')
if not f[1] then return -1 end
if f[3] then return 0 end
redis.call('HSET', KEYS[4], 'reviewed_by', ARGV[3], 'second', ARGV[4], 'agreed', ARGV[5],
  'reviewed_at', ARGV[2])
redis.call('EXPIRE', KEYS[4], tonumber(ARGV[6]))
redis.call('ZREM', KEYS[3], ARGV[1])
local agreed = tonumber(ARGV[5])
redis.call('SADD', KEYS[5], f[2])
redis.call('HINCRBY', KEYS[7], 'reviewed', 1)
redis.call('HINCRBY', KEYS[7], 'agreed', agreed)
for i = 8, #ARGV do
  redis.call('SADD', KEYS[6], ARGV[i])
  local lk = ARGV[7] .. ':qa:list:' .. ARGV[i]
  redis.call('HINCRBY', lk, 'reviewed', 1)
  redis.call('HINCRBY', lk, 'agreed', agreed)
end
audit(f[1], ARGV[3], ARGV[2], 'qa.reviewed', '{}',
  cjson.encode({task = ARGV[1], agreed = agreed == 1}), '')
return 1
"#,
    )
});

/// A QA task as the second reviewer sees it: never the first outcome.
#[derive(Debug, Clone, Serialize)]
pub struct QaTask {
    /// The task id (`qa-<decision number>-<case id>`).
    pub id: String,
    /// The case.
    pub case_id: String,
    /// Who took the first decision (the second reviewer must be someone else).
    pub first_by: String,
    /// The lists of the case's matches.
    pub lists: Vec<String>,
    /// The case's queue.
    pub queue: String,
    /// When drawn (Unix ms).
    pub drawn_ms: i64,
    /// The second reviewer, once reviewed.
    pub reviewed_by: Option<String>,
}

/// Agreement rates of second reviews.
#[derive(Debug, Clone, Default, Serialize)]
pub struct QaAgreement {
    /// Per first decider, by name.
    pub moderators: Vec<Agreement>,
    /// Per list of the reviewed cases' matches, by list id.
    pub lists: Vec<Agreement>,
    /// Decisions drawn but not queued because the QA queue was full.
    pub skipped: u64,
    /// Tasks waiting.
    pub pending: u64,
}

impl ReviewStore {
    fn qa_task_key(&self, id: &str) -> String {
        self.key(&format!("qa:task:{id}"))
    }

    /// After final decision number `seq` on `case_id` by `actor`: draws it for a second
    /// review at its queue's QA share and queues the task. A failure here is logged, never
    /// returned: the decision is already recorded.
    pub(crate) async fn qa_after_decision(
        &self,
        case_id: &str,
        seq: usize,
        actor: &str,
        outcome: &Outcome,
    ) {
        if let Err(e) = self.qa_draw(case_id, seq, actor, outcome).await {
            tracing::warn!(case = case_id, error = %e, "QA draw failed; decision kept");
        }
    }

    async fn qa_draw(
        &self,
        case_id: &str,
        seq: usize,
        actor: &str,
        outcome: &Outcome,
    ) -> Result<(), StoreError> {
        let Some(verdict) = Verdict::of(outcome) else {
            return Ok(());
        };
        // The rules in force and the case's queue in one round trip.
        let (doc, queue): (Option<String>, Option<String>) = redis::pipe()
            .get(self.key("routing"))
            .hget(self.case_key(case_id), "route")
            .query_async(&mut self.conn.clone())
            .await?;
        let config = match doc {
            Some(d) => serde_json::from_str(&d)?,
            None => crate::routing::RoutingConfig::default(),
        };
        let queue = config.effective(queue.as_deref()).to_string();
        if !sampled(self.qa_seed, case_id, seq, config.qa_share(Some(&queue))) {
            return Ok(());
        }
        let matches: Vec<String> = self
            .conn
            .clone()
            .lrange(self.key(&format!("case:{case_id}:matches")), 0, -1)
            .await?;
        let mut lists: Vec<String> = Vec::new();
        for m in &matches {
            let m: crate::model::MatchRecord = serde_json::from_str(m)?;
            if !lists.contains(&m.list_id) {
                lists.push(m.list_id);
            }
        }
        let id = format!("qa-{seq}-{case_id}");
        let now = ms(self.clock.now());
        let [audit, auditseq] = self.audit_keys();
        let _: i64 = DRAW
            .key(audit)
            .key(auditseq)
            .key(self.key("qa:pending"))
            .key(self.qa_task_key(&id))
            .key(self.key("qa:skipped"))
            .arg(&id)
            .arg(now)
            .arg(MAX_PENDING)
            .arg(case_id)
            .arg(
                &[
                    "case",
                    case_id,
                    "seq",
                    &seq.to_string(),
                    "first_by",
                    actor,
                    "first",
                    verdict.as_str(),
                    "lists",
                    &serde_json::to_string(&lists)?,
                    "queue",
                    &queue,
                    "drawn_at",
                    &now.to_string(),
                ][..],
            )
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(())
    }

    fn task_of(&self, id: &str, f: &HashMap<String, String>) -> Option<QaTask> {
        Some(QaTask {
            id: id.to_string(),
            case_id: f.get("case")?.clone(),
            first_by: f.get("first_by").cloned().unwrap_or_default(),
            lists: f
                .get("lists")
                .and_then(|l| serde_json::from_str(l).ok())
                .unwrap_or_default(),
            queue: f.get("queue").cloned().unwrap_or_default(),
            drawn_ms: f.get("drawn_at").and_then(|v| v.parse().ok()).unwrap_or(0),
            reviewed_by: f.get("reviewed_by").cloned(),
        })
    }

    /// The oldest `n` waiting QA tasks.
    pub async fn qa_pending(&self, n: usize) -> Result<Vec<QaTask>, StoreError> {
        let ids: Vec<String> = self
            .conn
            .clone()
            .zrange(self.key("qa:pending"), 0, n as isize - 1)
            .await?;
        let mut pipe = redis::pipe();
        for id in &ids {
            pipe.hgetall(self.qa_task_key(id));
        }
        let docs: Vec<HashMap<String, String>> = match ids.is_empty() {
            true => Vec::new(),
            false => pipe.query_async(&mut self.conn.clone()).await?,
        };
        Ok(ids
            .iter()
            .zip(&docs)
            .filter_map(|(id, f)| self.task_of(id, f))
            .collect())
    }

    /// The QA task `id`.
    pub async fn qa_task(&self, id: &str) -> Result<QaTask, StoreError> {
        let f: HashMap<String, String> = self.conn.clone().hgetall(self.qa_task_key(id)).await?;
        self.task_of(id, &f)
            .ok_or_else(|| StoreError::NotFound(format!("QA task {id}")))
    }

    /// Records `reviewer`'s blind verdict on task `id` and whether it agrees with the first
    /// decision. Refused for the first decider, for a task already reviewed, and for no
    /// such task.
    pub async fn qa_review(
        &self,
        id: &str,
        reviewer: &str,
        verdict: Verdict,
    ) -> Result<bool, StoreError> {
        let f: HashMap<String, String> = self.conn.clone().hgetall(self.qa_task_key(id)).await?;
        let task = self
            .task_of(id, &f)
            .ok_or_else(|| StoreError::NotFound(format!("QA task {id}")))?;
        if task.first_by == reviewer {
            return Err(StoreError::State(
                "a second review is never by the moderator who took the first decision",
            ));
        }
        let first = f.get("first").and_then(|v| Verdict::parse(v));
        let agreed = first == Some(verdict);
        let [audit, seq] = self.audit_keys();
        let mut inv = REVIEW.prepare_invoke();
        inv.key(audit)
            .key(seq)
            .key(self.key("qa:pending"))
            .key(self.qa_task_key(id))
            .key(self.key("qa:mods"))
            .key(self.key("qa:lists"))
            .key(self.key(&format!("qa:mod:{}", task.first_by)));
        inv.arg(id)
            .arg(ms(self.clock.now()))
            .arg(reviewer)
            .arg(verdict.as_str())
            .arg(agreed as u8)
            .arg(KEEP_REVIEWED_DAYS * 86_400)
            .arg(&self.opts.prefix);
        for l in &task.lists {
            inv.arg(l);
        }
        let done: i64 = inv.invoke_async(&mut self.conn.clone()).await?;
        match done {
            1 => Ok(agreed),
            0 => Err(StoreError::State("this QA task was already reviewed")),
            _ => Err(StoreError::NotFound(format!("QA task {id}"))),
        }
    }

    /// Agreement of second reviews with first decisions, per moderator and per list (each
    /// sorted by name), with the waiting and skipped counts. For the dashboards.
    pub async fn qa_agreement(&self) -> Result<QaAgreement, StoreError> {
        let mut conn = self.conn.clone();
        let (mods, lists, skipped, pending): (Vec<String>, Vec<String>, Option<u64>, u64) =
            redis::pipe()
                .smembers(self.key("qa:mods"))
                .smembers(self.key("qa:lists"))
                .get(self.key("qa:skipped"))
                .zcard(self.key("qa:pending"))
                .query_async(&mut conn)
                .await?;
        let read = |prefix: &'static str, names: Vec<String>| {
            let mut conn = conn.clone();
            async move {
                let mut names = names;
                names.sort();
                let mut pipe = redis::pipe();
                for n in &names {
                    pipe.cmd("HMGET")
                        .arg(self.key(&format!("qa:{prefix}:{n}")))
                        .arg("reviewed")
                        .arg("agreed");
                }
                let counts: Vec<(Option<u64>, Option<u64>)> = match names.is_empty() {
                    true => Vec::new(),
                    false => pipe.query_async(&mut conn).await?,
                };
                Ok::<_, StoreError>(
                    names
                        .into_iter()
                        .zip(counts)
                        .map(|(key, (r, a))| Agreement {
                            key,
                            reviewed: r.unwrap_or(0),
                            agreed: a.unwrap_or(0),
                        })
                        .collect::<Vec<_>>(),
                )
            }
        };
        Ok(QaAgreement {
            moderators: read("mod", mods).await?,
            lists: read("list", lists).await?,
            skipped: skipped.unwrap_or(0),
            pending,
        })
    }
}
