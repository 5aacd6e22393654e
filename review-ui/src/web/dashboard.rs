//! The SLA dashboard: open cases by urgency (coloured and linked exactly as the queue shows
//! them), time to action against the deadline targets, the trend of decisions over 24 h / 7 d /
//! 30 d, decisions and handling time per moderator, and each list's precision as reviewers
//! judged it. Every chart is SVG drawn here ([`super::charts`]), with no external asset.
//!
//! It exists because a supervisor's question is "are we meeting the deadlines, and where
//! not": every number must agree with the queue a moderator sees (the same urgency rule,
//! [`super::view::urgency`], through [`urgency_of`]) and lead to the cases behind it.
//!
//! What it reads is bounded: the snapshot of open cases the queue already keeps, the audit
//! trail newest first back to the start of the chosen range but never more than [`SCAN_MAX`]
//! entries, and at most [`DOCS_MAX`] decided cases' documents. The page says when a bound cut
//! the range short.

use super::auth::Session;
use super::charts::{Column, LinkBar, columns, link_bars};
use super::chrome::{CURATORS, Chrome, SUPERVISORS};
use super::dashboard_scope::Scope;
use super::snapshot::{decode, source_name};
use super::state::{AppState, WebError};
use super::view::{countdown, ms, urgency_of};
use super::words;
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use std::collections::{BTreeMap, HashMap};
use takedown_review::audit::AuditEntry;
use takedown_review::model::{Case, MatchRecord, Outcome};
use time::Duration;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/supervisor/sla", get(sla))
}

/// Audit entries read at most per view of the dashboard.
pub(crate) const SCAN_MAX: usize = 50_000;
/// Decided cases whose documents are read at most per view.
pub(crate) const DOCS_MAX: usize = 5_000;

/// The urgency classes in the queue's order: the chart's label and what each means.
const URGENCIES: [(&str, &str, &str); 5] = [
    ("breached", "Breached", "Breached (past the deadline)"),
    (
        "critical",
        "Critical",
        "Critical (under ¼ of the period left)",
    ),
    ("warn", "Warning", "Warning (under ½ left)"),
    ("ok", "On track", "On track (½ or more left)"),
    ("suspended", "Suspended", "Clock suspended"),
];

/// The trend's range: its name, its span and the width of one column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Range {
    pub name: &'static str,
    pub span: Duration,
    pub step: Duration,
}

/// The ranges offered.
pub(crate) const RANGES: [Range; 3] = [
    Range {
        name: "24h",
        span: Duration::hours(24),
        step: Duration::hours(1),
    },
    Range {
        name: "7d",
        span: Duration::days(7),
        step: Duration::hours(6),
    },
    Range {
        name: "30d",
        span: Duration::days(30),
        step: Duration::days(1),
    },
];

impl Range {
    /// The range named `name`; 24 h for anything else.
    pub fn parse(name: Option<&str>) -> Range {
        RANGES
            .into_iter()
            .find(|r| Some(r.name) == name)
            .unwrap_or(RANGES[0])
    }

    fn columns(&self) -> usize {
        (self.span.whole_seconds() / self.step.whole_seconds()) as usize
    }
}

/// A decision as the audit trail recorded it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Decided {
    pub case: String,
    pub actor: String,
    pub at_ms: i64,
    pub in_time: Option<bool>,
}

/// What one pass over the audit trail (newest first) found within the range.
#[derive(Debug, Default)]
pub(crate) struct Scan {
    pub decisions: Vec<Decided>,
    /// Moderator → claim-to-decision times of their decisions, in ms.
    pub handling: BTreeMap<String, Vec<i64>>,
    /// The case of each of those times, in the same order.
    pub handled: BTreeMap<String, Vec<String>>,
    /// Entries read.
    pub read: usize,
    /// Whether the pass reached the start of the range (or the start of the trail).
    pub complete: bool,
}

