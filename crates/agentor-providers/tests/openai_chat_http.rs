//! `OpenAiChat` end to end against the in-process stub: recorded bodies cut
//! into chunks, HTTP errors, retries, timeouts, disconnects.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::{Duration, Instant};

use agentor_core::{
    ChatMessage, ChatRequest, ErrorKind, EventKind, EventResult, Kind, ModelSettings, Provider,
    RunStatus, ToolCallRequest, ToolSpec,
};
use agentor_providers::{OpenAiChat, OpenAiConfig, RetryPolicy};
use futures::StreamExt;
use serde_json::json;
use support::{collect, kinds, text_of, Reply, Stub};

fn ask(text: &str) -> ChatRequest {
    ChatRequest::new("gpt-4o-mini", vec![ChatMessage::user(text)]).with_run_id("run-1")
}

async fn run(stub: &Stub, request: ChatRequest) -> Vec<EventResult> {
    collect(OpenAiChat::new(stub.config()).stream(request)).await
}

fn last_status(items: &[EventResult]) -> Option<RunStatus> {
    items.last()?.as_ref().ok()?.run_status()
}

fn first_error(items: &[EventResult]) -> &agentor_core::Error {
    items.iter().find_map(|item| item.as_ref().err()).unwrap()
}

fn tool_calls(items: &[EventResult]) -> Vec<(String, String, serde_json::Value)> {
    items
        .iter()
        .filter_map(|item| match &item.as_ref().ok()?.kind {
            EventKind::ToolCall(call) => Some((
                call.call_id.to_string(),
                call.name.to_string(),
                call.arguments.clone(),
            )),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn plain_text_streams_deltas_then_message_usage_and_completion() {
    let stub = Stub::start(vec![Reply::fixture("plain_text")
        .chunked(37)
        .delay(Duration::from_millis(1))])
    .await;
    let items = run(&stub, ask("hi").with_agent("A1")).await;
    let events: Vec<_> = items.iter().map(|i| i.as_ref().unwrap()).collect();
    assert_eq!(
        events[0].kind,
        EventKind::RunStart {
            agent: "A1".into(),
            model: Some("gpt-4o-mini".into())
        }
    );
    assert_eq!(
        text_of(&items, Kind::TextDelta),
        "Hello! How can I help you today?"
    );
    let tail: Vec<_> = events[events.len() - 3..]
        .iter()
        .map(|e| e.kind())
        .collect();
    assert_eq!(tail, [Kind::Message, Kind::Usage, Kind::RunEnd]);
    assert_eq!(
        events[events.len() - 3].text(),
        Some("Hello! How can I help you today?")
    );
    assert_eq!(
        events[events.len() - 2].kind,
        EventKind::Usage {
            input_tokens: 19,
            output_tokens: 10,
            total_tokens: 29,
            cache_read_input_tokens: 0,
            cache_creation_input_tokens: 0,
        }
    );
    assert_eq!(last_status(&items), Some(RunStatus::Completed));
    for (n, event) in events.iter().enumerate() {
        assert_eq!(event.seq, n as u64);
        assert_eq!(event.origin.run_id.as_deref(), Some("run-1"));
    }
}

#[tokio::test]
async fn a_tool_call_is_assembled_from_many_fragments() {
    let stub = Stub::start(vec![Reply::fixture("tool_call_fragments").chunked(5)]).await;
    let items = run(&stub, ask("weather?")).await;
    assert_eq!(
        tool_calls(&items),
        [(
            "call_Wz1Xq8bN3kP".to_owned(),
            "get_weather".to_owned(),
            json!({"location": "Paris, France", "unit": "celsius"})
        )]
    );
    // No text, so no message; the turn still completes.
    let without_deltas: Vec<_> = kinds(&items)
        .into_iter()
        .filter(|k| *k != Some(Kind::ToolCallDelta))
        .collect();
    assert_eq!(
        without_deltas,
        [Kind::RunStart, Kind::ToolCall, Kind::Usage, Kind::RunEnd].map(Some)
    );
    assert_eq!(last_status(&items), Some(RunStatus::Completed));
}

#[tokio::test]
async fn parallel_tool_calls_stay_apart_in_index_order() {
    let stub = Stub::start(vec![Reply::fixture("parallel_tool_calls").chunked(100)]).await;
    let items = run(&stub, ask("weather and time?")).await;
    assert_eq!(
        tool_calls(&items),
        [
            (
                "call_paris".into(),
                "get_weather".into(),
                json!({"city": "Paris"})
            ),
            (
                "call_tokyo".into(),
                "get_time".into(),
                json!({"tz": "Asia/Tokyo"})
            ),
        ]
    );
}

#[tokio::test]
async fn reasoning_comes_before_the_answer() {
    let stub = Stub::start(vec![Reply::fixture("reasoning").chunked(256)]).await;
    let items = run(&stub, ask("2+2?")).await;
    assert_eq!(
        text_of(&items, Kind::ReasoningDelta),
        "The user asks 2+2. That is 4."
    );
    assert_eq!(text_of(&items, Kind::Message), "2 + 2 = 4");
    let first_text = kinds(&items)
        .iter()
        .position(|k| *k == Some(Kind::TextDelta));
    let last_reasoning = kinds(&items)
        .iter()
        .rposition(|k| *k == Some(Kind::ReasoningDelta));
    assert!(last_reasoning < first_text);
    assert!(kinds(&items).contains(&Some(Kind::Usage)));
    assert_eq!(last_status(&items), Some(RunStatus::Completed));
}

#[tokio::test]
async fn a_mid_stream_error_is_an_error_event_then_failure() {
    let stub = Stub::start(vec![Reply::fixture("mid_stream_error")]).await;
    let items = run(&stub, ask("hi")).await;
    assert_eq!(text_of(&items, Kind::TextDelta), "Partial answer");
    let error = items
        .iter()
        .find_map(|i| match &i.as_ref().ok()?.kind {
            EventKind::Error { kind, message } => Some((*kind, message.to_string())),
            _ => None,
        })
        .unwrap();
    assert_eq!(error.0, ErrorKind::Provider);
    assert!(
        error.1.starts_with("The server had an error"),
        "{}",
        error.1
    );
    assert_eq!(last_status(&items), Some(RunStatus::Failed));
    assert!(!kinds(&items).contains(&Some(Kind::Message)));
}

#[tokio::test]
async fn unauthorized_surfaces_status_and_message_without_retry() {
    let body = r#"{"error":{"message":"Incorrect API key provided: sk-bad. You can find your API key at https://platform.openai.com/account/api-keys.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"#;
    let stub = Stub::start(vec![Reply::status(401, body)]).await;
    let provider = OpenAiChat::new(stub.config().api_key("sk-bad"));
    let items = collect(provider.stream(ask("hi"))).await;
    assert_eq!(
        kinds(&items),
        [Some(Kind::RunStart), None, Some(Kind::RunEnd)]
    );
    let error = first_error(&items);
    assert_eq!(error.status(), Some(401));
    assert_eq!(error.kind(), ErrorKind::Provider);
    assert!(
        error
            .message()
            .starts_with("401 Unauthorized: Incorrect API key provided: sk-bad."),
        "{error}"
    );
    assert_eq!(last_status(&items), Some(RunStatus::Failed));
    let received = stub.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].headers["authorization"], "Bearer sk-bad");
}

#[tokio::test]
async fn rate_limited_then_served_on_retry() {
    let limited = r#"{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}"#;
    let stub = Stub::start(vec![
        Reply::status(429, limited).header("retry-after", "0"),
        Reply::fixture("plain_text"),
    ])
    .await;
    // A long backoff that Retry-After: 0 must override.
    let config = stub
        .config()
        .retry(RetryPolicy::default().initial_backoff(Duration::from_secs(5)));
    let started = Instant::now();
    let items = collect(OpenAiChat::new(config).stream(ask("hi"))).await;
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(stub.received().len(), 2);
    assert!(items.iter().all(Result::is_ok));
    assert_eq!(last_status(&items), Some(RunStatus::Completed));
}

#[tokio::test]
async fn server_errors_fail_after_the_last_retry() {
    let oops = r#"{"error":{"message":"The server is overloaded","type":"server_error"}}"#;
    let stub = Stub::start(vec![Reply::status(500, oops); 3]).await;
    let items = run(&stub, ask("hi")).await;
    assert_eq!(stub.received().len(), 3, "1 attempt + 2 retries");
    let error = first_error(&items);
    assert_eq!(error.status(), Some(500));
    assert_eq!(
        error.message(),
        "500 Internal Server Error: The server is overloaded"
    );
    assert_eq!(last_status(&items), Some(RunStatus::Failed));
}

#[tokio::test]
async fn a_truncated_body_is_a_failure_not_a_success() {
    let stub = Stub::start(vec![Reply::fixture("truncated")]).await;
    let items = run(&stub, ask("hi")).await;
    assert_eq!(
        text_of(&items, Kind::TextDelta),
        "This answer is cut off in the mid"
    );
    let error = first_error(&items);
    assert_eq!(error.kind(), ErrorKind::Provider);
    assert!(error.message().starts_with("stream ended before [DONE]"));
    assert_eq!(last_status(&items), Some(RunStatus::Failed));
    assert!(!kinds(&items).contains(&Some(Kind::Message)));
}

#[tokio::test]
async fn characters_split_across_chunks_arrive_whole() {
    let body = support::fixture("multibyte");
    let text = String::from_utf8(body.clone()).unwrap();
    // Cut one byte into every multi-byte character.
    let cuts: Vec<usize> = text
        .char_indices()
        .filter(|(_, c)| c.len_utf8() > 1)
        .map(|(at, _)| at + 1)
        .collect();
    assert_eq!(cuts.len(), 7);
    let stub = Stub::start(vec![Reply::sse(body)
        .cut_at(cuts)
        .delay(Duration::from_millis(2))])
    .await;
    let items = run(&stub, ask("hi")).await;
    assert_eq!(text_of(&items, Kind::TextDelta), "Café 中文 👍é中👍");
    assert_eq!(text_of(&items, Kind::Message), "Café 中文 👍é中👍");
    assert_eq!(last_status(&items), Some(RunStatus::Completed));
}

#[tokio::test]
async fn invalid_utf8_is_a_protocol_error() {
    let mut body = support::fixture("plain_text");
    body.splice(300..300, [0xFF, 0xFE]);
    let stub = Stub::start(vec![Reply::sse(body)]).await;
    let items = run(&stub, ask("hi")).await;
    assert_eq!(first_error(&items).kind(), ErrorKind::Protocol);
    assert_eq!(last_status(&items), Some(RunStatus::Failed));
}

#[tokio::test]
async fn a_silent_server_times_out() {
    let body = support::fixture("plain_text");
    let stub = Stub::start(vec![Reply::sse(&body[..900]).stalling()]).await;
    let config = stub.config().read_timeout(Duration::from_millis(300));
    let started = Instant::now();
    let items = collect(OpenAiChat::new(config).stream(ask("hi"))).await;
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(!text_of(&items, Kind::TextDelta).is_empty());
    assert_eq!(first_error(&items).kind(), ErrorKind::Timeout);
    assert_eq!(last_status(&items), Some(RunStatus::Failed));
}

#[tokio::test]
async fn a_connection_cut_mid_body_fails_the_turn() {
    let body = support::fixture("plain_text");
    let stub = Stub::start(vec![Reply::sse(&body[..900]).aborting()]).await;
    let items = run(&stub, ask("hi")).await;
    assert_eq!(first_error(&items).kind(), ErrorKind::Provider);
    assert_eq!(last_status(&items), Some(RunStatus::Failed));
    assert_eq!(
        stub.received().len(),
        1,
        "never retried after the stream began"
    );
}

#[tokio::test]
async fn dropping_the_stream_closes_the_upstream_connection() {
    let body = support::fixture("plain_text");
    let stub = Stub::start(vec![Reply::sse(&body[..900]).stalling()]).await;
    let mut events = OpenAiChat::new(stub.config()).stream(ask("hi"));
    assert_eq!(events.next().await.unwrap().unwrap().kind(), Kind::RunStart);
    assert_eq!(
        events.next().await.unwrap().unwrap().kind(),
        Kind::TextDelta
    );
    drop(events);
    tokio::time::timeout(Duration::from_secs(1), stub.body_dropped())
        .await
        .expect("the stub saw the disconnect within 1 s");
}

#[tokio::test]
async fn connection_refused_is_a_provider_error_after_retries() {
    // A port that was free a moment ago: nothing listens there.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let config = OpenAiConfig::new()
        .base_url(format!("http://{addr}/v1"))
        .retry(RetryPolicy::default().initial_backoff(Duration::from_millis(5)));
    let items = collect(OpenAiChat::new(config).stream(ask("hi"))).await;
    let error = first_error(&items);
    assert_eq!(error.kind(), ErrorKind::Provider);
    assert_eq!(error.status(), None);
    assert_eq!(last_status(&items), Some(RunStatus::Failed));
}

#[tokio::test]
async fn no_model_anywhere_fails_without_a_request() {
    let stub = Stub::start(vec![]).await;
    let mut config = stub.config();
    config.model = None;
    let request = ChatRequest::new("", vec![ChatMessage::user("hi")]);
    let items = collect(OpenAiChat::new(config).stream(request)).await;
    assert_eq!(
        kinds(&items),
        [Some(Kind::RunStart), None, Some(Kind::RunEnd)]
    );
    assert!(stub.received().is_empty());
}

#[tokio::test]
async fn the_configured_model_fills_an_empty_request_model() {
    let stub = Stub::start(vec![Reply::fixture("plain_text")]).await;
    let provider = OpenAiChat::new(stub.config().model("llama3.2"));
    let request = ChatRequest::new("", vec![ChatMessage::user("hi")]);
    let items = collect(provider.stream(request)).await;
    assert_eq!(last_status(&items), Some(RunStatus::Completed));
    assert_eq!(stub.received()[0].body["model"], "llama3.2");
}

#[tokio::test]
async fn the_request_body_has_the_chat_completions_shape() {
    let stub = Stub::start(vec![Reply::fixture("plain_text")]).await;
    let mut assistant = ChatMessage::assistant("");
    assistant.tool_calls.push(ToolCallRequest {
        id: "call_1".into(),
        name: "get_weather".into(),
        arguments: json!({"location": "Paris"}),
    });
    let mut settings = ModelSettings::default();
    settings.reasoning_effort = Some("low".into());
    settings.top_p = Some(0.5);
    let request = ChatRequest::new(
        "gpt-4o-mini",
        vec![
            ChatMessage::system("Be brief."),
            ChatMessage::user("Weather in Paris?"),
            assistant,
            ChatMessage::tool("call_1", "18°C, sunny"),
        ],
    )
    .with_tools(vec![ToolSpec {
        name: "get_weather".into(),
        description: "Current weather for a location".into(),
        parameters: json!({"type": "object", "properties": {"location": {"type": "string"}}}),
    }])
    .with_settings(settings);
    let items = run(&stub, request).await;
    assert_eq!(last_status(&items), Some(RunStatus::Completed));

    let received = stub.received();
    let sent = &received[0];
    assert_eq!(sent.path, "/v1/chat/completions");
    assert_eq!(sent.headers["authorization"], "Bearer sk-test");
    assert_eq!(sent.headers["content-type"], "application/json");
    assert_eq!(sent.headers["accept"], "text/event-stream");
    assert_eq!(
        sent.body,
        json!({
            "model": "gpt-4o-mini",
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Weather in Paris?"},
                {"role": "assistant", "content": null, "tool_calls": [{
                    "id": "call_1", "type": "function",
                    "function": {"name": "get_weather", "arguments": "{\"location\":\"Paris\"}"}
                }]},
                {"role": "tool", "tool_call_id": "call_1", "content": "18°C, sunny"}
            ],
            "tools": [{"type": "function", "function": {
                "name": "get_weather",
                "description": "Current weather for a location",
                "parameters": {"type": "object", "properties": {"location": {"type": "string"}}}
            }}],
            "stream": true,
            "stream_options": {"include_usage": true},
            "top_p": 0.5,
            "reasoning_effort": "low"
        })
    );
}

