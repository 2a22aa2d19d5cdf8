//! [`EventBody`]: a run's events as the response body, SSE or NDJSON.
//!
//! The body owns the run: it pulls events only when hyper asks for the next
//! chunk (a slow client slows the run, nothing queues), and dropping it — the
//! client went away — drops the run, which cancels the model request and the
//! tools. Every event it sends also goes to the run's replay log, and a body
//! dropped before the run ended logs a `cancelled` run end (or, with a resume
//! window, hands the run to [`Detached`]) so readers see how the run ended.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use agentor::wire::{ndjson, sse, Format};
use agentor::{BoxEventStream, Event, EventResult, RunStatus, Text};
use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::{Instant, Sleep};
use tokio_util::sync::WaitForCancellationFutureOwned;

use crate::detach::Detached;
use crate::numbering::Numbering;
use crate::run_log::RunLog;
use crate::shutdown::Shutdown;

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

/// Where a streamed run's events are kept for readers that reconnect.
pub(crate) struct Resume {
    pub(crate) log: Arc<RunLog>,
    /// How long a run whose client went away keeps going (zero: dropped at
    /// once).
    pub(crate) window: Duration,
    pub(crate) shutdown: Shutdown,
}

/// The response body of a streamed run.
pub(crate) struct EventBody {
    /// The run behind its pipeline; `None` once it ended or was dropped.
    events: Option<BoxEventStream>,
    framing: Framing,
    format: Format,
    /// Gives the frames their ids (the replay log keys on the same ones).
    numbering: Numbering,
    resume: Option<Resume>,
    /// Events written to `buf` but not yet to the log: the log is appended
    /// once per chunk, not once per event.
    unlogged: Vec<Event>,
    /// Nothing more to send.
    finished: bool,
    heartbeat_every: Duration,
    heartbeat: Pin<Box<Sleep>>,
    shutdown: Pin<Box<WaitForCancellationFutureOwned>>,
    /// The run's concurrency permit, released when the body is dropped (or
    /// moved with the run into the resume window).
    permit: Option<OwnedSemaphorePermit>,
    buf: BytesMut,
    /// Most events per body chunk.
    max_events: usize,
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
            numbering: Numbering::new(run_id),
            resume: None,
            unlogged: Vec::new(),
            finished: false,
            heartbeat_every,
            heartbeat: Box::pin(tokio::time::sleep(heartbeat_every)),
            shutdown: Box::pin(shutdown),
            permit: Some(permit),
            buf: BytesMut::new(),
            max_events: COALESCE_EVENTS,
        }
    }

    /// Writes each event as its own body chunk instead of coalescing the
    /// ready ones (for comparison; see [`ServerConfig::coalesce`](crate::ServerConfig::coalesce)).
    pub(crate) fn coalescing(mut self, coalesce: bool) -> Self {
        self.max_events = if coalesce { COALESCE_EVENTS } else { 1 };
        self
    }

    /// Keeps the run's events in `resume`'s log as they are sent.
    pub(crate) fn with_resume(mut self, resume: Resume) -> Self {
        self.resume = Some(resume);
        self
    }

    /// Writes one item as a frame with the next id.
    fn write(&mut self, item: EventResult) {
        let event = self.numbering.number(item);
        self.encode(event);
    }

    fn encode(&mut self, event: Event) {
        encode(self.framing, self.format, &event, &mut self.buf);
        if self.resume.is_some() {
            self.unlogged.push(event);
        }
    }

    /// Writes a run end the run did not send itself (shutdown, or a run that
    /// ended without one), so no stream ends silently.
    fn write_run_end(&mut self, status: RunStatus) {
        let event = self.numbering.run_end(status);
        self.encode(event);
    }

    /// Appends the events written so far to the replay log.
    fn flush_log(&mut self) {
        if let Some(resume) = &self.resume {
            if !self.unlogged.is_empty() {
                resume.log.append(self.unlogged.drain(..));
            }
        }
    }

    fn take_chunk(&mut self) -> Poll<Option<Result<Bytes, Infallible>>> {
        // Logged as they go to the connection, never before: a reader of
        // the log sees what the client was sent, in the same order.
        self.flush_log();
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
            if !this.numbering.ended() {
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
            if count >= this.max_events || this.buf.len() >= COALESCE_BYTES {
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
                    if !this.numbering.ended() {
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

impl Drop for EventBody {
    /// The client went away (or the stream ended). A run not ended yet is
    /// dropped now, which cancels it, and its log gets a `cancelled` run end;
    /// with a resume window it goes on in a task of its own instead.
    fn drop(&mut self) {
        self.flush_log();
        if self.numbering.ended() {
            return;
        }
        let Some(events) = self.events.take() else {
            return;
        };
        let Some(resume) = self.resume.take() else {
            return;
        };
        let numbering = std::mem::take(&mut self.numbering);
        match self.permit.take() {
            Some(permit) if !resume.window.is_zero() && !resume.shutdown.is_triggered() => {
                Detached {
                    events,
                    numbering,
                    log: resume.log,
                    window: resume.window,
                    shutdown: resume.shutdown,
                    permit,
                }
                .spawn();
            }
            _ => {
                // Drop the run first: that cancels the model request and
                // tools before anything else happens.
                drop(events);
                let mut numbering = numbering;
                resume.log.append([numbering.run_end(RunStatus::Cancelled)]);
            }
        }
    }
}

/// Writes one event as a frame of `framing`.
pub(crate) fn encode(framing: Framing, format: Format, event: &Event, dst: &mut BytesMut) {
    match framing {
        Framing::Sse => sse::encode_event(format, event, dst),
        Framing::Ndjson => ndjson::encode(format, event, dst),
    }
}
