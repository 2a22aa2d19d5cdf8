//! [`RemoteStream`]: one streamed A2A request — the POST, its SSE (or plain
//! JSON) answer read frame by frame — as a well-formed agentor turn.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use agentor_core::{Error, EventResult, Text};
use bytes::Bytes;
use eventsource_stream::{EventStream, EventStreamError, Eventsource};
use futures_core::Stream;
use serde_json::Value;

use super::conversation::SharedContext;
use super::http::CancelOnDrop;
use super::mapper::TaskMapper;
use crate::{jsonrpc, Dialect, StreamResponse};

/// A response body: chunks of bytes, or the failure that ended it.
pub(crate) type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, Error>> + Send>>;

/// What the POST answered, once its headers (and, for JSON, its body) are in.
pub(crate) enum Opened {
    /// `text/event-stream`: the frames to read.
    Events(ByteStream),
    /// Any other successful answer, read whole: one JSON-RPC response (a 1.0
    /// server answers an error on a streaming method so).
    Json(Value),
}

pub(crate) type Open = Pin<Box<dyn Future<Output = Result<Opened, Error>> + Send>>;

// One phase at a time, in one box: the large reading phase costs nothing inline.
#[allow(clippy::large_enum_variant)]
enum Phase {
    Opening(Open),
    Reading(EventStream<ByteStream>),
    Done,
}

/// The agentor turn of one remote task. Each event is stamped with an
/// increasing `seq` from 0, the card's name as `source`, and the run id.
///
/// The outputs of one frame are handed out before the next frame is read, so
/// nothing piles up. Once the run has ended the body is dropped, and dropping
/// the stream drops it too: either closes the HTTP connection. Dropping it
/// before the remote task ended (early, or after a frame that could not be
/// read) also cancels that task ([`CancelOnDrop`]).
pub(crate) struct RemoteStream {
    phase: Phase,
    dialect: Dialect,
    mapper: TaskMapper,
    /// Items to hand out, in reverse order (`pop` yields the next).
    out: Vec<EventResult>,
    seq: u64,
    source: Text,
    run_id: Option<Text>,
    /// The remote task, once an event named it.
    task_id: Option<String>,
    /// Whether the remote task reached a state that ends the stream (as
    /// opposed to the run ending here, on a failure to read it).
    remote_ended: bool,
    cancel: Option<CancelOnDrop>,
    /// Where to note the remote context of the task, for a conversation.
    context: Option<SharedContext>,
}

impl RemoteStream {
    pub(crate) fn new(
        open: Open,
        cancel: CancelOnDrop,
        source: Text,
        run_id: Option<Text>,
    ) -> Self {
        let dialect = cancel.dialect;
        RemoteStream::in_phase(Phase::Opening(open), dialect, Some(cancel), source, run_id)
    }

    /// A stream in `phase` with nothing read yet.
    fn in_phase(
        phase: Phase,
        dialect: Dialect,
        cancel: Option<CancelOnDrop>,
        source: Text,
        run_id: Option<Text>,
    ) -> Self {
        RemoteStream {
            phase,
            dialect,
            mapper: TaskMapper::new(source.clone()),
            out: Vec::new(),
            seq: 0,
            source,
            run_id,
            task_id: None,
            remote_ended: false,
            cancel,
            context: None,
        }
    }

    /// Notes the remote context the task runs in into `context`.
    pub(crate) fn noting_context(mut self, context: SharedContext) -> Self {
        self.context = Some(context);
        self
    }

    /// Leaves out the remote agent's tool calls and results (see
    /// [`TaskMapper::leave_out_tool_events`]).
    pub(crate) fn without_tool_events(mut self) -> Self {
        self.mapper.leave_out_tool_events();
        self
    }

    /// A turn that fails before any request: `run_start`, the error, `run_end failed`.
    pub(crate) fn failed(error: Error, source: Text, run_id: Option<Text>) -> Self {
        let mut stream = RemoteStream::in_phase(Phase::Done, Dialect::V1_0, None, source, run_id);
        stream.mapper.fail(error, &mut stream.out);
        stream.out.reverse();
        stream
    }

    fn stamp(&mut self, item: EventResult) -> EventResult {
        item.map(|mut event| {
            event.seq = self.seq;
            self.seq += 1;
            event.source = Some(self.source.clone());
            event.run_id.clone_from(&self.run_id);
            event
        })
    }

