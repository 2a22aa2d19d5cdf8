//! How a remote task's stream events become agentor events.
//!
//! | A2A | agentor |
//! |---|---|
//! | first event (Task, status, artifact or Message) | `run_start` (agent = the card's name) |
//! | a Task with artifacts, before any artifact update (a whole task answered) | each artifact's text as one `text_delta`, then its `message` |
//! | a Task after artifact updates (a lagging subscriber's snapshot) | the text its artifacts hold beyond what was streamed, as `text_delta`s |
//! | artifact-update text | `text_delta` (message id = artifact id); the artifact's last chunk adds a `message` with its whole text |
//! | a data part of a status message or artifact, as agentor's server writes them (`{"type": "tool_call" \| "tool_result" \| "handoff" \| "reasoning_summary", …}`) | `tool_call` / `tool_result` / `handoff` / `reasoning_summary` |
//! | status message with text (not final) | `message` |
//! | `completed` | open artifacts closed as `message`s, the status text as a `message`, `run_end completed` |
//! | `input-required`, `auth-required` | the same, ending `input_required` / `auth_required`: the remote agent's turn is over, its question is the `message` (a [`Conversation`](super::Conversation)'s next message answers it) |
//! | `canceled` | `run_end cancelled` |
//! | `failed`, `rejected` | `error` (provider) with the status message's text, `run_end failed` |
//! | a direct Message answer | `text_delta` and `message` with its text, `run_end completed` |

use std::time::Duration;

use agentor_core::{
    Error, ErrorKind, Event, EventKind, EventResult, RunStatus, Text, ToolCall, ToolResult,
};
use serde_json::Value;

use crate::{Part, PartContent, StreamResponse, TaskState};

/// Turns the events of one remote task into a well-formed agentor turn.
///
/// Every output is pushed to `out` in order; the caller stamps the envelope.
#[derive(Debug)]
pub(crate) struct TaskMapper {
    agent: Text,
    started: bool,
    done: bool,
    /// Artifacts begun and not closed: id and text so far, in order of start.
    open: Vec<(String, String)>,
    /// Whether an artifact update came: a task's artifacts are then known.
    streamed: bool,
    /// Artifacts whose last chunk came: a later snapshot adds nothing to them.
    closed: Vec<String>,
    /// The id of the last status message passed on.
    last_status_message: Option<String>,
    /// Whether the remote agent's tool calls and results are passed on.
    tool_events: bool,
}

impl TaskMapper {
    /// A mapper for a run of `agent` (the remote card's name).
    pub(crate) fn new(agent: Text) -> Self {
        TaskMapper {
            agent,
            started: false,
            done: false,
            open: Vec::new(),
            streamed: false,
            closed: Vec::new(),
            last_status_message: None,
            tool_events: true,
        }
    }

    /// The run start was emitted by the transport: the mapper emits none.
    pub(crate) fn announced(mut self) -> Self {
        self.started = true;
        self
    }

    /// Leaves out the remote agent's tool calls and results: as a model turn
    /// ([`Provider`](agentor_core::Provider)), a `tool_call` asks the caller
    /// to run the tool, but the remote agent has run its own already.
    pub(crate) fn leave_out_tool_events(&mut self) {
        self.tool_events = false;
    }

    /// The agentor events among `parts` (see [`data_event`]).
    fn data_parts(&self, parts: &[Part], out: &mut Vec<EventResult>) {
        for part in parts {
            let PartContent::Data(data) = &part.content else {
                continue;
            };
            let Some(event) = data_event(data) else {
                continue;
            };
            let is_tool = matches!(
                event.kind,
                EventKind::ToolCall(_) | EventKind::ToolResult(_)
            );
            if self.tool_events || !is_tool {
                out.push(Ok(event));
            }
        }
    }

    /// Whether the run has ended (a `run_end` was pushed).
    pub(crate) fn is_done(&self) -> bool {
        self.done
    }

