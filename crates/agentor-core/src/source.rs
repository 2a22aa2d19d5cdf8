//! Event sources for tests, examples and benchmarks.
//!
//! [`iter`] turns events into a ready stream; [`Script`] plays events with
//! delays between them, so timing behaviour can be tested under tokio's paused
//! clock without real sleeps.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_core::Stream;
use pin_project_lite::pin_project;
use tokio::time::Sleep;

use crate::{Error, Event, EventKind, EventResult, RunStatus};

/// A stream of the given events, all ready at once, numbered in order.
///
/// ```
/// use agentor_core::{source, Event};
/// use futures_util::StreamExt;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let out: Vec<_> = source::iter([Event::text_delta("a"), Event::text_delta("b")])
///     .map(|e| e.unwrap().seq)
///     .collect()
///     .await;
/// assert_eq!(out, [0, 1]);
/// # }
/// ```
pub fn iter<I>(events: I) -> Iter<I::IntoIter>
where
    I: IntoIterator<Item = Event>,
{
    Iter {
        events: events.into_iter(),
        seq: 0,
    }
}

/// A stream of the given items (events or errors), passed through as they are.
pub fn iter_results<I>(items: I) -> futures_util::stream::Iter<I::IntoIter>
where
    I: IntoIterator<Item = EventResult>,
{
    futures_util::stream::iter(items)
}

/// A well-formed run: one text delta per piece, the complete message, and a
/// `completed` run end, numbered from 0.
///
/// ```
/// use agentor_core::{source, Kind};
/// use futures_util::StreamExt;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let kinds: Vec<Kind> = source::demo_text(["Hi", " there"]).map(|e| e.unwrap().kind()).collect().await;
/// assert_eq!(kinds, [Kind::TextDelta, Kind::TextDelta, Kind::Message, Kind::RunEnd]);
/// # }
/// ```
pub fn demo_text<I>(pieces: I) -> Iter<std::vec::IntoIter<Event>>
where
    I: IntoIterator,
    I::Item: Into<crate::Text>,
{
    let mut events: Vec<Event> = pieces
        .into_iter()
        .map(|p| Event::text_delta(p.into()))
        .collect();
    let whole: String = events.iter().filter_map(Event::text).collect();
    events.push(Event::message(whole));
    events.push(Event::run_end(RunStatus::Completed));
    iter(events)
}

pin_project! {
    /// The stream returned by [`iter`].
    #[must_use = "streams do nothing unless polled"]
    #[derive(Debug)]
    pub struct Iter<I> {
        events: I,
        seq: u64,
    }
}

impl<I: Iterator<Item = Event>> Stream for Iter<I> {
    type Item = EventResult;

    fn poll_next(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<EventResult>> {
        let this = self.project();
        Poll::Ready(this.events.next().map(|mut event| {
            event.seq = *this.seq;
            *this.seq += 1;
            Ok(event)
        }))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.events.size_hint()
    }
}

/// A scripted source: items played after given delays (on tokio's clock).
///
/// Build it step by step, then turn it into a stream with
/// [`Script::into_stream`]. Events are numbered in order unless a step sets
/// its own `seq` explicitly with [`Script::raw`].
///
/// ```
/// use std::time::Duration;
/// use agentor_core::{source::Script, Event, RunStatus};
/// use futures_util::StreamExt;
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let start = tokio::time::Instant::now();
/// let stream = Script::new()
///     .after(Duration::from_millis(100), Event::text_delta("slow"))
///     .end(RunStatus::Completed)
///     .into_stream();
/// assert_eq!(stream.count().await, 2);
/// assert_eq!(start.elapsed(), Duration::from_millis(100));
/// # }
/// ```
#[derive(Debug, Default)]
pub struct Script {
    steps: VecDeque<(Duration, Option<EventResult>)>,
    seq: u64,
}

impl Script {
    /// An empty script.
    pub fn new() -> Self {
        Script::default()
    }

    /// Plays `event` right after the previous step.
    #[must_use]
    pub fn then(self, event: Event) -> Self {
        self.after(Duration::ZERO, event)
    }

    /// Plays `event` after waiting `delay`.
    #[must_use]
    pub fn after(mut self, delay: Duration, mut event: Event) -> Self {
        event.seq = self.seq;
        self.seq += 1;
        self.steps.push_back((delay, Some(Ok(event))));
        self
    }

    /// Plays `item` after `delay` exactly as given (an `Err`, or an event with its own `seq`).
    #[must_use]
    pub fn raw(mut self, delay: Duration, item: EventResult) -> Self {
        self.steps.push_back((delay, Some(item)));
        self
    }

    /// Plays an `Err` after `delay`.
    #[must_use]
    pub fn fail(self, delay: Duration, error: Error) -> Self {
        self.raw(delay, Err(error))
    }

    /// Plays a text delta for each piece, each after `delay`.
    #[must_use]
    pub fn text<I>(self, delay: Duration, pieces: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<crate::Text>,
    {
        pieces.into_iter().fold(self, |script, piece| {
            script.after(delay, Event::text_delta(piece.into()))
        })
    }

    /// Plays a run end right after the previous step.
    #[must_use]
    pub fn end(self, status: RunStatus) -> Self {
        self.then(Event::new(EventKind::RunEnd { status }))
    }

    /// Waits `delay` at the end before the stream closes.
    #[must_use]
    pub fn pause(mut self, delay: Duration) -> Self {
        self.steps.push_back((delay, None));
        self
    }

    /// The stream playing the script.
    pub fn into_stream(self) -> Scripted {
        Scripted {
            steps: self.steps,
            sleep: None,
        }
    }
}

pin_project! {
    /// The stream returned by [`Script::into_stream`].
    #[must_use = "streams do nothing unless polled"]
    #[derive(Debug)]
    pub struct Scripted {
        steps: VecDeque<(Duration, Option<EventResult>)>,
        sleep: Option<Pin<Box<Sleep>>>,
    }
}

impl Stream for Scripted {
    type Item = EventResult;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<EventResult>> {
        let this = self.project();
        loop {
            let Some((delay, _)) = this.steps.front() else {
                return Poll::Ready(None);
            };
            if !delay.is_zero() {
                let delay = *delay;
                let sleep = this
                    .sleep
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(delay)));
                std::task::ready!(sleep.as_mut().poll(cx));
                *this.sleep = None;
            }
            // A pause step has no item: it only delays the end.
            if let Some((_, Some(item))) = this.steps.pop_front() {
                return Poll::Ready(Some(item));
            }
        }
    }
}
