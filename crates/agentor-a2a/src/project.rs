//! [`TaskProjector`]: an agentor run seen as an A2A task.
//!
//! The projector turns a run's events (`Result<Event, Error>`) into the
//! task's event sequence and keeps the [`Task`] snapshot that
//! `tasks/get` answers with. It does no I/O and keeps no clock but the
//! status timestamps; a driver feeds it (see [`crate::store::TaskHandle::drive`]).
//!
//! | agentor | A2A |
//! |---|---|
//! | (start) | `Task` (`submitted`, the user message in `history`), then status `working` |
//! | `text_delta` | artifact update on the message's answer artifact (`append` false on its first chunk, then true) |
//! | `message` | closes the answer artifact: an empty chunk with `lastChunk` true (the whole text when no delta came) |
//! | `tool_call`, `tool_result`, `handoff`, `reasoning_summary` | status `working` whose agent message carries one data part (`type` says which) |
//! | `reasoning_delta`, `run_start`, `agent_updated`, `progress` | omitted |
//! | `usage` | summed into the final status's `metadata.usage` |
//! | `error`, an `Err` item | the failure explained by the final `failed` status |
//! | `run_end` `completed` | status `completed` (final); the answer joins `history` |
//! | `run_end` `max_turns`, `failed`, `timed_out` | status `failed` with an agent message saying why |
//! | `run_end` `cancelled`, [`TaskProjector::cancel`] | status `canceled` |
//! | `run_end` `input_required`, `auth_required` | status `input-required` / `auth-required` (final for this turn) whose message is the run's last message: the question. That message is not also an answer artifact |
//! | (a next turn, [`TaskProjector::resume`]) | the user's message joins `history`; then, as a first turn, the `Task` (now `working`) and status `working` |
//! | end of stream without a run end | status `failed` |

use agentor_core::{Event, EventKind, EventResult, RunStatus};
use serde_json::{json, Map, Value};

use crate::{
    new_id, Artifact, Message, Part, PartContent, Role, StreamResponse, Task, TaskArtifactUpdate,
    TaskState, TaskStatus, TaskStatusUpdate,
};

/// Projects one agentor run onto one A2A task.
///
/// ```
/// use agentor_a2a::{Message, Part, Role, StreamResponse, TaskProjector, TaskState};
/// use agentor_core::{Event, RunStatus};
///
/// let user = Message::new("m1", Role::User, vec![Part::text("hi")]);
/// let mut projector = TaskProjector::new("t1", "c1", user);
/// let mut events = projector.start();
/// events.extend(projector.on_item(Ok(Event::text_delta("Hel"))));
/// events.extend(projector.on_item(Ok(Event::text_delta("lo"))));
/// events.extend(projector.on_item(Ok(Event::message("Hello"))));
/// events.extend(projector.on_item(Ok(Event::run_end(RunStatus::Completed))));
/// assert!(matches!(&events[0], StreamResponse::Task(task) if task.status.state == TaskState::Submitted));
/// assert!(events.last().unwrap().is_terminal());
/// assert_eq!(projector.task().status.state, TaskState::Completed);
/// assert_eq!(projector.task().artifacts[0].text(), "Hello");
/// ```
#[derive(Debug)]
pub struct TaskProjector {
    task: Task,
    /// The answer artifact receiving the current message's deltas.
    open_answer: Option<String>,
    /// The text of the current message's deltas.
    open_text: String,
    answers: usize,
    /// The text of the last complete message: the final answer.
    last_answer: Option<String>,
    /// A whole message that no delta streamed, not yet an artifact: if the
    /// run ends asking the user, it is the question, not an answer.
    held_message: Option<String>,
    /// The first failure seen (error event or `Err` item).
    failure: Option<String>,
    usage: Option<[u64; 3]>,
    finished: bool,
    /// `task.retained_bytes()`, kept up to date as the task changes (a
    /// recount per event would cost O(task) each).
    bytes: usize,
}

impl TaskProjector {
    /// A projector for a task `task_id` in `context_id`, started by `user`
    /// (whose `taskId` and `contextId` are set to the task's).
    pub fn new(
        task_id: impl Into<String>,
        context_id: impl Into<String>,
        mut user: Message,
    ) -> Self {
        let task_id = task_id.into();
        let context_id = context_id.into();
        user.task_id = Some(task_id.clone());
        user.context_id = Some(context_id.clone());
        let task = Task {
            id: task_id,
            context_id,
            status: TaskStatus::now(TaskState::Submitted),
            artifacts: Vec::new(),
            history: vec![user],
            metadata: None,
        };
        TaskProjector {
            bytes: task.retained_bytes(),
            task,
            open_answer: None,
            open_text: String::new(),
            answers: 0,
            last_answer: None,
            held_message: None,
            failure: None,
            usage: None,
            finished: false,
        }
    }

