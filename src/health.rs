//! The health and metrics routes every role serves (`/metrics`, `/livez`, `/readyz`).
//!
//! They live in the binary, not in the stage libraries, so the libraries (ingest, the review
//! engine) carry no HTTP server of their own.

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use std::sync::Arc;
use takedown_ingest::metrics::StageMetrics;

/// The `/metrics`, `/livez` and `/readyz` routes over `metrics`.
pub fn router(metrics: &Arc<StageMetrics>) -> Router {
    router_with(metrics, String::new)
}

/// [`router`] with more metrics: `extra` renders them in Prometheus text format, served
/// before the stage's own (which end with `# EOF`).
pub fn router_with(
    metrics: &Arc<StageMetrics>,
    extra: impl Fn() -> String + Clone + Send + Sync + 'static,
) -> Router {
    let ready = metrics.clone();
    let metrics = metrics.clone();
    Router::new()
        .route(
            "/metrics",
            get(move || {
                let m = metrics.clone();
                let extra = extra.clone();
                async move { format!("{}{}", extra(), m.render()) }
            }),
        )
        .route("/livez", get(|| async { "ok" }))
        .route(
            "/readyz",
            get(move || {
                let r = ready.clone();
                async move {
                    if r.is_ready() {
                        (StatusCode::OK, "ready")
                    } else {
                        (StatusCode::SERVICE_UNAVAILABLE, "not ready")
                    }
                }
            }),
        )
}
