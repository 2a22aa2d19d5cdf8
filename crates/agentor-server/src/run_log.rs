//! [`MemoryLog`], the in-memory [`EventLog`]: the bounded replay log of each
//! streamed run ([`RunLog`]) and the table that finds it by run id
//! ([`RunRegistry`]). One process only; the default.
//!
//! Bounds (see `docs/reliability.md`): a log keeps its last
//! `ServerConfig::replay_events` events (default 1024) and at most
//! `ServerConfig::replay_bytes` of them (default 1 MiB, by
//! [`Event::size_bytes`]); an ended run's log is kept
//! `ServerConfig::replay_retention` (default 5 min) after its end; the
//! registry holds at most `4 × max_runs` logs (default 256) and makes room by
//! evicting the oldest ended log. Live runs are at most `max_runs` (they hold
//! a run permit), so room can always be made.
//!
//! All logs together hold at most `ServerConfig::replay_total_bytes`
//! (default 64 MiB): a new run first evicts the oldest ended logs to get
//! under it, and a live log that grows while it is spent drops its own
//! oldest events. Either way a reader asking for what was dropped gets the
//! `410 gone` of a ring that wrapped. Each log keeps at least its newest
//! event, so a run end is never lost.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use agentor::{Event, EventKind};
use futures_util::future::BoxFuture;
use futures_util::{FutureExt, StreamExt};
use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::event_body::COALESCE_EVENTS;
use crate::event_log::{EventBatches, EventLog, LogError, RunWriter};

/// The events of one run as they were sent, in a ring of bounded size.
#[derive(Debug)]
pub(crate) struct RunLog {
    /// The key of the log in its registry (shared with the map's key).
    run_id: Arc<str>,
    state: Mutex<LogState>,
    /// Woken on every append, so followers never poll.
    appended: Notify,
    /// How many events the ring keeps.
    capacity: usize,
    /// How many bytes of events the ring keeps (at least its newest event).
    max_bytes: usize,
    /// The bytes of every log of the registry, shared.
    budget: Arc<Budget>,
    /// Readers attached (`GET /runs/{id}/events`); a run kept alive after a
    /// disconnect stays alive while one is attached.
    followers: AtomicUsize,
    /// Stops the run: cancelled by `POST /runs/{id}/cancel`, and by the
    /// server's shutdown (a child of its token).
    cancel: CancellationToken,
}

#[derive(Debug)]
struct LogState {
    events: VecDeque<Event>,
    /// The id of `events[0]`; ids are contiguous from there.
    first_id: u64,
    /// When the run end was appended.
    ended_at: Option<Instant>,
    /// [`Event::size_bytes`] of `events`.
    bytes: usize,
}

type Logs = Arc<Mutex<Table>>;

/// The logs of a registry by run id, and the ended ones in the order they
/// ended: expiry and eviction take the oldest ended log from the front, so
/// their cost does not grow with the number of live runs (a scan of every
/// log on each append or new run made 10,000 live streams quadratic).
#[derive(Debug, Default)]
struct Table {
    logs: HashMap<Arc<str>, Arc<RunLog>>,
    /// When each ended log ended, oldest first. Two runs ending at once
    /// may be pushed in either order: an expiry waits microseconds longer.
    ended: VecDeque<(Instant, Arc<str>)>,
}

impl Table {
    /// Removes the oldest ended log; `false` when no log has ended.
    fn evict_oldest_ended(&mut self) -> bool {
        let Some((_, run_id)) = self.ended.pop_front() else {
            return false;
        };
        // A live log registered again under the id stays.
        if self
            .logs
            .get(&run_id)
            .is_some_and(|log| log.ended_at().is_some())
        {
            self.logs.remove(&run_id);
        }
        true
    }

    /// Removes the logs that ended `retention` ago or more: lazily, on
    /// access, so no background task is needed.
    fn evict_expired(&mut self, retention: Duration) {
        let now = Instant::now();
        while self
            .ended
            .front()
            .is_some_and(|(at, _)| now.saturating_duration_since(*at) >= retention)
        {
            self.evict_oldest_ended();
        }
    }
}

