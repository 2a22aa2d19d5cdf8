//! Model providers for agentor: each turns a [`ChatRequest`] into an event
//! stream, per the [`Provider`] contract.
//!
//! - [`openai_responses`]: the OpenAI Responses API's request body and
//!   stream parser ([`ResponsesParser`]);
//! - [`Replay`]: plays a recorded run back;
//! - [`Demo`]: an offline stand-in for a model, when none is configured.
//!
//! [`ChatRequest`]: agentor_core::ChatRequest
//! [`Provider`]: agentor_core::Provider

mod parse;

pub mod demo;
pub mod openai_responses;
pub mod replay;

pub use demo::Demo;
pub use openai_responses::ResponsesParser;
pub use parse::TurnParser;
pub use replay::Replay;
