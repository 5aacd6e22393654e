//! The trusted-flagger registry's routes (DSA Art. 22): register, list, read, suspend,
//! reinstate.

use super::common::*;
use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;
use takedown_review::flaggers::{self, FlaggerStatus, parse_new_flagger};
use takedown_review::model::Role;
use takedown_review::store::ReviewStore;
use takedown_review::store::flaggers as registry;

/// The routes of this module.
pub(crate) fn routes() -> Router<ReviewStore> {
    Router::new()
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
}

async fn add_flagger(
    State(store): State<ReviewStore>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let who = authorize(&store, &headers, REGISTRY_KEEPERS).await?;
    let new = parse_new_flagger(&body)
        .map_err(|e| field_errors("invalid_flagger", "trusted flagger", e))?;
    let flagger = registry::add(&store, new, &who.name).await?;
    Ok((StatusCode::CREATED, Json(flagger)).into_response())
}

async fn list_flaggers(
    State(store): State<ReviewStore>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&store, &headers, &[Role::Legal, Role::Auditor]).await?;
    Ok(Json(json!({"flaggers": registry::list(&store).await?})).into_response())
}

async fn get_flagger(
    State(store): State<ReviewStore>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    authorize(&store, &headers, &[Role::Legal, Role::Auditor]).await?;
    let flagger = registry::get(&store, &id)
        .await?
        .ok_or_else(|| not_found(&format!("trusted flagger {id}")))?;
    let counts = registry::counts(&store, &id).await?;
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
    let flagger = registry::set_status(&store, &id, status, &who.name, reason).await?;
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
