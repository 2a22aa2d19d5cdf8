//! Model providers for agentor: each turns a [`ChatRequest`] into an event
//! stream, per the [`Provider`] contract.
//!
//! [`ChatRequest`]: agentor_core::ChatRequest
//! [`Provider`]: agentor_core::Provider

mod parse;

pub use parse::TurnParser;
