//! The A2A client provider: a remote A2A agent's run, streamed as agentor events.
//!
//! [`A2aClient::connect`] fetches the agent's card and picks its binding
//! (JSON-RPC, or HTTP+JSON when the card prefers it), endpoint and dialect;
//! [`A2aClient::stream`] sends one message with `message/stream` (0.3),
//! `SendStreamingMessage` (1.0) or `POST {url}/message:stream` (HTTP+JSON,
//! 1.0) and yields the remote task as a well-formed agentor turn —
//! `run_start`, text deltas per artifact chunk, messages, tool events, then
//! `run_end` — whose every event has the card's name as `source`, so a
//! remote agent merges with local ones
//! ([`agentor_core::ops::merge`]). It is also a [`Provider`], so it can drive
//! an agent or be served.
//!
//! How A2A maps to agentor events is in the [`mapper`] module's table;
//! failures (an HTTP error, a JSON-RPC error, invalid JSON, a stream cut
//! before a final state) end the turn with the `Err` item and a `failed`
//! run end, as the [`Provider`] contract says. Dropping a stream closes its
//! connection and, when the remote task has not ended, cancels it
//! (`tasks/cancel` / `CancelTask` / `POST {url}/tasks/{id}:cancel`): a
//! server keeps a task running when only its stream goes away.
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
mod cancel;
mod card;
mod context;
mod conversation;
pub mod mapper;
mod parser;

use std::sync::Arc;

use agentor_core::{BoxEventStream, ChatRequest, ChatRole, Error, Provider, Text};
use agentor_transport::{turn_stream, ByteStream, HttpClient, TurnStart};
use reqwest::header::HeaderValue;

pub use builder::{A2aClientBuilder, DEFAULT_READ_TIMEOUT};
pub use card::RemoteCard;
pub use conversation::Conversation;

/// The parser the client reads a task's SSE stream with: each message's
/// data is a JSON-RPC response in `dialect`, mapped to agentor events as
/// [`mapper`] documents (the transport emits the run start). Drive it with
/// [`agentor_transport::turn_stream`] over recorded bytes, or message by
/// message.
///
/// ```
/// use agentor_a2a::{client::stream_parser, Dialect};
/// use agentor_core::RunStatus;
///
/// let mut parser = stream_parser("Remote", Dialect::V0_3);
/// let mut out = Vec::new();
/// parser.message("", r#"{"jsonrpc":"2.0","id":1,"result":{"kind":"status-update","taskId":"t","contextId":"c","final":true,"status":{"state":"completed"}}}"#, &mut out);
/// assert!(parser.is_done());
/// let end = out.last().unwrap().as_ref().unwrap();
/// assert_eq!(end.run_status(), Some(RunStatus::Completed));
/// ```
pub fn stream_parser(agent: &str, dialect: Dialect) -> Box<dyn agentor_transport::TurnParser> {
    Box::new(parser::TaskParser::new(
        mapper::TaskMapper::new(agent.into()).announced(),
        dialect,
    ))
}

use crate::jsonrpc::{self, RequestId};
use crate::{new_id, Binding, Dialect, Message, Method, Part, Role, SendMessageParams};
use cancel::CancelOnDrop;
use context::SharedContext;
use mapper::TaskMapper;
use parser::TaskParser;

/// A connected remote A2A agent. Cheap to clone: clones share the card and
/// the connection pool.
#[derive(Clone, Debug)]
pub struct A2aClient {
    http: HttpClient,
    card: Arc<RemoteCard>,
}

impl A2aClient {
    /// Connects to the agent at `url` with the defaults (no token, the
    /// dialect chosen from the card). See [`A2aClientBuilder::connect`].
    pub async fn connect(url: &str) -> Result<Self, Error> {
        A2aClient::builder().connect(url).await
    }

    /// A builder, for a bearer token, a forced dialect, a read timeout or an
    /// HTTP client.
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

    /// The binding the client speaks to the agent: JSON-RPC, or HTTP+JSON
    /// when the card prefers it or the builder forced it.
    pub fn binding(&self) -> Binding {
        self.card.binding()
    }

