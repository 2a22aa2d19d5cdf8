//! The producer side: a run's events, queued (bounded) by the response body
//! and written to the run's stream by a task of its own, one pipeline per
//! batch; the same task keeps the run's lease alive and watches its cancel
//! key.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use agentor::Event;
use agentor_server::event_log::RunWriter;
use bytes::{Bytes, BytesMut};
use redis::streams::StreamRangeReply;
use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::entry::{decode_entry, is_run_end};
use crate::keys::{entry_id, event_id, runs_index, RunKeys};
use crate::log::Inner;

/// About how many run announcements the runs index keeps.
const INDEX_LEN: usize = 10_000;
/// The most entries one pipeline carries.
const MAX_BATCH: usize = 1024;
/// How long a writer whose run ended keeps trying to reach Redis.
const GIVE_UP_AFTER_END: Duration = Duration::from_secs(60);
/// The first and the longest pause between attempts while Redis is away.
const RETRY_MIN: Duration = Duration::from_millis(100);
const RETRY_MAX: Duration = Duration::from_secs(2);

/// Takes the lease if it is free or already ours, and renews it.
const ACQUIRE: &str = "local v = redis.call('GET', KEYS[1]) \
    if v == false or v == ARGV[1] then \
      redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 \
    end return 0";
/// Deletes the lease if it is still ours.
const RELEASE: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then \
      return redis.call('DEL', KEYS[1]) end return 0";

/// One event waiting for Redis, already encoded.
#[derive(Debug)]
struct Entry {
    id: u64,
    json: Bytes,
    end: bool,
}

#[derive(Debug, Default)]
struct Queue {
    entries: VecDeque<Entry>,
    /// The bytes of JSON in `entries`.
    bytes: usize,
    /// The run end was queued: nothing follows it.
    ended: bool,
}

/// What the response body and the writer task share.
#[derive(Debug)]
pub(crate) struct Shared {
    queue: Mutex<Queue>,
    /// Woken by each append.
    wake: Notify,
    /// Woken as written entries leave the queue, and when the writer task
    /// ends: a producer that waits for room ([`crate::RedisSink`]).
    pub(crate) drained: Notify,
    /// The writer task ended (the run end written, or it gave up).
    pub(crate) finished: AtomicBool,
    cancel: CancellationToken,
    /// A reader somewhere renewed the run's watch key lately.
    followers: AtomicBool,
    max_events: usize,
    max_bytes: usize,
}

impl Shared {
    /// What waits for Redis: events and bytes.
    pub(crate) fn queued(&self) -> (usize, usize) {
        let queue = self.lock();
        (queue.entries.len(), queue.bytes)
    }

    /// The queue's bounds: events and bytes.
    pub(crate) fn bounds(&self) -> (usize, usize) {
        (self.max_events, self.max_bytes)
    }

    fn lock(&self) -> MutexGuard<'_, Queue> {
        // Every operation leaves the queue consistent, so a panic elsewhere
        // while it was held does not make it unusable.
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The producer's handle: what [`EventLog::start`] returns.
#[derive(Debug)]
pub(crate) struct RedisRunWriter(pub(crate) Arc<Shared>);

impl RunWriter for RedisRunWriter {
    fn append(&self, events: Vec<Event>) {
        let encoded: Vec<Entry> = events
            .iter()
            .map(|event| {
                let mut buf = BytesMut::new();
                agentor::wire::native::encode(event, &mut buf);
                Entry {
                    id: event.seq,
                    json: buf.freeze(),
                    end: is_run_end(event),
                }
            })
            .collect();
        let shared = &self.0;
        {
            let mut queue = shared.lock();
            for entry in encoded {
                if queue.ended {
                    break;
                }
                // The run end always goes in, so the stream gets its
                // terminal event; the rest only within the bound (the run's
                // own client has them; remote readers see the gap).
                let full = queue.entries.len() >= shared.max_events
                    || queue.bytes + entry.json.len() > shared.max_bytes;
                if full && !entry.end {
                    continue;
                }
                queue.ended |= entry.end;
                queue.bytes += entry.json.len();
                queue.entries.push_back(entry);
            }
        }
        shared.wake.notify_one();
    }

    fn cancel_token(&self) -> &CancellationToken {
        &self.0.cancel
    }

