//! [`ApiError`]: every error response, as `{"error": {"code", "message"}}`.

use agentor::error::excerpt;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// The longest run id looked up (characters): the server's own are far
/// shorter; a longer one is refused before any lookup.
pub const MAX_RUN_ID_CHARS: usize = 128;

/// An error answered as JSON: `{"error": {"code": "<snake_case>", "message": "…"}}`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// A stable snake_case code for programs.
    pub code: &'static str,
    /// A human-readable explanation.
    pub message: String,
}

impl ApiError {
    /// An error with `status`, `code` and `message`.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            // The last bound on what an answer echoes of a request.
            message: agentor::error::bounded_message(message.into()),
        }
    }

    /// `400 invalid_run_id` for a run id longer than any the server makes
    /// ([`MAX_RUN_ID_CHARS`]), else `404 unknown_run`: no log of `run_id` is kept.
    pub(crate) fn unknown_run(run_id: &str) -> Self {
        if run_id.chars().nth(MAX_RUN_ID_CHARS).is_some() {
            return ApiError::bad_request(
                "invalid_run_id",
                format!(
                    "`{}` is not a run id: run ids have at most {MAX_RUN_ID_CHARS} characters",
                    excerpt(run_id)
                ),
            );
        }
        ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_run",
            format!(
                "no run `{}` is kept (unknown, or evicted after its retention)",
                excerpt(run_id)
            ),
        )
    }

    pub(crate) fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// An invalid value for the pipeline option `option`.
    pub(crate) fn invalid_option(option: &str, message: impl std::fmt::Display) -> Self {
        ApiError::bad_request(
            "invalid_option",
            format!("invalid value for option `{option}`: {message}"),
        )
    }

    /// The code and message a bare status gets when something below the
    /// handlers (the router, a tower layer) answered without a JSON body.
    fn for_status(status: StatusCode) -> Self {
        let (code, message) = match status {
            StatusCode::NOT_FOUND => ("not_found", "no such route"),
            StatusCode::METHOD_NOT_ALLOWED => {
                ("method_not_allowed", "method not allowed on this route")
            }
            StatusCode::PAYLOAD_TOO_LARGE => ("body_too_large", "request body too large"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                ("unsupported_media_type", "unsupported content type")
            }
            StatusCode::REQUEST_TIMEOUT => ("request_timeout", "request timed out"),
            s if s.is_server_error() => ("internal", "internal server error"),
            _ => ("http_error", status.canonical_reason().unwrap_or("error")),
        };
        ApiError::new(status, code, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"code": self.code, "message": self.message}});
        let mut response = (self.status, axum::Json(body)).into_response();
        match self.status {
            StatusCode::UNAUTHORIZED => {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            StatusCode::SERVICE_UNAVAILABLE => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            _ => {}
        }
        response
    }
}

/// Gives a JSON body to error responses produced without one (axum's 405,
/// tower-http's 413, anything unforeseen), keeping their headers (`Allow`).
pub(crate) async fn json_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    let fresh = ApiError::for_status(status).into_response();
    let (fresh_parts, body) = fresh.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    for (name, value) in &fresh_parts.headers {
        parts.headers.insert(name.clone(), value.clone());
    }
    Response::from_parts(parts, body)
}
