//! Evidence routes: platforms push a case's media, readers list a case's evidence and fetch
//! its previews (the clean surface later consoles build on), legal staff download the
//! evidence package. Originals are never served by the API except inside a package.

use super::common::*;
use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use serde_json::json;
use std::sync::Arc;
use takedown_review::evidence::{EvidenceWorker, PushError};
use takedown_review::evidence_package::{self, PackageError};
use takedown_review::model::Role;
use takedown_review::store::ReviewStore;
use takedown_review::store::evidence::ItemStatus;

/// The routes of this module.
pub(crate) fn routes() -> Router<ReviewStore> {
    Router::new()
        .route(
            "/api/v1/cases/{id}/media",
            put(push).layer(axum::extract::DefaultBodyLimit::max(
                super::gate::MEDIA_LIMIT,
            )),
        )
        .route("/api/v1/cases/{id}/evidence", get(list))
        .route("/api/v1/cases/{id}/evidence/{sha}/preview", get(preview))
        .route("/api/v1/cases/{id}/evidence-package", get(package))
}

fn worker(options: &ApiOptions) -> Result<&EvidenceWorker, ApiError> {
    options.evidence.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "evidence_unavailable",
            "this server has no evidence store",
        )
    })
}

fn evidence_error(e: takedown_evidence::EvidenceError) -> ApiError {
    tracing::error!(code = e.code(), error = %e, "Evidence store failed.");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        e.code(),
        "the evidence could not be stored or read",
    )
}

async fn push(
    State(store): State<ReviewStore>,
    axum::Extension(options): axum::Extension<Arc<ApiOptions>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let who = authorize(&store, &headers, &[Role::Platform]).await?;
    let worker = worker(&options)?;
    if body.is_empty() {
        return Err(field_error("invalid_media", "media", "body", "is empty"));
    }
    if body.len() > super::gate::IMAGE_MEDIA_LIMIT
        && takedown_evidence::preview::video_type(&body).is_none()
    {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!(
                "media that is not a video is at most {} bytes",
                super::gate::IMAGE_MEDIA_LIMIT
            ),
        ));
    }
    let declared = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|t| {
            t.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    match worker
        .push(&id, &who.name, declared.as_deref(), body.to_vec())
        .await
    {
        Ok(item) => Ok((
            StatusCode::CREATED,
            Json(json!({"case_id": id, "item": item})),
        )
            .into_response()),
        Err(PushError::Store(e)) => Err(e.into()),
        Err(PushError::HashMismatch(what)) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "hash_mismatch",
            format!("the media matches none of the case's hashes ({what})"),
        )),
        Err(PushError::Evidence(e)) => Err(evidence_error(e)),
    }
}

async fn list(
    State(store): State<ReviewStore>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    authorize(&store, &headers, READERS).await?;
    store.case(&id).await?;
    let items: Vec<_> = store
        .evidence_items(&id)
        .await?
        .into_iter()
        .map(|(key, item)| {
            let preview = match (&item.sha256, item.has_preview, item.status) {
                (Some(sha), true, ItemStatus::Captured) => {
                    Some(format!("/api/v1/cases/{id}/evidence/{sha}/preview"))
                }
                _ => None,
            };
            json!({"key": key, "item": item, "preview_url": preview})
        })
        .collect();
    Ok(Json(json!({"case_id": id, "items": items})).into_response())
}

async fn preview(
    State(store): State<ReviewStore>,
    axum::Extension(options): axum::Extension<Arc<ApiOptions>>,
    headers: HeaderMap,
    Path((id, sha)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let who = authorize(&store, &headers, READERS).await?;
    let worker = worker(&options)?;
    let known = store.evidence_items(&id).await?.into_iter().any(|(_, i)| {
        i.status == ItemStatus::Captured && i.has_preview && i.sha256.as_deref() == Some(&sha)
    });
    if !known {
        return Err(not_found("preview"));
    }
    let jpeg = worker
        .evidence()
        .preview(&sha)
        .await
        .map_err(evidence_error)?;
    tracing::info!(case = %id, user = %who.name, sha256 = %sha, "Evidence preview read.");
    Ok((
        [
            (header::CONTENT_TYPE, "image/jpeg"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        jpeg,
    )
        .into_response())
}

async fn package(
    State(store): State<ReviewStore>,
    axum::Extension(options): axum::Extension<Arc<ApiOptions>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let who = authorize(&store, &headers, &[Role::Legal]).await?;
    let worker = worker(&options)?;
    let built = evidence_package::build(
        &store,
        worker.evidence(),
        &id,
        &who.name,
        &options.provider_name,
    );
    match built.await {
        Ok(tar) => Ok((
            [
                (header::CONTENT_TYPE, "application/x-tar".to_string()),
                (header::CACHE_CONTROL, "no-store".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"evidence-{id}.tar\""),
                ),
            ],
            tar,
        )
            .into_response()),
        Err(PackageError::Store(e)) => Err(e.into()),
        Err(PackageError::Evidence(e)) => Err(evidence_error(e)),
        Err(PackageError::Archive(e)) => {
            tracing::error!(error = %e, "Writing an evidence package failed.");
            Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the package could not be written",
            ))
        }
    }
}