    /// Sends `text` as a user message and streams the remote task.
    pub fn stream(&self, text: impl Into<String>) -> BoxEventStream {
        self.send(text.into(), None, None, true)
    }

    /// A conversation with the agent: each message of it continues the
    /// remote context the first one started (its `contextId`), so the remote
    /// agent answers with what was said before.
    pub fn conversation(&self) -> Conversation {
        Conversation::new(self.clone())
    }

    /// What every event of a run carries: the card's name as agent and
    /// source, and `run_id`.
    fn start(&self, run_id: Option<Text>) -> TurnStart {
        TurnStart {
            agent: self.card.name_text(),
            model: None,
            run_id,
            source: Some(self.card.name_text()),
        }
    }

    /// A run that fails with `error` before anything is sent.
    fn failed(&self, run_id: Option<Text>, error: Error) -> BoxEventStream {
        let mapper = TaskMapper::new(self.card.name_text()).announced();
        let parser = TaskParser::new(mapper, self.card.dialect());
        let open = async move { Err::<ByteStream, _>(error) };
        turn_stream(self.start(run_id), open, None, Box::new(parser))
    }

    /// Sends `text` (in `context`'s remote context, when it has one; the
    /// context the task runs in is then noted there), passing the remote
    /// agent's tool events on when `tool_events` is set.
    fn send(
        &self,
        text: String,
        run_id: Option<Text>,
        context: Option<SharedContext>,
        tool_events: bool,
    ) -> BoxEventStream {
        let dialect = self.card.dialect();
        let mut message = Message::new(new_id(), Role::User, vec![Part::text(text)]);
        message.context_id = context.as_ref().and_then(SharedContext::get);
        // A remote task that asked (input-required) takes this message.
        message.task_id = context.as_ref().and_then(SharedContext::waiting_task);
        let params = SendMessageParams::new(message).render(dialect);
        let endpoint = self.card.endpoint();
        let binding = self.card.binding();
        let post = match binding {
            Binding::JsonRpc => {
                let method = Method::SendStreamingMessage
                    .name(dialect)
                    .unwrap_or("SendStreamingMessage");
                let id = RequestId::from(new_id().as_str());
                let body = jsonrpc::request(&id, method, params).to_string();
                cancel::post(endpoint, body.into_bytes(), dialect)
            }
            // The card's URL was read when connecting; one that takes no route fails here.
            Binding::Rest => match cancel::rest_route(endpoint, &["message:stream"]) {
                Some(url) => cancel::post(&url, params.to_string().into_bytes(), dialect),
                None => {
                    let error = Error::provider(format!(
                        "the HTTP+JSON URL of the agent card is not a URL: {endpoint}"
                    ));
                    return self.failed(run_id, error);
                }
            },
        };
        let post = post.header(
            reqwest::header::ACCEPT,
            HeaderValue::from_static("text/event-stream, application/json"),
        );
        let mut mapper = TaskMapper::new(self.card.name_text()).announced();
        if !tool_events {
            mapper.leave_out_tool_events();
        }
        let cancel = CancelOnDrop {
            http: self.http.clone(),
            endpoint: endpoint.to_owned(),
            dialect,
            binding,
        };
        let mut parser = TaskParser::new(mapper, dialect)
            .cancelling(cancel)
            .noting_context(context);
        if binding == Binding::Rest {
            parser = parser.bare();
        }
        self.http.stream(post, self.start(run_id), Box::new(parser))
    }
}

/// The remote agent as a model: the request's last user message is sent, the
/// rest of the conversation (the remote agent keeps its own) and the tools
/// (it runs its own) are not. The remote agent's tool calls and results are
/// left out of the turn: a `tool_call` from a provider asks the caller to run
/// the tool, and the remote agent has run it already.
impl Provider for A2aClient {
    fn stream(&self, request: ChatRequest) -> BoxEventStream {
        let last_user = request
            .messages
            .iter()
            .rev()
            .find(|m| m.role == ChatRole::User);
        match last_user {
            Some(message) => self.send(message.content.to_string(), request.run_id, None, false),
            None => self.failed(
                request.run_id,
                Error::provider("no user message to send to the A2A agent"),
            ),
        }
    }

    fn name(&self) -> &str {
        "a2a"
    }
}