/// The bytes held by all the logs of a registry, against their bound.
#[derive(Debug)]
struct Budget {
    used: AtomicUsize,
    max: usize,
    /// The registry's logs, to evict ended ones when the budget is spent
    /// (weak: the logs hold the budget).
    logs: std::sync::Weak<Mutex<Table>>,
}

impl Budget {
    fn new(max: usize, logs: &Logs) -> Arc<Self> {
        Arc::new(Budget {
            used: AtomicUsize::new(0),
            max: max.max(1),
            logs: Arc::downgrade(logs),
        })
    }

    fn spent(&self) -> bool {
        self.used.load(Ordering::Relaxed) > self.max
    }

    /// Evicts ended logs, the oldest first, until the budget is not spent.
    /// Takes the registry's lock: never call it holding a log's.
    fn evict_ended(&self) {
        if let Some(logs) = self.logs.upgrade() {
            evict_ended(&mut lock_logs(&logs), self, 0);
        }
    }

    /// Makes the log of `run_id`, ended at `at`, the newest evictable one.
    fn ended(&self, at: Instant, run_id: Arc<str>) {
        if let Some(logs) = self.logs.upgrade() {
            lock_logs(&logs).ended.push_back((at, run_id));
        }
    }
}

fn lock_logs(logs: &Logs) -> MutexGuard<'_, Table> {
    // Inserts and removes leave the map consistent even if a panic
    // happened elsewhere while it was held.
    logs.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Removes the oldest ended logs while the budget is spent or more than
/// `max_logs` remain (0: no count bound). Live logs are never evicted.
fn evict_ended(table: &mut Table, budget: &Budget, max_logs: usize) {
    while (max_logs > 0 && table.logs.len() >= max_logs) || budget.spent() {
        if !table.evict_oldest_ended() {
            break;
        }
    }
}

/// What a reader at some id finds in the log.
#[derive(Debug)]
pub(crate) enum Read {
    /// Events from the id asked for, contiguous, in order.
    Events(Vec<Event>),
    /// Nothing yet: wait for an append.
    Pending,
    /// The run ended and every event was read.
    End,
    /// The events from that id were dropped from the ring; the oldest
    /// kept is this one.
    Gone { oldest: u64 },
}

impl RunLog {
    fn new(
        run_id: Arc<str>,
        limits: Limits,
        budget: Arc<Budget>,
        cancel: CancellationToken,
    ) -> Self {
        RunLog {
            run_id,
            state: Mutex::new(LogState {
                events: VecDeque::new(),
                first_id: 0,
                ended_at: None,
                bytes: 0,
            }),
            appended: Notify::new(),
            capacity: limits.events,
            max_bytes: limits.bytes,
            budget,
            followers: AtomicUsize::new(0),
            cancel,
        }
    }

    /// Asks the run's producer to stop; it drops the run and appends a
    /// `cancelled` run end. Returns `false` when the run had already ended.
    pub(crate) fn cancel(&self) -> bool {
        if self.ended_at().is_some() {
            return false;
        }
        self.cancel.cancel();
        true
    }

    fn lock(&self) -> MutexGuard<'_, LogState> {
        // A panic while holding the lock cannot leave the ring inconsistent
        // (each operation is a push/pop pair), so a poisoned lock is usable.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends events already numbered by the run's body (ids contiguous
    /// with the ones before) and wakes the followers.
    pub(crate) fn append(&self, events: impl IntoIterator<Item = Event>) {
        let mut events = events.into_iter();
        let mut ended = None;
        while let Appended::BudgetSpent = self.append_some(&mut events, &mut ended) {
            self.pay_for_budget();
        }
        // Without this log's lock: the registry's is taken first elsewhere.
        if let Some(at) = ended {
            self.budget.ended(at, self.run_id.clone());
        }
        self.appended.notify_waiters();
    }

