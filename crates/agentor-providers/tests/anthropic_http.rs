//! `Anthropic` end to end against the in-process stub: recorded Messages
//! streams cut at arbitrary byte boundaries, the `error` event, stop
//! reasons, HTTP errors, truncation, and the request it sends.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use agentor_core::{
    ChatMessage, ChatRequest, ErrorKind, EventKind, EventResult, Kind, Provider, RunStatus,
    ToolCallRequest,
};
use agentor_providers::{Anthropic, AnthropicConfig, RetryPolicy};
use serde_json::json;
use support::{collect, fixture, kinds, text_of, Reply, Stub};

fn config(stub: &Stub) -> AnthropicConfig {
    AnthropicConfig::new()
        .base_url(format!("http://{}", stub.addr))
        .api_key("sk-ant-test")
        .model("claude-test")
        .retry(RetryPolicy::default().initial_backoff(Duration::from_millis(5)))
}

fn ask(text: &str) -> ChatRequest {
    ChatRequest::new("", vec![ChatMessage::user(text)]).with_run_id("run-a")
}

fn last_status(items: &[EventResult]) -> Option<RunStatus> {
    items.last()?.as_ref().ok()?.run_status()
}

/// Cut points for `len` bytes: every `step`-th byte, plus a few
/// pseudo-random ones from `seed` (a fixed LCG: the same cuts every run).
fn cuts(len: usize, step: usize, seed: u64) -> Vec<usize> {
    let mut cuts: Vec<usize> = (step..len).step_by(step.max(1)).collect();
    let mut x = seed;
    for _ in 0..8 {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        cuts.push((x >> 33) as usize % len.max(1));
    }
    cuts.retain(|&c| c > 0 && c < len);
    cuts.sort_unstable();
    cuts.dedup();
    cuts
}

/// The fixture's body cut several ways: each reply's events must be the same.
async fn every_cut(name: &str) -> Vec<Vec<EventResult>> {
    let body = fixture(name);
    let plans: Vec<Reply> = [(1, 1), (3, 2), (7, 3), (64, 4), (1000, 5)]
        .into_iter()
        .map(|(step, seed)| Reply::sse(body.clone()).cut_at(cuts(body.len(), step, seed)))
        .collect();
    let count = plans.len();
    let stub = Stub::start(plans).await;
    let provider = Anthropic::new(config(&stub));
    let mut runs = Vec::new();
    for _ in 0..count {
        runs.push(collect(provider.stream(ask("hi"))).await);
    }
    runs
}

fn same_events(runs: &[Vec<EventResult>]) -> Vec<agentor_core::Event> {
    let first: Vec<_> = runs[0]
        .iter()
        .map(|i| i.as_ref().unwrap().clone())
        .collect();
    for run in &runs[1..] {
        let events: Vec<_> = run.iter().map(|i| i.as_ref().unwrap().clone()).collect();
        assert_eq!(events, first, "a cut changed the events");
    }
    first
}

#[tokio::test]
async fn text_streams_with_cache_usage_however_the_body_is_cut() {
    let runs = every_cut("anthropic_text").await;
    let events = same_events(&runs);
    let text = "Hello, wörld ☕ — how can I help?";
    assert_eq!(text_of(&runs[0], Kind::TextDelta), text);
    assert_eq!(
        kinds(&runs[0]),
        [
            Kind::RunStart,
            Kind::TextDelta,
            Kind::TextDelta,
            Kind::TextDelta,
            Kind::Message,
            Kind::Usage,
            Kind::RunEnd
        ]
        .map(Some)
    );
    assert_eq!(
        events[0].kind,
        EventKind::RunStart {
            agent: "assistant".into(),
            model: Some("claude-test".into())
        }
    );
    assert_eq!(events[4].text(), Some(text));
    let EventKind::TextDelta { message_id, .. } = &events[1].kind else {
        panic!("not a delta")
    };
    assert_eq!(message_id.as_deref(), Some("msg_01XFDUDYJgAACzvnptvVoYEL"));
    // 25 uncached + 10 written to the cache + 100 read from it.
    assert_eq!(
        events[5].kind,
        EventKind::Usage {
            input_tokens: 135,
            output_tokens: 15,
            total_tokens: 150,
            cache_read_input_tokens: 100,
            cache_creation_input_tokens: 10,
        }
    );
    assert_eq!(last_status(&runs[0]), Some(RunStatus::Completed));
    for (n, event) in events.iter().enumerate() {
        assert_eq!(event.seq, n as u64);
        assert_eq!(event.origin.run_id.as_deref(), Some("run-a"));
    }
}

