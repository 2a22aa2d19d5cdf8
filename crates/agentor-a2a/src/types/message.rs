//! [`Message`]: one turn of the conversation, from the user or the agent.

use serde_json::{Map, Value};

use super::fields::{Fields, ObjectBuilder};
use super::{Part, Role};
use crate::{A2aError, Dialect};

/// A message: a role, its parts, and the ids tying it to a task.
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    /// The message's id (required on the wire).
    pub message_id: String,
    /// Who sent it.
    pub role: Role,
    /// Its content.
    pub parts: Vec<Part>,
    /// The conversation it belongs to.
    pub context_id: Option<String>,
    /// The task it belongs to.
    pub task_id: Option<String>,
    /// Other tasks it refers to.
    pub reference_task_ids: Vec<String>,
    /// Extension URIs.
    pub extensions: Vec<String>,
    /// Free-form metadata.
    pub metadata: Option<Map<String, Value>>,
}

impl Message {
    /// A message with no ids but its own.
    pub fn new(message_id: impl Into<String>, role: Role, parts: Vec<Part>) -> Self {
        Message {
            message_id: message_id.into(),
            role,
            parts,
            context_id: None,
            task_id: None,
            reference_task_ids: Vec::new(),
            extensions: Vec::new(),
            metadata: None,
        }
    }

    /// The text of its text parts, joined.
    pub fn text(&self) -> String {
        self.parts.iter().filter_map(Part::as_text).collect()
    }

    /// The message in `dialect` (0.3 adds `"kind": "message"`).
    pub fn render(&self, dialect: Dialect) -> Value {
        let object = match dialect {
            Dialect::V0_3 => ObjectBuilder::new().field("kind", "message"),
            Dialect::V1_0 => ObjectBuilder::new(),
        };
        object
            .field("messageId", self.message_id.as_str())
            .field("role", self.role.as_str(dialect))
            .field(
                "parts",
                Value::Array(self.parts.iter().map(|p| p.render(dialect)).collect()),
            )
            .opt("contextId", self.context_id.clone())
            .opt("taskId", self.task_id.clone())
            .strings("referenceTaskIds", &self.reference_task_ids)
            .strings("extensions", &self.extensions)
            .metadata(&self.metadata)
            .build()
    }

    /// Parses a message at `path`: `messageId`, `role` and `parts` are
    /// required; errors name the field (`params.message.messageId is required`).
    pub fn parse_at(dialect: Dialect, value: &Value, path: &str) -> Result<Self, A2aError> {
        let fields = Fields::of(value, path)?;
        let message_id = fields.str_req("messageId")?;
        let role = match fields.get("role") {
            Some(role) => Role::parse_at(role, &fields.path("role"))?,
            None => {
                return Err(A2aError::invalid_params(format!(
                    "{} is required",
                    fields.path("role")
                )))
            }
        };
        let parts_path = fields.path("parts");
        fields.array_req("parts")?;
        let parts = fields.list("parts", |v, p| Part::parse_at(dialect, v, p))?;
        if parts.is_empty() {
            return Err(A2aError::invalid_params(format!(
                "{parts_path} must not be empty"
            )));
        }
        Ok(Message {
            message_id,
            role,
            parts,
            context_id: fields.str_opt("contextId")?,
            task_id: fields.str_opt("taskId")?,
            reference_task_ids: fields.strings("referenceTaskIds")?,
            extensions: fields.strings("extensions")?,
            metadata: fields.object_opt("metadata")?,
        })
    }
}
