//! [`Task`], its [`TaskStatus`] and its [`Artifact`]s.

use serde_json::{Map, Value};

use super::fields::Fields;
use super::{Message, Part, TaskState};
use crate::{A2aError, Dialect};

/// Where a task is: its state, the message that goes with it, and when.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskStatus {
    /// The state.
    pub state: TaskState,
    /// A message about the state (why a task failed, a tool call, …).
    pub message: Option<Message>,
    /// When the state was entered, RFC 3339 UTC.
    pub timestamp: Option<String>,
}

impl TaskStatus {
    /// A status in `state`, stamped now.
    pub fn now(state: TaskState) -> Self {
        TaskStatus {
            state,
            message: None,
            timestamp: Some(crate::timestamp::now()),
        }
    }

    /// The status in `dialect`.
    pub fn render(&self, dialect: Dialect) -> Value {
        super::wire::to_value(super::Wire::new(self, dialect))
    }

    /// Parses a status at `path`.
    pub fn parse_at(dialect: Dialect, value: &Value, path: &str) -> Result<Self, A2aError> {
        let fields = Fields::of(value, path)?;
        let state = match fields.get("state") {
            Some(state) => TaskState::parse_at(state, &fields.path("state"))?,
            None => return Err(super::fields::required(&fields.path("state"))),
        };
        Ok(TaskStatus {
            state,
            message: fields
                .get("message")
                .map(|m| Message::parse_at(dialect, m, &fields.path("message")))
                .transpose()?,
            timestamp: fields.str_opt("timestamp")?,
        })
    }
}

/// An output of a task: the answer's text, a file, data.
#[derive(Clone, Debug, PartialEq)]
pub struct Artifact {
    /// The artifact's id, unique within its task.
    pub artifact_id: String,
    /// A name.
    pub name: Option<String>,
    /// A description.
    pub description: Option<String>,
    /// The content.
    pub parts: Vec<Part>,
    /// Extension URIs.
    pub extensions: Vec<String>,
    /// Free-form metadata.
    pub metadata: Option<Map<String, Value>>,
}

impl Artifact {
    /// An artifact with an id and parts.
    pub fn new(artifact_id: impl Into<String>, parts: Vec<Part>) -> Self {
        Artifact {
            artifact_id: artifact_id.into(),
            name: None,
            description: None,
            parts,
            extensions: Vec::new(),
            metadata: None,
        }
    }

    /// The text of its text parts, joined.
    pub fn text(&self) -> String {
        self.parts.iter().filter_map(Part::as_text).collect()
    }

    /// The artifact in `dialect`.
    pub fn render(&self, dialect: Dialect) -> Value {
        super::wire::to_value(super::Wire::new(self, dialect))
    }

    /// Parses an artifact at `path`.
    pub fn parse_at(dialect: Dialect, value: &Value, path: &str) -> Result<Self, A2aError> {
        let fields = Fields::of(value, path)?;
        Ok(Artifact {
            artifact_id: fields.str_req("artifactId")?,
            name: fields.str_opt("name")?,
            description: fields.str_opt("description")?,
            parts: fields.list("parts", |v, p| Part::parse_at(dialect, v, p))?,
            extensions: fields.strings("extensions")?,
            metadata: fields.object_opt("metadata")?,
        })
    }
}

/// A task: the server-side resource one message starts.
#[derive(Clone, Debug, PartialEq)]
pub struct Task {
    /// The task's id.
    pub id: String,
    /// The conversation it belongs to.
    pub context_id: String,
    /// Where it is.
    pub status: TaskStatus,
    /// Its outputs so far.
    pub artifacts: Vec<Artifact>,
    /// The messages exchanged: the user's message, the agent's final message.
    pub history: Vec<Message>,
    /// Free-form metadata.
    pub metadata: Option<Map<String, Value>>,
}

impl Task {
    /// A copy with only the last `history_length` messages of its history
    /// (`None`: all of them; `0`: none).
    pub fn with_history_length(&self, history_length: Option<u32>) -> Task {
        let mut task = self.clone();
        if let Some(keep) = history_length {
            let keep = usize::try_from(keep).unwrap_or(usize::MAX);
            let skip = task.history.len().saturating_sub(keep);
            task.history.drain(..skip);
        }
        task
    }

    /// The task in `dialect` (0.3 adds `"kind": "task"`).
    pub fn render(&self, dialect: Dialect) -> Value {
        super::wire::to_value(super::Wire::new(self, dialect))
    }

    /// Parses a task at `path`.
    pub fn parse_at(dialect: Dialect, value: &Value, path: &str) -> Result<Self, A2aError> {
        let fields = Fields::of(value, path)?;
        Ok(Task {
            id: fields.str_req("id")?,
            context_id: fields.str_opt("contextId")?.unwrap_or_default(),
            status: TaskStatus::parse_at(
                dialect,
                fields.get("status").unwrap_or(&Value::Null),
                &fields.path("status"),
            )?,
            artifacts: fields.list("artifacts", |v, p| Artifact::parse_at(dialect, v, p))?,
            history: fields.list("history", |v, p| Message::parse_at(dialect, v, p))?,
            metadata: fields.object_opt("metadata")?,
        })
    }
}