impl Scan {
    /// Takes in `page` (entries newest first). Returns false once an entry before `since_ms`
    /// was seen: the rest is outside the range. A decision is paired with the latest earlier
    /// claim of the same case by the same moderator.
    pub fn take(
        &mut self,
        page: &[AuditEntry],
        since_ms: i64,
        pending: &mut HashMap<(String, String), Vec<i64>>,
    ) -> bool {
        for e in page {
            self.read += 1;
            let f = |k: &str| {
                e.fields
                    .iter()
                    .find(|(key, _)| key == k)
                    .map_or("", |(_, v)| v.as_str())
            };
            let Ok(at) = f("at").parse::<i64>() else {
                continue;
            };
            if at < since_ms {
                self.complete = true;
                return false;
            }
            let key = (f("subject").to_string(), f("actor").to_string());
            match f("action") {
                "case.decided" => {
                    let in_time = serde_json::from_str::<serde_json::Value>(f("after"))
                        .ok()
                        .and_then(|v| v["in_time"].as_bool());
                    self.decisions.push(Decided {
                        case: key.0.clone(),
                        actor: key.1.clone(),
                        at_ms: at,
                        in_time,
                    });
                    pending.entry(key).or_default().push(at);
                }
                "case.claimed" => {
                    if let Some(decided) = pending.remove(&key) {
                        let cases = self.handled.entry(key.1.clone()).or_default();
                        cases.extend(decided.iter().map(|_| key.0.clone()));
                        let times = self.handling.entry(key.1).or_default();
                        times.extend(decided.into_iter().map(|d| d - at));
                    }
                }
                _ => {}
            }
        }
        true
    }
}

impl Scan {
    /// Keeps only the decisions (and handling times) of the cases `keep` accepts.
    pub fn retain(&mut self, keep: impl Fn(&str) -> bool) {
        self.decisions.retain(|d| keep(&d.case));
        for (actor, cases) in self.handled.iter_mut() {
            let times = self.handling.entry(actor.clone()).or_default();
            let kept: Vec<(String, i64)> = cases
                .drain(..)
                .zip(times.drain(..))
                .filter(|(c, _)| keep(c))
                .collect();
            for (c, t) in kept {
                cases.push(c);
                times.push(t);
            }
        }
        self.handling.retain(|_, t| !t.is_empty());
        self.handled.retain(|_, c| !c.is_empty());
    }
}

/// The median of `values` (the upper one of an even count); `None` when empty.
fn median(values: &mut [i64]) -> Option<i64> {
    values.sort_unstable();
    values.get(values.len() / 2).copied()
}

/// The trend: one column per step of the range, oldest first, decisions in time (ok) under
/// late ones (breached).
pub(crate) fn trend(decisions: &[Decided], range: Range, now_ms: i64) -> Vec<(i64, u64, u64)> {
    let n = range.columns();
    let step = range.step.whole_milliseconds() as i64;
    let start = now_ms - range.span.whole_milliseconds() as i64;
    let mut cols: Vec<(i64, u64, u64)> = (0..n).map(|i| (start + step * i as i64, 0, 0)).collect();
    for d in decisions {
        if d.at_ms < start || d.at_ms > now_ms {
            continue;
        }
        let i = (((d.at_ms - start) / step) as usize).min(n - 1);
        match d.in_time {
            Some(false) => cols[i].2 += 1,
            _ => cols[i].1 += 1,
        }
    }
    cols
}

/// Per list: (true positives, false positives) of the final decisions on its matches.
pub(crate) fn precision(cases: &[(Case, Vec<String>)]) -> BTreeMap<String, (u64, u64)> {
    let mut out: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for (case, lists) in cases {
        let Some(d) = &case.decision else { continue };
        let tp = match d.input.outcome {
            Outcome::Remove | Outcome::Disable { .. } => true,
            Outcome::NotTerroristContent { .. } => false,
            _ => continue,
        };
        for l in lists {
            let e = out.entry(l.clone()).or_default();
            if tp {
                e.0 += 1;
            } else {
                e.1 += 1;
            }
        }
    }
    out
}

/// One moderator's line: decisions, median handling time (claim to decision).
pub(crate) struct ModeratorRow {
    pub name: String,
    pub decisions: usize,
    pub median_handling: String,
}

