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

use agentor::wire::{sse, Format, Framing};

use crate::encoding::Encoding;
use agentor::{BoxEventStream, Event, EventResult, RunStatus, Text};
use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::{Instant, Sleep};
use tokio_util::sync::WaitForCancellationFutureOwned;

use crate::detach::Detached;
use crate::event_log::RunWriter;
use crate::numbering::Numbering;

/// How many bytes of ready frames go into one body chunk at most.
pub(crate) const COALESCE_BYTES: usize = 64 * 1024;
/// How many ready events go into one body chunk at most.
pub(crate) const COALESCE_EVENTS: usize = 256;
/// How long an SSE stream stays silent before a heartbeat, unless told.
pub(crate) const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(15);
/// The shortest heartbeat interval (zero would spin).
pub(crate) const MIN_HEARTBEAT: Duration = Duration::from_millis(1);

/// Where a streamed run's events are kept for readers that reconnect.
pub(crate) struct Resume {
    pub(crate) log: Arc<dyn RunWriter>,
    /// How long a run whose client went away keeps going (zero: dropped at
    /// once).
    pub(crate) window: Duration,
}

/// The response body of a streamed run.
pub(crate) struct EventBody {
    /// The run behind its pipeline; `None` once it ended or was dropped.
    events: Option<BoxEventStream>,
    encoding: Encoding,
    /// Gives the frames their ids (the replay log keys on the same ones).
    numbering: Numbering,
    resume: Option<Resume>,
    /// Events written to `buf` but not yet to the log: the log is appended
    /// once per chunk, not once per event.
    unlogged: Vec<Event>,
    /// Nothing more to send.
    finished: bool,
    heartbeat_every: Duration,
    /// Armed at the first poll (a timer needs the runtime; the body may be
    /// built outside one).
    heartbeat: Option<Pin<Box<Sleep>>>,
    /// Ends the stream with a `cancelled` run end when it fires.
    shutdown: Option<Pin<Box<WaitForCancellationFutureOwned>>>,
    /// The run's concurrency permit, released when the body is dropped (or
    /// moved with the run into the resume window).
    permit: Option<OwnedSemaphorePermit>,
    buf: BytesMut,
    /// Most events per body chunk.
    max_events: usize,
}

impl EventBody {
    /// A body for `events` with the default heartbeat, coalescing, and no
    /// shutdown, permit or replay log.
    pub(crate) fn new(events: BoxEventStream, framing: Framing, format: Format) -> Self {
        EventBody {
            events: Some(events),
            encoding: Encoding::Events { framing, format },
            numbering: Numbering::new(None),
            resume: None,
            unlogged: Vec::new(),
            finished: false,
            heartbeat_every: DEFAULT_HEARTBEAT,
            heartbeat: None,
            shutdown: None,
            permit: None,
            buf: BytesMut::new(),
            max_events: COALESCE_EVENTS,
        }
    }

    /// Frames the events with `framing` (agentor's own frames).
    pub(crate) fn framing(mut self, framing: Framing) -> Self {
        if let Encoding::Events { framing: f, .. } = &mut self.encoding {
            *f = framing;
        }
        self
    }

    /// Writes the events' JSON in `format` (agentor's own frames).
    pub(crate) fn format(mut self, format: Format) -> Self {
        if let Encoding::Events { format: f, .. } = &mut self.encoding {
            *f = format;
        }
        self
    }

    /// Writes the events in `encoding` instead.
    pub(crate) fn encoding(mut self, encoding: Encoding) -> Self {
        self.encoding = encoding;
        self
    }

    /// The run id given to the events the body makes itself (a run end, an
    /// error from an `Err` item); by default the first one the run sends.
    pub(crate) fn run_id(mut self, run_id: Option<Text>) -> Self {
        self.numbering = Numbering::new(run_id);
        self
    }

    /// How long the SSE stream may stay silent before a heartbeat comment.
    pub(crate) fn heartbeat(mut self, every: Duration) -> Self {
        self.heartbeat_every = every.max(MIN_HEARTBEAT);
        self
    }

    /// Ends the stream with a `cancelled` run end once `shutdown` fires.
    pub(crate) fn until(mut self, shutdown: WaitForCancellationFutureOwned) -> Self {
        self.shutdown = Some(Box::pin(shutdown));
        self
    }

    /// Holds the run's concurrency permit for as long as the run goes on.
    pub(crate) fn holding(mut self, permit: OwnedSemaphorePermit) -> Self {
        self.permit = Some(permit);
        self
    }

    /// Writes each event as its own body chunk instead of coalescing the
    /// ready ones (for comparison; see [`ServerConfig::coalesce`](crate::ServerConfig::coalesce)).
    pub(crate) fn coalescing(mut self, coalesce: bool) -> Self {
        self.max_events = if coalesce { COALESCE_EVENTS } else { 1 };
        self
    }

    /// Keeps the run's events in `resume`'s log as they are sent.
    /// The log's cancellation (a child of the shutdown's) ends the stream
    /// as the shutdown does.
    pub(crate) fn with_resume(mut self, resume: Resume) -> Self {
        self.shutdown = Some(Box::pin(
            resume.log.cancel_token().clone().cancelled_owned(),
        ));
        self.resume = Some(resume);
        self
    }

    /// Writes one item as a frame with the next id.
    fn write(&mut self, item: EventResult) {
        let event = self.numbering.number(item);
        self.encode(event);
    }

    fn encode(&mut self, event: Event) {
        self.encoding.encode(&event, &mut self.buf);
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
                resume.log.append(std::mem::take(&mut self.unlogged));
            }
        }
    }

    fn take_chunk(&mut self) -> Poll<Option<Result<Bytes, Infallible>>> {
        // Logged as they go to the connection, never before: a reader of
        // the log sees what the client was sent, in the same order.
        self.flush_log();
        let next = self.heartbeat_deadline();
        if let Some(heartbeat) = self.heartbeat.as_mut() {
            heartbeat.as_mut().reset(next);
        }
        Poll::Ready(Some(Ok(self.buf.split().freeze())))
    }

    fn heartbeat_deadline(&self) -> Instant {
        Instant::now() + self.heartbeat_every
    }

    /// Whether the stream has been silent for a heartbeat interval (arms
    /// the timer on the first call).
    fn heartbeat_due(&mut self, cx: &mut Context<'_>) -> bool {
        let deadline = self.heartbeat_deadline();
        self.heartbeat
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)))
            .as_mut()
            .poll(cx)
            .is_ready()
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
        let shut_down = match this.shutdown.as_mut() {
            Some(shutdown) => shutdown.as_mut().poll(cx).is_ready(),
            None => false,
        };
        if shut_down {
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
        if this.encoding.is_sse() && this.heartbeat_due(cx) {
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
            Some(permit)
                if !resume.window.is_zero() && !resume.log.cancel_token().is_cancelled() =>
            {
                Detached {
                    events,
                    numbering,
                    log: resume.log,
                    window: resume.window,
                    permit,
                }
                .spawn();
            }
            _ => {
                // Drop the run first: that cancels the model request and
                // tools before anything else happens.
                drop(events);
                let mut numbering = numbering;
                resume
                    .log
                    .append(vec![numbering.run_end(RunStatus::Cancelled)]);
            }
        }
    }
}
