//! Appeals in the UI: the complaints queue and a complaint's page, which shows the contested
//! decision with its reasons beside the complainant's explanation and records one of three
//! outcomes (uphold, reverse, partially reverse) with the reasons given back.
//!
//! The outcome becomes an ordinary decision of the engine (`takedown_review::appeals`), so a
//! reversal queues the `restore` action that reinstates the content; the store refuses it
//! from the moderator who took the contested decision, whichever page or API call sends it.

use super::auth::{Session, field, form_pairs};
use super::chrome::{Chrome, DECIDERS, READERS};
use super::ops::Claim;
use super::state::{AppState, WebError};
use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use takedown_review::appeals::{AppealOutcome, decision_for};
use takedown_review::model::{CaseState, DecisionRecord, Outcome};
use time::format_description::well_known::Rfc3339;

/// At most this many complaints are listed.
const LISTED: usize = 200;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/appeals", get(list))
        .route("/appeals/{id}", get(page))
        .route("/appeals/{id}/decide", post(decide))
}

#[derive(Template)]
#[template(path = "appeals.html")]
struct AppealsPage {
    chrome: Chrome,
    /// (case id, deadline text)
    rows: Vec<(String, String)>,
}

async fn list(State(state): State<AppState>, session: Session) -> Result<Response, WebError> {
    session.require(READERS)?;
    let view = state.snapshot.get(&state.store).await?;
    let config = state.store.routing().await?;
    let mut rows = Vec::new();
    let visible = config.may_see(Some(takedown_review::routing::COMPLAINTS), session.role);
    for r in view.rows().filter(|r| visible && r.source == "complaint") {
        if rows.len() >= LISTED {
            break;
        }
        let due = r
            .due_at
            .and_then(|d| d.format(&Rfc3339).ok())
            .unwrap_or_default();
        rows.push((r.id.clone(), due));
    }
    Ok(Html(
        AppealsPage {
            chrome: Chrome::of(&session, &state),
            rows,
        }
        .render()?,
    )
    .into_response())
}

/// A decision as the page shows it.
struct Shown {
    outcome: String,
    grounds: String,
    tos: String,
    justification: String,
    by: String,
    at: String,
}

fn shown(d: &DecisionRecord) -> Shown {
    let outcome = match &d.input.outcome {
        Outcome::Remove => "removed everywhere".to_string(),
        Outcome::Disable { territories } => {
            format!("access disabled in {}", territories.join(", "))
        }
        Outcome::Restore => "restored".to_string(),
        Outcome::NotTerroristContent { exemption } => match exemption {
            Some(e) => format!(
                "not terrorist content ({})",
                serde_json::to_value(e)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default()
                    .replace('_', " ")
            ),
            None => "not terrorist content".to_string(),
        },
        Outcome::Escalate => "escalated".to_string(),
        Outcome::ThreatToLife => "threat to life".to_string(),
    };
    Shown {
        outcome,
        grounds: d
            .input
            .grounds
            .iter()
            .filter_map(|g| serde_json::to_value(g).ok()?.as_str().map(str::to_string))
            .collect::<Vec<_>>()
            .join(", "),
        tos: d.input.tos_clauses.join(", "),
        justification: d.input.justification.clone(),
        by: d.decided_by.clone(),
        at: d.decided_at.format(&Rfc3339).unwrap_or_default(),
    }
}

#[derive(Template)]
#[template(path = "appeal.html")]
struct AppealPage {
    chrome: Chrome,
    id: String,
    contested_id: String,
    explanation: String,
    reference: String,
    received: String,
    due: String,
    contested: Option<Shown>,
    /// The appeal's own decision, once taken.
    decided: Option<Shown>,
    /// Whether the viewer took the contested decision (and so may not decide).
    own: bool,
    can_decide: bool,
    /// Whether a partial reversal is possible (the contested decision removed everywhere).
    partial: bool,
    error: String,
}

