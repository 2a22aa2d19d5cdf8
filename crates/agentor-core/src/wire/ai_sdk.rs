//! The Vercel AI SDK's *UI message stream* (protocol v1): what `useChat`
//! and the `ai` package's `readUIMessageStream` read.
//!
//! Each chunk is one `data: {json}` SSE frame and the stream ends with
//! `data: [DONE]`; the response carries the header
//! [`HEADER_NAME`]`: `[`HEADER_VALUE`]. One agent run is one assistant
//! message:
//!
//! | agentor event | chunks |
//! |---|---|
//! | first event of the run | `start` (`messageId`: the run id unless one is [given](Encoder::message_id); `messageMetadata`: `{"runId"}`, which a UI needs to stop the run) |
//! | first content of a model turn | `start-step` (and `finish-step` for the turn before) |
//! | `text_delta` | `text-start` (once per block, id `t<n>`), `text-delta` |
//! | `message` | `text-end`; the whole text as a block when no delta streamed it |
//! | `reasoning_delta` | `reasoning-start` (id `r<n>`), `reasoning-delta` |
//! | `reasoning_summary` | a whole reasoning block, unless deltas streamed the reasoning |
//! | `tool_call_delta` | `tool-input-start` (first), `tool-input-delta` |
//! | `tool_call` | `tool-input-start` (when no delta came), `tool-input-available` |
//! | `tool_result` | `tool-output-available` (`output`: the tool's text), or `tool-output-error` |
//! | `usage` | `message-metadata` `{"usage": {inputTokens, outputTokens, totalTokens}}`, summed over turns |
//! | `error` | `error` (`errorText`) |
//! | `run_end` | open blocks ended, `finish-step`, (`abort` when cancelled), `finish` (`finishReason`), `[DONE]` |
//! | `run_start`, `agent_updated`, `handoff`, `progress` | nothing |
//! | any event of a nested run (`parent` set: an agent used as a tool) | `data-agentor-nested` (`data`: the event's native JSON, `transient`: true): delivered to `useChat`'s `onData`, not kept in the message; the calling tool's part gets the sub-run's answer as its output |
//!
//! `finishReason` is `stop` (completed, or input / auth required: the
//! question is the message before it), `error` (failed, timed out),
//! `length` (max turns) or `other` (cancelled). Only the fields the
//! protocol defines are written: clients before v6 validate chunks strictly.
//! A block is ended before another kind of content begins, so the parts of
//! the assembled message are in stream order.
//!
//! The encoder is stateful (open blocks, the turn, the usage so far) but
//! writes straight into a [`BytesMut`]: one encoder per stream.
//!
//! ```
//! use agentor_core::{wire::ai_sdk, Event, RunStatus};
//! use bytes::BytesMut;
//!
//! let mut encoder = ai_sdk::Encoder::new().message_id("msg_1");
//! let mut dst = BytesMut::new();
//! for event in [Event::text_delta("Hi"), Event::message("Hi"), Event::run_end(RunStatus::Completed)] {
//!     encoder.encode(&event, &mut dst);
//! }
//! assert_eq!(
//!     std::str::from_utf8(&dst).unwrap(),
//!     "data: {\"type\":\"start\",\"messageId\":\"msg_1\"}\n\n\
//!      data: {\"type\":\"start-step\"}\n\n\
//!      data: {\"type\":\"text-start\",\"id\":\"t0\"}\n\n\
//!      data: {\"type\":\"text-delta\",\"id\":\"t0\",\"delta\":\"Hi\"}\n\n\
//!      data: {\"type\":\"text-end\",\"id\":\"t0\"}\n\n\
//!      data: {\"type\":\"finish-step\"}\n\n\
//!      data: {\"type\":\"finish\",\"finishReason\":\"stop\"}\n\n\
//!      data: [DONE]\n\n"
//! );
//! assert!(encoder.is_finished());
//! ```

use bytes::{BufMut, BytesMut};

use super::json::{write_str, write_u64, write_value};
use super::sse::write_frame;
use crate::{Event, EventKind, RunStatus, Text, ToolResult};

/// The response header that tells the client the body is a UI message stream.
pub const HEADER_NAME: &str = "x-vercel-ai-ui-message-stream";
/// The protocol version, the value of [`HEADER_NAME`].
pub const HEADER_VALUE: &str = "v1";
/// The `Content-Type` of the stream.
pub const CONTENT_TYPE: &str = "text/event-stream";

/// Most tool calls of one turn remembered (to know which have begun); an
/// older one forgotten only means a repeated `tool-input-start`.
const MAX_TRACKED_CALLS: usize = 256;

