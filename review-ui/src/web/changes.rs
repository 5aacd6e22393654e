//! The case index kept live between rebuilds: the changes since the last snapshot, read from
//! the audit stream, laid over it.
//!
//! A full rebuild of the index reads every open case (seconds at 100,000) and so runs only
//! every `snapshot_every`; a moderator's queue must show a removal order filed a moment ago
//! within a second, with counts that agree with its rows. Every change to a case appends an
//! audit entry naming the case (the review store's scripts do it in the same atomic step), so
//! tailing the audit stream from the position the snapshot was taken at finds every case that
//! changed since; those few are re-read live and override the snapshot's rows. A page sees
//! [`View`]: the snapshot and the overrides, merged in queue order. [`Snapshots`] keeps both:
//! it rebuilds the snapshot in the background and reads the changes every [`READ_EVERY`]
//! while pages are in use.

use super::snapshot::{Filter, Row, Snapshot, Status, build, decode, row};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use takedown_review::store::{ReviewStore, StoreError};
use time::OffsetDateTime;

/// Audit entries read at once (bounding each read); a burst larger than this is caught up
/// over the next few reads.
const READ: usize = 2_000;
/// Overrides kept before the next rebuild is asked for early.
pub(crate) const REBUILD_AFTER: usize = 20_000;

/// Cases changed since a snapshot: id → the case's row now (`None`: no longer open).
#[derive(Default)]
pub(crate) struct Delta {
    /// The audit stream id through which changes are applied.
    pub position: String,
    rows: HashMap<String, Option<Row>>,
    /// The open ones of `rows`, in queue order.
    sorted: Vec<Row>,
    /// Which of the snapshot's rows (by place) `rows` overrides.
    hidden: Vec<bool>,
    /// When the changes were last read (store clock).
    pub read_at: Option<OffsetDateTime>,
    /// The snapshot's counts by facet corrected for `rows` (`None`: no changes), worked out
    /// once per read rather than on every page.
    facets: Option<Facets>,
}

/// Facet name → value → count.
pub(crate) type Facets = BTreeMap<&'static str, BTreeMap<String, u64>>;

impl Delta {
    /// Number of overridden cases.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// No changes yet since the stream position `position`.
    pub fn starting_at(position: String) -> Delta {
        Delta {
            position,
            ..Delta::default()
        }
    }

    /// This delta with `changed` applied, read through `position` (a new delta: pages may
    /// still hold this one).
    pub fn with(
        &self,
        base: &Snapshot,
        changed: Vec<(String, Option<Row>)>,
        position: String,
        now: OffsetDateTime,
    ) -> Delta {
        let mut rows = self.rows.clone();
        rows.extend(changed);
        let mut sorted: Vec<Row> = rows.values().flatten().cloned().collect();
        sorted.sort_by(|a, b| a.score.total_cmp(&b.score));
        let mut hidden = vec![false; base.rows.len()];
        for id in rows.keys() {
            if let Some(i) = base.place(id) {
                hidden[i] = true;
            }
        }
        let facets = Some(corrected_facets(base, &rows));
        Delta {
            position,
            rows,
            sorted,
            hidden,
            read_at: Some(now),
            facets,
        }
    }
}

/// `base`'s counts by facet with each changed case's old row taken out and its new one in.
fn corrected_facets(base: &Snapshot, rows: &HashMap<String, Option<Row>>) -> Facets {
    let mut facets = base.facets.clone();
    for (id, over) in rows {
        if let Some(old) = base.row(id) {
            uncount(&mut facets, old);
        }
        if let Some(new) = over {
            new.count(&mut |facet, value| {
                *facets
                    .entry(facet)
                    .or_default()
                    .entry(value.to_string())
                    .or_default() += 1;
            });
        }
    }
    drop_zeros(&mut facets);
    facets
}

/// Takes `row` out of `facets`' counts.
fn uncount(facets: &mut Facets, row: &Row) {
    row.count(&mut |facet, value| {
        if let Some(n) = facets.get_mut(facet).and_then(|m| m.get_mut(value)) {
            *n = n.saturating_sub(1);
        }
    });
}

/// Drops the values no case counts under any more.
fn drop_zeros(facets: &mut Facets) {
    for values in facets.values_mut() {
        values.retain(|_, n| *n > 0);
    }
}

/// What a page reads: a snapshot with the changes since laid over it.
#[derive(Clone)]
pub(crate) struct View {
    pub base: Arc<Snapshot>,
    pub delta: Arc<Delta>,
}