    /// Appends until the events end, a run end was appended, or the shared
    /// budget is spent (the caller makes room without this log's lock held).
    /// Sets `ended` when it appends the run end.
    fn append_some(
        &self,
        events: &mut impl Iterator<Item = Event>,
        ended: &mut Option<Instant>,
    ) -> Appended {
        let mut state = self.lock();
        for event in events {
            if state.ended_at.is_some() {
                // Nothing follows a run end.
                return Appended::All;
            }
            if matches!(event.kind, EventKind::RunEnd { .. }) {
                let now = Instant::now();
                state.ended_at = Some(now);
                *ended = Some(now);
            }
            if state.events.len() == self.capacity {
                self.pop_oldest(&mut state);
            }
            let size = event.size_bytes();
            state.bytes += size;
            self.budget.used.fetch_add(size, Ordering::Relaxed);
            state.events.push_back(event);
            while state.events.len() > 1 && state.bytes > self.max_bytes {
                self.pop_oldest(&mut state);
            }
            if self.budget.spent() {
                return Appended::BudgetSpent;
            }
        }
        Appended::All
    }

    /// Brings the shared budget back under its bound: ended runs' logs go
    /// first (the oldest first); if that is not enough, this log drops its
    /// own oldest events.
    fn pay_for_budget(&self) {
        self.budget.evict_ended();
        let mut state = self.lock();
        while state.events.len() > 1 && self.budget.spent() {
            self.pop_oldest(&mut state);
        }
    }

    fn pop_oldest(&self, state: &mut LogState) {
        if let Some(event) = state.events.pop_front() {
            let size = event.size_bytes();
            state.bytes -= size;
            self.budget.used.fetch_sub(size, Ordering::Relaxed);
            state.first_id += 1;
        }
    }

    /// Up to `max` events from id `from`.
    pub(crate) fn read(&self, from: u64, max: usize) -> Read {
        let state = self.lock();
        if from < state.first_id {
            return Read::Gone {
                oldest: state.first_id,
            };
        }
        let next_id = state.first_id + state.events.len() as u64;
        if from >= next_id {
            return if state.ended_at.is_some() {
                Read::End
            } else {
                Read::Pending
            };
        }
        // `from - first_id` < len, which is a usize.
        let start = usize::try_from(from - state.first_id).unwrap_or(usize::MAX);
        Read::Events(state.events.iter().skip(start).take(max).cloned().collect())
    }

    /// The id of the oldest event kept and of the next one to come.
    fn bounds(&self) -> (u64, u64) {
        let state = self.lock();
        (state.first_id, state.first_id + state.events.len() as u64)
    }

    fn ended_at(&self) -> Option<Instant> {
        self.lock().ended_at
    }

    /// Completes after the next append. Create it, [`enable`] it, then check
    /// the log: an append in between is not missed.
    ///
    /// [`enable`]: tokio::sync::futures::Notified::enable
    pub(crate) fn appended(&self) -> tokio::sync::futures::Notified<'_> {
        self.appended.notified()
    }

    /// Counts a reader as attached until the guard is dropped.
    pub(crate) fn follow(self: &Arc<Self>) -> FollowerGuard {
        self.followers.fetch_add(1, Ordering::SeqCst);
        FollowerGuard(self.clone())
    }

    pub(crate) fn has_followers(&self) -> bool {
        self.followers.load(Ordering::SeqCst) > 0
    }
}

impl Drop for RunLog {
    fn drop(&mut self) {
        let bytes = self.lock().bytes;
        self.budget.used.fetch_sub(bytes, Ordering::Relaxed);
    }
}

/// How far [`RunLog::append_some`] got.
enum Appended {
    All,
    BudgetSpent,
}

/// The bounds of one run's log.
#[derive(Clone, Copy, Debug)]
struct Limits {
    events: usize,
    bytes: usize,
}

/// A reader attached to a [`RunLog`].
#[derive(Debug)]
pub(crate) struct FollowerGuard(Arc<RunLog>);

impl Drop for FollowerGuard {
    fn drop(&mut self) {
        self.0.followers.fetch_sub(1, Ordering::SeqCst);
    }
}

impl RunWriter for RunLog {
    fn append(&self, events: Vec<Event>) {
        RunLog::append(self, events);
    }

    fn cancel_token(&self) -> &CancellationToken {
        &self.cancel
    }

    fn has_followers(&self) -> bool {
        RunLog::has_followers(self)
    }
}

/// Run id → replay log, shared by the routes.
#[derive(Clone, Debug)]
pub(crate) struct RunRegistry {
    logs: Logs,
    per_run: Limits,
    budget: Arc<Budget>,
    retention: Duration,
    max_logs: usize,
}

