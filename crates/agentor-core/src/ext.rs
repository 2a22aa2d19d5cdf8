//! [`EventStreamExt`]: the operators as methods on any event stream.

use futures_core::Stream;
use tower_layer::Layer;

use crate::EventResult;

/// Operators as methods on any stream of `Result<Event, Error>`.
///
/// Each method is the same as applying the operator's layer; use
/// [`Pipeline`](crate::Pipeline) to build a reusable stack.
pub trait EventStreamExt: Stream<Item = EventResult> + Sized {
    /// Wraps the stream in `layer`.
    fn with<L: Layer<Self>>(self, layer: L) -> L::Service {
        layer.layer(self)
    }
}

impl<S: Stream<Item = EventResult>> EventStreamExt for S {}