#[derive(Template)]
#[template(path = "sla.html")]
struct SlaPage {
    chrome: Chrome,
    /// (name, words, whether shown now).
    ranges: Vec<(&'static str, &'static str, bool)>,
    /// The range shown.
    range: &'static str,
    /// `&queue=…` of the chosen queue (empty for all), for every link of the page.
    queue_query: String,
    /// The queues the viewer may see: (name, title, chosen).
    queues: Vec<(String, String, bool)>,
    /// The chosen queue's title (empty for all).
    queue_title: String,
    open: usize,
    breached: u64,
    by_urgency: String,
    urgency_rows: Vec<(String, u64, String, &'static str)>,
    by_source: String,
    decided_cases: usize,
    trend: String,
    decisions: usize,
    late: u64,
    moderators: Vec<ModeratorRow>,
    by_moderator: String,
    precision: String,
    precision_rows: Vec<(String, u64, u64, String)>,
    qa_agreement: Option<String>,
    scanned: usize,
    complete: bool,
    taken_at: String,
    build_ms: u128,
}

/// QA agreement per moderator and per list (issue 18 part 3: the share of sampled decisions a
/// blind second reviewer agreed with), drawn for the dashboard from the QA store's counts,
/// which run since QA began (not by the chosen range). `None` before any second review.
async fn qa_agreement(state: &AppState) -> Result<Option<String>, WebError> {
    let qa = state.store.qa_agreement().await?;
    let bars = |of: &[takedown_review::qa::Agreement]| -> Vec<LinkBar> {
        of.iter()
            .filter_map(|a| {
                let rate = a.rate()?;
                Some(LinkBar {
                    label: a.key.clone(),
                    value: rate,
                    text: format!("{:.1} % of {} reviewed", rate * 100.0, a.reviewed),
                    class: qa_class(rate),
                    href: None,
                    target: None,
                })
            })
            .collect()
    };
    let (moderators, lists) = (bars(&qa.moderators), bars(&qa.lists));
    if moderators.is_empty() && lists.is_empty() {
        return Ok(None);
    }
    Ok(Some(format!(
        "{}{}",
        link_bars(
            "QA agreement per moderator (all time)",
            &moderators,
            Some(1.0)
        ),
        link_bars("QA agreement per list (all time)", &lists, Some(1.0))
    )))
}

/// The colour of an agreement rate: at least 90 % fine, at least 75 % worth a look, below
/// that a problem.
fn qa_class(rate: f64) -> &'static str {
    if rate >= 0.9 {
        "ok"
    } else if rate >= 0.75 {
        "warn"
    } else {
        "critical"
    }
}

