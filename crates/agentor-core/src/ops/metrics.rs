//! Count what passes a point of a pipeline through the [`metrics`] facade.

use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures_core::Stream;
use metrics::{Counter, Histogram, SharedString};
use pin_project_lite::pin_project;
use tokio::time::Instant;
use tower_layer::Layer;

use crate::telemetry::{KIND, LAYER_BYTES, LAYER_EVENTS, LAYER_TIME_TO_FIRST_EVENT, POSITION};
use crate::{EventKind, EventResult, Kind};

/// Counts the events passing this point of a pipeline, by kind, the bytes of
/// streamed text, and the time from the first poll to the first item, all
/// labelled `position` with the name you give it. See
/// [`telemetry`](crate::telemetry) for the metric names.
///
/// The counts go to whatever [`metrics`] recorder the application installed;
/// with none, the handles are no-ops. Handles are registered once per stream
/// and kind, so the per-event cost is an array index and an atomic add.
/// `Err` items are counted under the kind `error`.
///
/// ```
/// use agentor_core::{source, Boundary, MetricsLayer, Pipeline};
/// use futures_util::StreamExt;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let pipeline = Pipeline::new()
///     .layer(MetricsLayer::new("provider"))
///     .rebuffer(Boundary::Words)
///     .layer(MetricsLayer::new("client"));
/// let n = pipeline.apply(source::demo_text(["Hel", "lo"])).count().await;
/// assert!(n > 0);
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct MetricsLayer {
    position: SharedString,
}

impl MetricsLayer {
    /// A layer labelling its counts `position = <position>`.
    pub fn new(position: impl Into<SharedString>) -> Self {
        MetricsLayer {
            position: position.into(),
        }
    }
}

impl<S> Layer<S> for MetricsLayer {
    type Service = Metrics<S>;

    fn layer(&self, inner: S) -> Metrics<S> {
        Metrics {
            inner,
            handles: Handles::new(self.position.clone()),
        }
    }
}

/// The registered handles of one stream.
#[derive(Debug)]
struct Handles {
    position: SharedString,
    events: [Option<Counter>; Kind::ALL.len()],
    bytes: Option<Counter>,
    first: Option<Histogram>,
    started: Option<Instant>,
}

impl Handles {
    fn new(position: SharedString) -> Self {
        Handles {
            position,
            events: Default::default(),
            bytes: None,
            first: None,
            started: None,
        }
    }

    fn on_poll(&mut self) {
        if self.started.is_none() && self.first.is_none() {
            self.started = Some(Instant::now());
        }
    }

    fn on_item(&mut self, item: &EventResult) {
        if let Some(started) = self.started.take() {
            let first = self.first.get_or_insert_with(|| {
                metrics::histogram!(LAYER_TIME_TO_FIRST_EVENT, POSITION => self.position.clone())
            });
            first.record(started.elapsed().as_secs_f64());
        }
        let kind = match item {
            Ok(event) => event.kind(),
            Err(_) => Kind::Error,
        };
        let position = &self.position;
        self.events[kind as usize]
            .get_or_insert_with(|| {
                metrics::counter!(LAYER_EVENTS, POSITION => position.clone(), KIND => kind.as_str())
            })
            .increment(1);
        let text = match item {
            Ok(event) => match &event.kind {
                EventKind::TextDelta { text, .. }
                | EventKind::ReasoningDelta { text, .. }
                | EventKind::Message { text, .. } => text.len(),
                _ => 0,
            },
            Err(_) => 0,
        };
        if text > 0 {
            self.bytes
                .get_or_insert_with(|| metrics::counter!(LAYER_BYTES, POSITION => position.clone()))
                .increment(text as u64);
        }
    }
}

pin_project! {
    /// Stream for [`MetricsLayer`].
    #[must_use = "streams do nothing unless polled"]
    #[derive(Debug)]
    pub struct Metrics<S> {
        #[pin]
        inner: S,
        handles: Handles,
    }
}

impl<S> Stream for Metrics<S>
where
    S: Stream<Item = EventResult>,
{
    type Item = EventResult;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<EventResult>> {
        let this = self.project();
        this.handles.on_poll();
        let item = ready!(this.inner.poll_next(cx));
        if let Some(item) = &item {
            this.handles.on_item(item);
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
    use crate::{source, Error, Event, EventStreamExt};
    use futures_util::StreamExt;
    use metrics_util::debugging::{DebugValue, DebuggingRecorder};
    use std::time::Duration;

    fn value<'a>(
        snapshot: &'a [(
            metrics_util::CompositeKey,
            Option<metrics::Unit>,
            Option<SharedString>,
            DebugValue,
        )],
        name: &str,
        labels: &[(&str, &str)],
    ) -> Option<&'a DebugValue> {
        snapshot.iter().find_map(|(key, _, _, value)| {
            let key = key.key();
            let matches = key.name() == name
                && labels
                    .iter()
                    .all(|(k, v)| key.labels().any(|l| l.key() == *k && l.value() == *v));
            matches.then_some(value)
        })
    }

    #[test]
    fn counts_through_a_local_recorder() {
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        metrics::with_local_recorder(&recorder, || {
            runtime.block_on(async {
                let items = vec![
                    Ok(Event::text_delta("héllo")),
                    Ok(Event::text_delta("!")),
                    Err(Error::provider("x")),
                    Ok(Event::message("héllo!")),
                ];
                let delayed =
                    futures_util::stream::once(tokio::time::sleep(Duration::from_millis(250)))
                        .flat_map(move |()| source::iter_results(items.clone()));
                let n = delayed.with(MetricsLayer::new("p1")).count().await;
                assert_eq!(n, 4);
            });
        });
        let snapshot = snapshotter.snapshot().into_vec();
        let p1 = |name, kind: Option<&str>| {
            let mut labels = vec![("position", "p1")];
            labels.extend(kind.map(|k| ("kind", k)));
            value(&snapshot, name, &labels)
        };
        assert_eq!(
            p1(LAYER_EVENTS, Some("text_delta")),
            Some(&DebugValue::Counter(2))
        );
        assert_eq!(
            p1(LAYER_EVENTS, Some("error")),
            Some(&DebugValue::Counter(1))
        );
        assert_eq!(
            p1(LAYER_EVENTS, Some("message")),
            Some(&DebugValue::Counter(1))
        );
        assert_eq!(p1(LAYER_EVENTS, Some("run_end")), None);
        // "héllo" is 6 bytes: 6 + 1 + 7.
        assert_eq!(p1(LAYER_BYTES, None), Some(&DebugValue::Counter(14)));
        match p1(LAYER_TIME_TO_FIRST_EVENT, None) {
            Some(DebugValue::Histogram(values)) => {
                assert_eq!(values.len(), 1);
                assert!((values[0].into_inner() - 0.25).abs() < 0.01, "{values:?}");
            }
            other => panic!("no time to first event: {other:?}"),
        }
    }

    #[tokio::test]
    async fn without_a_recorder_the_stream_is_unchanged() {
        let items: Vec<EventResult> = source::demo_text(["a b", "c"]).collect().await;
        let out: Vec<_> = source::iter_results(items.clone())
            .with(MetricsLayer::new("x"))
            .collect()
            .await;
        assert_eq!(out, items);
    }
}
