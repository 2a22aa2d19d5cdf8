//! AG-UI events (the Agent–User Interaction protocol): what `@ag-ui/client`'s
//! `HttpAgent` and CopilotKit read.
//!
//! Each event is one `data: {json}` SSE frame. One agent run is one AG-UI
//! run, in an order that passes the client's sequence verification (a run
//! starts first; messages, reasoning, tool calls and steps are closed before
//! `RUN_FINISHED`; nothing follows `RUN_FINISHED` or `RUN_ERROR`):
//!
//! | agentor event | AG-UI events |
//! |---|---|
//! | first event of the run | `RUN_STARTED` (`threadId`, `runId`: the [given](Encoder::new) ones) |
//! | first content of a model turn | `STEP_STARTED` `turn-<n>` (and `STEP_FINISHED` for the turn before) |
//! | `text_delta` | `TEXT_MESSAGE_START` (once per message, role `assistant`), `TEXT_MESSAGE_CONTENT` |
//! | `message` | `TEXT_MESSAGE_END`; the whole text as a message when no delta streamed it |
//! | `reasoning_delta` | `REASONING_START` and `REASONING_MESSAGE_START` (once), `REASONING_MESSAGE_CONTENT` |
//! | `reasoning_summary` | a whole reasoning message, unless deltas streamed the reasoning; `REASONING_MESSAGE_END`, `REASONING_END` |
//! | `tool_call_delta` | `TOOL_CALL_START` (first; `parentMessageId`: the turn's text message), `TOOL_CALL_ARGS` |
//! | `tool_call` | `TOOL_CALL_START` and `TOOL_CALL_ARGS` (when no delta came), `TOOL_CALL_END` |
//! | `tool_result` | `TOOL_CALL_RESULT` (`content`: the tool's text, role `tool`) |
//! | `usage` | summed into `RUN_FINISHED`'s `usage` |
//! | `error` | its message becomes `RUN_ERROR`'s at the run end |
//! | `run_end` completed, max turns | open messages ended, `STEP_FINISHED`, `RUN_FINISHED` (`outcome` success; `pendingToolCallIds`: calls with no result, which the frontend runs) |
//! | `run_end` cancelled | the same, `outcome` `cancelled` |
//! | `run_end` input required, auth required | the same, `outcome` `interrupt` with one interrupt (`id` `<runId>-i0`, `reason` the status, `message` the run's last message: the question) |
//! | `run_end` failed, timed out | open messages ended, `STEP_FINISHED`, `RUN_ERROR` (`message`, `code`: the status) |
//! | `run_start`, `agent_updated`, `handoff`, `progress` | nothing |
//! | any event of a nested run (`parent` set: an agent used as a tool) | `CUSTOM` (`name` `agentor.nested`, `value`: the event's native JSON); the calling tool call's `TOOL_CALL_RESULT` carries the sub-run's answer |
//!
//! Ids: text messages `<runId>-m<n>`, reasoning `<runId>-r<n>`, tool
//! results `<runId>-t<n>`; tool calls keep the model's call ids.
//!
//! ```
//! use agentor_core::{wire::ag_ui, Event, RunStatus};
//! use bytes::BytesMut;
//!
//! let mut encoder = ag_ui::Encoder::new("thread_1", "run_1");
//! let mut dst = BytesMut::new();
//! for event in [Event::text_delta("Hi"), Event::run_end(RunStatus::Completed)] {
//!     encoder.encode(&event, &mut dst);
//! }
//! assert_eq!(
//!     std::str::from_utf8(&dst).unwrap(),
//!     "data: {\"type\":\"RUN_STARTED\",\"threadId\":\"thread_1\",\"runId\":\"run_1\"}\n\n\
//!      data: {\"type\":\"STEP_STARTED\",\"stepName\":\"turn-1\"}\n\n\
//!      data: {\"type\":\"TEXT_MESSAGE_START\",\"messageId\":\"run_1-m0\",\"role\":\"assistant\"}\n\n\
//!      data: {\"type\":\"TEXT_MESSAGE_CONTENT\",\"messageId\":\"run_1-m0\",\"delta\":\"Hi\"}\n\n\
//!      data: {\"type\":\"TEXT_MESSAGE_END\",\"messageId\":\"run_1-m0\"}\n\n\
//!      data: {\"type\":\"STEP_FINISHED\",\"stepName\":\"turn-1\"}\n\n\
//!      data: {\"type\":\"RUN_FINISHED\",\"threadId\":\"thread_1\",\"runId\":\"run_1\",\"outcome\":{\"type\":\"success\"}}\n\n"
//! );
//! ```

