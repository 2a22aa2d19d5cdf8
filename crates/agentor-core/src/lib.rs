//! The core of agentor: an event model for streamed AI-agent output, small
//! composable stream operators, and the wire encodings sinks speak.
//!
//! Everything flows as a [`Stream`](futures_core::Stream) of
//! `Result<Event, Error>`. Operators are plain stream adapters polled in the
//! consumer's task; each is a [`tower_layer::Layer`], a method on
//! [`EventStreamExt`], and a step of a [`Pipeline`].
//!
//! ```
//! use agentor_core::{source, Boundary, EventStreamExt, Kind, KindSet, Pipeline};
//! use futures_util::StreamExt;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let events = source::demo_text(["Hel", "lo wor", "ld, agents!"]);
//! let pipeline = Pipeline::new()
//!     .filter_events(KindSet::of(Kind::TextDelta).with(Kind::RunEnd))
//!     .rebuffer(Boundary::Words);
//! let pieces: Vec<String> = pipeline
//!     .apply(events)
//!     .filter_map(|e| async move { e.ok()?.text().map(str::to_owned) })
//!     .collect()
//!     .await;
//! assert_eq!(pieces, ["Hello ", "world, ", "agents!"]);
//! # }
//! ```
//!
//! This crate has no networking dependencies; providers and servers live in
//! the crates built on it.

mod envelope;
pub mod error;
mod event;
mod ext;
mod kind_set;
mod options;
mod origin;
mod pipeline;
mod provider;
mod text;

pub mod ops;
pub mod source;
pub mod telemetry;
pub mod wire;

pub use envelope::Envelope;
pub use error::Error;
pub use event::{
    ErrorKind, Event, EventKind, Kind, ProgressSnapshot, RunStatus, ToolCall, ToolCallDelta,
    ToolResult, UnknownName,
};
pub use ext::EventStreamExt;
pub use kind_set::KindSet;
pub use ops::batch::BatchLayer;
#[allow(deprecated)]
pub use ops::filter::EventFilter;
pub use ops::filter::FilterLayer;
pub use ops::merge::{merge, FailurePolicy, Merge, MergeClosed, MergeHandle, MergeLayer};
pub use ops::metrics::MetricsLayer;
pub use ops::progress::{ProgressHandle, ProgressLayer};
pub use ops::rebuffer::{Boundary, RebufferLayer, UnknownBoundary};
pub use ops::record::RecordLayer;
pub use ops::tap::TapLayer;
pub use ops::timeout::TimeoutLayer;
pub use options::{OptionError, PipelineOptions};
pub use origin::{Origin, OriginFields, Restamp};
pub use pipeline::Pipeline;
pub use provider::{
    ChatMessage, ChatRequest, ChatRole, ModelSettings, Provider, ToolCallRequest, ToolSpec,
};
#[allow(deprecated)]
pub use provider::{Message, Role};
pub use text::Text;

/// The item of every event stream: an event, or a failure passed along in order.
pub type EventResult = Result<Event, Error>;

/// A boxed, sendable event stream: what providers return and sinks accept.
pub type BoxEventStream = std::pin::Pin<Box<dyn futures_core::Stream<Item = EventResult> + Send>>;
