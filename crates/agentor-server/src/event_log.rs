//! [`EventLog`]: where a streamed run's events are kept for readers that
//! reconnect, and the path a cancel takes to the run's producer.
//!
//! Two backends implement it: [`MemoryLog`], the bounded ring of one
//! process (the default), and a Redis Streams log (the `agentor-redis`
//! crate) shared by several instances, so a run produced on one can be
//! resumed, read and cancelled on any other.
//!
//! Why a trait object and not an enum: the Redis backend lives in its own
//! crate (the server must not depend on a Redis client), so the server can
//! only name an interface; the calls through it are per body chunk and per
//! reader, never per event, so the dynamic dispatch costs nothing measurable.
//!
//! The producer side is synchronous on purpose: the response body appends
//! from `poll_next` and from `Drop`, where nothing can be awaited. A backend
//! with I/O (Redis) queues the events, bounded, and writes them from a task
//! of its own; the client being served never waits on the log.

use std::fmt;
use std::sync::Arc;

use agentor::Event;
use axum::http::StatusCode;
use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;
use tokio_util::sync::CancellationToken;

use crate::error::ApiError;

pub use crate::run_log::{MemoryLog, DEFAULT_BYTES_PER_RUN, DEFAULT_TOTAL_BYTES};

/// The events of a run as a reader gets them: batches of contiguous events
/// in id order, ending after the run end (or with an error item).
pub type EventBatches = BoxStream<'static, Result<Vec<Event>, LogError>>;

/// A log of streamed runs, shared by the routes (and, for a shared backend,
/// by every instance).
pub trait EventLog: Send + Sync + fmt::Debug + 'static {
    /// Starts the log of a new run produced here. `cancel` stops the run:
    /// the backend fires it when a cancel for `run_id` arrives, wherever it
    /// was sent (the server passes a child of its shutdown token).
    fn start(&self, run_id: &str, cancel: CancellationToken) -> Arc<dyn RunWriter>;

    /// The events of `run_id` from id `from` on, then the live ones, until
    /// the run end. Fails up front with [`LogError::UnknownRun`],
    /// [`LogError::Gone`], [`LogError::NotYet`] or [`LogError::Unavailable`].
    fn read(&self, run_id: &str, from: u64) -> BoxFuture<'_, Result<EventBatches, LogError>>;

    /// Asks the producer of `run_id`, wherever it runs, to stop. Fails with
    /// [`LogError::UnknownRun`], [`LogError::RunEnded`] or
    /// [`LogError::Unavailable`].
    fn cancel(&self, run_id: &str) -> BoxFuture<'_, Result<(), LogError>>;

    /// Completes once what was appended is written (a backend with I/O
    /// flushes its queues). [`Server`](crate::Server) awaits it, bounded by
    /// 5 s, after its graceful shutdown; an app that mounts the router
    /// itself may do the same. The default has nothing to flush.
    fn close(&self) -> BoxFuture<'_, ()> {
        Box::pin(std::future::ready(()))
    }

    /// Whether other instances read this log too. A shared log also keeps
    /// the A2A tasks produced here (their events as runs, their metadata
    /// beside), so any instance answers for any task. The default (and
    /// [`MemoryLog`]) is not shared.
    fn is_shared(&self) -> bool {
        false
    }

    /// Keeps `meta` (a small document, the caller's format) beside run
    /// `run_id` with the run's retention, and lists the run under `kind`
    /// for [`EventLog::recent`]. The default keeps nothing.
    fn put_meta(
        &self,
        kind: &str,
        run_id: &str,
        meta: String,
    ) -> BoxFuture<'_, Result<(), LogError>> {
        let _ = (kind, run_id, meta);
        Box::pin(std::future::ready(Ok(())))
    }

    /// What [`EventLog::put_meta`] kept for `run_id`, if it is still kept.
    fn meta(&self, run_id: &str) -> BoxFuture<'_, Result<Option<String>, LogError>> {
        let _ = run_id;
        Box::pin(std::future::ready(Ok(None)))
    }

    /// The ids of the runs put under `kind`, newest first, at most `limit`.
    fn recent(&self, kind: &str, limit: usize) -> BoxFuture<'_, Result<Vec<String>, LogError>> {
        let _ = (kind, limit);
        Box::pin(std::future::ready(Ok(Vec::new())))
    }

    /// The events of `run_id` written so far, from the first, without
    /// waiting for more (empty if none was written yet). Fails with
    /// [`LogError::Gone`] when the first are no longer kept. The default
    /// keeps no such view: [`LogError::UnknownRun`].
    fn snapshot(&self, run_id: &str) -> BoxFuture<'_, Result<Vec<Event>, LogError>> {
        let _ = run_id;
        Box::pin(std::future::ready(Err(LogError::UnknownRun)))
    }
}

