//! An agent run end to end over the Anthropic provider: a Messages stub on
//! 127.0.0.1 answers two turns — two tool uses, then the answer — and the
//! second request carries both results as `tool_result` blocks.

#![allow(clippy::unwrap_used, missing_docs)]

#[path = "../../agentor-providers/tests/support/mod.rs"]
mod support;

use agentor::providers::{Anthropic, AnthropicConfig};
use agentor::{Agentor, EventKind, Kind, RunStatus, Tool, ToolError};
use futures::StreamExt;
use serde::Deserialize;
use serde_json::json;
use support::{Reply, Stub};

const TOOL_TURN: &str =
    include_str!("../../agentor-providers/tests/fixtures/anthropic_parallel_tools.sse");
const ANSWER_TURN: &str = include_str!("../../agentor-providers/tests/fixtures/anthropic_text.sse");

#[derive(Deserialize)]
struct City {
    city: String,
}

#[derive(Deserialize)]
struct Zone {
    zone: String,
}

#[tokio::test]
async fn two_tools_over_two_turns_over_the_messages_api() {
    let stub = Stub::start(vec![
        Reply::sse(TOOL_TURN).chunked(23),
        Reply::sse(ANSWER_TURN).chunked(17),
    ])
    .await;
    let agent = Agentor::builder()
        .name("Claude")
        .model("claude-test")
        .instructions("Use the tools.")
        .provider(Anthropic::new(
            AnthropicConfig::new()
                .base_url(format!("http://{}", stub.addr))
                .api_key("sk-ant-test"),
        ))
        .tool(Tool::new(
            "get_weather",
            "Weather in a city.",
            json!({"type": "object", "properties": {"city": {"type": "string"}}}),
            |args: City| async move { Ok::<_, ToolError>(format!("sunny in {}", args.city)) },
        ))
        .tool(Tool::new(
            "get_time",
            "Time in a zone.",
            json!({"type": "object", "properties": {"zone": {"type": "string"}}}),
            |args: Zone| async move { Ok::<_, ToolError>(format!("21:00 in {}", args.zone)) },
        ))
        .build();
    let events: Vec<_> = agent
        .stream_chat("Weather and time in Paris?")
        .map(Result::unwrap)
        .collect()
        .await;
    let results: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::ToolResult(r) => {
                Some((r.call_id.to_string(), r.output.to_string(), r.is_error))
            }
            _ => None,
        })
        .collect();
    assert_eq!(results.len(), 2);
    assert!(results.contains(&("toolu_paris".into(), "sunny in Paris".into(), false)));
    assert!(results.contains(&("toolu_time".into(), "21:00 in Europe/Paris".into(), false)));
    assert_eq!(
        events
            .iter()
            .filter(|e| e.kind() == Kind::ToolCallDelta)
            .count(),
        6,
        "per call: one naming delta, then its two non-empty argument pieces"
    );
    assert_eq!(
        events.last().unwrap().run_status(),
        Some(RunStatus::Completed)
    );
    assert!(events
        .iter()
        .all(|e| e.origin.source.as_deref() == Some("Claude")));

    let received = stub.received();
    assert_eq!(received.len(), 2);
    let second = &received[1].body;
    assert_eq!(second["system"], "Use the tools.");
    assert_eq!(second["tools"][1]["name"], "get_time");
    assert_eq!(
        second["messages"][1]["content"][1],
        json!({"type": "tool_use", "id": "toolu_paris", "name": "get_weather", "input": {"city": "Paris"}})
    );
    assert_eq!(
        second["messages"][2],
        json!({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_paris", "content": "sunny in Paris"},
            {"type": "tool_result", "tool_use_id": "toolu_time", "content": "21:00 in Europe/Paris"}
        ]})
    );
}
