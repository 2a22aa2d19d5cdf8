//! [`turn_stream`]: an answer — an SSE body, or a whole body — fed to a
//! [`TurnParser`], as a well-formed event stream.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use agentor_core::wire::sse::Decoder;
use agentor_core::{BoxEventStream, Error, Event, EventKind, EventResult, Restamp, Text};
use bytes::Bytes;
use futures_core::Stream;

use crate::idle::IdleBody;
use crate::TurnParser;

/// A response body: chunks of bytes, or the failure that ended it.
pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, Error>> + Send>>;

/// The largest SSE event (or whole answer) a turn accepts by default: far
/// above any real chunk or task snapshot, low enough that a misbehaving
/// server cannot make the client buffer without bound.
pub const DEFAULT_MAX_EVENT_BYTES: usize = 8 << 20;

/// What a successful answer is, once its headers are in.
pub enum Body {
    /// `text/event-stream`: chunks to decode as server-sent events.
    Events(ByteStream),
    /// Any other answer, read whole (within the event bound): handed to the
    /// parser as one unnamed message.
    Whole(Bytes),
}

impl From<ByteStream> for Body {
    fn from(body: ByteStream) -> Self {
        Body::Events(body)
    }
}

/// Who runs the turn: what the `run_start` says and what every event's
/// envelope carries.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TurnStart {
    /// The agent running (`assistant` for a model when the request names none).
    pub agent: Text,
    /// The model answering.
    pub model: Option<Text>,
    /// The run id set on every event.
    pub run_id: Option<Text>,
    /// The `source` set on every event, when the turn has one (a remote
    /// agent's name); `None` leaves it to the caller (the agent loop).
    pub source: Option<Text>,
}

/// Bounds of one turn's reading.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    pub(crate) read_timeout: Option<Duration>,
    pub(crate) max_event_bytes: usize,
}

/// A turn as an event stream: a `run_start`, then what `parser` makes of the
/// messages of the answer that `open` resolves to, each event stamped with
/// an increasing `seq` (from 0), `start.run_id` and `start.source` (when set).
///
/// The stream ends right after the parser's [`TurnParser::finish`] output,
/// called once the parser [is done](TurnParser::is_done) or the body ends. A
/// failure to open, a transport error, a body that is not UTF-8, an SSE event
/// larger than [`DEFAULT_MAX_EVENT_BYTES`] or no complete event for longer
/// than `read_timeout` (comments and partial events are not progress) goes
/// to [`TurnParser::fail`] (by default:
/// that `Err` and a `failed` run end) and ends the stream. The parser's output
/// is handed out before the next chunk is read, so nothing piles up; dropping
/// the stream drops the body (and so closes the connection).
///
/// Replay and benchmarks drive the same path over bytes they already hold:
///
/// ```
/// use agentor_core::{Event, EventKind, EventResult, Kind, RunStatus};
/// use agentor_transport::{turn_stream, ByteStream, TurnParser, TurnStart};
/// use bytes::Bytes;
/// use futures_util::StreamExt;
///
/// /// Each message is a text delta; the body's end completes the turn.
/// struct Deltas;
/// impl TurnParser for Deltas {
///     fn message(&mut self, _: &str, data: &str, out: &mut Vec<EventResult>) {
///         out.push(Ok(Event::new(EventKind::TextDelta { text: data.into(), message_id: None })));
///     }
///     fn finish(&mut self, out: &mut Vec<EventResult>) {
///         out.push(Ok(Event::run_end(RunStatus::Completed)));
///     }
///     fn is_done(&self) -> bool { false }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let body: ByteStream = Box::pin(futures_util::stream::iter([Ok(Bytes::from("data: Hi\n\n"))]));
/// let start = TurnStart { agent: "assistant".into(), run_id: Some("r1".into()), ..TurnStart::default() };
/// let events: Vec<Event> = turn_stream(start, async { Ok(body) }, None, Box::new(Deltas))
///     .map(Result::unwrap)
///     .collect()
///     .await;
/// let kinds: Vec<Kind> = events.iter().map(Event::kind).collect();
/// assert_eq!(kinds, [Kind::RunStart, Kind::TextDelta, Kind::RunEnd]);
/// assert_eq!(events[2].seq, 2);
/// assert!(events.iter().all(|e| e.origin.run_id.as_deref() == Some("r1")));
/// # }
/// ```
pub fn turn_stream<F, B>(
    start: TurnStart,
    open: F,
    read_timeout: Option<Duration>,
    parser: Box<dyn TurnParser>,
) -> BoxEventStream
where
    F: Future<Output = Result<B, Error>> + Send + 'static,
    B: Into<Body>,
{
    let limits = Limits {
        read_timeout,
        max_event_bytes: DEFAULT_MAX_EVENT_BYTES,
    };
    let open = async move { open.await.map(Into::into) };
    Box::pin(TurnStream::new(start, Box::pin(open), limits, parser))
}

