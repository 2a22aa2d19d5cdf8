//! An agent run end to end over HTTP: a Chat Completions stub on 127.0.0.1
//! answers two turns — two parallel tool calls, then the answer.

#![allow(clippy::unwrap_used, missing_docs)]

#[path = "../../agentor-providers/tests/support/mod.rs"]
mod support;

use agentor::providers::OpenAiChat;
use agentor::{Agentor, EventKind, Kind, RunStatus, Tool, ToolError};
use futures::StreamExt;
use serde::Deserialize;
use serde_json::json;
use support::{Reply, Stub};

fn chunk(delta: serde_json::Value, finish: Option<&str>) -> String {
    let chunk = json!({
        "id": "chatcmpl-e2e", "object": "chat.completion.chunk", "model": "gpt-4o-mini",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]
    });
    format!("data: {chunk}\n\n")
}

fn tool_turn() -> String {
    let mut body = chunk(json!({"role": "assistant", "content": null}), None);
    let fragments = [
        json!([{"index": 0, "id": "call_w", "type": "function", "function": {"name": "get_weather", "arguments": ""}}]),
        json!([{"index": 1, "id": "call_t", "type": "function", "function": {"name": "get_time", "arguments": ""}}]),
        json!([{"index": 0, "function": {"arguments": "{\"ci"}}]),
        json!([{"index": 1, "function": {"arguments": "{\"city\": \"To"}}]),
        json!([{"index": 0, "function": {"arguments": "ty\": \"Paris\"}"}}]),
        json!([{"index": 1, "function": {"arguments": "kyo\"}"}}]),
    ];
    for tool_calls in fragments {
        body += &chunk(json!({"tool_calls": tool_calls}), None);
    }
    body += &chunk(json!({}), Some("tool_calls"));
    body + "data: [DONE]\n\n"
}

fn answer_turn() -> String {
    let mut body = String::new();
    for piece in ["Sunny in ", "Paris; ", "it is 9pm ", "in Tokyo."] {
        body += &chunk(json!({"content": piece}), None);
    }
    body += &chunk(json!({}), Some("stop"));
    body += "data: {\"id\":\"chatcmpl-e2e\",\"choices\":[],\"usage\":{\"prompt_tokens\":50,\"completion_tokens\":9,\"total_tokens\":59}}\n\n";
    body + "data: [DONE]\n\n"
}

#[derive(Deserialize)]
struct City {
    city: String,
}

#[tokio::test]
async fn two_tools_over_two_turns_over_http() {
    let stub = Stub::start(vec![
        Reply::sse(tool_turn()).chunked(41),
        Reply::sse(answer_turn()).chunked(29),
    ])
    .await;
    let params =
        json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]});
    let weather = Tool::new(
        "get_weather",
        "Weather",
        params.clone(),
        |a: City| async move { Ok::<_, ToolError>(format!("sunny in {}", a.city)) },
    );
    let time = Tool::new("get_time", "Local time", params, |a: City| async move {
        Ok::<_, ToolError>(format!("21:00 in {}", a.city))
    });
    let agent = Agentor::builder()
        .name("Travel")
        .model("gpt-4o-mini")
        .instructions("Answer with tools.")
        .provider(OpenAiChat::new(stub.config()))
        .tools([weather, time])
        .build();

    let events: Vec<_> = agent
        .stream_chat("Paris weather and Tokyo time?")
        .map(Result::unwrap)
        .collect()
        .await;
    let kinds: Vec<Kind> = events.iter().map(|e| e.kind()).collect();
    assert_eq!(kinds.first(), Some(&Kind::RunStart));
    assert_eq!(
        kinds.iter().filter(|k| **k == Kind::RunStart).count(),
        1,
        "one run start for the run"
    );
    assert_eq!(kinds.iter().filter(|k| **k == Kind::ToolCall).count(), 2);
    assert_eq!(kinds.iter().filter(|k| **k == Kind::ToolResult).count(), 2);
    assert_eq!(
        events.last().unwrap().run_status(),
        Some(RunStatus::Completed)
    );
    let text: String = events
        .iter()
        .filter(|e| e.kind() == Kind::TextDelta)
        .filter_map(|e| e.text())
        .collect();
    assert_eq!(text, "Sunny in Paris; it is 9pm in Tokyo.");
    assert!(events.iter().any(|e| matches!(
        e.kind,
        EventKind::Usage {
            total_tokens: 59,
            ..
        }
    )));

    // The second request carries the calls and both results, in call order.
    let received = stub.received();
    assert_eq!(received.len(), 2);
    let messages = received[1].body["messages"].as_array().unwrap().clone();
    assert_eq!(messages[0]["role"], "system");
    assert_eq!(messages[2]["role"], "assistant");
    assert_eq!(
        messages[2]["tool_calls"][0]["function"]["name"],
        "get_weather"
    );
    let arguments: serde_json::Value = serde_json::from_str(
        messages[2]["tool_calls"][1]["function"]["arguments"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(arguments, json!({"city": "Tokyo"}));
    assert_eq!(
        messages[3],
        json!({"role": "tool", "tool_call_id": "call_w", "content": "sunny in Paris"})
    );
    assert_eq!(
        messages[4],
        json!({"role": "tool", "tool_call_id": "call_t", "content": "21:00 in Tokyo"})
    );
    assert_eq!(received[1].body["tools"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn dropping_the_run_closes_the_model_connection() {
    // The model sends a little, then keeps the connection open.
    let stub = Stub::start(vec![Reply::sse(chunk(
        json!({"content": "Thinking"}),
        None,
    ))
    .stalling()])
    .await;
    let agent = Agentor::builder()
        .model("gpt-4o-mini")
        .provider(OpenAiChat::new(stub.config()))
        .build();
    let mut events = agent.stream_chat("hi");
    loop {
        let event = events.next().await.unwrap().unwrap();
        if event.kind() == Kind::TextDelta {
            break;
        }
    }
    drop(events);
    tokio::time::timeout(std::time::Duration::from_secs(1), stub.body_dropped())
        .await
        .expect("the stub saw the connection close within a second");
}
