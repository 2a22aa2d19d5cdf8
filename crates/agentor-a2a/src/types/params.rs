//! The params of the A2A methods and the `ListTasks` result.

use serde_json::{Map, Value};

use super::fields::{required, Fields, ObjectBuilder};
use super::{Message, PushConfig, Task, TaskState};
use crate::{A2aError, Dialect};

/// How a send is to be answered (`configuration`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SendConfiguration {
    /// Media types the client accepts in answers.
    pub accepted_output_modes: Vec<String>,
    /// How many messages of the history to return with the task.
    pub history_length: Option<u32>,
    /// Whether a non-streaming send waits for the task to finish: 0.3
    /// `blocking`, 1.0 `!returnImmediately`. Unset means blocking in both.
    pub blocking: Option<bool>,
    /// A webhook for the task's updates, set with the send: 0.3
    /// `pushNotificationConfig`, 1.0 `taskPushNotificationConfig`.
    pub push_notification: Option<PushConfig>,
}

impl SendConfiguration {
    /// Whether the send waits for a terminal or interrupted state (default true).
    pub fn is_blocking(&self) -> bool {
        self.blocking.unwrap_or(true)
    }
}

/// The params of `message/send`, `message/stream`, `SendMessage` and
/// `SendStreamingMessage`.
///
/// ```
/// use agentor_a2a::{Dialect, SendMessageParams};
/// use serde_json::json;
///
/// let params = json!({"message": {"messageId": "m1", "role": "ROLE_USER", "parts": [{"text": "hi"}]},
///                     "configuration": {"returnImmediately": true}});
/// let parsed = SendMessageParams::parse_at(Dialect::V1_0, &params, "params").unwrap();
/// assert_eq!(parsed.message.text(), "hi");
/// assert!(!parsed.configuration.is_blocking());
///
/// // The Python streaming guide's minimal message: no messageId, role or kind.
/// let guide = json!({"message": {"parts": [{"kind": "text", "text": "hi"}]}});
/// let parsed = SendMessageParams::parse_at(Dialect::V0_3, &guide, "params").unwrap();
/// assert!(!parsed.message.message_id.is_empty());
///
/// let wrong = json!({"message": {"messageId": 7, "parts": [{"text": "hi"}]}});
/// let error = SendMessageParams::parse_at(Dialect::V0_3, &wrong, "params").unwrap_err();
/// assert_eq!(error.message, "params.message.messageId must be a string, not a number");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct SendMessageParams {
    /// The user's message.
    pub message: Message,
    /// How to answer.
    pub configuration: SendConfiguration,
    /// Free-form metadata.
    pub metadata: Option<Map<String, Value>>,
}

impl SendMessageParams {
    /// Params sending `message` with the default configuration.
    pub fn new(message: Message) -> Self {
        SendMessageParams {
            message,
            configuration: SendConfiguration::default(),
            metadata: None,
        }
    }

    /// The params in `dialect`.
    pub fn render(&self, dialect: Dialect) -> Value {
        let config = &self.configuration;
        let configuration = ObjectBuilder::new()
            .strings("acceptedOutputModes", &config.accepted_output_modes)
            .opt("historyLength", config.history_length);
        let configuration = match dialect {
            Dialect::V0_3 => configuration.opt("blocking", config.blocking).opt(
                "pushNotificationConfig",
                config
                    .push_notification
                    .as_ref()
                    .map(|c| c.render_inline(dialect)),
            ),
            Dialect::V1_0 => configuration
                .opt("returnImmediately", config.blocking.map(|b| !b))
                .opt(
                    "taskPushNotificationConfig",
                    config
                        .push_notification
                        .as_ref()
                        .map(|c| c.render_inline(dialect)),
                ),
        }
        .build();
        let has_configuration = configuration.as_object().is_some_and(|c| !c.is_empty());
        ObjectBuilder::new()
            .field("message", self.message.render(dialect))
            .opt("configuration", has_configuration.then_some(configuration))
            .metadata(&self.metadata)
            .build()
    }

    /// Parses the params at `path` (`params`). These are a client's request,
    /// so the message is read with [`Message::parse_sent_at`]'s leniencies.
    pub fn parse_at(dialect: Dialect, value: &Value, path: &str) -> Result<Self, A2aError> {
        let fields = Fields::of(value, path)?;
        let message = fields
            .get("message")
            .ok_or_else(|| required(&fields.path("message")))?;
        let message = Message::parse_sent_at(dialect, message, &fields.path("message"))?;
        let configuration = match fields.get("configuration") {
            None => SendConfiguration::default(),
            Some(config) => {
                let config = Fields::of(config, &fields.path("configuration"))?;
                let blocking = match dialect {
                    Dialect::V0_3 => config.bool_opt("blocking")?,
                    Dialect::V1_0 => config.bool_opt("returnImmediately")?.map(|r| !r),
                };
                let key = match dialect {
                    Dialect::V0_3 => "pushNotificationConfig",
                    Dialect::V1_0 => "taskPushNotificationConfig",
                };
                // An empty object is what some clients send for "none".
                let push = match config.get(key) {
                    Some(Value::Object(map)) if map.is_empty() => None,
                    Some(push) => Some(PushConfig::parse_inline_at(
                        dialect,
                        push,
                        &config.path(key),
                    )?),
                    None => None,
                };
                SendConfiguration {
                    accepted_output_modes: config.strings("acceptedOutputModes")?,
                    history_length: config.u32_opt("historyLength")?,
                    blocking,
                    push_notification: push,
                }
            }
        };
        Ok(SendMessageParams {
            message,
            configuration,
            metadata: fields.object_opt("metadata")?,
        })
    }
}