    /// Roughly what the task snapshot holds in memory
    /// ([`Task::retained_bytes`]), kept up to date as events are projected.
    pub fn retained_bytes(&self) -> usize {
        self.bytes
    }

    /// The task as it is now: status, artifacts with their full text so far,
    /// history (the user's message, and the final agent message once over).
    pub fn task(&self) -> &Task {
        &self.task
    }

    /// Whether the final status was emitted.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// The first events: the task (`submitted`), then status `working`.
    pub fn start(&mut self) -> Vec<StreamResponse> {
        let submitted = StreamResponse::Task(self.task.clone());
        vec![
            submitted,
            self.status(TaskState::Working, None, None, false),
        ]
    }

    /// Whether the task waits for the user's next message: its turn ended
    /// `input-required` or `auth-required`.
    pub fn awaits_user(&self) -> bool {
        self.finished && self.task.status.state.is_interrupted()
    }

    /// The next turn of a task that [awaits the user](Self::awaits_user):
    /// `user` (its `taskId` and `contextId` set to the task's) joins the
    /// history and the task is `working` again; whether it did. The turn
    /// then goes as the first did: [`start`](Self::start) (the `Task`, now
    /// `working`, and a `working` status), then [`on_item`](Self::on_item).
    /// Usage keeps summing over the turns.
    pub fn resume(&mut self, mut user: Message) -> bool {
        if !self.awaits_user() {
            return false;
        }
        user.task_id = Some(self.task.id.clone());
        user.context_id = Some(self.task.context_id.clone());
        self.bytes = self.bytes.saturating_add(user.retained_bytes());
        self.task.history.push(user);
        self.finished = false;
        self.failure = None;
        self.last_answer = None;
        // Published by `start`, with the snapshot.
        let _ = self.status(TaskState::Working, None, None, false);
        true
    }

    /// The events one item of the run becomes (often none). After the final
    /// status, nothing.
    pub fn on_item(&mut self, item: EventResult) -> Vec<StreamResponse> {
        let mut out = Vec::new();
        self.on_item_into(item, &mut out);
        out
    }

    /// [`TaskProjector::on_item`], appending to `out`: a caller that reuses
    /// one buffer allocates nothing per item for it.
    pub fn on_item_into(&mut self, item: EventResult, out: &mut Vec<StreamResponse>) {
        if self.finished {
            return;
        }
        match item {
            Ok(event) => self.on_event(event, out),
            Err(error) => {
                // An `Err` item ends the task: the driver stops pulling the run.
                self.failure.get_or_insert_with(|| error.to_string());
                out.extend(self.finish(TaskState::Failed, None));
            }
        }
    }

    /// The events when the run's stream ended: nothing if the task is
    /// over, else a `failed` final status (a run must end with a run end).
    pub fn on_end_of_stream(&mut self) -> Vec<StreamResponse> {
        if self.finished {
            return Vec::new();
        }
        self.failure
            .get_or_insert_with(|| "the run ended without a run end".to_owned());
        self.finish(TaskState::Failed, None)
    }

    /// The events when the task is cancelled (`tasks/cancel`, a shutdown):
    /// a `canceled` final status whose message gives `reason`. A task
    /// waiting for the user (not terminal) can be cancelled too.
    pub fn cancel(&mut self, reason: &str) -> Vec<StreamResponse> {
        if self.finished && !self.awaits_user() {
            return Vec::new();
        }
        self.finish(TaskState::Canceled, Some(reason.to_owned()))
    }

