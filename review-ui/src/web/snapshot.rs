//! An in-memory index of the open cases, rebuilt in the background, behind the queue's
//! filters and counts and the SLA dashboard.
//!
//! It exists because the queue must answer in well under 100 ms with 100,000 open cases, and
//! filtering by list, label or jurisdiction needs each case's document and matches: reading
//! them all per request is far too slow, so one pass reads them in pipelined batches and the
//! pages filter the result in memory. The unfiltered queue never uses it (it reads the live
//! sorted sets), and the rows a filtered page shows are re-read live, so the snapshot's age
//! (at most `snapshot_every` while pages are in use) only affects which cases a filter finds
//! and the counts, each shown with the time they were taken.

use std::collections::{BTreeMap, HashMap};

use std::time::{Duration, Instant};
use takedown_review::model::{Case, CaseState, MatchRecord, Source};
use takedown_review::store::{ReviewStore, StoreError};
use time::OffsetDateTime;

/// Where an open case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    /// In the main queue.
    Queued,
    /// In the senior queue.
    Escalated,
    /// Held by a moderator.
    Claimed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Escalated => "escalated",
            Status::Claimed => "claimed",
        }
    }
}

/// One open case as the filters see it.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub id: String,
    pub score: f64,
    pub status: Status,
    pub source: &'static str,
    pub lists: Vec<String>,
    pub labels: Vec<String>,
    pub jurisdiction: Option<String>,
    pub due_at: Option<OffsetDateTime>,
    /// The SLA period of its clock (with `due_at`, the urgency the queue colours it by).
    pub period: time::Duration,
    pub breached: bool,
    /// The named queue it was routed to (`None` before routing).
    pub queue: Option<String>,
}

/// The open cases at one moment, in queue order, with counts by facet.
pub(crate) struct Snapshot {
    /// When it was taken (store clock).
    pub taken_at: OffsetDateTime,
    /// When it was taken (for staleness).
    pub built: Instant,
    /// How long building took.
    pub build_time: Duration,
    pub rows: Vec<Row>,
    /// Case id → its place in `rows`.
    index: HashMap<String, usize>,
    /// The deadlines of the rows not yet marked breached, in order (for counting breaches at
    /// any time without a pass over the rows).
    pub due: Vec<OffsetDateTime>,
    /// Facet name → value → count.
    pub facets: BTreeMap<&'static str, BTreeMap<String, u64>>,
    /// (Facet, value) → the places in `rows` of the rows counted under it, in queue order:
    /// a filter walks the shortest of its lists instead of every open case.
    postings: HashMap<&'static str, HashMap<String, Vec<u32>>>,
    /// The audit stream's position when the build began: changes after it are read live.
    pub position: String,
}

impl Snapshot {
    /// A snapshot of `rows` (in queue order), indexed and counted.
    fn new(
        rows: Vec<Row>,
        taken_at: OffsetDateTime,
        position: String,
        build_time: Duration,
    ) -> Snapshot {
        let mut facets: BTreeMap<&'static str, BTreeMap<String, u64>> = BTreeMap::new();
        let mut postings: HashMap<&'static str, HashMap<String, Vec<u32>>> = HashMap::new();
        for (i, r) in rows.iter().enumerate() {
            r.count(&mut |facet, value| {
                *facets
                    .entry(facet)
                    .or_default()
                    .entry(value.to_string())
                    .or_default() += 1;
                postings
                    .entry(facet)
                    .or_default()
                    .entry(value.to_string())
                    .or_default()
                    .push(i as u32);
            });
        }
        let index = rows
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.clone(), i))
            .collect();
        let mut due: Vec<OffsetDateTime> = rows
            .iter()
            .filter(|r| !r.breached)
            .filter_map(|r| r.due_at)
            .collect();
        due.sort_unstable();
        Snapshot {
            taken_at,
            built: Instant::now(),
            build_time,
            rows,
            index,
            due,
            facets,
            postings,
            position,
        }
    }

    /// The places in `rows` of the rows counted under `facet` = `value`, in queue order.
    pub fn posting(&self, facet: &'static str, value: &str) -> &[u32] {
        self.postings
            .get(facet)
            .and_then(|values| values.get(value))
            .map_or(&[], Vec::as_slice)
    }

    /// A snapshot of `rows` for tests.
    #[cfg(test)]
    pub fn of(rows: Vec<Row>) -> Snapshot {
        Snapshot::new(
            rows,
            OffsetDateTime::UNIX_EPOCH,
            "0-0".into(),
            Duration::ZERO,
        )
    }

    /// The row of case `id`, if it was open.
    pub fn row(&self, id: &str) -> Option<&Row> {
        self.index.get(id).map(|&i| &self.rows[i])
    }

    /// The place in `rows` of case `id`, if it was open.
    pub fn place(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }
}

