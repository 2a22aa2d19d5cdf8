//! JSON serialization: a run as JSON strings, in the agentor shape (Python
//! Agentor's `serialize=True`) and in the lossless native shape.
//!
//! `serialized()` gives the five-key agentor objects (`type`, `message`,
//! `chunk`, `tool_action`, `reasoning`) that Python clients already parse;
//! `serialized_as(Format::Native)` gives flat objects with the envelope
//! (`seq`, `source`, `run_id`), which decode back to the same events.
//!
//! Run it with `cargo run -p agentor-examples --example json_serialization`.
#![allow(clippy::print_stdout)] // showing the JSON is the point

use std::time::Duration;

use agentor::providers::Demo;
use agentor::wire::{encode_json, native, Format};
use agentor::{Agentor, Tool, ToolError};
use bytes::BytesMut;
use futures::StreamExt;
use serde_json::{json, Value};

/// The keys of every agentor JSON object, unused ones `null`.
const AGENTOR_KEYS: [&str; 5] = ["type", "message", "chunk", "tool_action", "reasoning"];

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let get_weather = Tool::new(
        "get_weather",
        "The current weather in a city.",
        json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
        |args: Value| async move { Ok::<_, ToolError>(format!("18°C in {}", args["city"])) },
    );
    let agent = Agentor::builder()
        .name("Weather")
        .tool(get_weather)
        .provider(Demo::with_delay(Duration::from_millis(1)))
        .build();

    println!("# agentor JSON (serialized): Python Agentor's shape");
    let lines: Vec<String> = agent.stream_chat("Paris").serialized().collect().await;
    for line in &lines {
        println!("{line}");
        let object: serde_json::Map<String, Value> = serde_json::from_str(line)?;
        assert!(line.starts_with(r#"{"type":"#), "`type` comes first");
        assert_eq!(object.len(), AGENTOR_KEYS.len(), "always five keys");
        assert!(AGENTOR_KEYS.iter().all(|k| object.contains_key(*k)));
    }
    let types: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).map(|v| v["type"].clone()))
        .collect::<Result<_, _>>()?;
    for compat in ["raw_response_event", "run_item_stream_event"] {
        assert!(types.contains(&json!(compat)), "{compat} present");
    }

    println!("\n# native JSON (serialized_as(Format::Native)): lossless");
    let lines: Vec<String> = agent
        .stream_chat("Paris")
        .serialized_as(Format::Native)
        .collect()
        .await;
    let mut again = BytesMut::new();
    for line in &lines {
        println!("{line}");
        // Native JSON decodes back to the event, which encodes to the same line.
        let event = native::decode(line.as_bytes())?;
        encode_json(Format::Native, &event, &mut again);
        assert_eq!(&again.split()[..], line.as_bytes(), "round trip");
    }

    // The same event in both shapes, side by side.
    let call = native::decode(
        lines
            .iter()
            .find(|l| l.contains("\"tool_call\""))
            .ok_or("a tool call")?
            .as_bytes(),
    )?;
    let mut agentor_json = BytesMut::new();
    encode_json(Format::Agentor, &call, &mut agentor_json);
    println!(
        "\na tool call, agentor: {}",
        std::str::from_utf8(&agentor_json)?
    );
    Ok(())
}
