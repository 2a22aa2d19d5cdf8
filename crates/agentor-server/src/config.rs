//! [`ServerConfig`]: limits, heartbeat, auth and CORS of the server.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use agentor_a2a::Dialect;

use crate::connection::ConnectionLimits;
use crate::event_log::EventLog;
use crate::push_settings::PushSettings;
use crate::shutdown::Shutdown;

/// The environment variable holding the bearer token, read by
/// [`ServerConfig::from_env`].
pub const TOKEN_ENV: &str = "AGENTOR_TOKEN";

/// Which cross-origin requests browsers may make.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Cors {
    /// No CORS headers: browsers allow same-origin requests only (the default).
    #[default]
    None,
    /// Any origin (`Access-Control-Allow-Origin: *`).
    Any,
    /// These origins exactly (`https://app.example.com`).
    Origins(Vec<String>),
}

/// How the server behaves; every field has a documented default.
///
/// ```
/// use std::time::Duration;
/// use agentor_server::{Cors, ServerConfig};
///
/// let config = ServerConfig::default()
///     .max_runs(8)
///     .heartbeat(Duration::from_secs(5))
///     .token("s3cret")
///     .cors(Cors::Origins(vec!["https://app.example.com".into()]));
/// assert_eq!(config.body_limit_bytes(), 1024 * 1024);
/// assert!(!format!("{config:?}").contains("s3cret"));
/// ```
#[derive(Clone)]
pub struct ServerConfig {
    pub(crate) body_limit: usize,
    pub(crate) max_runs: usize,
    pub(crate) heartbeat: Duration,
    pub(crate) ws_ping: Duration,
    pub(crate) token: Option<String>,
    pub(crate) cors: Cors,
    pub(crate) shutdown: Shutdown,
    pub(crate) replay_events: usize,
    pub(crate) replay_bytes: (usize, usize),
    pub(crate) replay_retention: Duration,
    pub(crate) resume_window: Duration,
    pub(crate) coalesce: bool,
    pub(crate) public_url: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) agent_version: Option<String>,
    pub(crate) card_dialect: Dialect,
    pub(crate) a2a_max_tasks: usize,
    pub(crate) a2a_max_bytes: usize,
    pub(crate) a2a_task_ttl: Duration,
    pub(crate) connections: ConnectionLimits,
    pub(crate) trust_proxy: bool,
    pub(crate) event_log: Option<Arc<dyn EventLog>>,
    pub(crate) ai_sdk_path: Option<String>,
    pub(crate) ag_ui_path: Option<String>,
    pub(crate) metrics: bool,
    pub(crate) push: PushSettings,
}

/// The default path of the AI SDK route (`useChat`'s default `api`).
pub const DEFAULT_AI_SDK_PATH: &str = "/api/chat";
/// The default path of the AG-UI route.
pub const DEFAULT_AG_UI_PATH: &str = "/agui";

/// `path` with one leading `/` and no trailing one; `None` when it is not
/// a plain path (empty, or holding a route parameter's `{`, `}` or `*`).
fn route_path(path: &str) -> Option<String> {
    let trimmed = path.trim().trim_matches('/');
    if trimmed.is_empty() || trimmed.contains(['{', '}', '*']) {
        return None;
    }
    Some(format!("/{trimmed}"))
}

impl Default for ServerConfig {
    /// 1 MiB bodies, 64 concurrent runs, a heartbeat every 15 s, a WebSocket
    /// ping every 20 s, no token, no CORS; replay logs of 1024 events kept
    /// 5 min after the run ended, no resume window; A2A: the card URL
    /// derived from each request's `Host`, the 0.3 card for requests
    /// without `A2A-Version`, 1000 tasks kept, finished ones for 1 hour.
    /// Reads no environment (see [`ServerConfig::from_env`]).
    fn default() -> Self {
        ServerConfig {
            body_limit: 1024 * 1024,
            max_runs: 64,
            heartbeat: Duration::from_secs(15),
            ws_ping: Duration::from_secs(20),
            token: None,
            cors: Cors::None,
            shutdown: Shutdown::new(),
            replay_events: 1024,
            replay_bytes: (
                crate::event_log::DEFAULT_BYTES_PER_RUN,
                crate::event_log::DEFAULT_TOTAL_BYTES,
            ),
            replay_retention: Duration::from_secs(300),
            resume_window: Duration::ZERO,
            coalesce: true,
            public_url: None,
            description: None,
            agent_version: None,
            card_dialect: Dialect::V1_0,
            a2a_max_tasks: 1000,
            a2a_max_bytes: agentor_a2a::store::DEFAULT_MAX_BYTES,
            a2a_task_ttl: Duration::from_secs(3600),
            connections: ConnectionLimits::default(),
            trust_proxy: false,
            event_log: None,
            ai_sdk_path: Some(DEFAULT_AI_SDK_PATH.to_owned()),
            ag_ui_path: Some(DEFAULT_AG_UI_PATH.to_owned()),
            metrics: true,
            push: PushSettings::default(),
        }
    }
}