    fn has_followers(&self) -> bool {
        self.0.followers.load(Ordering::Relaxed)
    }
}

/// Starts the log of a run: its handle, and its writer task on the current
/// runtime (without one nothing is written to Redis; the run still streams).
pub(crate) fn start(inner: &Arc<Inner>, run_id: &str, cancel: CancellationToken) -> RedisRunWriter {
    let shared = Arc::new(Shared {
        queue: Mutex::default(),
        wake: Notify::new(),
        drained: Notify::new(),
        finished: AtomicBool::new(false),
        cancel: cancel.clone(),
        followers: AtomicBool::new(false),
        max_events: inner.config.max_queued_events,
        max_bytes: inner.config.max_queued_bytes,
    });
    if let Ok(handle) = tokio::runtime::Handle::try_current() {
        inner.producers_insert(run_id, cancel);
        let task = Writer {
            inner: inner.clone(),
            shared: shared.clone(),
            keys: RunKeys::new(&inner.config.prefix, run_id),
            run_id: run_id.to_owned(),
            fence: inner.next_fence(),
        };
        handle.spawn(task.run());
    }
    RedisRunWriter(shared)
}

struct Writer {
    inner: Arc<Inner>,
    shared: Arc<Shared>,
    keys: RunKeys,
    run_id: String,
    /// This producer's fencing token, the lease's value.
    fence: String,
}

/// How a write went.
enum Wrote {
    /// The batch is in the stream; `true` if it held the run end.
    Batch(bool),
    /// The stream already ended (a reader ended it when the lease lapsed):
    /// nothing more is written.
    StreamEnded,
}

impl Writer {
    async fn run(self) {
        let lease = self.inner.config.lease;
        let mut renew = tokio::time::interval(lease / 3);
        renew.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut retry_at: Option<Instant> = None;
        let mut pause = RETRY_MIN;
        // After a failure some of a pipeline may have landed: look first.
        let mut resync = false;
        let mut ended_at: Option<Instant> = None;
        loop {
            if retry_at.is_none() {
                let batch = self.peek();
                if !batch.is_empty() {
                    match self.write(&batch, resync).await {
                        Ok(Wrote::Batch(end)) => {
                            self.pop(batch.len());
                            resync = false;
                            pause = RETRY_MIN;
                            if end {
                                break;
                            }
                            // More may be queued: write it before waiting.
                            continue;
                        }
                        Ok(Wrote::StreamEnded) => {
                            // Nothing more goes to this stream: later
                            // appends are refused, not queued for nobody.
                            let mut queue = self.shared.lock();
                            queue.entries.clear();
                            queue.bytes = 0;
                            queue.ended = true;
                            break;
                        }
                        Err(_) => {
                            resync = true;
                            retry_at = Some(Instant::now() + pause);
                            pause = (pause * 2).min(RETRY_MAX);
                        }
                    }
                }
            }
            if ended_at.is_none() && self.shared.lock().ended {
                ended_at = Some(Instant::now());
            }
            if ended_at.is_some_and(|at| at.elapsed() > GIVE_UP_AFTER_END) {
                break;
            }
            if self.abandoned() {
                // Every handle is gone and no run end came: the run is
                // lost; let the lease lapse so readers end it `failed`.
                break;
            }
            tokio::select! {
                () = self.shared.wake.notified() => {}
                _ = renew.tick() => self.renew().await,
                () = sleep_until(retry_at), if retry_at.is_some() => retry_at = None,
                // The end may already be queued while Redis is away: come
                // back to check the give-up deadline.
                () = tokio::time::sleep(RETRY_MAX), if ended_at.is_some() => {}
            }
        }
        self.inner.producers_remove(&self.run_id);
        self.shared.finished.store(true, Ordering::Release);
        self.shared.drained.notify_waiters();
    }

    /// Whether the producer dropped every handle with nothing left to
    /// write and no run end: only this task still holds the queue.
    fn abandoned(&self) -> bool {
        if Arc::strong_count(&self.shared) > 1 {
            return false;
        }
        let queue = self.shared.lock();
        queue.entries.is_empty() && !queue.ended
    }

    /// The first entries queued, to write (cheap clones of their JSON).
    fn peek(&self) -> Vec<(u64, Bytes, bool)> {
        self.shared
            .lock()
            .entries
            .iter()
            .take(MAX_BATCH)
            .map(|e| (e.id, e.json.clone(), e.end))
            .collect()
    }

    /// Drops the first `n` entries, written.
    fn pop(&self, n: usize) {
        let mut queue = self.shared.lock();
        for _ in 0..n {
            if let Some(entry) = queue.entries.pop_front() {
                queue.bytes -= entry.json.len();
            }
        }
        drop(queue);
        self.shared.drained.notify_waiters();
    }

