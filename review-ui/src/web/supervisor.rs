//! Supervisor, auditor, curator and admin pages: the SLA dashboard (drawn on the server as
//! SVG), the audit log browser, hash-list entries (disable, reviewer feedback) and the list
//! of accounts.
//!
//! They are separate from the moderator's pages because they answer other questions (are we
//! meeting the deadlines, who did what, which list entry misfires) for other roles, each
//! checked on every request.

use super::auth::{Session, accounts, field, form_pairs, role_name};
use super::chrome::{AUDITORS, CURATORS, Chrome, SUPERVISORS};
use super::state::{AppState, WebError};
use super::view::{Bar, bar_chart, countdown};
use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use std::collections::{BTreeMap, HashMap};
use takedown_hashlists::ListId;
use takedown_hashlists::store::Verdict;
use takedown_review::audit;
use takedown_review::model::Case;
use time::Duration;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/supervisor/sla", get(sla))
        .route("/supervisor/audit", get(audit_log))
        .route("/supervisor/lists", get(list_entry))
        .route("/supervisor/lists/disable", post(disable))
        .route("/supervisor/lists/feedback", post(feedback))
        .route("/admin/users", get(users))
}

#[derive(Template)]
#[template(path = "sla.html")]
struct SlaPage {
    chrome: Chrome,
    open: usize,
    breached: u64,
    by_time_left: String,
    by_source: String,
    decided_seen: usize,
    taken_at: String,
    build_ms: u128,
}

/// Buckets of time left, most urgent first.
const BUCKETS: [(&str, i64); 6] = [
    ("breached", 0),
    ("< 15 min", 15 * 60),
    ("< 1 h", 3600),
    ("< 6 h", 6 * 3600),
    ("< 24 h", 24 * 3600),
    ("≥ 24 h", i64::MAX),
];

/// The index in [`BUCKETS`] of a case with `left` seconds to its deadline: breached at or past
/// it, else the first bucket whose limit is above `left`.
fn bucket(left: i64) -> usize {
    BUCKETS
        .iter()
        .position(|(_, limit)| left < *limit || (*limit == 0 && left <= 0))
        .unwrap_or(BUCKETS.len() - 1)
}

/// Audit entries scanned for decisions when computing times to action.
const DECISION_WINDOW: usize = 20_000;

