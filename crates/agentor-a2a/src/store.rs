//! [`TaskStore`]: the tasks of a server, in memory, bounded, with live
//! fan-out to subscribers.
//!
//! Bounds:
//! - at most `max_tasks` tasks, holding at most `max_bytes` (64 MiB by
//!   default) as [`Task::retained_bytes`] counts them: their messages,
//!   artifacts and metadata. A new task evicts finished tasks, the one that
//!   finished first first, until both fit; when only running tasks (or
//!   tasks still being read by a [`Subscription`]) are left, the new one is
//!   refused with `-32603` ("task store is full") rather than waiting. A
//!   message larger than `max_bytes` on its own is refused with `-32602`.
//!   Running tasks grow as they stream; finished ones are evicted as soon as
//!   the total passes `max_bytes`, so the store exceeds it only by what
//!   running tasks hold beyond it.
//! - finished tasks are forgotten `ttl` after they finished, once no
//!   subscription reads them (then `tasks/get` answers `-32001`).
//! - a task whose turn ended asking the user (`input-required`,
//!   `auth-required`) counts as finished for both bounds until the answer
//!   comes: it may be evicted or expire while it waits. The answer (a
//!   message naming the task, see [`TaskStore::create`]) is bounded like a
//!   new task's message and reopens the task for its next turn.
//! - each task's fan-out buffers `subscriber_buffer` events. A subscriber
//!   that falls further behind is not cut off and loses nothing silently:
//!   it is sent the current [`Task`] snapshot (status, artifacts with their
//!   full text so far), then continues live from there. A client treats a
//!   `Task` event as replacing what it had, which is what both official
//!   SDKs do.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use agentor_core::EventResult;
use futures_core::Stream;
use futures_util::StreamExt;
use tokio::sync::broadcast;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::{
    A2aError, ListTasksParams, ListTasksResult, Message, StreamResponse, Task, TaskProjector,
};

mod turns;

use turns::check_continuable;

/// The bounds of a [`TaskStore`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoreLimits {
    /// How many tasks are kept at most (default 1000, at least 1).
    pub max_tasks: usize,
    /// How many bytes the tasks may hold, as [`Task::retained_bytes`]
    /// estimates them (default [`DEFAULT_MAX_BYTES`], 64 MiB).
    pub max_bytes: usize,
    /// How long a finished task is kept (default 1 hour).
    pub ttl: Duration,
    /// How many events a subscriber may fall behind before it is re-sent
    /// the task snapshot (default 256, at least 1).
    pub subscriber_buffer: usize,
}

impl Default for StoreLimits {
    fn default() -> Self {
        StoreLimits {
            max_tasks: 1000,
            max_bytes: DEFAULT_MAX_BYTES,
            ttl: Duration::from_secs(3600),
            subscriber_buffer: 256,
        }
    }
}

/// The default bound on what a [`TaskStore`]'s tasks hold: 64 MiB.
pub const DEFAULT_MAX_BYTES: usize = 64 * 1024 * 1024;

/// The default page size of `ListTasks`.
pub const DEFAULT_PAGE_SIZE: u32 = 50;
/// The largest page size of `ListTasks`; larger requests get this many.
pub const MAX_PAGE_SIZE: u32 = 100;

type Published = (u64, Arc<StreamResponse>);

struct Entry {
    projector: TaskProjector,
    /// How many events were published (the last one's number).
    seq: u64,
    /// The fan-out; dropped when the task finishes (subscribers still read
    /// what it buffered).
    sender: Option<broadcast::Sender<Published>>,
    cancel: CancellationToken,
    finished_at: Option<Instant>,
    /// Bumped on every publish: the order `ListTasks` sorts by.
    touched: u64,
    /// When it was created, on the same clock: the order of a conversation.
    created: u64,
    /// How many [`Subscription`]s are open: a finished task is neither
    /// evicted nor expired while one still reads it.
    subscribers: usize,
    /// The projector's retained bytes as last added to [`Inner::bytes`].
    bytes: usize,
    /// Which turn is being driven (0 first): a handle of an earlier turn
    /// must not touch a later one.
    turn: u64,
}

