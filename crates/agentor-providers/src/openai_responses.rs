//! The OpenAI **Responses API** (`POST /v1/responses`, streaming): the
//! provider ([`OpenAiResponses`]), its request body ([`request_body`]) and
//! its stream parser ([`ResponsesParser`]).
//!
//! The parser does no HTTP: the shared [`HttpTransport`] sends the body,
//! splits the answer into SSE messages and feeds them to it.

mod calls;
mod parser;
mod request;
mod wire;

#[cfg(test)]
mod tests;

use agentor_core::{BoxEventStream, ChatRequest, Provider, Text};

pub use parser::ResponsesParser;
pub use request::request_body;

use crate::http::HttpTransport;
use crate::OpenAiConfig;

/// A [`Provider`] streaming model turns from the OpenAI Responses API.
///
/// Each turn is one `POST {base_url}/responses` with `stream: true`, built by
/// [`request_body`], parsed by [`ResponsesParser`], and sent through the
/// [`HttpTransport`] (timeouts, retries before the stream starts, errors as
/// values). Configured like [`OpenAiChat`](crate::OpenAiChat).
///
/// ```
/// use agentor_core::Provider;
/// use agentor_providers::{OpenAiConfig, OpenAiResponses};
///
/// let provider = OpenAiResponses::new(OpenAiConfig::new().api_key("sk-test"));
/// assert_eq!(provider.name(), "openai-responses");
/// ```
#[derive(Clone, Debug)]
pub struct OpenAiResponses {
    transport: HttpTransport,
}

impl OpenAiResponses {
    /// A provider for `config`.
    pub fn new(config: OpenAiConfig) -> Self {
        OpenAiResponses {
            transport: HttpTransport::new(config),
        }
    }

    /// A provider configured from `OPENAI_API_KEY`, `OPENAI_BASE_URL` and
    /// `OPENAI_MODEL`.
    pub fn from_env() -> Self {
        OpenAiResponses::new(OpenAiConfig::from_env())
    }

    /// The configuration.
    pub fn config(&self) -> &OpenAiConfig {
        self.transport.config()
    }
}

impl Provider for OpenAiResponses {
    fn stream(&self, request: ChatRequest) -> BoxEventStream {
        self.transport.model_turn(
            "responses",
            &request,
            Box::new(ResponsesParser::new()),
            |request, model| {
                let mut request = request.clone();
                request.model = Text::from(model);
                serde_json::to_vec(&request_body(&request))
            },
        )
    }

    fn name(&self) -> &str {
        "openai-responses"
    }
}