async fn render(
    state: &AppState,
    session: &Session,
    id: &str,
    error: String,
) -> Result<Response, WebError> {
    if !state.store.may_see_case(id, session.role).await? {
        return Err(WebError::NotFound("no such complaint".into()));
    }
    let appeal = state.store.appeal(id).await?;
    let contested = appeal.contested.case.decision.as_ref();
    let own = contested.is_some_and(|d| d.decided_by == session.name);
    let page = AppealPage {
        chrome: Chrome::of(session, state),
        id: id.to_string(),
        contested_id: appeal.contested.case.id.clone(),
        explanation: appeal.complaint.explanation.clone(),
        reference: appeal.complaint.reference.clone().unwrap_or_default(),
        received: appeal
            .case
            .case
            .sla
            .received_at
            .format(&Rfc3339)
            .unwrap_or_default(),
        due: appeal
            .case
            .due_at
            .and_then(|d| d.format(&Rfc3339).ok())
            .unwrap_or_default(),
        partial: contested.is_some_and(|d| d.input.outcome == Outcome::Remove),
        contested: contested.map(shown),
        decided: match appeal.case.case.state {
            CaseState::Open => None,
            _ => appeal.case.case.decision.as_ref().map(shown),
        },
        own,
        can_decide: session.can(DECIDERS)
            && !own
            && appeal.case.case.state == CaseState::Open
            && contested.is_some(),
        error: error.clone(),
    };
    let status = match error.is_empty() {
        true => axum::http::StatusCode::OK,
        false => axum::http::StatusCode::UNPROCESSABLE_ENTITY,
    };
    Ok((status, Html(page.render()?)).into_response())
}

async fn page(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    session.require(READERS)?;
    render(&state, &session, &id, String::new()).await
}

async fn decide(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    session.require(DECIDERS)?;
    let pairs = form_pairs(&body);
    session.check_csrf(field(&pairs, "csrf"))?;
    if !state.store.may_see_case(&id, session.role).await? {
        return Err(WebError::NotFound("no such complaint".into()));
    }
    let appeal = state.store.appeal(&id).await?;
    let Some(contested) = appeal.contested.case.decision.as_ref() else {
        return Err(WebError::BadRequest(
            "the contested case has no decision".into(),
        ));
    };
    if contested.decided_by == session.name {
        // The store refuses the decision too; refusing here first keeps the complaint
        // unclaimed for a colleague.
        let why = "the moderator who took the contested decision cannot decide the complaint";
        return render(&state, &session, &id, why.into()).await;
    }
    let Some(outcome) = field(&pairs, "outcome").and_then(AppealOutcome::parse) else {
        return render(&state, &session, &id, "outcome: choose one".into()).await;
    };
    let territories: Vec<String> = field(&pairs, "territories")
        .unwrap_or("")
        .split([',', ' '])
        .map(|t| t.trim().to_ascii_uppercase())
        .filter(|t| !t.is_empty())
        .collect();
    let justification = field(&pairs, "justification").unwrap_or("");
    let input = match decision_for(outcome, contested, &territories, justification) {
        Ok(i) => i,
        Err(e) => return render(&state, &session, &id, e.to_string()).await,
    };
    if appeal.case.holder.as_deref() != Some(session.name.as_str()) {
        match state
            .ops
            .claim_one(&state.store, &id, &session.name)
            .await?
        {
            Claim::Claimed => {}
            Claim::NotOpen => {
                return Err(WebError::BadRequest(
                    "this complaint is no longer open".into(),
                ));
            }
            Claim::HeldByOther => {
                return Err(WebError::BadRequest(
                    "another moderator holds this complaint".into(),
                ));
            }
        }
    }
    match state.store.decide(&id, &session.name, &input).await {
        Ok(_) => Ok(Redirect::to(&format!("/appeals/{id}")).into_response()),
        Err(e @ takedown_review::store::StoreError::Decision(_))
        | Err(e @ takedown_review::store::StoreError::State(_)) => {
            render(&state, &session, &id, e.to_string()).await
        }
        Err(e) => Err(e.into()),
    }
}