impl Entry {
    /// Whether the store may drop it: finished, and nobody reads it.
    fn evictable(&self) -> Option<Instant> {
        self.finished_at.filter(|_| self.subscribers == 0)
    }
}

struct Inner {
    tasks: HashMap<String, Entry>,
    clock: u64,
    /// The sum of the tasks' [`Entry::bytes`].
    bytes: usize,
    /// Where a publish collects a step's events.
    scratch: Vec<StreamResponse>,
}

impl Inner {
    fn remove(&mut self, id: &str) {
        if let Some(entry) = self.tasks.remove(id) {
            self.bytes = self.bytes.saturating_sub(entry.bytes);
        }
    }

    /// Evicts the finished task that finished first; false when none may go.
    fn evict_oldest(&mut self) -> bool {
        let oldest = self
            .tasks
            .iter()
            .filter_map(|(id, entry)| entry.evictable().map(|at| (at, id.clone())))
            .min();
        match oldest {
            Some((_, id)) => {
                self.remove(&id);
                true
            }
            None => false,
        }
    }
}

/// The in-memory task store; cheap to clone (shared).
///
/// ```
/// use agentor_a2a::store::{StoreLimits, TaskStore};
/// use agentor_a2a::{Message, Part, Role, StreamResponse, TaskState};
/// use agentor_core::{Event, RunStatus};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let store = TaskStore::new(StoreLimits::default());
/// let user = Message::new("m1", Role::User, vec![Part::text("hi")]);
/// let (handle, mut subscription) = store.create(None, None, user).unwrap();
/// let run = futures_util::stream::iter(vec![
///     Ok(Event::text_delta("Hello")),
///     Ok(Event::message("Hello")),
///     Ok(Event::run_end(RunStatus::Completed)),
/// ]);
/// tokio::spawn(handle.drive(run, std::future::pending()));
/// let mut states = Vec::new();
/// while let Some(event) = subscription.next().await {
///     if let StreamResponse::StatusUpdate(update) = event {
///         states.push(update.status.state);
///     }
/// }
/// assert_eq!(states, [TaskState::Working, TaskState::Completed]);
/// # }
/// ```
#[derive(Clone)]
pub struct TaskStore {
    inner: Arc<Mutex<Inner>>,
    limits: StoreLimits,
}

impl std::fmt::Debug for TaskStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskStore")
            .field("tasks", &self.len())
            .field("limits", &self.limits)
            .finish()
    }
}

impl TaskStore {
    /// An empty store with `limits`.
    pub fn new(limits: StoreLimits) -> Self {
        let limits = StoreLimits {
            max_tasks: limits.max_tasks.max(1),
            max_bytes: limits.max_bytes.max(1),
            subscriber_buffer: limits.subscriber_buffer.max(1),
            ..limits
        };
        TaskStore {
            inner: Arc::new(Mutex::new(Inner {
                tasks: HashMap::new(),
                clock: 0,
                bytes: 0,
                scratch: Vec::new(),
            })),
            limits,
        }
    }

    /// The store's bounds.
    pub fn limits(&self) -> StoreLimits {
        self.limits
    }

    /// How many tasks are kept now.
    pub fn len(&self) -> usize {
        self.lock().tasks.len()
    }

    /// What the kept tasks hold, as [`Task::retained_bytes`] estimates it.
    pub fn retained_bytes(&self) -> usize {
        self.lock().bytes
    }

