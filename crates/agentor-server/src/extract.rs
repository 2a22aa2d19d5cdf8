//! [`ParsedChat`]: the `/chat` extractor, whose every rejection is a JSON
//! [`ApiError`] with a precise status and code.

use agentor::wire::Framing;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, Query, Request};
use axum::http::{header, HeaderMap, StatusCode};
use serde_json::error::Category;

use crate::error::ApiError;
use crate::options::{ChatBody, QueryOptions, RunOptions};

/// A parsed and validated `/chat` request.
#[derive(Debug)]
pub(crate) struct ParsedChat {
    pub(crate) input: crate::options::InputBody,
    pub(crate) options: RunOptions,
    pub(crate) framing: Framing,
}

impl<S: Send + Sync> FromRequest<S> for ParsedChat {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let query = query_options(&req)?;
        let framing = framing(req.headers());
        let body: ChatBody = read_json(req, state, "a JSON object with `input`").await?;
        let options = RunOptions::resolve(body.stream, body.options, query)?;
        Ok(ParsedChat {
            input: body.input,
            options,
            framing,
        })
    }
}

/// Reads a request's JSON body into `T`: `415` without a JSON content
/// type, `413` past the body limit, `400` for an empty body (`expected`
/// says what was expected), bad UTF-8 or bad JSON, `422` for JSON of the
/// wrong shape. Every rejection is a JSON [`ApiError`].
pub(crate) async fn read_json<T, S>(req: Request, state: &S, expected: &str) -> Result<T, ApiError>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    if !is_json(req.headers()) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "expected `Content-Type: application/json`",
        ));
    }
    let bytes = Bytes::from_request(req, state)
        .await
        .map_err(body_rejection)?;
    if bytes.is_empty() {
        return Err(ApiError::bad_request(
            "invalid_json",
            format!("empty body: expected {expected}"),
        ));
    }
    if let Err(e) = std::str::from_utf8(&bytes) {
        return Err(ApiError::bad_request(
            "invalid_utf8",
            format!("the body is not valid UTF-8: {e}"),
        ));
    }
    serde_json::from_slice(&bytes).map_err(|e| match e.classify() {
        Category::Data => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
            e.to_string(),
        ),
        Category::Syntax | Category::Eof | Category::Io => {
            ApiError::bad_request("invalid_json", e.to_string())
        }
    })
}

/// The pipeline options in a request's query string.
pub(crate) fn query_options(req: &Request) -> Result<QueryOptions, ApiError> {
    Ok(Query::<QueryOptions>::try_from_uri(req.uri())
        .map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?
        .0)
}

fn body_rejection(rejection: BytesRejection) -> ApiError {
    if crate::body_deadline::is_body_timeout(&rejection) {
        return ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "body_timeout",
            rejection.body_text(),
        );
    }
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            rejection.body_text(),
        )
    } else {
        ApiError::bad_request("invalid_body", rejection.body_text())
    }
}

/// `application/json`, with parameters (`; charset=utf-8`) or a `+json` suffix.
pub(crate) fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("application/json")
        || (essence.len() > 5
            && essence.starts_with("application/")
            && essence.to_ascii_lowercase().ends_with("+json"))
}

/// NDJSON when an `Accept` header names it, SSE otherwise.
pub(crate) fn framing(headers: &HeaderMap) -> Framing {
    let ndjson = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|accept| Framing::from_accept(accept) == Framing::Ndjson);
    if ndjson {
        Framing::Ndjson
    } else {
        Framing::Sse
    }
}