async fn sla(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, WebError> {
    session.require(SUPERVISORS)?;
    let range = Range::parse(q.get("range").map(String::as_str));
    let store = &state.store;
    let scope = Scope::of(&state, &session, q.get("queue").map(String::as_str)).await?;
    let snap = state.snapshot.get(store).await?;
    let now = store.clock().now();
    let now_ms = ms(now);

    // Open cases by urgency, by the queue's own rule; each bar opens exactly those cases
    // (the viewer's, of the chosen queue).
    let mut counts = [0u64; URGENCIES.len()];
    let mut open = 0usize;
    let mut breached = 0u64;
    for r in snap.rows().filter(|r| scope.filter.matches(r)) {
        open += 1;
        if r.breached || r.due_at.is_some_and(|d| d <= now) {
            breached += 1;
        }
        let u = urgency_of(r, now);
        if let Some(i) = URGENCIES.iter().position(|(k, _, _)| *k == u) {
            counts[i] += 1;
        }
    }
    let urgency_rows: Vec<(String, u64, String, &'static str)> = URGENCIES
        .iter()
        .zip(counts)
        .map(|((class, _, label), n)| {
            (
                label.to_string(),
                n,
                format!("/queue?urgency={class}&status=all{}", scope.query()),
                *class,
            )
        })
        .collect();
    let urgency_bars: Vec<LinkBar> = urgency_rows
        .iter()
        .zip(URGENCIES)
        .map(|((_, n, href, class), (_, short, _))| LinkBar {
            label: short.to_string(),
            value: *n as f64,
            text: format!("{n} case{}", if *n == 1 { "" } else { "s" }),
            class,
            href: Some(href.clone()),
            target: None,
        })
        .collect();

    // The audit trail, newest first, back to the start of the range.
    let since_ms = now_ms - range.span.whole_milliseconds() as i64;
    let mut scan = Scan::default();
    let mut pending = HashMap::new();
    let mut before: Option<String> = None;
    while scan.read < SCAN_MAX {
        let page = takedown_review::audit::read_back(
            store,
            before.as_deref(),
            1000.min(SCAN_MAX - scan.read),
        )
        .await?;
        let Some(last) = page.last() else {
            scan.complete = true;
            break;
        };
        before = Some(last.id.clone());
        if !scan.take(&page, since_ms, &mut pending) {
            break;
        }
    }

    // Only the decisions of the chosen queue's cases (and of queues the viewer may see).
    let decided_cases = scan.decisions.iter().map(|d| d.case.as_str());
    if let Some(keep) = scope.decided(store, decided_cases).await? {
        scan.retain(|c| keep.contains(c));
    }

    // The decided cases' documents and lists (time to action, precision).
    let mut subjects: Vec<&str> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for d in &scan.decisions {
        if subjects.len() >= DOCS_MAX {
            break;
        }
        if seen.insert(d.case.as_str()) {
            subjects.push(&d.case);
        }
    }
    let mut cases: Vec<(Case, Vec<String>)> = Vec::new();
    for chunk in subjects.chunks(500) {
        let mut pipe = redis::pipe();
        for id in chunk {
            pipe.hget(store.key(&format!("case:{id}")), "doc").lrange(
                store.key(&format!("case:{id}:matches")),
                0,
                -1,
            );
        }
        let replies: Vec<redis::Value> = pipe.query_async(&mut store.connection()).await?;
        for pair in replies.chunks(2) {
            let doc: Option<String> = decode(&pair[0])?;
            let matches: Vec<String> = decode(&pair[1])?;
            let Some(doc) = doc else { continue };
            let case: Case = serde_json::from_str(&doc)?;
            let mut lists: Vec<String> = Vec::new();
            for m in &matches {
                let m: MatchRecord = serde_json::from_str(m)?;
                if !lists.contains(&m.list_id) {
                    lists.push(m.list_id);
                }
            }
            cases.push((case, lists));
        }
    }

    // Median time to action by source, with the deadline target of that source's cases.
    let mut by_source: BTreeMap<&'static str, (Vec<i64>, Vec<i64>)> = BTreeMap::new();
    for (case, _) in &cases {
        if let Some(d) = &case.decision
            && ms(d.decided_at) >= since_ms
        {
            let e = by_source.entry(source_name(case)).or_default();
            e.0.push((d.decided_at - case.sla.received_at).whole_seconds());
            e.1.push(case.sla.period.whole_seconds());
        }
    }
    let source_bars: Vec<LinkBar> = by_source
        .into_iter()
        .filter_map(|(source, (mut took, mut periods))| {
            let n = took.len();
            let m = median(&mut took)?;
            let target = median(&mut periods)?;
            Some(LinkBar {
                label: format!("{} ({n})", words::source(source)),
                value: m as f64,
                text: format!(
                    "{} (target {})",
                    countdown(Duration::seconds(m)),
                    countdown(Duration::seconds(target))
                ),
                class: super::view::urgency(
                    Duration::seconds(target - m),
                    Duration::seconds(target),
                ),
                href: None,
                target: Some(target as f64),
            })
        })
        .collect();

    // The trend.
    let cols = trend(&scan.decisions, range, now_ms);
    let late = cols.iter().map(|c| c.2).sum();
    let fmt = match range.step < Duration::days(1) {
        true => time::macros::format_description!("[day]/[month] [hour]h"),
        false => time::macros::format_description!("[day]/[month]"),
    };
    let trend_cols: Vec<Column> = cols
        .iter()
        .map(|(at, ok, late)| Column {
            label: time::OffsetDateTime::from_unix_timestamp(at / 1000)
                .ok()
                .and_then(|t| t.format(&fmt).ok())
                .unwrap_or_default(),
            parts: vec![(*ok as f64, "ok"), (*late as f64, "breached")],
        })
        .collect();

    // Per moderator.
    let mut per: BTreeMap<&str, usize> = BTreeMap::new();
    for d in &scan.decisions {
        *per.entry(d.actor.as_str()).or_default() += 1;
    }
    let mut handling = scan.handling.clone();
    let mut moderators = Vec::new();
    let mut moderator_bars = Vec::new();
    for (name, n) in per {
        let m = handling.get_mut(name).and_then(|t| median(t));
        moderators.push(ModeratorRow {
            name: name.to_string(),
            decisions: n,
            median_handling: m.map_or("–".into(), |m| countdown(Duration::milliseconds(m))),
        });
        moderator_bars.push(LinkBar {
            label: name.to_string(),
            value: m.unwrap_or(0) as f64 / 1000.0,
            text: format!(
                "{n} decision{}, median {}",
                if n == 1 { "" } else { "s" },
                m.map_or("–".into(), |m| countdown(Duration::milliseconds(m)))
            ),
            class: "ok",
            href: None,
            target: None,
        });
    }

    // Per-list precision.
    let curate = state.cfg.lists.is_some() && session.can(CURATORS);
    let prec = precision(&cases);
    let precision_rows: Vec<(String, u64, u64, String)> = prec
        .iter()
        .map(|(l, (tp, fp))| {
            let pct = (*tp as f64 * 100.0 / (*tp + *fp).max(1) as f64).round();
            (l.clone(), *tp, *fp, format!("{pct:.0}%"))
        })
        .collect();
    let precision_bars: Vec<LinkBar> = precision_rows
        .iter()
        .map(|(l, tp, fp, pct)| LinkBar {
            label: l.clone(),
            value: *tp as f64 / (*tp + *fp).max(1) as f64,
            text: format!("{pct} ({tp} of {})", tp + fp),
            class: "ok",
            // Curators open the list's entries from here.
            href: curate.then(|| {
                let q: String = form_urlencoded::byte_serialize(l.as_bytes()).collect();
                format!("/supervisor/lists?search=1&list={q}")
            }),
            target: None,
        })
        .collect();

    let page = SlaPage {
        chrome: Chrome::of(&session, &state),
        ranges: RANGES
            .iter()
            .zip(["24 hours", "7 days", "30 days"])
            .map(|(r, words)| (r.name, words, *r == range))
            .collect(),
        range: range.name,
        queue_query: scope.query(),
        queues: scope.options(),
        queue_title: scope.title(),
        open,
        breached,
        by_urgency: link_bars("Open cases by urgency", &urgency_bars, None),
        urgency_rows,
        by_source: link_bars("Median time to action by source", &source_bars, None),
        decided_cases: cases.len(),
        trend: columns("Decisions in time and late", &trend_cols),
        decisions: scan.decisions.len(),
        late,
        moderators,
        by_moderator: link_bars("Median handling time per moderator", &moderator_bars, None),
        precision: link_bars("Precision per list", &precision_bars, Some(1.0)),
        precision_rows,
        qa_agreement: qa_agreement(&state).await?,
        scanned: scan.read,
        complete: scan.complete,
        taken_at: snap
            .delta
            .read_at
            .unwrap_or(snap.base.taken_at)
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        build_ms: snap.base.build_time.as_millis(),
    };
    Ok(Html(page.render()?).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qa_rates_are_coloured_at_ninety_and_seventy_five_percent() {
        assert_eq!(qa_class(1.0), "ok");
        assert_eq!(qa_class(0.9), "ok");
        assert_eq!(qa_class(0.89), "warn");
        assert_eq!(qa_class(0.75), "warn");
        assert_eq!(qa_class(0.74), "critical");
        assert_eq!(qa_class(0.0), "critical");
    }

    fn entry(action: &str, subject: &str, actor: &str, at: i64, after: &str) -> AuditEntry {
        AuditEntry {
            id: format!("{at}-0"),
            fields: vec![
                ("subject".into(), subject.into()),
                ("actor".into(), actor.into()),
                ("at".into(), at.to_string()),
                ("action".into(), action.into()),
                ("after".into(), after.into()),
            ],
        }
    }

    #[test]
    fn retaining_cases_drops_their_decisions_and_handling_times_together() {
        let page = [
            entry("case.decided", "c2", "ana", 9_000, "{}"),
            entry("case.decided", "c1", "ana", 8_000, "{}"),
            entry("case.claimed", "c2", "ana", 6_000, "{}"),
            entry("case.claimed", "c1", "ana", 5_000, "{}"),
            entry("case.decided", "c3", "ben", 4_000, "{}"),
            entry("case.claimed", "c3", "ben", 1_000, "{}"),
        ];
        let mut scan = Scan::default();
        scan.take(&page, 0, &mut HashMap::new());
        assert_eq!(scan.handling["ana"], vec![3_000, 3_000]);
        scan.retain(|c| c == "c1");
        let cases: Vec<&str> = scan.decisions.iter().map(|d| d.case.as_str()).collect();
        assert_eq!(cases, ["c1"]);
        // ana's c1 took 8 s − 5 s; ben, with no kept case, is gone.
        assert_eq!(scan.handling["ana"], vec![3_000]);
        assert_eq!(scan.handled["ana"], vec!["c1".to_string()]);
        assert!(!scan.handling.contains_key("ben"));
    }

    #[test]
    fn decisions_pair_with_the_deciders_own_latest_claim() {
        // Newest first, as XREVRANGE reads them.
        let page = [
            entry("case.decided", "c1", "ana", 10_000, r#"{"in_time":false}"#),
            entry("case.claimed", "c1", "ana", 7_000, "{}"),
            entry("case.claimed", "c1", "ben", 6_000, "{}"),
            entry("case.decided", "c2", "ben", 5_000, r#"{"in_time":true}"#),
            entry("case.claimed", "c1", "ana", 4_000, "{}"),
            entry("case.claimed", "c2", "ben", 2_000, "{}"),
            entry("case.claimed", "c3", "ben", 500, "{}"),
        ];
        let mut scan = Scan::default();
        let mut pending = HashMap::new();
        assert!(!scan.take(&page, 1_000, &mut pending));
        assert!(scan.complete);
        assert_eq!(scan.read, 7);
        assert_eq!(scan.decisions.len(), 2);
        assert_eq!(scan.decisions[0].in_time, Some(false));
        // ana: decided at 10 s, her latest claim at 7 s; ben: 5 s − 2 s.
        assert_eq!(scan.handling["ana"], vec![3_000]);
        assert_eq!(scan.handling["ben"], vec![3_000]);
        let mut more = Scan::default();
        assert!(more.take(&page[..2], 0, &mut HashMap::new()));
        assert!(!more.complete);
    }

    #[test]
    fn the_trend_puts_each_decision_in_its_column() {
        let range = Range::parse(Some("24h"));
        assert_eq!(range.columns(), 24);
        assert_eq!(Range::parse(Some("7d")).columns(), 28);
        assert_eq!(Range::parse(Some("30d")).columns(), 30);
        assert_eq!(Range::parse(Some("1y")), range);
        let now = 100 * 3_600_000;
        let d = |h_ago: f64, in_time| Decided {
            case: "c".into(),
            actor: "a".into(),
            at_ms: now - (h_ago * 3_600_000.0) as i64,
            in_time,
        };
        let cols = trend(
            &[
                d(0.0, Some(true)),
                d(0.5, Some(false)),
                d(23.5, Some(true)),
                d(25.0, Some(true)),
            ],
            range,
            now,
        );
        assert_eq!(cols.len(), 24);
        assert_eq!((cols[23].1, cols[23].2), (1, 1));
        assert_eq!((cols[0].1, cols[0].2), (1, 0));
        assert_eq!(cols.iter().map(|c| c.1 + c.2).sum::<u64>(), 3);
        assert_eq!(cols[0].0, now - 24 * 3_600_000);
    }

    #[test]
    fn urgency_follows_the_queue_colouring_rule() {
        use super::super::snapshot::{Row, Status};
        let now = time::OffsetDateTime::UNIX_EPOCH + Duration::days(1);
        let row = |left_min: Option<i64>, period_h: i64| Row {
            id: "x".into(),
            score: 0.0,
            status: Status::Claimed,
            source: "removal_order",
            lists: vec![],
            labels: vec![],
            jurisdiction: None,
            due_at: left_min.map(|m| now + Duration::minutes(m)),
            period: Duration::hours(period_h),
            breached: false,
            queue: None,
        };
        // 40 min left of a 1 h order is green, as in the queue (the old chart drew every
        // order under an hour red); 20 min amber; 10 min red; none left breached.
        assert_eq!(urgency_of(&row(Some(40), 1), now), "ok");
        assert_eq!(urgency_of(&row(Some(20), 1), now), "warn");
        assert_eq!(urgency_of(&row(Some(10), 1), now), "critical");
        assert_eq!(urgency_of(&row(Some(0), 1), now), "breached");
        // 5 h left of 24 h is red: under a quarter of its period.
        assert_eq!(urgency_of(&row(Some(5 * 60), 24), now), "critical");
        assert_eq!(urgency_of(&row(None, 1), now), "suspended");
    }

    #[test]
    fn medians_take_the_upper_middle() {
        assert_eq!(median(&mut [5, 1, 3]), Some(3));
        assert_eq!(median(&mut [4, 1, 3, 2]), Some(3));
        assert_eq!(median(&mut []), None);
    }
}
