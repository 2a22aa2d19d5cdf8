//! Group events and release them together; optionally coalesce text deltas.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::BytesMut;
use futures_core::Stream;
use pin_project_lite::pin_project;
use tokio::time::{Instant, Sleep};
use tower_layer::Layer;

use crate::{Event, EventKind, EventResult, Text};

/// The batch operator's layer: holds events until a batch is full or old
/// enough, then releases the whole batch at once.
///
/// A batch is released when it holds [`max_count`] events, when it holds
/// [`max_bytes`] bytes of text, when [`max_wait`] has passed since its first
/// event while the input is idle, before an `Err` (which follows the events
/// that came before it), and at end of stream. A ready input is batched by
/// count and bytes; the wait bounds how long a partial batch waits for more.
///
/// Released events come out back to back, so a sink that writes what is ready
/// (SSE, WebSocket) sends a batch in one write. With [`coalesce`], adjacent
/// text (or reasoning) deltas of one source and message become one delta.
///
/// Never drops or reorders: the output, with coalesced deltas split back, is
/// the input.
///
/// ```
/// use agentor_core::{source, BatchLayer, EventStreamExt};
/// use futures_util::StreamExt;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let texts: Vec<String> = source::demo_text(["a", "b", "c", "d", "e"])
///     .batch(BatchLayer::new().max_count(2).coalesce(true))
///     .filter_map(|e| async move { Some(e.ok()?.text()?.to_owned()) })
///     .collect()
///     .await;
/// assert_eq!(texts, ["ab", "cd", "e", "abcde"]);
/// # }
/// ```
///
/// [`max_count`]: BatchLayer::max_count
/// [`max_bytes`]: BatchLayer::max_bytes
/// [`max_wait`]: BatchLayer::max_wait
/// [`coalesce`]: BatchLayer::coalesce
#[derive(Clone, Debug)]
pub struct BatchLayer {
    max_count: usize,
    max_bytes: usize,
    max_wait: Option<Duration>,
    coalesce: bool,
}

impl Default for BatchLayer {
    fn default() -> Self {
        BatchLayer::new()
    }
}

impl BatchLayer {
    /// Batches of at most 64 events and 64 KiB of text, waiting at most 50 ms.
    pub fn new() -> Self {
        BatchLayer {
            max_count: 64,
            max_bytes: 64 * 1024,
            max_wait: Some(Duration::from_millis(50)),
            coalesce: false,
        }
    }

    /// Releases a batch once it holds `count` events (at least 1).
    #[must_use]
    pub fn max_count(mut self, count: usize) -> Self {
        self.max_count = count.max(1);
        self
    }

    /// Releases a batch once its events carry `bytes` bytes of text (at least 1).
    #[must_use]
    pub fn max_bytes(mut self, bytes: usize) -> Self {
        self.max_bytes = bytes.max(1);
        self
    }

    /// Releases a partial batch once `wait` has passed since its first event
    /// and the input is idle; `None` waits for count or bytes (no timer, so
    /// the stream also runs outside a tokio runtime).
    #[must_use]
    pub fn max_wait(mut self, wait: Option<Duration>) -> Self {
        self.max_wait = wait;
        self
    }

    /// Merges adjacent deltas of one source, kind and message into one delta.
    #[must_use]
    pub fn coalesce(mut self, coalesce: bool) -> Self {
        self.coalesce = coalesce;
        self
    }
}

impl<S> Layer<S> for BatchLayer {
    type Service = Batch<S>;

    fn layer(&self, inner: S) -> Batch<S> {
        Batch {
            inner,
            config: self.clone(),
            queue: VecDeque::new(),
            released: 0,
            pending_count: 0,
            pending_bytes: 0,
            tail: None,
            timer: None,
            done: false,
        }
    }
}

pin_project! {
    /// Stream for [`EventStreamExt::batch`](crate::EventStreamExt::batch).
    #[must_use = "streams do nothing unless polled"]
    #[derive(Debug)]
    pub struct Batch<S> {
        #[pin]
        inner: S,
        config: BatchLayer,
        // Released items first (`released` of them), then the open batch:
        // one queue, so an event is moved in and out once.
        queue: VecDeque<EventResult>,
        released: usize,
        // Input events in the batch (coalesced deltas count one each).
        pending_count: usize,
        pending_bytes: usize,
        // Text of the last pending delta while deltas are being coalesced into it.
        tail: Option<BytesMut>,
        // Boxed so the stream is `Unpin` whenever its input is.
        timer: Option<Pin<Box<Sleep>>>,
        done: bool,
    }
}

