//! Custom event filtering: keep only what a client needs, by kind (native or
//! Python Agentor names), by tool, or by any predicate.
//!
//! The same demo agent runs four times through four filters. `KindSet` parses
//! the compatibility names, so `"run_item_stream_event"` means what it meant in
//! Python Agentor (messages, reasoning summaries, tool calls and results).
//! Filters never hide an `Err` item: a failure always reaches the consumer.
//!
//! Run it with `cargo run -p agentor-examples --example event_filtering`.
#![allow(clippy::print_stdout)] // printing what each filter kept is the point

use std::time::Duration;

use agentor::providers::Demo;
use agentor::{Agentor, EventStreamExt, FilterLayer, Kind, KindSet, Tool, ToolError};
use futures::StreamExt;
use serde_json::{json, Value};

/// Runs the agent through `filter` and returns the kinds that passed.
async fn kept(agent: &Agentor, filter: FilterLayer) -> Result<Vec<Kind>, agentor::Error> {
    let events = agent.stream_chat("Paris").filter_events(filter);
    let kinds: Vec<_> = events.map(|item| item.map(|e| e.kind())).collect().await;
    kinds.into_iter().collect()
}

fn tool(name: &'static str) -> Tool {
    Tool::new(
        name,
        "Looks something up.",
        json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
        move |args: Value| async move { Ok::<_, ToolError>(format!("{name}: {}", args["city"])) },
    )
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let agent = Agentor::builder()
        .name("Weather")
        .tool(tool("get_weather"))
        .provider(Demo::with_delay(Duration::from_millis(1)))
        .build();

    // 1. Python Agentor's names, plus a native one.
    let items: KindSet = "run_item_stream_event, run_end".parse()?;
    let kinds = kept(&agent, FilterLayer::new().include_kinds(items)).await?;
    println!("run_item_stream_event, run_end → {kinds:?}");
    assert_eq!(
        kinds,
        [
            Kind::ToolCall,
            Kind::ToolResult,
            Kind::Message,
            Kind::RunEnd
        ]
    );

    // 2. Just the answer's text and how the run ended.
    let text_only = KindSet::of(Kind::TextDelta).with(Kind::RunEnd);
    let kinds = kept(&agent, text_only.into()).await?;
    println!(
        "text_delta, run_end → {} deltas, then {:?}",
        kinds.len() - 1,
        kinds.last()
    );
    assert!(kinds[..kinds.len() - 1]
        .iter()
        .all(|k| *k == Kind::TextDelta));

    // 3. Everything except one tool's calls and results, and reasoning.
    let no_weather = FilterLayer::new()
        .exclude_tools(["get_weather"])
        .exclude_kinds(Kind::ReasoningDelta);
    let kinds = kept(&agent, no_weather).await?;
    println!("without get_weather and reasoning → {} events", kinds.len());
    assert!(!kinds.contains(&Kind::ToolCall) && !kinds.contains(&Kind::ReasoningDelta));

    // 4. Any predicate: the deltas that contain a digit (and the run end).
    let digits = FilterLayer::new().predicate(|e| {
        e.kind() == Kind::RunEnd
            || (e.kind() == Kind::TextDelta
                && e.text()
                    .is_some_and(|t| t.chars().any(|c| c.is_ascii_digit())))
    });
    let texts: Vec<String> = agent
        .stream_chat("Paris in 2 days")
        .filter_events(digits)
        .filter_map(|item| async move { item.ok()?.text().map(str::to_owned) })
        .collect()
        .await;
    println!("deltas with a digit → {texts:?}");
    assert!(!texts.is_empty() && texts.iter().all(|t| t.chars().any(|c| c.is_ascii_digit())));
    Ok(())
}
