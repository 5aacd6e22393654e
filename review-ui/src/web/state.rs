//! What every web handler shares: the UI's configuration, the state handed to each handler, and
//! the one error type pages return (rendered as an error page, internal errors logged in full
//! and shown generically).
//!
//! It sits below the page modules so that they and the router in `mod.rs` depend on it, never on
//! each other.

use super::changes;
use super::login_guard::{HashPool, LoginLimits};
use super::ops;
use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use std::sync::Arc;
use takedown_review::store::{ReviewStore, StoreError};

/// Where the reports page reads from: the report directory the `takedown report` jobs use
/// (ledger files and the statements outbox), the mapping they use, and the provider's name.
#[derive(Clone, Debug)]
pub struct ReportsConfig {
    /// The report directory (`TAKEDOWN_REPORTS_DIR`).
    pub dir: std::path::PathBuf,
    /// The category and statement mapping.
    pub mapping: takedown_reports::mapping::Mapping,
    /// The provider's name in the reports.
    pub provider: String,
}

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
    /// The login guard's limits (hashing pool, throttle).
    pub login: LoginLimits,
    /// The evidence store the case pages show previews and revealed originals from; `None`
    /// shows every case as having no media.
    pub evidence: Option<takedown_evidence::EvidenceStore>,
    /// The report directory and mapping the reports page reads; `None` hides the page.
    pub reports: Option<ReportsConfig>,
    /// Standard reasons the decision form offers, as (outcome code, reason): choosing one
    /// fills the justification, which stays editable.
    pub canned_reasons: Vec<(String, String)>,
    /// Originals revealed in one hour after which the case page suggests a break (0: never).
    pub break_after_reveals: u64,
}

/// The standard reasons a deployment starts with (replace them in [`WebConfig`]).
pub fn default_canned_reasons() -> Vec<(String, String)> {
    [
        (
            "remove",
            "Propaganda of a designated terrorist group, re-uploaded unchanged.",
        ),
        ("remove", "Glorifies a recent attack and its perpetrators."),
        (
            "not_terrorist_content",
            "News reporting on the attack, without glorification or a call to action.",
        ),
        (
            "not_terrorist_content",
            "Counter-speech: the post condemns the attack.",
        ),
        (
            "not_terrorist_content",
            "False match: the media is unrelated to the listed item.",
        ),
        (
            "escalate",
            "The purpose (Art. 1(3)) is unclear; a senior should judge it.",
        ),
        ("escalate", "In a language or context I cannot assess."),
        (
            "threat_to_life",
            "The post announces an imminent attack on a named place or person.",
        ),
        (
            "restore",
            "The complaint shows the material is journalistic; the removal is reversed.",
        ),
    ]
    .into_iter()
    .map(|(o, r)| (o.to_string(), r.to_string()))
    .collect()
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            session_idle: time::Duration::minutes(30),
            session_max: time::Duration::hours(10),
            snapshot_every: std::time::Duration::from_secs(30),
            lists: None,
            login: LoginLimits::default(),
            evidence: None,
            reports: None,
            canned_reasons: default_canned_reasons(),
            break_after_reveals: 40,
        }
    }
}

/// What every handler shares.
#[derive(Clone)]
pub(crate) struct AppState {
    pub store: ReviewStore,
    pub cfg: Arc<WebConfig>,
    pub ops: Arc<ops::Scripts>,
    pub snapshot: Arc<changes::Snapshots>,
    pub hash_pool: Arc<HashPool>,
}

/// Why a page or action failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WebError {
    /// No valid session: go to the login page.
    #[error("login required")]
    Unauthenticated,
    /// The account must change its password first: go to the change form.
    #[error("change your password first")]
    PasswordChange,
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
    /// No such page or file.
    #[error("{0}")]
    NotFound(String),
    /// Reading the report directory or writing a report failed.
    #[error("reports: {0}")]
    Reports(String),
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

pub(crate) fn error_page(status: StatusCode, title: &str, message: &str) -> Response {
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
            WebError::PasswordChange => Redirect::to("/account/password").into_response(),
            WebError::Forbidden => error_page(StatusCode::FORBIDDEN, "Not allowed", &msg),
            WebError::Csrf => error_page(StatusCode::FORBIDDEN, "Refused", &msg),
            WebError::BadRequest(_) => {
                error_page(StatusCode::UNPROCESSABLE_ENTITY, "Cannot do that", &msg)
            }
            WebError::Store(StoreError::Invalid(_) | StoreError::InvalidField(_)) => {
                error_page(StatusCode::UNPROCESSABLE_ENTITY, "Cannot do that", &msg)
            }
            WebError::Store(StoreError::NotFound(_)) | WebError::NotFound(_) => {
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
