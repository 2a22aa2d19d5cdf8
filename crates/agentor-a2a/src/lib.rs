//! The Agent2Agent (A2A) protocol for agentor.
//!
//! Both dialects in use — 0.3 (`message/stream`, `kind`, lowercase states)
//! and 1.0 (`SendStreamingMessage`, wrapped results, `TASK_STATE_*`) — share
//! one set of types here; each is rendered and parsed in the dialect of the
//! request. The server side is mounted by `agentor-server`.
