//! The neutral A2A model: one set of types, rendered and parsed per [`Dialect`].
//!
//! Every type has `render(dialect) -> serde_json::Value` and
//! `parse_at(dialect, &Value, path)`, where `path` names where the value sits
//! in the request (`params`, `result`) so validation errors name the field:
//! `params.message.messageId is required`. Parsing accepts either dialect's
//! spellings of enums and parts, so a peer mixing them is still understood;
//! rendering is strictly in the dialect asked for.
//!
//! [`Dialect`]: crate::Dialect

mod enums;
mod events;
mod fields;
mod list;
mod message;
mod params;
mod part;
mod push;
mod size;
mod task;
mod wire;

pub use enums::{Role, TaskState};
pub use events::{SendMessageResult, StreamResponse, TaskArtifactUpdate, TaskStatusUpdate};
pub use fields::MAX_ID_CHARS;
pub use message::Message;
pub use params::{
    ListTasksParams, ListTasksResult, SendConfiguration, SendMessageParams, TaskQuery,
};
pub use part::{FileContent, FilePart, Part, PartContent};
pub use push::{
    ListPushConfigsParams, ListPushConfigsResult, PushAuthentication, PushConfig, PushConfigQuery,
    MAX_PUSH_CREDENTIALS_BYTES, MAX_PUSH_TOKEN_BYTES, MAX_PUSH_URL_BYTES,
};
pub(crate) use size::metadata_bytes;
pub use task::{Artifact, Task, TaskStatus};
pub use wire::Wire;
