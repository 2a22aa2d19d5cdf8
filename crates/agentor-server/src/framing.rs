//! [`Framing`]: how a streamed run's events are laid out on the wire.

use axum::http::HeaderMap;

/// How a streamed run's events are framed on the wire.
///
/// ```
/// use agentor_server::Framing;
///
/// assert_eq!(Framing::Sse.content_type(), "text/event-stream");
/// assert_eq!(Framing::Ndjson.content_type(), "application/x-ndjson");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Framing {
    /// `text/event-stream`: `id:`, `event:`, `data:` frames, heartbeat
    /// comments, and a terminal `event: done`.
    #[default]
    Sse,
    /// `application/x-ndjson`: one JSON event per line, no heartbeat (NDJSON
    /// has no comment syntax; an empty line would break strict readers).
    Ndjson,
}

impl Framing {
    /// NDJSON when the request's `Accept` names `application/x-ndjson`,
    /// SSE otherwise — the choice `POST /chat` makes.
    ///
    /// ```
    /// use agentor_server::Framing;
    /// use axum::http::{header, HeaderMap, HeaderValue};
    ///
    /// let mut headers = HeaderMap::new();
    /// assert_eq!(Framing::from_accept(&headers), Framing::Sse);
    /// headers.insert(header::ACCEPT, HeaderValue::from_static("application/x-ndjson"));
    /// assert_eq!(Framing::from_accept(&headers), Framing::Ndjson);
    /// ```
    pub fn from_accept(headers: &HeaderMap) -> Self {
        if crate::extract::accepts_ndjson(headers) {
            Framing::Ndjson
        } else {
            Framing::Sse
        }
    }

    /// The `Content-Type` of a body framed this way.
    pub fn content_type(self) -> &'static str {
        match self {
            Framing::Sse => "text/event-stream",
            Framing::Ndjson => "application/x-ndjson",
        }
    }
}
