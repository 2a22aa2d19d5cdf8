//! Model providers for agentor: each turns a [`ChatRequest`] into an event
//! stream, per the [`Provider`] contract.
//!
//! - [`OpenAiChat`] streams from any Chat Completions API (OpenAI, Ollama,
//!   vLLM, LiteLLM, llama.cpp, …), configured by an [`OpenAiConfig`];
//! - [`OpenAiResponses`] streams from the OpenAI Responses API;
//! - [`Anthropic`] streams from the Anthropic Messages API, configured by
//!   an [`AnthropicConfig`];
//! - [`Replay`] plays a recorded run back;
//! - [`Demo`] is an offline stand-in for a model, when none is configured.
//!
//! The HTTP providers share one transport ([`agentor_transport`], set up
//! for OpenAI-compatible APIs in [`http`]): a provider is a request body plus
//! a [`TurnParser`]. [`from_env`] picks the provider a user expects.
//!
//! [`ChatRequest`]: agentor_core::ChatRequest
//! [`Provider`]: agentor_core::Provider

pub mod anthropic;
pub mod config;
pub mod demo;
pub mod http;
pub mod openai_chat;
pub mod openai_responses;
pub mod replay;

pub use agentor_transport::TurnParser;
pub use anthropic::{Anthropic, AnthropicConfig, MessagesParser};
pub use config::{OpenAiConfig, RetryPolicy};
pub use demo::Demo;
pub use openai_chat::{ChatCompletionsParser, OpenAiChat};
pub use openai_responses::{OpenAiResponses, ResponsesParser};
pub use replay::Replay;

use std::sync::Arc;

use agentor_core::Provider;

/// The provider a user expects from the environment: Chat Completions when
/// `OPENAI_API_KEY` or `OPENAI_BASE_URL` is set (so a local server needs no
/// key), else Anthropic Messages when `ANTHROPIC_API_KEY` is set, otherwise
/// the offline [`Demo`], which says plainly that it is one.
/// [`EnvChoice::detect`] says which, without building it.
pub fn from_env() -> Arc<dyn Provider> {
    match EnvChoice::detect() {
        EnvChoice::OpenAiChat => Arc::new(OpenAiChat::from_env()),
        EnvChoice::Anthropic => Arc::new(Anthropic::from_env()),
        EnvChoice::Demo => Arc::new(Demo::new()),
    }
}

/// Which provider the environment selects (see [`from_env`]); the command
/// line uses the same rule when no provider is named.
///
/// ```
/// use agentor_providers::EnvChoice;
///
/// // Whatever the environment, the rule picks exactly one.
/// let choice = EnvChoice::detect();
/// assert!(matches!(choice, EnvChoice::OpenAiChat | EnvChoice::Anthropic | EnvChoice::Demo));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EnvChoice {
    /// `OPENAI_API_KEY` or `OPENAI_BASE_URL` is set.
    OpenAiChat,
    /// No OpenAI setting, and `ANTHROPIC_API_KEY` is set.
    Anthropic,
    /// Neither: the offline demo.
    Demo,
}

impl EnvChoice {
    /// Reads the environment (variables set to blanks count as unset).
    pub fn detect() -> Self {
        let set = |name: &str| std::env::var(name).is_ok_and(|v| !v.trim().is_empty());
        if set("OPENAI_API_KEY") || set("OPENAI_BASE_URL") {
            EnvChoice::OpenAiChat
        } else if set("ANTHROPIC_API_KEY") {
            EnvChoice::Anthropic
        } else {
            EnvChoice::Demo
        }
    }
}

/// The providers page's examples (`docs/providers.md`), compiled and run as
/// doc tests.
#[doc = include_str!("../../../docs/providers.md")]
#[cfg(doctest)]
pub struct ProvidersDoctests;
