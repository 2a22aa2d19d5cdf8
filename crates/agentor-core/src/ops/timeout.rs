//! Idle, first-event and total deadlines that end a stream with a typed timeout.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_core::Stream;
use pin_project_lite::pin_project;
use tokio::time::{Instant, Sleep};
use tower_layer::Layer;

use crate::{ErrorKind, Event, EventKind, EventResult, Origin, RunStatus};

/// The timeout operator's layer: idle, first-event and total deadlines.
///
/// When a deadline passes, the stream drops its input at once (cancelling the
/// provider behind it), then yields an [`EventKind::Error`] of kind
/// [`ErrorKind::Timeout`] naming the deadline and a `timed_out`
/// [`EventKind::RunEnd`], then ends. Both are `Ok` events, so a consumer that
/// stops at the first `Err` still sees how the run ended.
///
/// - **idle**: no item for this long (counted from the first poll, then from
///   the moment the stream waits after an item);
/// - **first event**: no item this long after the first poll;
/// - **total**: the whole stream must end within this long of its first poll.
///   A ready input is checked every 256 items (the item that finds the
///   deadline passed is still delivered, before the timeout).
///
/// The synthesized events carry the `seq` after the last event's and the
/// source and run id of the first event seen.
///
/// ```
/// use std::time::Duration;
/// use agentor_core::{source::Script, Event, EventStreamExt, Kind, TimeoutLayer};
/// use futures_util::StreamExt;
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let stalled = Script::new()
///     .then(Event::text_delta("Hel"))
///     .after(Duration::from_secs(60), Event::text_delta("lo"))
///     .into_stream();
/// let kinds: Vec<Kind> = stalled
///     .timeouts(TimeoutLayer::new().idle(Duration::from_secs(5)))
///     .map(|e| e.unwrap().kind())
///     .collect()
///     .await;
/// assert_eq!(kinds, [Kind::TextDelta, Kind::Error, Kind::RunEnd]);
/// # }
/// ```
#[derive(Clone, Debug, Default)]
pub struct TimeoutLayer {
    idle: Option<Duration>,
    first_event: Option<Duration>,
    total: Option<Duration>,
}

impl TimeoutLayer {
    /// No deadlines yet.
    pub fn new() -> Self {
        TimeoutLayer::default()
    }

    /// Ends the stream when no item arrives for `idle`.
    #[must_use]
    pub fn idle(mut self, idle: Duration) -> Self {
        self.idle = Some(idle);
        self
    }

    /// Ends the stream when the first item takes longer than `wait`.
    #[must_use]
    pub fn first_event(mut self, wait: Duration) -> Self {
        self.first_event = Some(wait);
        self
    }

    /// Ends the stream when it runs longer than `total`.
    #[must_use]
    pub fn total(mut self, total: Duration) -> Self {
        self.total = Some(total);
        self
    }
}

impl<S> Layer<S> for TimeoutLayer {
    type Service = Timeout<S>;