use bytes::{BufMut, BytesMut};

use super::ai_sdk::Turn;
use super::json::{write_str, write_u64, write_value};
use super::sse::write_frame;
use crate::{Event, EventKind, RunStatus, Text};

/// The `Content-Type` of the stream.
pub const CONTENT_TYPE: &str = "text/event-stream";

/// Most tool calls of one run remembered (open, or waiting for a result).
const MAX_TRACKED_CALLS: usize = 256;

/// Writes a run's events as AG-UI events. See the [module](self).
#[derive(Debug)]
pub struct Encoder {
    thread_id: Text,
    run_id: Text,
    /// The run id escaped for JSON, without quotes: the prefix of every id.
    id_prefix: Box<[u8]>,
    started: bool,
    finished: bool,
    turn: Turn,
    next_id: u64,
    /// The open text message, and whether deltas streamed it.
    text: Option<u64>,
    text_streamed: bool,
    /// The turn's last text message: the parent of its tool calls.
    parent: Option<u64>,
    /// The run's last complete message: what an interrupt asks.
    last_message: Option<Text>,
    reasoning: Option<u64>,
    reasoning_streamed: bool,
    /// Calls of the run: id, whether `TOOL_CALL_END` was sent, whether a
    /// result came.
    calls: Vec<CallState>,
    usage: Option<[u64; 3]>,
    /// The first error's message, for `RUN_ERROR`.
    error: Option<Text>,
}

#[derive(Debug)]
struct CallState {
    id: Text,
    ended: bool,
    answered: bool,
}

impl Encoder {
    /// An encoder for the run `run_id` of thread `thread_id`, as the
    /// client's `RunAgentInput` named them.
    pub fn new(thread_id: impl Into<Text>, run_id: impl Into<Text>) -> Self {
        let run_id = run_id.into();
        let mut quoted = BytesMut::new();
        write_str(&mut quoted, &run_id);
        let id_prefix = quoted[1..quoted.len() - 1].into();
        Encoder {
            thread_id: thread_id.into(),
            run_id,
            id_prefix,
            started: false,
            finished: false,
            turn: Turn::default(),
            next_id: 0,
            text: None,
            text_streamed: false,
            parent: None,
            last_message: None,
            reasoning: None,
            reasoning_streamed: false,
            calls: Vec::new(),
            usage: None,
            error: None,
        }
    }

