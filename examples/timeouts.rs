//! Timeouts: idle, first-event and total deadlines end a run with a typed
//! `timeout` error and a `timed_out` run end.
//!
//! When a deadline passes, the timeout layer drops the stream it guards (which
//! cancels the model request and tools behind it), then yields an `error`
//! event of kind `timeout` naming the deadline and a `timed_out` run end. Both
//! are ordinary events, so every sink shows how the run ended.
//!
//! Run it with `cargo run -p agentor-examples --example timeouts`.
#![allow(clippy::print_stdout)] // printing how each run ended is the point

use std::time::{Duration, Instant};

use agentor::providers::Demo;
use agentor::source::Script;
use agentor::{Agentor, ErrorKind, Event, EventKind, EventStreamExt, RunStatus, TimeoutLayer};
use futures::{Stream, StreamExt};

/// Runs `stream` to its end; prints and returns the timeout error and the status.
async fn outcome(
    name: &str,
    stream: impl Stream<Item = agentor::EventResult>,
) -> (Option<String>, Option<RunStatus>) {
    let started = Instant::now();
    let (mut error, mut status, mut deltas) = (None, None, 0);
    let mut stream = std::pin::pin!(stream);
    while let Some(item) = stream.next().await {
        let event = item.unwrap_or_else(|err| err.to_event());
        match &event.kind {
            EventKind::TextDelta { .. } => deltas += 1,
            EventKind::Error {
                kind: ErrorKind::Timeout,
                message,
            } => error = Some(message.to_string()),
            EventKind::RunEnd { status: end } => status = Some(*end),
            _ => {}
        }
    }
    println!(
        "{name:>12}: {deltas:>2} deltas, then {:?} → {:?} after {:?}",
        error.as_deref().unwrap_or("-"),
        status,
        started.elapsed()
    );
    (error, status)
}

#[tokio::main]
async fn main() {
    let ms = Duration::from_millis;

    // Idle: the model stalls for 10 s mid-answer; 100 ms of silence is enough.
    let stalls = Script::new()
        .text(ms(5), ["Let me", " think"])
        .after(Duration::from_secs(10), Event::text_delta("…"))
        .into_stream();
    let idle = outcome("idle", stalls.timeouts(TimeoutLayer::new().idle(ms(100)))).await;

    // First event: nothing at all arrives (a model queueing the request).
    let silent = Script::new()
        .after(Duration::from_secs(10), Event::text_delta("late"))
        .into_stream();
    let first = outcome(
        "first event",
        silent.timeouts(TimeoutLayer::new().first_event(ms(100))),
    )
    .await;

    // Total: a real (demo) agent run that takes longer than its budget.
    let agent = Agentor::builder()
        .name("Slow")
        .provider(Demo::with_delay(ms(20)))
        .build();
    let run = agent.stream_chat("A long question that takes a while to answer");
    let total = outcome("total", run.timeouts(TimeoutLayer::new().total(ms(150)))).await;

    // The same run with room to finish is untouched.
    let run = agent.stream_chat("Hi");
    let roomy = outcome(
        "no timeout",
        run.timeouts(TimeoutLayer::new().total(ms(5_000))),
    )
    .await;

    for (name, (error, status)) in [("idle", idle), ("first", first), ("total", total)] {
        assert_eq!(status, Some(RunStatus::TimedOut), "{name}");
        assert!(
            error.is_some_and(|m| m.contains(name)),
            "{name}: the error names the deadline"
        );
    }
    assert_eq!(roomy, (None, Some(RunStatus::Completed)));
}
