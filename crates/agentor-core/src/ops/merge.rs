//! [`merge`]: many named event streams into one, fairly.
//!
//! A [`Merge`] polls its sources in the consumer's task. Each source gets its
//! own waker, so a poll only touches sources that were woken or just yielded
//! an item: merging a thousand mostly idle streams costs nothing per event for
//! the idle ones.
//!
//! ```
//! use agentor_core::ops::merge::merge;
//! use agentor_core::{Event, EventResult};
//! use futures::{stream, StreamExt};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let planner = stream::iter(vec![Ok(Event::text_delta("plan")), Ok(Event::text_delta("ned"))]);
//! let coder = stream::iter(vec![Ok::<_, agentor_core::Error>(Event::text_delta("code"))]);
//!
//! let out: Vec<EventResult> = merge([("planner", planner.boxed()), ("coder", coder.boxed())])
//!     .collect()
//!     .await;
//!
//! let tagged: Vec<(String, String)> = out
//!     .into_iter()
//!     .map(|e| e.expect("no failures here"))
//!     .map(|e| (e.origin.source.as_deref().unwrap_or("").to_owned(), e.text().unwrap_or("").to_owned()))
//!     .collect();
//! // Round-robin: the sources take turns while both have items ready.
//! assert_eq!(
//!     tagged,
//!     [("planner", "plan"), ("coder", "code"), ("planner", "ned")]
//!         .map(|(s, t)| (s.to_owned(), t.to_owned()))
//! );
//! # }
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Wake, Waker};

use futures_core::Stream;
use futures_util::task::AtomicWaker;
use tower_layer::Layer;

use crate::{BoxEventStream, Event, EventKind, EventResult, Origin, Restamp, RunStatus, Text};

/// What a [`Merge`] does when a source fails.
///
/// A failure is an `Err` item or an [`EventKind::Error`] event from a source.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum FailurePolicy {
    /// Forward the failure; the other sources (and the failing one, if it goes
    /// on) keep streaming.
    #[default]
    Continue,
    /// Forward the failure, then a [`RunStatus::Failed`] run end tagged with
    /// the failing source's name, then end. Every source is dropped (so
    /// cancelled) as soon as the failure is seen, and handles are closed.
    ///
    /// The run end copies the envelope (`seq`, `run_id`) of a failing error
    /// event; after an `Err` item it has `seq` 0 and no run id.
    FailFast,
}

/// Merges named event streams into one [`Merge`] with [`FailurePolicy::Continue`].
///
/// Shorthand for [`Merge::new`] followed by [`Merge::push`] for each pair.
/// The merge has no [`MergeHandle`] yet, so it ends once every source has.
pub fn merge<I, N, S>(sources: I) -> Merge
where
    I: IntoIterator<Item = (N, S)>,
    N: Into<Text>,
    S: Stream<Item = EventResult> + Send + 'static,
{
    let mut merged = Merge::new();
    for (name, stream) in sources {
        merged.push(name, stream);
    }
    merged
}

