//! DSA notice and complaint routes, including how a notice is tied to a registered trusted
//! flagger.

use super::common::*;
use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;
use takedown_review::field::FieldError;
use takedown_review::flaggers::TrustedFlagger;
use takedown_review::intake::{check_contested, parse_complaint, parse_notice};
use takedown_review::model::Role;
use takedown_review::store::flaggers as registry;
use takedown_review::store::{ReviewStore, StoreError};

/// The routes of this module.
pub(crate) fn routes() -> Router<ReviewStore> {
    Router::new()
        .route("/api/v1/notices", post(post_notice))
        .route("/api/v1/notices/{id}", get(get_notice))
        .route("/api/v1/complaints", post(post_complaint))
        .route("/api/v1/complaints/{id}", get(get_complaint))
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
        let Some(own) = registry::for_account(store, &who.name).await? else {
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
        // Authorities send their own notices and orders; only the platform's legal team
        // relays a registered flagger's notices, so an authority client cannot borrow a
        // flagger's trusted status by naming its id.
        Some(_) if who.role == Role::AuthorityClient => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "authority clients cannot name a trusted flagger; a legal account relays flaggers' notices",
        )),
        Some(id) => match registry::get(store, id).await? {
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
