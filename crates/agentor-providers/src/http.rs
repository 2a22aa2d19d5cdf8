//! The OpenAI providers' side of the shared transport
//! ([`agentor_transport`]): an OpenAI-compatible API's URL, key and
//! settings, the JSON `POST` of one model turn, and its answer fed to a
//! [`TurnParser`].
//!
//! [`HttpTransport`] sends; [`turn_stream`] turns any body (live, recorded,
//! in memory) into a well-formed turn.

use std::sync::Arc;

use agentor_core::{BoxEventStream, ChatRequest, Error, Text};
use agentor_transport::{HttpClient, Post, TransportConfig};

pub use agentor_transport::{turn_stream, ByteStream, TurnStart};

use crate::{OpenAiConfig, TurnParser};

/// Sends one JSON request per turn to an OpenAI-compatible API and streams
/// the answer. Cheap to clone: clones share one connection pool.
#[derive(Clone, Debug)]
pub struct HttpTransport {
    client: HttpClient,
    config: Arc<OpenAiConfig>,
}

impl HttpTransport {
    /// A transport for `config`: its connect timeout, read timeout, key and retries.
    pub fn new(config: OpenAiConfig) -> Self {
        let mut settings = TransportConfig::new()
            .connect_timeout(config.connect_timeout)
            .read_timeout(config.read_timeout)
            .retry(config.retry.clone());
        settings.bearer_token.clone_from(&config.api_key);
        HttpTransport {
            client: HttpClient::new(settings),
            config: Arc::new(config),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &OpenAiConfig {
        &self.config
    }

    /// `POST`s `body` (JSON) to `path` under the base URL and streams the
    /// turn through `parser`; see [`turn_stream`] for the shape of the stream.
    ///
    /// A connection failure, `429` or `5xx` is retried per the
    /// [`RetryPolicy`](crate::RetryPolicy), only before the body is read. Any
    /// other non-2xx answer ends the turn at once with a provider error
    /// carrying the status and the server's message. Waiting longer than the
    /// read timeout for the headers, or between two chunks, is a timeout error.
    pub fn stream(
        &self,
        path: &str,
        body: Vec<u8>,
        start: TurnStart,
        parser: Box<dyn TurnParser>,
    ) -> BoxEventStream {
        let post = Post::json(self.config.endpoint(path), body).accept("text/event-stream");
        self.client.stream(post, start, parser)
    }

    /// One model turn of an HTTP provider: picks the model (the request's,
    /// else the configured one), builds the body with `body`, and streams the
    /// answer to `path` through `parser`. A missing model or a body that
    /// cannot be encoded is a failed turn, not a request.
    pub fn model_turn(
        &self,
        path: &str,
        request: &ChatRequest,
        parser: Box<dyn TurnParser>,
        body: impl FnOnce(&ChatRequest, &str) -> Result<Vec<u8>, serde_json::Error>,
    ) -> BoxEventStream {
        let model = if request.model.is_empty() {
            self.config.model.as_deref().map(Text::from)
        } else {
            Some(request.model.clone())
        };
        let start = TurnStart {
            agent: request
                .agent
                .clone()
                .unwrap_or(Text::from_static("assistant")),
            model: model.clone(),
            run_id: request.run_id.clone(),
            source: None,
        };
        let Some(model) = model else {
            let error =
                Error::provider("no model: the request names none and OPENAI_MODEL is not set");
            return failed(start, error, parser);
        };
        match body(request, &model) {
            Ok(body) => self.stream(path, body, start, parser),
            Err(e) => failed(
                start,
                Error::internal(format!("cannot encode the request: {e}")),
                parser,
            ),
        }
    }
}

/// A turn that fails before any request: run start, the error, failed run end.
pub(crate) fn failed(
    start: TurnStart,
    error: Error,
    parser: Box<dyn TurnParser>,
) -> BoxEventStream {
    turn_stream(
        start,
        async move { Err::<ByteStream, _>(error) },
        None,
        parser,
    )
}