    /// Whether no task is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Every critical section leaves the map consistent, so a panic in
        // one (there is none by design) must not take the store down.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Forgets finished tasks past their time to live.
    fn purge(&self, inner: &mut Inner) {
        let ttl = self.limits.ttl;
        let now = Instant::now();
        let mut freed = 0;
        inner.tasks.retain(|_, entry| {
            let keep = entry.subscribers > 0
                || entry
                    .finished_at
                    .is_none_or(|at| now.duration_since(at) < ttl);
            if !keep {
                freed += entry.bytes;
            }
            keep
        });
        inner.bytes = inner.bytes.saturating_sub(freed);
    }

    /// A new task started by `user`, with the client's `task_id` and
    /// `context_id` when given (fresh ids otherwise), and a subscription
    /// that sees every event from the first (the `Task`).
    ///
    /// A `task_id` of a task waiting for the user (`input-required`,
    /// `auth-required`) continues that task instead: `user` joins its
    /// history, it is `working` again, and the subscription sees the turn
    /// from its first event, the `Task` (see [`TaskProjector::resume`]).
    ///
    /// Errors: a `task_id` of a task in a terminal state, or still working,
    /// → `-32004`; a `context_id` other than that task's → `-32602`; a
    /// message larger than `max_bytes` → `-32602`; the store full of running
    /// tasks (by count or bytes) → `-32603`.
    pub fn create(
        &self,
        task_id: Option<String>,
        context_id: Option<String>,
        user: Message,
    ) -> Result<(TaskHandle, Subscription), A2aError> {
        let mut inner = self.lock();
        self.purge(&mut inner);
        let id = task_id.unwrap_or_else(crate::new_id);
        if let Some(entry) = inner.tasks.get(&id) {
            check_continuable(&id, entry.projector.task(), context_id.as_deref())?;
            return self.resume(&mut inner, id, user);
        }
        let context_id = context_id.unwrap_or_else(crate::new_id);
        let projector = TaskProjector::new(id.clone(), context_id, user);
        let bytes = projector.retained_bytes();
        if bytes > self.limits.max_bytes {
            return Err(A2aError::invalid_params(format!(
                "params.message holds about {bytes} bytes, more than this server keeps for all its tasks ({} bytes)",
                self.limits.max_bytes
            )));
        }
        while inner.tasks.len() >= self.limits.max_tasks
            || inner.bytes.saturating_add(bytes) > self.limits.max_bytes
        {
            if !inner.evict_oldest() {
                return Err(A2aError::internal(format!(
                    "task store is full: the tasks running or still being read hold {} of {} bytes in {} of {} tasks (the limits); retry when one finishes",
                    inner.bytes,
                    self.limits.max_bytes,
                    inner.tasks.len(),
                    self.limits.max_tasks
                )));
            }
        }
        let (sender, receiver) = broadcast::channel(self.limits.subscriber_buffer);
        let cancel = CancellationToken::new();
        inner.clock += 1;
        inner.bytes += bytes;
        let touched = inner.clock;
        inner.tasks.insert(
            id.clone(),
            Entry {
                projector,
                bytes,
                seq: 0,
                sender: Some(sender),
                cancel: cancel.clone(),
                finished_at: None,
                touched,
                created: touched,
                subscribers: 1,
                turn: 0,
            },
        );
        let handle = TaskHandle {
            store: self.clone(),
            id: id.clone(),
            cancel,
            turn: 0,
        };
        let subscription = Subscription {
            store: self.clone(),
            id,
            receiver: Some(receiver),
            pending: VecDeque::new(),
            skip_through: 0,
            done: false,
        };
        Ok((handle, subscription))
    }

    /// The task `id` with the last `history_length` messages of its history;
    /// unknown → `-32001`.
    pub fn get(&self, id: &str, history_length: Option<u32>) -> Result<Task, A2aError> {
        let mut inner = self.lock();
        self.purge(&mut inner);
        inner
            .tasks
            .get(id)
            .map(|entry| entry.projector.task().with_history_length(history_length))
            .ok_or_else(|| A2aError::task_not_found(id))
    }