fn text_bytes(event: &Event) -> usize {
    match &event.kind {
        EventKind::ToolResult(result) => result.output.len(),
        _ => event.text().map_or(0, str::len),
    }
}

/// Whether `next` continues the delta `last`.
fn continues(last: &Event, next: &Event) -> bool {
    match (&last.kind, &next.kind) {
        (
            EventKind::TextDelta { message_id: a, .. },
            EventKind::TextDelta { message_id: b, .. },
        )
        | (
            EventKind::ReasoningDelta { message_id: a, .. },
            EventKind::ReasoningDelta { message_id: b, .. },
        ) => {
            a == b
                && last.origin.source == next.origin.source
                && last.origin.parent == next.origin.parent
        }
        _ => false,
    }
}

fn delta_text_mut(event: &mut Event) -> Option<&mut Text> {
    match &mut event.kind {
        EventKind::TextDelta { text, .. } | EventKind::ReasoningDelta { text, .. } => Some(text),
        _ => None,
    }
}

impl<S> Batch<S> {
    fn push(self: Pin<&mut Self>, event: Event) {
        let this = self.project();
        *this.pending_count += 1;
        *this.pending_bytes += text_bytes(&event);
        if *this.pending_count == 1 {
            if let Some(wait) = this.config.max_wait {
                let deadline = Instant::now() + wait;
                match this.timer {
                    Some(sleep) => sleep.as_mut().reset(deadline),
                    None => *this.timer = Some(Box::pin(tokio::time::sleep_until(deadline))),
                }
            }
        }
        if this.config.coalesce {
            let open = this.queue.len() > *this.released;
            let last = this
                .queue
                .back()
                .filter(|_| open)
                .and_then(|item| item.as_ref().ok());
            if let (Some(last), Some(text)) = (last, event.text()) {
                if continues(last, &event) {
                    let tail = this.tail.get_or_insert_with(|| {
                        let mut tail = BytesMut::with_capacity(256);
                        tail.extend_from_slice(last.text().unwrap_or_default().as_bytes());
                        tail
                    });
                    tail.extend_from_slice(text.as_bytes());
                    return;
                }
            }
        }
        finish_tail(this.queue, this.tail);
        this.queue.push_back(Ok(event));
    }

    fn is_full(&self) -> bool {
        self.pending_count >= self.config.max_count || self.pending_bytes >= self.config.max_bytes
    }

    fn release(self: Pin<&mut Self>) {
        let this = self.project();
        finish_tail(this.queue, this.tail);
        *this.released = this.queue.len();
        *this.pending_count = 0;
        *this.pending_bytes = 0;
    }
}

/// Writes the coalesced text back into the last pending delta.
fn finish_tail(queue: &mut VecDeque<EventResult>, tail: &mut Option<BytesMut>) {
    if let Some(bytes) = tail.take() {
        let last = queue.back_mut().and_then(|item| item.as_mut().ok());
        if let Some(text) = last.and_then(delta_text_mut) {
            // Only whole `str`s were appended, so this is UTF-8.
            *text = Text::from_utf8(bytes.freeze()).unwrap_or_default();
        }
    }
}