/// What opens the answer: sends the request (with its retries) and resolves
/// once its headers (and, for a whole answer, its body) are in.
pub(crate) type Open = Pin<Box<dyn Future<Output = Result<Body, Error>> + Send>>;

// The turn lives in one box (`BoxEventStream`) and is in one phase at a
// time, so the large reading phase costs nothing to keep inline.
#[allow(clippy::large_enum_variant)]
enum Phase {
    Opening(Open),
    Reading {
        body: IdleBody<ByteStream>,
        decoder: Decoder,
        /// The body ended: what the decoder still holds is all there is.
        ended: bool,
        /// A chunk came since the last event: the next event is progress.
        fresh: bool,
    },
    Done,
}

pub(crate) struct TurnStream {
    phase: Phase,
    parser: Box<dyn TurnParser>,
    /// Items to hand out, in reverse order: `pop` yields the next one, and
    /// the vector's allocation is reused for every message.
    out: Vec<EventResult>,
    seq: u64,
    run_id: Option<Text>,
    source: Option<Text>,
    /// Keeps the turn's events sharing one stamped origin.
    restamp: Restamp,
    limits: Limits,
}

impl TurnStream {
    pub(crate) fn new(
        start: TurnStart,
        open: Open,
        limits: Limits,
        parser: Box<dyn TurnParser>,
    ) -> Self {
        let run_start = Event::new(EventKind::RunStart {
            agent: start.agent,
            model: start.model,
        });
        TurnStream {
            phase: Phase::Opening(open),
            parser,
            out: vec![Ok(run_start)],
            seq: 0,
            run_id: start.run_id,
            source: start.source,
            restamp: Restamp::new(),
            limits,
        }
    }

    fn stamp(&mut self, item: EventResult) -> EventResult {
        item.map(|mut event| {
            event.seq = self.seq;
            self.seq += 1;
            let (run_id, source) = (&self.run_id, &self.source);
            self.restamp.apply(&mut event.origin, |origin| {
                origin.run_id.clone_from(run_id);
                if source.is_some() {
                    origin.source.clone_from(source);
                }
            });
            event
        })
    }

    /// Hands `out` (filled in order by the parser) out in that order.
    fn emit(&mut self) {
        self.out.reverse();
    }

    /// Ends the turn on a failure the parser never saw.
    fn fail(&mut self, error: Error) {
        self.parser.fail(error, &mut self.out);
        self.phase = Phase::Done;
        self.emit();
    }

    fn finish(&mut self) {
        self.parser.finish(&mut self.out);
        self.phase = Phase::Done;
        self.emit();
    }

    fn message(&mut self, event: &str, data: &str) {
        self.parser.message(event, data, &mut self.out);
        if self.parser.is_done() {
            self.finish();
        } else {
            self.emit();
        }
    }

    fn whole(&mut self, body: &Bytes) {
        match std::str::from_utf8(body) {
            Ok(text) => {
                self.parser.message("", text, &mut self.out);
                self.finish();
            }
            Err(e) => self.fail(Error::protocol(format!(
                "the answer is not valid UTF-8 (byte {})",
                e.valid_up_to()
            ))),
        }
    }
}

impl Stream for TurnStream {
    type Item = EventResult;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<EventResult>> {
        let this = &mut *self;
        loop {
            if let Some(item) = this.out.pop() {
                return Poll::Ready(Some(this.stamp(item)));
            }
            match &mut this.phase {
                Phase::Done => return Poll::Ready(None),
                Phase::Opening(open) => match open.as_mut().poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Ok(Body::Events(body))) => {
                        this.phase = Phase::Reading {
                            body: IdleBody::new(body, this.limits.read_timeout),
                            decoder: Decoder::new().max_event_bytes(this.limits.max_event_bytes),
                            ended: false,
                            fresh: false,
                        };
                    }
                    Poll::Ready(Ok(Body::Whole(body))) => this.whole(&body),
                    Poll::Ready(Err(error)) => this.fail(error),
                },
                Phase::Reading {
                    body,
                    decoder,
                    ended,
                    fresh,
                } => {
                    match decoder.next_event() {
                        Ok(Some(event)) => {
                            // Events, not bytes, are progress (once per
                            // chunk: the clock is read rarely).
                            if std::mem::take(fresh) {
                                body.progressed();
                            }
                            this.message(&event.event, &event.data);
                            continue;
                        }
                        Ok(None) if *ended => {
                            this.finish();
                            continue;
                        }
                        Ok(None) => {}
                        Err(error) => {
                            this.fail(error.into());
                            continue;
                        }
                    }
                    match Pin::new(body).poll_next(cx) {
                        Poll::Pending => return Poll::Pending,
                        Poll::Ready(Some(Ok(chunk))) => {
                            decoder.push(chunk);
                            *fresh = true;
                        }
                        Poll::Ready(Some(Err(error))) => this.fail(error),
                        Poll::Ready(None) => match decoder.finish() {
                            Ok(()) => *ended = true,
                            Err(error) => this.fail(error.into()),
                        },
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
