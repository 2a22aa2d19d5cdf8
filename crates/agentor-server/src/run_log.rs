//! [`RunLog`] and [`RunRegistry`]: the bounded replay log of each streamed
//! run, and the table that finds it by run id.
//!
//! Bounds (see `docs/server.md`): a log keeps its last
//! `ServerConfig::replay_events` events (default 1024); an ended run's log is
//! kept `ServerConfig::replay_retention` (default 5 min) after its end; the
//! registry holds at most `4 × max_runs` logs (default 256) and makes room by
//! evicting the oldest ended log. Live runs are at most `max_runs` (they hold
//! a run permit), so room can always be made.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use agentor::{Event, EventKind};
use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

/// The events of one run as they were sent, in a ring of bounded size.
#[derive(Debug)]
pub(crate) struct RunLog {
    state: Mutex<LogState>,
    /// Woken on every append, so followers never poll.
    appended: Notify,
    /// How many events the ring keeps.
    capacity: usize,
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
    fn new(capacity: usize, cancel: CancellationToken) -> Self {
        RunLog {
            state: Mutex::new(LogState {
                events: VecDeque::new(),
                first_id: 0,
                ended_at: None,
            }),
            appended: Notify::new(),
            capacity,
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

    /// Whether the run was asked to stop (or the server is shutting down).
    pub(crate) fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// Completes once the run is asked to stop.
    pub(crate) async fn cancelled(&self) {
        self.cancel.cancelled().await;
    }

    /// The same, owned, for a stream to hold.
    pub(crate) fn cancelled_owned(&self) -> WaitForCancellationFutureOwned {
        self.cancel.clone().cancelled_owned()
    }

    fn lock(&self) -> MutexGuard<'_, LogState> {
        // A panic while holding the lock cannot leave the ring inconsistent
        // (each operation is a push/pop pair), so a poisoned lock is usable.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends events already numbered by the run's body (ids contiguous
    /// with the ones before) and wakes the followers.
    pub(crate) fn append(&self, events: impl IntoIterator<Item = Event>) {
        {
            let mut state = self.lock();
            for event in events {
                if state.ended_at.is_some() {
                    // Nothing follows a run end.
                    break;
                }
                if matches!(event.kind, EventKind::RunEnd { .. }) {
                    state.ended_at = Some(Instant::now());
                }
                if state.events.len() == self.capacity {
                    state.events.pop_front();
                    state.first_id += 1;
                }
                state.events.push_back(event);
            }
        }
        self.appended.notify_waiters();
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
    pub(crate) fn bounds(&self) -> (u64, u64) {
        let state = self.lock();
        (state.first_id, state.first_id + state.events.len() as u64)
    }

    /// Whether the run end was appended.
    pub(crate) fn has_ended(&self) -> bool {
        self.ended_at().is_some()
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

/// A reader attached to a [`RunLog`].
#[derive(Debug)]
pub(crate) struct FollowerGuard(Arc<RunLog>);

impl Drop for FollowerGuard {
    fn drop(&mut self) {
        self.0.followers.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Run id → replay log, shared by the routes.
#[derive(Clone, Debug)]
pub(crate) struct RunRegistry {
    logs: Arc<Mutex<HashMap<String, Arc<RunLog>>>>,
    events_per_run: usize,
    retention: Duration,
    max_logs: usize,
}

impl RunRegistry {
    pub(crate) fn new(events_per_run: usize, retention: Duration, max_logs: usize) -> Self {
        RunRegistry {
            logs: Arc::default(),
            events_per_run: events_per_run.max(1),
            retention,
            max_logs: max_logs.max(1),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Arc<RunLog>>> {
        // Inserts and removes leave the map consistent even if a panic
        // happened elsewhere while it was held.
        self.logs.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A new, empty log for `run_id`, making room first. `cancel` stops the
    /// run (give it a child of the shutdown's token).
    pub(crate) fn register(&self, run_id: &str, cancel: CancellationToken) -> Arc<RunLog> {
        let log = Arc::new(RunLog::new(self.events_per_run, cancel));
        let mut logs = self.lock();
        self.evict_expired(&mut logs);
        while logs.len() >= self.max_logs {
            // The oldest ended log goes first; live logs are never evicted
            // (at most `max_runs` of them exist, below the bound).
            let oldest = logs
                .iter()
                .filter_map(|(id, log)| log.ended_at().map(|at| (at, id.clone())))
                .min();
            match oldest {
                Some((_, id)) => {
                    logs.remove(&id);
                }
                None => break,
            }
        }
        logs.insert(run_id.to_owned(), log.clone());
        log
    }

    /// The log of `run_id`, unless unknown or evicted.
    pub(crate) fn get(&self, run_id: &str) -> Option<Arc<RunLog>> {
        let mut logs = self.lock();
        self.evict_expired(&mut logs);
        logs.get(run_id).cloned()
    }

    /// Evicts the ended logs past retention: lazily, on access, so no
    /// background task is needed.
    fn evict_expired(&self, logs: &mut HashMap<String, Arc<RunLog>>) {
        let now = Instant::now();
        logs.retain(|_, log| {
            log.ended_at()
                .is_none_or(|at| now.saturating_duration_since(at) < self.retention)
        });
    }
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

    #[test]
    fn the_ring_keeps_the_last_events_and_says_gone_before() {
        let log = RunLog::new(3, CancellationToken::new());
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
}
