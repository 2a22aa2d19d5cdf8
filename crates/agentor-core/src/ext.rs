//! [`EventStreamExt`]: the operators as methods on any event stream.

use futures_core::Stream;
use tower_layer::Layer;

use crate::ops::batch::Batch;
use crate::ops::filter::Filter;
use crate::ops::metrics::Metrics;
use crate::ops::progress::Progress;
use crate::ops::rebuffer::Rebuffer;
use crate::ops::record::Record;
use crate::ops::tap::Tap;
use crate::ops::timeout::Timeout;
use crate::{
    BatchLayer, EventResult, FilterLayer, MetricsLayer, ProgressLayer, RebufferLayer, TimeoutLayer,
};

/// Operators as methods on any stream of `Result<Event, Error>`.
///
/// Each method is the same as applying the operator's layer; use
/// [`Pipeline`](crate::Pipeline) to build a reusable stack. Names avoid those
/// of `futures::StreamExt` and `tokio_stream::StreamExt`, so all three traits
/// can be imported together.
pub trait EventStreamExt: Stream<Item = EventResult> + Sized {
    /// Wraps the stream in `layer`.
    fn with<L: Layer<Self>>(self, layer: L) -> L::Service {
        layer.layer(self)
    }

    /// Keeps the events that pass `filter`; see [`FilterLayer`].
    fn filter_events(self, filter: impl Into<FilterLayer>) -> Filter<Self> {
        filter.into().layer(self)
    }

    /// Re-cuts text deltas at boundaries; pass a [`Boundary`](crate::Boundary)
    /// or a configured [`RebufferLayer`].
    fn rebuffer(self, layer: impl Into<RebufferLayer>) -> Rebuffer<Self> {
        layer.into().layer(self)
    }

    /// Groups events into batches released together; see [`BatchLayer`].
    fn batch(self, layer: BatchLayer) -> Batch<Self> {
        layer.layer(self)
    }

    /// Ends the stream with a typed timeout when a deadline passes; see [`TimeoutLayer`].
    fn timeouts(self, layer: TimeoutLayer) -> Timeout<Self> {
        layer.layer(self)
    }

    /// Counts what passes into the layer's [`ProgressHandle`](crate::ProgressHandle);
    /// see [`ProgressLayer`].
    fn progress(self, layer: ProgressLayer) -> Progress<Self> {
        layer.layer(self)
    }

    /// Counts what passes through the [`metrics`] facade, labelled
    /// `position`; see [`MetricsLayer`].
    fn metrics(self, position: impl Into<metrics::SharedString>) -> Metrics<Self> {
        MetricsLayer::new(position).layer(self)
    }

    /// Writes every event as a native JSON line to `writer`; see
    /// [`RecordLayer`](crate::ops::record::RecordLayer).
    fn record<W: tokio::io::AsyncWrite + Unpin>(self, writer: W) -> Record<Self, W> {
        Record::new(self, writer)
    }

    /// Calls `observe` on every item; see [`TapLayer`](crate::ops::tap::TapLayer).
    fn tap<F: FnMut(&EventResult)>(self, observe: F) -> Tap<Self, F> {
        Tap::new(self, observe)
    }
}

impl<S: Stream<Item = EventResult>> EventStreamExt for S {}