    /// Maps one event of the remote task.
    pub(crate) fn event(&mut self, event: StreamResponse, out: &mut Vec<EventResult>) {
        if self.done {
            return;
        }
        self.start(out);
        match event {
            StreamResponse::Task(task) => {
                // A task that already has artifacts (a server answering with
                // the whole task, not a stream): their text, once, as if
                // each came in one last chunk.
                if !self.streamed {
                    for artifact in task.artifacts {
                        self.artifact(artifact.artifact_id, &artifact.parts, false, true, out);
                    }
                } else {
                    let terminal = task.status.state.is_terminal();
                    self.catch_up(&task.artifacts, !terminal, out);
                }
                self.status(task.status.state, task.status.message.as_ref(), out);
            }
            StreamResponse::StatusUpdate(update) => {
                self.status(update.status.state, update.status.message.as_ref(), out);
            }
            StreamResponse::ArtifactUpdate(update) => {
                self.streamed = true;
                let id = update.artifact.artifact_id;
                self.artifact(
                    id,
                    &update.artifact.parts,
                    update.append,
                    update.last_chunk,
                    out,
                );
            }
            StreamResponse::Message(message) => {
                let text = message.text();
                let id = Text::from(message.message_id.as_str());
                self.data_parts(&message.parts, out);
                if !text.is_empty() {
                    out.push(Ok(Event::new(EventKind::TextDelta {
                        text: Text::from(text.as_str()),
                        message_id: Some(id.clone()),
                    })));
                    out.push(Ok(Event::new(EventKind::Message {
                        text: text.into(),
                        message_id: Some(id),
                    })));
                }
                self.end(RunStatus::Completed, out);
            }
        }
    }

    /// Ends the run on a failure: the `Err` item, then `run_end failed`.
    pub(crate) fn fail(&mut self, error: Error, out: &mut Vec<EventResult>) {
        if self.done {
            return;
        }
        self.start(out);
        out.push(Err(error));
        self.end(RunStatus::Failed, out);
    }

    /// The remote stream ended: a cut stream, unless the run already ended.
    pub(crate) fn finish(&mut self, out: &mut Vec<EventResult>) {
        self.fail(
            Error::protocol("the A2A stream ended before the remote task reached a final state"),
            out,
        );
    }

    fn start(&mut self, out: &mut Vec<EventResult>) {
        if !self.started {
            self.started = true;
            out.push(Ok(Event::new(EventKind::RunStart {
                agent: self.agent.clone(),
                model: None,
            })));
        }
    }

    fn end(&mut self, status: RunStatus, out: &mut Vec<EventResult>) {
        out.push(Ok(Event::run_end(status)));
        self.done = true;
    }

    fn status(
        &mut self,
        state: TaskState,
        message: Option<&crate::Message>,
        out: &mut Vec<EventResult>,
    ) {
        // A snapshot repeats the latest status: its message was passed on
        // already when its id was.
        let message =
            message.filter(|m| self.last_status_message.as_deref() != Some(m.message_id.as_str()));
        let text = message.map(crate::Message::text).unwrap_or_default();
        if let Some(message) = message {
            self.last_status_message = Some(message.message_id.clone());
            self.data_parts(&message.parts, out);
        }
        let say = |out: &mut Vec<EventResult>| {
            if let (false, Some(message)) = (text.is_empty(), message) {
                out.push(Ok(Event::new(EventKind::Message {
                    text: Text::from(text.as_str()),
                    message_id: Some(Text::from(message.message_id.as_str())),
                })));
            }
        };
        match state {
            TaskState::Submitted | TaskState::Working | TaskState::Unknown => say(out),
            TaskState::Completed | TaskState::InputRequired | TaskState::AuthRequired => {
                self.close_artifacts(out);
                say(out);
                let status = match state {
                    TaskState::InputRequired => RunStatus::InputRequired,
                    TaskState::AuthRequired => RunStatus::AuthRequired,
                    _ => RunStatus::Completed,
                };
                self.end(status, out);
            }
            TaskState::Canceled => {
                self.close_artifacts(out);
                say(out);
                self.end(RunStatus::Cancelled, out);
            }
            TaskState::Failed | TaskState::Rejected => {
                let why = match (state, text.is_empty()) {
                    (TaskState::Rejected, true) => "the remote agent rejected the task".to_owned(),
                    (_, true) => "the remote agent's task failed".to_owned(),
                    (_, false) => text.clone(),
                };
                out.push(Ok(Event::error(ErrorKind::Provider, why)));
                self.end(RunStatus::Failed, out);
            }
        }
    }

