//! Progress tracking: count what a stream carries, read the counts from any
//! task through a handle, and have progress events in the stream itself.
//!
//! The progress layer counts events, text deltas, bytes, tool calls, results
//! and errors. Its `ProgressHandle` is read here by a separate task (as a
//! status line or a metrics exporter would) while the run streams; with
//! `every(..)` the layer also emits `progress` events a client can display.
//!
//! Run it with `cargo run -p agentor-examples --example progress_tracking`.
#![allow(clippy::print_stdout)] // printing the progress is the point

use std::time::Duration;

use agentor::providers::Demo;
use agentor::{Agentor, EventKind, EventStreamExt, ProgressLayer, Tool, ToolError};
use futures::StreamExt;
use serde_json::{json, Value};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let slow_lookup = Tool::new(
        "get_weather",
        "The current weather in a city.",
        json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
        |args: Value| async move {
            tokio::time::sleep(Duration::from_millis(120)).await;
            Ok::<_, ToolError>(format!("18°C in {}", args["city"]))
        },
    );
    let agent = Agentor::builder()
        .name("Weather")
        .tool(slow_lookup)
        .provider(Demo::with_delay(Duration::from_millis(8)))
        .build();

    let layer = ProgressLayer::new().every(Duration::from_millis(100));
    let handle = layer.handle();
    let watcher = tokio::spawn({
        let handle = handle.clone();
        async move {
            loop {
                tokio::time::sleep(Duration::from_millis(60)).await;
                let now = handle.snapshot();
                eprintln!(
                    "[watcher] {:>3} events, {:>2} deltas, {:>4} bytes after {:?}",
                    now.events, now.text_deltas, now.text_bytes, now.elapsed
                );
            }
        }
    });

    let mut events = agent.stream_chat("Paris").progress(layer);
    let mut in_stream = 0;
    let mut seen = 0u64;
    while let Some(item) = events.next().await {
        let event = item?;
        seen += 1;
        if let EventKind::Progress(p) = &event.kind {
            in_stream += 1;
            println!(
                "progress event: {} events, {} deltas ({} bytes), {} tool calls, {:?}",
                p.events, p.text_deltas, p.text_bytes, p.tool_calls, p.elapsed
            );
        }
    }
    watcher.abort();

    let end = handle.snapshot();
    println!(
        "final: {} events, {} deltas, {} bytes, {} tool calls, {} results, {} errors in {:?}",
        end.events,
        end.text_deltas,
        end.text_bytes,
        end.tool_calls,
        end.tool_results,
        end.errors,
        end.elapsed
    );
    assert!(in_stream > 0, "progress events were emitted");
    assert_eq!(
        end.events + in_stream,
        seen,
        "the handle counts the run's events"
    );
    assert_eq!((end.tool_calls, end.tool_results, end.errors), (1, 1, 0));
    assert!(end.text_deltas > 0 && end.text_bytes > 0);
    Ok(())
}
