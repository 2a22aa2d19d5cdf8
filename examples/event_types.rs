//! Stream event types: every `EventKind`, and what each one carries.
//!
//! A demo agent with a tool produces most kinds in one run (run start,
//! reasoning, tool call and result, text deltas, the message, usage, run end);
//! a progress layer adds progress events. The kinds a single demo run does not
//! produce (reasoning summaries, agent switches, handoffs, errors) follow from
//! a scripted source, the way a multi-agent or failing run would send them.
//! Every event is described by one `match` with an arm per kind.
//!
//! Run it with `cargo run -p agentor-examples --example event_types`.
#![allow(clippy::print_stdout)] // describing each event is the point

use std::collections::BTreeSet;
use std::time::Duration;

use agentor::providers::Demo;
use agentor::source::Script;
use agentor::{Agentor, ErrorKind, Event, EventKind, EventStreamExt, Kind, ProgressLayer};
use agentor::{RunStatus, Tool, ToolError};
use futures::StreamExt;
use serde_json::json;

/// One line per event: the kind and what its payload carries.
fn describe(event: &Event) -> String {
    match &event.kind {
        EventKind::RunStart { agent, model } => format!("agent {agent}, model {model:?}"),
        EventKind::TextDelta { text, .. } => format!("{text:?}"),
        EventKind::Message { text, .. } => format!("the whole text, {} bytes", text.len()),
        EventKind::ReasoningDelta { text, .. } => format!("{text:?}"),
        EventKind::ReasoningSummary { text } => format!("{text:?}"),
        EventKind::ToolCall(call) => {
            format!("{} {} {}", call.call_id, call.name, call.arguments)
        }
        EventKind::ToolCallDelta(delta) => format!("{} += {:?}", delta.call_id, delta.delta),
        EventKind::ToolResult(result) => format!(
            "{} {} -> {:?} (error: {}, took {:?})",
            result.call_id, result.name, result.output, result.is_error, result.duration
        ),
        EventKind::AgentUpdated { agent } => format!("now running: {agent}"),
        EventKind::Handoff { from, to } => format!("{from} -> {to}"),
        EventKind::Usage {
            input_tokens,
            output_tokens,
            total_tokens,
            ..
        } => format!("{input_tokens} in, {output_tokens} out, {total_tokens} total tokens"),
        EventKind::Progress(p) => format!(
            "{} events, {} deltas ({} bytes), {} tool calls so far",
            p.events, p.text_deltas, p.text_bytes, p.tool_calls
        ),
        EventKind::Error { kind, message } => format!("{kind}: {message}"),
        EventKind::RunEnd { status } => format!("status {status}"),
        // `EventKind` is `#[non_exhaustive]`: kinds added later land here.
        other => format!("{other:?}"),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let get_weather = Tool::new(
        "get_weather",
        "The current weather in a city.",
        json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
        |args: serde_json::Value| async move {
            Ok::<_, ToolError>(format!("18°C and sunny in {}", args["city"]))
        },
    );
    let agent = Agentor::builder()
        .name("Weather")
        .tool(get_weather)
        .provider(Demo::with_delay(Duration::from_millis(2)))
        .build();
    let run = agent
        .stream_chat("Paris")
        .progress(ProgressLayer::new().every_events(10));

    let ms = Duration::from_millis;
    let elsewhere = Script::new()
        .then(Event::new(EventKind::ReasoningSummary {
            text: "Compared two forecasts.".into(),
        }))
        .after(
            ms(1),
            Event::new(EventKind::AgentUpdated {
                agent: "Planner".into(),
            }),
        )
        .after(
            ms(1),
            Event::new(EventKind::Handoff {
                from: "Planner".into(),
                to: "Booker".into(),
            }),
        )
        .after(
            ms(1),
            Event::error(ErrorKind::Provider, "503 Service Unavailable"),
        )
        .end(RunStatus::Failed)
        .into_stream();

    let mut seen = BTreeSet::new();
    let mut events = run.chain(elsewhere);
    while let Some(item) = events.next().await {
        let event = item?;
        println!("{:>18}  {}", event.kind().as_str(), describe(&event));
        seen.insert(event.kind().as_str());
    }

    let missing: Vec<_> = Kind::ALL
        .iter()
        .filter(|k| !seen.contains(k.as_str()))
        .collect();
    assert!(missing.is_empty(), "kinds never seen: {missing:?}");
    eprintln!("saw all {} kinds", Kind::ALL.len());
    Ok(())
}
