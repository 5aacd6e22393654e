//! The HTTP JSON API of `takedown review`.
//!
//! Every route names the roles allowed to call it and checks the bearer token first; tokens
//! are stored as SHA-256 digests, never in clear. Errors are JSON `{code, message, errors?}`
//! with stable codes; internal errors become a generic 500.

use crate::audit;
use crate::model::{DecisionInput, Role};
use crate::order::{AnnexIII, CannotComply, parse_order};
use crate::sla::SCRUTINY_REQUEST_WINDOW;
use crate::store::{ReviewStore, StoreError};
use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    /// Account or authority name.
    pub name: String,
    /// Role.
    pub role: Role,
}

fn token_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Creates an API token for `name` with `role`; returns the token, shown once. Only its
/// digest is stored.
pub async fn add_token(store: &ReviewStore, name: &str, role: Role) -> Result<String, StoreError> {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    let token = format!("tdk_{}", hex::encode(bytes));
    let principal = serde_json::to_string(&Principal {
        name: name.to_string(),
        role,
    })?;
    let _: () = store
        .connection()
        .hset(store.key("tokens"), token_digest(&token), principal)
        .await?;
    Ok(token)
}

/// An API error.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    errors: Option<serde_json::Value>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            errors: None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({"code": self.code, "message": self.message});
        if let Some(errors) = self.errors {
            body["errors"] = errors;
        }
        (self.status, Json(body)).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match &e {
            StoreError::NotFound(_) => {
                ApiError::new(StatusCode::NOT_FOUND, "not_found", e.to_string())
            }
            StoreError::State(_) | StoreError::Sla(_) => {
                ApiError::new(StatusCode::CONFLICT, "invalid_state", e.to_string())
            }
            StoreError::NotHolder => {
                ApiError::new(StatusCode::CONFLICT, "not_holder", e.to_string())
            }
            StoreError::Busy => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "busy", e.to_string())
            }
            StoreError::Decision(crate::model::DecisionError::Invalid { field, reason }) => {
                let mut err = ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_decision",
                    e.to_string(),
                );
                err.errors = Some(json!([{"field": field, "reason": reason}]));
                err
            }
            StoreError::Redis(_) | StoreError::Json(_) => {
                eprintln!("review api: internal error: {e}");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error",
                )
            }
        }
    }
}

async fn authorize(
    store: &ReviewStore,
    headers: &HeaderMap,
    allowed: &[Role],
) -> Result<Principal, ApiError> {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "bearer token required",
            )
        })?;
    let found: Option<String> = store
        .connection()
        .hget(store.key("tokens"), token_digest(token.trim()))
        .await
        .map_err(StoreError::from)?;
    let principal: Principal = match found {
        Some(json) => serde_json::from_str(&json).map_err(StoreError::from)?,
        None => {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "unknown token",
            ));
        }
    };
    if principal.role != Role::Admin && !allowed.contains(&principal.role) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "your role may not do this",
        ));
    }
    Ok(principal)
}

const MODERATORS: &[Role] = &[Role::Moderator, Role::SeniorModerator];
const READERS: &[Role] = &[
    Role::Moderator,
    Role::SeniorModerator,
    Role::Legal,
    Role::Auditor,
];

/// The API router over `store`.
pub fn router(store: ReviewStore) -> Router {
    Router::new()
        .route("/livez", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/removal-orders", post(post_order))
        .route("/api/v1/removal-orders/{id}", get(get_order))
        .route("/api/v1/queue", get(queue))
        .route("/api/v1/queue/claim", post(claim))
        .route("/api/v1/cases/{id}", get(get_case))
        .route("/api/v1/cases/{id}/decision", post(decide))
        .route("/api/v1/cases/{id}/suspend", post(suspend))
        .route("/api/v1/cases/{id}/restart", post(restart))
        .route("/api/v1/actions/{id}/enforced", post(enforced))
        .route("/api/v1/audit/verify", get(verify))
        .route("/api/v1/audit/head", get(head))
        .with_state(store)
}

async fn readyz(State(store): State<ReviewStore>) -> Response {
    let pong: Result<String, _> = redis::cmd("PING")
        .query_async(&mut store.connection())
        .await;
    match pong {
        Ok(_) => (StatusCode::OK, "ready").into_response(),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "redis unavailable").into_response(),
    }
}

async fn openapi() -> Response {
    (
        [("content-type", "application/json")],
        include_str!("openapi.json"),
    )
        .into_response()
}

async fn post_order(
    State(store): State<ReviewStore>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    // The receipt time is taken before anything else can delay it.
    let received_at = store.clock().now();
    let who = authorize(&store, &headers, &[Role::AuthorityClient, Role::Legal]).await?;
    let order = parse_order(&body).map_err(|errors| {
        let mut e = ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_order",
            format!(
                "invalid removal order: {}",
                errors
                    .iter()
                    .map(|e| e.field.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
        e.errors = Some(json!(errors));
        e
    })?;
    let (record, created) = store
        .receive_order(&body, order, &who.name, received_at)
        .await?;
    let annex_iii = record.order.insufficient().then(|| AnnexIII {
        authority_reference: record.order.section_a.reference.clone(),
        provider_reference: record.order_id.clone(),
        received_at: record.received_at,
        reason: CannotComply::InsufficientInformation,
        details: record.order.missing.clone(),
        explanation: "The order lacks information needed to execute it; the one-hour period starts when the clarification is received (Art. 3(8)).".into(),
        draft: true,
        produced_at: received_at,
    });
    let scrutiny = record.order.cross_border().then(|| {
        json!({"note": "cross-border order (Art. 4): scrutiny may be requested from the Member State of establishment",
               "request_by": (record.received_at + SCRUTINY_REQUEST_WINDOW).format(&time::format_description::well_known::Rfc3339).unwrap_or_default()})
    });
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(json!({"order": record, "annex_iii_draft": annex_iii, "scrutiny": scrutiny})),
    )
        .into_response())
}

async fn get_order(
    State(store): State<ReviewStore>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let who = authorize(
        &store,
        &headers,
        &[Role::AuthorityClient, Role::Legal, Role::Auditor],
    )
    .await?;
    let record = store.order(&id).await?;
    if who.role == Role::AuthorityClient && record.submitted_by != who.name {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("order {id} not found"),
        ));
    }
    Ok(Json(record).into_response())
}

async fn queue(State(store): State<ReviewStore>, headers: HeaderMap) -> Result<Response, ApiError> {
    authorize(&store, &headers, READERS).await?;
    let (queued, senior, claimed, deadlines) = store.counts().await?;
    Ok(Json(
        json!({"queued": queued, "senior_queued": senior, "claimed": claimed,
        "pending_deadlines": deadlines, "head": store.queue_head(20).await?}),
    )
    .into_response())
}

async fn claim(State(store): State<ReviewStore>, headers: HeaderMap) -> Result<Response, ApiError> {
    let who = authorize(&store, &headers, MODERATORS).await?;
    let senior = matches!(who.role, Role::SeniorModerator | Role::Admin);
    match store.claim_next(&who.name, senior).await? {
        Some(id) => Ok(Json(store.case(&id).await?).into_response()),
        None => Ok(StatusCode::NO_CONTENT.into_response()),
    }
}

async fn get_case(
    State(store): State<ReviewStore>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    authorize(&store, &headers, READERS).await?;
    Ok(Json(store.case(&id).await?).into_response())
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
