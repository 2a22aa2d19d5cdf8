//! [`TransportConfig`]: how patiently the transport talks to a server.

use std::fmt;
use std::time::Duration;

use crate::{RetryPolicy, DEFAULT_MAX_EVENT_BYTES};

/// The transport's settings: timeouts, retries, the size bound and the
/// bearer token.
///
/// ```
/// use std::time::Duration;
/// use agentor_transport::{RetryPolicy, TransportConfig};
///
/// let config = TransportConfig::new()
///     .read_timeout(Duration::from_secs(30))
///     .retry(RetryPolicy::none())
///     .bearer_token("secret");
/// assert_eq!(config.read_timeout, Duration::from_secs(30));
/// assert!(!format!("{config:?}").contains("secret"));
/// ```
///
/// `Debug` never prints the token.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TransportConfig {
    /// Longest wait for the TCP (and TLS) connection.
    pub connect_timeout: Duration,
    /// Longest silence allowed while waiting for the response headers and
    /// between two chunks of the body.
    pub read_timeout: Duration,
    /// When and how to retry a request that failed before its answer began.
    pub retry: RetryPolicy,
    /// The largest SSE event, or whole (non-SSE) answer, accepted.
    pub max_event_bytes: usize,
    /// Sent as `Authorization: Bearer …` when set.
    pub bearer_token: Option<String>,
}

impl Default for TransportConfig {
    fn default() -> Self {
        TransportConfig {
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
            max_event_bytes: DEFAULT_MAX_EVENT_BYTES,
            bearer_token: None,
        }
    }
}

impl TransportConfig {
    /// The defaults: 10 s connect, 60 s read, the default retries, 8 MiB events, no token.
    pub fn new() -> Self {
        TransportConfig::default()
    }

    /// Sets the connect timeout.
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets the read (headers and idle) timeout.
    #[must_use]
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = timeout;
        self
    }

    /// Sets the retry policy.
    #[must_use]
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Sets the bound on one event (or whole answer), in bytes.
    #[must_use]
    pub fn max_event_bytes(mut self, limit: usize) -> Self {
        self.max_event_bytes = limit;
        self
    }

    /// Sets the bearer token.
    #[must_use]
    pub fn bearer_token(mut self, token: impl Into<String>) -> Self {
        self.bearer_token = Some(token.into());
        self
    }
}

impl fmt::Debug for TransportConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let token = self.bearer_token.as_ref().map(|_| "<redacted>");
        f.debug_struct("TransportConfig")
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("retry", &self.retry)
            .field("max_event_bytes", &self.max_event_bytes)
            .field("bearer_token", &token)
            .finish()
    }
}
