//! The reader side: a run's stream from an id, then live with `XREAD BLOCK`
//! on a connection of the reader's own, until the run end; a lapsed lease
//! ends the run `failed` in the stream itself.

use std::sync::Arc;

use agentor::wire::native::Decoder;
use agentor::{ErrorKind, Event, EventKind, RunStatus};
use agentor_server::event_log::{EventBatches, LogError};
use futures_util::StreamExt;
use redis::aio::MultiplexedConnection;
use redis::streams::{StreamRangeReply, StreamReadReply};
use redis::AsyncConnectionConfig;
use tokio::sync::OwnedSemaphorePermit;

use crate::entry::{decode_entry, decode_entry_with, is_run_end};
use crate::keys::{entry_id, event_id, valid_run_id, RunKeys};
use crate::log::{unavailable, Inner};
use crate::writer::millis;

/// How long a new reader waits for a stream that does not reach its
/// position yet (writes in flight from the producer), and how often it looks.
const CATCH_UP: std::time::Duration = std::time::Duration::from_millis(500);
const CATCH_UP_POLL: std::time::Duration = std::time::Duration::from_millis(10);

/// The most entries one `XREAD` returns (one body chunk's worth).
const MAX_READ: usize = 256;

/// The message of the error event that ends a run whose producer was lost.
pub const PRODUCER_LOST: &str =
    "interrupted: the instance producing this run stopped renewing its lease (it died or lost Redis)";

/// Appends the last events of a run no producer holds (an error, then a
/// run end), unless its stream moved on or its lease is held again.
const END_ORPHAN: &str = "local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1) \
    if #last == 0 or last[1][1] ~= ARGV[1] then return 0 end \
    if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end \
    redis.call('XADD', KEYS[1], ARGV[2], 'e', ARGV[3]) \
    redis.call('XADD', KEYS[1], ARGV[4], 'e', ARGV[5]) \
    redis.call('PEXPIRE', KEYS[1], ARGV[6]) \
    return 1";

/// Ends a run whose producer holds no lease, in the stream itself: `error`
/// then a run end with `status`, at the two ids after `last` (the stream's
/// last entry, `last_event`, whose source and run id they take). In one
/// script, so it lands only if the stream still ends at `last` and no
/// producer took the lease meanwhile; whoever ended the run first wins,
/// and the others' attempts are no-ops. Returns whether it landed.
pub(crate) async fn end_orphan(
    inner: &Inner,
    keys: &RunKeys,
    last: u64,
    last_event: &Event,
    error: Event,
    status: RunStatus,
) -> Result<bool, LogError> {
    let stamp = |e: Event| {
        let e = match &last_event.origin.source {
            Some(source) => e.with_source(source.clone()),
            None => e,
        };
        match &last_event.origin.run_id {
            Some(run_id) => e.with_run_id(run_id.clone()),
            None => e,
        }
    };
    let error = stamp(error).with_seq(last + 1);
    let end = stamp(Event::new(EventKind::RunEnd { status })).with_seq(last + 2);
    let encode = |event: &Event| {
        let mut buf = bytes::BytesMut::new();
        agentor::wire::native::encode(event, &mut buf);
        buf.freeze()
    };
    let mut conn = inner.conn.clone();
    let landed: i64 = redis::cmd("EVAL")
        .arg(END_ORPHAN)
        .arg(2)
        .arg(&keys.stream)
        .arg(&keys.lease)
        .arg(entry_id(last))
        .arg(entry_id(error.seq))
        .arg(encode(&error).as_ref())
        .arg(entry_id(end.seq))
        .arg(encode(&end).as_ref())
        .arg(millis(inner.config.retention))
        .query_async(&mut conn)
        .await
        .map_err(unavailable)?;
    Ok(landed == 1)
}