    fn on_event(&mut self, event: Event, out: &mut Vec<StreamResponse>) {
        // A sub-agent's events (an agent used as a tool) are its work, not
        // this agent's answer: its text must not join the answer artifact,
        // nor its errors fail the task. The calling tool's result, which
        // carries what it found, is projected like any other.
        if event.origin.parent.is_some() {
            return;
        }
        if let Some(text) = self.held_message.take() {
            let asks_user =
                matches!(event.kind, EventKind::RunEnd { status } if status.awaits_user());
            if !asks_user {
                let id = self.next_answer_id();
                out.push(self.chunk(id, text, false, true));
            }
        }
        match event.kind {
            EventKind::TextDelta { text, .. } => {
                if text.is_empty() {
                    return;
                }
                let append = self.open_answer.is_some();
                let artifact_id = match &self.open_answer {
                    Some(id) => id.clone(),
                    None => {
                        let id = self.next_answer_id();
                        self.open_answer = Some(id.clone());
                        id
                    }
                };
                self.open_text.push_str(&text);
                out.push(self.chunk(artifact_id, text.to_string(), append, false));
            }
            EventKind::Message { text, .. } => {
                match self.open_answer.take() {
                    // Deltas carried the text: close the artifact with an
                    // empty last chunk, so no delta was held back.
                    Some(id) => out.push(self.chunk(id, String::new(), true, true)),
                    None if !text.is_empty() => self.held_message = Some(text.to_string()),
                    None => {}
                }
                self.open_text.clear();
                self.last_answer = Some(text.to_string());
            }
            EventKind::ToolCall(call) => {
                out.extend(self.close_answer());
                let data = json!({
                    "type": "tool_call",
                    "callId": &*call.call_id,
                    "name": &*call.name,
                    "arguments": call.arguments,
                });
                out.push(self.data_status(data));
            }
            EventKind::ToolResult(result) => {
                let mut data = json!({
                    "type": "tool_result",
                    "callId": &*result.call_id,
                    "name": &*result.name,
                    "output": &*result.output,
                    "isError": result.is_error,
                });
                if let (Some(duration), Value::Object(map)) = (result.duration, &mut data) {
                    let millis = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
                    map.insert("durationMs".into(), millis.into());
                }
                out.push(self.data_status(data));
            }
            EventKind::Handoff { from, to } => {
                out.extend(self.close_answer());
                out.push(self.data_status(json!({"type": "handoff", "from": &*from, "to": &*to})));
            }
            EventKind::ReasoningSummary { text } => {
                out.push(self.data_status(json!({"type": "reasoning_summary", "text": &*text})));
            }
            EventKind::Usage {
                input_tokens,
                output_tokens,
                total_tokens,
                ..
            } => {
                let sum = self.usage.get_or_insert([0; 3]);
                // A provider's counts are not trusted: saturate, never overflow.
                sum[0] = sum[0].saturating_add(input_tokens);
                sum[1] = sum[1].saturating_add(output_tokens);
                sum[2] = sum[2].saturating_add(total_tokens);
            }
            EventKind::Error { message, .. } => {
                self.failure.get_or_insert_with(|| message.to_string());
            }
            EventKind::RunEnd { status } => {
                let (state, reason) = match status {
                    RunStatus::Completed => (TaskState::Completed, None),
                    RunStatus::Cancelled => (TaskState::Canceled, Some("the run was cancelled".to_owned())),
                    RunStatus::MaxTurns => (
                        TaskState::Failed,
                        Some("the agent stopped at its turn limit (max_turns) without a final answer".to_owned()),
                    ),
                    RunStatus::TimedOut => (TaskState::Failed, Some(self.explain("the run timed out"))),
                    RunStatus::InputRequired => (TaskState::InputRequired, None),
                    RunStatus::AuthRequired => (TaskState::AuthRequired, None),
                    _ => (TaskState::Failed, None),
                };
                out.extend(self.finish_with(state, reason, Some(status)));
            }
            // Reasoning deltas are the model's scratchpad, not the answer;
            // the rest carry nothing an A2A client has a place for.
            _ => {}
        }
    }

    /// The id of the next message's answer artifact.
    fn next_answer_id(&mut self) -> String {
        self.answers += 1;
        format!("{}-answer-{}", self.task.id, self.answers)
    }

    /// `base`, with the recorded failure when there is one.
    fn explain(&self, base: &str) -> String {
        match &self.failure {
            Some(failure) => format!("{base}: {failure}"),
            None => base.to_owned(),
        }
    }

    fn close_answer(&mut self) -> Option<StreamResponse> {
        let id = self.open_answer.take()?;
        self.last_answer = Some(std::mem::take(&mut self.open_text));
        Some(self.chunk(id, String::new(), true, true))
    }

    fn finish(&mut self, state: TaskState, reason: Option<String>) -> Vec<StreamResponse> {
        self.finish_with(state, reason, None)
    }

