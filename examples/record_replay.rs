//! Record a run to a file as it streams, then replay the file and compare.
//!
//! `.record(file)` writes every event that passes as a native JSON line (the
//! recording format) without changing the stream; `wire::read_json_lines`
//! reads the file back as an event stream, so a recording is itself a source.
//! The replay must equal what passed, envelope and payload, field for field.
//!
//! Run it with `cargo run -p agentor-examples --example record_replay`.
#![allow(clippy::print_stdout)] // showing the recording is this example's point

use std::time::Duration;

use agentor_core::source::Script;
use agentor_core::wire::read_json_lines;
use agentor_core::{Boundary, Event, EventKind, EventStreamExt, Kind, RunStatus, ToolResult};
use futures::{StreamExt, TryStreamExt};
use serde_json::json;
use tokio::io::BufReader;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let ms = Duration::from_millis;
    let (agent, model) = ("travel".into(), Some("gpt-4o-mini".into()));
    let result = Event::new(EventKind::ToolResult(Box::new(ToolResult {
        call_id: "call-1".into(),
        name: "search_trains".into(),
        output: "3 trains, first at 07:12".into(),
        is_error: false,
        duration: Some(Duration::from_micros(41_250)), // durations survive to the nanosecond
    })));
    let run = Script::new()
        .then(Event::new(EventKind::RunStart { agent, model }))
        .text(ms(2), ["Look", "ing u", "p tra", "ins…"])
        .then(Event::tool_call(
            "call-1",
            "search_trains",
            json!({"to": "Lyon"}),
        ))
        .after(ms(10), result)
        .text(
            ms(2),
            ["\nThe f", "irst ", "leaves", " at 0", "7:12 ", "🚄"],
        )
        .end(RunStatus::Completed)
        .into_stream()
        .map_ok(|event| event.with_source("travel").with_run_id("run-42"));

    // Record what leaves the rebuffer: the pieces a client would be sent.
    let path = std::env::temp_dir().join(format!("agentor-run-{}.jsonl", std::process::id()));
    let file = tokio::fs::File::create(&path).await?;
    let mut recorded = run.rebuffer(Boundary::Words).record(file);
    let mut passed = Vec::new();
    while let Some(item) = recorded.next().await {
        passed.push(item?); // a failed write would arrive here as an `Err`
    }
    drop(recorded); // written and flushed when the stream ended

    print!("{}", tokio::fs::read_to_string(&path).await?);
    let file = BufReader::new(tokio::fs::File::open(&path).await?);
    let replayed: Vec<Event> = read_json_lines(file).try_collect().await?;
    tokio::fs::remove_file(&path).await?;

    assert_eq!(replayed, passed, "the replay is what passed");
    assert_eq!(replayed.last().map(Event::kind), Some(Kind::RunEnd));
    eprintln!(
        "recorded and replayed {} events through {}",
        replayed.len(),
        path.display()
    );
    Ok(())
}
