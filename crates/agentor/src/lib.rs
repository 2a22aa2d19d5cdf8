//! agentor: stream what AI agents say and do, in real time.
//!
//! An [`Agentor`] has instructions, [`Tool`]s and a model
//! [`Provider`]; [`Agentor::stream_chat`] runs the
//! tool loop and streams every event (text deltas included) as a
//! `Stream<Item = Result<Event, Error>>`, so the layers of
//! [`agentor_core`] (filter, rebuffer, batch, timeouts, progress, merge,
//! record) and its wire encoders apply directly.
//!
//! This crate re-exports `agentor-core`; providers are in [`providers`].

mod agent;
mod chat_stream;
mod config;
mod content;
mod handoff;
mod instrument;
mod interrupt;
mod nested;
pub mod print;
mod run;
mod tool;

pub use agent::{Agentor, AgentorBuilder};
pub use agentor_core::*;
pub use chat_stream::ChatStream;
pub use config::Input;
pub use handoff::transfer_tool_name;
pub use interrupt::{Interrupt, REQUEST_INPUT_TOOL};
pub use tool::{Tool, ToolError};

/// The model providers (`agentor-providers`).
pub use agentor_providers as providers;

/// The provider an agent uses when none is given: OpenAI-compatible Chat
/// Completions when `OPENAI_API_KEY` or `OPENAI_BASE_URL` is set, else
/// Anthropic Messages when `ANTHROPIC_API_KEY` is set, otherwise the offline
/// demo provider (which says plainly that it is a demo).
pub fn default_provider() -> std::sync::Arc<dyn Provider> {
    agentor_providers::from_env()
}

/// The README's examples, compiled and run as doc tests.
#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

/// The streaming guide's snippets (`docs/guide.md`), compiled and run as doc tests.
#[doc = include_str!("../../../docs/guide.md")]
#[cfg(doctest)]
pub struct GuideDoctests;

/// The wire formats page's examples (`docs/wire.md`), checked byte for byte.
#[doc = include_str!("../../../docs/wire.md")]
#[cfg(doctest)]
pub struct WireDoctests;

/// The operator reference's snippets (`docs/operators.md`), compiled and run
/// as doc tests, with the output they show asserted.
#[doc = include_str!("../../../docs/operators.md")]
#[cfg(doctest)]
pub struct OperatorsDoctests;
