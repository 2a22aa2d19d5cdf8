//! Count events, deltas, bytes and tools; read the counts from anywhere.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_core::Stream;
use pin_project_lite::pin_project;
use tokio::time::{Instant, Sleep};
use tower_layer::Layer;

use crate::{Event, EventKind, EventResult, ProgressSnapshot};

/// A cloneable handle to the counters of one or more progress streams.
///
/// Reading takes no lock. Streams publish their counts in steps of at most
/// [`ProgressLayer::PUBLISH_EVERY`] items and whenever they wait for input,
/// end or are dropped, so a reader lags a busy stream by a few items at most
/// and an idle, finished or dropped one not at all.
///
/// `elapsed` runs from the first poll of the first stream counting into the
/// handle until no stream is running any more.
#[derive(Clone, Default)]
pub struct ProgressHandle {
    shared: Arc<Shared>,
}

#[derive(Default)]
struct Shared {
    events: AtomicU64,
    text_deltas: AtomicU64,
    text_bytes: AtomicU64,
    tool_calls: AtomicU64,
    tool_results: AtomicU64,
    errors: AtomicU64,
    /// The first poll of the first stream.
    started: OnceLock<Instant>,
    /// Streams started and not yet ended or dropped.
    running: AtomicU64,
    /// Nanoseconds from `started` to when the last running stream ended.
    ended_after: AtomicU64,
}

impl ProgressHandle {
    /// A handle with all counts at zero.
    pub fn new() -> Self {
        ProgressHandle::default()
    }

    /// The counts now.
    pub fn snapshot(&self) -> ProgressSnapshot {
        let s = &*self.shared;
        let elapsed = match (s.started.get(), s.running.load(Relaxed)) {
            (None, _) => Duration::ZERO,
            (Some(started), 0) => {
                let ended = Duration::from_nanos(s.ended_after.load(Relaxed));
                ended.min(started.elapsed())
            }
            (Some(started), _) => started.elapsed(),
        };
        ProgressSnapshot {
            events: s.events.load(Relaxed),
            text_deltas: s.text_deltas.load(Relaxed),
            text_bytes: s.text_bytes.load(Relaxed),
            tool_calls: s.tool_calls.load(Relaxed),
            tool_results: s.tool_results.load(Relaxed),
            errors: s.errors.load(Relaxed),
            elapsed,
        }
    }

    fn start(&self, now: Instant) {
        let _ = self.shared.started.set(now);
        self.shared.running.fetch_add(1, Relaxed);
    }

    fn end(&self) {
        let s = &*self.shared;
        if s.running.fetch_sub(1, Relaxed) == 1 {
            let elapsed = s.started.get().map_or(Duration::ZERO, Instant::elapsed);
            s.ended_after.store(elapsed.as_nanos() as u64, Relaxed);
        }
    }

    fn publish(&self, counts: &mut Counts) {
        let s = &*self.shared;
        for (counter, n) in [
            (&s.events, &mut counts.events),
            (&s.text_deltas, &mut counts.text_deltas),
            (&s.text_bytes, &mut counts.text_bytes),
            (&s.tool_calls, &mut counts.tool_calls),
            (&s.tool_results, &mut counts.tool_results),
            (&s.errors, &mut counts.errors),
        ] {
            if *n > 0 {
                counter.fetch_add(std::mem::take(n), Relaxed);
            }
        }
    }
}

impl fmt::Debug for ProgressHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ProgressHandle")
            .field(&self.snapshot())
            .finish()
    }
}