    /// Maps one JSON-RPC response (an SSE frame's data, or a whole body).
    fn response(&mut self, data: &str) {
        let mut produced = Vec::new();
        match serde_json::from_str::<Value>(data) {
            Err(e) => self.mapper.fail(
                Error::protocol(format!(
                    "the A2A server sent invalid JSON ({e}): {}",
                    clip(data)
                )),
                &mut produced,
            ),
            Ok(value) => self.value(&value, &mut produced),
        }
        self.emit(produced);
    }

    fn value(&mut self, value: &Value, produced: &mut Vec<EventResult>) {
        match jsonrpc::parse_response(value) {
            Err(error) => self.mapper.fail(
                Error::provider(format!(
                    "the remote agent answered with JSON-RPC error {}: {}",
                    error.code.as_i32(),
                    error.message
                )),
                produced,
            ),
            Ok(result) => match StreamResponse::parse_at(self.dialect, &result, "result") {
                Ok(event) => {
                    if let Some(context) = &self.context {
                        context.note(&event);
                    }
                    if self.task_id.is_none() {
                        self.task_id = event
                            .task_id()
                            .filter(|id| !id.is_empty())
                            .map(str::to_owned);
                    }
                    self.mapper.event(event, produced);
                    self.remote_ended = self.mapper.is_done();
                }
                Err(error) => self.mapper.fail(
                    Error::protocol(format!(
                        "the A2A server sent an unreadable event: {}",
                        error.message
                    )),
                    produced,
                ),
            },
        }
    }

    fn emit(&mut self, mut produced: Vec<EventResult>) {
        if self.mapper.is_done() {
            // Dropping the body closes the connection: nothing may follow the end.
            self.phase = Phase::Done;
        }
        produced.reverse();
        self.out = produced;
    }
}

impl Stream for RemoteStream {
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
                    Poll::Ready(Ok(Opened::Events(body))) => {
                        this.phase = Phase::Reading(body.eventsource());
                    }
                    Poll::Ready(Ok(Opened::Json(value))) => {
                        let mut produced = Vec::new();
                        this.value(&value, &mut produced);
                        this.mapper.finish(&mut produced);
                        this.phase = Phase::Done;
                        this.emit(produced);
                    }
                    Poll::Ready(Err(error)) => {
                        let mut produced = Vec::new();
                        this.mapper.fail(error, &mut produced);
                        this.phase = Phase::Done;
                        this.emit(produced);
                    }
                },
                Phase::Reading(frames) => match Pin::new(frames).poll_next(cx) {
                    Poll::Pending => return Poll::Pending,
                    // An event without data (a named ping, say) carries no response.
                    Poll::Ready(Some(Ok(frame))) if frame.data.is_empty() => {}
                    Poll::Ready(Some(Ok(frame))) => this.response(&frame.data),
                    Poll::Ready(Some(Err(error))) => {
                        let mut produced = Vec::new();
                        this.mapper.fail(sse_error(error), &mut produced);
                        this.emit(produced);
                    }
                    Poll::Ready(None) => {
                        let mut produced = Vec::new();
                        this.mapper.finish(&mut produced);
                        this.phase = Phase::Done;
                        this.emit(produced);
                    }
                },
            }
        }
    }
}

impl Drop for RemoteStream {
    fn drop(&mut self) {
        if self.remote_ended {
            return;
        }
        // Still running over there: dropped early, or ended here on a frame
        // that could not be read. Either way no one reads it any more.
        if let (Some(cancel), Some(task_id)) = (self.cancel.take(), self.task_id.take()) {
            cancel.send(task_id);
        }
    }
}

fn sse_error(error: EventStreamError<Error>) -> Error {
    match error {
        EventStreamError::Transport(error) => error,
        EventStreamError::Utf8(error) => {
            Error::protocol(format!("the A2A stream is not valid UTF-8: {error}"))
        }
        EventStreamError::Parser(error) => Error::protocol(format!(
            "malformed server-sent events from the A2A server: {error}"
        )),
    }
}

/// At most 200 characters of `text`, for error messages.
pub(crate) fn clip(text: &str) -> &str {
    text.char_indices()
        .nth(200)
        .map_or(text, |(at, _)| &text[..at])
}
