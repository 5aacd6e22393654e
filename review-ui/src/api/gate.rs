//! The API's front door: what every `/api/v1/` request passes before a handler reads its body.
//!
//! A request without a live bearer token is refused with a JSON 401 before its body is read
//! (an anonymous caller cannot make us parse anything); a body over the limit gets a JSON 413
//! from its `Content-Length` alone; a body that is not declared `application/json` gets a JSON
//! 415. Errors that axum itself produces (a body cut off at the limit, a malformed JSON body for
//! a typed extractor, an unknown route or method) are turned into the API's JSON error shape
//! with a fixed message, so no reply is plain text and none echoes what the caller sent.
//! Roles are still checked by each handler.

use super::common::{ApiError, bearer};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use takedown_review::store::{ReviewStore, tokens};

/// The largest request body, in bytes (an order of 1,000 URLs of 2 KiB each fits).
pub const BODY_LIMIT: usize = 4 * 1024 * 1024;

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
}

fn has_body(headers: &HeaderMap) -> bool {
    let length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    length.is_some_and(|n| n > 0) || headers.contains_key(header::TRANSFER_ENCODING)
}

/// Largest pushed media body (`PUT /api/v1/cases/{id}/media`): the fetcher's video cap (a
/// body that is not a video is then held to [`IMAGE_MEDIA_LIMIT`] by the route).
pub(crate) const MEDIA_LIMIT: usize = takedown_evidence::preview::MAX_VIDEO_BYTES;

/// Largest pushed body that is not a video: the fetcher's image cap.
pub(crate) const IMAGE_MEDIA_LIMIT: usize = 50 * 1024 * 1024;

/// Whether a request pushes media: its body is the media itself, in its own content type.
fn is_media_push(method: &Method, path: &str) -> bool {
    *method == Method::PUT && path.starts_with("/api/v1/cases/") && path.ends_with("/media")
}

/// The middleware: authentication, size and type before the body, JSON errors after.
pub(crate) async fn gate(State(store): State<ReviewStore>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if path.starts_with("/api/v1/") && path != "/api/v1/openapi.json" {
        let refused = |status, code, message: &str| ApiError::new(status, code, message);
        match bearer(req.headers()) {
            None => {
                return refused(
                    StatusCode::UNAUTHORIZED,
                    "unauthenticated",
                    "bearer token required",
                )
                .into_response();
            }
            Some(token) => match tokens::principal(&store, token).await {
                Ok(Some(_)) => {}
                Ok(None) => {
                    return refused(StatusCode::UNAUTHORIZED, "unauthenticated", "unknown token")
                        .into_response();
                }
                Err(e) => return ApiError::from(e).into_response(),
            },
        }
        let length = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let media = is_media_push(req.method(), path);
        let limit = if media { MEDIA_LIMIT } else { BODY_LIMIT };
        if length.is_some_and(|n| n > limit as u64) {
            return refused(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                &format!("request bodies are at most {limit} bytes"),
            )
            .into_response();
        }
        if !media
            && req.method() != Method::GET
            && has_body(req.headers())
            && !is_json(req.headers())
        {
            return refused(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as Content-Type: application/json",
            )
            .into_response();
        }
    }
    as_json(next.run(req).await)
}

/// An error reply that is not JSON (axum's own rejections) in the API's JSON shape.
fn as_json(resp: Response) -> Response {
    let status = resp.status();
    let json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || json {
        return resp;
    }
    let (code, message) = match status {
        StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => (
            "invalid_body",
            "the request body is not JSON of the expected shape",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "the request body is too large"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "unsupported_media_type",
            "send the body as Content-Type: application/json",
        ),
        StatusCode::NOT_FOUND => ("not_found", "no such route"),
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "method not allowed here"),
        _ => ("error", "the request failed"),
    };
    let mut out = ApiError::new(status, code, message).into_response();
    // Keep headers such as Allow; the body and its type are ours.
    for (name, value) in resp.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            out.headers_mut().insert(name.clone(), value.clone());
        }
    }
    out
}
