//! A2A (Agent2Agent) on the agentor server: JSON-RPC at `POST /` in both
//! protocol dialects, the HTTP+JSON binding of 1.0 under `/v1`, the agent card at `/.well-known/agent-card.json` (and
//! the legacy `/.well-known/agent.json`).
//!
//! The protocol itself — types, the projection of a run onto a task, the
//! task store — lives in `agentor-a2a`; this module is the HTTP side:
//! dispatch, SSE bodies, task runs, the card route. See `docs/a2a.md`.

mod card;
mod dispatch;
mod push;
mod push_delivery;
mod rest;
mod shared;
mod sse;
mod tasks;
mod webhook;

pub(crate) use card::agent_card;
pub(crate) use dispatch::json_rpc;
pub(crate) use push::PushRegistry;
pub(crate) use rest::rest;