    /// Whether task `id` is kept (not yet evicted or expired).
    pub fn contains(&self, id: &str) -> bool {
        let mut inner = self.lock();
        self.purge(&mut inner);
        inner.tasks.contains_key(id)
    }

    /// Follows task `id`: its current snapshot first, then its live events
    /// until the final one (a finished task: the snapshot, then the end).
    pub fn subscribe(&self, id: &str) -> Result<Subscription, A2aError> {
        let mut inner = self.lock();
        self.purge(&mut inner);
        let entry = inner
            .tasks
            .get_mut(id)
            .ok_or_else(|| A2aError::task_not_found(id))?;
        entry.subscribers += 1;
        let snapshot = StreamResponse::Task(entry.projector.task().clone());
        Ok(Subscription {
            store: self.clone(),
            id: id.to_owned(),
            receiver: entry.sender.as_ref().map(broadcast::Sender::subscribe),
            pending: VecDeque::from([snapshot]),
            skip_through: entry.seq,
            done: false,
        })
    }

    /// Follows task `id` for a client (`tasks/resubscribe` /
    /// `SubscribeToTask`): as [`subscribe`](Self::subscribe), but a task in
    /// a terminal state is refused with `-32004` (UnsupportedOperationError),
    /// as the 1.0 spec has it: the operation "can be used with any task
    /// that is not in a terminal state". A task waiting for input or
    /// authentication is not terminal. Unknown → `-32001`.
    pub fn resubscribe(&self, id: &str) -> Result<Subscription, A2aError> {
        let subscription = self.subscribe(id)?;
        match subscription.pending.front() {
            Some(StreamResponse::Task(task)) if task.status.state.is_terminal() => {
                Err(A2aError::unsupported_operation(format!(
                    "task {} is {}, a terminal state: there is nothing to subscribe to; read it with tasks/get (GetTask)",
                    agentor_core::error::excerpt(id),
                    task.status.state.as_str(crate::Dialect::V0_3)
                )))
            }
            _ => Ok(subscription),
        }
    }

    /// The conversation so far in `context_id`: the user's message and the
    /// agent's answer of each completed task of that context, oldest first,
    /// at most the last `limit` messages. A new task of the context starts
    /// its run from these, so a client continues a conversation by sending
    /// its next message with the same `contextId`.
    pub fn context_history(&self, context_id: &str, limit: usize) -> Vec<Message> {
        let mut inner = self.lock();
        self.purge(&mut inner);
        let mut tasks: Vec<&Entry> = inner
            .tasks
            .values()
            .filter(|entry| {
                let task = entry.projector.task();
                task.context_id == context_id && task.status.state == crate::TaskState::Completed
            })
            .collect();
        tasks.sort_by_key(|entry| entry.created);
        let messages: Vec<Message> = tasks
            .iter()
            .flat_map(|entry| entry.projector.task().history.iter().cloned())
            .collect();
        let skip = messages.len().saturating_sub(limit);
        messages.into_iter().skip(skip).collect()
    }

    /// Asks task `id`'s run to stop; its driver then publishes the final
    /// `canceled` status. Unknown → `-32001`; finished → `-32002`.
    pub fn cancel(&self, id: &str) -> Result<(), A2aError> {
        let mut inner = self.lock();
        self.purge(&mut inner);
        let entry = inner
            .tasks
            .get(id)
            .ok_or_else(|| A2aError::task_not_found(id))?;
        if entry.projector.awaits_user() {
            // No run to stop: the task waits for the user, and is not
            // terminal, so it can be canceled at once.
            publish_locked(&mut inner, self.limits, id, |p, out| {
                out.extend(p.cancel("the task was canceled by the client"));
            });
            return Ok(());
        }
        if entry.projector.is_finished() {
            let state = entry.projector.task().status.state;
            return Err(A2aError::task_not_cancelable(
                id,
                state.as_str(crate::Dialect::V0_3),
            ));
        }
        entry.cancel.cancel();
        Ok(())
    }