#[tokio::test]
async fn parallel_tool_use_streams_argument_deltas_then_complete_calls() {
    let runs = every_cut("anthropic_parallel_tools").await;
    let events = same_events(&runs);
    let mut deltas: Vec<(String, Option<String>, String)> = Vec::new();
    let mut calls = Vec::new();
    for event in &events {
        match &event.kind {
            EventKind::ToolCallDelta(d) => deltas.push((
                d.call_id.to_string(),
                d.name.as_ref().map(ToString::to_string),
                d.delta.to_string(),
            )),
            EventKind::ToolCall(call) => {
                calls.push((
                    call.call_id.to_string(),
                    call.name.to_string(),
                    call.arguments.clone(),
                ));
            }
            _ => {}
        }
    }
    assert_eq!(
        calls,
        [
            (
                "toolu_paris".into(),
                "get_weather".into(),
                json!({"city": "Paris"})
            ),
            (
                "toolu_time".into(),
                "get_time".into(),
                json!({"zone": "Europe/Paris"})
            ),
        ]
    );
    // Each call's fragments, joined, are its arguments' JSON text; the first names the tool.
    for (id, name, arguments) in &calls {
        let mine: Vec<_> = deltas.iter().filter(|d| &d.0 == id).collect();
        assert_eq!(mine[0].1.as_deref(), Some(name.as_str()));
        assert!(mine[1..].iter().all(|d| d.1.is_none()));
        let joined: String = mine.iter().map(|d| d.2.as_str()).collect();
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&joined).unwrap(),
            *arguments
        );
    }
    // Paris's deltas all come before its call, and that call before time's first delta.
    let position =
        |pred: &dyn Fn(&agentor_core::Event) -> bool| events.iter().position(pred).unwrap();
    let paris_call =
        position(&|e| matches!(&e.kind, EventKind::ToolCall(c) if c.call_id == "toolu_paris"));
    let time_first =
        position(&|e| matches!(&e.kind, EventKind::ToolCallDelta(d) if d.call_id == "toolu_time"));
    assert!(paris_call < time_first);
    assert_eq!(text_of(&runs[0], Kind::Message), "Checking both.");
    assert_eq!(last_status(&runs[0]), Some(RunStatus::Completed));
}

