//! [`AnthropicConfig`]: where the Anthropic Messages API lives, how to
//! authenticate, and the request defaults it needs (`max_tokens` is required).

use std::fmt;
use std::time::Duration;

use crate::RetryPolicy;

/// The API root used when none is configured (the path `/v1/messages` is added).
pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";

/// The `anthropic-version` header sent by default.
pub const DEFAULT_VERSION: &str = "2023-06-01";

/// The model asked when neither the request nor the configuration names one.
pub const DEFAULT_MODEL: &str = "claude-sonnet-4-5";

/// The `max_tokens` sent when the request's settings name none. The API
/// requires the field; 4096 fits every current model's output limit and a
/// typical agent turn.
pub const DEFAULT_MAX_TOKENS: u32 = 4096;

/// How to reach the Anthropic Messages API, and its request defaults.
///
/// ```
/// use agentor_providers::AnthropicConfig;
///
/// let config = AnthropicConfig::new()
///     .base_url("http://127.0.0.1:8080/")
///     .model("claude-sonnet-4-5")
///     .thinking_budget(2048);
/// assert_eq!(config.endpoint(), "http://127.0.0.1:8080/v1/messages");
/// assert_eq!(config.max_tokens, 4096);
/// ```
///
/// `Debug` never prints the API key.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AnthropicConfig {
    /// Sent as `x-api-key` when set.
    pub api_key: Option<String>,
    /// The API root, without `/v1` (a trailing slash is fine).
    pub base_url: String,
    /// Sent as `anthropic-version`.
    pub version: String,
    /// The model used when a request names none ([`DEFAULT_MODEL`] when
    /// this is `None` too).
    pub model: Option<String>,
    /// `max_tokens` when the request's settings name none.
    pub max_tokens: u32,
    /// Extended thinking's `budget_tokens`; `None` leaves thinking off unless
    /// the request asks for a `reasoning_effort`.
    pub thinking_budget: Option<u32>,
    /// Longest wait for the TCP (and TLS) connection.
    pub connect_timeout: Duration,
    /// Longest silence allowed while waiting for the response headers and
    /// between two chunks of the body.
    pub read_timeout: Duration,
    /// When and how to retry a request that failed before its stream began
    /// (`429`, `529 overloaded` and other `5xx`, connection failures).
    pub retry: RetryPolicy,
}

impl Default for AnthropicConfig {
    fn default() -> Self {
        AnthropicConfig {
            api_key: None,
            base_url: DEFAULT_BASE_URL.to_owned(),
            version: DEFAULT_VERSION.to_owned(),
            model: None,
            max_tokens: DEFAULT_MAX_TOKENS,
            thinking_budget: None,
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
        }
    }
}

impl AnthropicConfig {
    /// The defaults: Anthropic's URL, no key, no model, 4096 `max_tokens`, no thinking.
    pub fn new() -> Self {
        AnthropicConfig::default()
    }

    /// The defaults overridden by `ANTHROPIC_API_KEY`, `ANTHROPIC_BASE_URL`
    /// and `ANTHROPIC_MODEL` where those are set and not empty.
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`AnthropicConfig::from_env`], reading variables through `lookup`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let var = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        AnthropicConfig {
            api_key: var("ANTHROPIC_API_KEY"),
            base_url: var("ANTHROPIC_BASE_URL").unwrap_or_else(|| DEFAULT_BASE_URL.to_owned()),
            model: var("ANTHROPIC_MODEL"),
            ..AnthropicConfig::default()
        }
    }

    /// Sets the API key.
    #[must_use]
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// Sets the API root (without `/v1`).
    #[must_use]
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// Sets the `anthropic-version` header.
    #[must_use]
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = version.into();
        self
    }

    /// Sets the default model.
    #[must_use]
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// Sets the default `max_tokens`.
    #[must_use]
    pub fn max_tokens(mut self, max_tokens: u32) -> Self {
        self.max_tokens = max_tokens;
        self
    }

    /// Turns extended thinking on with this `budget_tokens` (the API's
    /// minimum is 1024).
    #[must_use]
    pub fn thinking_budget(mut self, budget: u32) -> Self {
        self.thinking_budget = Some(budget);
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

    /// `{base_url}/v1/messages`, with exactly one slash between.
    pub fn endpoint(&self) -> String {
        format!("{}/v1/messages", self.base_url.trim_end_matches('/'))
    }
}

impl fmt::Debug for AnthropicConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = self.api_key.as_ref().map(|_| "<redacted>");
        f.debug_struct("AnthropicConfig")
            .field("api_key", &key)
            .field("base_url", &self.base_url)
            .field("version", &self.version)
            .field("model", &self.model)
            .field("max_tokens", &self.max_tokens)
            .field("thinking_budget", &self.thinking_budget)
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
    fn env_overrides_defaults_and_the_key_stays_hidden() {
        let config = AnthropicConfig::from_lookup(|name| match name {
            "ANTHROPIC_API_KEY" => Some("sk-ant-secret".into()),
            "ANTHROPIC_BASE_URL" => Some("http://localhost:9/".into()),
            "ANTHROPIC_MODEL" => Some("  ".into()),
            _ => None,
        });
        assert_eq!(config.api_key.as_deref(), Some("sk-ant-secret"));
        assert_eq!(config.endpoint(), "http://localhost:9/v1/messages");
        assert_eq!(config.model, None);
        assert!(!format!("{config:?}").contains("sk-ant-secret"));
        assert_eq!(
            AnthropicConfig::from_lookup(|_| None),
            AnthropicConfig::default()
        );
    }
}
