//! [`EventBody`]: a run's events as the response body, SSE or NDJSON.
//!
//! The body owns the run: it pulls events only when hyper asks for the next
//! chunk (a slow client slows the run, nothing queues), and dropping it — the
//! client went away — drops the run, which cancels the model request and the
//! tools.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use agentor::wire::{ndjson, sse, Format};
use agentor::{BoxEventStream, Event, EventKind, EventResult, RunStatus, Text};
use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::{Instant, Sleep};
use tokio_util::sync::WaitForCancellationFutureOwned;

/// How many bytes of ready frames go into one body chunk at most.
pub(crate) const COALESCE_BYTES: usize = 64 * 1024;
/// How many ready events go into one body chunk at most.
pub(crate) const COALESCE_EVENTS: usize = 256;

/// How events are framed on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Framing {
    /// `text/event-stream`: `id:`, `event:`, `data:` frames and heartbeats.
    Sse,
    /// `application/x-ndjson`: one JSON event per line, no heartbeat (NDJSON
    /// has no comment syntax; an empty line would break strict readers).
    Ndjson,
}

impl Framing {
    pub(crate) fn content_type(self) -> &'static str {
        match self {
            Framing::Sse => "text/event-stream",
            Framing::Ndjson => "application/x-ndjson",
        }
    }
}

/// The response body of a streamed run.
pub(crate) struct EventBody {
    /// The run behind its pipeline; `None` once it ended or was dropped.
    events: Option<BoxEventStream>,
    framing: Framing,
    format: Format,
    /// The id of the next frame: events are renumbered as sent, so ids are
    /// unique and gapless even where layers repeat a `seq`. A later replay
    /// log keys on the same numbers (`Last-Event-ID`).
    next_id: u64,
    run_id: Text,
    source: Option<Text>,
    /// A run end was sent: nothing to synthesize at the end.
    ended: bool,
    /// Nothing more to send.
    finished: bool,
    heartbeat_every: Duration,
    heartbeat: Pin<Box<Sleep>>,
    shutdown: Pin<Box<WaitForCancellationFutureOwned>>,
    /// The run's concurrency permit, released when the body is dropped.
    _permit: OwnedSemaphorePermit,
    buf: BytesMut,
}

impl EventBody {
    pub(crate) fn new(
        events: BoxEventStream,
        framing: Framing,
        format: Format,
        run_id: Text,
        heartbeat_every: Duration,
        shutdown: WaitForCancellationFutureOwned,
        permit: OwnedSemaphorePermit,
    ) -> Self {
        EventBody {
            events: Some(events),
            framing,
            format,
            next_id: 0,
            run_id,
            source: None,
            ended: false,
            finished: false,
            heartbeat_every,
            heartbeat: Box::pin(tokio::time::sleep(heartbeat_every)),
            shutdown: Box::pin(shutdown),
            _permit: permit,
            buf: BytesMut::new(),
        }
    }

    /// Writes one item as a frame with the next id.
    fn write(&mut self, item: EventResult) {
        let id = self.next_id;
        self.next_id += 1;
        let mut event = match item {
            Ok(event) => event,
            Err(err) => {
                let mut event = err.to_event();
                event.run_id = Some(self.run_id.clone());
                event.source.clone_from(&self.source);
                event
            }
        };
        event.seq = id;
        if self.source.is_none() {
            self.source.clone_from(&event.source);
        }
        if matches!(event.kind, EventKind::RunEnd { .. }) {
            self.ended = true;
        }
        match self.framing {
            Framing::Sse => sse::encode_event(self.format, &event, &mut self.buf),
            Framing::Ndjson => ndjson::encode(self.format, &event, &mut self.buf),
        }
    }

    /// Writes a run end the run did not send itself (shutdown, or a run that
    /// ended without one), so no stream ends silently.
    fn write_run_end(&mut self, status: RunStatus) {
        let mut event = Event::new(EventKind::RunEnd { status }).with_run_id(self.run_id.clone());
        event.source.clone_from(&self.source);
        self.write(Ok(event));
    }

    fn take_chunk(&mut self) -> Poll<Option<Result<Bytes, Infallible>>> {
        let next = self.heartbeat_deadline();
        self.heartbeat.as_mut().reset(next);
        Poll::Ready(Some(Ok(self.buf.split().freeze())))
    }

    fn heartbeat_deadline(&self) -> Instant {
        Instant::now() + self.heartbeat_every
    }
}

impl Stream for EventBody {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        // Every field is Unpin (the futures are boxed).
        let this = self.get_mut();
        if this.finished {
            return Poll::Ready(None);
        }
        if this.shutdown.as_mut().poll(cx).is_ready() {
            // Stop pulling and drop the run first: that cancels the model
            // request and tools before the last frame is written.
            this.events = None;
            this.finished = true;
            if !this.ended {
                this.write_run_end(RunStatus::Cancelled);
            }
            return if this.buf.is_empty() {
                Poll::Ready(None)
            } else {
                this.take_chunk()
            };
        }
        // Coalesce: after the first ready event, keep taking the ones that
        // are already ready (a pending poll ends the chunk; never wait).
        let mut count = 0;
        while let Some(events) = this.events.as_mut() {
            if count >= COALESCE_EVENTS || this.buf.len() >= COALESCE_BYTES {
                break;
            }
            match events.as_mut().poll_next(cx) {
                Poll::Ready(Some(item)) => {
                    this.write(item);
                    count += 1;
                }
                Poll::Ready(None) => {
                    this.events = None;
                    this.finished = true;
                    if !this.ended {
                        this.write_run_end(RunStatus::Failed);
                    }
                }
                Poll::Pending => break,
            }
        }
        if !this.buf.is_empty() {
            return this.take_chunk();
        }
        if this.finished {
            return Poll::Ready(None);
        }
        if this.framing == Framing::Sse && this.heartbeat.as_mut().poll(cx).is_ready() {
            sse::encode_heartbeat(&mut this.buf);
            // hyper polls again once the chunk is written, which arms the
            // timer for the next heartbeat.
            return this.take_chunk();
        }
        Poll::Pending
    }
}