impl fmt::Debug for ServerConfig {
    /// Never prints the token (configurations end up in logs).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerConfig")
            .field("body_limit", &self.body_limit)
            .field("max_runs", &self.max_runs)
            .field("heartbeat", &self.heartbeat)
            .field("ws_ping", &self.ws_ping)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("cors", &self.cors)
            .field("shutdown", &self.shutdown)
            .field("replay_events", &self.replay_events)
            .field("replay_bytes", &self.replay_bytes)
            .field("replay_retention", &self.replay_retention)
            .field("resume_window", &self.resume_window)
            .field("coalesce", &self.coalesce)
            .field("public_url", &self.public_url)
            .field("description", &self.description)
            .field("agent_version", &self.agent_version)
            .field("card_dialect", &self.card_dialect)
            .field("a2a_max_tasks", &self.a2a_max_tasks)
            .field("a2a_max_bytes", &self.a2a_max_bytes)
            .field("a2a_task_ttl", &self.a2a_task_ttl)
            .field("connections", &self.connections)
            .field("trust_proxy", &self.trust_proxy)
            .field("event_log", &self.event_log)
            .field("ai_sdk_path", &self.ai_sdk_path)
            .field("ag_ui_path", &self.ag_ui_path)
            .field("metrics", &self.metrics)
            .field("push", &self.push)
            .finish()
    }
}

impl ServerConfig {
    /// The defaults, with the bearer token taken from `AGENTOR_TOKEN` when it
    /// is set and not empty. [`Server::new`](crate::Server::new) starts from this.
    pub fn from_env() -> Self {
        let config = ServerConfig::default();
        match std::env::var(TOKEN_ENV) {
            Ok(token) if !token.is_empty() => config.token(token),
            _ => config,
        }
    }

    /// Whether `GET /metrics` serves the process's metrics in the
    /// Prometheus text format (default on; behind the token when one is
    /// set). On, building the router installs a Prometheus recorder as the
    /// process's `metrics` recorder, unless the application installed one
    /// first (then `/metrics` answers `404` and that recorder gets the
    /// counts). Off, no recorder is installed by the server and streams are
    /// not counted, unless [`install_metrics_recorder`](crate::install_metrics_recorder)
    /// installed it with an extra recorder. See `docs/observability.md`.
    pub fn metrics(mut self, on: bool) -> Self {
        self.metrics = on;
        self
    }

    /// Whether `GET /metrics` is served; see [`ServerConfig::metrics`].
    pub fn metrics_enabled(&self) -> bool {
        self.metrics
    }

    /// The largest request body accepted, in bytes (default 1 MiB); larger → `413`.
    #[must_use]
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// The body limit in bytes.
    pub fn body_limit_bytes(&self) -> usize {
        self.body_limit
    }

    /// How many runs may be in progress at once, streaming or not (default
    /// 64, at least 1); one more → `503` with `Retry-After: 1`.
    #[must_use]
    pub fn max_runs(mut self, runs: usize) -> Self {
        self.max_runs = runs.max(1);
        self
    }

    /// How long a stream may stay silent before a heartbeat comment is sent
    /// (default 15 s; proxies commonly close connections idle for 30–60 s).
    #[must_use]
    pub fn heartbeat(mut self, every: Duration) -> Self {
        // A zero interval would spin; 1 ms is the timer's resolution anyway.
        self.heartbeat = every.max(Duration::from_millis(1));
        self
    }

    /// How often `GET /ws` sends a WebSocket Ping (default 20 s); a client
    /// that sends no frame at all, pongs included, for 3 intervals is closed.
    #[must_use]
    pub fn ws_ping(mut self, every: Duration) -> Self {
        // A zero interval would spin; 1 ms is the timer's resolution anyway.
        self.ws_ping = every.max(Duration::from_millis(1));
        self
    }

    /// Requires `Authorization: Bearer <token>` on every route but `GET /health`
    /// (on a WebSocket upgrade, `?token=<token>` is accepted instead).
    #[must_use]
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Which browser origins may call the server (default: none).
    #[must_use]
    pub fn cors(mut self, cors: Cors) -> Self {
        self.cors = cors;
        self
    }