/// The progress operator's layer: counts what passes and optionally emits
/// [`EventKind::Progress`] events.
///
/// Counts events (`Err` items included), text deltas, text-delta bytes, tool
/// calls, tool results and errors (`Err` items and error events), and the time
/// since the first poll. Every stream built from one layer adds into the same
/// [`ProgressHandle`].
///
/// With [`every_events`] or [`every`], a progress event carrying this stream's
/// counts follows every N-th event, or is emitted every period (checked when
/// the stream is polled). A progress event carries the envelope (`seq`
/// included) of the event before it; this layer does not count it, a progress
/// layer further down does.
///
/// ```
/// use agentor_core::{source, EventStreamExt, ProgressLayer};
/// use futures_util::StreamExt;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let layer = ProgressLayer::new();
/// let progress = layer.handle();
/// let n = source::demo_text(["Hello", " world"]).progress(layer).count().await;
/// let seen = progress.snapshot();
/// assert_eq!((seen.events, seen.text_deltas, seen.text_bytes), (n as u64, 2, 11));
/// # }
/// ```
///
/// [`every_events`]: ProgressLayer::every_events
/// [`every`]: ProgressLayer::every
#[derive(Clone, Debug, Default)]
pub struct ProgressLayer {
    handle: ProgressHandle,
    every_events: Option<u64>,
    every: Option<Duration>,
}

impl ProgressLayer {
    /// How many items a stream counts before it publishes to the handle.
    pub const PUBLISH_EVERY: u64 = 64;

    /// Counts into a new handle; emits no progress events.
    pub fn new() -> Self {
        ProgressLayer::default()
    }

    /// Counts into `handle`.
    #[must_use]
    pub fn with_handle(mut self, handle: ProgressHandle) -> Self {
        self.handle = handle;
        self
    }

    /// The handle the streams count into.
    pub fn handle(&self) -> ProgressHandle {
        self.handle.clone()
    }

    /// Emits a progress event after every `n` events (`n` ≥ 1).
    #[must_use]
    pub fn every_events(mut self, n: u64) -> Self {
        self.every_events = Some(n.max(1));
        self
    }

    /// Emits a progress event every `period` while the stream runs.
    #[must_use]
    pub fn every(mut self, period: Duration) -> Self {
        self.every = Some(period);
        self
    }
}

impl<S> Layer<S> for ProgressLayer {
    type Service = Progress<S>;

    fn layer(&self, inner: S) -> Progress<S> {
        Progress {
            inner,
            config: self.clone(),
            totals: Counts::default(),
            counter: Counter {
                handle: self.handle.clone(),
                unpublished: Counts::default(),
                running: false,
            },
            started: None,
            timer: None,
            queued: None,
            last: None,
        }
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct Counts {
    events: u64,
    text_deltas: u64,
    text_bytes: u64,
    tool_calls: u64,
    tool_results: u64,
    errors: u64,
}

impl Counts {
    fn count(&mut self, item: &EventResult) {
        self.events += 1;
        match item {
            Err(_) => self.errors += 1,
            Ok(event) => match &event.kind {
                EventKind::TextDelta { text, .. } => {
                    self.text_deltas += 1;
                    self.text_bytes += text.len() as u64;
                }
                EventKind::ToolCall(_) => self.tool_calls += 1,
                EventKind::ToolResult(_) => self.tool_results += 1,
                EventKind::Error { .. } => self.errors += 1,
                _ => {}
            },
        }
    }
}

/// What a stream has counted but not yet published; publishes on drop, so a
/// stream dropped early (a consumer stopping, a timeout cancelling it) still
/// reports everything it saw.
#[derive(Debug)]
struct Counter {
    handle: ProgressHandle,
    unpublished: Counts,
    running: bool,
}

impl Counter {
    fn finish(&mut self) {
        self.handle.publish(&mut self.unpublished);
        if std::mem::take(&mut self.running) {
            self.handle.end();
        }
    }
}

impl Drop for Counter {
    fn drop(&mut self) {
        self.finish();
    }
}

pin_project! {
    /// Stream for [`EventStreamExt::progress`](crate::EventStreamExt::progress).
    #[must_use = "streams do nothing unless polled"]
    pub struct Progress<S> {
        #[pin]
        inner: S,
        config: ProgressLayer,
        totals: Counts,
        counter: Counter,
        started: Option<Instant>,
        // Boxed so the stream is `Unpin` whenever its input is.
        timer: Option<Pin<Box<Sleep>>>,
        // An item waiting behind the progress event emitted before it.
        queued: Option<EventResult>,
        // Envelope for progress events: the last event seen.
        last: Option<Event>,
    }
}

impl<S: fmt::Debug> fmt::Debug for Progress<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Progress")
            .field("inner", &self.inner)
            .field("config", &self.config)
            .field("totals", &self.totals)
            .finish()
    }
}