/// The producer's handle on one run's log.
pub trait RunWriter: Send + Sync + fmt::Debug {
    /// Appends events numbered by the run's body (ids contiguous with the
    /// ones before). Never blocks; nothing follows a run end.
    fn append(&self, events: Vec<Event>);

    /// Fires when the run is asked to stop (a cancel from anywhere, or the
    /// server's shutdown).
    fn cancel_token(&self) -> &CancellationToken;

    /// Whether a reader is attached, so a run in its resume window is still
    /// wanted.
    fn has_followers(&self) -> bool;
}

/// Why a log operation failed; each maps to one JSON error.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LogError {
    /// No log of this run is kept (never started, or past retention): `404`.
    UnknownRun,
    /// The events from the id asked for are no longer kept: `410`.
    Gone {
        /// The oldest id kept.
        oldest: u64,
    },
    /// The id asked for was not sent yet: `400`.
    NotYet {
        /// The next id to come.
        next: u64,
    },
    /// The run has already ended (a cancel came too late): `409`.
    RunEnded,
    /// A reader fell behind the log's bound mid-stream: the events from
    /// `from` were dropped, `oldest` is the oldest kept.
    FellBehind {
        /// The id the reader needed next.
        from: u64,
        /// The oldest id kept.
        oldest: u64,
    },
    /// The shared log cannot be reached: `503`.
    Unavailable(String),
}

impl fmt::Display for LogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LogError::UnknownRun => f.write_str("no log of this run is kept"),
            LogError::Gone { oldest } => write!(f, "the oldest kept is id {oldest}"),
            LogError::NotYet { next } => write!(f, "the next id is {next}"),
            LogError::RunEnded => f.write_str("the run has already ended"),
            LogError::FellBehind { from, oldest } => write!(
                f,
                "the events from id {from} were dropped from the replay log \
                 (the oldest kept is id {oldest})"
            ),
            LogError::Unavailable(why) => write!(f, "the shared event log is unavailable: {why}"),
        }
    }
}

impl std::error::Error for LogError {}

impl LogError {
    /// The JSON error answered for a request about `run_id` that reads
    /// after id `after` (if any).
    pub(crate) fn to_api(&self, run_id: &str, after: Option<u64>) -> ApiError {
        let after = after.map_or_else(|| "-".to_owned(), |id| id.to_string());
        match self {
            LogError::UnknownRun => ApiError::unknown_run(run_id),
            LogError::Gone { oldest } => ApiError::new(
                StatusCode::GONE,
                "gone",
                format!(
                    "the events after id {after} are no longer kept; the oldest kept is id {oldest}"
                ),
            ),
            LogError::NotYet { next } => ApiError::invalid_option(
                "after",
                format!("id {after} was not sent yet (the next id is {next})"),
            ),
            LogError::RunEnded => ApiError::new(
                StatusCode::CONFLICT,
                "run_ended",
                format!(
                    "run `{}` has already ended",
                    agentor::error::excerpt(run_id)
                ),
            ),
            LogError::FellBehind { .. } => {
                ApiError::new(StatusCode::GONE, "gone", self.to_string())
            }
            LogError::Unavailable(_) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "log_unavailable",
                self.to_string(),
            ),
        }
    }
}