impl Row {
    /// Calls `f` with each (facet, value) this row counts under.
    pub fn count(&self, f: &mut dyn FnMut(&'static str, &str)) {
        f("source", self.source);
        f("status", self.status.as_str());
        if self.breached {
            f("status", "breached");
        }
        for l in &self.lists {
            f("list", l);
        }
        for l in &self.labels {
            f("label", l);
        }
        if let Some(j) = &self.jurisdiction {
            f("jurisdiction", j);
        }
        f(
            "queue",
            self.queue
                .as_deref()
                .unwrap_or(takedown_review::routing::GENERAL),
        );
    }
}

/// The name of a case's first source, as the filters use it.
pub(crate) fn source_name(case: &Case) -> &'static str {
    match case.sources.first() {
        Some(Source::HashMatch) | None => "hash_match",
        Some(Source::RemovalOrder { .. }) => "removal_order",
        Some(Source::Notice {
            trusted_flagger: true,
            ..
        }) => "trusted_notice",
        Some(Source::Notice { .. }) => "notice",
        Some(Source::AuRemovalNotice { .. }) => "au_removal_notice",
        Some(Source::Complaint { .. }) => "complaint",
    }
}

/// The jurisdiction a case's source names: the issuing Member State of an order, AU for an
/// Australian notice.
pub(crate) fn jurisdiction(case: &Case) -> Option<String> {
    case.sources.iter().find_map(|s| match s {
        Source::RemovalOrder { issuing_state, .. } => Some(issuing_state.clone()),
        Source::AuRemovalNotice { .. } => Some("AU".into()),
        _ => None,
    })
}

const BATCH: usize = 1000;

/// Sorted-set members with their scores.
type Scored = Vec<(String, f64)>;

/// Decodes one reply of a pipeline.
pub(crate) fn decode<T: redis::FromRedisValue>(v: &redis::Value) -> Result<T, StoreError> {
    T::from_redis_value_ref(v).map_err(|e| StoreError::Redis(e.into()))
}

/// Reads every open case (queues and leases) with its matches.
pub(crate) async fn build(store: &ReviewStore) -> Result<Snapshot, StoreError> {
    let started = Instant::now();
    let taken_at = store.clock().now();
    let position = stream_position(store).await?;
    let mut conn = store.connection();
    let (queued, senior, leased): (Scored, Scored, Vec<String>) = redis::pipe()
        .zrange_withscores(store.key("queue"), 0, -1)
        .zrange_withscores(store.key("queue:senior"), 0, -1)
        .zrange(store.key("leases"), 0, -1)
        .query_async(&mut conn)
        .await?;
    let mut ids: Vec<(String, Status)> = Vec::with_capacity(queued.len() + senior.len());
    ids.extend(queued.into_iter().map(|(id, _)| (id, Status::Queued)));
    ids.extend(senior.into_iter().map(|(id, _)| (id, Status::Escalated)));
    ids.extend(leased.into_iter().map(|id| (id, Status::Claimed)));
    let mut rows = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(BATCH) {
        let mut pipe = redis::pipe();
        for (id, _) in chunk {
            pipe.cmd("HMGET")
                .arg(store.key(&format!("case:{id}")))
                .arg(&["doc", "score", "breached_at", "route"][..])
                .lrange(store.key(&format!("case:{id}:matches")), 0, -1);
        }
        let replies: Vec<redis::Value> = pipe.query_async(&mut conn).await?;
        let chunk = chunk.to_vec();
        // Decoding a thousand cases is CPU work: off the threads that answer pages.
        rows.extend(off_async(move || rows_of(&chunk, &replies)).await??);
    }
    off_async(move || {
        rows.sort_by(|a, b| a.score.total_cmp(&b.score));
        Snapshot::new(rows, taken_at, position, started.elapsed())
    })
    .await
}