impl View {
    /// Every open case, in queue order.
    pub fn rows(&self) -> impl Iterator<Item = &Row> {
        let hidden = &self.delta.hidden;
        let mut base = self
            .base
            .rows
            .iter()
            .enumerate()
            .filter(move |(i, _)| !hidden.get(*i).copied().unwrap_or(false))
            .map(|(_, r)| r)
            .peekable();
        let mut over = self.delta.sorted.iter().peekable();
        std::iter::from_fn(move || match (base.peek(), over.peek()) {
            (Some(b), Some(o)) if o.score < b.score => over.next(),
            (Some(_), _) => base.next(),
            (None, _) => over.next(),
        })
    }

    /// The first `limit` open cases `filter` finds, in queue order, and how many it finds
    /// in all. The snapshot's side walks the shortest posting list of the filter's
    /// constraints (rows the changes override skipped), the changes' side their sorted rows.
    pub fn filtered(
        &self,
        filter: &Filter,
        limit: usize,
        also: impl Fn(&Row) -> bool,
    ) -> (Vec<&Row>, usize) {
        let wanted = |r: &&Row| filter.matches(r) && also(r);
        let shortest = filter
            .constraints()
            .into_iter()
            .map(|(facet, value)| self.base.posting(facet, value))
            .min_by_key(|p| p.len());
        let Some(places) = shortest else {
            let mut hits = self.rows().filter(wanted);
            let page: Vec<&Row> = hits.by_ref().take(limit).collect();
            let n = page.len() + hits.count();
            return (page, n);
        };
        let hidden = &self.delta.hidden;
        let mut base = places
            .iter()
            .map(|&i| i as usize)
            .filter(|&i| !hidden.get(i).copied().unwrap_or(false))
            .map(|i| &self.base.rows[i])
            .filter(wanted);
        let mut over = self.delta.sorted.iter().filter(wanted);
        let (mut b, mut o) = (base.next(), over.next());
        let mut page = Vec::with_capacity(limit);
        let mut n = 0;
        loop {
            let next = match (b, o) {
                (Some(x), Some(y)) if y.score < x.score => {
                    o = over.next();
                    y
                }
                (Some(x), _) => {
                    b = base.next();
                    x
                }
                (None, Some(y)) => {
                    o = over.next();
                    y
                }
                (None, None) => break,
            };
            if page.len() < limit {
                page.push(next);
            }
            n += 1;
        }
        (page, n)
    }

    /// The open cases `filter`'s access hides from the viewer: the rows of each queue the
    /// role may not see, found through the queue facet's postings (hidden queues hold few
    /// cases as a rule: complaints, a seniors' queue), not by a pass over every case.
    pub fn hidden(&self, filter: &Filter) -> Vec<&Row> {
        let Some((config, role)) = &filter.access else {
            return Vec::new();
        };
        let hidden = &self.delta.hidden;
        let mut out: Vec<&Row> = Vec::new();
        let names = self
            .base
            .facets
            .get("queue")
            .into_iter()
            .flat_map(|m| m.keys());
        for name in names.filter(|n| !config.may_see(Some(n), *role)) {
            let places = self.base.posting("queue", name);
            out.extend(
                (places.iter().map(|&i| i as usize))
                    .filter(|&i| !hidden.get(i).copied().unwrap_or(false))
                    .map(|i| &self.base.rows[i])
                    .filter(|r| !filter.visible(r)),
            );
        }
        out.extend(self.delta.sorted.iter().filter(|r| !filter.visible(r)));
        out
    }

    /// The row of case `id`, if it is open.
    pub fn row(&self, id: &str) -> Option<&Row> {
        match self.delta.rows.get(id) {
            Some(over) => over.as_ref(),
            None => self.base.row(id),
        }
    }

    /// Counts by facet: the snapshot's, corrected for every changed case.
    pub fn facets(&self) -> &Facets {
        self.delta.facets.as_ref().unwrap_or(&self.base.facets)
    }

    /// [`View::facets`] without the `hidden` rows (see [`View::hidden`]).
    pub fn facets_without(&self, hidden: &[&Row]) -> std::borrow::Cow<'_, Facets> {
        if hidden.is_empty() {
            return std::borrow::Cow::Borrowed(self.facets());
        }
        let mut facets = self.facets().clone();
        for r in hidden {
            uncount(&mut facets, r);
        }
        drop_zeros(&mut facets);
        std::borrow::Cow::Owned(facets)
    }

    /// Open cases whose deadline has passed at `now` (what the rows' countdowns show): the
    /// snapshot's, from its marks and its sorted deadlines, corrected for every changed case.
    pub fn breached_at(&self, now: OffsetDateTime) -> usize {
        let breached = |r: &Row| r.breached || r.due_at.is_some_and(|d| d <= now);
        let marked = self
            .base
            .facets
            .get("status")
            .and_then(|m| m.get("breached"))
            .copied()
            .unwrap_or(0) as usize;
        let mut n = marked + self.base.due.partition_point(|d| *d <= now);
        for (id, over) in &self.delta.rows {
            if self.base.row(id).is_some_and(breached) {
                n -= 1;
            }
            if over.as_ref().is_some_and(breached) {
                n += 1;
            }
        }
        n
    }
}

