//! [`A2aClientBuilder`]: how to reach a remote agent.

use std::sync::Arc;
use std::time::Duration;

use agentor_core::Error;
use agentor_transport::{HttpClient, RetryPolicy, TransportConfig};

use super::A2aClient;
use crate::{Binding, Dialect};

/// The read timeout of an A2A client unless set: a remote agent may think
/// or run tools for a while, and agentor's server sends a heartbeat comment
/// well within it, so only a stalled server reaches it.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(120);

/// Options of an [`A2aClient`], then [`connect`](A2aClientBuilder::connect).
///
/// ```
/// use std::time::Duration;
/// use agentor_a2a::client::A2aClient;
///
/// let builder = A2aClient::builder()
///     .bearer_token("secret")
///     .read_timeout(Duration::from_secs(30));
/// assert!(!format!("{builder:?}").contains("secret"));
/// ```
#[derive(Clone, Debug)]
pub struct A2aClientBuilder {
    config: TransportConfig,
    dialect: Option<Dialect>,
    binding: Option<Binding>,
    client: Option<reqwest::Client>,
}

impl Default for A2aClientBuilder {
    fn default() -> Self {
        A2aClientBuilder {
            // A message is not idempotent: sent twice it starts two tasks.
            config: TransportConfig::new()
                .read_timeout(DEFAULT_READ_TIMEOUT)
                .retry(RetryPolicy::none()),
            dialect: None,
            binding: None,
            client: None,
        }
    }
}

impl A2aClientBuilder {
    /// Sends `Authorization: Bearer <token>` with every request, the card's included.
    #[must_use]
    pub fn bearer_token(mut self, token: impl Into<String>) -> Self {
        self.config = self.config.bearer_token(token);
        self
    }

    /// Speaks `dialect` whatever the card prefers (by default: 1.0 when the
    /// card offers it, else 0.3).
    #[must_use]
    pub fn dialect(mut self, dialect: Dialect) -> Self {
        self.dialect = Some(dialect);
        self
    }

    /// Speaks `binding` whatever the card prefers (by default: HTTP+JSON
    /// when the card's first interface the client can use is HTTP+JSON,
    /// else JSON-RPC). HTTP+JSON speaks 1.0: with a forced 0.3
    /// [`dialect`](Self::dialect), [`connect`](Self::connect) fails.
    #[must_use]
    pub fn binding(mut self, binding: Binding) -> Self {
        self.binding = Some(binding);
        self
    }

    /// The longest silence allowed while waiting for an answer's headers and
    /// between two chunks of a stream (default [`DEFAULT_READ_TIMEOUT`]): a
    /// remote agent silent for longer ends the run with a timeout error and
    /// a `failed` run end.
    #[must_use]
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.config = self.config.read_timeout(timeout);
        self
    }

    /// Retries a message that failed before its answer began (connection
    /// refused, `429`, `5xx`) per `policy`. None by default: a server may
    /// have started a task for a message whose answer failed.
    #[must_use]
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.config = self.config.retry(policy);
        self
    }

    /// Uses `client` (its proxy, TLS and timeout settings, its pool) instead
    /// of a default one with a 10-second connect timeout. The read timeout
    /// still applies.
    #[must_use]
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.client = Some(client);
        self
    }

    /// Fetches the agent card and picks the binding, endpoint and dialect
    /// ([`RemoteCard::choose`](super::RemoteCard::choose)).
    ///
    /// `url` is the agent's base URL (the card is looked up at
    /// `/.well-known/agent-card.json`, then the legacy
    /// `/.well-known/agent.json`) or the card's own URL (ending in `.json`).
    /// An unreachable agent, an HTTP error, a card that is not JSON or that
    /// offers no interface of the binding (JSON-RPC of protocol 0.3 or 1.0,
    /// HTTP+JSON of 1.0) is an error, as is HTTP+JSON forced with 0.3.
    pub async fn connect(self, url: &str) -> Result<A2aClient, Error> {
        if self.binding == Some(Binding::Rest) && self.dialect == Some(Dialect::V0_3) {
            return Err(Error::provider(super::card::REST_IS_1_0));
        }
        let http = match self.client {
            Some(client) => HttpClient::with_client(client, self.config),
            None => HttpClient::new(self.config),
        };
        let card = super::card::fetch(&http, url, self.dialect, self.binding).await?;
        Ok(A2aClient {
            http,
            card: Arc::new(card),
        })
    }
}
