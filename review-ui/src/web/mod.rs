//! The moderator web UI, served by `takedown review` beside the JSON API.
//!
//! It exists because moderators look at the worst content there is, under a one-hour legal
//! clock: the pages protect them (media blurred and greyscale until revealed, every media view
//! audited) and make every second count (queue by urgency with a live countdown, one-key
//! claim and decisions). Pages are rendered on the server with askama; the only script is the
//! vendored `static/app.js` (no CDN: platforms run this air-gapped, and the CSP forbids inline
//! scripts).
//!
//! Security, in one place ([`guard`] and [`auth`]): local accounts with argon2id hashes in
//! Redis; sessions in Redis (only the SHA-256 of the session id is stored) behind a secure,
//! HttpOnly, SameSite=Strict cookie with idle and absolute expiry; a per-session CSRF token on
//! every state change plus an Origin / `Sec-Fetch-Site` check that refuses cross-site writes;
//! a strict CSP and other security headers on every response; roles checked by every handler.
//!
//! Modules: [`auth`] (accounts, sessions, CSRF), `ops` (Redis writes the UI needs beyond the
//! store: audit entries, claiming a named case), `snapshot` (the periodically rebuilt index
//! of open cases behind filters, counts and the SLA dashboard), `pages` (queue, case,
//! decisions, media), `supervisor` (SLA dashboard, audit browser, lists, accounts), `view`
//! (formatting, defanging, the SVG chart), `media` (where media bytes come from).

pub mod auth;
mod media;
mod ops;
mod pages;
mod snapshot;
mod supervisor;
mod view;

pub use auth::{UserError, add_user};
pub use media::{MediaError, put_media};

use crate::store::{ReviewStore, StoreError};
use askama::Template;
use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use std::sync::Arc;

/// How the web UI behaves.
#[derive(Clone)]
pub struct WebConfig {
    /// A session ends after this long without a request.
    pub session_idle: time::Duration,
    /// A session ends this long after login, whatever happens.
    pub session_max: time::Duration,
    /// How often the index of open cases behind filters, counts and the SLA dashboard is
    /// rebuilt (in the background, while the pages are in use).
    pub snapshot_every: std::time::Duration,
    /// The hash-list store, for the list-entry pages (disable, feedback); `None` hides them.
    pub lists: Option<takedown_hashlists::store::Store>,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            session_idle: time::Duration::minutes(30),
            session_max: time::Duration::hours(10),
            snapshot_every: std::time::Duration::from_secs(30),
            lists: None,
        }
    }
}

/// What every handler shares.
#[derive(Clone)]
pub(crate) struct AppState {
    pub store: ReviewStore,
    pub cfg: Arc<WebConfig>,
    pub ops: Arc<ops::Scripts>,
    pub snapshot: Arc<snapshot::Snapshots>,
}

/// The UI's router over `store`: pages, form posts and the vendored static files. Merge it
/// with [`crate::api::router`]; its routes do not overlap the API's.
pub fn router(store: ReviewStore, cfg: WebConfig) -> Router {
    let state = AppState {
        snapshot: Arc::new(snapshot::Snapshots::new(cfg.snapshot_every)),
        cfg: Arc::new(cfg),
        ops: Arc::new(ops::Scripts::new()),
        store,
    };
    Router::new()
        .merge(auth::routes())
        .merge(pages::routes())
        .merge(supervisor::routes())
        .merge(view::static_routes())
        .layer(axum::middleware::from_fn(guard))
        .with_state(state)
}

/// The Content-Security-Policy of every page: scripts and styles only from our own static
/// files, no inline code, no framing, forms post only to us.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
     connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Refuses cross-site state changes before any handler runs, and puts the security headers
/// on every response.
///
/// A browser sends `Sec-Fetch-Site` (or, if older, `Origin`) with every POST; one naming
/// another origin means a page elsewhere is submitting to us, which is refused whatever the
/// cookies or tokens (the per-form CSRF token is checked again by each handler).
async fn guard(req: Request, next: Next) -> Response {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD);
    if !safe && cross_site(&req) {
        let mut resp = error_page(
            StatusCode::FORBIDDEN,
            "Cross-site request refused",
            "This form was submitted from another site. Nothing was changed.",
        );
        secure_headers(&mut resp);
        return resp;
    }
    let mut resp = next.run(req).await;
    secure_headers(&mut resp);
    resp
}

