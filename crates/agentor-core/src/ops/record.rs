//! Write every event as a native JSON line to any `AsyncWrite`.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, BytesMut};
use futures_core::Stream;
use pin_project_lite::pin_project;
use tokio::io::AsyncWrite;
use tower_layer::Layer;

use crate::wire::native;
use crate::{Envelope, Error, EventResult};

/// Bytes of encoded events the recorder holds before it waits for the writer.
const HIGH_WATER: usize = 64 * 1024;

/// The record operator's layer: writes each event as a [native JSON
/// line](crate::wire::native), the format the replay provider plays back,
/// with its time since the stream was first polled (`t_ms`), so a replay can
/// keep the recorded pace.
///
/// The stream passes every item on unchanged. An `Err` item is recorded as
/// its error event ([`Error::to_event`]). Writing happens in the consumer's
/// task as the stream is polled: once 64 KiB of encoded events wait for the
/// writer, the recorder stops pulling its input until the writer catches up
/// (a slow disk slows the stream; memory stays under 64 KiB plus one event). At end of stream it writes the rest and flushes before
/// ending. If the writer fails, the stream yields one
/// [`ErrorKind::Internal`](crate::ErrorKind::Internal) `Err` naming the
/// failure, stops recording, and goes on passing events.
///
/// A layer is applied to many streams, so it holds a function making a writer;
/// [`EventStreamExt::record`](crate::EventStreamExt::record) takes the writer
/// itself.
///
/// ```
/// use agentor_core::{source, wire::native, EventStreamExt};
/// use futures_util::StreamExt;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let mut recorded = source::demo_text(["Hi", "!"]).record(Vec::new());
/// let mut events = Vec::new();
/// while let Some(item) = recorded.next().await {
///     events.push(item.unwrap());
/// }
/// let file = String::from_utf8(recorded.into_writer().unwrap()).unwrap();
/// let replayed: Vec<_> = native::decode_lines(&file).map(Result::unwrap).collect();
/// assert_eq!(replayed, events);
/// # }
/// ```
#[derive(Clone)]
pub struct RecordLayer<F> {
    make_writer: F,
}

impl<F> RecordLayer<F> {
    /// A layer recording each stream into a writer made by `make_writer`.
    pub fn new(make_writer: F) -> Self {
        RecordLayer { make_writer }
    }
}

impl<F> fmt::Debug for RecordLayer<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordLayer").finish_non_exhaustive()
    }
}

impl<S, F, W> Layer<S> for RecordLayer<F>
where
    F: Fn() -> W,
{
    type Service = Record<S, W>;

    fn layer(&self, inner: S) -> Record<S, W> {
        Record::new(inner, (self.make_writer)())
    }
}

pin_project! {
    /// Stream for [`EventStreamExt::record`](crate::EventStreamExt::record).
    #[must_use = "streams do nothing unless polled"]
    pub struct Record<S, W> {
        #[pin]
        inner: S,
        writer: Option<W>,
        buf: BytesMut,
        // When the stream was first polled: the recording's time zero.
        started: Option<tokio::time::Instant>,
        // The input ended; what is left is writing out and flushing.
        finishing: bool,
        // A write failure to report as the next item.
        failure: Option<Error>,
        // The run's envelope, for recording a failure as an error of the run.
        envelope: Envelope,
    }
}

impl<S: fmt::Debug, W> fmt::Debug for Record<S, W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Record")
            .field("inner", &self.inner)
            .field("recording", &self.writer.is_some())
            .field("buffered", &self.buf.len())
            .finish()
    }
}

impl<S, W> Record<S, W> {
    pub(crate) fn new(inner: S, writer: W) -> Self {
        Record {
            inner,
            writer: Some(writer),
            buf: BytesMut::with_capacity(4096),
            started: None,
            finishing: false,
            failure: None,
            envelope: Envelope::new(),
        }
    }

    /// The writer, unless a write failed. Everything is flushed once the
    /// stream has ended.
    pub fn into_writer(self) -> Option<W> {
        self.writer
    }
}