    fn finish_with(
        &mut self,
        state: TaskState,
        reason: Option<String>,
        run_status: Option<RunStatus>,
    ) -> Vec<StreamResponse> {
        let mut out: Vec<StreamResponse> = Vec::new();
        if let Some(text) = self.held_message.take() {
            let id = self.next_answer_id();
            out.push(self.chunk(id, text, false, true));
        }
        out.extend(self.close_answer());
        let text = match state {
            TaskState::Completed => None,
            TaskState::Failed => Some(reason.unwrap_or_else(|| self.explain("the run failed"))),
            _ => reason,
        };
        let message = match text {
            Some(text) => Some(self.agent_message(vec![Part::text(text)])),
            None => self
                .last_answer
                .take()
                .filter(|answer| !answer.is_empty())
                .map(|answer| self.agent_message(vec![Part::text(answer)])),
        };
        let mut metadata = Map::new();
        if let Some(status) = run_status {
            metadata.insert("runStatus".into(), status.as_str().into());
        }
        if let Some([input, output, total]) = self.usage {
            metadata.insert(
                "usage".into(),
                json!({"inputTokens": input, "outputTokens": output, "totalTokens": total}),
            );
        }
        let metadata = (!metadata.is_empty()).then_some(metadata);
        match (state, message) {
            // The answer is already in the artifacts: the final status stays
            // bare and the answer joins the history only.
            (TaskState::Completed, Some(answer)) => {
                self.bytes = self.bytes.saturating_add(answer.retained_bytes());
                self.task.history.push(answer);
                out.push(self.status(state, None, metadata, true));
            }
            (_, message) => {
                if let Some(message) = &message {
                    self.bytes = self.bytes.saturating_add(message.retained_bytes());
                    self.task.history.push(message.clone());
                }
                out.push(self.status(state, message, metadata, true));
            }
        }
        self.finished = true;
        out
    }

    fn agent_message(&self, parts: Vec<Part>) -> Message {
        let mut message = Message::new(new_id(), Role::Agent, parts);
        message.task_id = Some(self.task.id.clone());
        message.context_id = Some(self.task.context_id.clone());
        message
    }

    fn data_status(&mut self, data: Value) -> StreamResponse {
        let message = self.agent_message(vec![Part::data(data)]);
        self.status(TaskState::Working, Some(message), None, false)
    }

    fn status(
        &mut self,
        state: TaskState,
        message: Option<Message>,
        metadata: Option<Map<String, Value>>,
        is_final: bool,
    ) -> StreamResponse {
        let status = TaskStatus {
            state,
            message,
            timestamp: Some(crate::timestamp::now()),
        };
        self.bytes = (self.bytes + status.retained_bytes())
            .saturating_sub(self.task.status.retained_bytes());
        self.task.status = status.clone();
        if metadata.is_some() {
            self.bytes = (self.bytes + crate::types::metadata_bytes(&metadata))
                .saturating_sub(crate::types::metadata_bytes(&self.task.metadata));
            self.task.metadata = metadata.clone();
        }
        StreamResponse::StatusUpdate(TaskStatusUpdate {
            task_id: self.task.id.clone(),
            context_id: self.task.context_id.clone(),
            status,
            is_final,
            metadata,
        })
    }

    fn chunk(
        &mut self,
        artifact_id: String,
        text: String,
        append: bool,
        last_chunk: bool,
    ) -> StreamResponse {
        // The name goes out with the artifact's first chunk; an appended
        // chunk only extends the parts of the artifact the client has.
        let artifact = Artifact {
            name: (!append).then(|| "answer".to_owned()),
            ..Artifact::new(artifact_id, vec![Part::text(text)])
        };
        let (added, removed) = apply_chunk(&mut self.task.artifacts, &artifact, append);
        self.bytes = (self.bytes + added).saturating_sub(removed);
        StreamResponse::ArtifactUpdate(TaskArtifactUpdate {
            task_id: self.task.id.clone(),
            context_id: self.task.context_id.clone(),
            artifact,
            append,
            last_chunk,
            metadata: None,
        })
    }
}

/// Folds a chunk into the artifacts of a snapshot: text continues the last
/// text part, so the snapshot holds the whole answer in one part. Returns
/// the retained bytes it added and removed.
fn apply_chunk(artifacts: &mut Vec<Artifact>, chunk: &Artifact, append: bool) -> (usize, usize) {
    // A chunk almost always continues the newest artifact: search from the
    // end, so a long run's many answers don't make each chunk cost O(answers).
    let existing = artifacts
        .iter_mut()
        .rev()
        .find(|a| a.artifact_id == chunk.artifact_id);
    match (existing, append) {
        (Some(artifact), true) => {
            let mut added = 0;
            for part in &chunk.parts {
                match (
                    artifact.parts.last_mut().map(|p| &mut p.content),
                    &part.content,
                ) {
                    (Some(PartContent::Text(text)), PartContent::Text(more)) => {
                        added += more.len();
                        text.push_str(more);
                    }
                    _ => {
                        added += part.retained_bytes();
                        artifact.parts.push(part.clone());
                    }
                }
            }
            (added, 0)
        }
        (Some(artifact), false) => {
            let removed = artifact.retained_bytes();
            *artifact = chunk.clone();
            (chunk.retained_bytes(), removed)
        }
        (None, _) => {
            artifacts.push(chunk.clone());
            (chunk.retained_bytes(), 0)
        }
    }
}