/// The params of `tasks/get` / `GetTask` — and, with `history_length`
/// unused, of `tasks/cancel`, `tasks/resubscribe`, `CancelTask` and
/// `SubscribeToTask`.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskQuery {
    /// The task's id.
    pub id: String,
    /// How many messages of the history to return.
    pub history_length: Option<u32>,
    /// Free-form metadata.
    pub metadata: Option<Map<String, Value>>,
}

impl TaskQuery {
    /// A query for task `id`.
    pub fn new(id: impl Into<String>) -> Self {
        TaskQuery {
            id: id.into(),
            history_length: None,
            metadata: None,
        }
    }

    /// The params (same shape in both dialects).
    pub fn render(&self, _dialect: Dialect) -> Value {
        ObjectBuilder::new()
            .field("id", self.id.as_str())
            .opt("historyLength", self.history_length)
            .metadata(&self.metadata)
            .build()
    }

    /// Parses the params at `path`; `id` is required.
    pub fn parse_at(_dialect: Dialect, value: &Value, path: &str) -> Result<Self, A2aError> {
        let fields = Fields::of(value, path)?;
        Ok(TaskQuery {
            id: fields.id_req("id")?,
            history_length: fields.u32_opt("historyLength")?,
            metadata: fields.object_opt("metadata")?,
        })
    }
}

/// The params of `ListTasks` (1.0).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ListTasksParams {
    /// Only tasks of this context.
    pub context_id: Option<String>,
    /// Only tasks in this state.
    pub status: Option<TaskState>,
    /// At most this many tasks (the server caps it; default 50).
    pub page_size: Option<u32>,
    /// Where to continue: a previous result's `nextPageToken`.
    pub page_token: Option<String>,
    /// How many messages of each task's history to return.
    pub history_length: Option<u32>,
    /// Only tasks whose status changed at or after this RFC 3339 time.
    pub status_timestamp_after: Option<String>,
    /// Whether to include artifacts (default false).
    pub include_artifacts: Option<bool>,
}

impl ListTasksParams {
    /// The params in `dialect`.
    pub fn render(&self, dialect: Dialect) -> Value {
        ObjectBuilder::new()
            .opt("contextId", self.context_id.clone())
            .opt("status", self.status.map(|s| s.as_str(dialect)))
            .opt("pageSize", self.page_size)
            .opt("pageToken", self.page_token.clone())
            .opt("historyLength", self.history_length)
            .opt("statusTimestampAfter", self.status_timestamp_after.clone())
            .opt("includeArtifacts", self.include_artifacts)
            .build()
    }

    /// Parses the params at `path`; all are optional, and absent params
    /// (`null`) are allowed.
    pub fn parse_at(_dialect: Dialect, value: &Value, path: &str) -> Result<Self, A2aError> {
        if value.is_null() {
            return Ok(ListTasksParams::default());
        }
        let fields = Fields::of(value, path)?;
        let status = match fields.get("status") {
            None => None,
            Some(Value::String(s)) if s == "TASK_STATE_UNSPECIFIED" => None,
            Some(status) => Some(TaskState::parse_at(status, &fields.path("status"))?),
        };
        Ok(ListTasksParams {
            context_id: fields.id_opt("contextId")?.filter(|s| !s.is_empty()),
            status,
            page_size: fields.u32_opt("pageSize")?,
            page_token: fields.str_opt("pageToken")?.filter(|s| !s.is_empty()),
            history_length: fields.u32_opt("historyLength")?,
            status_timestamp_after: match fields.str_opt("statusTimestampAfter")? {
                Some(at) => {
                    crate::timestamp::parse_nanos(&at).map_err(|why| {
                        A2aError::invalid_params(format!(
                            "{} is {why}",
                            fields.path("statusTimestampAfter")
                        ))
                    })?;
                    Some(at)
                }
                None => None,
            },
            include_artifacts: fields.bool_opt("includeArtifacts")?,
        })
    }
}

/// The result of `ListTasks`.
#[derive(Clone, Debug, PartialEq)]
pub struct ListTasksResult {
    /// The page of tasks, most recently updated first.
    pub tasks: Vec<Task>,
    /// The token of the next page; empty on the last page.
    pub next_page_token: String,
    /// The page size applied.
    pub page_size: u32,
    /// How many tasks match the filters in all.
    pub total_size: u32,
}

impl ListTasksResult {
    /// The result in `dialect`.
    pub fn render(&self, dialect: Dialect) -> Value {
        ObjectBuilder::new()
            .field(
                "tasks",
                Value::Array(self.tasks.iter().map(|t| t.render(dialect)).collect()),
            )
            .field("nextPageToken", self.next_page_token.as_str())
            .field("pageSize", self.page_size)
            .field("totalSize", self.total_size)
            .build()
    }

    /// Parses a result at `path`.
    pub fn parse_at(dialect: Dialect, value: &Value, path: &str) -> Result<Self, A2aError> {
        let fields = Fields::of(value, path)?;
        Ok(ListTasksResult {
            tasks: fields.list("tasks", |v, p| Task::parse_at(dialect, v, p))?,
            next_page_token: fields.str_opt("nextPageToken")?.unwrap_or_default(),
            page_size: fields.u32_opt("pageSize")?.unwrap_or_default(),
            total_size: fields.u32_opt("totalSize")?.unwrap_or_default(),
        })
    }
}