fn cross_site(req: &Request) -> bool {
    let headers = req.headers();
    // Browsers that send Fetch Metadata say exactly where a request comes from; older ones
    // are judged by Origin.
    if let Some(site) = headers.get("sec-fetch-site") {
        return !matches!(site.as_bytes(), b"same-origin" | b"none");
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    match headers.get(header::ORIGIN).map(|o| o.to_str().ok()) {
        None => false,
        Some(None) => true,
        Some(Some(origin)) => {
            let origin_host = origin
                .strip_prefix("http://")
                .or_else(|| origin.strip_prefix("https://"));
            origin_host.is_none() || origin_host != host
        }
    }
}

fn secure_headers(resp: &mut Response) {
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}

/// Why a page or action failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WebError {
    /// No valid session: go to the login page.
    #[error("login required")]
    Unauthenticated,
    /// The role may not do this.
    #[error("your role may not open this page or do this")]
    Forbidden,
    /// The CSRF token is missing or wrong.
    #[error("the form's security token is missing or out of date; reload the page")]
    Csrf,
    /// Bad input.
    #[error("{0}")]
    BadRequest(String),
    /// A template failed to render.
    #[error("template: {0}")]
    Template(#[from] askama::Error),
    /// The store failed or refused.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The hash-list store failed or refused.
    #[error(transparent)]
    Lists(#[from] takedown_hashlists::store::StoreError),
}

impl From<redis::RedisError> for WebError {
    fn from(e: redis::RedisError) -> Self {
        WebError::Store(StoreError::Redis(e))
    }
}

impl From<serde_json::Error> for WebError {
    fn from(e: serde_json::Error) -> Self {
        WebError::Store(StoreError::Json(e))
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    title: &'a str,
    message: &'a str,
}

fn error_page(status: StatusCode, title: &str, message: &str) -> Response {
    let page = ErrorPage {
        status: status.as_u16(),
        title,
        message,
    };
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(_) => (status, message.to_string()).into_response(),
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let msg = self.to_string();
        match &self {
            WebError::Unauthenticated => Redirect::to("/login").into_response(),
            WebError::Forbidden => error_page(StatusCode::FORBIDDEN, "Not allowed", &msg),
            WebError::Csrf => error_page(StatusCode::FORBIDDEN, "Refused", &msg),
            WebError::BadRequest(_) => {
                error_page(StatusCode::UNPROCESSABLE_ENTITY, "Cannot do that", &msg)
            }
            WebError::Store(StoreError::NotFound(_)) => {
                error_page(StatusCode::NOT_FOUND, "Not found", &msg)
            }
            WebError::Store(
                StoreError::State(_)
                | StoreError::NotHolder
                | StoreError::Sla(_)
                | StoreError::Decision(_),
            ) => error_page(StatusCode::CONFLICT, "Cannot do that", &msg),
            WebError::Lists(takedown_hashlists::store::StoreError::InvalidValue(_)) => {
                error_page(StatusCode::UNPROCESSABLE_ENTITY, "Cannot do that", &msg)
            }
            _ => {
                tracing::error!(error = %msg, "web ui: internal error");
                error_page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Internal error",
                    "Something went wrong; it has been logged.",
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;

    fn post(headers: &[(&str, &str)]) -> Request {
        let mut b = Request::builder().method("POST").uri("/queue/claim");
        b = b.header("host", "127.0.0.1:8080");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(Body::empty()).unwrap()
    }

    #[test]
    fn cross_site_posts_are_recognised() {
        // Fetch Metadata decides when present (Origin may be "null" under a referrer policy).
        assert!(!cross_site(&post(&[
            ("sec-fetch-site", "same-origin"),
            ("origin", "null")
        ])));
        assert!(cross_site(&post(&[("sec-fetch-site", "cross-site")])));
        assert!(cross_site(&post(&[("sec-fetch-site", "same-site")])));
        // Older browsers: Origin must name this host.
        assert!(!cross_site(&post(&[("origin", "http://127.0.0.1:8080")])));
        assert!(cross_site(&post(&[("origin", "http://localhost:8080")])));
        assert!(cross_site(&post(&[("origin", "null")])));
        // No browser headers at all (a script with no cookie jar): left to the CSRF token.
        assert!(!cross_site(&post(&[])));
    }
}