    /// The handle whose [`trigger`](Shutdown::trigger) ends every open stream
    /// with a `cancelled` run end. [`Server`](crate::Server) triggers it on
    /// Ctrl-C, SIGTERM or its shutdown future; an app that mounts
    /// [`router`](crate::router) itself passes its own and triggers it when
    /// it shuts down.
    #[must_use]
    pub fn shutdown(mut self, shutdown: Shutdown) -> Self {
        self.shutdown = shutdown;
        self
    }

    /// How many events of each streamed run are kept for readers that
    /// reconnect (default 1024, at least 1): the last ones sent. A reader
    /// asking for older ones gets `410 gone`. Together with the limit of
    /// `4 × max_runs` logs kept, this bounds the memory of replay.
    #[must_use]
    pub fn replay_events(mut self, events: usize) -> Self {
        self.replay_events = events.max(1);
        self
    }

    /// How many bytes of events ([`Event::size_bytes`]) replay keeps: at
    /// most `per_run` for each run (default 1 MiB) and `total` for all runs
    /// together (default 64 MiB). A log past its own bound drops its oldest
    /// events; past the total, ended runs' logs are evicted first (the
    /// oldest first), then a growing live log drops its oldest events. A
    /// reader asking for a dropped event gets `410 gone`; a log always keeps
    /// its newest event. Applies to the default in-memory log (a Redis log
    /// has its own bounds).
    ///
    /// [`Event::size_bytes`]: agentor::Event::size_bytes
    #[must_use]
    pub fn replay_bytes(mut self, per_run: usize, total: usize) -> Self {
        self.replay_bytes = (per_run.max(1), total.max(1));
        self
    }

    /// How long a run's replay log is kept after the run ended (default
    /// 5 min); then `GET /runs/{run_id}/events` answers `404 unknown_run`.
    /// At most `4 × max_runs` logs are kept: beyond, the oldest ended one
    /// goes first, even within its retention.
    #[must_use]
    pub fn replay_retention(mut self, retention: Duration) -> Self {
        self.replay_retention = retention;
        self
    }

    /// How long a streamed run whose client went away keeps going, so a
    /// client that reconnects in time continues live (default zero: the run
    /// is dropped at once, which cancels the model request and tools within
    /// milliseconds). With a window, a disconnect no longer cancels at once:
    /// the run goes on for up to the window (another window each time it
    /// passes while a reader is attached), still holding its run permit.
    #[must_use]
    pub fn resume_window(mut self, window: Duration) -> Self {
        self.resume_window = window;
        self
    }

    /// Whether a streamed response writes the events that are already ready
    /// as one body chunk (default `true`: fewer writes and syscalls, never a
    /// wait). `false` writes each event as its own chunk; it exists to
    /// measure what coalescing buys.
    #[must_use]
    pub fn coalesce(mut self, coalesce: bool) -> Self {
        self.coalesce = coalesce;
        self
    }

    /// The URL clients reach the server at (`https://agent.example.com/`),
    /// which the A2A agent card gives as the JSON-RPC endpoint (`POST /` at
    /// that URL). Unset, the card derives it from each request's `Host`
    /// header (`http://<host>/`, never `0.0.0.0`); set it behind a proxy,
    /// under TLS, or when the router is nested under a path.
    #[must_use]
    pub fn public_url(mut self, url: impl Into<String>) -> Self {
        self.public_url = Some(url.into());
        self
    }

    /// Whether a proxy in front sets `X-Forwarded-Host` and
    /// `X-Forwarded-Proto` (default `false`: they are ignored, since any
    /// client can send them). Only the agent card's derived URL reads them;
    /// with [`public_url`](ServerConfig::public_url) set, nothing does.
    #[must_use]
    pub fn trust_proxy(mut self, trust: bool) -> Self {
        self.trust_proxy = trust;
        self
    }

    /// Whether the agent card's URL is derived from each request (no public
    /// URL is set): then a server reachable from a network should set one.
    pub fn derives_card_url(&self) -> bool {
        self.public_url.is_none()
    }

    /// The description on the A2A agent card (default: "`<name>`, an agentor
    /// agent"; never the agent's instructions, which may be private).
    #[must_use]
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// The agent's version on the A2A agent card (default: the version of
    /// agentor-server).
    #[must_use]
    pub fn agent_version(mut self, version: impl Into<String>) -> Self {
        self.agent_version = Some(version.into());
        self
    }

    /// The dialect of the agent card for requests without an `A2A-Version`
    /// header (default [`Dialect::V1_0`]: a card that validates against the
    /// 1.0 schema, which both official 1.3 SDKs read, listing the 1.0 and
    /// 0.3 interfaces). [`Dialect::V0_3`] serves the 0.3 card instead (its
    /// fields plus the 1.0 `supportedInterfaces`), for 0.3-only clients
    /// that send no header and need `url` and `protocolVersion`.
    #[must_use]
    pub fn card_dialect(mut self, dialect: Dialect) -> Self {
        self.card_dialect = dialect;
        self
    }