    fn layer(&self, inner: S) -> Timeout<S> {
        Timeout {
            inner: Some(inner),
            config: self.clone(),
            timer: None,
            deadlines: Deadlines::default(),
            started: false,
            items: 0,
            seen_event: false,
            active: false,
            next_seq: 0,
            origin: Origin::none(),
            ending: Ending::No,
        }
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct Deadlines {
    total: Option<Instant>,
    first_event: Option<Instant>,
    idle: Option<Instant>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Which {
    Idle,
    FirstEvent,
    Total,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ending {
    No,
    Error(Which),
    RunEnd,
    Done,
}

impl Deadlines {
    fn earliest(&self) -> Option<Instant> {
        [self.total, self.first_event, self.idle]
            .into_iter()
            .flatten()
            .min()
    }

    fn expired(&self, now: Instant) -> Option<Which> {
        let passed = |d: Option<Instant>| d.is_some_and(|d| d <= now);
        if passed(self.total) {
            Some(Which::Total)
        } else if passed(self.first_event) {
            Some(Which::FirstEvent)
        } else if passed(self.idle) {
            Some(Which::Idle)
        } else {
            None
        }
    }
}

pin_project! {
    /// Stream for [`EventStreamExt::timeouts`](crate::EventStreamExt::timeouts).
    #[must_use = "streams do nothing unless polled"]
    pub struct Timeout<S> {
        #[pin]
        inner: Option<S>,
        config: TimeoutLayer,
        // Boxed so the stream is `Unpin` whenever its input is.
        timer: Option<Pin<Box<Sleep>>>,
        deadlines: Deadlines,
        started: bool,
        items: u64,
        seen_event: bool,
        // An item arrived since the idle deadline was last set.
        active: bool,
        next_seq: u64,
        // The first event's source and run id (not its parent: a timeout
        // ends the whole run).
        origin: Origin,
        ending: Ending,
    }
}

impl<S: fmt::Debug> fmt::Debug for Timeout<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timeout")
            .field("inner", &self.inner)
            .field("config", &self.config)
            .field("items", &self.items)
            .finish()
    }
}

impl<S> Timeout<S> {
    fn expire(self: Pin<&mut Self>, which: Which) {
        let mut this = self.project();
        // Dropping the input is what cancels the work behind it.
        this.inner.set(None);
        *this.ending = Ending::Error(which);
    }

    fn message(&self, which: Which) -> String {
        let secs = |d: Option<Duration>| d.unwrap_or_default().as_secs_f64();
        match which {
            Which::Idle => format!("no event for {}s (idle timeout)", secs(self.config.idle)),
            Which::FirstEvent => format!(
                "no first event within {}s (first-event timeout)",
                secs(self.config.first_event)
            ),
            Which::Total => format!(
                "run exceeded its {}s deadline (total timeout)",
                secs(self.config.total)
            ),
        }
    }
}

impl<S: Stream<Item = EventResult>> Stream for Timeout<S> {
    type Item = EventResult;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<EventResult>> {
        match self.ending {
            Ending::No => {}
            Ending::Error(which) => {
                let message = self.message(which);
                let this = self.as_mut().get_mut_ending();
                *this = Ending::RunEnd;
                let event = self.as_mut().synthesize(EventKind::Error {
                    kind: ErrorKind::Timeout,
                    message: message.into(),
                });
                return Poll::Ready(Some(Ok(event)));
            }
            Ending::RunEnd => {
                *self.as_mut().get_mut_ending() = Ending::Done;
                let event = self.as_mut().synthesize(EventKind::RunEnd {
                    status: RunStatus::TimedOut,
                });
                return Poll::Ready(Some(Ok(event)));
            }
            Ending::Done => return Poll::Ready(None),
        }

        let this = self.as_mut().project();
        if !*this.started {
            *this.started = true;
            let now = Instant::now();
            let after = |d: Option<Duration>| d.map(|d| now + d);
            *this.deadlines = Deadlines {
                total: after(this.config.total),
                first_event: after(this.config.first_event),
                idle: after(this.config.idle),
            };
            if let Some(at) = this.deadlines.earliest() {
                *this.timer = Some(Box::pin(tokio::time::sleep_until(at)));
            }
        }
        let Some(inner) = this.inner.as_pin_mut() else {
            return Poll::Ready(None);
        };
        // Returned as polled, not taken apart and wrapped again (each move
        // of an `Event` costs more than the bookkeeping here).
        let polled = inner.poll_next(cx);
        match &polled {
            Poll::Ready(Some(item)) => {
                let this = self.as_mut().project();
                this.deadlines.first_event = None;
                if let Ok(event) = item {
                    if !*this.seen_event {
                        *this.seen_event = true;
                        *this.origin = if event.origin.parent.is_none() {
                            event.origin.clone()
                        } else {
                            let first = &event.origin;
                            Origin::new(first.source.clone(), first.run_id.clone(), None)
                        };
                    }
                    *this.next_seq = event.seq + 1;
                }
                *this.items += 1;
                *this.active = true;
                // A ready input never waits on the timer; look at the clock now
                // and then. This item still goes out; the timeout follows it.
                if *this.items % 256 == 0
                    && this.deadlines.total.is_some_and(|t| t <= Instant::now())
                {
                    self.as_mut().expire(Which::Total);
                }
                polled
            }
            Poll::Ready(None) => {
                *self.as_mut().get_mut_ending() = Ending::Done;
                Poll::Ready(None)
            }
            Poll::Pending => {
                let this = self.as_mut().project();
                let Some(timer) = this.timer.as_mut() else {
                    return Poll::Pending;
                };
                if *this.active {
                    // One clock read per wait, not per item.
                    *this.active = false;
                    if let Some(idle) = this.config.idle {
                        this.deadlines.idle = Some(Instant::now() + idle);
                    }
                }
                let Some(at) = this.deadlines.earliest() else {
                    return Poll::Pending;
                };
                if timer.deadline() != at {
                    timer.as_mut().reset(at);
                }
                if timer.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                // The timer always holds the earliest deadline, so one has passed.
                let which = this.deadlines.expired(at).unwrap_or(Which::Total);
                self.as_mut().expire(which);
                self.poll_next(cx)
            }
        }
    }
}

impl<S> Timeout<S> {
    fn get_mut_ending(self: Pin<&mut Self>) -> &mut Ending {
        self.project().ending
    }

    fn synthesize(self: Pin<&mut Self>, kind: EventKind) -> Event {
        let this = self.project();
        let seq = *this.next_seq;
        *this.next_seq += 1;
        Event {
            seq,
            origin: this.origin.clone(),
            kind,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::source::Script;
    use crate::{Error, EventStreamExt, Kind};
    use futures_util::StreamExt;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    async fn kinds_and_elapsed<S: Stream<Item = EventResult>>(s: S) -> (Vec<Kind>, Duration) {
        let start = Instant::now();
        let kinds = s
            .map(|e| e.map_or(Kind::Error, |e| e.kind()))
            .collect()
            .await;
        (kinds, start.elapsed())
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[tokio::test(start_paused = true)]
    async fn idle_counts_from_the_last_event() {
        let script = Script::new()
            .after(secs(3), Event::text_delta("a"))
            .after(secs(3), Event::text_delta("b"))
            .after(secs(10), Event::text_delta("c"));
        let (kinds, elapsed) = kinds_and_elapsed(
            script
                .into_stream()
                .timeouts(TimeoutLayer::new().idle(secs(4))),
        )
        .await;
        assert_eq!(
            kinds,
            [Kind::TextDelta, Kind::TextDelta, Kind::Error, Kind::RunEnd]
        );
        assert_eq!(elapsed, secs(10));
    }

    #[tokio::test(start_paused = true)]
    async fn first_event_deadline_only_applies_before_the_first_event() {
        let late = Script::new().after(secs(6), Event::text_delta("a"));
        let (kinds, elapsed) = kinds_and_elapsed(
            late.into_stream()
                .timeouts(TimeoutLayer::new().first_event(secs(5))),
        )
        .await;
        assert_eq!((kinds, elapsed), (vec![Kind::Error, Kind::RunEnd], secs(5)));

        let slow_after = Script::new()
            .after(secs(1), Event::text_delta("a"))
            .after(secs(20), Event::text_delta("b"));
        let (kinds, _) = kinds_and_elapsed(
            slow_after
                .into_stream()
                .timeouts(TimeoutLayer::new().first_event(secs(5))),
        )
        .await;
        assert_eq!(kinds, [Kind::TextDelta, Kind::TextDelta]);
    }

    #[tokio::test(start_paused = true)]
    async fn total_deadline_ends_a_busy_stream() {
        let busy = Script::new().text(secs(1), ["a"; 100]);
        let out: Vec<Event> = busy
            .into_stream()
            .timeouts(
                TimeoutLayer::new()
                    .total(Duration::from_millis(9500))
                    .idle(secs(5)),
            )
            .map(Result::unwrap)
            .collect()
            .await;
        assert_eq!(out.len(), 9 + 2);
        let error = &out[9];
        assert!(
            matches!(&error.kind, EventKind::Error { kind: ErrorKind::Timeout, message } if message.contains("total"))
        );
        assert_eq!(error.seq, 9);
        assert_eq!(out[10].run_status(), Some(RunStatus::TimedOut));
        assert_eq!(out[10].seq, 10);
    }

    #[tokio::test(start_paused = true)]
    async fn expiry_drops_the_input() {
        let dropped = Arc::new(AtomicBool::new(false));
        struct Guard(Arc<AtomicBool>);
        impl Drop for Guard {
            fn drop(&mut self) {
                self.0.store(true, Ordering::SeqCst);
            }
        }
        let guard = Guard(dropped.clone());
        let never = futures_util::stream::pending::<EventResult>().map(move |e| {
            let _keep = &guard;
            e
        });
        let mut s = never.timeouts(TimeoutLayer::new().idle(secs(1)));
        let error = s.next().await.unwrap().unwrap();
        assert_eq!(error.kind(), Kind::Error);
        assert!(
            dropped.load(Ordering::SeqCst),
            "dropped before the timeout error is seen"
        );
        assert_eq!(s.next().await.unwrap().unwrap().kind(), Kind::RunEnd);
        assert!(s.next().await.is_none());
        assert!(s.next().await.is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn passes_errors_and_a_normal_end_through() {
        let script = Script::new()
            .then(Event::text_delta("a").with_source("S"))
            .fail(secs(1), Error::provider("x"))
            .end(RunStatus::Failed);
        let out: Vec<EventResult> = script
            .into_stream()
            .timeouts(TimeoutLayer::new().idle(secs(2)).total(secs(60)))
            .collect()
            .await;
        assert_eq!(out.len(), 3);
        assert_eq!(out[1], Err(Error::provider("x")));
    }

    #[tokio::test(start_paused = true)]
    async fn a_ready_input_past_its_deadline_loses_nothing() {
        let ready = crate::source::iter((0..1000).map(|_| Event::text_delta("x")));
        let mut s = ready.timeouts(TimeoutLayer::new().total(Duration::from_millis(100)));
        let mut out = vec![s.next().await.unwrap().unwrap()];
        // The input never waits, so only the every-256 check can see this.
        tokio::time::advance(Duration::from_millis(200)).await;
        out.extend(s.map(Result::unwrap).collect::<Vec<_>>().await);
        let tail: Vec<_> = out
            .iter()
            .rev()
            .take(3)
            .map(|e| (e.seq, e.kind()))
            .collect();
        assert_eq!(out.len(), 256 + 2, "{tail:?}");
        let seqs: Vec<u64> = out.iter().map(|e| e.seq).collect();
        assert_eq!(
            seqs,
            (0..258).collect::<Vec<_>>(),
            "no item dropped, no seq skipped"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn timeout_events_take_the_first_events_source_even_after_an_err() {
        let script = Script::new()
            .fail(Duration::ZERO, Error::provider("flaky"))
            .then(Event::text_delta("a").with_source("S").with_run_id("r"))
            .after(secs(10), Event::text_delta("late"));
        let out: Vec<EventResult> = script
            .into_stream()
            .timeouts(TimeoutLayer::new().idle(secs(1)))
            .collect()
            .await;
        assert_eq!(out.len(), 4, "{out:?}");
        let end = out.last().unwrap().as_ref().unwrap();
        assert_eq!(
            (end.origin.source.as_deref(), end.origin.run_id.as_deref()),
            (Some("S"), Some("r"))
        );
    }

    #[tokio::test]
    async fn no_deadlines_needs_no_timer() {
        let out = futures::executor::block_on(
            crate::source::demo_text(["a"])
                .timeouts(TimeoutLayer::new())
                .count(),
        );
        assert_eq!(out, 3);
    }
}
