//! `OpenAiResponses` end to end against the in-process stub: the Responses
//! API's recorded streams through the shared HTTP transport.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use agentor_core::{
    ChatMessage, ChatRequest, EventKind, EventResult, Kind, Provider, RunStatus, ToolSpec,
};
use agentor_providers::OpenAiResponses;
use serde_json::json;
use support::{collect, text_of, Reply, Stub};

async fn run(stub: &Stub, request: ChatRequest) -> Vec<EventResult> {
    collect(OpenAiResponses::new(stub.config()).stream(request)).await
}

fn ask(text: &str) -> ChatRequest {
    ChatRequest::new(
        "gpt-4.1",
        vec![ChatMessage::system("Be brief."), ChatMessage::user(text)],
    )
    .with_run_id("run-r")
}

fn last_status(items: &[EventResult]) -> Option<RunStatus> {
    items.last()?.as_ref().ok()?.run_status()
}

#[tokio::test]
async fn text_streams_and_the_request_goes_to_responses() {
    let stub = Stub::start(vec![Reply::fixture("responses_text").chunked(53)]).await;
    let items = run(&stub, ask("hi")).await;
    assert_eq!(items[0].as_ref().unwrap().kind(), Kind::RunStart);
    assert!(!text_of(&items, Kind::TextDelta).is_empty());
    assert_eq!(last_status(&items), Some(RunStatus::Completed));
    assert!(items
        .iter()
        .all(|i| i.as_ref().unwrap().origin.run_id.as_deref() == Some("run-r")));
    let seqs: Vec<u64> = items.iter().map(|i| i.as_ref().unwrap().seq).collect();
    assert_eq!(seqs, (0..items.len() as u64).collect::<Vec<_>>());

    let received = stub.received();
    assert_eq!(received[0].path, "/v1/responses");
    assert_eq!(received[0].body["stream"], json!(true));
    assert_eq!(received[0].body["model"], json!("gpt-4.1"));
    assert_eq!(received[0].headers["authorization"], "Bearer sk-test");
}

#[tokio::test]
async fn a_function_call_split_across_deltas_arrives_whole() {
    let stub = Stub::start(vec![Reply::fixture("responses_function_call").chunked(7)]).await;
    let tools = vec![ToolSpec {
        name: "get_weather".into(),
        description: "Weather".into(),
        parameters: json!({"type": "object"}),
    }];
    let items = run(&stub, ask("weather in Paris?").with_tools(tools)).await;
    let calls: Vec<_> = items
        .iter()
        .filter_map(|i| match &i.as_ref().ok()?.kind {
            EventKind::ToolCall(call) => Some(call.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].name, "get_weather");
    assert!(calls[0].arguments.is_object(), "{:?}", calls[0].arguments);
    assert_eq!(last_status(&items), Some(RunStatus::Completed));
    assert_eq!(
        stub.received()[0].body["tools"][0]["name"],
        json!("get_weather")
    );
}

#[tokio::test]
async fn reasoning_summary_and_failures() {
    let stub = Stub::start(vec![
        Reply::fixture("responses_reasoning").delay(Duration::from_millis(1)),
        Reply::fixture("responses_failed"),
        Reply::fixture("responses_truncated"),
    ])
    .await;
    let reasoning = run(&stub, ask("think")).await;
    assert!(!text_of(&reasoning, Kind::ReasoningDelta).is_empty());
    assert_eq!(last_status(&reasoning), Some(RunStatus::Completed));

    let failed = run(&stub, ask("fail")).await;
    assert!(failed
        .iter()
        .any(|i| matches!(i, Ok(e) if e.kind() == Kind::Error)));
    assert_eq!(last_status(&failed), Some(RunStatus::Failed));

    let truncated = run(&stub, ask("cut")).await;
    assert!(
        truncated.iter().any(Result::is_err),
        "a cut stream is an error, never a success"
    );
    assert_eq!(last_status(&truncated), Some(RunStatus::Failed));
}

#[tokio::test]
async fn an_http_error_carries_its_status() {
    let stub = Stub::start(vec![Reply::status(
        401,
        r#"{"error":{"message":"Incorrect API key provided","type":"invalid_request_error"}}"#,
    )])
    .await;
    let items = run(&stub, ask("hi")).await;
    let error = items.iter().find_map(|i| i.as_ref().err()).unwrap();
    assert_eq!(error.status(), Some(401));
    assert!(error.message().contains("Incorrect API key"), "{error}");
    assert_eq!(last_status(&items), Some(RunStatus::Failed));
}

#[tokio::test]
async fn argument_deltas_survive_any_chunk_cut_and_match_the_complete_calls() {
    for fixture in ["responses_function_call", "responses_parallel_calls"] {
        for cut in [1, 2, 5, 11, 64, 1 << 20] {
            let stub = Stub::start(vec![Reply::fixture(fixture).chunked(cut)]).await;
            let items = run(&stub, ask("tools?")).await;
            let mut joined: Vec<(String, Option<String>, String)> = Vec::new();
            let mut calls = Vec::new();
            for item in &items {
                match &item.as_ref().unwrap().kind {
                    EventKind::ToolCallDelta(d) => {
                        match joined.iter_mut().find(|(id, ..)| *id == *d.call_id) {
                            Some((.., text)) => {
                                assert!(d.name.is_none());
                                text.push_str(&d.delta);
                            }
                            None => joined.push((
                                d.call_id.to_string(),
                                d.name.as_deref().map(str::to_owned),
                                d.delta.to_string(),
                            )),
                        }
                    }
                    EventKind::ToolCall(call) => calls.push(call.clone()),
                    _ => {}
                }
            }
            assert_eq!(joined.len(), calls.len(), "{fixture} cut {cut}");
            for ((id, name, text), call) in joined.iter().zip(&calls) {
                assert_eq!(id.as_str(), &*call.call_id);
                assert_eq!(name.as_deref(), Some(&*call.name));
                let parsed: serde_json::Value = serde_json::from_str(text).unwrap();
                assert_eq!(parsed, call.arguments, "{fixture} cut {cut}");
            }
        }
    }
}