/// Writes a run's events as UI message stream chunks. See the [module](self).
#[derive(Debug, Default)]
pub struct Encoder {
    message_id: Option<Text>,
    started: bool,
    finished: bool,
    turn: Turn,
    /// The next block number (text and reasoning ids share the counter).
    next_block: u64,
    text: Option<u64>,
    reasoning: Option<u64>,
    /// Text deltas came since the last `message`: it repeats them.
    text_streamed: bool,
    /// Reasoning deltas came since the last summary: it repeats them.
    reasoning_streamed: bool,
    /// Calls of this turn whose `tool-input-start` was sent.
    calls: Vec<Text>,
    usage: Option<[u64; 3]>,
}

/// Where the run is in its model turns (AI SDK steps, AG-UI steps).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Turn {
    /// A turn is open.
    pub(crate) open: bool,
    /// The open turn has tool results: the next content is a new turn.
    pub(crate) has_results: bool,
    /// Turns opened so far: the number of the open one, counted by
    /// [`begin`](Self::begin) once the turn before is finished.
    pub(crate) count: u64,
}

impl Turn {
    /// Before content (text, reasoning, a tool call): whether the open turn
    /// ends first, and whether a new one begins.
    pub(crate) fn content(&mut self) -> (bool, bool) {
        let close = self.open && self.has_results;
        let open = close || !self.open;
        if open {
            self.open = true;
            self.has_results = false;
        }
        (close, open)
    }

    /// Numbers the turn that [`content`](Self::content) or
    /// [`result`](Self::result) said begins.
    pub(crate) fn begin(&mut self) {
        self.count += 1;
    }

    /// Before a tool result: whether a turn begins (a result with no turn open).
    pub(crate) fn result(&mut self) -> bool {
        let (_, open) = if self.open {
            (false, false)
        } else {
            self.content()
        };
        self.has_results = true;
        open
    }

    /// At the end of the run: whether a turn was open.
    pub(crate) fn end(&mut self) -> bool {
        std::mem::replace(&mut self.open, false)
    }
}

impl Encoder {
    /// An encoder for a new stream; the message id is the run id of the
    /// first event that has one.
    pub fn new() -> Self {
        Encoder::default()
    }

    /// The assistant message's id in the `start` chunk (default: the run id).
    #[must_use]
    pub fn message_id(mut self, id: impl Into<Text>) -> Self {
        self.message_id = Some(id.into());
        self
    }

    /// Whether the run end was written (with `[DONE]`): nothing more will be.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// Writes the chunks `event` maps to (possibly none). After the run end,
    /// writes nothing.
    pub fn encode(&mut self, event: &Event, dst: &mut BytesMut) {
        if self.finished {
            return;
        }
        if !self.started {
            self.started = true;
            self.start(event, dst);
        }
        if event.origin.parent.is_some() {
            // A nested run's event is not part of this message: its text is
            // the sub-agent's, and its failure is a tool error, not the
            // chat's. It goes to `onData` whole, without being kept.
            frame(dst, |dst| {
                dst.extend_from_slice(b"{\"type\":\"data-agentor-nested\",\"data\":");
                super::native::encode(event, dst);
                dst.extend_from_slice(b",\"transient\":true}");
            });
            return;
        }
        match &event.kind {
            EventKind::TextDelta { text, .. } => {
                self.content(dst);
                if text.is_empty() {
                    return;
                }
                let id = self.open_text(dst);
                self.text_streamed = true;
                frame(dst, |dst| {
                    dst.extend_from_slice(b"{\"type\":\"text-delta\",\"id\":");
                    block_id(dst, b't', id);
                    dst.extend_from_slice(b",\"delta\":");
                    write_str(dst, text);
                    dst.put_u8(b'}');
                });
            }
            EventKind::Message { text, .. } => {
                self.content(dst);
                if !self.text_streamed && !text.is_empty() {
                    let id = self.open_text(dst);
                    frame(dst, |dst| {
                        dst.extend_from_slice(b"{\"type\":\"text-delta\",\"id\":");
                        block_id(dst, b't', id);
                        dst.extend_from_slice(b",\"delta\":");
                        write_str(dst, text);
                        dst.put_u8(b'}');
                    });
                }
                self.close_text(dst);
                self.text_streamed = false;
            }
            EventKind::ReasoningDelta { text, .. } => {
                self.content(dst);
                if text.is_empty() {
                    return;
                }
                self.reasoning_streamed = true;
                let id = self.open_reasoning(dst);
                reasoning_delta(dst, id, text);
            }
            EventKind::ReasoningSummary { text } => {
                self.content(dst);
                if !std::mem::take(&mut self.reasoning_streamed) && !text.is_empty() {
                    let id = self.open_reasoning(dst);
                    reasoning_delta(dst, id, text);
                }
                self.close_reasoning(dst);
            }
            EventKind::ToolCallDelta(delta) => {
                self.content(dst);
                self.close_blocks(dst);
                if !self.call_started(&delta.call_id) {
                    let name = delta.name.as_deref().unwrap_or("");
                    self.start_call(&delta.call_id, name, dst);
                }
                if !delta.delta.is_empty() {
                    frame(dst, |dst| {
                        dst.extend_from_slice(b"{\"type\":\"tool-input-delta\",\"toolCallId\":");
                        write_str(dst, &delta.call_id);
                        dst.extend_from_slice(b",\"inputTextDelta\":");
                        write_str(dst, &delta.delta);
                        dst.put_u8(b'}');
                    });
                }
            }
            EventKind::ToolCall(call) => {
                self.content(dst);
                self.close_blocks(dst);
                if !self.call_started(&call.call_id) {
                    self.start_call(&call.call_id, &call.name, dst);
                }
                frame(dst, |dst| {
                    dst.extend_from_slice(b"{\"type\":\"tool-input-available\",\"toolCallId\":");
                    write_str(dst, &call.call_id);
                    dst.extend_from_slice(b",\"toolName\":");
                    write_str(dst, &call.name);
                    dst.extend_from_slice(b",\"input\":");
                    write_value(dst, &call.arguments);
                    dst.put_u8(b'}');
                });
            }
            EventKind::ToolResult(result) => self.tool_result(result, dst),
            EventKind::Usage {
                input_tokens,
                output_tokens,
                total_tokens,
                ..
            } => {
                let sum = self.usage.get_or_insert([0; 3]);
                for (total, n) in sum
                    .iter_mut()
                    .zip([input_tokens, output_tokens, total_tokens])
                {
                    *total = total.saturating_add(*n);
                }
                let [input, output, total] = *sum;
                frame(dst, |dst| {
                    dst.extend_from_slice(
                        b"{\"type\":\"message-metadata\",\"messageMetadata\":{\"usage\":{\"inputTokens\":",
                    );
                    write_u64(dst, input);
                    dst.extend_from_slice(b",\"outputTokens\":");
                    write_u64(dst, output);
                    dst.extend_from_slice(b",\"totalTokens\":");
                    write_u64(dst, total);
                    dst.extend_from_slice(b"}}}");
                });
            }
            EventKind::Error { message, .. } => frame(dst, |dst| {
                dst.extend_from_slice(b"{\"type\":\"error\",\"errorText\":");
                write_str(dst, message);
                dst.put_u8(b'}');
            }),
            EventKind::RunEnd { status } => self.end(*status, dst),
            // The assistant message has no part for these.
            _ => {}
        }
    }

