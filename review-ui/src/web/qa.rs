//! QA second reviews in the UI: the waiting tasks, a task's blind review (the case as the
//! first moderator saw it, never their outcome), and the agreement rates per moderator and
//! per list.
//!
//! Who may review is the QA queue's roles (`/admin/routing`), and the case's own queue must
//! be one the reviewer may see; the store refuses a review by the first decider.

use super::auth::{Session, field, form_pairs};
use super::chrome::{Chrome, READERS};
use super::state::{AppState, WebError};
use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use std::collections::HashMap;
use takedown_review::qa::{Agreement, Verdict};
use takedown_review::routing::QA;

/// At most this many waiting tasks are listed.
const LISTED: usize = 100;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/qa", get(list))
        .route("/qa/{id}", get(task).post(review))
}

/// Whether the session's role may do second reviews.
async fn may_review(state: &AppState, session: &Session) -> Result<bool, WebError> {
    Ok(state.store.routing().await?.may_see(Some(QA), session.role))
}

#[derive(Template)]
#[template(path = "qa.html")]
struct QaPage {
    chrome: Chrome,
    /// (task id, case id, lists)
    tasks: Vec<(String, String, String)>,
    moderators: Vec<Agreement>,
    lists: Vec<Agreement>,
    pending: u64,
    skipped: u64,
    flash: String,
}

async fn list(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, WebError> {
    session.require(READERS)?;
    let reviewer = may_review(&state, &session).await?;
    let mut tasks = Vec::new();
    if reviewer {
        for t in state.store.qa_pending(LISTED).await? {
            if t.first_by != session.name
                && state.store.may_see_case(&t.case_id, session.role).await?
            {
                tasks.push((t.id, t.case_id, t.lists.join(", ")));
            }
        }
    }
    let agreement = state.store.qa_agreement().await?;
    let flash = match q.get("reviewed").map(String::as_str) {
        Some("agreed") => "Second review recorded: it agrees with the first decision.",
        Some("disagreed") => "Second review recorded: it disagrees with the first decision.",
        _ => "",
    };
    Ok(Html(
        QaPage {
            chrome: Chrome::of(&session, &state),
            tasks,
            moderators: agreement.moderators,
            lists: agreement.lists,
            pending: agreement.pending,
            skipped: agreement.skipped,
            flash: flash.to_string(),
        }
        .render()?,
    )
    .into_response())
}

#[derive(Template)]
#[template(path = "qa_task.html")]
struct TaskPage {
    chrome: Chrome,
    id: String,
    case_id: String,
    source: &'static str,
    platform: String,
    post: String,
    url: String,
    /// (list, entry, labels, severity, distance)
    matches: Vec<(String, String, String, String, u32)>,
    /// The captured items, shown as on the case page: blurred until revealed.
    evidence: Vec<super::media::ItemView>,
    /// The viewer's protections (blur, reveal, re-blur, this hour's count).
    w: super::wellness::Wellness,
    /// Where a reveal without the script comes back to: this task.
    back: String,
}

/// The task and its case, if the session may review it.
async fn open_task(
    state: &AppState,
    session: &Session,
    id: &str,
) -> Result<takedown_review::store::qa::QaTask, WebError> {
    let task = state.store.qa_task(id).await?;
    if !may_review(state, session).await?
        || !state
            .store
            .may_see_case(&task.case_id, session.role)
            .await?
    {
        return Err(WebError::NotFound("no such QA task".into()));
    }
    if task.reviewed_by.is_some() {
        return Err(WebError::BadRequest(
            "this QA task was already reviewed".into(),
        ));
    }
    if task.first_by == session.name {
        return Err(WebError::BadRequest(
            "you took the first decision: another moderator does its second review".into(),
        ));
    }
    Ok(task)
}

async fn task(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    session.require(READERS)?;
    let t = open_task(&state, &session, &id).await?;
    let view = state.store.case(&t.case_id).await?;
    let c = &view.case;
    // Only captured items: a capture's state and origin are the case page's business.
    let evidence =
        super::media::item_views(&state.store, &session.name, &c.id, super::view::defang, &[])
            .await?
            .into_iter()
            .filter(|e| e.captured)
            .collect();
    let page = TaskPage {
        evidence,
        w: super::wellness::load(&state, &session.name).await?,
        back: format!("/qa/{}", t.id),
        chrome: Chrome::of(&session, &state),
        id: t.id.clone(),
        case_id: c.id.clone(),
        source: takedown_review::routing::source_name(c),
        platform: c.subject.platform.clone(),
        post: c.subject.post_id.clone().unwrap_or_default(),
        url: c
            .subject
            .url
            .as_deref()
            .map(super::view::defang)
            .unwrap_or_default(),
        matches: view
            .matches
            .iter()
            .map(|m| {
                (
                    m.list_id.clone(),
                    m.entry.clone(),
                    m.labels.join(", "),
                    m.severity.clone(),
                    m.distance,
                )
            })
            .collect(),
    };
    Ok(Html(page.render()?).into_response())
}

async fn review(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    session.require(READERS)?;
    let pairs = form_pairs(&body);
    session.check_csrf(field(&pairs, "csrf"))?;
    open_task(&state, &session, &id).await?;
    let verdict = field(&pairs, "verdict")
        .and_then(Verdict::parse)
        .ok_or_else(|| WebError::BadRequest("verdict: choose restrict or allow".into()))?;
    let agreed = state.store.qa_review(&id, &session.name, verdict).await?;
    let word = if agreed { "agreed" } else { "disagreed" };
    Ok(Redirect::to(&format!("/qa?reviewed={word}")).into_response())
}
