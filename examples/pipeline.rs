//! A scripted agent run through a `Pipeline`, written out as server-sent events.
//!
//! The pipeline drops the complete message (a streaming client already has the
//! deltas), re-cuts the model's ragged deltas at word boundaries, batches and
//! coalesces them, guards the run with deadlines and counts what passes. Each
//! event goes to stdout as an SSE frame; the counts go to stderr at the end.
//!
//! Run it with `cargo run -p agentor-examples --example pipeline`.

use std::time::Duration;

use agentor_core::source::Script;
use agentor_core::wire::{sse, Format};
use agentor_core::{BatchLayer, Boundary, Event, EventKind, FilterLayer, Kind, Pipeline};
use agentor_core::{ProgressLayer, RunStatus, TimeoutLayer};
use bytes::BytesMut;
use futures::StreamExt;
use serde_json::json;
use tokio::io::AsyncWriteExt;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let ms = Duration::from_millis;
    let (agent, model) = ("weather".into(), Some("gpt-4o-mini".into()));
    let call = Event::tool_call("call-1", "get_weather", json!({"city": "Paris"}));
    let result = Event::tool_result("call-1", "get_weather", "18°C, sunny");
    let usage = EventKind::Usage {
        input_tokens: 42,
        output_tokens: 17,
        total_tokens: 59,
        cache_read_input_tokens: 0,
        cache_creation_input_tokens: 0,
    };
    let intro = ["Let", " me c", "heck ", "the w", "eathe", "r."];
    let answer = [" It", "'s 18", "°C an", "d sun", "ny in", " Pari", "s."];
    let run = Script::new() // a model streaming ragged pieces of 1-6 characters
        .then(Event::new(EventKind::RunStart { agent, model }).with_run_id("run-1"))
        .text(ms(5), intro)
        .then(call)
        .after(ms(40), result) // the tool takes a while
        .text(ms(5), answer)
        .then(Event::message(intro.concat() + &answer.concat()))
        .then(Event::new(usage))
        .end(RunStatus::Completed);

    let progress = ProgressLayer::new();
    let counts = progress.handle();
    let mut events = Pipeline::new() // in reading order: the filter sees events first
        .filter_events(FilterLayer::new().exclude_kinds(Kind::Message))
        .rebuffer(Boundary::Words)
        .batch(BatchLayer::new().max_wait(Some(ms(20))).coalesce(true))
        .timeouts(TimeoutLayer::new().idle(ms(500)).total(ms(5_000)))
        .progress(progress)
        .apply(run.into_stream());

    let (mut stdout, mut frame) = (tokio::io::stdout(), BytesMut::new());
    while let Some(item) = events.next().await {
        let event = item.unwrap_or_else(|err| err.to_event()); // a failure is a value on the wire
        sse::encode_event(Format::Native, &event, &mut frame);
        stdout.write_all_buf(&mut frame).await?;
    }
    stdout.flush().await?;
    eprintln!("{:?}", counts.snapshot());
    Ok(())
}
