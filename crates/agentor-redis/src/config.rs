//! [`RedisLogConfig`]: the bounds and timings of the Redis event log.

use std::time::Duration;

/// How the Redis event log bounds and times what it does; every field has a
/// documented default.
///
/// ```
/// use std::time::Duration;
/// use agentor_redis::RedisLogConfig;
///
/// let config = RedisLogConfig::default()
///     .max_len(50_000)
///     .retention(Duration::from_secs(600))
///     .lease(Duration::from_secs(3));
/// assert_eq!(config.lease_time(), Duration::from_secs(3));
/// ```
#[derive(Clone, Debug)]
pub struct RedisLogConfig {
    pub(crate) prefix: String,
    pub(crate) max_len: usize,
    pub(crate) retention: Duration,
    pub(crate) lease: Duration,
    pub(crate) max_queued_events: usize,
    pub(crate) max_queued_bytes: usize,
    pub(crate) max_readers: usize,
    pub(crate) timeout: Duration,
    pub(crate) claim_after: Duration,
}

impl Default for RedisLogConfig {
    /// Keys under `agentor:`, 10 000 entries per run (`MAXLEN ~`), kept
    /// 5 min after the run's last write, a 5 s lease, at most 65 536 events
    /// or 16 MiB queued per run while Redis is slow, 256 blocking readers
    /// per instance, 2 s for a connection or a command, a consumer group's
    /// runs claimed from a reader silent for 30 s.
    fn default() -> Self {
        RedisLogConfig {
            prefix: "agentor".into(),
            max_len: 10_000,
            retention: Duration::from_secs(300),
            lease: Duration::from_secs(5),
            max_queued_events: 65_536,
            max_queued_bytes: 16 * 1024 * 1024,
            max_readers: 256,
            timeout: Duration::from_secs(2),
            claim_after: Duration::from_secs(30),
        }
    }
}

impl RedisLogConfig {
    /// The prefix of every key and channel (default `agentor`): instances
    /// that share a prefix share their runs.
    #[must_use]
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// About how many events a run's stream keeps (`XADD MAXLEN ~`, default
    /// 10 000, at least 1): Redis trims whole nodes, so a few more may stay.
    /// A reader asking for older ones gets `410 gone`.
    #[must_use]
    pub fn max_len(mut self, events: usize) -> Self {
        self.max_len = events.max(1);
        self
    }

    /// How long a run's keys live after its last write (default 5 min,
    /// at least 1 ms): every append renews the TTL, so a finished run is
    /// readable this long after its end, then `404 unknown_run`.
    #[must_use]
    pub fn retention(mut self, retention: Duration) -> Self {
        self.retention = retention.max(Duration::from_millis(1));
        self
    }

    /// How long a producer's lease lives without renewal (default 5 s, at
    /// least 50 ms; renewed every third of it). Readers end a run whose
    /// lease expired with an error and a `failed` run end within the lease
    /// and a fifth of it more (6 s by default).
    #[must_use]
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease.max(Duration::from_millis(50));
        self
    }

    /// The lease time.
    pub fn lease_time(&self) -> Duration {
        self.lease
    }

    /// How much of a run may wait for Redis, in events and in bytes of
    /// encoded JSON (defaults 65 536 and 16 MiB). Beyond, the newest events
    /// are not logged (the run's own client still gets them); readers on
    /// other instances see the gap as an error frame, never a silent skip.
    #[must_use]
    pub fn max_queued(mut self, events: usize, bytes: usize) -> Self {
        self.max_queued_events = events.max(1);
        self.max_queued_bytes = bytes.max(1);
        self
    }

    /// How many readers (`GET /runs/{id}/events`) one instance serves at
    /// once (default 256): each holds a connection of its own for `XREAD
    /// BLOCK`. One more is answered `503`.
    #[must_use]
    pub fn max_readers(mut self, readers: usize) -> Self {
        self.max_readers = readers.max(1);
        self
    }

    /// How long connecting, or a command that does not block, may take
    /// (default 2 s).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// How long a run taken by a reader of a consumer group
    /// ([`RedisSource::group`](crate::RedisSource::group)) may go without
    /// that reader's keepalive before another reader of the group claims it
    /// (`XAUTOCLAIM`) and reads it whole (default 30 s, at least 30 ms). A
    /// reader keeps each run it reads alive every third of this, so only a
    /// reader that is gone (crashed, dropped, cut off from Redis) loses its
    /// runs, and it loses them within this time and a lease's fifth.
    #[must_use]
    pub fn claim_after(mut self, idle: Duration) -> Self {
        self.claim_after = idle.max(Duration::from_millis(30));
        self
    }

    /// How long a reader's `XREAD` blocks: a fifth of the lease, so an
    /// expired lease is noticed soon after.
    pub(crate) fn block(&self) -> Duration {
        self.lease / 5
    }
}
