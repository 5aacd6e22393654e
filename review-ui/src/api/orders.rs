//! Removal-order routes: TCO orders (receipt, reading back, the Annex II reply) and Australian
//! removal notices.

use super::common::*;
use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;
use takedown_review::annexes;
use takedown_review::au_notice::parse_au_notice;
use takedown_review::model::Role;
use takedown_review::order::parse_order_with;
use takedown_review::sla::SCRUTINY_REQUEST_WINDOW;
use takedown_review::store::ReviewStore;

/// The routes of this module.
pub(crate) fn routes() -> Router<ReviewStore> {
    Router::new()
        .route("/api/v1/removal-orders", post(post_order))
        .route("/api/v1/removal-orders/{id}", get(get_order))
        .route("/api/v1/removal-orders/{id}/annex-ii", get(annex_ii))
        .route("/api/v1/removal-notices/au", post(post_au_notice))
        .route("/api/v1/removal-notices/au/{id}", get(get_au_notice))
}

async fn post_order(
    State(store): State<ReviewStore>,
    axum::Extension(options): axum::Extension<std::sync::Arc<ApiOptions>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    // The receipt time is taken before anything else can delay it.
    let received_at = store.clock().now();
    let who = authorize(&store, &headers, &[Role::AuthorityClient, Role::Legal]).await?;
    let order = parse_order_with(&body, &options.order_limits, Some(received_at))
        .map_err(|errors| field_errors("invalid_order", "removal order", errors))?;
    let (record, created) = store
        .receive_order(&body, order, &who.name, received_at)
        .await?;
    let annex_iii = annexes::annex_iii_draft(&record, received_at);
    let scrutiny = record.order.cross_border().then(|| {
        json!({"note": "cross-border order (Art. 4): scrutiny may be requested from the Member State of establishment",
               "request_by": (record.received_at + SCRUTINY_REQUEST_WINDOW).format(&time::format_description::well_known::Rfc3339).unwrap_or_default()})
    });
    Ok(created_or_repeated(
        created,
        json!({"order": record, "annex_iii_draft": annex_iii, "scrutiny": scrutiny}),
    ))
}

async fn get_order(
    State(store): State<ReviewStore>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let who = authorize(
        &store,
        &headers,
        &[Role::AuthorityClient, Role::Legal, Role::Auditor],
    )
    .await?;
    let record = store.order(&id).await?;
    only_own(&who, &record.submitted_by, &format!("order {id}"))?;
    Ok(Json(record).into_response())
}

#[derive(Deserialize)]
struct FormatQuery {
    format: Option<String>,
}

/// Annex II for an order whose every case's takedown action the platform has enforced;
/// `?format=text` renders the plain-text form.
async fn annex_ii(
    State(store): State<ReviewStore>,
    axum::Extension(options): axum::Extension<Arc<ApiOptions>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    axum::extract::Query(query): axum::extract::Query<FormatQuery>,
) -> Result<Response, ApiError> {
    let who = authorize(
        &store,
        &headers,
        &[Role::Legal, Role::Auditor, Role::AuthorityClient],
    )
    .await?;
    let record = store.order(&id).await?;
    only_own(&who, &record.submitted_by, &format!("order {id}"))?;
    let reply = match annexes::annex_ii(&store, &record, &options.provider_name, &who.name).await? {
        Ok(reply) => reply,
        Err(problems) => {
            let mut e = ApiError::new(
                StatusCode::CONFLICT,
                "not_enforced",
                "Annex II is available once every URL of the order was removed or disabled and enforced",
            );
            e.errors = Some(json!(problems));
            return Err(e);
        }
    };
    let a = &record.order.section_a;
    if query.format.as_deref() == Some("text") {
        return Ok((
            [("content-type", "text/plain; charset=utf-8")],
            reply.to_text(a),
        )
            .into_response());
    }
    Ok(Json(reply).into_response())
}

/// An eSafety Commissioner removal notice (Online Safety Act 2021 s109/s110).
async fn post_au_notice(
    State(store): State<ReviewStore>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    // The receipt time is taken before anything else can delay it.
    let received_at = store.clock().now();
    let who = authorize(&store, &headers, &[Role::AuthorityClient, Role::Legal]).await?;
    let notice = parse_au_notice(&body, received_at)
        .map_err(|e| field_errors("invalid_au_notice", "Australian removal notice", e))?;
    let (record, created) = store
        .receive_au_notice(&body, notice, &who.name, received_at)
        .await?;
    Ok(created_or_repeated(
        created,
        json!({"notice": record, "case_ids": record.case_ids, "due_at": rfc3339(record.due_at)}),
    ))
}

async fn get_au_notice(
    State(store): State<ReviewStore>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let who = authorize(
        &store,
        &headers,
        &[Role::Legal, Role::Auditor, Role::AuthorityClient],
    )
    .await?;
    let record = store.au_notice(&id).await?;
    only_own(
        &who,
        &record.submitted_by,
        &format!("Australian removal notice {id}"),
    )?;
    Ok(Json(record).into_response())
}
