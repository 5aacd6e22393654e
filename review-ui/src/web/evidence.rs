//! The evidence routes of the case page: the preview (for a video, each tile of its strip),
//! the audited reveal, and the original (only behind a reveal grant, see `media`).

use super::auth::{Session, field, form_pairs};
use super::chrome::READERS;
use super::media;
use super::state::{AppState, WebError};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde_json::json;
use takedown_evidence::EvidenceStore;
use takedown_review::store::StoreError;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/cases/{id}/evidence/{sha}/preview", get(preview))
        .route(
            "/cases/{id}/evidence/{sha}/preview/{tile}",
            get(preview_tile),
        )
        .route("/cases/{id}/evidence/{sha}/reveal", post(reveal))
        .route("/cases/{id}/evidence/{sha}/original", get(original))
}

fn not_found(what: String) -> WebError {
    WebError::Store(StoreError::NotFound(what))
}

fn evidence(state: &AppState) -> Result<&EvidenceStore, WebError> {
    state
        .cfg
        .evidence
        .as_ref()
        .ok_or_else(|| not_found("the evidence store".into()))
}

fn read_failed(e: takedown_evidence::EvidenceError, case: &str) -> WebError {
    tracing::error!(case = %case, code = e.code(), error = %e, "Reading evidence failed.");
    WebError::Store(StoreError::Invalid(format!(
        "the evidence could not be read ({})",
        e.code()
    )))
}

async fn preview(
    State(state): State<AppState>,
    session: Session,
    Path((id, sha)): Path<(String, String)>,
) -> Result<Response, WebError> {
    session.require(READERS)?;
    let store = evidence(&state)?;
    let item = media::captured(&state.store, &id, &sha).await?;
    if !item.is_some_and(|i| i.has_preview) {
        return Err(not_found(format!("a preview of {sha} in case {id}")));
    }
    let jpeg = store.preview(&sha).await.map_err(|e| read_failed(e, &id))?;
    tracing::info!(case = %id, user = %session.name, sha256 = %sha, "Evidence preview read.");
    Ok((
        [
            (header::CONTENT_TYPE, "image/jpeg"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        jpeg,
    )
        .into_response())
}

async fn preview_tile(
    State(state): State<AppState>,
    session: Session,
    Path((id, sha, tile)): Path<(String, String, usize)>,
) -> Result<Response, WebError> {
    session.require(READERS)?;
    let store = evidence(&state)?;
    let item = media::captured(&state.store, &id, &sha).await?;
    let count = item
        .filter(|i| i.has_preview)
        .map(|i| i.keyframes_ms.len())
        .unwrap_or(0);
    if tile >= count {
        return Err(not_found(format!("tile {tile} of {sha} in case {id}")));
    }
    let jpeg = store
        .preview_tile(&sha, tile, count)
        .await
        .map_err(|e| read_failed(e, &id))?;
    tracing::info!(case = %id, user = %session.name, sha256 = %sha, tile,
        "Evidence preview read.");
    Ok((
        [
            (header::CONTENT_TYPE, "image/jpeg"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        jpeg,
    )
        .into_response())
}

async fn reveal(
    State(state): State<AppState>,
    session: Session,
    Path((id, sha)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WebError> {
    session.require(READERS)?;
    let pairs = form_pairs(&body);
    let from_script = headers.get("x-csrf-token").and_then(|v| v.to_str().ok());
    session.check_csrf(from_script.or(field(&pairs, "csrf")))?;
    if media::captured(&state.store, &id, &sha).await?.is_none() {
        return Err(not_found(format!("evidence {sha} in case {id}")));
    }
    // A QA review's reveal returns to its task (never to the case page, which shows the
    // first outcome); only a path of that shape is followed.
    let back = field(&pairs, "back").filter(|b| is_qa_task_path(b));
    state
        .store
        .audit_evidence(
            &id,
            &session.name,
            "evidence.revealed",
            &json!({"sha256": sha}),
            if back.is_some() {
                "QA review"
            } else {
                "case page"
            },
        )
        .await?;
    media::grant(&state.store, &session.name, &id, &sha).await?;
    let exposure = super::wellness::count_reveal(&state, &session.name).await?;
    if from_script.is_some() {
        return Ok((
            [(header::CONTENT_TYPE, "application/json")],
            json!({ "exposure": exposure }).to_string(),
        )
            .into_response());
    }
    if let Some(back) = back {
        return Ok(Redirect::to(&format!("{back}#evidence")).into_response());
    }
    Ok(Redirect::to(&format!("/cases/{id}#evidence")).into_response())
}

/// Whether `path` is a QA task's page (`/qa/` and an id of letters, digits and `-`).
fn is_qa_task_path(path: &str) -> bool {
    path.strip_prefix("/qa/").is_some_and(|id| {
        !id.is_empty()
            && id.len() <= 80
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    })
}

async fn original(
    State(state): State<AppState>,
    session: Session,
    Path((id, sha)): Path<(String, String)>,
) -> Result<Response, WebError> {
    session.require(READERS)?;
    let store = evidence(&state)?;
    if media::captured(&state.store, &id, &sha).await?.is_none() {
        return Err(not_found(format!("evidence {sha} in case {id}")));
    }
    if !media::granted(&state.store, &session.name, &id, &sha).await? {
        return Err(WebError::Forbidden);
    }
    let (ty, bytes) = store
        .original(&sha)
        .await
        .map_err(|e| read_failed(e, &id))?;
    state
        .store
        .audit_evidence(
            &id,
            &session.name,
            "evidence.read",
            &json!({"sha256": sha, "content_type": ty}),
            "revealed on the case page",
        )
        .await?;
    let served = if media::INLINE.contains(&ty.as_str()) {
        ty
    } else {
        "text/plain; charset=utf-8".to_string()
    };
    Ok((
        [
            (header::CONTENT_TYPE, served),
            (header::CACHE_CONTROL, "no-store".to_string()),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; sandbox".to_string(),
            ),
        ],
        bytes,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::is_qa_task_path;

    #[test]
    fn a_reveal_returns_only_to_a_qa_task() {
        assert!(is_qa_task_path("/qa/qa-0123abcd"));
        for not in [
            "/qa/",
            "/qa",
            "//evil.example/qa/x",
            "/qa/x/../../cases/m-1",
            "/qa/x?y",
            "https://evil.example/qa/x",
            "/cases/m-1",
        ] {
            assert!(!is_qa_task_path(not), "{not}");
        }
    }
}
