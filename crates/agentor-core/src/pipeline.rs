//! [`Pipeline`]: layers composed in reading order.

use tower_layer::{Identity, Layer, Stack};

use crate::{BatchLayer, FilterLayer, ProgressLayer, RebufferLayer, TimeoutLayer};

/// Stream layers composed in reading order: the first layer named sees the
/// events first.
///
/// `tower::ServiceBuilder` wraps services outside-in, which for streams reads
/// backwards; `Pipeline` reads like the data flows. A `Pipeline` is itself a
/// [`Layer`], so pipelines nest and apply to any stream of
/// `Result<Event, Error>`: a provider, a channel, `async-stream`, tokio-stream.
///
/// ```
/// use agentor_core::{source, Boundary, Event, Kind, Pipeline};
/// use futures_util::StreamExt;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let pipeline = Pipeline::new()
///     .filter_events(Kind::TextDelta) // sees the source's events first
///     .rebuffer(Boundary::Words); // then re-cuts what the filter kept
///
/// let events = source::iter([Event::text_delta("a b"), Event::message("a b")]);
/// let out: Vec<Event> = pipeline.apply(events).map(Result::unwrap).collect().await;
/// assert_eq!(out.iter().map(|e| e.text().unwrap()).collect::<Vec<_>>(), ["a ", "b"]);
/// # }
/// ```
///
#[derive(Clone, Debug, Default)]
#[must_use = "a pipeline does nothing until applied to a stream"]
pub struct Pipeline<L = Identity> {
    layer: L,
}

impl Pipeline<Identity> {
    /// A pipeline that passes events through unchanged.
    pub fn new() -> Self {
        Pipeline {
            layer: Identity::new(),
        }
    }
}

impl<L> Pipeline<L> {
    /// Adds `layer` after the layers already in the pipeline.
    pub fn layer<M>(self, layer: M) -> Pipeline<Stack<L, M>> {
        Pipeline {
            layer: Stack::new(self.layer, layer),
        }
    }

    /// Adds a filter; see [`FilterLayer`].
    pub fn filter_events(self, filter: impl Into<FilterLayer>) -> Pipeline<Stack<L, FilterLayer>> {
        self.layer(filter.into())
    }

    /// Adds a rebuffer step; see [`RebufferLayer`].
    pub fn rebuffer(self, layer: impl Into<RebufferLayer>) -> Pipeline<Stack<L, RebufferLayer>> {
        self.layer(layer.into())
    }

    /// Adds a batch step; see [`BatchLayer`].
    pub fn batch(self, layer: BatchLayer) -> Pipeline<Stack<L, BatchLayer>> {
        self.layer(layer)
    }

    /// Adds deadlines; see [`TimeoutLayer`].
    pub fn timeouts(self, layer: TimeoutLayer) -> Pipeline<Stack<L, TimeoutLayer>> {
        self.layer(layer)
    }

    /// Adds counting; see [`ProgressLayer`].
    pub fn progress(self, layer: ProgressLayer) -> Pipeline<Stack<L, ProgressLayer>> {
        self.layer(layer)
    }

    /// Applies the pipeline to `stream`.
    pub fn apply<S>(&self, stream: S) -> L::Service
    where
        L: Layer<S>,
    {
        self.layer.layer(stream)
    }

    /// The composed layer.
    pub fn into_inner(self) -> L {
        self.layer
    }
}

impl<S, L: Layer<S>> Layer<S> for Pipeline<L> {
    type Service = L::Service;

    fn layer(&self, inner: S) -> Self::Service {
        self.layer.layer(inner)
    }
}
