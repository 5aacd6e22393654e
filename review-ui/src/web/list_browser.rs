//! Hash-list entries for curators: search a list, or every list, by hash prefix and label a
//! page at a time, open one entry, disable it (it stops matching) or record reviewer
//! feedback on it.
//!
//! It exists so a curator can find the entry that misfires without pasting its exact key;
//! searching is bounded per request (see [`takedown_hashlists::store::EntryQuery`]): at most
//! [`PAGE`] results and about [`SCAN_BUDGET`] entries looked at, then a link to go on.

use super::auth::{Session, field, form_pairs};
use super::chrome::{CURATORS, Chrome};
use super::state::{AppState, WebError};
use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use std::collections::HashMap;
use takedown_hashlists::ListId;
use takedown_hashlists::store::{AllCursor, EntryQuery, Verdict};

/// Results on one page.
pub(crate) const PAGE: usize = 50;
/// Entries one page may look at.
pub(crate) const SCAN_BUDGET: u64 = 20_000;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/supervisor/lists", get(list_entry))
        .route("/supervisor/lists/disable", post(disable))
        .route("/supervisor/lists/feedback", post(feedback))
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
    /// The search: hash prefix, label, results, the cursor of the next page (0: no more).
    prefix: String,
    label: String,
    searched: bool,
    /// (list, entry key, labels, state).
    results: Vec<(String, String, String, String)>,
    /// Where the next page starts: the query's `cursor` (and `at`, the list to go on in,
    /// for a search of every list); empty when there is no more.
    next: String,
    scanned: u64,
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
    let prefix = q
        .get("prefix")
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    let label = q
        .get("label")
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    let searched = q.contains_key("search");
    let (mut results, mut next, mut scanned) = (Vec::new(), String::new(), 0);
    if searched {
        let cursor = match q.get("cursor").map(String::as_str) {
            None | Some("") => 0,
            Some(c) => c
                .parse()
                .map_err(|_| WebError::BadRequest("cursor: not a number".into()))?,
        };
        let query = EntryQuery {
            key_prefix: prefix.clone(),
            label: label.clone(),
        };
        let found: Vec<(String, takedown_hashlists::Entry)>;
        if list.is_empty() {
            // Every list, one after another by name.
            let at = match q.get("at").map(String::as_str) {
                None | Some("") => None,
                Some(a) => Some(ListId::parse(a).map_err(|e| WebError::BadRequest(e.0))?),
            };
            let from = AllCursor { list: at, cursor };
            let page = lists_store
                .search_all_lists(&query, &from, PAGE, SCAN_BUDGET)
                .await?;
            scanned = page.scanned;
            if let Some(n) = page.next {
                let at = n.list.map(|l| l.to_string()).unwrap_or_default();
                next = form_urlencoded::Serializer::new(String::new())
                    .append_pair("at", &at)
                    .append_pair("cursor", &n.cursor.to_string())
                    .finish();
            }
            found = (page.entries.into_iter())
                .map(|(l, e)| (l.to_string(), e))
                .collect();
        } else {
            let id = ListId::parse(&list).map_err(|e| WebError::BadRequest(e.0))?;
            let page = lists_store
                .search_entries(&id, &query, cursor, PAGE, SCAN_BUDGET)
                .await?;
            scanned = page.scanned;
            if page.cursor != 0 {
                next = format!("cursor={}", page.cursor);
            }
            found = page
                .entries
                .into_iter()
                .map(|e| (list.clone(), e))
                .collect();
        }
        results = found
            .into_iter()
            .map(|(l, e)| {
                let state = match &e.disabled {
                    Some(_) => "disabled",
                    None => "active",
                };
                (l, e.key(), e.labels.join(", "), state.to_string())
            })
            .collect();
    }
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
        prefix,
        label,
        searched,
        results,
        next,
        scanned,
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
