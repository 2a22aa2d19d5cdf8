//! [`Message`]: one turn of the conversation, from the user or the agent.

use serde_json::{Map, Value};

use super::fields::{required, Fields};
use super::{Part, Role};
use crate::{new_id, A2aError, Dialect};

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
        super::wire::to_value(super::Wire::new(self, dialect))
    }

    /// Parses a message at `path`: `messageId`, `role` and `parts` are
    /// required; errors name the field (`params.message.messageId is required`).
    ///
    /// This is the strict reading, for messages an agent sent (results,
    /// task history). A message a client sends is read by
    /// [`parse_sent_at`](Self::parse_sent_at).
    pub fn parse_at(dialect: Dialect, value: &Value, path: &str) -> Result<Self, A2aError> {
        Self::parse_with(dialect, value, path, Missing::Reject)
    }

    /// Parses the message of a send request at `path`, filling in what the
    /// protocol requires but the Python streaming guide's clients leave out:
    ///
    /// - no `messageId` (absent, `null` or empty): a fresh one is generated;
    /// - no `role`: the message is the user's;
    /// - no `kind`: fine in either dialect (when given, it must be `message`);
    /// - a part `{"text": …}` without `kind` is a text part (as in every
    ///   [`Part`] reading).
    ///
    /// Everything else is as strict as [`parse_at`](Self::parse_at): a
    /// `messageId` or `role` of the wrong type or value, missing or empty
    /// `parts`, and malformed parts are errors naming the field. Responses
    /// built from the message carry the filled-in fields, so they stay valid.
    ///
    /// ```
    /// use agentor_a2a::{Dialect, Role};
    /// use agentor_a2a::types::Message;
    /// use serde_json::json;
    ///
    /// let guide = json!({"parts": [{"kind": "text", "text": "Explain machine learning"}]});
    /// let message = Message::parse_sent_at(Dialect::V0_3, &guide, "params.message").unwrap();
    /// assert_eq!(message.role, Role::User);
    /// assert_eq!(message.message_id.len(), 36);
    /// assert_eq!(message.text(), "Explain machine learning");
    ///
    /// let bad = json!({"role": "boss", "parts": [{"text": "hi"}]});
    /// let error = Message::parse_sent_at(Dialect::V1_0, &bad, "params.message").unwrap_err();
    /// assert_eq!(error.message, "params.message.role has an unknown value `boss`");
    /// ```
    pub fn parse_sent_at(dialect: Dialect, value: &Value, path: &str) -> Result<Self, A2aError> {
        Self::parse_with(dialect, value, path, Missing::Fill)
    }

    fn parse_with(
        dialect: Dialect,
        value: &Value,
        path: &str,
        missing: Missing,
    ) -> Result<Self, A2aError> {
        let fields = Fields::of(value, path)?;
        match fields.str_opt("kind")?.as_deref() {
            None | Some("message") => {}
            Some(other) => {
                return Err(A2aError::invalid_params(format!(
                    "{} must be `message`, not `{other}`",
                    fields.path("kind")
                )))
            }
        }
        let message_id = match missing {
            Missing::Reject => fields.id_req("messageId")?,
            Missing::Fill => match fields.id_opt("messageId")? {
                Some(id) if !id.is_empty() => id,
                _ => new_id(),
            },
        };
        let role = match (fields.get("role"), missing) {
            (Some(role), _) => Role::parse_at(role, &fields.path("role"))?,
            (None, Missing::Fill) => Role::User,
            (None, Missing::Reject) => return Err(required(&fields.path("role"))),
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
            context_id: fields.id_opt("contextId")?,
            task_id: fields.id_opt("taskId")?,
            reference_task_ids: fields.strings("referenceTaskIds")?,
            extensions: fields.strings("extensions")?,
            metadata: fields.object_opt("metadata")?,
        })
    }
}

/// What [`Message::parse_with`] does with a required field that is missing.
#[derive(Clone, Copy)]
enum Missing {
    /// An error naming the field.
    Reject,
    /// The default a send request means by leaving it out.
    Fill,
}