/// A stream merging named event sources; see [`merge`], [`Merge::new`] and
/// [`MergeLayer`].
///
/// - Each `Ok` event's `source` is set to the name of the source it came from,
///   overwriting what the source put there. `seq` is left as the source
///   produced it, so it is only increasing per source: renumber downstream if
///   a sink needs one increasing sequence.
/// - Fair: sources with items ready take turns (round-robin); an always-ready
///   source cannot starve the others.
/// - Each source's items keep their order and none is lost.
/// - Ends when every source has ended and no [`MergeHandle`] can add more:
///   while a handle is alive and not [closed](MergeHandle::close), a merge with
///   no sources left waits for new ones, like a channel receiver waits for
///   senders. Drop every handle or call [`MergeHandle::close`] to let it end.
/// - Failures follow the [`FailurePolicy`].
///
/// Dropping the merge drops (cancels) every source and closes its handles.
///
/// Cost: each source has its own waker, and only sources that were woken or
/// just yielded are polled, so idle sources cost nothing per event. On the
/// path where sources are always ready the merge allocates nothing; most of
/// its per-event cost is writing the `source` tag and moving the event.
#[must_use = "streams do nothing unless polled"]
pub struct Merge {
    /// Sources by slot index; freed slots are reused through `free`.
    slots: Vec<Slot>,
    free: Vec<usize>,
    /// Sources to poll, in turn. Only sources that were woken or have just
    /// yielded an item are here, so idle sources cost nothing per event.
    run_queue: VecDeque<Entry>,
    live: usize,
    /// Generations make queue entries of a removed source stale, even after
    /// its slot is reused: they are skipped instead of polling the newcomer.
    next_generation: u64,
    policy: FailurePolicy,
    shared: Arc<Shared>,
    /// Kept so taking wakes and handle additions does not allocate.
    spare_woken: VecDeque<Entry>,
    spare_added: Vec<(Text, BoxEventStream)>,
    /// The run end to yield after a fail-fast failure.
    failed_end: Option<Event>,
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    slot: usize,
    generation: u64,
}

struct Slot {
    generation: u64,
    source: Option<Source>,
}

struct Source {
    name: Text,
    /// Keeps a source's events sharing one origin once named.
    restamp: Restamp,
    /// Whether the source has an entry in the run queue. Owned by the merge,
    /// so the always-ready path touches no atomic; the waker's atomic flag
    /// only dedupes the woken queue.
    in_run_queue: bool,
    stream: BoxEventStream,
    wake: Arc<SourceWake>,
    /// Built once from `wake`, so a poll clones no `Arc`.
    waker: Waker,
}

/// State shared by the merge, its source wakers and its handles.
struct Shared {
    /// Set when `inner` may hold woken entries or additions, so the merge's
    /// hot path checks one atomic instead of taking the lock.
    dirty: AtomicBool,
    /// The consumer's waker. Registered only when the merge is about to
    /// return `Pending`.
    consumer: AtomicWaker,
    handles: AtomicUsize,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    woken: VecDeque<Entry>,
    added: Vec<(Text, BoxEventStream)>,
    /// No more additions: closed by a handle, by the end of the merge, by a
    /// fail-fast failure, or by dropping the merge.
    closed: bool,
}

/// The waker of one source.
struct SourceWake {
    entry: Entry,
    /// True while the source has an entry in the woken queue, so repeated
    /// wakes queue it once.
    queued: AtomicBool,
    shared: Arc<Shared>,
}

impl Wake for SourceWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !self.queued.swap(true, Ordering::AcqRel) {
            self.shared.lock().woken.push_back(self.entry);
            self.shared.notify();
        }
    }
}

