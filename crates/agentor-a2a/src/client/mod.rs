//! The A2A client provider: a remote A2A agent's run, streamed as agentor events.
//!
//! [`A2aClient::connect`] fetches the agent's card and picks its JSON-RPC
//! endpoint and dialect; [`A2aClient::stream`] sends one message with
//! `message/stream` (0.3) or `SendStreamingMessage` (1.0) and yields the
//! remote task as a well-formed agentor turn — `run_start`, text deltas per
//! artifact chunk, messages, tool events, then `run_end` — whose every event
//! has the card's name as `source`, so a remote agent merges with local ones
//! ([`agentor_core::ops::merge`]). It is also a [`Provider`], so it can drive
//! an agent or be served.
//!
//! How A2A maps to agentor events is in the [`mapper`] module's table;
//! failures (an HTTP error, a JSON-RPC error, invalid JSON, a stream cut
//! before a final state) end the turn with the `Err` item and a `failed`
//! run end, as the [`Provider`] contract says.
//!
//! ```no_run
//! use agentor_a2a::client::A2aClient;
//! use futures_util::StreamExt;
//!
//! # async fn run() -> Result<(), agentor_core::Error> {
//! let remote = A2aClient::builder()
//!     .bearer_token("secret")
//!     .connect("http://127.0.0.1:8000")
//!     .await?;
//! let mut events = remote.stream("What's the weather in Paris?");
//! while let Some(event) = events.next().await {
//!     if let Some(text) = event?.text() {
//!         print!("{text}");
//!     }
//! }
//! # Ok(())
//! # }
//! ```

mod builder;
mod card;
mod http;
pub mod mapper;
mod stream;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use agentor_core::{BoxEventStream, ChatRequest, Error, Provider, Role as ChatRole, Text};

pub use builder::A2aClientBuilder;
pub use card::RemoteCard;

use crate::jsonrpc::{self, RequestId};
use crate::{Dialect, Message, Method, Part, Role, SendMessageParams};
use http::Http;
use stream::RemoteStream;

/// A connected remote A2A agent. Cheap to clone: clones share the card and
/// the connection pool.
#[derive(Clone, Debug)]
pub struct A2aClient {
    http: Http,
    card: Arc<RemoteCard>,
}

impl A2aClient {
    /// Connects to the agent at `url` with the defaults (no token, the
    /// dialect chosen from the card). See [`A2aClientBuilder::connect`].
    pub async fn connect(url: &str) -> Result<Self, Error> {
        A2aClient::builder().connect(url).await
    }

    /// A builder, for a bearer token, a forced dialect or an HTTP client.
    pub fn builder() -> A2aClientBuilder {
        A2aClientBuilder::default()
    }

    /// The agent's card, with the endpoint and dialect chosen from it.
    pub fn card(&self) -> &RemoteCard {
        &self.card
    }

    /// The dialect the client speaks to the agent.
    pub fn dialect(&self) -> Dialect {
        self.card.dialect()
    }

    /// Sends `text` as a user message and streams the remote task.
    pub fn stream(&self, text: impl Into<String>) -> BoxEventStream {
        self.stream_with_run_id(text, None)
    }

    fn stream_with_run_id(&self, text: impl Into<String>, run_id: Option<Text>) -> BoxEventStream {
        let dialect = self.card.dialect();
        let message = Message::new(next_message_id(), Role::User, vec![Part::text(text)]);
        let params = SendMessageParams::new(message).render(dialect);
        let method = Method::SendStreamingMessage
            .name(dialect)
            .unwrap_or("SendStreamingMessage");
        let id = RequestId::from(next_message_id().as_str());
        let body = jsonrpc::request(&id, method, params)
            .to_string()
            .into_bytes();
        let open = self
            .http
            .clone()
            .open(self.card.endpoint().to_owned(), body, dialect);
        Box::pin(RemoteStream::new(
            Box::pin(open),
            dialect,
            self.card.name_text(),
            run_id,
        ))
    }
}

/// The remote agent as a model: the request's last user message is sent, the
/// rest of the conversation (the remote agent keeps its own) and the tools
/// (it runs its own) are not.
impl Provider for A2aClient {
    fn stream(&self, request: ChatRequest) -> BoxEventStream {
        let last_user = request
            .messages
            .iter()
            .rev()
            .find(|m| m.role == ChatRole::User);
        match last_user {
            Some(message) => self.stream_with_run_id(message.content.as_str(), request.run_id),
            None => Box::pin(RemoteStream::failed(
                Error::provider("no user message to send to the A2A agent"),
                self.card.name_text(),
                request.run_id,
            )),
        }
    }

    fn name(&self) -> &str {
        "a2a"
    }
}

/// A message (and request) id unique in this process and unlikely to repeat
/// across processes: the start time and a counter.
fn next_message_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let started = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("agentor-{started:x}-{n}")
}