    /// Writes a batch in one pipeline: the lease (taken or renewed), the
    /// entries at their explicit ids, the stream's TTL, and with the run
    /// end, the lease released.
    async fn write(&self, batch: &[(u64, Bytes, bool)], resync: bool) -> redis::RedisResult<Wrote> {
        let mut conn = self.inner.conn.clone();
        let config = &self.inner.config;
        let mut skip_to = 0;
        if resync {
            let last: StreamRangeReply = redis::cmd("XREVRANGE")
                .arg(&self.keys.stream)
                .arg("+")
                .arg("-")
                .arg("COUNT")
                .arg(1)
                .query_async(&mut conn)
                .await?;
            if let Some(entry) = last.ids.first() {
                if decode_entry(entry).is_ok_and(|e| is_run_end(&e)) {
                    return Ok(Wrote::StreamEnded);
                }
                if let Some(id) = event_id(&entry.id) {
                    skip_to = id + 1;
                }
            }
        }
        let mut pipe = redis::pipe();
        pipe.cmd("EVAL")
            .arg(ACQUIRE)
            .arg(1)
            .arg(&self.keys.lease)
            .arg(&self.fence)
            .arg(millis(config.lease))
            .ignore();
        let mut end = false;
        for (id, json, is_end) in batch.iter().filter(|(id, ..)| *id >= skip_to) {
            pipe.cmd("XADD")
                .arg(&self.keys.stream)
                .arg("MAXLEN")
                .arg("~")
                .arg(config.max_len)
                .arg(entry_id(*id))
                .arg("e")
                .arg(json.as_ref())
                .ignore();
            end |= *is_end;
        }
        pipe.cmd("PEXPIRE")
            .arg(&self.keys.stream)
            .arg(millis(config.retention))
            .ignore()
            .cmd("PEXPIRE")
            .arg(&self.keys.meta)
            .arg(millis(config.retention))
            .ignore();
        if batch.iter().any(|(id, ..)| *id == 0 && skip_to == 0) {
            // The run's first event: announce the run on the index, which
            // lives as long as runs keep starting.
            let index = runs_index(&config.prefix);
            pipe.cmd("XADD")
                .arg(&index)
                .arg("MAXLEN")
                .arg("~")
                .arg(INDEX_LEN)
                .arg("*")
                .arg("run")
                .arg(&self.run_id)
                .ignore()
                .cmd("PEXPIRE")
                .arg(&index)
                .arg(millis(config.retention))
                .ignore();
        }
        if end {
            pipe.cmd("EVAL")
                .arg(RELEASE)
                .arg(1)
                .arg(&self.keys.lease)
                .arg(&self.fence)
                .ignore();
        }
        pipe.query_async::<()>(&mut conn).await?;
        Ok(Wrote::Batch(batch.iter().any(|(_, _, e)| *e)))
    }

    /// Renews the lease (taking it again after a Redis restart), keeps a
    /// silent run's stream alive, and reads the cancel and watch keys.
    async fn renew(&self) {
        let mut conn = self.inner.conn.clone();
        let config = &self.inner.config;
        let reply: redis::RedisResult<(i64, bool, bool)> = redis::pipe()
            .cmd("EVAL")
            .arg(ACQUIRE)
            .arg(1)
            .arg(&self.keys.lease)
            .arg(&self.fence)
            .arg(millis(config.lease))
            .cmd("PEXPIRE")
            .arg(&self.keys.stream)
            .arg(millis(config.retention))
            .ignore()
            .cmd("PEXPIRE")
            .arg(&self.keys.meta)
            .arg(millis(config.retention))
            .ignore()
            .cmd("EXISTS")
            .arg(&self.keys.cancel)
            .cmd("EXISTS")
            .arg(&self.keys.watch)
            .query_async(&mut conn)
            .await;
        if let Ok((_, cancelled, watched)) = reply {
            if cancelled {
                self.shared.cancel.cancel();
            }
            self.shared.followers.store(watched, Ordering::Relaxed);
        }
    }
}

async fn sleep_until(at: Option<Instant>) {
    if let Some(at) = at {
        tokio::time::sleep_until(at).await;
    }
}

/// A duration in whole milliseconds, at least 1 (Redis refuses `PX 0`).
pub(crate) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis())
        .unwrap_or(u64::MAX)
        .max(1)
}
