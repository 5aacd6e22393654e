//! The health and metrics routes every role serves (`/metrics`, `/livez`, `/readyz`).
//!
//! They live in the binary, not in the stage libraries, so the libraries (ingest, the review
//! engine) carry no HTTP server of their own.

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use std::sync::Arc;
use takedown_ingest::metrics::StageMetrics;

/// More metric families for `/metrics`, rendered in Prometheus text format.
pub type Extra = Arc<dyn Fn() -> String + Send + Sync>;

/// The `/metrics`, `/livez` and `/readyz` routes over `metrics`.
pub fn router(metrics: &Arc<StageMetrics>) -> Router {
    router_with(metrics, None)
}

/// [`router`], with `extra`'s families after the stage's on `/metrics` (the review role's
/// gauges).
pub fn router_with(metrics: &Arc<StageMetrics>, extra: Option<Extra>) -> Router {
    let ready = metrics.clone();
    let metrics = metrics.clone();
    Router::new()
        .route(
            "/metrics",
            get(move || {
                let m = metrics.clone();
                let extra = extra.clone();
                async move {
                    let text = m.render();
                    match extra {
                        // One exposition: the first part's end-of-file marker must go.
                        Some(extra) => format!("{}{}", text.trim_end_matches("# EOF\n"), extra()),
                        None => text,
                    }
                }
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
