//! [`OpenAiConfig`]: where an OpenAI-compatible API lives and how patiently
//! to talk to it ([`RetryPolicy`] is the transport's).

use std::fmt;
use std::time::Duration;

pub use agentor_transport::RetryPolicy;

/// The base URL used when none is configured.
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

/// How to reach an OpenAI-compatible API (OpenAI itself, Ollama, vLLM,
/// LiteLLM, a llama.cpp server, …).
///
/// ```
/// use std::time::Duration;
/// use agentor_providers::OpenAiConfig;
///
/// let config = OpenAiConfig::new()
///     .base_url("http://127.0.0.1:11434/v1/")
///     .model("llama3.2")
///     .read_timeout(Duration::from_secs(120));
/// assert_eq!(config.endpoint("chat/completions"), "http://127.0.0.1:11434/v1/chat/completions");
/// ```
///
/// `Debug` never prints the API key.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OpenAiConfig {
    /// Sent as `Authorization: Bearer …` when set; local servers need none.
    pub api_key: Option<String>,
    /// The API root, e.g. `https://api.openai.com/v1` (a trailing slash is fine).
    pub base_url: String,
    /// The model used when a request names none.
    pub model: Option<String>,
    /// Longest wait for the TCP (and TLS) connection.
    pub connect_timeout: Duration,
    /// Longest silence allowed while waiting for the response headers and
    /// between two chunks of the body.
    pub read_timeout: Duration,
    /// When and how to retry a request that failed before its stream began.
    pub retry: RetryPolicy,
}

impl Default for OpenAiConfig {
    fn default() -> Self {
        OpenAiConfig {
            api_key: None,
            base_url: DEFAULT_BASE_URL.to_owned(),
            model: None,
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
        }
    }
}

impl OpenAiConfig {
    /// The defaults: OpenAI's URL, no key, no model, 10 s connect, 60 s read.
    pub fn new() -> Self {
        OpenAiConfig::default()
    }

    /// The defaults overridden by `OPENAI_API_KEY`, `OPENAI_BASE_URL` and
    /// `OPENAI_MODEL` where those are set and not empty.
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`OpenAiConfig::from_env`], reading variables through `lookup`
    /// (so tests need not touch the process environment).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let var = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        OpenAiConfig {
            api_key: var("OPENAI_API_KEY"),
            base_url: var("OPENAI_BASE_URL").unwrap_or_else(|| DEFAULT_BASE_URL.to_owned()),
            model: var("OPENAI_MODEL"),
            ..OpenAiConfig::default()
        }
    }

    /// Sets the API key.
    #[must_use]
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// Sets the API root.
    #[must_use]
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// Sets the default model.
    #[must_use]
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// Sets the connect timeout.
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets the read (idle) timeout.
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

    /// The URL of `path` under the base URL, with exactly one slash between.
    pub fn endpoint(&self, path: &str) -> String {
        format!(
            "{}/{}",
            self.base_url.trim_end_matches('/'),
            path.trim_start_matches('/')
        )
    }
}

impl fmt::Debug for OpenAiConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The key is a secret: say only whether there is one.
        let key = self.api_key.as_ref().map(|_| "<redacted>");
        f.debug_struct("OpenAiConfig")
            .field("api_key", &key)
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("retry", &self.retry)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_overrides_defaults_and_ignores_empty_values() {
        let config = OpenAiConfig::from_lookup(|name| match name {
            "OPENAI_API_KEY" => Some("sk-secret".into()),
            "OPENAI_BASE_URL" => Some("http://localhost:8000/v1/".into()),
            "OPENAI_MODEL" => Some(" ".into()),
            _ => None,
        });
        assert_eq!(config.api_key.as_deref(), Some("sk-secret"));
        assert_eq!(
            config.endpoint("/chat/completions"),
            "http://localhost:8000/v1/chat/completions"
        );
        assert_eq!(config.model, None);
        let empty = OpenAiConfig::from_lookup(|_| None);
        assert_eq!(empty, OpenAiConfig::default());
    }

    #[test]
    fn debug_hides_the_key() {
        let shown = format!("{:?}", OpenAiConfig::new().api_key("sk-secret"));
        assert!(!shown.contains("sk-secret"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
    }
}
