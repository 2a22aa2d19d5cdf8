//! [`Error`]: the `Err` side of an event stream.

use crate::{ErrorKind, Event, Text};

/// A failure travelling through an event stream as an `Err` item.
///
/// Operators pass an `Err` through unchanged and in order. Sinks render it as
/// an error event ([`Error::to_event`]), so a failure is a value on the wire,
/// never a silently closed connection.
///
/// ```
/// use agentor_core::{Error, ErrorKind};
///
/// let err = Error::provider("429 Too Many Requests");
/// assert_eq!(err.kind(), ErrorKind::Provider);
/// assert_eq!(err.to_string(), "provider error: 429 Too Many Requests");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{kind} error: {message}")]
pub struct Error {
    kind: ErrorKind,
    message: Text,
    status: Option<u16>,
}

impl Error {
    /// An error of the given kind.
    pub fn new(kind: ErrorKind, message: impl Into<Text>) -> Self {
        Error {
            kind,
            message: message.into(),
            status: None,
        }
    }

    /// This error, noting the HTTP status of the answer that caused it.
    #[must_use]
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    /// The HTTP status of the answer that caused it, when there was one
    /// (401, 429, 503, …): what retry and error pages decide on.
    pub fn status(&self) -> Option<u16> {
        self.status
    }

    /// A [`ErrorKind::Provider`] error.
    pub fn provider(message: impl Into<Text>) -> Self {
        Error::new(ErrorKind::Provider, message)
    }

    /// A [`ErrorKind::Protocol`] error.
    pub fn protocol(message: impl Into<Text>) -> Self {
        Error::new(ErrorKind::Protocol, message)
    }

    /// A [`ErrorKind::Timeout`] error.
    pub fn timeout(message: impl Into<Text>) -> Self {
        Error::new(ErrorKind::Timeout, message)
    }

    /// A [`ErrorKind::Internal`] error.
    pub fn internal(message: impl Into<Text>) -> Self {
        Error::new(ErrorKind::Internal, message)
    }

    /// The class of failure.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The explanation.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The error as a bare [`EventKind::Error`](crate::EventKind::Error) event.
    /// A sink rendering a stream's items stamps it with the run's envelope
    /// through [`Envelope`](crate::Envelope).
    pub fn to_event(&self) -> Event {
        Event::error(self.kind, self.message.clone())
    }
}

impl From<std::io::Error> for Error {
    fn from(err: std::io::Error) -> Self {
        Error::internal(err.to_string())
    }
}

/// How many characters of someone else's input an error message quotes.
pub const EXCERPT_CHARS: usize = 64;

/// The longest error message, in bytes, that [`bounded_message`] keeps.
pub const MAX_MESSAGE_BYTES: usize = 1024;

/// At most [`EXCERPT_CHARS`] characters of `input`, to quote in an error
/// message: what a client sent (a run id, a header, an option) must not make
/// the answer as large as the request. A longer input is cut with `…` and
/// its length noted.
///
/// ```
/// use agentor_core::error::excerpt;
///
/// assert_eq!(excerpt("run_1"), "run_1");
/// let long = "x".repeat(10_000);
/// let quoted = excerpt(&long);
/// assert!(quoted.starts_with("xxxx") && quoted.ends_with("… (10000 bytes)"));
/// assert!(quoted.len() < 100);
/// ```
pub fn excerpt(input: &str) -> std::borrow::Cow<'_, str> {
    match input.char_indices().nth(EXCERPT_CHARS) {
        None => std::borrow::Cow::Borrowed(input),
        Some((cut, _)) => format!("{}… ({} bytes)", &input[..cut], input.len()).into(),
    }
}

/// `message` cut to at most [`MAX_MESSAGE_BYTES`] (on a character
/// boundary, marked with `…`): the last bound on what an error answer
/// echoes, for messages built from text the server does not control (a
/// parser's complaint quoting the input).
///
/// ```
/// use agentor_core::error::{bounded_message, MAX_MESSAGE_BYTES};
///
/// assert_eq!(bounded_message("short".into()), "short");
/// assert!(bounded_message("é".repeat(2_000)).len() <= MAX_MESSAGE_BYTES + "…".len());
/// ```
pub fn bounded_message(mut message: String) -> String {
    if message.len() > MAX_MESSAGE_BYTES {
        let mut cut = MAX_MESSAGE_BYTES;
        while !message.is_char_boundary(cut) {
            cut -= 1;
        }
        message.truncate(cut);
        message.push('…');
    }
    message
}