/// The first and last entry of a run's stream, as event ids and events.
pub(crate) async fn bounds(
    inner: &Inner,
    keys: &RunKeys,
) -> Result<Option<((u64, Event), (u64, Event))>, LogError> {
    let mut conn = inner.conn.clone();
    let (first, last): (StreamRangeReply, StreamRangeReply) = redis::pipe()
        .cmd("XRANGE")
        .arg(&keys.stream)
        .arg("-")
        .arg("+")
        .arg("COUNT")
        .arg(1)
        .cmd("XREVRANGE")
        .arg(&keys.stream)
        .arg("+")
        .arg("-")
        .arg("COUNT")
        .arg(1)
        .query_async(&mut conn)
        .await
        .map_err(unavailable)?;
    let parse = |reply: &StreamRangeReply| {
        let entry = reply.ids.first()?;
        Some((event_id(&entry.id)?, decode_entry(entry).ok()?))
    };
    Ok(parse(&first).zip(parse(&last)))
}

/// Whether the run's producer holds its lease.
pub(crate) async fn leased(inner: &Inner, keys: &RunKeys) -> Result<bool, LogError> {
    let mut conn = inner.conn.clone();
    redis::cmd("EXISTS")
        .arg(&keys.lease)
        .query_async(&mut conn)
        .await
        .map_err(unavailable)
}

pub(crate) async fn open(
    inner: Arc<Inner>,
    run_id: String,
    from: u64,
) -> Result<EventBatches, LogError> {
    if !valid_run_id(&run_id) {
        return Err(LogError::UnknownRun);
    }
    let keys = RunKeys::new(&inner.config.prefix, &run_id);
    // The producer's client is ahead of Redis by the writes in flight: a
    // client that saw id N and comes here at once may find the stream
    // behind N, or not created yet. Give the writes a moment to land.
    let deadline = tokio::time::Instant::now() + CATCH_UP;
    let bounds = loop {
        let found = bounds(&inner, &keys).await?;
        let behind = match &found {
            None => true,
            Some((_, (last, _))) => from > last + 1,
        };
        if !behind || tokio::time::Instant::now() >= deadline {
            break found;
        }
        tokio::time::sleep(CATCH_UP_POLL).await;
    };
    match bounds {
        Some(((oldest, _), _)) if from < oldest => return Err(LogError::Gone { oldest }),
        Some((_, (last, _))) if from > last + 1 => return Err(LogError::NotYet { next: last + 1 }),
        Some(_) => {}
        // Started, nothing written yet (the response's headers can reach
        // a client before the first append reaches Redis): the lease says
        // the run exists.
        None if leased(&inner, &keys).await? => {
            if from > 0 {
                return Err(LogError::NotYet { next: 0 });
            }
        }
        None => return Err(LogError::UnknownRun),
    }
    let permit = inner.readers.clone().try_acquire_owned().map_err(|_| {
        LogError::Unavailable(format!(
            "this instance serves {} readers already",
            inner.config.max_readers
        ))
    })?;
    // A connection of its own: XREAD BLOCK holds a connection for the
    // whole block, and its response timeout must outlast the block.
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(inner.config.timeout)
        .set_response_timeout(inner.config.block() + inner.config.timeout);
    let blocking = inner
        .client
        .get_multiplexed_async_connection_with_config(&config)
        .await
        .map_err(unavailable)?;
    let reader = Reader {
        inner,
        keys,
        blocking,
        cursor: from,
        decoder: Decoder::new(),
        done: false,
        watched_at: None,
        _permit: permit,
    };
    Ok(
        futures_util::stream::unfold(reader, |mut reader| async move {
            if reader.done {
                return None;
            }
            let next = reader.next_batch().await;
            if next.is_err() {
                reader.done = true;
            }
            Some((next, reader))
        })
        .boxed(),
    )
}

struct Reader {
    inner: Arc<Inner>,
    keys: RunKeys,
    blocking: MultiplexedConnection,
    /// The id of the next event to send.
    cursor: u64,
    /// Lets the run's events share one origin, as when they were made.
    decoder: Decoder,
    done: bool,
    /// When this reader last renewed the run's watch key.
    watched_at: Option<tokio::time::Instant>,
    /// Counts against the instance's readers until dropped.
    _permit: OwnedSemaphorePermit,
}

