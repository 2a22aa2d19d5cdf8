//! The Agent2Agent (A2A) protocol for agentor.
//!
//! Both dialects in use — 0.3 (`message/stream`, `kind`, lowercase states)
//! and 1.0 (`SendStreamingMessage`, wrapped results, `TASK_STATE_*`) — share
//! one set of types here; each is rendered and parsed in the dialect of the
//! request. The server side is mounted by `agentor-server`.
//!
//! - [`Dialect`] and [`Method`]: which dialect a request speaks.
//! - [`types`]: the neutral model ([`Task`], [`Message`], [`StreamResponse`], …).
//! - [`jsonrpc`]: request, response and error envelopes; [`A2aError`].
//! - [`client`]: [`client::A2aClient`], a remote A2A agent streamed as agentor events.

pub mod card;
mod dialect;
mod error;
pub mod frames;
mod ids;
pub mod jsonrpc;
pub mod project;
pub mod store;
pub mod timestamp;
pub mod types;

pub use dialect::{Binding, Dialect, Method};
pub use error::{A2aError, ErrorCode, ERROR_DOMAIN, ERROR_INFO_TYPE};
pub use ids::new_id;
pub use project::TaskProjector;
pub use types::{
    Artifact, FileContent, FilePart, ListPushConfigsParams, ListPushConfigsResult, ListTasksParams,
    ListTasksResult, Message, Part, PartContent, PushAuthentication, PushConfig, PushConfigQuery,
    Role, SendConfiguration, SendMessageParams, SendMessageResult, StreamResponse, Task,
    TaskArtifactUpdate, TaskQuery, TaskState, TaskStatus, TaskStatusUpdate, MAX_ID_CHARS,
};

pub mod client;