    /// The tasks matching `params`, most recently updated first, one page
    /// at a time (`pageToken` is the opaque offset of the page). A page
    /// token this store did not issue → `-32602`.
    pub fn list(&self, params: &ListTasksParams) -> Result<ListTasksResult, A2aError> {
        let mut inner = self.lock();
        self.purge(&mut inner);
        let mut entries: Vec<&Entry> = inner.tasks.values().collect();
        entries.sort_by_key(|entry| std::cmp::Reverse(entry.touched));
        params.page(entries.iter().map(|entry| entry.projector.task()))
    }

    /// Applies `step` to task `id`'s projector and publishes what it emits,
    /// under one lock: a snapshot and the events after it never overlap.
    fn publish(
        &self,
        id: &str,
        step: impl FnOnce(&mut TaskProjector, &mut Vec<StreamResponse>),
    ) -> bool {
        publish_locked(&mut self.lock(), self.limits, id, step)
    }
}

/// [`TaskStore::publish`] with the lock held.
fn publish_locked(
    inner: &mut Inner,
    limits: StoreLimits,
    id: &str,
    step: impl FnOnce(&mut TaskProjector, &mut Vec<StreamResponse>),
) -> bool {
    inner.clock += 1;
    let clock = inner.clock;
    let Inner { tasks, scratch, .. } = inner;
    let Some(entry) = tasks.get_mut(id) else {
        // Evicted (only finished tasks are): nothing left to publish.
        return true;
    };
    // One buffer for every step: a run's events cost no allocation here.
    scratch.clear();
    step(&mut entry.projector, scratch);
    if !scratch.is_empty() {
        entry.touched = clock;
    }
    for event in scratch.drain(..) {
        entry.seq += 1;
        if let Some(sender) = &entry.sender {
            // No receiver is fine: nobody is watching right now.
            let _ = sender.send((entry.seq, Arc::new(event)));
        }
    }
    let finished = entry.projector.is_finished();
    if finished && entry.finished_at.is_none() {
        entry.finished_at = Some(Instant::now());
        entry.sender = None;
    }
    let (before, after) = (entry.bytes, entry.projector.retained_bytes());
    entry.bytes = after;
    inner.bytes = (inner.bytes + after).saturating_sub(before);
    // A growing run pushes the finished tasks out, oldest first.
    while inner.bytes > limits.max_bytes && inner.evict_oldest() {}
    finished
}

/// The producer side of one task: feeds the run's events to the store.
#[derive(Debug)]
pub struct TaskHandle {
    store: TaskStore,
    id: String,
    cancel: CancellationToken,
    /// The turn it drives (see [`Entry::turn`]).
    turn: u64,
}

impl TaskHandle {
    /// The task's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Completes when someone cancelled the task (`tasks/cancel`).
    pub fn cancelled(&self) -> tokio_util::sync::WaitForCancellationFuture<'_> {
        self.cancel.cancelled()
    }

    /// Runs the task: publishes the first events, then pulls `events` and
    /// publishes what each becomes, until the final status. A cancellation
    /// (`tasks/cancel`) or `stop` (a shutdown) drops the run — cancelling its
    /// model request and tools — then publishes `canceled`. The task always
    /// gets a final status.
    pub async fn drive<S>(self, events: S, stop: impl Future<Output = ()>)
    where
        S: Stream<Item = EventResult>,
    {
        // Boxed, so dropping it below really drops the run.
        let mut events = Box::pin(events);
        let mut stop = std::pin::pin!(stop);
        if self.store.publish(&self.id, |p, out| out.extend(p.start())) {
            return;
        }
        let reason = loop {
            tokio::select! {
                biased;
                () = self.cancel.cancelled() => break "the task was canceled by the client",
                () = &mut stop => break "the server is shutting down",
                item = events.next() => {
                    let finished = match item {
                        Some(item) => self.store.publish(&self.id, |p, out| p.on_item_into(item, out)),
                        None => self.store.publish(&self.id, |p, out| out.extend(p.on_end_of_stream())),
                    };
                    if finished {
                        return;
                    }
                }
            }
        };
        // Drop the run first: that cancels the model request and tools.
        drop(events);
        self.store
            .publish(&self.id, |p, out| out.extend(p.cancel(reason)));
    }
}