impl Shared {
    fn new() -> Arc<Self> {
        Arc::new(Shared {
            dirty: AtomicBool::new(false),
            consumer: AtomicWaker::new(),
            handles: AtomicUsize::new(0),
            inner: Mutex::new(Inner::default()),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // The critical sections only push, swap and set flags: a panic inside
        // one leaves `Inner` consistent, so poisoning carries no meaning here.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn notify(&self) {
        self.dirty.store(true, Ordering::Release);
        self.consumer.wake();
    }

    /// Closes for additions and returns the streams added but not yet taken,
    /// to be dropped outside the lock (their drop code may do anything).
    fn close(&self) -> Vec<(Text, BoxEventStream)> {
        let mut inner = self.lock();
        inner.closed = true;
        std::mem::take(&mut inner.added)
    }
}

impl Default for Merge {
    fn default() -> Self {
        Merge::new()
    }
}

impl Merge {
    /// An empty merge with [`FailurePolicy::Continue`]. Add sources with
    /// [`push`](Merge::push) or through a [`handle`](Merge::handle).
    ///
    /// Without a live handle an empty merge ends at once.
    pub fn new() -> Self {
        Merge::with_policy(FailurePolicy::default())
    }

    /// An empty merge with the given failure policy.
    pub fn with_policy(policy: FailurePolicy) -> Self {
        Merge::from_shared(Shared::new(), policy)
    }

    fn from_shared(shared: Arc<Shared>, policy: FailurePolicy) -> Self {
        Merge {
            slots: Vec::new(),
            free: Vec::new(),
            run_queue: VecDeque::new(),
            live: 0,
            next_generation: 0,
            policy,
            shared,
            spare_woken: VecDeque::new(),
            spare_added: Vec::new(),
            failed_end: None,
        }
    }

    /// Sets the failure policy.
    pub fn policy(mut self, policy: FailurePolicy) -> Self {
        self.policy = policy;
        self
    }

    /// A handle adding sources while the merge runs. While any handle is
    /// alive and not closed, the merge does not end.
    pub fn handle(&self) -> MergeHandle {
        MergeHandle::new(self.shared.clone())
    }

    /// Adds a source named `name`; it is polled from the next poll on.
    ///
    /// Unlike [`MergeHandle::add`] this works on a merge that already ended
    /// (it then yields the new source's events), since the caller owns the
    /// merge and sees its state.
    pub fn push<N, S>(&mut self, name: N, stream: S)
    where
        N: Into<Text>,
        S: Stream<Item = EventResult> + Send + 'static,
    {
        self.insert(name.into(), Box::pin(stream));
    }

    /// The number of sources being merged, not counting handle additions the
    /// merge has not taken yet.
    pub fn len(&self) -> usize {
        self.live
    }

    /// Whether no source is being merged right now.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    fn insert(&mut self, name: Text, stream: BoxEventStream) {
        let slot = self.free.pop().unwrap_or_else(|| {
            self.slots.push(Slot {
                generation: 0,
                source: None,
            });
            self.slots.len() - 1
        });
        let generation = self.next_generation;
        self.next_generation += 1;
        let entry = Entry { slot, generation };
        let wake = Arc::new(SourceWake {
            entry,
            queued: AtomicBool::new(false),
            shared: self.shared.clone(),
        });
        let waker = Waker::from(wake.clone());
        self.slots[slot] = Slot {
            generation,
            source: Some(Source {
                name,
                restamp: Restamp::new(),
                in_run_queue: true,
                stream,
                wake,
                waker,
            }),
        };
        self.live += 1;
        self.run_queue.push_back(entry);
    }

    fn remove(&mut self, slot: usize) {
        self.slots[slot].source = None;
        self.free.push(slot);
        self.live -= 1;
    }

    /// Moves woken sources and handle additions into the run queue.
    #[inline]
    fn collect(&mut self) {
        if self.shared.dirty.load(Ordering::Acquire) {
            self.collect_dirty();
        }
    }

    #[inline(never)]
    fn collect_dirty(&mut self) {
        // Cleared before taking the queues: a wake landing after the take
        // sets it again, so none is missed.
        self.shared.dirty.store(false, Ordering::Release);
        {
            let mut inner = self.shared.lock();
            std::mem::swap(&mut inner.woken, &mut self.spare_woken);
            std::mem::swap(&mut inner.added, &mut self.spare_added);
        }
        let mut woken = std::mem::take(&mut self.spare_woken);
        for entry in woken.drain(..) {
            if let Some(Slot {
                generation,
                source: Some(source),
            }) = self.slots.get_mut(entry.slot)
            {
                // A stale entry (generation mismatch) belongs to a source
                // that is gone; its waker stays silent from now on.
                if *generation == entry.generation {
                    // Cleared before the poll this wake asked for, so a wake
                    // during or after that poll queues the source again.
                    source.wake.queued.store(false, Ordering::Release);
                    if !source.in_run_queue {
                        source.in_run_queue = true;
                        self.run_queue.push_back(entry);
                    }
                }
            }
        }
        self.spare_woken = woken;
        let mut added = std::mem::take(&mut self.spare_added);
        for (name, stream) in added.drain(..) {
            self.insert(name, stream);
        }
        self.spare_added = added;
    }

    /// Whether the merge may end: no source left and none can come.
    fn finished(&self) -> bool {
        if self.live > 0 {
            return false;
        }
        let mut inner = self.shared.lock();
        if !inner.added.is_empty() {
            return false;
        }
        if inner.closed || self.shared.handles.load(Ordering::Acquire) == 0 {
            // Under the lock, so an `add` racing with the end either lands
            // before (and is seen above) or finds the merge closed.
            inner.closed = true;
            return true;
        }
        false
    }

    /// Polls the run queue until a source yields an item (`Ready(Some)`) or
    /// the queue is empty (`Pending`; never `Ready(None)`).
    ///
    /// The source's poll result is tagged in place and returned as is: an
    /// `EventResult` is ~200 bytes, and its moves and the tag write are most
    /// of the per-event cost (the scheduling around them is a few ns).
    fn poll_sources(&mut self) -> Poll<Option<EventResult>> {
        while let Some(entry) = self.run_queue.pop_front() {
            let Some(Slot {
                generation,
                source: Some(source),
            }) = self.slots.get_mut(entry.slot)
            else {
                continue;
            };
            if *generation != entry.generation {
                continue;
            }
            source.in_run_queue = false;
            let mut cx = Context::from_waker(&source.waker);
            let mut poll = source.stream.as_mut().poll_next(&mut cx);
            let failed = match &mut poll {
                Poll::Pending => continue,
                Poll::Ready(None) => {
                    self.remove(entry.slot);
                    continue;
                }
                Poll::Ready(Some(Ok(event))) => {
                    let name = &source.name;
                    source
                        .restamp
                        .apply(&mut event.origin, |o| o.source = Some(name.clone()));
                    matches!(event.kind, EventKind::Error { .. })
                }
                Poll::Ready(Some(Err(_))) => true,
            };
            // To the back of the queue: round-robin among ready sources. A
            // wake for it meanwhile finds it queued.
            source.in_run_queue = true;
            self.run_queue.push_back(entry);
            if failed && self.policy == FailurePolicy::FailFast {
                if let Poll::Ready(Some(item)) = &poll {
                    self.fail_fast(entry.slot, item);
                }
            }
            return poll;
        }
        Poll::Pending
    }

    /// Drops every source now, so they are cancelled before the consumer even
    /// sees the failure, and prepares the failed run end.
    #[cold]
    fn fail_fast(&mut self, slot: usize, failure: &EventResult) {
        let status = EventKind::RunEnd {
            status: RunStatus::Failed,
        };
        self.failed_end = Some(match failure {
            Ok(event) => event.derive(status),
            Err(_) => {
                let name = self.slots[slot].source.as_ref().map(|s| s.name.clone());
                Event::new(status).with_origin(Origin::new(name, None, None))
            }
        });
        let pending = self.shared.close();
        self.slots.clear();
        self.free.clear();
        self.run_queue.clear();
        self.live = 0;
        drop(pending);
    }
}

impl Stream for Merge {
    type Item = EventResult;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<EventResult>> {
        let this = self.get_mut();
        if this.failed_end.is_some() {
            return Poll::Ready(this.failed_end.take().map(Ok));
        }
        this.collect();
        // Two passes at most: the second picks up what was woken or added
        // while the consumer's waker was not registered. Stopping there keeps
        // a source that wakes itself on every poll from spinning us forever;
        // its wake reschedules the consumer instead.
        let mut registered = false;
        loop {
            let polled = this.poll_sources();
            if polled.is_ready() {
                return polled;
            }
            if this.finished() {
                return Poll::Ready(None);
            }
            if registered {
                return Poll::Pending;
            }
            this.shared.consumer.register(cx.waker());
            registered = true;
            this.collect();
        }
    }
}

impl Drop for Merge {
    fn drop(&mut self) {
        // Handles must learn the merge is gone so `add` gives streams back.
        drop(self.shared.close());
    }
}

impl fmt::Debug for Merge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Merge")
            .field("sources", &self.live)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// Adds sources to a running [`Merge`]. Cloneable and `Send + Sync`.
///
/// While any handle is alive and not [closed](MergeHandle::close), the merge
/// does not end, even with no sources left: it waits for more.
pub struct MergeHandle {
    shared: Arc<Shared>,
}

impl MergeHandle {
    fn new(shared: Arc<Shared>) -> Self {
        shared.handles.fetch_add(1, Ordering::AcqRel);
        MergeHandle { shared }
    }

