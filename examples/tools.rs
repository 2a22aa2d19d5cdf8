//! An agent with two tools: the tool loop runs the calls concurrently and
//! streams each result the moment it completes.
//!
//! Run it with `cargo run -p agentor-examples --example tools` (offline demo
//! provider unless `OPENAI_API_KEY` or `OPENAI_BASE_URL` is set).

use std::time::Duration;

use agentor::{Agentor, EventKind, Tool, ToolError};
use futures::StreamExt;
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize)]
struct City {
    city: String,
}

#[tokio::main]
async fn main() {
    let get_weather = Tool::new(
        "get_weather",
        "The current weather in a city.",
        json!({
            "type": "object",
            "properties": { "city": { "type": "string", "description": "City name" } },
            "required": ["city"]
        }),
        |args: City| async move {
            tokio::time::sleep(Duration::from_millis(50)).await; // a slow API
            Ok::<_, ToolError>(format!("18°C and sunny in {}", args.city))
        },
    );
    let agent = Agentor::builder()
        .name("Weather")
        .instructions("Answer weather questions with the get_weather tool.")
        .tool(get_weather)
        .build();

    let mut events = agent.stream_chat("What's the weather in Paris?");
    while let Some(item) = events.next().await {
        let event = match item {
            Ok(event) => event,
            Err(err) => {
                eprintln!("error: {err}");
                continue;
            }
        };
        match &event.kind {
            EventKind::ToolCall(call) => eprintln!("→ {}({})", call.name, call.arguments),
            EventKind::ToolResult(result) => eprintln!("← {}: {}", result.name, result.output),
            EventKind::Message { text, .. } => eprintln!("answer: {text}"),
            EventKind::RunEnd { status } => eprintln!("run ended: {status}"),
            _ => {}
        }
    }
}