impl Drop for TaskHandle {
    /// A task whose driver is gone without its final status — never driven,
    /// its run panicked, its runtime shut down — ends `failed` here, so its
    /// subscribers end and it stops holding a running task's place in the
    /// store. After a final status this publishes nothing.
    fn drop(&mut self) {
        let mut inner = self.store.lock();
        if inner
            .tasks
            .get(&self.id)
            .is_some_and(|e| e.turn != self.turn)
        {
            // The task went on to a later turn: not this handle's any more.
            return;
        }
        publish_locked(&mut inner, self.store.limits, &self.id, |projector, out| {
            let stopped = agentor_core::Error::internal(
                "the task's run stopped before it ended (it panicked or was dropped)",
            );
            projector.on_item_into(Err(stopped), out);
        });
    }
}

/// A subscriber to one task's events; ends after the final one.
#[derive(Debug)]
pub struct Subscription {
    store: TaskStore,
    id: String,
    receiver: Option<broadcast::Receiver<Published>>,
    /// Events to hand out before reading the fan-out (a snapshot).
    pending: VecDeque<StreamResponse>,
    /// Fan-out events up to this number are already in a snapshot sent.
    skip_through: u64,
    done: bool,
}

impl Drop for Subscription {
    /// Lets the task go: a finished task nobody reads may be evicted.
    fn drop(&mut self) {
        if let Some(entry) = self.store.lock().tasks.get_mut(&self.id) {
            entry.subscribers = entry.subscribers.saturating_sub(1);
        }
    }
}

impl Subscription {
    /// The task's id.
    pub fn task_id(&self) -> &str {
        &self.id
    }

    /// The next event; `None` after the final one.
    pub async fn next(&mut self) -> Option<StreamResponse> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                self.done |= event.is_terminal();
                return Some(event);
            }
            if self.done {
                return None;
            }
            let Some(receiver) = self.receiver.as_mut() else {
                self.done = true;
                return None;
            };
            match receiver.recv().await {
                Ok((seq, event)) => {
                    if seq <= self.skip_through {
                        continue;
                    }
                    let event = Arc::unwrap_or_clone(event);
                    self.done |= event.is_terminal();
                    return Some(event);
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    // Fell behind: the snapshot replaces what was missed.
                    let inner = self.store.lock();
                    match inner.tasks.get(&self.id) {
                        Some(entry) => {
                            self.pending
                                .push_back(StreamResponse::Task(entry.projector.task().clone()));
                            self.skip_through = entry.seq;
                        }
                        None => self.done = true,
                    }
                }
                Err(broadcast::error::RecvError::Closed) => {
                    self.done = true;
                    return None;
                }
            }
        }
    }

    /// The events as a stream.
    pub fn into_stream(self) -> impl Stream<Item = StreamResponse> + Send {
        futures_util::stream::unfold(self, |mut subscription| async move {
            let event = subscription.next().await?;
            Some((event, subscription))
        })
    }

    /// Reads until the final event (or the end) and returns how many events came.
    pub async fn wait_final(&mut self) -> usize {
        let mut count = 0;
        while self.next().await.is_some() {
            count += 1;
        }
        count
    }
}

/// Waits at most `limit` for the subscription's final event; whether it came.
pub async fn wait_final_within(subscription: &mut Subscription, limit: Duration) -> bool {
    tokio::time::timeout(limit, subscription.wait_final())
        .await
        .is_ok()
}