/// The rows of the open cases among `ids`, from their `HMGET` and `LRANGE` replies.
fn rows_of(ids: &[(String, Status)], replies: &[redis::Value]) -> Result<Vec<Row>, StoreError> {
    let mut rows = Vec::with_capacity(ids.len());
    for ((id, status), pair) in ids.iter().zip(replies.chunks(2)) {
        let (fields, matches): (Vec<Option<String>>, Vec<String>) =
            (decode(&pair[0])?, decode(&pair[1])?);
        if let Some(row) = row(id, *status, &fields, &matches)? {
            rows.push(row);
        }
    }
    Ok(rows)
}

/// Runs CPU-bound work (decoding, sorting, indexing the open cases) on tokio's blocking
/// threads, so a rebuild never holds up the pages being answered meanwhile.
pub(crate) async fn off_async<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|_| StoreError::State("the case index's worker failed"))
}

/// Where the audit stream stands now (its last entry id, `0-0` when empty).
pub(crate) async fn stream_position(store: &ReviewStore) -> Result<String, StoreError> {
    let reply: redis::streams::StreamRangeReply = redis::cmd("XREVRANGE")
        .arg(store.key("audit"))
        .arg("+")
        .arg("-")
        .arg("COUNT")
        .arg(1)
        .query_async(&mut store.connection())
        .await?;
    Ok(reply
        .ids
        .first()
        .map_or_else(|| "0-0".to_string(), |e| e.id.clone()))
}

/// A case's row from its `doc`, `score`, `breached_at` and `route` fields and its matches
/// (`None` when it is not open).
pub(crate) fn row(
    id: &str,
    status: Status,
    fields: &[Option<String>],
    matches: &[String],
) -> Result<Option<Row>, StoreError> {
    let Some(doc) = fields.first().cloned().flatten() else {
        return Ok(None);
    };
    let case: Case = serde_json::from_str(&doc)?;
    if case.state != CaseState::Open {
        return Ok(None);
    }
    let score = fields
        .get(1)
        .cloned()
        .flatten()
        .and_then(|s| s.parse::<f64>().ok())
        .unwrap_or(f64::MAX);
    let breached = fields.get(2).cloned().flatten().is_some();
    let mut lists = Vec::new();
    let mut labels = Vec::new();
    for m in matches {
        let m: MatchRecord = serde_json::from_str(m)?;
        if !lists.contains(&m.list_id) {
            lists.push(m.list_id);
        }
        for l in m.labels {
            if !labels.contains(&l) {
                labels.push(l);
            }
        }
    }
    Ok(Some(Row {
        id: id.to_string(),
        score,
        status,
        source: source_name(&case),
        jurisdiction: jurisdiction(&case),
        due_at: case.sla.due_at(),
        period: case.sla.period,
        breached,
        queue: fields.get(3).cloned().flatten(),
        lists,
        labels,
    }))
}

/// Filters chosen on the queue page (empty = any; status `all` includes claimed cases).
#[derive(Debug, Clone, Default)]
pub(crate) struct Filter {
    pub source: String,
    pub list: String,
    pub label: String,
    pub jurisdiction: String,
    pub status: String,
    /// An urgency class (`breached`, `critical`, `warn`, `ok`, `suspended`; the SLA
    /// dashboard's bars link here), judged by the queue at the time of the request
    /// (`view::urgency_of`), so [`Filter::matches`] leaves it out.
    pub urgency: String,
    /// A named queue (`queue=`).
    pub queue: String,
    /// The routing and the viewer's role when the role does not see every queue: rows of
    /// the other queues are never shown.
    pub access: Option<(
        takedown_review::routing::RoutingConfig,
        takedown_review::model::Role,
    )>,
}