    /// Adds a source named `name` and wakes the merge.
    ///
    /// Fails, giving the stream back, if the merge has ended, was dropped,
    /// failed fast, or a handle closed it.
    pub fn add<N, S>(&self, name: N, stream: S) -> Result<(), MergeClosed<S>>
    where
        N: Into<Text>,
        S: Stream<Item = EventResult> + Send + 'static,
    {
        {
            let mut inner = self.shared.lock();
            if inner.closed {
                return Err(MergeClosed(stream));
            }
            inner.added.push((name.into(), Box::pin(stream)));
        }
        self.shared.notify();
        Ok(())
    }

    /// Stops additions through every handle of this merge: the merge ends once
    /// its current sources (and those added before) have ended.
    pub fn close(&self) {
        let mut inner = self.shared.lock();
        inner.closed = true;
        drop(inner);
        self.shared.notify();
    }

    /// Whether additions are refused.
    pub fn is_closed(&self) -> bool {
        self.shared.lock().closed
    }
}

impl Clone for MergeHandle {
    fn clone(&self) -> Self {
        MergeHandle::new(self.shared.clone())
    }
}

impl Drop for MergeHandle {
    fn drop(&mut self) {
        if self.shared.handles.fetch_sub(1, Ordering::AcqRel) == 1 {
            // The last handle going may let an idle merge end.
            self.shared.notify();
        }
    }
}

impl fmt::Debug for MergeHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MergeHandle")
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// The error of [`MergeHandle::add`]: the merge takes no more sources. Holds
/// the stream that was not added.
#[derive(Clone, PartialEq, Eq)]
pub struct MergeClosed<S>(pub S);

impl<S> MergeClosed<S> {
    /// The stream that was not added.
    pub fn into_inner(self) -> S {
        self.0
    }
}

impl<S> fmt::Debug for MergeClosed<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MergeClosed(..)")
    }
}

