//! [`A2aClientBuilder`]: how to reach a remote agent.

use std::sync::Arc;
use std::time::Duration;

use agentor_core::Error;

use super::http::Http;
use super::A2aClient;
use crate::Dialect;

/// Options of an [`A2aClient`], then [`connect`](A2aClientBuilder::connect).
#[derive(Clone, Debug, Default)]
pub struct A2aClientBuilder {
    token: Option<Arc<str>>,
    dialect: Option<Dialect>,
    client: Option<reqwest::Client>,
}

impl A2aClientBuilder {
    /// Sends `Authorization: Bearer <token>` with every request, the card's included.
    #[must_use]
    pub fn bearer_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(Arc::from(token.into()));
        self
    }

    /// Speaks `dialect` whatever the card prefers (by default: 1.0 when the
    /// card offers it, else 0.3).
    #[must_use]
    pub fn dialect(mut self, dialect: Dialect) -> Self {
        self.dialect = Some(dialect);
        self
    }

    /// Uses `client` (its proxy, TLS and timeout settings, its pool) instead
    /// of a default one with a 10-second connect timeout.
    #[must_use]
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.client = Some(client);
        self
    }

    /// Fetches the agent card and picks the endpoint and dialect.
    ///
    /// `url` is the agent's base URL (the card is looked up at
    /// `/.well-known/agent-card.json`, then the legacy
    /// `/.well-known/agent.json`) or the card's own URL (ending in `.json`).
    /// An unreachable agent, an HTTP error, a card that is not JSON or that
    /// offers no JSON-RPC interface of protocol 0.3 or 1.0 is an error.
    pub async fn connect(self, url: &str) -> Result<A2aClient, Error> {
        let client = match self.client {
            Some(client) => client,
            None => reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(10))
                .build()
                .map_err(|e| Error::internal(format!("cannot build the HTTP client: {e}")))?,
        };
        let http = Http {
            client,
            token: self.token,
        };
        let card = http.card(url, self.dialect).await?;
        Ok(A2aClient {
            http,
            card: Arc::new(card),
        })
    }
}