impl<S> Progress<S> {
    /// The handle this stream counts into.
    pub fn handle(&self) -> ProgressHandle {
        self.config.handle.clone()
    }

    fn progress_event(self: Pin<&mut Self>) -> Event {
        let this = self.project();
        let t = *this.totals;
        let snapshot = ProgressSnapshot {
            events: t.events,
            text_deltas: t.text_deltas,
            text_bytes: t.text_bytes,
            tool_calls: t.tool_calls,
            tool_results: t.tool_results,
            errors: t.errors,
            elapsed: this.started.map_or(Duration::ZERO, |s| s.elapsed()),
        };
        let kind = EventKind::Progress(snapshot);
        match this.last {
            Some(last) => last.derive(kind),
            None => Event::new(kind),
        }
    }
}

impl<S: Stream<Item = EventResult>> Stream for Progress<S> {
    type Item = EventResult;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<EventResult>> {
        if let Some(item) = self.as_mut().project().queued.take() {
            return Poll::Ready(Some(item));
        }
        let this = self.as_mut().project();
        if this.started.is_none() {
            let now = Instant::now();
            *this.started = Some(now);
            this.counter.handle.start(now);
            this.counter.running = true;
            if let Some(period) = this.config.every {
                *this.timer = Some(Box::pin(tokio::time::sleep_until(now + period)));
            }
        }
        if let Some(timer) = this.timer.as_mut() {
            if timer.as_mut().poll(cx).is_ready() {
                let period = this.config.every.unwrap_or_default();
                timer.as_mut().reset(Instant::now() + period);
                return Poll::Ready(Some(Ok(self.progress_event())));
            }
        }
        // Returned as polled, not taken apart and wrapped again.
        let polled = this.inner.poll_next(cx);
        match &polled {
            Poll::Ready(Some(item)) => {
                this.totals.count(item);
                let counter = &mut *this.counter;
                counter.unpublished.count(item);
                if counter.unpublished.events >= ProgressLayer::PUBLISH_EVERY {
                    counter.handle.publish(&mut counter.unpublished);
                }
                let due = this
                    .config
                    .every_events
                    .is_some_and(|n| this.totals.events % n == 0);
                if let Ok(event) = item {
                    if due || this.timer.is_some() {
                        *this.last = Some(event.clone());
                    }
                }
                if due {
                    let progress = self.as_mut().progress_event();
                    *self.as_mut().project().queued = Some(Ok(progress));
                }
                polled
            }
            Poll::Ready(None) => {
                this.counter.finish();
                *this.timer = None;
                Poll::Ready(None)
            }
            Poll::Pending => {
                let counter = &mut *this.counter;
                counter.handle.publish(&mut counter.unpublished);
                Poll::Pending
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::source::{self, Script};
    use crate::{Error, ErrorKind, EventStreamExt, Kind, RunStatus};
    use futures_util::StreamExt;
    use serde_json::json;

    fn sample() -> Vec<EventResult> {
        vec![
            Ok(Event::text_delta("héllo")),
            Ok(Event::tool_call("1", "t", json!({}))),
            Ok(Event::tool_result("1", "t", "ok")),
            Ok(Event::error(ErrorKind::Provider, "x")),
            Err(Error::provider("y")),
            Ok(Event::reasoning_delta("hm")),
            Ok(Event::run_end(RunStatus::Failed)),
        ]
    }

    #[tokio::test(start_paused = true)]
    async fn counts_every_kind_and_the_time() {
        let layer = ProgressLayer::new();
        let handle = layer.handle();
        let script = sample().into_iter().fold(Script::new(), |s, item| {
            s.raw(Duration::from_millis(10), item)
        });
        let out: Vec<_> = script.into_stream().progress(layer).collect().await;
        assert_eq!(out, sample(), "progress changes nothing it passes");
        let seen = handle.snapshot();
        assert_eq!(
            seen,
            ProgressSnapshot {
                events: 7,
                text_deltas: 1,
                text_bytes: 6,
                tool_calls: 1,
                tool_results: 1,
                errors: 2,
                elapsed: Duration::from_millis(70),
            }
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(
            handle.snapshot().elapsed,
            Duration::from_millis(70),
            "stops at the end"
        );
    }

    #[tokio::test]
    async fn readable_while_running() {
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        let layer = ProgressLayer::new();
        let handle = layer.handle();
        let mut s = tokio_stream::wrappers::ReceiverStream::new(rx).progress(layer);
        tx.send(Ok(Event::text_delta("ab"))).await.unwrap();
        s.next().await.unwrap().unwrap();
        // Waiting for more input publishes what was counted.
        assert!(futures::poll!(s.next()).is_pending());
        assert_eq!(handle.snapshot().text_bytes, 2);
    }

    #[tokio::test]
    async fn every_n_events_emits_progress_after_the_nth() {
        let out: Vec<Event> = source::iter_results(sample())
            .filter_map(|e| async move { e.ok() })
            .map(Ok)
            .progress(ProgressLayer::new().every_events(3))
            .map(Result::unwrap)
            .collect()
            .await;
        let kinds: Vec<Kind> = out.iter().map(Event::kind).collect();
        assert_eq!(
            kinds,
            [
                Kind::TextDelta,
                Kind::ToolCall,
                Kind::ToolResult,
                Kind::Progress,
                Kind::Error,
                Kind::ReasoningDelta,
                Kind::RunEnd,
                Kind::Progress,
            ]
        );
        let EventKind::Progress(p) = &out[7].kind else {
            unreachable!()
        };
        assert_eq!((p.events, p.tool_calls, p.errors), (6, 1, 1));
    }

    #[tokio::test(start_paused = true)]
    async fn periodic_progress_while_idle() {
        let out: Vec<Kind> = Script::new()
            .after(Duration::from_millis(250), Event::text_delta("a"))
            .into_stream()
            .progress(ProgressLayer::new().every(Duration::from_millis(100)))
            .map(|e| e.unwrap().kind())
            .collect()
            .await;
        assert_eq!(out, [Kind::Progress, Kind::Progress, Kind::TextDelta]);
    }

    #[tokio::test]
    async fn a_stream_dropped_early_still_reports_what_it_saw() {
        let layer = ProgressLayer::new();
        let mut s = source::iter((0..100).map(|_| Event::text_delta("x"))).progress(layer.clone());
        for _ in 0..10 {
            s.next().await.unwrap().unwrap();
        }
        assert_eq!(
            layer.handle().snapshot().events,
            0,
            "still below the publish step"
        );
        drop(s);
        assert_eq!(layer.handle().snapshot().events, 10);
    }

    #[tokio::test(start_paused = true)]
    async fn shared_elapsed_runs_until_the_last_stream_ends() {
        let layer = ProgressLayer::new();
        let short = Script::new()
            .after(Duration::from_millis(10), Event::text_delta("a"))
            .into_stream();
        let long = Script::new()
            .after(Duration::from_millis(50), Event::text_delta("b"))
            .into_stream();
        let (a, b) = tokio::join!(
            short.progress(layer.clone()).count(),
            long.progress(layer.clone()).count()
        );
        assert_eq!(a + b, 2);
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(layer.handle().snapshot().elapsed, Duration::from_millis(50));
    }

    #[tokio::test]
    async fn layers_share_one_handle() {
        let layer = ProgressLayer::new();
        let a = source::demo_text(["a"]).progress(layer.clone());
        let b = source::demo_text(["b", "c"]).progress(layer.clone());
        let _ = a.count().await + b.count().await;
        assert_eq!(layer.handle().snapshot().text_deltas, 3);
    }
}
