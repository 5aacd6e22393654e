//! Per-queue access on the API's case routes: a reviewer's token (moderator, senior
//! moderator, legal, auditor) whose role may not see a case's queue gets `404 not_found`
//! for every `/api/v1/cases/{id}…` route, as the web UI's pages do. Other roles (the
//! platform pushing media, admins) are left to each route's own role check.

use super::common::{ApiError, bearer};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use takedown_review::routing::QUEUE_ROLES;
use takedown_review::store::{ReviewStore, tokens};

/// The case id of a path under `/api/v1/cases/{id}`.
fn case_of(path: &str) -> Option<&str> {
    let id = path.strip_prefix("/api/v1/cases/")?.split('/').next()?;
    (!id.is_empty()).then_some(id)
}

/// Refuses a case route as "not found" to a reviewer who may not see the case's queue.
pub(crate) async fn guard(State(store): State<ReviewStore>, req: Request, next: Next) -> Response {
    let Some(id) = case_of(req.uri().path()) else {
        return next.run(req).await;
    };
    let Some(token) = bearer(req.headers()) else {
        return next.run(req).await;
    };
    let principal = match tokens::principal(&store, token).await {
        Ok(Some(p)) => p,
        // Unknown tokens and store errors: the route's own check answers.
        _ => return next.run(req).await,
    };
    if !QUEUE_ROLES.contains(&principal.role) {
        return next.run(req).await;
    }
    match store.may_see_case(id, principal.role).await {
        Ok(false) => ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("case {id} not found"),
        )
        .into_response(),
        Ok(true) => next.run(req).await,
        Err(e) => ApiError::from(e).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_paths_name_their_case() {
        assert_eq!(case_of("/api/v1/cases/m-1"), Some("m-1"));
        assert_eq!(case_of("/api/v1/cases/m-1/decision"), Some("m-1"));
        assert_eq!(case_of("/api/v1/cases/"), None);
        assert_eq!(case_of("/api/v1/queue"), None);
    }
}
