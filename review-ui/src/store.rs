//! The review state in Redis.
//!
//! Cases are hashes (`doc` JSON plus the fields Lua scripts read: `ver`, `state`, `score`,
//! `queue`, `holder`, `lease_until`, `esc`, `breached_at`). Queues, leases and deadlines are
//! sorted sets; the audit trail is a stream. Every change is one Lua script (see [`crate::lua`]),
//! so two moderators never hold one case, a deadline fires once across replicas, and no change
//! exists without its audit entry. Rust computes documents; Lua checks the version it read
//! (compare-and-set) and applies them.

use crate::au_notice::{AuNoticeRecord, AuRemovalNotice};
use crate::flaggers::{FlaggerStatus, TrustedFlagger};
use crate::intake::{Complaint, IntakeRecord, Notice};
use crate::lua;
use crate::model::{
    Case, CaseState, DecisionError, DecisionInput, DecisionRecord, MatchRecord, Outcome, Source,
    Subject, TakedownAction, derive_id, queue_score, rank,
};
use crate::sla::{
    DeadlineEvent, DeadlineKind, Embargo, Preservation, SlaClass, SlaConfig, SlaError,
};
use redis::AsyncCommands;
use redis::aio::MultiplexedConnection;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;
use takedown_core::clock::Clock;
use takedown_core::messages::Match;
use takedown_hashlists::store::Verdict;
use time::{Duration, OffsetDateTime};

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

struct Scripts {
    create_case: redis::Script,
    add_match: redis::Script,
    claim: redis::Script,
    reap: redis::Script,
    transition: redis::Script,
    sweep: redis::Script,
    create_record: redis::Script,
    set_once: redis::Script,
    mark_published: redis::Script,
}

/// The review store. Cheap to clone; clones share one multiplexed connection.
#[derive(Clone)]
pub struct ReviewStore {
    conn: MultiplexedConnection,
    opts: Arc<StoreOptions>,
    clock: Arc<dyn Clock>,
    scripts: Arc<Scripts>,
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

/// A stored removal order.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrderRecord {
    /// Our id.
    pub order_id: String,
    /// The API token (authority) that sent it.
    pub submitted_by: String,
    /// Receipt time (Art. 3(5)).
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    /// SHA-256 of the raw body, hex.
    pub sha256: String,
    /// The validated order.
    pub order: crate::order::RemovalOrder,
    /// One case per URL.
    pub case_ids: Vec<String>,
}