/// Reads the audit entries after `after` and re-reads each case they name. Returns the new
/// stream position and the changed cases' rows.
pub(crate) async fn read_changes(
    store: &ReviewStore,
    after: &str,
) -> Result<(String, Vec<(String, Option<Row>)>), StoreError> {
    let reply: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
        .arg(store.key("audit"))
        .arg(format!("({after}"))
        .arg("+")
        .arg("COUNT")
        .arg(READ)
        .query_async(&mut store.connection())
        .await?;
    let position = reply
        .ids
        .last()
        .map_or_else(|| after.to_string(), |e| e.id.clone());
    let mut ids: Vec<String> = Vec::new();
    for e in &reply.ids {
        if let Some(subject) = e.get::<String>("subject")
            && !ids.contains(&subject)
        {
            ids.push(subject);
        }
    }
    if ids.is_empty() {
        return Ok((position, Vec::new()));
    }
    let mut pipe = redis::pipe();
    for id in &ids {
        pipe.cmd("HMGET")
            .arg(store.key(&format!("case:{id}")))
            .arg(&["doc", "score", "breached_at", "route", "holder", "queue"][..])
            .lrange(store.key(&format!("case:{id}:matches")), 0, -1);
    }
    let replies: Vec<redis::Value> = pipe.query_async(&mut store.connection()).await?;
    let senior = store.key("queue:senior");
    let mut changed = Vec::with_capacity(ids.len());
    for (id, pair) in ids.into_iter().zip(replies.chunks(2)) {
        let fields: Vec<Option<String>> = decode(&pair[0])?;
        let matches: Vec<String> = decode(&pair[1])?;
        // Audit subjects are also orders, notices, accounts: only cases have a document.
        if fields.first().is_none_or(Option::is_none) {
            continue;
        }
        let status = if fields.get(4).cloned().flatten().is_some() {
            Status::Claimed
        } else if fields.get(5).cloned().flatten().as_deref() == Some(senior.as_str()) {
            Status::Escalated
        } else {
            Status::Queued
        };
        let r = row(&id, status, &fields[..4], &matches)?;
        changed.push((id, r));
    }
    Ok((position, changed))
}

/// Builds snapshots, keeps the last one and the changes since.
pub(crate) struct Snapshots {
    every: Duration,
    current: RwLock<Option<View>>,
    building: AtomicBool,
    first: tokio::sync::Mutex<()>,
    /// Whether the background reader of changes runs.
    reading: AtomicBool,
    /// When a page last used the index (the reader pauses when none has for a while).
    used: std::sync::Mutex<Instant>,
}

impl Snapshots {
    pub fn new(every: Duration) -> Self {
        Snapshots {
            every,
            current: RwLock::new(None),
            building: AtomicBool::new(false),
            first: tokio::sync::Mutex::new(()),
            reading: AtomicBool::new(false),
            used: std::sync::Mutex::new(Instant::now()),
        }
    }

    fn current(&self) -> Option<View> {
        self.current.read().map(|c| c.clone()).unwrap_or(None)
    }

    fn set(&self, snap: Snapshot) {
        let delta = Delta::starting_at(snap.position.clone());
        if let Ok(mut c) = self.current.write() {
            *c = Some(View {
                base: Arc::new(snap),
                delta: Arc::new(delta),
            });
        }
    }

    /// The open cases now: the current snapshot (the first call builds it; later calls
    /// start a background rebuild when it is older than `every`) with the changes since
    /// laid over it, which a background task reads from the audit stream every
    /// [`READ_EVERY`] while pages are in use.
    pub async fn get(self: &Arc<Self>, store: &ReviewStore) -> Result<View, StoreError> {
        let view = match self.current() {
            Some(view) => view,
            None => {
                let _first = self.first.lock().await;
                if self.current().is_none() {
                    self.set(build(store).await?);
                }
                self.current()
                    .ok_or(StoreError::State("the case index could not be kept"))?
            }
        };
        let stale = view.base.built.elapsed() >= self.every || view.delta.len() > REBUILD_AFTER;
        if stale && !self.building.swap(true, Ordering::AcqRel) {
            let this = self.clone();
            let store = store.clone();
            tokio::spawn(async move {
                match build(&store).await {
                    Ok(snap) => this.set(snap),
                    Err(e) => {
                        tracing::warn!(error = %e, "web ui: rebuilding the case index failed")
                    }
                }
                this.building.store(false, Ordering::Release);
            });
        }
        *self.used.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
        if !self.reading.swap(true, Ordering::AcqRel) {
            let this = Arc::downgrade(self);
            tokio::spawn(read_changes_while_used(this, store.clone()));
        }
        Ok(self.current().unwrap_or(view))
    }

