//! What every API route shares: the bearer-token principal and its roles, the JSON error reply
//! with stable codes (and how engine errors map to it), and the small reply helpers.
//!
//! Tokens are stored as SHA-256 digests, never in clear.

use axum::Json;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use takedown_review::field::FieldError;
use takedown_review::flaggers::RegistryError;
use takedown_review::model::Role;
use takedown_review::store::{ReviewStore, StoreError, tokens};

pub use takedown_review::store::tokens::{Principal, add_token};

/// An API error.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    pub(crate) errors: Option<serde_json::Value>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
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
            StoreError::Decision(takedown_review::model::DecisionError::Invalid {
                field,
                reason,
            }) => {
                let mut err = ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_decision",
                    e.to_string(),
                );
                err.errors = Some(json!([{"field": field, "reason": reason}]));
                err
            }
            StoreError::Invalid(_) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", e.to_string())
            }
            StoreError::InvalidField(f) => {
                let mut err =
                    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", e.to_string());
                err.errors = Some(json!([f]));
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

/// The bearer token of a request, if it sent one.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

pub(crate) async fn authorize(
    store: &ReviewStore,
    headers: &HeaderMap,
    allowed: &[Role],
) -> Result<Principal, ApiError> {
    let token = bearer(headers).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "bearer token required",
        )
    })?;
    let principal = match tokens::principal(store, token.trim()).await? {
        Some(p) => p,
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

pub(crate) const MODERATORS: &[Role] = &[Role::Moderator, Role::SeniorModerator];

pub(crate) const READERS: &[Role] = &[
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
    /// Bounds on one removal order (URLs per order, issuer clock skew).
    pub order_limits: takedown_review::order::OrderLimits,
    /// Pushed media and evidence packages; `None` answers those routes with 503.
    pub evidence: Option<takedown_review::evidence::EvidenceWorker>,
}

impl Default for ApiOptions {
    fn default() -> Self {
        ApiOptions {
            provider_name: "the hosting service provider".into(),
            order_limits: Default::default(),
            evidence: None,
        }
    }
}

/// A 422 naming every wrong field.
pub(crate) fn field_errors(code: &'static str, what: &str, errors: Vec<FieldError>) -> ApiError {
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

/// Outside submitters (authority clients, trusted flaggers) see only what they submitted; to
/// them anything else does not exist.
pub(crate) fn only_own(who: &Principal, submitted_by: &str, what: &str) -> Result<(), ApiError> {
    let outsider = matches!(
        who.role,
        Role::AuthorityClient | Role::TrustedFlagger | Role::Platform
    );
    match outsider && submitted_by != who.name {
        true => Err(not_found(what)),
        false => Ok(()),
    }
}

pub(crate) fn not_found(what: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("{what} not found"),
    )
}

/// One field's 422.
pub(crate) fn field_error(code: &'static str, what: &str, field: &str, reason: &str) -> ApiError {
    field_errors(
        code,
        what,
        vec![FieldError {
            field: field.into(),
            reason: reason.into(),
        }],
    )
}

pub(crate) fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Who manages the trusted-flagger registry (admin always may).
pub(crate) const REGISTRY_KEEPERS: &[Role] = &[Role::Legal];

/// 201 with `body` for something new, 200 with the original for a repeated submission.
pub(crate) fn created_or_repeated(created: bool, body: serde_json::Value) -> Response {
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    (status, Json(body)).into_response()
}
