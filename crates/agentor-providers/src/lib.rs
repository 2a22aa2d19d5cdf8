//! Model providers for agentor: each turns a [`ChatRequest`] into an event
//! stream, per the [`Provider`] contract.
//!
//! [`OpenAiChat`] streams from any Chat Completions API (OpenAI, Ollama,
//! vLLM, LiteLLM, llama.cpp, …), configured by an [`OpenAiConfig`]. Its
//! transport, [`http`], is shared by every HTTP provider: a provider is a
//! request body plus a [`TurnParser`].
//!
//! [`ChatRequest`]: agentor_core::ChatRequest
//! [`Provider`]: agentor_core::Provider

mod parse;

pub mod config;
pub mod http;
pub mod openai_chat;

pub use config::{OpenAiConfig, RetryPolicy};
pub use openai_chat::{ChatCompletionsParser, OpenAiChat};
pub use parse::TurnParser;