    fn start(&mut self, event: &Event, dst: &mut BytesMut) {
        let id = self.message_id.as_ref().or(event.origin.run_id.as_ref());
        frame(dst, |dst| {
            dst.extend_from_slice(b"{\"type\":\"start\"");
            if let Some(id) = id {
                dst.extend_from_slice(b",\"messageId\":");
                write_str(dst, id);
            }
            // The run id lets a UI stop the run (`POST /runs/{id}/cancel`)
            // or find it again; metadata is the message's free-form field.
            if let Some(run_id) = &event.origin.run_id {
                dst.extend_from_slice(b",\"messageMetadata\":{\"runId\":");
                write_str(dst, run_id);
                dst.put_u8(b'}');
            }
            dst.put_u8(b'}');
        });
    }

    /// Content begins: ends the turn before it when that turn had tool
    /// results, and opens a turn when none is open.
    fn content(&mut self, dst: &mut BytesMut) {
        let (close, open) = self.turn.content();
        if close {
            self.finish_step(dst);
        }
        if open {
            self.turn.begin();
            frame(dst, |dst| {
                dst.extend_from_slice(b"{\"type\":\"start-step\"}")
            });
        }
    }

    fn finish_step(&mut self, dst: &mut BytesMut) {
        self.close_blocks(dst);
        self.calls.clear();
        frame(dst, |dst| {
            dst.extend_from_slice(b"{\"type\":\"finish-step\"}")
        });
    }

    fn open_text(&mut self, dst: &mut BytesMut) -> u64 {
        if let Some(id) = self.text {
            return id;
        }
        self.close_reasoning(dst);
        let id = self.next_id();
        self.text = Some(id);
        block_edge(dst, b"text-start", b't', id);
        id
    }

    fn open_reasoning(&mut self, dst: &mut BytesMut) -> u64 {
        if let Some(id) = self.reasoning {
            return id;
        }
        self.close_text(dst);
        let id = self.next_id();
        self.reasoning = Some(id);
        block_edge(dst, b"reasoning-start", b'r', id);
        id
    }

    fn close_text(&mut self, dst: &mut BytesMut) {
        if let Some(id) = self.text.take() {
            block_edge(dst, b"text-end", b't', id);
        }
    }

    fn close_reasoning(&mut self, dst: &mut BytesMut) {
        if let Some(id) = self.reasoning.take() {
            block_edge(dst, b"reasoning-end", b'r', id);
        }
    }

