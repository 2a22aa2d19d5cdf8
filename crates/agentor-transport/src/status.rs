//! What a failed HTTP answer or request says, as an [`Error`].
//!
//! ```
//! use agentor_transport::status::status_error;
//! use reqwest::StatusCode;
//!
//! let body = br#"{"error":{"message":"Rate limit reached"}}"#;
//! let error = status_error(StatusCode::TOO_MANY_REQUESTS, body);
//! assert_eq!(error.message(), "429 Too Many Requests: Rate limit reached");
//! assert_eq!(error.status(), Some(429));
//! ```

use std::time::Duration;

use agentor_core::Error;
use reqwest::header::HeaderMap;
use reqwest::StatusCode;

/// Error bodies are read up to this much: enough for any real message.
pub const MAX_ERROR_BODY: usize = 64 * 1024;

/// How much of a body that is not an OpenAI error makes it into the message.
const MAX_QUOTED_CHARS: usize = 500;

/// `"<status> <reason>: <detail>"` with the status attached, where the detail
/// is the server's `error.message` when the body is OpenAI-shaped JSON, else
/// the start of the body.
pub fn status_error(status: StatusCode, body: &[u8]) -> Error {
    let reason = status.canonical_reason().unwrap_or("");
    let head = format!("{} {reason}", status.as_u16());
    let head = head.trim_end();
    let detail = error_detail(body);
    let message = if detail.is_empty() {
        head.to_owned()
    } else {
        format!("{head}: {detail}")
    };
    Error::provider(message).with_status(status.as_u16())
}

/// The server's explanation in an error body: `error.message` (OpenAI, and
/// a JSON-RPC error), a bare `error` string, or a top-level `message`
/// (vLLM), else the quoted body.
pub fn error_detail(body: &[u8]) -> String {
    if let Ok(json) = serde_json::from_slice::<serde_json::Value>(body) {
        let message = json
            .pointer("/error/message")
            .or_else(|| json.get("error").filter(|e| e.is_string()))
            .or_else(|| json.get("message"))
            .and_then(serde_json::Value::as_str);
        if let Some(message) = message {
            return message.trim().to_owned();
        }
    }
    truncate(String::from_utf8_lossy(body).trim(), MAX_QUOTED_CHARS)
}

/// `text` cut to `max` characters, with an ellipsis when cut.
pub fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// Whether a status is worth another attempt: rate limits and server errors.
pub fn is_retryable(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

/// The wait the server asked for: OpenAI's `retry-after-ms`, else
/// `Retry-After` in seconds (an HTTP date is ignored).
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let number = |name: &str| -> Option<f64> {
        let value = headers
            .get(name)?
            .to_str()
            .ok()?
            .trim()
            .parse::<f64>()
            .ok()?;
        (value.is_finite() && value >= 0.0).then_some(value)
    };
    // `try_from`: a huge value must not panic.
    let ms = number("retry-after-ms").and_then(|ms| Duration::try_from_secs_f64(ms / 1000.0).ok());
    ms.or_else(|| Duration::try_from_secs_f64(number("retry-after")?).ok())
}

/// An error and its causes, joined: reqwest's own message alone ("error
/// sending request") hides what happened.
pub fn describe(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn openai_error_bodies_give_their_message() {
        let body = br#"{"error":{"message":"Incorrect API key provided.","type":"invalid_request_error","code":"invalid_api_key"}}"#;
        let err = status_error(StatusCode::UNAUTHORIZED, body);
        assert_eq!(
            err.message(),
            "401 Unauthorized: Incorrect API key provided."
        );
        assert_eq!(err.status(), Some(401));
        let vllm = br#"{"object":"error","message":"model not found","code":404}"#;
        assert_eq!(error_detail(vllm), "model not found");
        assert_eq!(error_detail(br#"{"error":"bad"}"#), "bad");
    }

    #[test]
    fn other_bodies_are_quoted_and_cut() {
        let body = "é".repeat(600);
        let detail = error_detail(body.as_bytes());
        assert_eq!(detail.chars().count(), 501);
        assert!(detail.ends_with('…'));
        let err = status_error(StatusCode::BAD_GATEWAY, b"");
        assert_eq!(err.message(), "502 Bad Gateway");
        assert_eq!(error_detail(b"\xFF oops"), "\u{FFFD} oops");
    }

    #[test]
    fn retry_after_reads_seconds_and_milliseconds() {
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert("retry-after", HeaderValue::from_static("2"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(2)));
        headers.insert("retry-after-ms", HeaderValue::from_static("150"));
        assert_eq!(retry_after(&headers), Some(Duration::from_millis(150)));
        headers.insert("retry-after-ms", HeaderValue::from_static("-1"));
        headers.insert(
            "retry-after",
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&headers), None);
        headers.insert("retry-after", HeaderValue::from_static("1e300"));
        assert_eq!(retry_after(&headers), None);
    }
}
