//! Case routes: the queue, claiming, decisions, Annex III suspension and restart, enforcement,
//! the audit chain, embargo extension and legal holds.

use super::common::*;
use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;
use takedown_review::audit;
use takedown_review::field::FieldError;
use takedown_review::model::{DecisionInput, Role};
use takedown_review::order::CannotComply;
use takedown_review::store::ReviewStore;

/// The routes of this module.
pub(crate) fn routes() -> Router<ReviewStore> {
    Router::new()
        .route("/api/v1/queue", get(queue))
        .route("/api/v1/queue/claim", post(claim))
        .route("/api/v1/cases/{id}", get(get_case))
        .route("/api/v1/cases/{id}/decision", post(decide))
        .route("/api/v1/cases/{id}/suspend", post(suspend))
        .route("/api/v1/cases/{id}/restart", post(restart))
        .route("/api/v1/actions/{id}/enforced", post(enforced))
        .route("/api/v1/audit/verify", get(verify))
        .route("/api/v1/audit/head", get(head))
        .route("/api/v1/cases/{id}/audit", get(case_audit))
        .route("/api/v1/cases/{id}/embargo/extend", post(extend_embargo))
        .route("/api/v1/cases/{id}/legal-hold", post(set_hold))
        .route("/api/v1/cases/{id}/legal-hold/release", post(release_hold))
}

async fn queue(State(store): State<ReviewStore>, headers: HeaderMap) -> Result<Response, ApiError> {
    let who = authorize(&store, &headers, READERS).await?;
    // Cases of queues the caller's role may not see are in no count and not in the head.
    let c = store.counts_for(who.role).await?;
    Ok(Json(
        json!({"queued": c.queued, "senior_queued": c.senior_queued, "claimed": c.claimed,
        "pending_deadlines": c.pending_deadlines,
        "head": store.queue_head_for(20, who.role).await?}),
    )
    .into_response())
}

async fn claim(State(store): State<ReviewStore>, headers: HeaderMap) -> Result<Response, ApiError> {
    let who = authorize(&store, &headers, MODERATORS).await?;
    match store.claim_next_as(&who.name, who.role).await? {
        Some(id) => Ok(Json(store.case(&id).await?).into_response()),
        None => Ok(StatusCode::NO_CONTENT.into_response()),
    }
}

async fn get_case(
    State(store): State<ReviewStore>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let who = authorize(&store, &headers, READERS).await?;
    let mut view = store.case(&id).await?;
    // Related cases of queues the caller may not see are not named.
    view.cluster = store.visible_only(&view.cluster, who.role).await?;
    Ok(Json(view).into_response())
}

async fn decide(
    State(store): State<ReviewStore>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let who = authorize(&store, &headers, MODERATORS).await?;
    let input: DecisionInput = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_decision",
            e.to_string(),
        )
    })?;
    let view = store.case(&id).await?;
    if view.case.senior_only && who.role == Role::Moderator {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "escalated cases need a senior moderator",
        ));
    }
    Ok(Json(store.decide(&id, &who.name, &input).await?).into_response())
}

#[derive(Deserialize)]
struct SuspendBody {
    reason: CannotComply,
}

async fn suspend(
    State(store): State<ReviewStore>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<SuspendBody>,
) -> Result<Response, ApiError> {
    let who = authorize(&store, &headers, &[Role::Legal]).await?;
    let reason = serde_json::to_value(body.reason).unwrap_or_default();
    let reason = reason.as_str().unwrap_or("annex_iii");
    Ok(Json(store.suspend(&id, &who.name, reason).await?).into_response())
}

async fn restart(
    State(store): State<ReviewStore>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let who = authorize(&store, &headers, &[Role::Legal]).await?;
    Ok(Json(store.restart(&id, &who.name).await?).into_response())
}

#[derive(Deserialize)]
struct EnforcedBody {
    #[serde(with = "time::serde::rfc3339")]
    enforced_at: time::OffsetDateTime,
}

async fn enforced(
    State(store): State<ReviewStore>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<EnforcedBody>,
) -> Result<Response, ApiError> {
    let who = authorize(&store, &headers, &[]).await?;
    let new = store
        .mark_action(&id, "enforced_at", body.enforced_at, &who.name)
        .await?;
    Ok(Json(json!({"recorded": new, "times": store.action_times(&id).await?})).into_response())
}

async fn verify(
    State(store): State<ReviewStore>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&store, &headers, &[Role::Auditor]).await?;
    audit::seal(&store, 100_000).await?;
    Ok(Json(audit::verify(&store).await?).into_response())
}

async fn head(State(store): State<ReviewStore>, headers: HeaderMap) -> Result<Response, ApiError> {
    authorize(&store, &headers, &[Role::Auditor]).await?;
    let head = audit::head(&store).await?;
    Ok(
        Json(json!({"head": head.map(|(id, hash)| json!({"id": id, "hash": hash}))}))
            .into_response(),
    )
}

/// The audit entries of a case and of its takedown actions, oldest first.
async fn case_audit(
    State(store): State<ReviewStore>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    authorize(
        &store,
        &headers,
        &[Role::Legal, Role::Auditor, Role::SeniorModerator],
    )
    .await?;
    let view = store.case(&id).await?;
    let mut subjects = vec![id.clone()];
    subjects.extend(
        view.case
            .history
            .iter()
            .chain(view.case.decision.iter())
            .filter_map(|d| d.action_id.clone()),
    );
    let entries = audit::for_subjects(&store, &subjects, 10_000).await?;
    Ok(Json(json!({"case_id": id, "entries": entries})).into_response())
}

async fn extend_embargo(
    State(store): State<ReviewStore>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let who = authorize(&store, &headers, &[Role::Legal, Role::SeniorModerator]).await?;
    Ok(Json(store.extend_embargo(&id, &who.name).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HoldBody {
    requested_by: String,
    #[serde(default, with = "time::serde::rfc3339::option")]
    until: Option<time::OffsetDateTime>,
}

fn hold_body(body: &[u8]) -> Result<HoldBody, ApiError> {
    let hold: HoldBody = serde_json::from_slice(body).map_err(|e| {
        field_errors(
            "invalid_hold",
            "legal hold",
            vec![FieldError {
                field: "$".into(),
                reason: e.to_string(),
            }],
        )
    })?;
    if hold.requested_by.trim().is_empty() {
        return Err(field_errors(
            "invalid_hold",
            "legal hold",
            vec![FieldError {
                field: "requested_by".into(),
                reason: "who asked (authority, court, reference)".into(),
            }],
        ));
    }
    Ok(hold)
}

async fn set_hold(
    State(store): State<ReviewStore>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let who = authorize(&store, &headers, &[Role::Legal]).await?;
    let hold = hold_body(&body)?;
    let hold = takedown_review::sla::LegalHold {
        requested_by: hold.requested_by,
        until: hold.until,
    };
    Ok(Json(store.legal_hold(&id, &who.name, hold).await?).into_response())
}

async fn release_hold(
    State(store): State<ReviewStore>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let who = authorize(&store, &headers, &[Role::Legal]).await?;
    let hold = hold_body(&body)?;
    Ok(Json(
        store
            .release_hold(&id, &who.name, &hold.requested_by)
            .await?,
    )
    .into_response())
}
