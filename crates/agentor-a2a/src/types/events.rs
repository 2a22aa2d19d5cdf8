//! The events of a task's stream: [`StreamResponse`] and its update kinds,
//! and [`SendMessageResult`], what a non-streaming send returns.

use serde_json::{Map, Value};

use super::fields::{required, Fields};
use super::{Artifact, Message, Task, TaskStatus, Wire};
use crate::{A2aError, Dialect};

/// A task changed state.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskStatusUpdate {
    /// The task.
    pub task_id: String,
    /// Its context.
    pub context_id: String,
    /// The new status.
    pub status: TaskStatus,
    /// Whether this is the last event of the stream: rendered as 0.3's
    /// `final`; 1.0 has no such field (the stream closing ends it).
    pub is_final: bool,
    /// Free-form metadata (agentor puts token usage here on the final status).
    pub metadata: Option<Map<String, Value>>,
}

/// A chunk of an artifact.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskArtifactUpdate {
    /// The task.
    pub task_id: String,
    /// Its context.
    pub context_id: String,
    /// The artifact, holding the chunk's parts only.
    pub artifact: Artifact,
    /// Whether the parts extend the artifact sent before under the same id.
    pub append: bool,
    /// Whether this is the artifact's last chunk.
    pub last_chunk: bool,
    /// Free-form metadata.
    pub metadata: Option<Map<String, Value>>,
}

/// One event of a streamed task, in the neutral model.
///
/// ```
/// use agentor_a2a::{Dialect, StreamResponse, TaskState, TaskStatus, TaskStatusUpdate};
///
/// let done = StreamResponse::StatusUpdate(TaskStatusUpdate {
///     task_id: "t1".into(),
///     context_id: "c1".into(),
///     status: TaskStatus { state: TaskState::Completed, message: None, timestamp: None },
///     is_final: true,
///     metadata: None,
/// });
/// let v03 = done.render(Dialect::V0_3);
/// assert_eq!(v03["kind"], "status-update");
/// assert_eq!(v03["final"], true);
/// assert_eq!(v03["status"]["state"], "completed");
/// let v10 = done.render(Dialect::V1_0);
/// assert_eq!(v10["statusUpdate"]["status"]["state"], "TASK_STATE_COMPLETED");
/// assert_eq!(StreamResponse::parse_at(Dialect::V1_0, &v10, "result").unwrap(), done);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum StreamResponse {
    /// The task as a whole (the first event of a stream, or a resubscription's).
    Task(Task),
    /// A message outside any task.
    Message(Message),
    /// A status change.
    StatusUpdate(TaskStatusUpdate),
    /// An artifact chunk.
    ArtifactUpdate(TaskArtifactUpdate),
}

impl StreamResponse {
    /// The event in `dialect`: 0.3 tags it with `kind`; 1.0 wraps it
    /// (`{"task": …}`, `{"message": …}`, `{"statusUpdate": …}`, `{"artifactUpdate": …}`).
    /// A stream writes [`wire`](Self::wire) instead, which builds no tree.
    pub fn render(&self, dialect: Dialect) -> Value {
        super::wire::to_value(super::Wire::new(self, dialect))
    }

