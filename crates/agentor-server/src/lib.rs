//! The agentor HTTP server: agent runs streamed over HTTP the way browsers,
//! `curl` and off-the-shelf SSE clients expect.
//!
//! - `POST /chat` — `{"input": "…", "stream": true}` streams the run as real
//!   SSE (`id:`, `event:`, single-line `data:` JSON, heartbeats, a terminal
//!   `event: done`), or NDJSON with `Accept: application/x-ndjson`;
//!   `"stream": false` answers `{"output", "run_id"}`. Options `events`,
//!   `rebuffer`, `batch_ms`, `timeout` and `format` apply the core layers.
//! - `GET /runs/{run_id}/events` — a streamed run read again from its
//!   bounded replay log after `Last-Event-ID` (or `?after=`): the missed
//!   events, then the live ones, ids continuing exactly; `410` past the log.
//! - `GET /ws` — a WebSocket: each text frame `{"input": …}` (same options)
//!   runs the agent, answered by one JSON event per text frame ending with
//!   the run end; `{"type": "cancel"}` cancels; several inputs one after
//!   another on one connection.
//! - `POST /` — the Agent2Agent (A2A) protocol's JSON-RPC, dialects 0.3
//!   (`message/stream`, …) and 1.0 (`SendStreamingMessage`, …) side by
//!   side; runs become A2A tasks kept in a bounded store. The agent card is
//!   at `GET /.well-known/agent-card.json` (and `/.well-known/agent.json`),
//!   public. See `docs/a2a.md`.
//! - `POST /api/chat` — the Vercel AI SDK's `useChat` backend: its
//!   transport's body in, the UI message stream (v1) out;
//!   `GET /api/chat/{id}/stream` resumes the chat's active stream (`204`
//!   when none). `POST /agui` — an AG-UI agent: `RunAgentInput` in, AG-UI
//!   events out; the frontend's tools are offered to the model and a call
//!   of one ends the run for the frontend to run it. See `docs/frontends.md`.
//! - `GET /health` — `{"status": "ok"}`, never behind the token.
//! - `GET /metrics` — the process's metrics in the Prometheus text format
//!   (behind the token when one is set; [`ServerConfig::metrics`] turns it
//!   off). Runs, provider turns and tools are also `tracing` spans after the
//!   OpenTelemetry GenAI conventions. See `docs/observability.md`.
//! - `GET /` — the playground: a page that streams runs in the browser
//!   (`/chat`, cancel, resume), or the routes as JSON for `Accept:
//!   application/json`. See `docs/playground.md`.
//!
//! A handler of your own streams a run with the same frames by returning an
//! [`EventStreamResponse`].
//!
//! Every error is JSON `{"error": {"code", "message"}}`. A client that
//! disconnects cancels its run (the model request and the tools); a
//! shutdown ends every open stream with a `cancelled` run end. See
//! `docs/server.md` for the routes, frames, options, errors and limits.
//!
//! ```no_run
//! use agentor::Agentor;
//! use agentor_server::AgentorServeExt;
//!
//! # #[tokio::main]
//! # async fn main() -> std::io::Result<()> {
//! let agent = Agentor::builder().name("Assistant").build();
//! agent.serve(8000).await // 0.0.0.0:8000 until Ctrl-C or SIGTERM
//! # }
//! ```
//!
//! Mounted in a larger axum app, with a bound checked in a test:
//!
//! ```
//! use agentor::Agentor;
//! use agentor_providers::Demo;
//! use agentor_server::{router, ServerConfig};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! let agent = Agentor::builder().provider(Demo::instant()).build();
//! let app = axum::Router::new().nest("/agent", router(agent, ServerConfig::default()));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let addr = listener.local_addr()?;
//! tokio::spawn(async move { axum::serve(listener, app).await });
//!
//! let answer: serde_json::Value = reqwest::Client::new()
//!     .post(format!("http://{addr}/agent/chat"))
//!     .json(&serde_json::json!({"input": "Hi"}))
//!     .send()
//!     .await
//!     .unwrap()
//!     .json()
//!     .await
//!     .unwrap();
//! assert!(answer["output"].as_str().unwrap().starts_with("(demo)"));
//! # Ok(())
//! # }
//! ```

mod a2a;
mod agui;
mod auth;
mod body_deadline;
mod cancel;
mod chat;
mod chat_runs;
mod config;
mod connection;
mod detach;
mod encoding;
mod error;
mod event_body;
pub mod event_log;
mod extract;
mod headers;
mod limits;
mod metrics;
mod numbering;
mod options;
mod playground;
mod push_settings;
mod response;
mod resume;
mod router;
mod run_log;
mod server;
mod shutdown;
mod state;
mod trace;
mod ui_chat;
mod ws;

pub use crate::metrics::{install_metrics_recorder, RecorderInstalled};
/// How a streamed run is framed (SSE or NDJSON); see [`EventStreamResponse::framing`].
pub use agentor::wire::Framing;
pub use agentor_a2a::Dialect;
pub use agui::{
    AgUiContext, AgUiFunction, AgUiMessage, AgUiTool, AgUiToolCall, RunAgentInput,
    MAX_AGUI_MESSAGES, MAX_AGUI_TOOLS,
};
pub use config::{Cors, ServerConfig, DEFAULT_AG_UI_PATH, DEFAULT_AI_SDK_PATH, TOKEN_ENV};
pub use connection::ConnectionLimits;
pub use error::{ApiError, MAX_RUN_ID_CHARS};
pub use headers::{LAST_EVENT_ID_HEADER, RUN_ID_HEADER};
pub use push_settings::{AddressRange, PushSettings};
pub use response::EventStreamResponse;
pub use router::router;
pub use server::{AgentorServeExt, BoundServer, Server};
pub use shutdown::Shutdown;
pub use ui_chat::{UiChatRequest, UiMessage, UiRole, MAX_MESSAGES, MAX_PARTS};
#[doc(hidden)]
pub use ws::parse_client_message;

/// The server page's examples (`docs/server.md`), compiled and run as doc tests.
#[doc = include_str!("../../../docs/server.md")]
#[cfg(doctest)]
pub struct ServerDoctests;

/// The frontends page's examples (`docs/frontends.md`), compiled as doc tests.
#[doc = include_str!("../../../docs/frontends.md")]
#[cfg(doctest)]
pub struct FrontendsDoctests;

/// The observability page's examples (`docs/observability.md`), run as doc tests.
#[doc = include_str!("../../../docs/observability.md")]
#[cfg(doctest)]
pub struct ObservabilityDoctests;

/// The A2A page's examples (`docs/a2a.md`), compiled (and, where they need
/// no outside agent, run) as doc tests.
#[doc = include_str!("../../../docs/a2a.md")]
#[cfg(doctest)]
pub struct A2aDoctests;