async fn sla(State(state): State<AppState>, session: Session) -> Result<Response, WebError> {
    session.require(SUPERVISORS)?;
    let store = &state.store;
    let snap = state.snapshot.get(store).await?;
    let now = store.clock().now();
    let mut counts = [0u64; BUCKETS.len()];
    for r in snap.rows() {
        let Some(due) = r.due_at else { continue };
        counts[bucket((due - now).whole_seconds())] += 1;
    }
    let class = ["breached", "critical", "critical", "warn", "ok", "ok"];
    let bars: Vec<Bar> = BUCKETS
        .iter()
        .zip(counts)
        .zip(class)
        .map(|(((label, _), n), class)| Bar {
            label: label.to_string(),
            value: n as f64,
            text: n.to_string(),
            class,
        })
        .collect();
    // Median time to action by source, over the decisions in the latest audit entries.
    let reply: redis::streams::StreamRangeReply = redis::cmd("XREVRANGE")
        .arg(store.key("audit"))
        .arg("+")
        .arg("-")
        .arg("COUNT")
        .arg(DECISION_WINDOW)
        .query_async(&mut store.connection())
        .await?;
    let mut decided: Vec<String> = Vec::new();
    for e in reply.ids {
        let action: Option<String> = e.get("action");
        if action.as_deref() == Some("case.decided")
            && let Some(subject) = e.get::<String>("subject")
            && !decided.contains(&subject)
        {
            decided.push(subject);
        }
    }
    let mut times: BTreeMap<&'static str, Vec<i64>> = BTreeMap::new();
    for chunk in decided.chunks(1000) {
        let mut pipe = redis::pipe();
        for id in chunk {
            pipe.hget(store.key(&format!("case:{id}")), "doc");
        }
        let docs: Vec<Option<String>> = pipe.query_async(&mut store.connection()).await?;
        for doc in docs.into_iter().flatten() {
            let case: Case = serde_json::from_str(&doc)?;
            if let Some(d) = &case.decision {
                times
                    .entry(super::snapshot::source_name(&case))
                    .or_default()
                    .push((d.decided_at - case.sla.received_at).whole_seconds());
            }
        }
    }
    let source_bars: Vec<Bar> = times
        .into_iter()
        .map(|(source, mut t)| {
            t.sort_unstable();
            let median = t[t.len() / 2];
            Bar {
                label: format!("{source} ({})", t.len()),
                value: median as f64,
                text: countdown(Duration::seconds(median)),
                class: "ok",
            }
        })
        .collect();
    let breached = snap.breached_at(now) as u64;
    let page = SlaPage {
        chrome: Chrome::of(&session, &state),
        open: snap.rows().count(),
        breached,
        by_time_left: bar_chart("Open cases by time left", &bars),
        by_source: bar_chart("Median time to action by source", &source_bars),
        decided_seen: decided.len(),
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

/// An audit entry as shown.
pub(crate) struct AuditRow {
    pub seq: String,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub after: String,
    pub cause: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    chrome: Chrome,
    rows: Vec<AuditRow>,
    subject: String,
    next: String,
}

async fn audit_log(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, WebError> {
    session.require(AUDITORS)?;
    let store = &state.store;
    let subject = q.get("subject").cloned().unwrap_or_default();
    let after = q.get("after").cloned();
    let entries = if subject.is_empty() {
        audit::read(store, after.as_deref(), 100).await?
    } else {
        audit::for_subject(store, &subject, 500).await?
    };
    let next = if subject.is_empty() && entries.len() == 100 {
        entries.last().map(|e| e.id.clone()).unwrap_or_default()
    } else {
        String::new()
    };
    let rows = entries
        .into_iter()
        .map(|e| {
            let f = |k: &str| {
                e.fields
                    .iter()
                    .find(|(key, _)| key == k)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default()
            };
            let at = f("at")
                .parse::<i64>()
                .ok()
                .and_then(|ms| {
                    time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000).ok()
                })
                .and_then(|t| {
                    t.format(&time::format_description::well_known::Rfc3339)
                        .ok()
                })
                .unwrap_or_default();
            AuditRow {
                seq: f("seq"),
                actor: f("actor"),
                action: f("action"),
                subject: f("subject"),
                after: f("after"),
                cause: f("cause"),
                at,
            }
        })
        .collect();
    let page = AuditPage {
        chrome: Chrome::of(&session, &state),
        rows,
        subject,
        next,
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Template)]
#[template(path = "lists.html")]
struct ListsPage {
    chrome: Chrome,
    lists: Vec<String>,
    list: String,
    key: String,
    entry: Option<EntryView>,
    message: String,
}

/// A list entry as shown.
pub(crate) struct EntryView {
    pub value: String,
    pub labels: String,
    pub disabled: String,
    pub true_positives: u64,
    pub false_positives: u64,
}

async fn list_entry(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, WebError> {
    session.require(CURATORS)?;
    let lists_store = state.cfg.lists.as_ref().ok_or(WebError::Forbidden)?;
    let list = q.get("list").cloned().unwrap_or_default();
    let key = q.get("key").cloned().unwrap_or_default();
    let mut entry = None;
    let mut message = q.get("done").cloned().unwrap_or_default();
    if !list.is_empty() && !key.is_empty() {
        let id = ListId::parse(&list).map_err(|e| WebError::BadRequest(e.0))?;
        match lists_store.entry(&id, &key).await? {
            Some(e) => {
                let fb = lists_store.feedback(&id, &key).await?;
                entry = Some(EntryView {
                    value: format!("{}:{}", e.signal_type, e.value),
                    labels: e.labels.join(", "),
                    disabled: e
                        .disabled
                        .map(|d| format!("disabled by {}: {}", d.actor, d.reason))
                        .unwrap_or_default(),
                    true_positives: fb.true_positives,
                    false_positives: fb.false_positives,
                });
            }
            None => message = format!("No entry {key} in {list}."),
        }
    }
    let page = ListsPage {
        chrome: Chrome::of(&session, &state),
        lists: lists_store
            .list_ids()
            .await?
            .into_iter()
            .map(|l| l.to_string())
            .collect(),
        list,
        key,
        entry,
        message,
    };
    Ok(Html(page.render()?).into_response())
}

fn entry_target(pairs: &[(String, String)]) -> Result<(ListId, String), WebError> {
    let list =
        ListId::parse(field(pairs, "list").unwrap_or("")).map_err(|e| WebError::BadRequest(e.0))?;
    let key = field(pairs, "key").unwrap_or("").trim().to_string();
    if key.is_empty() {
        return Err(WebError::BadRequest("name the entry".into()));
    }
    Ok((list, key))
}

fn back(list: &ListId, key: &str, done: &str) -> Response {
    let q = form_urlencoded::Serializer::new(String::new())
        .append_pair("list", &list.to_string())
        .append_pair("key", key)
        .append_pair("done", done)
        .finish();
    Redirect::to(&format!("/supervisor/lists?{q}")).into_response()
}

async fn disable(
    State(state): State<AppState>,
    session: Session,
    body: Bytes,
) -> Result<Response, WebError> {
    session.require(CURATORS)?;
    let pairs = form_pairs(&body);
    session.check_csrf(field(&pairs, "csrf"))?;
    let lists_store = state.cfg.lists.as_ref().ok_or(WebError::Forbidden)?;
    let (list, key) = entry_target(&pairs)?;
    let reason = field(&pairs, "reason").unwrap_or("").trim().to_string();
    if reason.is_empty() {
        return Err(WebError::BadRequest("say why the entry is disabled".into()));
    }
    let version = lists_store
        .disable(&list, &key, &reason, &session.name, None)
        .await?;
    state
        .ops
        .audit(
            &state.store,
            &format!("{list}/{key}"),
            &session.name,
            "list.entry_disabled",
            &serde_json::json!({ "version": version }).to_string(),
            &reason,
        )
        .await?;
    Ok(back(
        &list,
        &key,
        &format!("Disabled in version {version}."),
    ))
}

async fn feedback(
    State(state): State<AppState>,
    session: Session,
    body: Bytes,
) -> Result<Response, WebError> {
    session.require(CURATORS)?;
    let pairs = form_pairs(&body);
    session.check_csrf(field(&pairs, "csrf"))?;
    let lists_store = state.cfg.lists.as_ref().ok_or(WebError::Forbidden)?;
    let (list, key) = entry_target(&pairs)?;
    let verdict = match field(&pairs, "verdict") {
        Some("true_positive") => Verdict::TruePositive,
        Some("false_positive") => Verdict::FalsePositive,
        _ => {
            return Err(WebError::BadRequest(
                "verdict is true_positive or false_positive".into(),
            ));
        }
    };
    lists_store.record_feedback(&list, &key, verdict).await?;
    state
        .ops
        .audit(
            &state.store,
            &format!("{list}/{key}"),
            &session.name,
            "list.feedback",
            &serde_json::json!({ "verdict": field(&pairs, "verdict") }).to_string(),
            "",
        )
        .await?;
    Ok(back(&list, &key, "Feedback recorded."))
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    chrome: Chrome,
    users: Vec<(String, &'static str)>,
}

async fn users(State(state): State<AppState>, session: Session) -> Result<Response, WebError> {
    session.require(&[])?;
    let page = UsersPage {
        chrome: Chrome::of(&session, &state),
        users: accounts(&state.store)
            .await?
            .into_iter()
            .map(|(n, r)| (n, role_name(r)))
            .collect(),
    };
    Ok(Html(page.render()?).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_cover_every_time_left() {
        let label = |left: i64| BUCKETS[bucket(left)].0;
        for (left, want) in [
            (-5, "breached"),
            (0, "breached"),
            (1, "< 15 min"),
            (15 * 60 - 1, "< 15 min"),
            (15 * 60, "< 1 h"),
            (3599, "< 1 h"),
            (3600, "< 6 h"),
            (6 * 3600 - 1, "< 6 h"),
            (6 * 3600, "< 24 h"),
            (24 * 3600 - 1, "< 24 h"),
            (24 * 3600, "≥ 24 h"),
            (30 * 3600, "≥ 24 h"),
            (i64::MAX, "≥ 24 h"),
        ] {
            assert_eq!(label(left), want, "{left} s left");
        }
    }
}
