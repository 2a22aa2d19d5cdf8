//! The core of agentor: an event model for streamed AI-agent output, small
//! composable stream operators, and the wire encodings sinks speak.
//!
//! Everything flows as a [`Stream`](futures_core::Stream) of
//! `Result<Event, Error>`. Operators are plain stream adapters polled in the
//! consumer's task; each is a [`tower_layer::Layer`], a method on
//! [`EventStreamExt`], and a step of a [`Pipeline`].
//!
//! This crate has no networking dependencies; providers and servers live in
//! the crates built on it.

mod error;
mod event;
mod ext;
mod kind_set;
mod pipeline;
mod text;

pub mod ops;
pub mod source;
pub mod wire;

pub use error::Error;
pub use event::{
    ErrorKind, Event, EventKind, Kind, ProgressSnapshot, RunStatus, ToolCall, ToolResult,
    UnknownName,
};
pub use ext::EventStreamExt;
pub use kind_set::KindSet;
pub use ops::batch::BatchLayer;
pub use ops::filter::EventFilter;
pub use ops::merge::{merge, FailurePolicy, Merge, MergeClosed, MergeHandle, MergeLayer};
pub use ops::progress::{ProgressHandle, ProgressLayer};
pub use ops::rebuffer::{Boundary, RebufferLayer};
pub use ops::timeout::TimeoutLayer;
pub use pipeline::Pipeline;
pub use text::Text;

/// The item of every event stream: an event, or a failure passed along in order.
pub type EventResult = Result<Event, Error>;

/// A boxed, sendable event stream: what providers return and sinks accept.
pub type BoxEventStream = std::pin::Pin<Box<dyn futures_core::Stream<Item = EventResult> + Send>>;