    /// How many A2A tasks are kept at most (default 1000, at least 1). A new
    /// task evicts the oldest finished one; when all are running, it is
    /// refused with a JSON-RPC error.
    #[must_use]
    pub fn a2a_max_tasks(mut self, tasks: usize) -> Self {
        self.a2a_max_tasks = tasks.max(1);
        self
    }

    /// How many bytes the kept A2A tasks may hold, as
    /// `Task::retained_bytes` estimates them (default 64 MiB, at least 1).
    /// New tasks evict finished ones, oldest first, to fit; when only
    /// running ones are left, a new task is refused with `-32603`.
    #[must_use]
    pub fn a2a_max_bytes(mut self, bytes: usize) -> Self {
        self.a2a_max_bytes = bytes.max(1);
        self
    }

    /// How A2A push notifications are delivered and which webhook addresses
    /// are allowed (see [`PushSettings`]: by default loopback, private and
    /// link-local addresses are refused).
    #[must_use]
    pub fn a2a_push(mut self, settings: PushSettings) -> Self {
        self.push = settings;
        self
    }

    /// How long a finished A2A task stays readable by `tasks/get` (default 1 hour).
    #[must_use]
    pub fn a2a_task_ttl(mut self, ttl: Duration) -> Self {
        self.a2a_task_ttl = ttl;
        self
    }

    /// Timeouts, the connection cap and the shutdown deadline (see
    /// [`ConnectionLimits`]). The body-read deadline applies wherever the
    /// router is mounted; the rest, to the built-in [`Server`](crate::Server).
    #[must_use]
    pub fn connection_limits(mut self, limits: ConnectionLimits) -> Self {
        self.connections = limits;
        self
    }

    /// The connection limits in effect.
    pub fn connection_limits_ref(&self) -> &ConnectionLimits {
        &self.connections
    }

    /// Where streamed runs are logged for resume and cancel (default: a
    /// [`MemoryLog`](crate::event_log::MemoryLog) of this process, bounded
    /// by [`replay_events`](Self::replay_events),
    /// [`replay_retention`](Self::replay_retention) and `4 × max_runs`
    /// runs). Give every instance the same shared log (the Redis one of
    /// `agentor-redis`) and any of them resumes, reads and cancels any run;
    /// see `docs/scale-out.md`. The log's own settings then replace
    /// `replay_events` and `replay_retention`.
    #[must_use]
    pub fn event_log(mut self, log: impl EventLog) -> Self {
        self.event_log = Some(Arc::new(log));
        self
    }

    /// Where the Vercel AI SDK route is mounted (default
    /// [`DEFAULT_AI_SDK_PATH`], `/api/chat`: `useChat`'s default), its
    /// resume route being `<path>/{chat_id}/stream`; `None` turns both off.
    /// A path that is not plain (empty, or with `{`, `}` or `*`) turns them
    /// off too.
    ///
    /// ```
    /// use agentor_server::ServerConfig;
    ///
    /// let config = ServerConfig::default().ai_sdk_path(Some("ui/chat/"));
    /// assert_eq!(config.ai_sdk_route(), Some("/ui/chat"));
    /// assert_eq!(ServerConfig::default().ai_sdk_path(None::<&str>).ai_sdk_route(), None);
    /// ```
    #[must_use]
    pub fn ai_sdk_path(mut self, path: Option<impl AsRef<str>>) -> Self {
        self.ai_sdk_path = path.and_then(|p| route_path(p.as_ref()));
        self
    }

    /// Where the AG-UI route is mounted (default [`DEFAULT_AG_UI_PATH`],
    /// `/agui`); `None` turns it off. Paths are taken as in
    /// [`ai_sdk_path`](Self::ai_sdk_path).
    #[must_use]
    pub fn ag_ui_path(mut self, path: Option<impl AsRef<str>>) -> Self {
        self.ag_ui_path = path.and_then(|p| route_path(p.as_ref()));
        self
    }

    /// The AI SDK route's path, when it is on.
    pub fn ai_sdk_route(&self) -> Option<&str> {
        self.ai_sdk_path.as_deref()
    }

    /// The AG-UI route's path, when it is on.
    pub fn ag_ui_route(&self) -> Option<&str> {
        self.ag_ui_path.as_deref()
    }

    /// The shutdown handle the router watches.
    pub fn shutdown_handle(&self) -> &Shutdown {
        &self.shutdown
    }
}