impl<S> fmt::Display for MergeClosed<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the merge takes no more sources")
    }
}

impl<S> std::error::Error for MergeClosed<S> {}

/// Merge as a [`Layer`]: the wrapped stream becomes one named source, and
/// [`handle`](MergeLayer::handle) adds others while it runs.
///
/// A layer's handles feed the merge built by the **first** application of the
/// layer (or of any of its clones); later applications merge only the stream
/// they wrap. Build one `MergeLayer` per run when runs need their own handles.
///
/// ```
/// use agentor_core::ops::merge::MergeLayer;
/// use agentor_core::{Event, EventResult, Pipeline};
/// use futures::{stream, StreamExt};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let layer = MergeLayer::new("model");
/// let tools = layer.handle();
/// let model = stream::iter(vec![Ok(Event::text_delta("hi"))]);
/// let mut merged = Pipeline::new().layer(layer).apply(model);
///
/// tools
///     .add("search", stream::iter(vec![Ok(Event::text_delta("found"))]))
///     .expect("the merge is running");
/// drop(tools); // the merge may end once its sources have
///
/// let mut sources = Vec::new();
/// while let Some(event) = merged.next().await {
///     let event: Event = event.expect("no failures here");
///     sources.push(event.origin.source.as_deref().expect("merge tags every event").to_string());
/// }
/// sources.sort();
/// assert_eq!(sources, ["model", "search"]);
/// # }
/// ```
#[derive(Clone)]
pub struct MergeLayer {
    name: Text,
    policy: FailurePolicy,
    shared: Arc<Shared>,
    claimed: Arc<AtomicBool>,
}