impl Filter {
    pub fn from_query(q: &HashMap<String, String>) -> Self {
        let get = |k: &str| q.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
        Filter {
            urgency: get("urgency"),
            source: get("source"),
            list: get("list"),
            label: get("label"),
            jurisdiction: get("jurisdiction"),
            status: get("status"),
            queue: get("queue"),
            access: None,
        }
    }

    /// Whether only the status (queued or claimed, or nothing) is chosen: then the live
    /// sorted sets answer without the snapshot (the queue page takes out what the viewer's
    /// access hides).
    pub fn is_live(&self) -> bool {
        self.source.is_empty()
            && self.list.is_empty()
            && self.label.is_empty()
            && self.jurisdiction.is_empty()
            && self.urgency.is_empty()
            && self.queue.is_empty()
            && matches!(self.status.as_str(), "" | "open")
    }

    /// The (facet, value) pairs a matching row is counted under (see [`Row::count`]); empty
    /// for the live view, which has none.
    pub fn constraints(&self) -> Vec<(&'static str, &str)> {
        let mut out = Vec::new();
        for (facet, value) in [
            ("source", &self.source),
            ("list", &self.list),
            ("label", &self.label),
            ("jurisdiction", &self.jurisdiction),
            ("queue", &self.queue),
        ] {
            if !value.is_empty() {
                out.push((facet, value.as_str()));
            }
        }
        if !matches!(self.status.as_str(), "" | "open" | "all") {
            out.push(("status", self.status.as_str()));
        }
        out
    }

    /// Whether the viewer's role may see `r` (its queue's roles; escalated cases are every
    /// senior's).
    pub fn visible(&self, r: &Row) -> bool {
        self.access.as_ref().is_none_or(|(config, role)| {
            config.may_see(r.queue.as_deref(), *role)
                || (r.status == Status::Escalated
                    && *role == takedown_review::model::Role::SeniorModerator)
        })
    }

    pub fn matches(&self, r: &Row) -> bool {
        (self.source.is_empty() || r.source == self.source)
            && (self.list.is_empty() || r.lists.contains(&self.list))
            && (self.label.is_empty() || r.labels.contains(&self.label))
            && (self.jurisdiction.is_empty()
                || r.jurisdiction.as_deref() == Some(self.jurisdiction.as_str()))
            && (self.queue.is_empty()
                || r.queue
                    .as_deref()
                    .unwrap_or(takedown_review::routing::GENERAL)
                    == self.queue)
            && self.visible(r)
            && match self.status.as_str() {
                "" | "open" => r.status != Status::Claimed,
                "all" => true,
                "breached" => r.breached,
                s => r.status.as_str() == s,
            }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(status: Status, lists: &[&str], breached: bool) -> Row {
        Row {
            id: "x".into(),
            score: 0.0,
            status,
            source: "hash_match",
            lists: lists.iter().map(|s| s.to_string()).collect(),
            labels: vec!["l1".into()],
            jurisdiction: None,
            due_at: None,
            period: time::Duration::hours(1),
            breached,
            queue: None,
        }
    }

    #[test]
    fn filters_combine() {
        let f = Filter {
            list: "gifct".into(),
            ..Filter::default()
        };
        assert!(!f.is_live());
        assert!(f.matches(&r(Status::Queued, &["gifct"], false)));
        assert!(f.matches(&r(Status::Escalated, &["gifct"], false)));
        assert!(!f.matches(&r(Status::Claimed, &["gifct"], false)));
        assert!(!f.matches(&r(Status::Queued, &["tat"], false)));
        let breached = Filter {
            status: "breached".into(),
            ..Filter::default()
        };
        assert!(breached.matches(&r(Status::Claimed, &[], true)));
        assert!(!breached.matches(&r(Status::Queued, &[], false)));
        let labelled = Filter {
            label: "l2".into(),
            ..Filter::default()
        };
        assert!(!labelled.matches(&r(Status::Queued, &[], false)));
        assert!(Filter::default().is_live());
        let all = Filter {
            status: "all".into(),
            ..Filter::default()
        };
        assert!(all.matches(&r(Status::Claimed, &[], false)));
        let urgent = Filter {
            urgency: "critical".into(),
            ..Filter::default()
        };
        assert!(!urgent.is_live());
    }
}
