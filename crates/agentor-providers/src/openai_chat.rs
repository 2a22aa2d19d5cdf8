//! [`OpenAiChat`]: the Chat Completions API (`POST /chat/completions`,
//! streamed) of OpenAI and of the servers that speak it — Ollama, vLLM,
//! LiteLLM, llama.cpp, DeepSeek, OpenRouter.

mod chunk;
mod hot;
mod parser;
mod request;

use agentor_core::{BoxEventStream, ChatRequest, Provider};

pub use parser::ChatCompletionsParser;

use crate::http::HttpTransport;
use crate::OpenAiConfig;

/// A [`Provider`] streaming model turns from a Chat Completions API.
///
/// Each turn is one `POST {base_url}/chat/completions` with `stream: true`
/// and `stream_options.include_usage`, parsed by [`ChatCompletionsParser`]
/// and sent through the [`HttpTransport`] (timeouts, retries before the
/// stream starts, errors as values). The model is the request's, or the
/// configured one when the request names none.
///
/// ```no_run
/// use agentor_core::{ChatRequest, ChatMessage, Provider};
/// use agentor_providers::{OpenAiChat, OpenAiConfig};
/// use futures_util::StreamExt;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// // OPENAI_API_KEY, OPENAI_BASE_URL and OPENAI_MODEL, e.g. for Ollama:
/// // OPENAI_BASE_URL=http://localhost:11434/v1 OPENAI_MODEL=llama3.2
/// let provider = OpenAiChat::from_env();
/// let request = ChatRequest::new("", vec![ChatMessage::user("Say hello")]);
/// let mut events = provider.stream(request);
/// while let Some(event) = events.next().await {
///     match event {
///         Ok(event) => print!("{}", event.text().unwrap_or_default()),
///         Err(error) => eprintln!("\n{error}"),
///     }
/// }
/// # }
/// ```
///
/// Building one needs no network:
///
/// ```
/// use agentor_core::Provider;
/// use agentor_providers::{OpenAiChat, OpenAiConfig};
///
/// let provider = OpenAiChat::new(OpenAiConfig::new().base_url("http://127.0.0.1:8000/v1"));
/// assert_eq!(provider.name(), "openai-chat");
/// ```
#[derive(Clone, Debug)]
pub struct OpenAiChat {
    transport: HttpTransport,
}

impl OpenAiChat {
    /// A provider for `config`.
    pub fn new(config: OpenAiConfig) -> Self {
        OpenAiChat {
            transport: HttpTransport::new(config),
        }
    }

    /// A provider configured from `OPENAI_API_KEY`, `OPENAI_BASE_URL` and
    /// `OPENAI_MODEL` (see [`OpenAiConfig::from_env`]).
    pub fn from_env() -> Self {
        OpenAiChat::new(OpenAiConfig::from_env())
    }

    /// The configuration.
    pub fn config(&self) -> &OpenAiConfig {
        self.transport.config()
    }
}

impl Provider for OpenAiChat {
    fn stream(&self, request: ChatRequest) -> BoxEventStream {
        self.transport.model_turn(
            "chat/completions",
            &request,
            Box::new(ChatCompletionsParser::new()),
            request::body,
        )
    }

    fn name(&self) -> &str {
        "openai-chat"
    }
}