    fn artifact(
        &mut self,
        id: String,
        parts: &[Part],
        append: bool,
        last_chunk: bool,
        out: &mut Vec<EventResult>,
    ) {
        self.data_parts(parts, out);
        let piece: String = parts.iter().filter_map(Part::as_text).collect();
        let at = match self.open.iter().position(|(open, _)| *open == id) {
            // Not an append: the artifact starts over. What was streamed of it
            // stays streamed; its closing message holds the new text only.
            Some(at) if !append => {
                self.open[at].1.clear();
                at
            }
            Some(at) => at,
            None => {
                self.open.push((id.clone(), String::new()));
                self.open.len() - 1
            }
        };
        if !piece.is_empty() {
            self.open[at].1.push_str(&piece);
            out.push(Ok(Event::new(EventKind::TextDelta {
                text: piece.into(),
                message_id: Some(Text::from(id.as_str())),
            })));
        }
        if last_chunk {
            let (id, text) = self.open.remove(at);
            self.closed.push(id.clone());
            close(id, text, out);
        }
    }

    /// A task snapshot in the middle of a stream (a server sends one to a
    /// subscriber that fell behind, in place of the chunks it missed): the
    /// text of its artifacts beyond what was streamed, as deltas. Artifacts
    /// not streamed at all count only with `new_ones` (a final snapshot's
    /// artifacts may be the streamed ones under other ids).
    fn catch_up(
        &mut self,
        artifacts: &[crate::Artifact],
        new_ones: bool,
        out: &mut Vec<EventResult>,
    ) {
        for artifact in artifacts {
            let id = &artifact.artifact_id;
            if self.closed.contains(id) {
                continue;
            }
            let whole = artifact.text();
            let at = match self.open.iter().position(|(open, _)| open == id) {
                Some(at) => at,
                None if new_ones => {
                    self.open.push((id.clone(), String::new()));
                    self.open.len() - 1
                }
                None => continue,
            };
            // Only text that continues what was streamed can be added to it.
            let Some(missed) = whole.strip_prefix(self.open[at].1.as_str()) else {
                continue;
            };
            if !missed.is_empty() {
                out.push(Ok(Event::new(EventKind::TextDelta {
                    text: missed.into(),
                    message_id: Some(Text::from(id.as_str())),
                })));
                self.open[at].1 = whole;
            }
        }
    }

    fn close_artifacts(&mut self, out: &mut Vec<EventResult>) {
        for (id, text) in std::mem::take(&mut self.open) {
            self.closed.push(id.clone());
            close(id, text, out);
        }
    }
}

/// The `message` that completes an artifact's deltas (none for an artifact
/// without text: a data-only artifact is not a message).
fn close(id: String, text: String, out: &mut Vec<EventResult>) {
    if !text.is_empty() {
        out.push(Ok(Event::new(EventKind::Message {
            text: text.into(),
            message_id: Some(id.into()),
        })));
    }
}