/// The `tool_call_delta`s joined per call: `(id, first fragment's name, text)`;
/// a later fragment naming another tool fails the test.
fn joined_deltas(items: &[EventResult]) -> Vec<(String, Option<String>, String)> {
    let mut joined: Vec<(String, Option<String>, String)> = Vec::new();
    for item in items {
        let Ok(event) = item else { continue };
        let EventKind::ToolCallDelta(delta) = &event.kind else {
            continue;
        };
        match joined.iter_mut().find(|(id, ..)| *id == *delta.call_id) {
            Some((_, name, text)) => {
                assert!(delta.name.is_none() || delta.name.as_deref() == name.as_deref());
                text.push_str(&delta.delta);
            }
            None => joined.push((
                delta.call_id.to_string(),
                delta.name.as_deref().map(str::to_owned),
                delta.delta.to_string(),
            )),
        }
    }
    joined
}

#[tokio::test]
async fn argument_deltas_survive_any_chunk_cut_and_match_the_complete_calls() {
    for fixture in ["tool_call_fragments", "parallel_tool_calls"] {
        for cut in [1, 2, 3, 7, 13, 64, 1 << 20] {
            let stub = Stub::start(vec![Reply::fixture(fixture).chunked(cut)]).await;
            let items = run(&stub, ask("tools?")).await;
            let calls = tool_calls(&items);
            let joined = joined_deltas(&items);
            assert_eq!(joined.len(), calls.len(), "{fixture} cut {cut}");
            for ((id, name, text), (call_id, call_name, arguments)) in joined.iter().zip(&calls) {
                assert_eq!((id, name.as_deref()), (call_id, Some(call_name.as_str())));
                let parsed: serde_json::Value = serde_json::from_str(text).unwrap();
                assert_eq!(&parsed, arguments, "{fixture} cut {cut}");
            }
            // Streamed as they came: more than one fragment per call.
            let deltas = kinds(&items)
                .iter()
                .filter(|k| **k == Some(Kind::ToolCallDelta))
                .count();
            assert!(deltas > calls.len(), "{fixture}: {deltas} deltas");
        }
    }
}