impl<S: Stream<Item = EventResult>> Stream for Batch<S> {
    type Item = EventResult;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<EventResult>> {
        loop {
            let this = self.as_mut().project();
            if *this.released > 0 {
                *this.released -= 1;
                return Poll::Ready(this.queue.pop_front());
            }
            if self.done {
                return Poll::Ready(None);
            }
            match self.as_mut().project().inner.poll_next(cx) {
                Poll::Ready(Some(Ok(event))) => {
                    self.as_mut().push(event);
                    if self.is_full() {
                        self.as_mut().release();
                    }
                }
                Poll::Ready(Some(Err(err))) => {
                    self.as_mut().release();
                    let this = self.as_mut().project();
                    this.queue.push_back(Err(err));
                    *this.released += 1;
                }
                Poll::Ready(None) => {
                    self.as_mut().release();
                    *self.as_mut().project().done = true;
                }
                Poll::Pending => {
                    if self.pending_count == 0 {
                        return Poll::Pending;
                    }
                    let Some(timer) = self.as_mut().project().timer.as_mut() else {
                        return Poll::Pending;
                    };
                    if timer.as_mut().poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    self.as_mut().release();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::source::{self, Script};
    use crate::{Error, EventStreamExt, RunStatus};
    use futures_util::StreamExt;

    fn no_wait() -> BatchLayer {
        BatchLayer::new().max_wait(None)
    }

    /// Polls `stream` until it is pending, returning what came out.
    fn drain_ready<S: Stream<Item = EventResult> + Unpin>(stream: &mut S) -> Vec<EventResult> {
        let mut out = Vec::new();
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        while let Poll::Ready(Some(item)) = Pin::new(&mut *stream).poll_next(&mut cx) {
            out.push(item);
        }
        out
    }

    #[tokio::test]
    async fn releases_full_batches_and_the_remainder() {
        let (tx, rx) = tokio::sync::mpsc::channel(16);
        let mut batched =
            tokio_stream::wrappers::ReceiverStream::new(rx).batch(no_wait().max_count(3));
        for i in 0..4 {
            tx.send(Ok(Event::text_delta("x").with_seq(i)))
                .await
                .unwrap();
        }
        let out = drain_ready(&mut batched);
        assert_eq!(
            out.len(),
            3,
            "the first three are a full batch; the fourth waits"
        );
        drop(tx);
        let rest: Vec<_> = batched.collect().await;
        assert_eq!(rest, [Ok(Event::text_delta("x").with_seq(3))]);
    }

    #[tokio::test]
    async fn bytes_bound_releases() {
        let (tx, rx) = tokio::sync::mpsc::channel(16);
        let mut batched =
            tokio_stream::wrappers::ReceiverStream::new(rx).batch(no_wait().max_bytes(5));
        tx.send(Ok(Event::text_delta("abc"))).await.unwrap();
        assert!(drain_ready(&mut batched).is_empty());
        tx.send(Ok(Event::text_delta("de"))).await.unwrap();
        assert_eq!(drain_ready(&mut batched).len(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn max_wait_starts_at_the_first_event() {
        let start = Instant::now();
        let mut out = Script::new()
            .after(Duration::from_millis(10), Event::text_delta("a"))
            .after(Duration::from_millis(30), Event::text_delta("b"))
            .after(Duration::from_millis(100), Event::text_delta("c"))
            .into_stream()
            .batch(BatchLayer::new().max_wait(Some(Duration::from_millis(50))));
        out.next().await.unwrap().unwrap();
        // "a" at 10 ms starts the clock; released at 60 ms with "b".
        assert_eq!(start.elapsed(), Duration::from_millis(60));
        assert_eq!(out.next().await.unwrap().unwrap().text(), Some("b"));
        assert_eq!(out.next().await.unwrap().unwrap().text(), Some("c"));
        assert_eq!(start.elapsed(), Duration::from_millis(140)); // end of stream releases "c"
    }

    #[tokio::test]
    async fn errors_follow_the_events_before_them() {
        let items = vec![
            Ok(Event::text_delta("a")),
            Ok(Event::text_delta("b")),
            Err(Error::provider("x")),
            Ok(Event::text_delta("c")),
        ];
        let out: Vec<_> = source::iter_results(items.clone())
            .batch(no_wait().coalesce(true))
            .collect()
            .await;
        assert_eq!(
            out,
            [
                Ok(Event::text_delta("ab")),
                Err(Error::provider("x")),
                Ok(Event::text_delta("c"))
            ]
        );
    }

    #[tokio::test]
    async fn coalesces_only_matching_deltas() {
        let events = vec![
            Event::text_delta("a").with_source("A"),
            Event::text_delta("b").with_source("A"),
            Event::text_delta("c").with_source("B"),
            Event::reasoning_delta("r").with_source("B"),
            Event::reasoning_delta("s").with_source("B"),
            Event::message("abc").with_source("A"),
            Event::text_delta("d").with_source("A"),
            Event::run_end(RunStatus::Completed),
        ];
        let out: Vec<Event> = source::iter(events)
            .batch(no_wait().coalesce(true))
            .map(Result::unwrap)
            .collect()
            .await;
        let got: Vec<(Option<&str>, Option<&str>)> = out
            .iter()
            .map(|e| (e.origin.source.as_deref(), e.text()))
            .collect();
        assert_eq!(
            got,
            [
                (Some("A"), Some("ab")),
                (Some("B"), Some("c")),
                (Some("B"), Some("rs")),
                (Some("A"), Some("abc")),
                (Some("A"), Some("d")),
                (None, None),
            ]
        );
        assert_eq!(
            out[0].seq, 0,
            "a coalesced delta keeps the first delta's envelope"
        );
    }

    #[tokio::test]
    async fn empty_stream() {
        assert!(source::iter([])
            .batch(BatchLayer::new())
            .next()
            .await
            .is_none());
    }
}