fn ms(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

fn from_ms(ms: i64) -> OffsetDateTime {
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
struct Ops(Vec<Vec<String>>);

impl Ops {
    fn push<const N: usize>(&mut self, args: [&str; N]) {
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
            scripts: Arc::new(Scripts {
                create_case: lua::create_case(),
                add_match: lua::add_match(),
                claim: lua::claim(),
                reap: lua::reap_leases(),
                transition: lua::transition(),
                sweep: lua::sweep(),
                create_record: lua::create_record(),
                set_once: lua::set_once(),
                mark_published: lua::mark_published(),
            }),
        })
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

    fn case_key(&self, id: &str) -> String {
        self.key(&format!("case:{id}"))
    }

    fn queue_key(&self, senior: bool) -> String {
        self.key(if senior { "queue:senior" } else { "queue" })
    }

    fn audit_keys(&self) -> [String; 2] {
        [self.key("audit"), self.key("audit:seq")]
    }

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
        };
        let entry_key = format!("{}/{}", m.list_id, m.entry);
        let [audit, seq] = self.audit_keys();
        let mut inv = self.scripts.add_match.prepare_invoke();
        inv.key(audit)
            .key(seq)
            .key(self.case_key(&case_id))
            .key(self.key(&format!("match:{}", m.match_id)))
            .key(self.key(&format!("case:{case_id}:matches")))
            .key(self.queue_key(false))
            .key(self.key("deadlines"))
            .key(self.key(&format!("cluster:{entry_key}")))
            .key(self.key(&format!("case:{case_id}:entries")));
        inv.arg(&case_id)
            .arg(&m.match_id)
            .arg(serde_json::to_string(&record)?)
            .arg(ms(now))
            .arg(serde_json::to_string(&case)?)
            .arg(queue_score(r, received))
            .arg(&entry_key)
            .arg(summary(&case));
        for e in case.sla.events() {
            inv.arg(deadline_member(&case_id, &e)).arg(ms(e.at));
        }
        let code: i64 = inv.invoke_async(&mut self.conn.clone()).await?;
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
        let [audit, seq] = self.audit_keys();
        let mut inv = self.scripts.create_case.prepare_invoke();
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
            .arg(summary(case))
            .arg(actor);
        if case.state == CaseState::Open {
            for e in case.sla.events() {
                inv.arg(deadline_member(&case.id, &e)).arg(ms(e.at));
            }
        }
        let created: i64 = inv.invoke_async(&mut self.conn.clone()).await?;
        Ok(created == 1)
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
    async fn case_for_update(&self, id: &str) -> Result<(CaseView, bool), StoreError> {
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

    fn view(
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

    /// Claims the next case in priority order for `actor`, with a lease. Senior moderators
    /// take escalated cases first. Returns `None` when the queues are empty.
    pub async fn claim_next(
        &self,
        actor: &str,
        senior: bool,
    ) -> Result<Option<String>, StoreError> {
        let now = self.clock.now();
        let [audit, seq] = self.audit_keys();
        let mut inv = self.scripts.claim.prepare_invoke();
        inv.key(audit).key(seq).key(self.key("leases"));
        if senior {
            inv.key(self.queue_key(true));
        }
        inv.key(self.queue_key(false));
        inv.arg(ms(now))
            .arg(ms(now + self.opts.lease))
            .arg(actor)
            .arg(&self.opts.prefix)
            .arg(100);
        let got: Vec<String> = inv.invoke_async(&mut self.conn.clone()).await?;
        Ok(got.into_iter().next())
    }

    /// Returns expired leases to their queues (the sweeper calls this; claims do it too).
    pub async fn reap_leases(&self) -> Result<usize, StoreError> {
        let [audit, seq] = self.audit_keys();
        let n: usize = self
            .scripts
            .reap
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

    #[allow(clippy::too_many_arguments)]
    async fn apply(
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
        let mut inv = self.scripts.transition.prepare_invoke();
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
            if let Some(prev) = new.decision.take() {
                new.history.push(prev);
            }
            new.decision = Some(record);
            if input.outcome.is_final() {
                new.state = CaseState::Decided;
                if let Some(flagger) = trusted_flagger_of(case) {
                    let at = ms(now).to_string();
                    let decided = crate::flaggers::counter_key(self, flagger, "decided");
                    ops.push(["ZADD", &decided, "NX", &at, case_id]);
                    if matches!(input.outcome, Outcome::Remove | Outcome::Disable { .. }) {
                        let acted = crate::flaggers::counter_key(self, flagger, "acted");
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
                return Ok(Decided {
                    case_id: case_id.to_string(),
                    action,
                    in_time,
                });
            }
        }
        Err(StoreError::Busy)
    }

    /// Changes a case by `f` under compare-and-set, with its audit entry; `f` returns the
    /// extra commands, the audit action and cause.
    async fn update<F>(&self, case_id: &str, actor: &str, mut f: F) -> Result<CaseView, StoreError>
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
        let (taken, fired): (usize, usize) = self
            .scripts
            .sweep
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

    /// Stores a removal order immutably (raw body, digest, receipt time) and opens one case
    /// per URL, due one period after receipt; an insufficient order's cases start suspended.
    pub async fn receive_order(
        &self,
        raw: &[u8],
        order: crate::order::RemovalOrder,
        submitted_by: &str,
        received_at: OffsetDateTime,
    ) -> Result<(OrderRecord, bool), StoreError> {
        let sha = sha256_hex(raw);
        let order_id = derive_id("ro", &[submitted_by, &order.section_a.reference]);
        let mut case_ids = Vec::new();
        let mut cases = Vec::new();
        for url in &order.urls {
            let id = derive_id("o", &[&order_id, url]);
            let mut sla = self.opts.sla.start(SlaClass::RemovalOrder, received_at)?;
            let mut state = CaseState::Open;
            if order.insufficient() {
                sla.suspend(received_at)?;
                state = CaseState::Suspended;
            }
            cases.push(Case {
                id: id.clone(),
                subject: Subject {
                    platform: String::new(),
                    post_id: None,
                    media_id: None,
                    url: Some(url.clone()),
                },
                sources: vec![Source::RemovalOrder {
                    order_id: order_id.clone(),
                    reference: order.section_a.reference.clone(),
                    issuing_state: order.section_a.issuing_member_state.clone(),
                    cross_border: order.cross_border(),
                }],
                state,
                rank: rank(SlaClass::RemovalOrder, None, false),
                senior_only: false,
                threat_to_life: false,
                sla,
                embargo: order.do_not_inform.then(|| Embargo::new(received_at)),
                decision: None,
                history: vec![],
                preservation: None,
                created_at: self.clock.now(),
                first_claimed_at: None,
            });
            case_ids.push(id);
        }
        let record = OrderRecord {
            order_id: order_id.clone(),
            submitted_by: submitted_by.to_string(),
            received_at,
            sha256: sha.clone(),
            order,
            case_ids,
        };
        self.receive_once(
            "order",
            &order_id,
            submitted_by,
            raw,
            &sha,
            received_at,
            record,
            &cases,
        )
        .await
    }

    /// A stored order.
    pub async fn order(&self, order_id: &str) -> Result<OrderRecord, StoreError> {
        self.record(&format!("order:{order_id}")).await
    }

    /// The raw body of a stored order and its SHA-256, as received.
    pub async fn order_raw(&self, order_id: &str) -> Result<(Vec<u8>, String), StoreError> {
        let (raw, sha): (Option<Vec<u8>>, Option<String>) = redis::pipe()
            .hget(self.key(&format!("order:{order_id}")), "raw")
            .hget(self.key(&format!("order:{order_id}")), "sha256")
            .query_async(&mut self.conn.clone())
            .await?;
        match (raw, sha) {
            (Some(raw), Some(sha)) => Ok((raw, sha)),
            _ => Err(StoreError::NotFound(format!("order {order_id}"))),
        }
    }

    /// Takedown actions not yet acknowledged by Kafka, oldest first.
    pub async fn pending_actions(&self, limit: usize) -> Result<Vec<TakedownAction>, StoreError> {
        let mut conn = self.conn.clone();
        let ids: Vec<String> = conn
            .zrange(self.key("outbox"), 0, limit as isize - 1)
            .await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let json: Option<String> = conn.hget(self.key(&format!("action:{id}")), "json").await?;
            if let Some(json) = json {
                out.push(serde_json::from_str(&json)?);
            }
        }
        Ok(out)
    }

    /// Records a fact about an action once (`published_at`, `enforced_at`, `feedback_at`…),
    /// audited; returns whether it was new.
    pub async fn mark_action(
        &self,
        action_id: &str,
        field: &str,
        at: OffsetDateTime,
        actor: &str,
    ) -> Result<bool, StoreError> {
        let [audit, seq] = self.audit_keys();
        let key = self.key(&format!("action:{action_id}"));
        let exists: bool = self.conn.clone().hexists(&key, "json").await?;
        if !exists {
            return Err(StoreError::NotFound(format!("action {action_id}")));
        }
        let set: i64 = self
            .scripts
            .set_once
            .key(audit)
            .key(seq)
            .key(&key)
            .arg(action_id)
            .arg(actor)
            .arg(ms(self.clock.now()))
            .arg(field)
            .arg(ms(at))
            .arg(format!("action.{field}"))
            .invoke_async(&mut self.conn.clone())
            .await?;
        if field == "published_at" {
            let _: () = self
                .conn
                .clone()
                .zrem(self.key("outbox"), action_id)
                .await?;
        }
        Ok(set == 1)
    }

    /// The recorded times of an action (`published_at`, `enforced_at`), if any.
    pub async fn action_times(
        &self,
        action_id: &str,
    ) -> Result<HashMap<String, OffsetDateTime>, StoreError> {
        let fields: HashMap<String, String> = self
            .conn
            .clone()
            .hgetall(self.key(&format!("action:{action_id}")))
            .await?;
        Ok(fields
            .into_iter()
            .filter(|(k, _)| k.ends_with("_at"))
            .filter_map(|(k, v)| v.parse::<i64>().ok().map(|v| (k, from_ms(v))))
            .collect())
    }

    /// Places a legal hold on preserved content (Art. 6(2)); an open-ended hold takes the
    /// case out of the purge schedule.
    pub async fn legal_hold(
        &self,
        case_id: &str,
        actor: &str,
        hold: crate::sla::LegalHold,
    ) -> Result<CaseView, StoreError> {
        let preserve = self.key("preserve");
        self.update(case_id, actor, |_, new, ops| {
            let p = new
                .preservation
                .as_mut()
                .ok_or(StoreError::State("nothing is preserved for this case"))?;
            p.holds.push(hold.clone());
            match p.purge_at() {
                Some(at) => ops.push(["ZADD", &preserve, &ms(at).to_string(), case_id]),
                None => ops.push(["ZREM", &preserve, case_id]),
            }
            Ok(("preservation.hold", hold.requested_by.clone()))
        })
        .await
    }

    /// Purges cases whose preservation ended: their evidence (matches) is deleted and the
    /// case marked purged; the audit trail stays. Returns the purged case ids.
    pub async fn purge_due(&self, limit: usize) -> Result<Vec<String>, StoreError> {
        let now = self.clock.now();
        let due: Vec<String> = self
            .conn
            .clone()
            .zrangebyscore_limit(self.key("preserve"), "-inf", ms(now), 0, limit as isize)
            .await?;
        let mut purged = Vec::new();
        for id in due {
            let preserve = self.key("preserve");
            let matches = self.key(&format!("case:{id}:matches"));
            let res = self
                .update(&id, "purge", |view, new, ops| {
                    let due = view
                        .case
                        .preservation
                        .as_ref()
                        .is_some_and(|p| p.purge_due(now));
                    if !due {
                        return Err(StoreError::State("preservation not over"));
                    }
                    new.state = CaseState::Purged;
                    new.subject.url = None;
                    ops.push(["ZREM", &preserve, &id]);
                    ops.push(["DEL", &matches]);
                    Ok(("preservation.purged", String::new()))
                })
                .await;
            match res {
                Ok(_) => purged.push(id),
                Err(StoreError::State(_)) => {
                    let _: () = self.conn.clone().zrem(self.key("preserve"), &id).await?;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(purged)
    }

    /// Stores a received submission once under `<kind>:<id>` (raw body, digest, receipt time,
    /// JSON record), audited as `<kind>.received`, and opens its cases. A repeated submission
    /// changes nothing: the stored record comes back, with `false`.
    #[allow(clippy::too_many_arguments)]
    async fn receive_once<R: Serialize + serde::de::DeserializeOwned>(
        &self,
        kind: &str,
        id: &str,
        actor: &str,
        raw: &[u8],
        sha: &str,
        received_at: OffsetDateTime,
        record: R,
        cases: &[Case],
    ) -> Result<(R, bool), StoreError> {
        let key = format!("{kind}:{id}");
        let [audit, seq] = self.audit_keys();
        let stored: i64 = self
            .scripts
            .create_record
            .key(audit)
            .key(seq)
            .key(self.key(&key))
            .arg(id)
            .arg(ms(self.clock.now()))
            .arg(actor)
            .arg(format!("{kind}.received"))
            .arg("raw")
            .arg(raw)
            .arg("sha256")
            .arg(sha)
            .arg("received_at")
            .arg(ms(received_at))
            .arg("record")
            .arg(serde_json::to_string(&record)?)
            .invoke_async(&mut self.conn.clone())
            .await?;
        if stored != 1 {
            return Ok((self.record(&key).await?, false));
        }
        for case in cases {
            self.create_case(case, actor).await?;
        }
        Ok((record, true))
    }

    async fn record<T: serde::de::DeserializeOwned>(&self, key: &str) -> Result<T, StoreError> {
        let record: Option<String> = self.conn.clone().hget(self.key(key), "record").await?;
        let record = record.ok_or_else(|| StoreError::NotFound(key.replace(':', " ")))?;
        Ok(serde_json::from_str(&record)?)
    }

    /// Stores a DSA Art. 16 notice once and opens its case. `flagger` is the registry entry
    /// the notice came from (see [`crate::flaggers`]): only an active one makes it a
    /// `trusted_notice` (24 h, before hash matches), counted in the flagger's `received`
    /// set; without one, or for a suspended flagger, it is an ordinary notice (48 h).
    /// Returns the record (the original one for a repeated notice) and whether it was new.
    pub async fn receive_notice(
        &self,
        raw: &[u8],
        mut notice: Notice,
        flagger: Option<&TrustedFlagger>,
        submitted_by: &str,
        received_at: OffsetDateTime,
    ) -> Result<(IntakeRecord<Notice>, bool), StoreError> {
        notice.flagger_id = flagger.map(|f| f.id.clone());
        notice.trusted_flagger = flagger.is_some_and(|f| f.status == FlaggerStatus::Active);
        let id = crate::intake::notice_id(submitted_by, &notice);
        let class = if notice.trusted_flagger {
            SlaClass::TrustedNotice
        } else {
            SlaClass::Notice
        };
        let counted = notice.flagger_id.clone().filter(|_| notice.trusted_flagger);
        let case = self.new_case(
            derive_id("n", &[&id]),
            Subject {
                platform: notice.platform.clone(),
                post_id: notice.post_id.clone(),
                media_id: notice.media_id.clone(),
                url: Some(notice.url.clone()),
            },
            Source::Notice {
                notice_id: id.clone(),
                trusted_flagger: notice.trusted_flagger,
                flagger_id: notice.flagger_id.clone(),
            },
            class,
            received_at,
        )?;
        let (record, new) = self
            .receive_intake("notice", id, raw, notice, case, submitted_by, received_at)
            .await?;
        if new && let Some(flagger) = counted {
            let _: i64 = self
                .conn
                .clone()
                .zadd(
                    crate::flaggers::counter_key(self, &flagger, "received"),
                    &record.id,
                    ms(received_at),
                )
                .await?;
        }
        Ok((record, new))
    }

    /// Stores an Australian removal notice once (raw body, SHA-256, receipt time) and opens
    /// one case per URL, all due one compliance period after the notice was given (see
    /// [`crate::au_notice`]). Returns the record (the original one for a repeated notice:
    /// same submitting account and reference) and whether it was new.
    pub async fn receive_au_notice(
        &self,
        raw: &[u8],
        notice: AuRemovalNotice,
        submitted_by: &str,
        received_at: OffsetDateTime,
    ) -> Result<(AuNoticeRecord, bool), StoreError> {
        let id = derive_id("aun", &[submitted_by, &notice.reference]);
        let profile = self.opts.sla.profile(SlaClass::AuRemovalNotice)?;
        let mut sla = self
            .opts
            .sla
            .start(SlaClass::AuRemovalNotice, notice.clock_start(received_at))?;
        sla.received_at = received_at;
        // Never shorter than the profile, so its escalations stay before the deadline.
        sla.period = notice.period(profile.due_after.0);
        let due_at = sla.due_at().unwrap_or(received_at);
        let mut cases = Vec::new();
        for url in &notice.urls {
            let mut case = self.new_case(
                derive_id("au", &[&id, url]),
                Subject {
                    platform: String::new(),
                    post_id: None,
                    media_id: None,
                    url: Some(url.clone()),
                },
                Source::AuRemovalNotice {
                    reference: notice.reference.clone(),
                    notice_id: id.clone(),
                    section: Some(notice.section),
                },
                SlaClass::AuRemovalNotice,
                received_at,
            )?;
            case.sla = sla.clone();
            cases.push(case);
        }
        let record = AuNoticeRecord {
            id: id.clone(),
            submitted_by: submitted_by.to_string(),
            received_at,
            sha256: sha256_hex(raw),
            notice,
            due_at,
            case_ids: cases.iter().map(|c| c.id.clone()).collect(),
        };
        let sha = record.sha256.clone();
        self.receive_once(
            "au_notice",
            &id,
            submitted_by,
            raw,
            &sha,
            received_at,
            record,
            &cases,
        )
        .await
    }

    /// A stored Australian removal notice.
    pub async fn au_notice(&self, id: &str) -> Result<AuNoticeRecord, StoreError> {
        self.record(&format!("au_notice:{id}")).await
    }

    /// Stores a complaint against the decision on `contested` once and opens its case
    /// (two weeks). The caller checks that the decision can be contested
    /// ([`crate::intake::check_contested`]).
    pub async fn receive_complaint(
        &self,
        raw: &[u8],
        complaint: Complaint,
        contested: &Case,
        submitted_by: &str,
        received_at: OffsetDateTime,
    ) -> Result<(IntakeRecord<Complaint>, bool), StoreError> {
        let id = crate::intake::complaint_id(submitted_by, &complaint);
        let case = self.new_case(
            derive_id("c", &[&id]),
            contested.subject.clone(),
            Source::Complaint {
                complaint_id: id.clone(),
                against_case: contested.id.clone(),
            },
            SlaClass::Complaint,
            received_at,
        )?;
        self.receive_intake(
            "complaint",
            id,
            raw,
            complaint,
            case,
            submitted_by,
            received_at,
        )
        .await
    }

    /// Stores a notice or complaint (`kind`) once, with its raw body and that body's SHA-256,
    /// and opens its case; a repeat returns the original record and `false`.
    #[allow(clippy::too_many_arguments)]
    async fn receive_intake<T: Serialize + serde::de::DeserializeOwned>(
        &self,
        kind: &str,
        id: String,
        raw: &[u8],
        body: T,
        case: Case,
        submitted_by: &str,
        received_at: OffsetDateTime,
    ) -> Result<(IntakeRecord<T>, bool), StoreError> {
        let record = IntakeRecord {
            id: id.clone(),
            submitted_by: submitted_by.to_string(),
            received_at,
            sha256: sha256_hex(raw),
            body,
            case_id: case.id.clone(),
        };
        let sha = record.sha256.clone();
        self.receive_once(
            kind,
            &id,
            submitted_by,
            raw,
            &sha,
            received_at,
            record,
            std::slice::from_ref(&case),
        )
        .await
    }

    /// A stored notice.
    pub async fn notice(&self, id: &str) -> Result<IntakeRecord<Notice>, StoreError> {
        self.record(&format!("notice:{id}")).await
    }

    /// A stored complaint.
    pub async fn complaint(&self, id: &str) -> Result<IntakeRecord<Complaint>, StoreError> {
        self.record(&format!("complaint:{id}")).await
    }

    fn new_case(
        &self,
        id: String,
        subject: Subject,
        source: Source,
        class: SlaClass,
        received_at: OffsetDateTime,
    ) -> Result<Case, StoreError> {
        Ok(Case {
            id,
            subject,
            sources: vec![source],
            state: CaseState::Open,
            rank: rank(class, None, false),
            senior_only: false,
            threat_to_life: false,
            sla: self.opts.sla.start(class, received_at)?,
            embargo: None,
            decision: None,
            history: vec![],
            preservation: None,
            created_at: self.clock.now(),
            first_claimed_at: None,
        })
    }

    /// Extends the case's Art. 11(3) embargo by its one further six weeks.
    pub async fn extend_embargo(&self, case_id: &str, actor: &str) -> Result<CaseView, StoreError> {
        self.update(case_id, actor, |_, new, _| {
            let embargo = new
                .embargo
                .as_mut()
                .ok_or(StoreError::State("the case has no embargo"))?;
            embargo.extend()?;
            Ok(("embargo.extended", String::new()))
        })
        .await
    }

    /// Releases the open legal holds placed by `requested_by`: they end now, and the purge
    /// is scheduled again if no other open hold remains.
    pub async fn release_hold(
        &self,
        case_id: &str,
        actor: &str,
        requested_by: &str,
    ) -> Result<CaseView, StoreError> {
        let now = self.clock.now();
        let preserve = self.key("preserve");
        self.update(case_id, actor, |_, new, ops| {
            let p = new
                .preservation
                .as_mut()
                .ok_or(StoreError::State("nothing is preserved for this case"))?;
            let mut released = 0;
            for hold in &mut p.holds {
                if hold.requested_by == requested_by && hold.until.is_none_or(|u| u > now) {
                    hold.until = Some(now);
                    released += 1;
                }
            }
            if released == 0 {
                return Err(StoreError::State("no current legal hold by that requester"));
            }
            match p.purge_at() {
                Some(at) => ops.push(["ZADD", &preserve, &ms(at).to_string(), case_id]),
                None => ops.push(["ZREM", &preserve, case_id]),
            }
            Ok(("preservation.released", requested_by.to_string()))
        })
        .await
    }

    /// Marks an action acknowledged by Kafka: `published_at` set once, out of the outbox,
    /// and into the webhook outbox when `webhook` is on. Returns whether it was new.
    pub async fn mark_published(
        &self,
        action_id: &str,
        at: OffsetDateTime,
        webhook: bool,
    ) -> Result<bool, StoreError> {
        let [audit, seq] = self.audit_keys();
        let set: i64 = self
            .scripts
            .mark_published
            .key(audit)
            .key(seq)
            .key(self.key(&format!("action:{action_id}")))
            .key(self.key("outbox"))
            .key(self.key("outbox:webhook"))
            .arg(action_id)
            .arg("publisher")
            .arg(ms(self.clock.now()))
            .arg(ms(at))
            .arg(if webhook { "1" } else { "0" })
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(set == 1)
    }

    /// Actions whose webhook delivery is due at the clock's now, oldest first, with the
    /// number of attempts made so far.
    pub async fn due_webhooks(
        &self,
        limit: usize,
    ) -> Result<Vec<(TakedownAction, u32)>, StoreError> {
        let mut conn = self.conn.clone();
        let ids: Vec<String> = conn
            .zrangebyscore_limit(
                self.key("outbox:webhook"),
                "-inf",
                ms(self.clock.now()),
                0,
                limit as isize,
            )
            .await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let (json, attempts): (Option<String>, Option<u32>) = redis::pipe()
                .hget(self.key(&format!("action:{id}")), "json")
                .hget(self.key(&format!("action:{id}")), "webhook_attempts")
                .query_async(&mut conn)
                .await?;
            match json {
                Some(json) => out.push((serde_json::from_str(&json)?, attempts.unwrap_or(0))),
                None => {
                    let _: () = conn.zrem(self.key("outbox:webhook"), &id).await?;
                }
            }
        }
        Ok(out)
    }

    /// Records a failed webhook attempt and when to try again.
    pub async fn webhook_failed(
        &self,
        action_id: &str,
        retry_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let _: () = redis::pipe()
            .hincr(
                self.key(&format!("action:{action_id}")),
                "webhook_attempts",
                1,
            )
            .ignore()
            .cmd("ZADD")
            .arg(self.key("outbox:webhook"))
            .arg("XX")
            .arg(ms(retry_at))
            .arg(action_id)
            .ignore()
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(())
    }

    /// Records the webhook's acknowledgement (`webhook_at`, once, audited) and takes the
    /// action out of the webhook outbox.
    pub async fn webhook_delivered(&self, action_id: &str) -> Result<(), StoreError> {
        let now = self.clock.now();
        self.mark_action(action_id, "webhook_at", now, "webhook")
            .await?;
        let _: () = self
            .conn
            .clone()
            .zrem(self.key("outbox:webhook"), action_id)
            .await?;
        Ok(())
    }

    /// Reviewer feedback waiting to reach the hash lists: `(job, case id, verdict)`, oldest
    /// first. A job is queued by each final decision on a case with matches.
    pub async fn pending_feedback(
        &self,
        limit: usize,
    ) -> Result<Vec<(String, String, Verdict)>, StoreError> {
        let jobs: Vec<String> = self
            .conn
            .clone()
            .zrange(self.key("feedback"), 0, limit as isize - 1)
            .await?;
        Ok(jobs
            .into_iter()
            .filter_map(|job| {
                let (case, rest) = job.split_once('|')?;
                let verdict = match rest.rsplit('|').next()? {
                    "tp" => Verdict::TruePositive,
                    "fp" => Verdict::FalsePositive,
                    _ => return None,
                };
                Some((job.clone(), case.to_string(), verdict))
            })
            .collect())
    }

    /// Marks one match of a feedback job as sent; returns false if it already was (a job
    /// resumed after a crash skips what it sent).
    pub async fn feedback_sent(&self, job: &str, match_id: &str) -> Result<bool, StoreError> {
        let new: i64 = self
            .conn
            .clone()
            .hset_nx(self.key(&format!("feedback:{job}")), match_id, 1)
            .await?;
        Ok(new == 1)
    }

    /// Whether one match of a feedback job was sent.
    pub async fn feedback_was_sent(&self, job: &str, match_id: &str) -> Result<bool, StoreError> {
        Ok(self
            .conn
            .clone()
            .hexists(self.key(&format!("feedback:{job}")), match_id)
            .await?)
    }

    /// Finishes a feedback job (audited against its case).
    pub async fn feedback_done(
        &self,
        job: &str,
        case_id: &str,
        sent: usize,
    ) -> Result<(), StoreError> {
        let [audit, seq] = self.audit_keys();
        let mut conn = self.conn.clone();
        let _: i64 = self
            .scripts
            .set_once
            .key(audit)
            .key(seq)
            .key(self.key(&format!("feedback:{job}")))
            .arg(case_id)
            .arg("feedback")
            .arg(ms(self.clock.now()))
            .arg("entries_sent")
            .arg(sent)
            .arg("feedback.sent")
            .invoke_async(&mut conn)
            .await?;
        let _: () = redis::pipe()
            .zrem(self.key("feedback"), job)
            .ignore()
            .expire(self.key(&format!("feedback:{job}")), 86_400)
            .ignore()
            .query_async(&mut conn)
            .await?;
        Ok(())
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

fn sha256_hex(raw: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(raw))
}

/// The registry entry whose trusted notice opened `case`, if any.
fn trusted_flagger_of(case: &Case) -> Option<&str> {
    case.sources.iter().find_map(|s| match s {
        Source::Notice {
            trusted_flagger: true,
            flagger_id: Some(id),
            ..
        } => Some(id.as_str()),
        _ => None,
    })
}

fn summary(case: &Case) -> String {
    serde_json::json!({"state": case.state, "class": case.sla.class, "rank": case.rank,
        "due_at": case.sla.due_at().map(ms)})
    .to_string()
}
