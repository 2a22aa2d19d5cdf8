//! [`AppState`]: what every handler shares, apart from the routes (as axum's
//! examples keep state), so handlers depend on it and not on each other.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use agentor::Agentor;
use agentor_a2a::store::{StoreLimits, TaskStore};
use agentor_a2a::Dialect;

use crate::chat_runs::ChatRuns;
use crate::config::ServerConfig;
use crate::event_log::{EventLog, MemoryLog};
use crate::limits::RunLimit;
use crate::shutdown::Shutdown;

/// What every handler shares.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) agent: Agentor,
    pub(crate) limit: RunLimit,
    pub(crate) heartbeat: Duration,
    pub(crate) shutdown: Shutdown,
    /// The replay logs of streamed runs (in memory, or shared).
    pub(crate) runs: Arc<dyn EventLog>,
    pub(crate) resume_window: Duration,
    pub(crate) coalesce: bool,
    pub(crate) ws: WsSettings,
    /// The A2A task store and card settings.
    pub(crate) a2a: A2aState,
    /// The latest run of each AI SDK chat, for resume.
    pub(crate) chats: ChatRuns,
}

impl AppState {
    pub(crate) fn new(agent: Agentor, config: &ServerConfig) -> Self {
        AppState {
            agent,
            limit: RunLimit::new(config.max_runs),
            heartbeat: config.heartbeat,
            shutdown: config.shutdown.clone(),
            runs: config.event_log.clone().unwrap_or_else(|| {
                let (per_run, total) = config.replay_bytes;
                Arc::new(
                    MemoryLog::new(
                        config.replay_events,
                        config.replay_retention,
                        config.max_runs.saturating_mul(4),
                    )
                    .max_bytes(per_run, total),
                )
            }),
            resume_window: config.resume_window,
            coalesce: config.coalesce,
            ws: WsSettings::new(config),
            a2a: A2aState::new(config),
            chats: ChatRuns::new(config.max_runs.saturating_mul(4)),
        }
    }
}

/// The WebSocket part of the configuration.
#[derive(Clone, Copy, Debug)]
pub(crate) struct WsSettings {
    pub(crate) ping: Duration,
    /// The largest client message, as for a `/chat` body.
    pub(crate) max_message: usize,
}

impl WsSettings {
    pub(crate) fn new(config: &ServerConfig) -> Self {
        WsSettings {
            ping: config.ws_ping,
            max_message: config.body_limit,
        }
    }
}

/// What the A2A routes share.
#[derive(Clone, Debug)]
pub(crate) struct A2aState {
    pub(crate) store: TaskStore,
    /// The tasks' push notification configs.
    pub(crate) push: crate::a2a::PushRegistry,
    pub(crate) public_url: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) agent_version: Option<String>,
    pub(crate) card_dialect: Dialect,
    pub(crate) bearer_auth: bool,
    pub(crate) trust_proxy: bool,
    /// When the card's content was set (this state was built), to whole
    /// seconds as HTTP dates go: the card's `Last-Modified`.
    pub(crate) card_modified: SystemTime,
}

impl A2aState {
    pub(crate) fn new(config: &ServerConfig) -> Self {
        A2aState {
            store: TaskStore::new(StoreLimits {
                max_tasks: config.a2a_max_tasks,
                max_bytes: config.a2a_max_bytes,
                ttl: config.a2a_task_ttl,
                ..StoreLimits::default()
            }),
            push: crate::a2a::PushRegistry::new(config.push.clone()),
            public_url: config.public_url.clone(),
            description: config.description.clone(),
            agent_version: config.agent_version.clone(),
            card_dialect: config.card_dialect,
            bearer_auth: config.token.is_some(),
            trust_proxy: config.trust_proxy,
            card_modified: whole_seconds(SystemTime::now()),
        }
    }
}

/// `at` without its fraction of a second, so it equals its HTTP date.
fn whole_seconds(at: SystemTime) -> SystemTime {
    let seconds = at
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    SystemTime::UNIX_EPOCH + Duration::from_secs(seconds)
}
