//! The HTTP JSON API of `takedown review`.
//!
//! Every route names the roles allowed to call it and checks the bearer token first; tokens
//! are stored as SHA-256 digests, never in clear. Errors are JSON `{code, message, errors?}`
//! with stable codes; internal errors become a generic 500.

use crate::au_notice::parse_au_notice;
use crate::audit;
use crate::flaggers::{self, FlaggerStatus, RegistryError, TrustedFlagger, parse_new_flagger};
use crate::intake::{check_contested, parse_complaint, parse_notice};
use crate::model::{DecisionInput, Role};
use crate::order::{AnnexII, AnnexIII, AnnexIIItem, CannotComply, FieldError, parse_order};
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
use std::sync::Arc;

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

impl From<RegistryError> for ApiError {
    fn from(e: RegistryError) -> Self {
        match e {
            RegistryError::Store(e) => e.into(),
            RegistryError::NotFound(_) => {
                ApiError::new(StatusCode::NOT_FOUND, "not_found", e.to_string())
            }
            RegistryError::Exists(_) | RegistryError::AccountTaken { .. } => {
                ApiError::new(StatusCode::CONFLICT, "exists", e.to_string())
            }
            RegistryError::Unchanged(_) => {
                ApiError::new(StatusCode::CONFLICT, "invalid_state", e.to_string())
            }
            RegistryError::Busy => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "busy", e.to_string())
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

/// What the API says about the provider in its replies to authorities.
#[derive(Debug, Clone)]
pub struct ApiOptions {
    /// The hosting service provider's name (Annex II, Section C).
    pub provider_name: String,
}

impl Default for ApiOptions {
    fn default() -> Self {
        ApiOptions {
            provider_name: "the hosting service provider".into(),
        }
    }
}

/// The API router over `store`, with default [`ApiOptions`].
pub fn router(store: ReviewStore) -> Router {
    router_with(store, ApiOptions::default())
}

/// The API router over `store`.
pub fn router_with(store: ReviewStore, options: ApiOptions) -> Router {
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
        .route("/api/v1/removal-orders/{id}/annex-ii", get(annex_ii))
        .route("/api/v1/notices", post(post_notice))
        .route("/api/v1/notices/{id}", get(get_notice))
        .route("/api/v1/complaints", post(post_complaint))
        .route("/api/v1/complaints/{id}", get(get_complaint))
        .route("/api/v1/removal-notices/au", post(post_au_notice))
        .route("/api/v1/removal-notices/au/{id}", get(get_au_notice))
        .route(
            "/api/v1/trusted-flaggers",
            post(add_flagger).get(list_flaggers),
        )
        .route("/api/v1/trusted-flaggers/{id}", get(get_flagger))
        .route(
            "/api/v1/trusted-flaggers/{id}/suspend",
            post(suspend_flagger),
        )
        .route(
            "/api/v1/trusted-flaggers/{id}/reinstate",
            post(reinstate_flagger),
        )
        .route("/api/v1/cases/{id}/audit", get(case_audit))
        .route("/api/v1/cases/{id}/embargo/extend", post(extend_embargo))
        .route("/api/v1/cases/{id}/legal-hold", post(set_hold))
        .route("/api/v1/cases/{id}/legal-hold/release", post(release_hold))
        .layer(axum::Extension(Arc::new(options)))
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

/// A 422 naming every wrong field.
fn field_errors(code: &'static str, what: &str, errors: Vec<FieldError>) -> ApiError {
    let mut e = ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        code,
        format!(
            "invalid {what}: {}",
            errors
                .iter()
                .map(|e| e.field.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    );
    e.errors = Some(json!(errors));
    e
}

async fn post_order(
    State(store): State<ReviewStore>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    // The receipt time is taken before anything else can delay it.
    let received_at = store.clock().now();
    let who = authorize(&store, &headers, &[Role::AuthorityClient, Role::Legal]).await?;
    let order = parse_order(&body)
        .map_err(|errors| field_errors("invalid_order", "removal order", errors))?;
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
    Ok(created_or_repeated(
        created,
        json!({"order": record, "annex_iii_draft": annex_iii, "scrutiny": scrutiny}),
    ))
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
    only_own(&who, &record.submitted_by, &format!("order {id}"))?;
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

/// Outside submitters (authority clients, trusted flaggers) see only what they submitted; to
/// them anything else does not exist.
fn only_own(who: &Principal, submitted_by: &str, what: &str) -> Result<(), ApiError> {
    let outsider = matches!(who.role, Role::AuthorityClient | Role::TrustedFlagger);
    match outsider && submitted_by != who.name {
        true => Err(not_found(what)),
        false => Ok(()),
    }
}

fn not_found(what: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("{what} not found"),
    )
}

#[derive(Deserialize)]
struct FormatQuery {
    format: Option<String>,
}

/// Annex II for an order whose every case's takedown action the platform has enforced;
/// `?format=text` renders the plain-text form.
async fn annex_ii(
    State(store): State<ReviewStore>,
    axum::Extension(options): axum::Extension<Arc<ApiOptions>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    axum::extract::Query(query): axum::extract::Query<FormatQuery>,
) -> Result<Response, ApiError> {
    let who = authorize(
        &store,
        &headers,
        &[Role::Legal, Role::Auditor, Role::AuthorityClient],
    )
    .await?;
    let record = store.order(&id).await?;
    only_own(&who, &record.submitted_by, &format!("order {id}"))?;
    let mut items = Vec::new();
    let mut problems = Vec::new();
    for (i, case_id) in record.case_ids.iter().enumerate() {
        let view = store.case(case_id).await?;
        let url = view.case.subject.url.clone().unwrap_or_default();
        let field = format!("case_ids[{i}]");
        let mut problem = |reason: &str| {
            problems.push(FieldError {
                field: field.clone(),
                reason: format!("{case_id} ({url}): {reason}"),
            })
        };
        let Some(decision) = &view.case.decision else {
            problem("not decided yet");
            continue;
        };
        let action = match &decision.input.outcome {
            crate::model::Outcome::Remove => "removed",
            crate::model::Outcome::Disable { territories }
                if territories.iter().any(|t| t == "EU")
                    || crate::order::MEMBER_STATES
                        .iter()
                        .all(|m| territories.iter().any(|t| t == m)) =>
            {
                "disabled_in_all_member_states"
            }
            crate::model::Outcome::Disable { .. } => {
                problem("access was disabled in some Member States only");
                continue;
            }
            _ => {
                problem("the decision did not remove or disable the content");
                continue;
            }
        };
        let enforced = match &decision.action_id {
            Some(action_id) => store
                .action_times(action_id)
                .await?
                .get("enforced_at")
                .copied(),
            None => None,
        };
        let Some(time_of_action) = enforced else {
            problem("the platform has not reported the action enforced yet");
            continue;
        };
        items.push(AnnexIIItem {
            url,
            action: action.to_string(),
            time_of_action,
        });
    }
    if !problems.is_empty() {
        let mut e = ApiError::new(
            StatusCode::CONFLICT,
            "not_enforced",
            "Annex II is available once every URL of the order was removed or disabled and enforced",
        );
        e.errors = Some(json!(problems));
        return Err(e);
    }
    let a = &record.order.section_a;
    let reply = AnnexII {
        authority_reference: a.reference.clone(),
        provider_reference: record.order_id.clone(),
        received_at: record.received_at,
        items,
        provider_name: options.provider_name.clone(),
        signature: who.name.clone(),
        date: store.clock().now(),
    };
    if query.format.as_deref() == Some("text") {
        return Ok((
            [("content-type", "text/plain; charset=utf-8")],
            reply.to_text(a),
        )
            .into_response());
    }
    Ok(Json(reply).into_response())
}

/// One field's 422.
fn field_error(code: &'static str, what: &str, field: &str, reason: &str) -> ApiError {
    field_errors(
        code,
        what,
        vec![FieldError {
            field: field.into(),
            reason: reason.into(),
        }],
    )
}

/// The registry entry a notice comes from: the entry bound to a trusted flagger's own
/// account, or the `flagger_id` a relaying account names (which must be registered).
async fn notice_flagger(
    store: &ReviewStore,
    who: &Principal,
    flagger_id: Option<&str>,
) -> Result<Option<TrustedFlagger>, ApiError> {
    let invalid = |reason: &str| field_error("invalid_notice", "notice", "flagger_id", reason);
    if who.role == Role::TrustedFlagger {
        let Some(own) = flaggers::for_account(store, &who.name).await? else {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "this account is not bound to a trusted-flagger registry entry",
            ));
        };
        if flagger_id.is_some_and(|id| id != own.id) {
            return Err(invalid("not the registry entry bound to your account"));
        }
        return Ok(Some(own));
    }
    match flagger_id {
        None => Ok(None),
        Some(id) => match flaggers::get(store, id).await? {
            Some(f) => Ok(Some(f)),
            None => Err(invalid("not in the trusted-flagger registry")),
        },
    }
}

async fn post_notice(
    State(store): State<ReviewStore>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let received_at = store.clock().now();
    let who = authorize(
        &store,
        &headers,
        &[Role::Legal, Role::AuthorityClient, Role::TrustedFlagger],
    )
    .await?;
    let notice = parse_notice(&body).map_err(|e| field_errors("invalid_notice", "notice", e))?;
    let flagger = notice_flagger(&store, &who, notice.flagger_id.as_deref()).await?;
    let (record, created) = store
        .receive_notice(&body, notice, flagger.as_ref(), &who.name, received_at)
        .await?;
    Ok(created_or_repeated(
        created,
        json!({"notice": record, "case_id": record.case_id}),
    ))
}

async fn get_notice(
    State(store): State<ReviewStore>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let who = authorize(
        &store,
        &headers,
        &[
            Role::Legal,
            Role::Auditor,
            Role::AuthorityClient,
            Role::TrustedFlagger,
        ],
    )
    .await?;
    let record = store.notice(&id).await?;
    only_own(&who, &record.submitted_by, &format!("notice {id}"))?;
    Ok(Json(record).into_response())
}

/// An eSafety Commissioner removal notice (Online Safety Act 2021 s109/s110).
async fn post_au_notice(
    State(store): State<ReviewStore>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    // The receipt time is taken before anything else can delay it.
    let received_at = store.clock().now();
    let who = authorize(&store, &headers, &[Role::AuthorityClient, Role::Legal]).await?;
    let notice = parse_au_notice(&body, received_at)
        .map_err(|e| field_errors("invalid_au_notice", "Australian removal notice", e))?;
    let (record, created) = store
        .receive_au_notice(&body, notice, &who.name, received_at)
        .await?;
    Ok(created_or_repeated(
        created,
        json!({"notice": record, "case_ids": record.case_ids, "due_at": rfc3339(record.due_at)}),
    ))
}

async fn get_au_notice(
    State(store): State<ReviewStore>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let who = authorize(
        &store,
        &headers,
        &[Role::Legal, Role::Auditor, Role::AuthorityClient],
    )
    .await?;
    let record = store.au_notice(&id).await?;
    only_own(
        &who,
        &record.submitted_by,
        &format!("Australian removal notice {id}"),
    )?;
    Ok(Json(record).into_response())
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Who manages the trusted-flagger registry (admin always may).
const REGISTRY_KEEPERS: &[Role] = &[Role::Legal];

async fn add_flagger(
    State(store): State<ReviewStore>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let who = authorize(&store, &headers, REGISTRY_KEEPERS).await?;
    let new = parse_new_flagger(&body)
        .map_err(|e| field_errors("invalid_flagger", "trusted flagger", e))?;
    let flagger = flaggers::add(&store, new, &who.name).await?;
    Ok((StatusCode::CREATED, Json(flagger)).into_response())
}

async fn list_flaggers(
    State(store): State<ReviewStore>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&store, &headers, &[Role::Legal, Role::Auditor]).await?;
    Ok(Json(json!({"flaggers": flaggers::list(&store).await?})).into_response())
}

async fn get_flagger(
    State(store): State<ReviewStore>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    authorize(&store, &headers, &[Role::Legal, Role::Auditor]).await?;
    let flagger = flaggers::get(&store, &id)
        .await?
        .ok_or_else(|| not_found(&format!("trusted flagger {id}")))?;
    let counts = flaggers::counts(&store, &id).await?;
    Ok(Json(flaggers::FlaggerView { flagger, counts }).into_response())
}

async fn change_flagger(
    store: ReviewStore,
    headers: HeaderMap,
    id: String,
    body: Bytes,
    status: FlaggerStatus,
) -> Result<Response, ApiError> {
    let who = authorize(&store, &headers, REGISTRY_KEEPERS).await?;
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let Some(reason) = body["reason"]
        .as_str()
        .map(str::trim)
        .filter(|r| !r.is_empty() && r.chars().count() <= 1000)
    else {
        return Err(field_error(
            "invalid_status_change",
            "status change",
            "reason",
            "why, with the coordinator's decision or reference (1 to 1000 characters)",
        ));
    };
    let flagger = flaggers::set_status(&store, &id, status, &who.name, reason).await?;
    Ok(Json(flagger).into_response())
}

async fn suspend_flagger(
    State(store): State<ReviewStore>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    change_flagger(store, headers, id, body, FlaggerStatus::Suspended).await
}

async fn reinstate_flagger(
    State(store): State<ReviewStore>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    change_flagger(store, headers, id, body, FlaggerStatus::Active).await
}

async fn post_complaint(
    State(store): State<ReviewStore>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let received_at = store.clock().now();
    let who = authorize(&store, &headers, &[Role::Legal]).await?;
    let complaint =
        parse_complaint(&body).map_err(|e| field_errors("invalid_complaint", "complaint", e))?;
    let contested = match store.case(&complaint.case_id).await {
        Ok(view) => view.case,
        Err(StoreError::NotFound(_)) => {
            return Err(field_errors(
                "invalid_complaint",
                "complaint",
                vec![FieldError {
                    field: "case_id".into(),
                    reason: "no such case".into(),
                }],
            ));
        }
        Err(e) => return Err(e.into()),
    };
    check_contested(&contested, received_at)
        .map_err(|e| field_errors("invalid_complaint", "complaint", vec![e]))?;
    let (record, created) = store
        .receive_complaint(&body, complaint, &contested, &who.name, received_at)
        .await?;
    Ok(created_or_repeated(
        created,
        json!({"complaint": record, "case_id": record.case_id}),
    ))
}

async fn get_complaint(
    State(store): State<ReviewStore>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    authorize(&store, &headers, &[Role::Legal, Role::Auditor]).await?;
    Ok(Json(store.complaint(&id).await?).into_response())
}

/// 201 with `body` for something new, 200 with the original for a repeated submission.
fn created_or_repeated(created: bool, body: serde_json::Value) -> Response {
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    (status, Json(body)).into_response()
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
    let hold = crate::sla::LegalHold {
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