impl Reader {
    async fn next_batch(&mut self) -> Result<Vec<Event>, LogError> {
        loop {
            let reply: Option<StreamReadReply> = redis::cmd("XREAD")
                .arg("COUNT")
                .arg(MAX_READ)
                .arg("BLOCK")
                .arg(millis(self.inner.config.block()))
                .arg("STREAMS")
                .arg(&self.keys.stream)
                // XREAD returns the entries after this id: from the cursor on.
                .arg(format!("0-{}", self.cursor))
                .query_async(&mut self.blocking)
                .await
                .map_err(unavailable)?;
            let entries = reply
                .and_then(|r| r.keys.into_iter().next())
                .map(|k| k.ids)
                .unwrap_or_default();
            if entries.is_empty() {
                self.check_producer().await?;
                continue;
            }
            let mut events = Vec::with_capacity(entries.len());
            for entry in &entries {
                let id = event_id(&entry.id);
                if id != Some(self.cursor) {
                    // A gap (trimmed past us, or events the producer could
                    // not log): never skip silently.
                    if events.is_empty() {
                        return Err(LogError::FellBehind {
                            from: self.cursor,
                            oldest: id.unwrap_or(self.cursor),
                        });
                    }
                    break;
                }
                let event =
                    decode_entry_with(&mut self.decoder, entry).map_err(LogError::Unavailable)?;
                self.cursor += 1;
                let end = is_run_end(&event);
                events.push(event);
                if end {
                    self.done = true;
                    break;
                }
            }
            if !self.done {
                self.watch().await?;
            }
            return Ok(events);
        }
    }

    /// The watch key outlives neither a lease nor the run's retention.
    fn watch_ttl(&self) -> std::time::Duration {
        self.inner.config.lease.min(self.inner.config.retention)
    }

    /// Renews the run's watch key (at most every half lease), so a producer
    /// in its resume window knows a reader still wants the run.
    async fn watch(&mut self) -> Result<(), LogError> {
        let lease = self.inner.config.lease;
        if self.watched_at.is_some_and(|at| at.elapsed() < lease / 2) {
            return Ok(());
        }
        let mut conn = self.inner.conn.clone();
        redis::cmd("SET")
            .arg(&self.keys.watch)
            .arg(1)
            .arg("PX")
            .arg(millis(self.watch_ttl()))
            .query_async::<()>(&mut conn)
            .await
            .map_err(unavailable)?;
        self.watched_at = Some(tokio::time::Instant::now());
        Ok(())
    }

    /// After a block with nothing new: marks the run watched, and if its
    /// producer's lease lapsed, ends the run in the stream itself (an
    /// error, then a `failed` run end) for every reader to read.
    async fn check_producer(&mut self) -> Result<(), LogError> {
        let mut conn = self.inner.conn.clone();
        let (lease, stream): (bool, bool) = redis::pipe()
            .cmd("EXISTS")
            .arg(&self.keys.lease)
            .cmd("EXISTS")
            .arg(&self.keys.stream)
            .cmd("SET")
            .arg(&self.keys.watch)
            .arg(1)
            .arg("PX")
            .arg(millis(self.watch_ttl()))
            .ignore()
            .query_async(&mut conn)
            .await
            .map_err(unavailable)?;
        if !stream && !lease {
            return Err(LogError::Unavailable(
                "the run's log is gone (past its retention, or Redis lost its data)".into(),
            ));
        }
        if lease || !stream {
            return Ok(());
        }
        let Some((_, (last, event))) = bounds(&self.inner, &self.keys).await? else {
            return Ok(());
        };
        if is_run_end(&event) {
            // The run end is there: the next XREAD returns it.
            return Ok(());
        }
        let error = Event::error(ErrorKind::Internal, PRODUCER_LOST);
        end_orphan(
            &self.inner,
            &self.keys,
            last,
            &event,
            error,
            RunStatus::Failed,
        )
        .await?;
        Ok(())
    }
}
