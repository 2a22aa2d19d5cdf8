//! One HTTP streaming transport for every remote source of agentor events:
//! the OpenAI providers, the A2A client, and every later remote provider.
//!
//! A remote source is a request plus a [`TurnParser`]; the transport does
//! the rest, once:
//!
//! - the reqwest client and its connection pool ([`HttpClient`]);
//! - retries with backoff and `Retry-After`, only before the first byte
//!   ([`RetryPolicy`]);
//! - a connect timeout, a read timeout for the headers and an idle timeout
//!   between chunks ([`TransportConfig`]);
//! - SSE decoding, which is also the UTF-8 check and the bound on one event;
//! - an HTTP status and its body mapped to an [`Error`](agentor_core::Error)
//!   ([`status`]);
//! - the turn state machine: a `run_start`, the parser's events stamped with
//!   `seq`, `run_id` and `source`, and on any failure an error and a
//!   `failed` run end ([`turn_stream`]);
//! - dropping the stream drops the body, which closes the connection.
//!
//! ```
//! use agentor_core::{Event, EventKind, EventResult, Kind, RunStatus};
//! use agentor_transport::{turn_stream, Body, TurnParser, TurnStart};
//! use futures_util::StreamExt;
//!
//! /// A whole JSON answer `{"text": …}` as one text delta.
//! #[derive(Default)]
//! struct Answer { done: bool }
//! impl TurnParser for Answer {
//!     fn message(&mut self, _: &str, data: &str, out: &mut Vec<EventResult>) {
//!         let json: serde_json::Value = serde_json::from_str(data).unwrap_or_default();
//!         let text = json["text"].as_str().unwrap_or_default();
//!         out.push(Ok(Event::new(EventKind::TextDelta { text: text.into(), message_id: None })));
//!         self.done = true;
//!     }
//!     fn finish(&mut self, out: &mut Vec<EventResult>) {
//!         out.push(Ok(Event::run_end(RunStatus::Completed)));
//!     }
//!     fn is_done(&self) -> bool { self.done }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let open = async { Ok(Body::Whole(r#"{"text": "hello"}"#.into())) };
//! let start = TurnStart { agent: "remote".into(), ..TurnStart::default() };
//! let events: Vec<_> = turn_stream(start, open, None, Box::<Answer>::default()).collect().await;
//! assert_eq!(events[1].as_ref().unwrap().text(), Some("hello"));
//! assert_eq!(events[2].as_ref().unwrap().kind(), Kind::RunEnd);
//! # }
//! ```

mod client;
mod config;
mod idle;
mod parser;
mod retry;
pub mod status;
mod turn;

pub use client::{HttpClient, Post};
pub use config::TransportConfig;
pub use parser::{TurnParser, TurnState};
pub use retry::RetryPolicy;
pub use turn::{turn_stream, Body, ByteStream, TurnStart, DEFAULT_MAX_EVENT_BYTES};