    /// Reads the changes since the last read and lays them over the current snapshot.
    async fn read_once(&self, store: &ReviewStore) -> Result<(), StoreError> {
        let Some(view) = self.current() else {
            return Ok(());
        };
        let (position, changed) = read_changes(store, &view.delta.position).await?;
        if changed.is_empty() && position == view.delta.position {
            return Ok(());
        }
        let now = store.clock().now();
        let (base, old) = (view.base.clone(), view.delta.clone());
        let delta = Arc::new(
            super::snapshot::off_async(move || old.with(&base, changed, position, now)).await?,
        );
        if let Ok(mut c) = self.current.write() {
            // A rebuild that landed meanwhile supersedes these changes.
            if c.as_ref().is_some_and(|v| Arc::ptr_eq(&v.base, &view.base)) {
                *c = Some(View {
                    base: view.base.clone(),
                    delta,
                });
            }
        }
        Ok(())
    }
}

/// How often the changes are read while pages are in use: well inside the second a live
/// queue promises, and off every page's own path.
const READ_EVERY: Duration = Duration::from_millis(250);
/// After this long without a page, reading pauses (until the next page).
const IDLE_AFTER: Duration = Duration::from_secs(30);

/// The background reader: every [`READ_EVERY`] while pages use the index, reads the audit
/// stream's new entries; ends when the UI is dropped or has been idle for [`IDLE_AFTER`].
async fn read_changes_while_used(snapshots: std::sync::Weak<Snapshots>, store: ReviewStore) {
    loop {
        tokio::time::sleep(READ_EVERY).await;
        let Some(this) = snapshots.upgrade() else {
            return;
        };
        let idle = this
            .used
            .lock()
            .map(|t| t.elapsed() > IDLE_AFTER)
            .unwrap_or(true);
        if idle {
            this.reading.store(false, Ordering::Release);
            return;
        }
        if let Err(e) = this.read_once(&store).await {
            tracing::warn!(error = %e, "web ui: reading the case changes failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(id: &str, score: f64, list: &str) -> Row {
        Row {
            id: id.into(),
            score,
            status: Status::Queued,
            source: "hash_match",
            lists: vec![list.into()],
            labels: vec![],
            jurisdiction: None,
            due_at: None,
            period: time::Duration::hours(1),
            breached: false,
            queue: None,
        }
    }

    #[test]
    fn changes_override_the_snapshot_in_queue_order_and_in_the_counts() {
        let base = Arc::new(Snapshot::of(vec![
            r("a", 1.0, "x"),
            r("b", 2.0, "x"),
            r("c", 3.0, "y"),
        ]));
        let delta = Delta::default().with(
            &base,
            vec![
                ("b".into(), None),                   // decided
                ("n".into(), Some(r("n", 0.5, "y"))), // a new order, most urgent
                ("c".into(), Some(r("c", 1.5, "x"))), // moved up and relisted
            ],
            "1-0".into(),
            OffsetDateTime::UNIX_EPOCH,
        );
        let view = View {
            base,
            delta: Arc::new(delta),
        };
        let ids: Vec<&str> = view.rows().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["n", "a", "c"]);
        let lists = &view.facets()["list"];
        assert_eq!(lists.get("x"), Some(&2)); // a, c
        assert_eq!(lists.get("y"), Some(&1)); // n
        assert_eq!(view.facets()["status"].get("queued"), Some(&3));
        assert!(view.row("b").is_none());
        assert_eq!(view.row("c").map(|r| r.score), Some(1.5));
        assert_eq!(view.row("a").map(|r| r.score), Some(1.0));
    }

    #[test]
    fn a_filter_finds_through_the_postings_what_a_pass_over_every_row_finds() {
        // 60 rows over 3 lists, 2 labels, 3 statuses, some breached, some from orders.
        let rows: Vec<Row> = (0..60)
            .map(|i| {
                let mut row = r(&format!("c{i}"), i as f64, ["x", "y", "z"][i % 3]);
                row.labels = vec![["l1", "l2"][i % 2].to_string()];
                row.status = [Status::Queued, Status::Escalated, Status::Claimed][i % 5 % 3];
                row.breached = i % 7 == 0;
                if i % 4 == 0 {
                    row.source = "removal_order";
                }
                row
            })
            .collect();
        let base = Arc::new(Snapshot::of(rows));
        let mut moved = r("c10", 0.5, "y");
        moved.labels = vec!["l2".into()];
        let delta = Delta::default().with(
            &base,
            vec![
                ("c3".into(), None),
                ("c10".into(), Some(moved)),
                ("n1".into(), Some(r("n1", 20.5, "x"))),
                ("n2".into(), Some(r("n2", -1.0, "z"))),
            ],
            "1-0".into(),
            OffsetDateTime::UNIX_EPOCH,
        );
        let view = View {
            base,
            delta: Arc::new(delta),
        };
        let filter = |source: &str, list: &str, label: &str, status: &str| Filter {
            source: source.into(),
            list: list.into(),
            label: label.into(),
            status: status.into(),
            ..Filter::default()
        };
        let filters = [
            filter("", "x", "", "all"),
            filter("", "x", "", ""),
            filter("", "y", "l2", ""),
            filter("", "", "l1", "breached"),
            filter("removal_order", "", "", ""),
            filter("", "z", "", "claimed"),
            filter("", "", "", "escalated"),
            filter("", "", "", "breached"),
            filter("", "nowhere", "", ""),
            filter("", "", "", "no-such-status"),
        ];
        for f in &filters {
            let all: Vec<&str> = view
                .rows()
                .filter(|r| f.matches(r))
                .map(|r| r.id.as_str())
                .collect();
            for limit in [0, 3, 100] {
                let (page, n) = view.filtered(f, limit, |_| true);
                let ids: Vec<&str> = page.iter().map(|r| r.id.as_str()).collect();
                assert_eq!(n, all.len(), "{f:?}");
                assert_eq!(ids, all[..limit.min(all.len())], "{f:?} limit {limit}");
            }
        }
        // A further check (the urgency, in the queue) narrows both sides.
        let even = |r: &Row| r.id.ends_with(['0', '2', '4', '6', '8']);
        let (page, n) = view.filtered(&filter("", "x", "", "all"), 100, even);
        let all: Vec<&str> = view
            .rows()
            .filter(|r| r.lists.contains(&"x".to_string()) && even(r))
            .map(|r| r.id.as_str())
            .collect();
        assert_eq!(page.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), all);
        assert_eq!(n, all.len());
        // The moved and the new rows are found where they now stand.
        let (page, _) = view.filtered(&filter("", "y", "l2", ""), 1, |_| true);
        assert_eq!(page[0].id, "c10");
        let (page, n) = view.filtered(&filter("", "z", "", ""), 1, |_| true);
        assert_eq!(page[0].id, "n2");
        assert!(n > 1);
    }

    #[test]
    fn a_deadline_passed_counts_as_breached_before_the_sweeper_marks_it() {
        let now = OffsetDateTime::UNIX_EPOCH + time::Duration::hours(2);
        let mut due = r("d", 1.0, "x");
        due.due_at = Some(now);
        let mut later = r("l", 2.0, "x");
        later.due_at = Some(now + time::Duration::seconds(1));
        let mut marked = r("m", 3.0, "x");
        marked.breached = true;
        // Marked by the sweeper and past its deadline: counted once.
        marked.due_at = Some(now - time::Duration::minutes(5));
        let base = Arc::new(Snapshot::of(vec![due, later.clone(), marked]));
        let view = View {
            base: base.clone(),
            delta: Arc::new(Delta::default()),
        };
        assert_eq!(view.breached_at(now), 2);
        assert_eq!(view.breached_at(now + time::Duration::seconds(1)), 3);
        assert_eq!(view.breached_at(now - time::Duration::seconds(1)), 1);
        // "d" decided, "l" now due earlier, a new breached order "n".
        let mut moved = later;
        moved.due_at = Some(now - time::Duration::seconds(1));
        let mut new = r("n", 0.5, "y");
        new.due_at = Some(now - time::Duration::hours(1));
        let delta = Delta::default().with(
            &base,
            vec![
                ("d".into(), None),
                ("l".into(), Some(moved)),
                ("n".into(), Some(new)),
            ],
            "1-0".into(),
            now,
        );
        let view = View {
            base,
            delta: Arc::new(delta),
        };
        assert_eq!(view.breached_at(now), 3); // l, m, n
        assert_eq!(
            view.breached_at(now),
            view.rows()
                .filter(|r| r.breached || r.due_at.is_some_and(|d| d <= now))
                .count()
        );
    }
}