impl<S, W: AsyncWrite + Unpin> Record<S, W> {
    /// Writes out buffered bytes, then flushes; `Ready` once done or failed.
    fn poll_drain(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        let Some(writer) = this.writer.as_mut() else {
            this.buf.clear();
            return Poll::Ready(());
        };
        let result = loop {
            if this.buf.is_empty() {
                break Pin::new(&mut *writer).poll_flush(cx);
            }
            match Pin::new(&mut *writer).poll_write(cx, this.buf) {
                Poll::Ready(Ok(0)) => break Poll::Ready(Err(std::io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => this.buf.advance(n),
                Poll::Ready(Err(e)) => break Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        };
        match result {
            Poll::Ready(Ok(())) => Poll::Ready(()),
            Poll::Ready(Err(e)) => {
                *this.writer = None;
                this.buf.clear();
                *this.failure = Some(Error::internal(format!("recording failed: {e}")));
                Poll::Ready(())
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<S, W> Stream for Record<S, W>
where
    S: Stream<Item = EventResult>,
    W: AsyncWrite + Unpin,
{
    type Item = EventResult;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<EventResult>> {
        let drained = self.as_mut().poll_drain(cx);
        if let Some(failure) = self.as_mut().project().failure.take() {
            return Poll::Ready(Some(Err(failure)));
        }
        if self.finishing {
            return drained.map(|()| None);
        }
        if drained.is_pending() && self.buf.len() >= HIGH_WATER {
            return Poll::Pending;
        }
        let this = self.as_mut().project();
        let started = *this.started.get_or_insert_with(tokio::time::Instant::now);
        match this.inner.poll_next(cx) {
            Poll::Ready(Some(item)) => {
                if this.writer.is_some() {
                    let at = started.elapsed();
                    native::encode_timed(&this.envelope.event_ref(&item), at, this.buf);
                    this.buf.extend_from_slice(b"\n");
                }
                Poll::Ready(Some(item))
            }
            Poll::Ready(None) => {
                *this.finishing = true;
                self.poll_next(cx)
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::source;
    use crate::{ErrorKind, Event, EventStreamExt, Kind, Pipeline};
    use futures_util::StreamExt;
    use std::io;
    use std::sync::{Arc, Mutex};

    /// A writer that accepts `budget` bytes, then fails or stalls.
    struct Limited {
        budget: usize,
        stall: bool,
        written: Arc<Mutex<Vec<u8>>>,
    }

    impl AsyncWrite for Limited {
        fn poll_write(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            if self.budget == 0 {
                return if self.stall {
                    Poll::Pending
                } else {
                    Poll::Ready(Err(io::Error::other("disk full")))
                };
            }
            let n = buf.len().min(self.budget);
            self.budget -= n;
            self.written.lock().unwrap().extend_from_slice(&buf[..n]);
            Poll::Ready(Ok(n))
        }
        fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
        fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    #[tokio::test]
    async fn errors_are_recorded_as_error_events() {
        let items = vec![
            Ok(Event::text_delta("a")),
            Err(crate::Error::provider("boom")),
        ];
        let mut s = source::iter_results(items.clone()).record(Vec::new());
        let mut out = Vec::new();
        while let Some(item) = s.next().await {
            out.push(item);
        }
        assert_eq!(out, items);
        let file = String::from_utf8(s.into_writer().unwrap()).unwrap();
        let lines: Vec<Event> = native::decode_lines(&file).map(Result::unwrap).collect();
        assert_eq!(lines[1], Event::error(ErrorKind::Provider, "boom"));
    }

    #[tokio::test]
    async fn a_failing_writer_is_reported_once_and_events_go_on() {
        let written = Arc::new(Mutex::new(Vec::new()));
        let writer = Limited {
            budget: 10,
            stall: false,
            written: written.clone(),
        };
        let out: Vec<EventResult> = source::demo_text(["some ", "text ", "here"])
            .record(writer)
            .collect()
            .await;
        let failures: Vec<_> = out.iter().filter_map(|r| r.as_ref().err()).collect();
        assert_eq!(failures.len(), 1);
        assert!(failures[0].message().contains("disk full"));
        assert_eq!(
            out.iter().filter(|r| r.is_ok()).count(),
            5,
            "every event still passes"
        );
        assert_eq!(written.lock().unwrap().len(), 10);
    }

    #[tokio::test]
    async fn a_stalled_writer_bounds_the_buffer() {
        let writer = Limited {
            budget: 0,
            stall: true,
            written: Arc::default(),
        };
        let big = "x".repeat(1000);
        let mut s =
            source::iter(std::iter::repeat_with(move || Event::text_delta(big.clone())).take(1000))
                .record(writer);
        let mut passed = 0;
        while let Poll::Ready(Some(_)) = futures::poll!(s.next()) {
            passed += 1;
            if passed > 1000 {
                break;
            }
        }
        // It stops pulling once about 64 KiB wait for the writer.
        assert!(passed < 1000, "passed {passed}");
        assert!(
            (HIGH_WATER / 1100..=HIGH_WATER / 1000 + 1).contains(&passed),
            "passed {passed}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn lines_carry_their_time_since_the_start() {
        let script = crate::source::Script::new()
            .after(std::time::Duration::from_millis(40), Event::text_delta("a"))
            .after(std::time::Duration::from_millis(60), Event::text_delta("b"));
        let mut s = script.into_stream().record(Vec::new());
        while s.next().await.is_some() {}
        let file = s.into_writer().unwrap();
        let mut lines = native::read_timed_json_lines(&file[..]);
        let mut times = Vec::new();
        while let Some(item) = lines.next().await {
            times.push(item.unwrap().1.unwrap().as_millis());
        }
        assert_eq!(times, [40, 100]);
    }

    #[tokio::test]
    async fn layer_makes_a_writer_per_stream() {
        let sink = Arc::new(Mutex::new(Vec::new()));
        let shared = sink.clone();
        let layer = RecordLayer::new(move || Limited {
            budget: usize::MAX,
            stall: false,
            written: shared.clone(),
        });
        let pipeline = Pipeline::new().layer(layer);
        let n = pipeline.apply(source::demo_text(["a"])).count().await
            + pipeline.apply(source::demo_text(["b"])).count().await;
        let text = String::from_utf8(sink.lock().unwrap().clone()).unwrap();
        let kinds: Vec<Kind> = native::decode_lines(&text)
            .map(|e| e.unwrap().kind())
            .collect();
        assert_eq!(kinds.len(), n);
    }
}
