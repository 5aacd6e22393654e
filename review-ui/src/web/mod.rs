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
//! of open cases behind filters, counts and the SLA dashboard), `queue` (the queue, claiming,
//! the reveal preference), `case` (a case, decisions, media), `chrome` (role sets and what the
//! layout shows of the user), `state` (configuration, shared state, errors), `dashboard` (the SLA dashboard), `dashboard_scope` (the cases it counts: the viewer's queues, one chosen queue), `charts` (its
//! linked SVG charts), `audit_browser`, `list_browser` (hash-list entries), `accounts`
//! (account management, the password change), `view`
//! (formatting, defanging, the SVG chart), `media` (what the page shows of a case's evidence,
//! reveal grants), `evidence` (the preview, reveal and original routes), `reports` (the
//! reports page: figures, downloads and the statements outbox, from `takedown-reports`),
//! `queues` (the admin's queues and routing rules, the per-queue access check on every case
//! page), `appeals` (complaints: the contested decision beside the explanation, outcomes),
//! `qa` (blind second reviews and agreement rates).

mod accounts;
mod appeals;
mod audit_browser;
pub mod auth;
mod case;
mod changes;
mod charts;
mod chrome;
mod dashboard;
mod dashboard_scope;
mod evidence;
mod list_browser;
mod login_guard;
mod media;
mod ops;
mod post_text;
mod qa;
mod queue;
mod queues;
mod reports;
mod snapshot;
mod state;
mod view;
mod wellness;
mod words;

pub use auth::{UserError, add_user, set_disabled, set_role};
pub use login_guard::LoginLimits;
pub use state::{ReportsConfig, WebConfig, default_canned_reasons};

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use state::{AppState, error_page};
use std::sync::Arc;
use takedown_review::store::ReviewStore;

/// The UI's router over `store`: pages, form posts and the vendored static files. Merge it
/// with [`crate::api::router`]; its routes do not overlap the API's.
pub fn router(store: ReviewStore, cfg: WebConfig) -> Router {
    let state = AppState {
        snapshot: Arc::new(changes::Snapshots::new(cfg.snapshot_every)),
        hash_pool: Arc::new(login_guard::HashPool::new(
            cfg.login.hash_workers,
            cfg.login.hash_queue,
        )),
        cfg: Arc::new(cfg),
        ops: Arc::new(ops::Scripts::new()),
        store,
    };
    Router::new()
        .merge(auth::routes())
        .merge(queue::routes())
        .merge(wellness::routes())
        .merge(case::routes())
        .merge(evidence::routes())
        .merge(dashboard::routes())
        .merge(audit_browser::routes())
        .merge(list_browser::routes())
        .merge(accounts::routes())
        .merge(reports::routes())
        .merge(queues::routes())
        .merge(appeals::routes())
        .merge(qa::routes())
        .merge(view::static_routes())
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            queues::case_guard,
        ))
        .layer(axum::middleware::from_fn(guard))
        .with_state(state)
}

/// The Content-Security-Policy of every page: scripts and styles only from our own static
/// files, no inline code, no framing, forms post only to us.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
     media-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

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
    // A page asked for without a session comes back after the login.
    let asked = match safe {
        true => req.uri().path_and_query().map(|p| p.as_str().to_string()),
        false => None,
    };
    let mut resp = next.run(req).await;
    if let Some(asked) = asked
        && resp.status().is_redirection()
        && resp.headers().get(header::LOCATION).map(|l| l.as_bytes()) == Some(b"/login")
        && auth::next_page(Some(&asked)) == asked
        && asked != "/queue"
    {
        let encoded: String = form_urlencoded::byte_serialize(asked.as_bytes()).collect();
        if let Ok(v) = HeaderValue::from_str(&format!("/login?next={encoded}")) {
            resp.headers_mut().insert(header::LOCATION, v);
        }
    }
    secure_headers(&mut resp);
    resp
}

/// Any other address: a 404 page. Never a redirect to the login, even without a session:
/// a browser's own requests (`/favicon.ico`) would fetch the login page again and replace
/// the login form's token while the form is being filled in.
async fn not_found() -> Response {
    error_page(
        StatusCode::NOT_FOUND,
        "Not found",
        "There is no page at this address. It may have been mistyped, or the case may have \
         been purged.",
    )
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