    /// Whether `RUN_FINISHED` or `RUN_ERROR` was written: nothing more will be.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// Writes the AG-UI events `event` maps to (possibly none). After the
    /// run's end, writes nothing.
    pub fn encode(&mut self, event: &Event, dst: &mut BytesMut) {
        if self.finished {
            return;
        }
        if !self.started {
            self.started = true;
            frame(dst, |dst| {
                dst.extend_from_slice(b"{\"type\":\"RUN_STARTED\"");
                self.run_fields(dst);
                dst.put_u8(b'}');
            });
        }
        if event.origin.parent.is_some() {
            // A nested run's event is not the run's own message or tool
            // call: it rides along whole as a custom event.
            frame(dst, |dst| {
                dst.extend_from_slice(
                    b"{\"type\":\"CUSTOM\",\"name\":\"agentor.nested\",\"value\":",
                );
                super::native::encode(event, dst);
                dst.put_u8(b'}');
            });
            return;
        }
        match &event.kind {
            EventKind::TextDelta { text, .. } => {
                self.content(dst);
                if !text.is_empty() {
                    let id = self.open_text(dst);
                    self.text_streamed = true;
                    self.text_content(id, text, dst);
                }
            }
            EventKind::Message { text, .. } => {
                self.content(dst);
                if !self.text_streamed && !text.is_empty() {
                    let id = self.open_text(dst);
                    self.text_content(id, text, dst);
                }
                self.close_text(dst);
                self.text_streamed = false;
                self.last_message = Some(text.clone());
            }
            EventKind::ReasoningDelta { text, .. } => {
                self.content(dst);
                if !text.is_empty() {
                    self.reasoning_streamed = true;
                    let id = self.open_reasoning(dst);
                    self.reasoning_content(id, text, dst);
                }
            }
            EventKind::ReasoningSummary { text } => {
                self.content(dst);
                if !std::mem::take(&mut self.reasoning_streamed) && !text.is_empty() {
                    let id = self.open_reasoning(dst);
                    self.reasoning_content(id, text, dst);
                }
                self.close_reasoning(dst);
            }
            EventKind::ToolCallDelta(delta) => {
                self.content(dst);
                self.close_blocks(dst);
                if self.call(&delta.call_id).is_none() {
                    let name = delta.name.as_deref().unwrap_or("");
                    self.start_call(&delta.call_id, name, dst);
                }
                if !delta.delta.is_empty() {
                    args(dst, &delta.call_id, |dst| write_str(dst, &delta.delta));
                }
            }
            EventKind::ToolCall(call) => {
                self.content(dst);
                self.close_blocks(dst);
                if self.call(&call.call_id).is_none() {
                    self.start_call(&call.call_id, &call.name, dst);
                    // The arguments as one JSON text: a JSON string holding
                    // the serialized value.
                    let mut json = BytesMut::new();
                    write_value(&mut json, &call.arguments);
                    let json = String::from_utf8_lossy(&json);
                    args(dst, &call.call_id, |dst| write_str(dst, &json));
                }
                self.end_call(&call.call_id, dst);
            }
            EventKind::ToolResult(result) => {
                if self.turn.result() {
                    self.turn.begin();
                    self.step_edge(b"STEP_STARTED", dst);
                }
                self.close_blocks(dst);
                // A result whose call is still open (filtered) closes it first.
                if self.call(&result.call_id).is_some() {
                    self.end_call(&result.call_id, dst);
                }
                if let Some(call) = self.call(&result.call_id) {
                    call.answered = true;
                }
                let id = self.next();
                frame(dst, |dst| {
                    dst.extend_from_slice(b"{\"type\":\"TOOL_CALL_RESULT\",\"messageId\":");
                    self.id(dst, b't', id);
                    dst.extend_from_slice(b",\"toolCallId\":");
                    write_str(dst, &result.call_id);
                    dst.extend_from_slice(b",\"content\":");
                    write_str(dst, &result.output);
                    dst.extend_from_slice(b",\"role\":\"tool\"}");
                });
            }
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
            }
            EventKind::Error { message, .. } => {
                self.error.get_or_insert_with(|| message.clone());
            }
            EventKind::RunEnd { status } => self.end(*status, dst),
            _ => {}
        }
    }

    fn run_fields(&self, dst: &mut BytesMut) {
        dst.extend_from_slice(b",\"threadId\":");
        write_str(dst, &self.thread_id);
        dst.extend_from_slice(b",\"runId\":");
        write_str(dst, &self.run_id);
    }

    /// `"<runId>-m3"`.
    fn id(&self, dst: &mut BytesMut, letter: u8, n: u64) {
        dst.put_u8(b'"');
        dst.extend_from_slice(&self.id_prefix);
        dst.put_u8(b'-');
        dst.put_u8(letter);
        write_u64(dst, n);
        dst.put_u8(b'"');
    }

    fn next(&mut self) -> u64 {
        let n = self.next_id;
        self.next_id += 1;
        n
    }

    fn content(&mut self, dst: &mut BytesMut) {
        let (close, open) = self.turn.content();
        if close {
            self.finish_step(dst);
        }
        if open {
            self.turn.begin();
            self.parent = None;
            self.step_edge(b"STEP_STARTED", dst);
        }
    }

    fn step_edge(&self, ty: &[u8], dst: &mut BytesMut) {
        frame(dst, |dst| {
            dst.extend_from_slice(b"{\"type\":\"");
            dst.extend_from_slice(ty);
            dst.extend_from_slice(b"\",\"stepName\":\"turn-");
            write_u64(dst, self.turn.count);
            dst.extend_from_slice(b"\"}");
        });
    }

    fn finish_step(&mut self, dst: &mut BytesMut) {
        self.close_blocks(dst);
        self.end_open_calls(dst);
        self.step_edge(b"STEP_FINISHED", dst);
    }

    fn open_text(&mut self, dst: &mut BytesMut) -> u64 {
        if let Some(id) = self.text {
            return id;
        }
        self.close_reasoning(dst);
        let id = self.next();
        self.text = Some(id);
        self.parent = Some(id);
        frame(dst, |dst| {
            dst.extend_from_slice(b"{\"type\":\"TEXT_MESSAGE_START\",\"messageId\":");
            self.id(dst, b'm', id);
            dst.extend_from_slice(b",\"role\":\"assistant\"}");
        });
        id
    }

    fn text_content(&self, id: u64, text: &str, dst: &mut BytesMut) {
        frame(dst, |dst| {
            dst.extend_from_slice(b"{\"type\":\"TEXT_MESSAGE_CONTENT\",\"messageId\":");
            self.id(dst, b'm', id);
            dst.extend_from_slice(b",\"delta\":");
            write_str(dst, text);
            dst.put_u8(b'}');
        });
    }

    fn close_text(&mut self, dst: &mut BytesMut) {
        if let Some(id) = self.text.take() {
            frame(dst, |dst| {
                dst.extend_from_slice(b"{\"type\":\"TEXT_MESSAGE_END\",\"messageId\":");
                self.id(dst, b'm', id);
                dst.put_u8(b'}');
            });
        }
    }

    fn open_reasoning(&mut self, dst: &mut BytesMut) -> u64 {
        if let Some(id) = self.reasoning {
            return id;
        }
        self.close_text(dst);
        let id = self.next();
        self.reasoning = Some(id);
        for ty in [&b"REASONING_START"[..], b"REASONING_MESSAGE_START"] {
            frame(dst, |dst| {
                dst.extend_from_slice(b"{\"type\":\"");
                dst.extend_from_slice(ty);
                dst.extend_from_slice(b"\",\"messageId\":");
                self.id(dst, b'r', id);
                if ty == b"REASONING_MESSAGE_START" {
                    dst.extend_from_slice(b",\"role\":\"reasoning\"");
                }
                dst.put_u8(b'}');
            });
        }
        id
    }

    fn reasoning_content(&self, id: u64, text: &str, dst: &mut BytesMut) {
        frame(dst, |dst| {
            dst.extend_from_slice(b"{\"type\":\"REASONING_MESSAGE_CONTENT\",\"messageId\":");
            self.id(dst, b'r', id);
            dst.extend_from_slice(b",\"delta\":");
            write_str(dst, text);
            dst.put_u8(b'}');
        });
    }

    fn close_reasoning(&mut self, dst: &mut BytesMut) {
        if let Some(id) = self.reasoning.take() {
            for ty in [&b"REASONING_MESSAGE_END"[..], b"REASONING_END"] {
                frame(dst, |dst| {
                    dst.extend_from_slice(b"{\"type\":\"");
                    dst.extend_from_slice(ty);
                    dst.extend_from_slice(b"\",\"messageId\":");
                    self.id(dst, b'r', id);
                    dst.put_u8(b'}');
                });
            }
        }
    }

    fn close_blocks(&mut self, dst: &mut BytesMut) {
        self.close_text(dst);
        self.close_reasoning(dst);
    }

    fn call(&mut self, call_id: &str) -> Option<&mut CallState> {
        self.calls.iter_mut().find(|c| *c.id == *call_id)
    }

    fn start_call(&mut self, call_id: &Text, name: &str, dst: &mut BytesMut) {
        if self.calls.len() >= MAX_TRACKED_CALLS {
            // Forget the oldest finished call; an open one is never dropped
            // (it must be ended before the run finishes).
            if let Some(i) = self.calls.iter().position(|c| c.ended) {
                self.calls.remove(i);
            }
        }
        self.calls.push(CallState {
            id: call_id.clone(),
            ended: false,
            answered: false,
        });
        frame(dst, |dst| {
            dst.extend_from_slice(b"{\"type\":\"TOOL_CALL_START\",\"toolCallId\":");
            write_str(dst, call_id);
            dst.extend_from_slice(b",\"toolCallName\":");
            write_str(dst, name);
            if let Some(parent) = self.parent {
                dst.extend_from_slice(b",\"parentMessageId\":");
                self.id(dst, b'm', parent);
            }
            dst.put_u8(b'}');
        });
    }

    fn end_call(&mut self, call_id: &str, dst: &mut BytesMut) {
        let Some(call) = self.call(call_id) else {
            return;
        };
        if std::mem::replace(&mut call.ended, true) {
            return;
        }
        frame(dst, |dst| {
            dst.extend_from_slice(b"{\"type\":\"TOOL_CALL_END\",\"toolCallId\":");
            write_str(dst, call_id);
            dst.put_u8(b'}');
        });
    }

    /// Ends calls whose complete `tool_call` never came (a stream cut short).
    fn end_open_calls(&mut self, dst: &mut BytesMut) {
        let open: Vec<Text> = self
            .calls
            .iter()
            .filter(|c| !c.ended)
            .map(|c| c.id.clone())
            .collect();
        for id in open {
            self.end_call(&id, dst);
        }
    }

    fn end(&mut self, status: RunStatus, dst: &mut BytesMut) {
        self.close_blocks(dst);
        if self.turn.end() {
            self.end_open_calls(dst);
            self.step_edge(b"STEP_FINISHED", dst);
        }
        self.end_open_calls(dst);
        self.finished = true;
        match status {
            RunStatus::Completed | RunStatus::MaxTurns | RunStatus::Cancelled => {
                frame(dst, |dst| {
                    dst.extend_from_slice(b"{\"type\":\"RUN_FINISHED\"");
                    self.run_fields(dst);
                    if status == RunStatus::Cancelled {
                        dst.extend_from_slice(b",\"outcome\":{\"type\":\"cancelled\"}");
                    } else {
                        dst.extend_from_slice(b",\"outcome\":{\"type\":\"success\"");
                        let mut pending = self.calls.iter().filter(|c| !c.answered).peekable();
                        if pending.peek().is_some() {
                            dst.extend_from_slice(b",\"pendingToolCallIds\":[");
                            for (i, call) in pending.enumerate() {
                                if i > 0 {
                                    dst.put_u8(b',');
                                }
                                write_str(dst, &call.id);
                            }
                            dst.put_u8(b']');
                        }
                        dst.put_u8(b'}');
                    }
                    self.write_usage(dst);
                    dst.put_u8(b'}');
                });
            }
            RunStatus::InputRequired | RunStatus::AuthRequired => frame(dst, |dst| {
                // The spec: "A producer MUST NOT report an interrupted run
                // as success". The answer comes back in the next run's
                // messages (agentor reads no `resume` entries).
                dst.extend_from_slice(b"{\"type\":\"RUN_FINISHED\"");
                self.run_fields(dst);
                dst.extend_from_slice(
                    b",\"outcome\":{\"type\":\"interrupt\",\"interrupts\":[{\"id\":",
                );
                self.id(dst, b'i', 0);
                dst.extend_from_slice(b",\"reason\":\"");
                dst.extend_from_slice(status.as_str().as_bytes());
                dst.put_u8(b'"');
                if let Some(question) = &self.last_message {
                    dst.extend_from_slice(b",\"message\":");
                    write_str(dst, question);
                }
                dst.extend_from_slice(b"}]}");
                self.write_usage(dst);
                dst.put_u8(b'}');
            }),
            _ => frame(dst, |dst| {
                dst.extend_from_slice(b"{\"type\":\"RUN_ERROR\",\"message\":");
                match &self.error {
                    Some(message) => write_str(dst, message),
                    None => {
                        dst.extend_from_slice(b"\"the run ended: ");
                        dst.extend_from_slice(status.as_str().as_bytes());
                        dst.put_u8(b'"');
                    }
                }
                dst.extend_from_slice(b",\"code\":\"");
                dst.extend_from_slice(status.as_str().as_bytes());
                dst.put_u8(b'"');
                self.write_usage(dst);
                dst.put_u8(b'}');
            }),
        }
    }

    fn write_usage(&self, dst: &mut BytesMut) {
        if let Some([input, output, total]) = self.usage {
            dst.extend_from_slice(b",\"usage\":[{\"inputTokens\":");
            write_u64(dst, input);
            dst.extend_from_slice(b",\"outputTokens\":");
            write_u64(dst, output);
            dst.extend_from_slice(b",\"totalTokens\":");
            write_u64(dst, total);
            dst.extend_from_slice(b"}]");
        }
    }
}

/// One `data:` frame (AG-UI clients read only data).
#[inline]
fn frame(dst: &mut BytesMut, data: impl FnOnce(&mut BytesMut)) {
    write_frame(dst, None, None, data);
}

fn args(dst: &mut BytesMut, call_id: &str, delta: impl FnOnce(&mut BytesMut)) {
    frame(dst, |dst| {
        dst.extend_from_slice(b"{\"type\":\"TOOL_CALL_ARGS\",\"toolCallId\":");
        write_str(dst, call_id);
        dst.extend_from_slice(b",\"delta\":");
        delta(dst);
        dst.put_u8(b'}');
    });
}

#[cfg(test)]
#[path = "ag_ui_tests.rs"]
mod tests;