impl RunRegistry {
    pub(crate) fn new(events_per_run: usize, retention: Duration, max_logs: usize) -> Self {
        let logs = Logs::default();
        RunRegistry {
            budget: Budget::new(DEFAULT_TOTAL_BYTES, &logs),
            logs,
            per_run: Limits {
                events: events_per_run.max(1),
                bytes: DEFAULT_BYTES_PER_RUN,
            },
            retention,
            max_logs: max_logs.max(1),
        }
    }

    /// The same registry with byte bounds: per run, and for all logs.
    fn with_bytes(mut self, per_run: usize, total: usize) -> Self {
        self.per_run.bytes = per_run.max(1);
        self.budget = Budget::new(total, &self.logs);
        self
    }

    fn lock(&self) -> MutexGuard<'_, Table> {
        lock_logs(&self.logs)
    }

    /// A new, empty log for `run_id`, making room first. `cancel` stops the
    /// run (give it a child of the shutdown's token).
    pub(crate) fn register(&self, run_id: &str, cancel: CancellationToken) -> Arc<RunLog> {
        let run_id: Arc<str> = run_id.into();
        let log = Arc::new(RunLog::new(
            run_id.clone(),
            self.per_run,
            self.budget.clone(),
            cancel,
        ));
        let mut table = self.lock();
        table.evict_expired(self.retention);
        // Live logs are never evicted (at most `max_runs` of them exist,
        // below the count bound; the byte bound trims them instead).
        evict_ended(&mut table, &self.budget, self.max_logs);
        table.logs.insert(run_id, log.clone());
        log
    }

    /// The log of `run_id`, unless unknown or evicted.
    pub(crate) fn get(&self, run_id: &str) -> Option<Arc<RunLog>> {
        let mut table = self.lock();
        table.evict_expired(self.retention);
        table.logs.get(run_id).cloned()
    }
}

/// The in-memory [`EventLog`] of one process: each run's last events in a
/// ring, kept a while after the run ended (the default backend).
///
/// Clones share the same logs: two routers given one `MemoryLog` serve each
/// other's runs, as instances sharing a Redis do.
///
/// ```
/// use std::time::Duration;
/// use agentor_server::event_log::MemoryLog;
/// use agentor_server::ServerConfig;
///
/// // 1024 events per run, kept 5 min after the run ended, 256 runs at most.
/// let log = MemoryLog::new(1024, Duration::from_secs(300), 256);
/// let config = ServerConfig::default().event_log(log);
/// # let _ = config;
/// ```
#[derive(Clone, Debug)]
pub struct MemoryLog {
    registry: RunRegistry,
}

/// The default of [`MemoryLog::max_bytes`]' bound per run: 1 MiB.
pub const DEFAULT_BYTES_PER_RUN: usize = 1 << 20;
/// The default of [`MemoryLog::max_bytes`]' bound for all runs: 64 MiB.
pub const DEFAULT_TOTAL_BYTES: usize = 64 << 20;

impl MemoryLog {
    /// Keeps the last `events_per_run` events of each run (at least 1),
    /// ended runs for `retention`, and `max_runs` logs at most (the oldest
    /// ended one goes first; live ones are never evicted). The byte bounds
    /// are the defaults ([`DEFAULT_BYTES_PER_RUN`], [`DEFAULT_TOTAL_BYTES`]).
    pub fn new(events_per_run: usize, retention: Duration, max_runs: usize) -> Self {
        MemoryLog {
            registry: RunRegistry::new(events_per_run, retention, max_runs),
        }
    }

    /// Bounds the bytes kept ([`Event::size_bytes`]): `per_run` for each
    /// run's log and `total` for all of them. Past `per_run`, a log drops
    /// its oldest events; past `total`, a new run first evicts the oldest
    /// ended logs, and a live log that grows drops its own oldest events.
    /// A reader asking for a dropped event gets `410 gone`; each log keeps
    /// at least its newest event.
    ///
    /// ```
    /// use std::time::Duration;
    /// use agentor_server::event_log::MemoryLog;
    ///
    /// let log = MemoryLog::new(1024, Duration::from_secs(300), 256)
    ///     .max_bytes(256 * 1024, 16 << 20);
    /// # let _ = log;
    /// ```
    #[must_use]
    pub fn max_bytes(mut self, per_run: usize, total: usize) -> Self {
        self.registry = self.registry.with_bytes(per_run, total);
        self
    }
}

