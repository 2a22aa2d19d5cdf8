//! [`Anthropic`]: the Anthropic Messages API (`POST /v1/messages`, streamed).

mod config;
mod parser;
mod request;
mod thinking;
mod wire;

use agentor_core::{BoxEventStream, ChatRequest, Error, Provider, Text};
use agentor_transport::{HttpClient, Post, TransportConfig, TurnStart};
use reqwest::header::{HeaderName, HeaderValue};

pub use config::{
    AnthropicConfig, DEFAULT_BASE_URL, DEFAULT_MAX_TOKENS, DEFAULT_MODEL, DEFAULT_VERSION,
};
pub use parser::MessagesParser;

use crate::http::failed;
use thinking::ThinkingMemory;

/// A [`Provider`] streaming model turns from the Anthropic Messages API.
///
/// Each turn is one `POST {base_url}/v1/messages` with `stream: true`, the
/// `x-api-key` and `anthropic-version` headers, parsed by
/// [`MessagesParser`] on the shared transport (timeouts, retries of `429`,
/// `529` and other `5xx` before the stream starts, errors as values). The
/// model is the request's, else the configured one (`ANTHROPIC_MODEL`), else
/// [`DEFAULT_MODEL`]. The request carries the system prompt, the conversation (tool
/// results as `tool_result` blocks), the tool schemas, `max_tokens` (the
/// request's, else [`AnthropicConfig::max_tokens`], 4096 by default),
/// temperature and top-p, and extended thinking when a budget is set.
///
/// Clones share one connection pool and one memory of the thinking blocks
/// of turns that called tools, which the next request sends back with
/// their signatures (as the API requires when thinking is on).
///
/// ```
/// use agentor_core::Provider;
/// use agentor_providers::{Anthropic, AnthropicConfig};
///
/// let provider = Anthropic::new(AnthropicConfig::new().base_url("http://127.0.0.1:8080"));
/// assert_eq!(provider.name(), "anthropic");
/// ```
#[derive(Clone, Debug)]
pub struct Anthropic {
    client: HttpClient,
    config: std::sync::Arc<AnthropicConfig>,
    memory: ThinkingMemory,
}

impl Anthropic {
    /// A provider for `config`.
    pub fn new(config: AnthropicConfig) -> Self {
        // No bearer token: the key goes in `x-api-key`.
        let settings = TransportConfig::new()
            .connect_timeout(config.connect_timeout)
            .read_timeout(config.read_timeout)
            .retry(config.retry.clone());
        Anthropic {
            client: HttpClient::new(settings),
            config: std::sync::Arc::new(config),
            memory: ThinkingMemory::default(),
        }
    }

    /// A provider configured from `ANTHROPIC_API_KEY`, `ANTHROPIC_BASE_URL`
    /// and `ANTHROPIC_MODEL` (see [`AnthropicConfig::from_env`]).
    pub fn from_env() -> Self {
        Anthropic::new(AnthropicConfig::from_env())
    }

    /// The configuration.
    pub fn config(&self) -> &AnthropicConfig {
        &self.config
    }

    fn post(&self, body: Vec<u8>) -> Result<Post, Error> {
        let header = |value: &str, what: &str| {
            HeaderValue::from_str(value)
                .map_err(|_| Error::provider(format!("the {what} is not a valid header value")))
        };
        let mut post = Post::json(self.config.endpoint(), body)
            .accept("text/event-stream")
            .header(
                HeaderName::from_static("anthropic-version"),
                header(&self.config.version, "anthropic-version")?,
            );
        if let Some(key) = &self.config.api_key {
            let mut value = header(key, "API key")?;
            value.set_sensitive(true);
            post = post.header(HeaderName::from_static("x-api-key"), value);
        }
        Ok(post)
    }
}

impl Provider for Anthropic {
    fn stream(&self, request: ChatRequest) -> BoxEventStream {
        let parser = Box::new(MessagesParser::with_memory(self.memory.clone()));
        let model = if request.model.is_empty() {
            Text::from(self.config.model.as_deref().unwrap_or(DEFAULT_MODEL))
        } else {
            request.model.clone()
        };
        let start = TurnStart {
            agent: request
                .agent
                .clone()
                .unwrap_or(Text::from_static("assistant")),
            model: Some(model.clone()),
            run_id: request.run_id.clone(),
            source: None,
        };
        let post = request::body(&request, &model, &self.config, &self.memory)
            .map_err(|e| Error::internal(format!("cannot encode the request: {e}")))
            .and_then(|body| self.post(body));
        match post {
            Ok(post) => self.client.stream(post, start, parser),
            Err(error) => failed(start, error, parser),
        }
    }

    fn name(&self) -> &str {
        "anthropic"
    }
}
