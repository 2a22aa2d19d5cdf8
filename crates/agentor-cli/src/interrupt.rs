//! Ctrl-C: [`Interruptible`], a run that Ctrl-C ends with a `cancelled` run
//! end, and [`outside_a_run`], which stops a command that has no run under
//! way (exit 130 instead of the default SIGINT kill).
//!
//! [`outside_a_run`] is the one listener for the first Ctrl-C. It decides,
//! in the command's own task and before the command is polled again, who
//! handles it: a run that has begun (an [`Interruptible`] polled once) ends
//! itself cancelled; otherwise the command is dropped.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use agentor_core::{Event, EventResult, RunStatus};
use futures::Stream;
use pin_project_lite::pin_project;
use tokio::sync::Notify;

/// Whether Ctrl-C was pressed (so a `cancelled` run end is ours, not recorded).
static INTERRUPTED: AtomicBool = AtomicBool::new(false);
/// Told when [`INTERRUPTED`] is set.
static PRESSED: Notify = Notify::const_new();
/// Whether a run has begun that handles Ctrl-C itself (an [`Interruptible`]
/// was polled). It stays set: after its run end, the command finishing its
/// output and recording is still the run's business.
static RUN_IN_CHARGE: AtomicBool = AtomicBool::new(false);

/// Whether Ctrl-C was pressed in this process.
pub(crate) fn was_interrupted() -> bool {
    INTERRUPTED.load(Ordering::Acquire)
}

/// Completes on Ctrl-C (SIGINT), as [`outside_a_run`] hears it; so it never
/// completes in a command that does not listen (`serve` has its own
/// shutdown).
pub(crate) async fn ctrl_c() {
    loop {
        let pressed = PRESSED.notified();
        let mut pressed = std::pin::pin!(pressed);
        // Registered before the check, so a press in between is not missed.
        pressed.as_mut().enable();
        if was_interrupted() {
            return;
        }
        pressed.await;
    }
}

/// Listens for Ctrl-C and completes on it unless a run has begun, which
/// then ends itself cancelled (this future then never completes). Race it
/// against the command, polled first (`biased`), so the choice is made
/// before the command sees the press. If the handler cannot be installed,
/// it never completes.
pub(crate) async fn outside_a_run() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
    INTERRUPTED.store(true, Ordering::Release);
    PRESSED.notify_waiters();
    if RUN_IN_CHARGE.load(Ordering::Acquire) {
        std::future::pending::<()>().await;
    }
}

/// Told when stdout's reader went away (`agentor … | head`).
static READER_GONE: Notify = Notify::const_new();
/// Whether [`reader_gone`] was called in this process.
static READER_WENT_AWAY: AtomicBool = AtomicBool::new(false);

/// Ends the run being shown as Ctrl-C would (its [`Interruptible`] yields a
/// `cancelled` run end), because nobody reads stdout any more.
pub(crate) fn reader_gone() {
    READER_WENT_AWAY.store(true, Ordering::Release);
    READER_GONE.notify_one();
}

/// Whether stdout's reader went away, cutting the run short (a success,
/// which still leaves work behind to [`settle`]).
pub(crate) fn reader_went_away() -> bool {
    READER_WENT_AWAY.load(Ordering::Acquire)
}

/// Completes on Ctrl-C or when stdout's reader went away: what ends a run
/// early.
pub(crate) async fn stop() {
    tokio::select! {
        () = ctrl_c() => {}
        () = READER_GONE.notified() => {}
    }
}

/// The longest [`settle`] waits.
pub(crate) const SETTLE: Duration = Duration::from_secs(5);

/// Lets the tasks that streams dropped early left behind finish — an A2A
/// client cancelling its remote task sends that request from a task of its
/// own — for up to 5 s, or until Ctrl-C is pressed (again).
pub(crate) async fn settle() {
    let metrics = tokio::runtime::Handle::current().metrics();
    let finished = async {
        let deadline = tokio::time::Instant::now() + SETTLE;
        while metrics.num_alive_tasks() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    tokio::select! {
        () = finished => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

pin_project! {
    /// Passes the run's events on until `signal` completes; then drops the
    /// run (cancelling the model request and tools: drop = cancel), yields a
    /// `cancelled` run end in the run's envelope, and ends.
    ///
    /// It sits right after the provider, so everything downstream — the
    /// recorder, the layers, the printer — sees an explicit end and finishes
    /// its work (a recording ends with the run end and is flushed).
    pub(crate) struct Interruptible<S, F> {
        run: Option<S>,
        #[pin]
        signal: F,
        // The last event seen, whose envelope the run end continues.
        last: Option<Event>,
    }
}

impl<S, F> Interruptible<S, F> {
    pub(crate) fn new(run: S, signal: F) -> Self {
        Interruptible {
            run: Some(run),
            signal,
            last: None,
        }
    }
}

impl<S, F> Stream for Interruptible<S, F>
where
    S: Stream<Item = EventResult> + Unpin,
    F: Future<Output = ()>,
{
    type Item = EventResult;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<EventResult>> {
        let this = self.project();
        let Some(run) = this.run.as_mut() else {
            return Poll::Ready(None);
        };
        // From now on a Ctrl-C is this run's to handle.
        RUN_IN_CHARGE.store(true, Ordering::Release);
        if this.signal.poll(cx).is_ready() {
            *this.run = None;
            let cancelled = Event::run_end(RunStatus::Cancelled);
            let end = match this.last.take() {
                Some(last) => {
                    let mut end = last.derive(cancelled.kind);
                    end.seq = last.seq.saturating_add(1);
                    end
                }
                None => cancelled,
            };
            return Poll::Ready(Some(Ok(end)));
        }
        match Pin::new(run).poll_next(cx) {
            Poll::Ready(Some(Ok(event))) => {
                if event.run_status().is_some() {
                    // The run ended by itself: a later signal cancels nothing.
                    *this.last = None;
                } else {
                    *this.last = Some(event.clone());
                }
                Poll::Ready(Some(Ok(event)))
            }
            Poll::Ready(None) => {
                *this.run = None;
                Poll::Ready(None)
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use agentor_core::source::Script;
    use futures::StreamExt;

    #[tokio::test(start_paused = true)]
    async fn the_signal_drops_the_run_and_ends_it_cancelled() {
        let run = Script::new()
            .raw(
                Duration::ZERO,
                Ok(Event::text_delta("a").with_seq(4).with_run_id("r")),
            )
            .after(Duration::from_secs(10), Event::text_delta("never"))
            .end(RunStatus::Completed)
            .into_stream();
        let mut events = std::pin::pin!(Interruptible::new(
            Box::pin(run),
            tokio::time::sleep(Duration::from_secs(1)),
        ));
        let mut out = Vec::new();
        while let Some(item) = events.next().await {
            out.push(item.unwrap());
        }
        assert_eq!(out.len(), 2);
        assert_eq!(out[1].run_status(), Some(RunStatus::Cancelled));
        assert_eq!(
            (out[1].seq, out[1].origin.run_id.as_deref()),
            (5, Some("r"))
        );
    }

    #[tokio::test]
    async fn without_the_signal_the_run_passes_unchanged() {
        let run = agentor_core::source::demo_text(["a", "b"]);
        let events = Interruptible::new(run, std::future::pending::<()>());
        let kinds: Vec<_> = events.map(|e| e.unwrap().kind()).collect().await;
        assert_eq!(kinds.len(), 4);
    }
}
