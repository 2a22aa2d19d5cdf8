//! [`RedisSink`]: any pipeline's events appended to a run's stream, so
//! readers anywhere ([`crate::RedisSource`], `GET /runs/{id}/events`,
//! `agentor tail`) get them.

use std::pin::pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use agentor::{Envelope, Event, EventKind, EventResult, RunStatus};
use agentor_server::event_log::{LogError, RunWriter};
use futures_core::Stream;
use futures_util::StreamExt;
use tokio_util::sync::CancellationToken;

use crate::keys::valid_run_id;
use crate::log::RedisLog;
use crate::writer::{self, RedisRunWriter, Shared};

/// Appends a stream of events to one run's Redis stream, with the log's
/// pipelined writer (one pipeline per batch queued, never a round trip per
/// event), its lease and its retention.
///
/// Bounded: the queue waiting for Redis holds at most half of the log's
/// [`max_queued`](crate::RedisLogConfig::max_queued) events and bytes;
/// beyond, the sink stops pulling its stream until Redis has taken more
/// (backpressure, so nothing is dropped). Events are renumbered 0, 1, … (the
/// stream's entry ids) and carry the sink's run id as their `run_id`,
/// failures become error events, and the stream ends
/// with a run end: the source's own, `failed` if it ended without one, or
/// `cancelled` if the run was cancelled through the log
/// (`POST /runs/{id}/cancel`, [`EventLog::cancel`](agentor_server::event_log::EventLog::cancel)).
///
/// ```no_run
/// use agentor::Agentor;
/// use agentor_redis::{RedisLog, RedisLogConfig};
///
/// # #[tokio::main]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let log = RedisLog::connect("redis://127.0.0.1:6379/0", RedisLogConfig::default()).await?;
/// let agent = Agentor::builder().name("worker-1").build();
/// let sent = log.sink("job_42")?.send_all(agent.stream_chat("Hi").into_inner()).await?;
/// println!("{sent} events in Redis");
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
#[must_use = "a sink does nothing until `send_all` is awaited"]
pub struct RedisSink {
    log: RedisLog,
    run_id: String,
}

impl RedisLog {
    /// A sink into run `run_id`'s stream (`{prefix}:run:{run_id}`). The id
    /// is one a run id may be (`[A-Za-z0-9_.-]`, at most 200 bytes), else
    /// [`LogError::UnknownRun`].
    pub fn sink(&self, run_id: impl Into<String>) -> Result<RedisSink, LogError> {
        let run_id = run_id.into();
        if !valid_run_id(&run_id) {
            return Err(LogError::UnknownRun);
        }
        Ok(RedisSink {
            log: self.clone(),
            run_id,
        })
    }
}

impl RedisSink {
    /// The run id the events go to.
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// Pulls `events` to their end and appends them, then waits until
    /// Redis has them all (the run end included); how many were written.
    /// Fails with [`LogError::Unavailable`] when the writer gave up on
    /// Redis (60 s without it once the run ended) with events unwritten.
    pub async fn send_all<S>(self, events: S) -> Result<u64, LogError>
    where
        S: Stream<Item = EventResult>,
    {
        let cancel = CancellationToken::new();
        let writer = writer::start(&self.log.inner, &self.run_id, cancel.clone());
        let shared = writer.0.clone();
        let run_id: agentor::Text = self.run_id.as_str().into();
        let mut envelope = Envelope::for_run(Some(run_id.clone()));
        let mut next = 0u64;
        let mut restamp = agentor::Restamp::new();
        let mut append = |writer: &RedisRunWriter, item: EventResult| {
            let mut event: Event = envelope.event(item);
            event.seq = next;
            // The stream's run, whatever run the pipeline named: readers
            // tell the runs they merge apart by it.
            restamp.apply(&mut event.origin, |o| o.run_id = Some(run_id.clone()));
            next += 1;
            let end = matches!(event.kind, EventKind::RunEnd { .. });
            writer.append(vec![event]);
            end
        };
        let mut events = pin!(events);
        let mut ended = false;
        while !ended {
            wait_for_room(&shared).await;
            let item = tokio::select! {
                biased;
                () = cancel.cancelled() => {
                    ended = append(&writer, Ok(Event::run_end(RunStatus::Cancelled)));
                    continue;
                }
                item = events.next() => item,
            };
            ended = match item {
                Some(item) => append(&writer, item),
                None => {
                    append(
                        &writer,
                        Err(agentor::Error::internal(
                            "the stream ended without a run end",
                        )),
                    );
                    append(&writer, Ok(Event::run_end(RunStatus::Failed)))
                }
            };
        }
        drop(writer);
        flushed(&shared).await?;
        Ok(next)
    }
}

/// Waits while the queue is half full, in events or bytes (half: an event
/// that fits then always fits in the rest, so the writer never drops one).
async fn wait_for_room(shared: &Arc<Shared>) {
    let (max_events, max_bytes) = shared.bounds();
    loop {
        let mut drained = pin!(shared.drained.notified());
        drained.as_mut().enable();
        let (events, bytes) = shared.queued();
        if (events < max_events / 2 + 1 && bytes <= max_bytes / 2)
            || shared.finished.load(Ordering::Acquire)
        {
            return;
        }
        drained.await;
    }
}

/// Waits until the writer task wrote everything or gave up.
async fn flushed(shared: &Arc<Shared>) -> Result<(), LogError> {
    loop {
        let mut drained = pin!(shared.drained.notified());
        drained.as_mut().enable();
        let (events, _) = shared.queued();
        if shared.finished.load(Ordering::Acquire) {
            return if events == 0 {
                Ok(())
            } else {
                Err(LogError::Unavailable(format!(
                    "{events} events could not be written to Redis"
                )))
            };
        }
        drained.await;
    }
}