impl EventLog for MemoryLog {
    fn start(&self, run_id: &str, cancel: CancellationToken) -> Arc<dyn RunWriter> {
        self.registry.register(run_id, cancel)
    }

    fn read(&self, run_id: &str, from: u64) -> BoxFuture<'_, Result<EventBatches, LogError>> {
        let result = self
            .registry
            .get(run_id)
            .ok_or(LogError::UnknownRun)
            .and_then(|log| {
                let (oldest, next) = log.bounds();
                if from < oldest {
                    return Err(LogError::Gone { oldest });
                }
                if from > next {
                    return Err(LogError::NotYet { next });
                }
                Ok(follow(log, from))
            });
        std::future::ready(result).boxed()
    }

    fn cancel(&self, run_id: &str) -> BoxFuture<'_, Result<(), LogError>> {
        let result = match self.registry.get(run_id) {
            None => Err(LogError::UnknownRun),
            Some(log) if !log.cancel() => Err(LogError::RunEnded),
            Some(_) => Ok(()),
        };
        std::future::ready(result).boxed()
    }
}

/// A reader of `log` from id `from`: attached (for the resume window)
/// until the stream is dropped.
fn follow(log: Arc<RunLog>, from: u64) -> EventBatches {
    struct Reader {
        _guard: FollowerGuard,
        log: Arc<RunLog>,
        cursor: u64,
        done: bool,
    }
    let reader = Reader {
        _guard: log.follow(),
        log,
        cursor: from,
        done: false,
    };
    futures_util::stream::unfold(reader, |mut reader| async move {
        if reader.done {
            return None;
        }
        let log = reader.log.clone();
        loop {
            let appended = log.appended();
            let mut appended = std::pin::pin!(appended);
            // Registered before reading, so an append in between wakes it.
            appended.as_mut().enable();
            match reader.log.read(reader.cursor, COALESCE_EVENTS) {
                Read::Events(events) => {
                    reader.cursor += events.len() as u64;
                    reader.done = events
                        .last()
                        .is_some_and(|e| matches!(e.kind, EventKind::RunEnd { .. }));
                    return Some((Ok(events), reader));
                }
                Read::End => return None,
                Read::Gone { oldest } => {
                    reader.done = true;
                    let from = reader.cursor;
                    return Some((Err(LogError::FellBehind { from, oldest }), reader));
                }
                // Unfold keeps this future across polls, so a caller that
                // gives up waiting (for a heartbeat) loses nothing.
                Read::Pending => appended.await,
            }
        }
    })
    .boxed()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use agentor::RunStatus;

    use super::*;

    fn delta(id: u64) -> Event {
        Event::text_delta("x").with_seq(id)
    }

    fn ids(read: Read) -> Vec<u64> {
        match read {
            Read::Events(events) => events.iter().map(|e| e.seq).collect(),
            other => panic!("{other:?}"),
        }
    }

    fn log(events: usize, bytes: usize, budget: &Arc<Budget>) -> RunLog {
        let limits = Limits { events, bytes };
        RunLog::new(
            "run".into(),
            limits,
            budget.clone(),
            CancellationToken::new(),
        )
    }

    fn big(id: u64) -> Event {
        Event::text_delta("x".repeat(1000)).with_seq(id)
    }

    #[test]
    fn the_ring_keeps_the_last_events_and_says_gone_before() {
        let log = log(3, usize::MAX, &Budget::new(usize::MAX, &Logs::default()));
        assert!(matches!(log.read(0, 10), Read::Pending));
        log.append((0..5).map(delta));
        assert_eq!(log.bounds(), (2, 5));
        assert!(matches!(log.read(1, 10), Read::Gone { oldest: 2 }));
        assert_eq!(ids(log.read(2, 10)), [2, 3, 4]);
        assert_eq!(ids(log.read(3, 1)), [3]);
        assert!(matches!(log.read(5, 10), Read::Pending));
        log.append([Event::run_end(RunStatus::Completed).with_seq(5)]);
        // Nothing follows a run end.
        log.append([delta(6)]);
        assert_eq!(ids(log.read(5, 10)), [5]);
        assert!(matches!(log.read(6, 10), Read::End));
    }

    #[test]
    fn a_full_registry_evicts_the_oldest_ended_log() {
        let registry = RunRegistry::new(8, Duration::from_secs(300), 2);
        let first = registry.register("a", CancellationToken::new());
        let _live = registry.register("b", CancellationToken::new());
        first.append([Event::run_end(RunStatus::Completed)]);
        registry.register("c", CancellationToken::new());
        assert!(registry.get("a").is_none());
        assert!(registry.get("b").is_some());
        assert!(registry.get("c").is_some());
        // Only live logs: none is evicted (live runs are bounded by the
        // run limit instead).
        registry.register("d", CancellationToken::new());
        assert!(registry.get("b").is_some());
        assert!(registry.get("d").is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn ended_logs_expire_oldest_first_and_live_ones_stay() {
        let retention = Duration::from_secs(300);
        let registry = RunRegistry::new(8, retention, 100);
        let first = registry.register("first", CancellationToken::new());
        let _live = registry.register("live", CancellationToken::new());
        let second = registry.register("second", CancellationToken::new());
        first.append([Event::run_end(RunStatus::Completed)]);
        tokio::time::advance(Duration::from_secs(100)).await;
        second.append([Event::run_end(RunStatus::Completed)]);
        tokio::time::advance(Duration::from_secs(200)).await;
        assert!(registry.get("first").is_none(), "ended 300 s ago");
        assert!(registry.get("second").is_some(), "ended 200 s ago");
        tokio::time::advance(Duration::from_secs(100)).await;
        assert!(registry.get("second").is_none());
        assert!(registry.get("live").is_some(), "a live log never expires");
    }

    #[test]
    fn an_id_registered_again_is_not_evicted_for_its_first_run() {
        let registry = RunRegistry::new(8, Duration::ZERO, 100);
        let first = registry.register("a", CancellationToken::new());
        let again = registry.register("a", CancellationToken::new());
        // The first run's end is past its (zero) retention at once.
        first.append([Event::run_end(RunStatus::Completed)]);
        assert!(registry
            .get("a")
            .is_some_and(|log| Arc::ptr_eq(&log, &again)));
    }

    #[test]
    fn the_ring_keeps_at_most_its_bytes_and_always_its_newest_event() {
        let budget = Budget::new(usize::MAX, &Logs::default());
        let size = big(0).size_bytes();
        let ring = log(1024, 3 * size, &budget);
        ring.append((0..10).map(big));
        assert_eq!(ring.bounds(), (7, 10));
        assert!(matches!(ring.read(6, 10), Read::Gone { oldest: 7 }));
        assert_eq!(budget.used.load(Ordering::Relaxed), 3 * size);
        // One event larger than the bound is kept alone.
        ring.append([Event::text_delta("y".repeat(10 * size)).with_seq(10)]);
        assert_eq!(ring.bounds(), (10, 11));
        drop(ring);
        assert_eq!(
            budget.used.load(Ordering::Relaxed),
            0,
            "a dropped log frees its bytes"
        );
    }

    #[test]
    fn all_logs_share_the_total_and_new_runs_evict_ended_logs_first() {
        let size = big(0).size_bytes();
        let registry =
            RunRegistry::new(1024, Duration::from_secs(300), 100).with_bytes(usize::MAX, 10 * size);
        let ended = registry.register("ended", CancellationToken::new());
        ended.append((0..6).map(big));
        ended.append([Event::run_end(RunStatus::Completed).with_seq(6)]);
        // (A log still read is still memory: only a dropped one frees.)
        drop(ended);
        let live = registry.register("live", CancellationToken::new());
        live.append((0..6).map(big));
        // Over the total: the ended log was evicted, the live one kept all.
        assert!(registry.get("ended").is_none());
        assert_eq!(live.bounds(), (0, 6));
        assert!(!registry.budget.spent());
        // With no ended log left to evict, the growing live log pays.
        live.append((6..12).map(big));
        assert_eq!(live.bounds(), (2, 12));
        assert!(!registry.budget.spent());
        assert!(matches!(live.read(0, 10), Read::Gone { oldest: 2 }));
    }
}
