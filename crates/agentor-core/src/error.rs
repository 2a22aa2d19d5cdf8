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
