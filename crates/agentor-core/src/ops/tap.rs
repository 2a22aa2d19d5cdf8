//! Observe every item without changing the stream.

use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures_core::Stream;
use pin_project_lite::pin_project;
use tower_layer::Layer;

use crate::EventResult;

/// Calls a function on every item (events and errors) as it passes: metrics,
/// tracing, logging. The stream is unchanged.
///
/// The function runs in the consumer's task, inline; keep it cheap.
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::sync::Arc;
/// use agentor_core::{source, EventStreamExt};
/// use futures_util::StreamExt;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let seen = Arc::new(AtomicUsize::new(0));
/// let counter = seen.clone();
/// let n = source::demo_text(["a", "b"])
///     .tap(move |_| { counter.fetch_add(1, Ordering::Relaxed); })
///     .count()
///     .await;
/// assert_eq!(seen.load(Ordering::Relaxed), n);
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct TapLayer<F> {
    observe: F,
}

impl<F> TapLayer<F> {
    /// A layer calling `observe` on every item.
    pub fn new(observe: F) -> Self {
        TapLayer { observe }
    }
}

impl<S, F: Clone> Layer<S> for TapLayer<F> {
    type Service = Tap<S, F>;

    fn layer(&self, inner: S) -> Tap<S, F> {
        Tap {
            inner,
            observe: self.observe.clone(),
        }
    }
}

pin_project! {
    /// Stream for [`EventStreamExt::tap`](crate::EventStreamExt::tap).
    #[must_use = "streams do nothing unless polled"]
    #[derive(Debug)]
    pub struct Tap<S, F> {
        #[pin]
        inner: S,
        observe: F,
    }
}

impl<S, F> Tap<S, F> {
    pub(crate) fn new(inner: S, observe: F) -> Self {
        Tap { inner, observe }
    }
}

impl<S, F> Stream for Tap<S, F>
where
    S: Stream<Item = EventResult>,
    F: FnMut(&EventResult),
{
    type Item = EventResult;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<EventResult>> {
        let this = self.project();
        let item = ready!(this.inner.poll_next(cx));
        if let Some(item) = &item {
            (this.observe)(item);
        }
        Poll::Ready(item)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::{source, Error, Event, EventStreamExt, Pipeline};
    use futures_util::StreamExt;
    use std::sync::{Arc, Mutex};

    #[tokio::test]
    async fn sees_every_item_and_changes_nothing() {
        let items = vec![
            Ok(Event::text_delta("a")),
            Err(Error::provider("x")),
            Ok(Event::message("a")),
        ];
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let out: Vec<_> = source::iter_results(items.clone())
            .tap(move |item| log.lock().unwrap().push(item.clone()))
            .collect()
            .await;
        assert_eq!(out, items);
        assert_eq!(*seen.lock().unwrap(), items);
    }

    #[tokio::test]
    async fn layer_form_is_reusable() {
        let seen = Arc::new(Mutex::new(0usize));
        let log = seen.clone();
        let pipeline = Pipeline::new().layer(TapLayer::new(move |_: &EventResult| {
            *log.lock().unwrap() += 1
        }));
        let a = pipeline.apply(source::demo_text(["x"])).count().await;
        let b = pipeline.apply(source::demo_text(["y", "z"])).count().await;
        assert_eq!(*seen.lock().unwrap(), a + b);
    }
}