#[tokio::test]
async fn thinking_streams_as_reasoning_and_its_signature_goes_back_next_turn() {
    let stub = Stub::start(vec![
        Reply::fixture("anthropic_thinking").chunked(11),
        Reply::fixture("anthropic_text"),
    ])
    .await;
    let provider = Anthropic::new(config(&stub).thinking_budget(2048));
    let items = collect(provider.stream(ask("Weather in Oslo?"))).await;
    assert_eq!(
        text_of(&items, Kind::ReasoningDelta),
        "The user wants the weather; I should call the tool."
    );
    assert_eq!(last_status(&items), Some(RunStatus::Completed));

    // The next turn, as the agent builds it: the call, then its result.
    let mut assistant = ChatMessage::assistant("");
    assistant.tool_calls.push(ToolCallRequest {
        id: "toolu_think".into(),
        name: "get_weather".into(),
        arguments: json!({"city": "Oslo"}),
    });
    let next = ChatRequest::new(
        "",
        vec![
            ChatMessage::user("Weather in Oslo?"),
            assistant,
            ChatMessage::tool("toolu_think", "-3°C"),
        ],
    );
    let items = collect(provider.stream(next)).await;
    assert_eq!(last_status(&items), Some(RunStatus::Completed));
    let sent = &stub.received()[1].body;
    assert_eq!(
        sent["thinking"],
        json!({"type": "enabled", "budget_tokens": 2048})
    );
    assert_eq!(
        sent["messages"][1]["content"],
        json!([
            {"type": "thinking", "thinking": "The user wants the weather; I should call the tool.",
             "signature": "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"},
            {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpP"},
            {"type": "tool_use", "id": "toolu_think", "name": "get_weather", "input": {"city": "Oslo"}}
        ])
    );
    assert_eq!(
        sent["messages"][2]["content"],
        json!([{"type": "tool_result", "tool_use_id": "toolu_think", "content": "-3°C"}])
    );
}

#[tokio::test]
async fn the_error_event_becomes_an_error_and_a_failed_end() {
    for run in every_cut("anthropic_error").await {
        assert_eq!(
            kinds(&run),
            [Kind::RunStart, Kind::TextDelta, Kind::Error, Kind::RunEnd].map(Some)
        );
        let error = run[2].as_ref().unwrap();
        assert_eq!(
            error.kind,
            EventKind::Error {
                kind: ErrorKind::Provider,
                message: "overloaded_error: Overloaded".into()
            }
        );
        assert_eq!(last_status(&run), Some(RunStatus::Failed));
    }
}

#[tokio::test]
async fn max_tokens_and_refusal_end_with_an_error_not_an_answer() {
    let refusal = String::from_utf8(fixture("anthropic_max_tokens"))
        .unwrap()
        .replace("max_tokens", "refusal");
    let stub = Stub::start(vec![
        Reply::fixture("anthropic_max_tokens").chunked(9),
        Reply::sse(refusal),
    ])
    .await;
    let provider = Anthropic::new(config(&stub));
    for expected in ["max_tokens", "refused"] {
        let items = collect(provider.stream(ask("a long story"))).await;
        assert_eq!(
            kinds(&items),
            [
                Kind::RunStart,
                Kind::TextDelta,
                Kind::Message,
                Kind::Usage,
                Kind::Error,
                Kind::RunEnd
            ]
            .map(Some)
        );
        let EventKind::Error { message, .. } = &items[4].as_ref().unwrap().kind else {
            panic!("not an error: {:?}", items[4])
        };
        assert!(message.contains(expected), "{message}");
        assert_eq!(last_status(&items), Some(RunStatus::Failed));
    }
}

#[tokio::test]
async fn a_truncated_stream_is_an_error_and_a_failed_end() {
    for run in every_cut("anthropic_truncated").await {
        let error = run.iter().find_map(|i| i.as_ref().err()).unwrap();
        assert_eq!(error.kind(), ErrorKind::Provider);
        assert!(error.message().contains("cut short"), "{}", error.message());
        assert_eq!(last_status(&run), Some(RunStatus::Failed));
    }
}

#[tokio::test]
async fn http_errors_carry_status_and_message_and_overload_is_retried() {
    let overloaded =
        r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
    let stub = Stub::start(vec![
        Reply::status(401, r#"{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}"#),
        // 429 and 529 are retried (twice by default), then reported.
        Reply::status(429, r#"{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}"#),
        Reply::status(429, r#"{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}"#),
        Reply::status(429, r#"{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}"#),
        Reply::status(529, overloaded),
        Reply::fixture("anthropic_text"),
    ])
    .await;
    let provider = Anthropic::new(config(&stub));
    let items = collect(provider.stream(ask("x"))).await;
    let error = items.iter().find_map(|i| i.as_ref().err()).unwrap();
    assert_eq!(error.status(), Some(401));
    assert_eq!(error.message(), "401 Unauthorized: invalid x-api-key");
    assert_eq!(last_status(&items), Some(RunStatus::Failed));
    assert_eq!(stub.received().len(), 1, "a 401 is not retried");

    let items = collect(provider.stream(ask("x"))).await;
    let error = items.iter().find_map(|i| i.as_ref().err()).unwrap();
    assert_eq!(error.status(), Some(429));
    assert!(error.message().ends_with("slow down"));
    assert_eq!(stub.received().len(), 4);

    // A 529 then a stream: the retry succeeds.
    let items = collect(provider.stream(ask("x"))).await;
    assert_eq!(last_status(&items), Some(RunStatus::Completed));
    assert_eq!(stub.received().len(), 6);
}

#[tokio::test]
async fn the_request_has_the_headers_and_the_messages_shape() {
    let stub = Stub::start(vec![Reply::fixture("anthropic_text")]).await;
    let provider = Anthropic::new(config(&stub));
    let request = ChatRequest::new(
        "claude-other",
        vec![ChatMessage::system("Be brief."), ChatMessage::user("Hi")],
    );
    collect(provider.stream(request)).await;
    let received = &stub.received()[0];
    assert_eq!(received.path, "/v1/messages");
    assert_eq!(received.headers["x-api-key"], "sk-ant-test");
    assert_eq!(received.headers["anthropic-version"], "2023-06-01");
    assert!(received.headers.get("authorization").is_none());
    assert_eq!(
        received.body,
        json!({
            "model": "claude-other",
            "max_tokens": 4096,
            "system": "Be brief.",
            "messages": [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}],
            "stream": true
        })
    );
}

#[tokio::test]
async fn bytes_that_are_not_utf8_or_json_are_protocol_errors() {
    let mut not_utf8 = fixture("anthropic_text");
    let at = not_utf8.windows(5).position(|w| w == b"Hello").unwrap();
    not_utf8[at] = 0xFF;
    let stub = Stub::start(vec![
        Reply::sse(not_utf8),
        Reply::sse("event: message_start\ndata: {not json\n\n"),
    ])
    .await;
    let provider = Anthropic::new(config(&stub));
    for _ in 0..2 {
        let items = collect(provider.stream(ask("x"))).await;
        let error = items.iter().find_map(|i| i.as_ref().err()).unwrap();
        assert_eq!(error.kind(), ErrorKind::Protocol, "{}", error.message());
        assert_eq!(last_status(&items), Some(RunStatus::Failed));
    }
}