    fn close_blocks(&mut self, dst: &mut BytesMut) {
        self.close_text(dst);
        self.close_reasoning(dst);
    }

    fn next_id(&mut self) -> u64 {
        let id = self.next_block;
        self.next_block += 1;
        id
    }

    fn call_started(&self, call_id: &str) -> bool {
        self.calls.iter().any(|id| **id == *call_id)
    }

    fn start_call(&mut self, call_id: &Text, name: &str, dst: &mut BytesMut) {
        if self.calls.len() >= MAX_TRACKED_CALLS {
            self.calls.remove(0);
        }
        self.calls.push(call_id.clone());
        frame(dst, |dst| {
            dst.extend_from_slice(b"{\"type\":\"tool-input-start\",\"toolCallId\":");
            write_str(dst, call_id);
            dst.extend_from_slice(b",\"toolName\":");
            write_str(dst, name);
            dst.put_u8(b'}');
        });
    }

    fn tool_result(&mut self, result: &ToolResult, dst: &mut BytesMut) {
        if self.turn.result() {
            self.turn.begin();
            frame(dst, |dst| {
                dst.extend_from_slice(b"{\"type\":\"start-step\"}")
            });
        }
        self.close_blocks(dst);
        if !self.call_started(&result.call_id) {
            // The call itself was filtered out: the result still needs its
            // tool part, which `tool-input-available` creates.
            frame(dst, |dst| {
                dst.extend_from_slice(b"{\"type\":\"tool-input-available\",\"toolCallId\":");
                write_str(dst, &result.call_id);
                dst.extend_from_slice(b",\"toolName\":");
                write_str(dst, &result.name);
                dst.extend_from_slice(b",\"input\":null}");
            });
        }
        frame(dst, |dst| {
            if result.is_error {
                dst.extend_from_slice(b"{\"type\":\"tool-output-error\",\"toolCallId\":");
                write_str(dst, &result.call_id);
                dst.extend_from_slice(b",\"errorText\":");
            } else {
                dst.extend_from_slice(b"{\"type\":\"tool-output-available\",\"toolCallId\":");
                write_str(dst, &result.call_id);
                dst.extend_from_slice(b",\"output\":");
            }
            write_str(dst, &result.output);
            dst.put_u8(b'}');
        });
    }

    fn end(&mut self, status: RunStatus, dst: &mut BytesMut) {
        self.close_blocks(dst);
        if self.turn.end() {
            self.finish_step(dst);
        }
        if status == RunStatus::Cancelled {
            frame(dst, |dst| {
                dst.extend_from_slice(b"{\"type\":\"abort\",\"reason\":\"cancelled\"}");
            });
        }
        let reason: &[u8] = match status {
            // A question to the user ends the turn as an answer does.
            RunStatus::Completed | RunStatus::InputRequired | RunStatus::AuthRequired => b"stop",
            RunStatus::MaxTurns => b"length",
            RunStatus::Cancelled => b"other",
            _ => b"error",
        };
        frame(dst, |dst| {
            dst.extend_from_slice(b"{\"type\":\"finish\",\"finishReason\":\"");
            dst.extend_from_slice(reason);
            dst.extend_from_slice(b"\"}");
        });
        frame(dst, |dst| dst.extend_from_slice(b"[DONE]"));
        self.finished = true;
    }
}

/// One `data:` frame, without `id:` or `event:` (the client reads only data).
#[inline]
fn frame(dst: &mut BytesMut, data: impl FnOnce(&mut BytesMut)) {
    write_frame(dst, None, None, data);
}

/// `"t3"`: a block id, its kind's letter and number.
fn block_id(dst: &mut BytesMut, letter: u8, id: u64) {
    dst.put_u8(b'"');
    dst.put_u8(letter);
    write_u64(dst, id);
    dst.put_u8(b'"');
}

/// `{"type":"text-start","id":"t3"}` and the other edges of a block.
fn block_edge(dst: &mut BytesMut, ty: &[u8], letter: u8, id: u64) {
    frame(dst, |dst| {
        dst.extend_from_slice(b"{\"type\":\"");
        dst.extend_from_slice(ty);
        dst.extend_from_slice(b"\",\"id\":");
        block_id(dst, letter, id);
        dst.put_u8(b'}');
    });
}

fn reasoning_delta(dst: &mut BytesMut, id: u64, text: &str) {
    frame(dst, |dst| {
        dst.extend_from_slice(b"{\"type\":\"reasoning-delta\",\"id\":");
        block_id(dst, b'r', id);
        dst.extend_from_slice(b",\"delta\":");
        write_str(dst, text);
        dst.put_u8(b'}');
    });
}

#[cfg(test)]
#[path = "ai_sdk_tests.rs"]
mod tests;