impl MergeLayer {
    /// A layer naming the wrapped stream `name`, with [`FailurePolicy::Continue`].
    pub fn new(name: impl Into<Text>) -> Self {
        MergeLayer {
            name: name.into(),
            policy: FailurePolicy::default(),
            shared: Shared::new(),
            claimed: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Sets the failure policy.
    #[must_use]
    pub fn policy(mut self, policy: FailurePolicy) -> Self {
        self.policy = policy;
        self
    }

    /// A handle adding sources to the merge this layer builds. The layer
    /// itself does not keep the merge waiting; only handles do.
    pub fn handle(&self) -> MergeHandle {
        MergeHandle::new(self.shared.clone())
    }
}

impl<S> Layer<S> for MergeLayer
where
    S: Stream<Item = EventResult> + Send + 'static,
{
    type Service = Merge;

    fn layer(&self, inner: S) -> Merge {
        let mut merged = if self.claimed.swap(true, Ordering::AcqRel) {
            Merge::with_policy(self.policy)
        } else {
            Merge::from_shared(self.shared.clone(), self.policy)
        };
        merged.push(self.name.clone(), inner);
        merged
    }
}

impl fmt::Debug for MergeLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MergeLayer")
            .field("name", &self.name)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    use std::time::Duration;

    use futures::{stream, StreamExt};
    use tokio::time::sleep;

    use crate::{Error, ErrorKind, Pipeline};

    fn texts(prefix: &str, n: usize) -> Vec<EventResult> {
        (0..n)
            .map(|i| Ok(Event::text_delta(format!("{prefix}{i}")).with_seq(i as u64)))
            .collect()
    }

    /// Items with `delay` before each one, on tokio's (paused) clock.
    fn slow(items: Vec<EventResult>, delay: Duration) -> BoxEventStream {
        Box::pin(async_stream::stream! {
            for item in items {
                sleep(delay).await;
                yield item;
            }
        })
    }

    fn ok_pairs(out: Vec<EventResult>) -> Vec<(String, String)> {
        out.into_iter()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.origin.source.as_deref().unwrap().to_owned(),
                    e.text().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    }

    fn from(out: &[(String, String)], source: &str) -> Vec<String> {
        out.iter()
            .filter(|(s, _)| s == source)
            .map(|(_, t)| t.clone())
            .collect()
    }

    /// Flips its flag when dropped, to prove a source was cancelled.
    struct DropGuard(Arc<AtomicBool>);

    impl Drop for DropGuard {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    #[tokio::test]
    async fn tags_each_event_with_its_source_and_keeps_seq() {
        let a = stream::iter(vec![Ok(Event::text_delta("x")
            .with_seq(7)
            .with_source("wrong"))]);
        let out: Vec<_> = merge([("A1", a)]).collect().await;
        let event = out[0].as_ref().unwrap();
        assert_eq!(event.origin.source.as_deref(), Some("A1"));
        assert_eq!(event.seq, 7);
    }

    #[tokio::test]
    async fn an_always_ready_source_does_not_starve_others() {
        let busy = stream::repeat_with(|| Ok(Event::text_delta("busy"))).boxed();
        let finite = stream::iter(texts("f", 5)).boxed();
        let prefix: Vec<_> = merge([("busy", busy), ("finite", finite)])
            .take(12)
            .collect()
            .await;
        let out = ok_pairs(prefix);
        assert_eq!(from(&out, "finite"), ["f0", "f1", "f2", "f3", "f4"]);
        // Round-robin: strict alternation while both are ready.
        assert_eq!(out[0].0, "busy");
        assert_eq!(out[1].0, "finite");
        assert_eq!(out[2].0, "busy");
    }

    #[tokio::test(start_paused = true)]
    async fn keeps_each_sources_order_and_loses_nothing() {
        let sources = vec![
            ("a", slow(texts("a", 20), Duration::from_millis(3))),
            ("b", slow(texts("b", 15), Duration::from_millis(5))),
            ("c", stream::iter(texts("c", 30)).boxed()),
        ];
        let out = ok_pairs(merge(sources).collect().await);
        assert_eq!(out.len(), 65);
        for (name, n) in [("a", 20), ("b", 15), ("c", 30)] {
            let want: Vec<String> = (0..n).map(|i| format!("{name}{i}")).collect();
            assert_eq!(from(&out, name), want);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn ends_when_all_sources_end() {
        let mut merged = merge([
            ("a", slow(texts("a", 2), Duration::from_millis(10))),
            ("b", slow(texts("b", 1), Duration::from_millis(25))),
        ]);
        let mut n = 0;
        while merged.next().await.is_some() {
            n += 1;
        }
        assert_eq!(n, 3);
        assert!(merged.next().await.is_none());
    }

    #[tokio::test]
    async fn an_empty_merge_without_handles_ends_at_once() {
        assert!(Merge::new().next().await.is_none());
        let none: [(&str, BoxEventStream); 0] = [];
        assert!(merge(none).next().await.is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn waits_while_a_handle_is_alive_then_ends_on_close() {
        let mut merged = merge([("a", stream::iter(texts("a", 1)))]);
        let handle = merged.handle();
        assert!(merged.next().await.is_some());
        // No source left, but the handle may still add one.
        let waited = tokio::time::timeout(Duration::from_secs(60), merged.next()).await;
        assert!(waited.is_err(), "merge ended while a handle was alive");

        let closer = handle.clone();
        tokio::spawn(async move {
            sleep(Duration::from_millis(5)).await;
            closer.close();
        });
        assert!(merged.next().await.is_none());
        let refused = handle.add("late", stream::iter(texts("l", 1)));
        assert_eq!(refused.unwrap_err().into_inner().count().await, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn ends_when_the_last_handle_drops() {
        let mut merged = Merge::new();
        let handle = merged.handle();
        let second = handle.clone();
        tokio::spawn(async move {
            sleep(Duration::from_millis(5)).await;
            drop(handle);
            sleep(Duration::from_millis(5)).await;
            drop(second);
        });
        let start = tokio::time::Instant::now();
        assert!(merged.next().await.is_none());
        assert_eq!(start.elapsed(), Duration::from_millis(10));
    }

    #[tokio::test(start_paused = true)]
    async fn adds_sources_while_running() {
        let mut merged = merge([("a", slow(texts("a", 3), Duration::from_millis(10)))]);
        let handle = merged.handle();
        let first = merged.next().await.unwrap().unwrap();
        assert_eq!(first.origin.source.as_deref(), Some("a"));

        let adder = handle.clone();
        tokio::spawn(async move {
            sleep(Duration::from_millis(1)).await;
            adder
                .add("b", slow(texts("b", 2), Duration::from_millis(1)))
                .unwrap();
        });
        drop(handle);
        let out = ok_pairs(merged.collect().await);
        assert_eq!(from(&out, "a"), ["a1", "a2"]);
        assert_eq!(from(&out, "b"), ["b0", "b1"]);
        // Added at 11 ms with 1 ms delays: b arrives before a's next item at 20 ms.
        assert_eq!(out[0].0, "b");
    }

    #[tokio::test]
    async fn adding_to_a_dropped_merge_gives_the_stream_back() {
        let merged = Merge::new();
        let handle = merged.handle();
        drop(merged);
        assert!(handle.is_closed());
        assert!(handle.add("x", stream::iter(texts("x", 1))).is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn continue_forwards_failures_and_the_others_go_on() {
        let failing = slow(
            vec![
                Ok(Event::text_delta("f0")),
                Err(Error::provider("boom")),
                Ok(Event::error(ErrorKind::Internal, "oops")),
                Ok(Event::text_delta("f1")),
            ],
            Duration::from_millis(1),
        );
        let steady = slow(texts("s", 10), Duration::from_millis(1));
        let out: Vec<_> = merge([("f", failing), ("s", steady)]).collect().await;
        assert_eq!(out.len(), 14);
        assert!(out.contains(&Err(Error::provider("boom"))));
        assert!(out.iter().any(|e| e.as_ref().is_ok_and(
            |e| e.kind() == crate::Kind::Error && e.origin.source.as_deref() == Some("f")
        )));
        assert!(!out
            .iter()
            .any(|e| e.as_ref().is_ok_and(|e| e.run_status().is_some())));
    }

    #[tokio::test(start_paused = true)]
    async fn fail_fast_ends_with_a_failed_run_end_and_drops_the_others() {
        let dropped = Arc::new(AtomicBool::new(false));
        let guard = DropGuard(dropped.clone());
        let other: BoxEventStream = Box::pin(async_stream::stream! {
            let _guard = guard;
            loop {
                sleep(Duration::from_millis(1)).await;
                yield Ok(Event::text_delta("other"));
            }
        });
        let failing = slow(
            vec![Ok(Event::text_delta("ok")), Err(Error::provider("boom"))],
            Duration::from_millis(10),
        );
        let mut merged =
            merge([("other", other), ("bad", failing)]).policy(FailurePolicy::FailFast);
        let handle = merged.handle();

        let mut out = Vec::new();
        loop {
            let item = merged.next().await.unwrap();
            let failed = item.is_err();
            out.push(item);
            if failed {
                break;
            }
        }
        assert!(
            dropped.load(Ordering::SeqCst),
            "the other source still runs"
        );
        assert!(handle.is_closed());
        let end = merged.next().await.unwrap().unwrap();
        assert_eq!(end.run_status(), Some(RunStatus::Failed));
        assert_eq!(end.origin.source.as_deref(), Some("bad"));
        assert!(merged.next().await.is_none());
        // The other source kept streaming until the failure.
        assert!(out.len() > 10);
    }

    #[tokio::test]
    async fn fail_fast_on_an_error_event_keeps_its_envelope() {
        let bad = stream::iter(vec![Ok(
            Event::error(ErrorKind::Timeout, "late").with_seq(4)
        )]);
        let out: Vec<_> = merge([("bad", bad)])
            .policy(FailurePolicy::FailFast)
            .collect()
            .await;
        assert_eq!(out.len(), 2);
        let end = out[1].as_ref().unwrap();
        assert_eq!((end.seq, end.origin.source.as_deref()), (4, Some("bad")));
        assert_eq!(end.run_status(), Some(RunStatus::Failed));
    }

    #[tokio::test(start_paused = true)]
    async fn the_layer_merges_the_wrapped_stream_with_handle_additions() {
        let layer = MergeLayer::new("main").policy(FailurePolicy::Continue);
        let handle = layer.handle();
        let pipeline = Pipeline::new().layer(layer.clone());
        let mut merged = pipeline.apply(slow(texts("m", 3), Duration::from_millis(2)));
        handle
            .add("side", slow(texts("s", 2), Duration::from_millis(3)))
            .unwrap();
        drop(handle);
        let mut out = Vec::new();
        while let Some(item) = merged.next().await {
            out.push(item);
        }
        let out = ok_pairs(out);
        assert_eq!(from(&out, "main"), ["m0", "m1", "m2"]);
        assert_eq!(from(&out, "side"), ["s0", "s1"]);

        // A second application does not share the first one's handles.
        let again: Vec<_> = layer.layer(stream::iter(texts("x", 1))).collect().await;
        assert_eq!(again.len(), 1);
    }

    #[tokio::test]
    async fn reuses_slots_without_confusing_stale_entries() {
        let mut merged = merge([("a", stream::iter(texts("a", 1)))]);
        assert!(merged.next().await.is_some());
        assert!(merged.next().await.is_none());
        merged.push("b", stream::iter(texts("b", 2)));
        merged.push("c", stream::iter(texts("c", 2)));
        let out = ok_pairs(merged.collect().await);
        assert_eq!(from(&out, "b"), ["b0", "b1"]);
        assert_eq!(from(&out, "c"), ["c0", "c1"]);
    }
}
