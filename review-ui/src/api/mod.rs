//! The HTTP JSON API of `takedown review`.
//!
//! Every route names the roles allowed to call it and checks the bearer token first; tokens
//! are stored as SHA-256 digests, never in clear. Errors are JSON `{code, message, errors?}`
//! with stable codes; internal errors become a generic 500.

mod cases;
mod common;
mod evidence_routes;
mod flagger_routes;
mod gate;
mod notices;
mod orders;
mod queue_access;

pub use common::{ApiError, ApiOptions, Principal, add_token};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::sync::Arc;
use takedown_review::store::ReviewStore;

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
        .merge(orders::routes())
        .merge(cases::routes())
        .merge(notices::routes())
        .merge(flagger_routes::routes())
        .merge(evidence_routes::routes())
        .layer(axum::middleware::from_fn_with_state(
            store.clone(),
            queue_access::guard,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(gate::BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(
            store.clone(),
            gate::gate,
        ))
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
        include_str!("../openapi.json"),
    )
        .into_response()
}
