//! The Redis Streams [`EventLog`](agentor_server::event_log::EventLog) of
//! `agentor-server`: scale-out across instances.
//!
//! Give every instance a [`RedisLog`] on the same Redis and a run produced
//! on one is resumed (`Last-Event-ID`), read and cancelled on any other:
//!
//! - one stream per run, `{prefix}:run:{run_id}`, its entries the events in
//!   the native JSON encoding at explicit ids `0-{id + 1}`, so the SSE ids
//!   are the same on every instance; bounded by `XADD MAXLEN ~` and a TTL
//!   renewed by each write ([`RedisLogConfig::max_len`],
//!   [`RedisLogConfig::retention`]);
//! - the producer appends one pipeline per batch from a task of its own,
//!   from a bounded queue: the client it serves never waits on Redis;
//! - the run end is written into the stream itself;
//! - the producer holds a lease, `{prefix}:run:{run_id}:lease`, whose value
//!   is its fencing token, renewed every third of
//!   [`RedisLogConfig::lease`]; a reader that finds it lapsed ends the run
//!   in the stream with an error ([`PRODUCER_LOST`]) and a `failed` run end,
//!   in one script that an id already taken makes a no-op;
//! - a cancel sets `{prefix}:run:{run_id}:cancel` and publishes the run id
//!   on `{prefix}:cancel`: the producer's listener cancels at once, and a
//!   lost message is caught by the key at the next renewal.
//!
//! See `docs/scale-out.md`.
//!
//! ```no_run
//! use agentor::Agentor;
//! use agentor_redis::{RedisLog, RedisLogConfig};
//! use agentor_server::{Server, ServerConfig};
//!
//! # #[tokio::main]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let log = RedisLog::connect("redis://127.0.0.1:6379/0", RedisLogConfig::default()).await?;
//! let agent = Agentor::builder().name("Assistant").build();
//! let config = ServerConfig::from_env().event_log(log);
//! Server::new(agent).config(config).bind("0.0.0.0:8000").await?.serve().await?;
//! # Ok(())
//! # }
//! ```

mod all_runs;
mod config;
mod entry;
mod keys;
mod log;
mod meta;
mod reader;
mod sink;
mod source;
mod writer;

pub use config::RedisLogConfig;
pub use log::{ConnectError, RedisLog};
pub use reader::PRODUCER_LOST;
pub use sink::RedisSink;
pub use source::{RedisSource, RunError, SourceItem, MAX_PATTERN_RUNS};

/// The environment variable `agentor serve` reads the Redis URL from.
pub const REDIS_URL_ENV: &str = "AGENTOR_REDIS_URL";

/// The scale-out page's examples (`docs/scale-out.md`), compiled as doc tests.
#[doc = include_str!("../../../docs/scale-out.md")]
#[cfg(doctest)]
pub struct ScaleOutDoctests;