/// The agentor event a data part stands for, as agentor's server writes
/// them (see [`crate::project`]):
/// `{"type": "tool_call", "callId", "name", "arguments"}`,
/// `{"type": "tool_result", "callId", "name", "output", "isError", "durationMs"?}`,
/// `{"type": "handoff", "from", "to"}`, `{"type": "reasoning_summary", "text"}`
/// (snake_case keys accepted too). Other data is not an agentor event.
fn data_event(data: &Value) -> Option<Event> {
    let field = |camel: &str, snake: &str| data.get(camel).or_else(|| data.get(snake));
    let text =
        |camel: &str, snake: &str| field(camel, snake).and_then(Value::as_str).map(Text::from);
    let kind = match data.get("type")?.as_str()? {
        "tool_call" => EventKind::ToolCall(Box::new(ToolCall {
            call_id: text("callId", "call_id")?,
            name: text("name", "name")?,
            arguments: data.get("arguments").cloned().unwrap_or(Value::Null),
        })),
        "tool_result" => EventKind::ToolResult(Box::new(ToolResult {
            call_id: text("callId", "call_id")?,
            name: text("name", "name")?,
            output: text("output", "output")?,
            is_error: field("isError", "is_error")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            duration: field("durationMs", "duration_ms")
                .and_then(Value::as_f64)
                .filter(|ms| ms.is_finite() && *ms >= 0.0)
                .map(|ms| Duration::from_secs_f64(ms / 1000.0)),
        })),
        "handoff" => EventKind::Handoff {
            from: text("from", "from")?,
            to: text("to", "to")?,
        },
        "reasoning_summary" => EventKind::ReasoningSummary {
            text: text("text", "text")?,
        },
        _ => return None,
    };
    Some(Event::new(kind))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;
    use crate::{Artifact, TaskArtifactUpdate};

    fn chunk(id: &str, text: &str, append: bool, last_chunk: bool) -> StreamResponse {
        StreamResponse::ArtifactUpdate(TaskArtifactUpdate {
            task_id: "t".into(),
            context_id: "c".into(),
            artifact: Artifact::new(id, vec![Part::text(text)]),
            append,
            last_chunk,
            metadata: None,
        })
    }

    fn texts(out: &[EventResult]) -> Vec<(String, String)> {
        out.iter()
            .map(|e| e.as_ref().unwrap())
            .filter_map(|e| Some((e.kind().as_str().to_owned(), e.text()?.to_owned())))
            .collect()
    }

    #[test]
    fn a_chunk_that_does_not_append_starts_the_artifact_over() {
        let mut mapper = TaskMapper::new("A".into());
        let mut out = Vec::new();
        mapper.event(chunk("a", "draft", false, false), &mut out);
        mapper.event(chunk("a", "Final ", false, false), &mut out);
        mapper.event(chunk("a", "answer", true, true), &mut out);
        let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
            list.iter()
                .map(|(k, t)| ((*k).to_owned(), (*t).to_owned()))
                .collect()
        };
        assert_eq!(
            texts(&out),
            pairs(&[
                ("text_delta", "draft"),
                ("text_delta", "Final "),
                ("text_delta", "answer"),
                ("message", "Final answer"),
            ])
        );
        assert!(!mapper.is_done());
    }

    #[test]
    fn a_task_snapshot_mid_stream_catches_up_the_text_it_missed() {
        // A lagging subscriber of agentor's server is sent the Task snapshot
        // in place of the chunks it missed; their text must not be lost.
        let mut mapper = TaskMapper::new("A".into());
        let mut out = Vec::new();
        mapper.event(chunk("a", "Hel", false, false), &mut out);
        let snapshot = |artifacts: Vec<Artifact>| {
            StreamResponse::Task(crate::Task {
                id: "t".into(),
                context_id: "c".into(),
                status: crate::TaskStatus {
                    state: TaskState::Working,
                    message: None,
                    timestamp: None,
                },
                artifacts,
                history: Vec::new(),
                metadata: None,
            })
        };
        mapper.event(
            snapshot(vec![
                Artifact::new("a", vec![Part::text("Hello wor")]),
                Artifact::new("b", vec![Part::text("Second")]),
            ]),
            &mut out,
        );
        mapper.event(chunk("a", "ld", true, false), &mut out);
        mapper.event(chunk("a", "", true, true), &mut out);
        // Seen again: nothing new.
        mapper.event(
            snapshot(vec![Artifact::new("a", vec![Part::text("Hello world")])]),
            &mut out,
        );
        let done = json!({"kind": "status-update", "taskId": "t", "contextId": "c",
            "final": true, "status": {"state": "completed"}});
        let done = StreamResponse::parse_at(crate::Dialect::V0_3, &done, "result").unwrap();
        mapper.event(done, &mut out);
        let pairs: Vec<(String, String)> = texts(&out);
        let expected: Vec<(String, String)> = [
            ("text_delta", "Hel"),
            ("text_delta", "lo wor"),
            ("text_delta", "Second"),
            ("text_delta", "ld"),
            ("message", "Hello world"),
            ("message", "Second"),
        ]
        .iter()
        .map(|(k, t)| ((*k).to_owned(), (*t).to_owned()))
        .collect();
        assert_eq!(pairs, expected);
        assert!(mapper.is_done());
    }

    #[test]
    fn a_snapshot_repeating_the_last_status_message_passes_nothing_on_twice() {
        let mut mapper = TaskMapper::new("A".into());
        let mut out = Vec::new();
        let status = json!({"state": "working", "message": {"kind": "message", "messageId": "s1",
            "role": "agent", "parts": [{"kind": "data", "data": {"type": "tool_call",
            "callId": "c1", "name": "f", "arguments": {}}}]}});
        let update = json!({"kind": "status-update", "taskId": "t", "contextId": "c",
            "final": false, "status": status});
        let snapshot = json!({"kind": "task", "id": "t", "contextId": "c", "status": status});
        for event in [update, snapshot] {
            let event = StreamResponse::parse_at(crate::Dialect::V0_3, &event, "result").unwrap();
            mapper.event(event, &mut out);
        }
        let calls = out
            .iter()
            .filter(|e| matches!(e.as_ref().unwrap().kind, EventKind::ToolCall(_)))
            .count();
        assert_eq!(calls, 1);
    }

    #[test]
    fn artifacts_left_open_are_closed_by_completion_in_order() {
        let mut mapper = TaskMapper::new("A".into());
        let mut out = Vec::new();
        mapper.event(chunk("one", "first", false, false), &mut out);
        mapper.event(chunk("two", "second", false, false), &mut out);
        let done = json!({"kind": "status-update", "taskId": "t", "contextId": "c",
            "final": true, "status": {"state": "completed"}});
        let done = StreamResponse::parse_at(crate::Dialect::V0_3, &done, "result").unwrap();
        mapper.event(done, &mut out);
        let messages: Vec<_> = texts(&out)
            .into_iter()
            .filter(|(k, _)| k == "message")
            .collect();
        assert_eq!(
            messages,
            [
                ("message".to_owned(), "first".to_owned()),
                ("message".to_owned(), "second".to_owned())
            ]
        );
        assert!(mapper.is_done());
        // Nothing after the end.
        let before = out.len();
        mapper.event(chunk("three", "late", false, true), &mut out);
        mapper.finish(&mut out);
        assert_eq!(out.len(), before);
    }

    #[test]
    fn a_failure_after_open_deltas_keeps_them_without_a_message() {
        // As a local provider's turn (Provider contract): a `message` is the
        // complete text of a turn that finished; a failed turn has its
        // deltas, the error and `run_end failed`, and no `message`.
        for state in ["failed", "rejected"] {
            let mut mapper = TaskMapper::new("A".into());
            let mut out = Vec::new();
            mapper.event(chunk("a", "Partial ", false, false), &mut out);
            mapper.event(chunk("a", "answer", true, false), &mut out);
            let end = json!({"kind": "status-update", "taskId": "t", "contextId": "c",
                "final": true, "status": {"state": state, "message": {"kind": "message",
                "messageId": "m", "role": "agent", "parts": [{"kind": "text", "text": "boom"}]}}});
            let end = StreamResponse::parse_at(crate::Dialect::V0_3, &end, "result").unwrap();
            mapper.event(end, &mut out);
            let kinds: Vec<&str> = out
                .iter()
                .map(|e| e.as_ref().unwrap().kind().as_str())
                .collect();
            assert_eq!(
                kinds,
                ["run_start", "text_delta", "text_delta", "error", "run_end"],
                "{state}"
            );
            let last = out.last().unwrap().as_ref().unwrap();
            assert_eq!(last.run_status(), Some(RunStatus::Failed));
            assert!(mapper.is_done());
        }
    }

    #[test]
    fn data_parts_become_tool_events_in_either_key_case_and_others_are_left_out() {
        let call = data_event(&json!({"type": "tool_call", "call_id": "c1", "name": "f",
            "arguments": {"x": 1}}))
        .unwrap();
        assert_eq!(call, Event::tool_call("c1", "f", json!({"x": 1})));
        let result = data_event(&json!({"type": "tool_result", "callId": "c1", "name": "f",
            "output": "boom", "isError": true, "durationMs": 12.5}))
        .unwrap();
        let EventKind::ToolResult(result) = result.kind else {
            panic!()
        };
        assert!(result.is_error);
        assert_eq!(result.duration, Some(Duration::from_micros(12_500)));
        assert_eq!(
            data_event(&json!({"type": "tool_call", "name": "no id"})),
            None
        );
        assert_eq!(data_event(&json!({"temperature": 18})), None);
        assert_eq!(data_event(&json!([1, 2])), None);
    }
}