    /// The event in `dialect` as a [`Serialize`](serde::Serialize) value:
    /// the JSON of [`render`](Self::render), written without a `Value` tree.
    pub fn wire(&self, dialect: Dialect) -> Wire<'_, Self> {
        Wire::new(self, dialect)
    }

    /// Parses an event at `path` (`result`). Both shapes are recognised:
    /// a 1.0 wrapper key, else a 0.3 `kind`.
    pub fn parse_at(dialect: Dialect, value: &Value, path: &str) -> Result<Self, A2aError> {
        let fields = Fields::of(value, path)?;
        for key in ["task", "message", "statusUpdate", "artifactUpdate"] {
            if let Some(inner) = fields.get(key) {
                return parse_kind(dialect, key, inner, &fields.path(key));
            }
        }
        let kind = match fields.str_opt("kind")?.as_deref() {
            Some("task") => "task",
            Some("message") => "message",
            Some("status-update") => "statusUpdate",
            Some("artifact-update") => "artifactUpdate",
            Some(other) => {
                return Err(A2aError::invalid_params(format!(
                    "{} has an unknown value `{other}`",
                    fields.path("kind")
                )))
            }
            None => {
                return Err(A2aError::invalid_params(format!(
                    "{path} is not a task, message, status update or artifact update"
                )))
            }
        };
        parse_kind(dialect, kind, value, path)
    }

    /// The task id the event belongs to, when it has one.
    pub fn task_id(&self) -> Option<&str> {
        match self {
            StreamResponse::Task(task) => Some(&task.id),
            StreamResponse::Message(message) => message.task_id.as_deref(),
            StreamResponse::StatusUpdate(update) => Some(&update.task_id),
            StreamResponse::ArtifactUpdate(update) => Some(&update.task_id),
        }
    }

    /// Whether nothing follows this event: a final status update, a task in
    /// a terminal state, or a message.
    pub fn is_terminal(&self) -> bool {
        match self {
            StreamResponse::Task(task) => task.status.state.is_terminal(),
            StreamResponse::Message(_) => true,
            StreamResponse::StatusUpdate(update) => {
                update.is_final || update.status.state.is_terminal()
            }
            StreamResponse::ArtifactUpdate(_) => false,
        }
    }
}

fn parse_kind(
    dialect: Dialect,
    key: &str,
    value: &Value,
    path: &str,
) -> Result<StreamResponse, A2aError> {
    Ok(match key {
        "task" => StreamResponse::Task(Task::parse_at(dialect, value, path)?),
        "message" => StreamResponse::Message(Message::parse_at(dialect, value, path)?),
        "statusUpdate" => {
            let fields = Fields::of(value, path)?;
            let status = fields
                .get("status")
                .ok_or_else(|| required(&fields.path("status")))?;
            let status = TaskStatus::parse_at(dialect, status, &fields.path("status"))?;
            StreamResponse::StatusUpdate(TaskStatusUpdate {
                task_id: fields.str_req("taskId")?,
                context_id: fields.str_opt("contextId")?.unwrap_or_default(),
                // 1.0 has no `final`: a terminal state ends the stream.
                is_final: fields
                    .bool_opt("final")?
                    .unwrap_or(status.state.is_terminal()),
                status,
                metadata: fields.object_opt("metadata")?,
            })
        }
        _ => {
            let fields = Fields::of(value, path)?;
            let artifact = fields
                .get("artifact")
                .ok_or_else(|| required(&fields.path("artifact")))?;
            StreamResponse::ArtifactUpdate(TaskArtifactUpdate {
                task_id: fields.str_req("taskId")?,
                context_id: fields.str_opt("contextId")?.unwrap_or_default(),
                artifact: Artifact::parse_at(dialect, artifact, &fields.path("artifact"))?,
                append: fields.bool_opt("append")?.unwrap_or(false),
                last_chunk: fields.bool_opt("lastChunk")?.unwrap_or(false),
                metadata: fields.object_opt("metadata")?,
            })
        }
    })
}

/// What `message/send` / `SendMessage` returns: the task, or a lone message.
#[derive(Clone, Debug, PartialEq)]
pub enum SendMessageResult {
    /// The task the message started (or continued).
    Task(Task),
    /// A direct answer with no task.
    Message(Message),
}

impl SendMessageResult {
    /// The result in `dialect`: bare with `kind` in 0.3, `{"task": …}` /
    /// `{"message": …}` in 1.0.
    pub fn render(&self, dialect: Dialect) -> Value {
        super::wire::to_value(super::Wire::new(self, dialect))
    }

    /// Parses a result at `path`.
    pub fn parse_at(dialect: Dialect, value: &Value, path: &str) -> Result<Self, A2aError> {
        match StreamResponse::parse_at(dialect, value, path)? {
            StreamResponse::Task(task) => Ok(SendMessageResult::Task(task)),
            StreamResponse::Message(message) => Ok(SendMessageResult::Message(message)),
            _ => Err(A2aError::invalid_params(format!(
                "{path} must be a task or a message"
            ))),
        }
    }
}
