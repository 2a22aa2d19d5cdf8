//! A2A (Agent2Agent) on the agentor server: JSON-RPC at `POST /` in both
//! protocol dialects, the agent card at `/.well-known/agent-card.json` (and
//! the legacy `/.well-known/agent.json`).
//!
//! The protocol itself — types, the projection of a run onto a task, the
//! task store — lives in `agentor-a2a`; this module is the HTTP side:
//! dispatch, SSE bodies, task runs, the card route. See `docs/a2a.md`.

mod card;
mod dispatch;
mod sse;
mod tasks;

use agentor_a2a::store::{StoreLimits, TaskStore};
use agentor_a2a::Dialect;

use crate::config::ServerConfig;

pub(crate) use card::agent_card;
pub(crate) use dispatch::json_rpc;

/// The header naming the A2A protocol version of a request.
pub(crate) const VERSION_HEADER: &str = "a2a-version";

/// What the A2A routes share.
#[derive(Clone, Debug)]
pub(crate) struct A2aState {
    pub(crate) store: TaskStore,
    pub(crate) public_url: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) agent_version: Option<String>,
    pub(crate) card_dialect: Dialect,
    pub(crate) bearer_auth: bool,
}

impl A2aState {
    pub(crate) fn new(config: &ServerConfig) -> Self {
        A2aState {
            store: TaskStore::new(StoreLimits {
                max_tasks: config.a2a_max_tasks,
                ttl: config.a2a_task_ttl,
                ..StoreLimits::default()
            }),
            public_url: config.public_url.clone(),
            description: config.description.clone(),
            agent_version: config.agent_version.clone(),
            card_dialect: config.card_dialect,
            bearer_auth: config.token.is_some(),
        }
    }
}
