//! `/chat` over real HTTP: JSON, SSE, NDJSON, options, heartbeat, coalescing.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use agentor::Agentor;
use agentor_server::ServerConfig;
use common::*;
use futures::StreamExt;
use serde_json::{json, Value};

async fn demo_answer() -> String {
    demo_agent().chat("Hi").await.unwrap()
}

#[tokio::test]
async fn json_mode_answers_output_and_run_id() {
    let server = demo_server().await;
    let response = reqwest::Client::new()
        .post(server.url("/chat"))
        .json(&json!({"input": "Hi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let header = response.headers()["x-run-id"].to_str().unwrap().to_owned();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["output"], demo_answer().await);
    assert_eq!(body["run_id"], header);
    // A conversation works too; stream-shaping options do not change the answer.
    let body: Value = reqwest::Client::new()
        .post(server.url("/chat?events=text_delta&rebuffer=words"))
        .json(&json!({"input": [{"role": "user", "content": "Hi"}]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["output"], demo_answer().await);
}

#[tokio::test]
async fn sse_mode_frames() {
    let server = demo_server().await;
    for format in ["agentor", "native"] {
        let response = reqwest::Client::new()
            .post(server.url(&format!("/chat?format={format}")))
            .json(&json!({"input": "Hi", "stream": true}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let h = response.headers();
        assert_eq!(h["content-type"], "text/event-stream");
        assert_eq!(h["cache-control"], "no-cache");
        assert_eq!(h["x-accel-buffering"], "no");
        let run_id = h["x-run-id"].to_str().unwrap().to_owned();
        let frames = sse_frames(response).await;
        for (i, frame) in frames.iter().enumerate() {
            assert_eq!(frame.id, i.to_string());
            let data: Value = serde_json::from_str(&frame.data).unwrap();
            assert!(data.is_object());
        }
        assert_eq!(frames[0].event, "run_start");
        let last = frames.last().unwrap();
        assert_eq!(last.event, "done");
        let text: String = frames
            .iter()
            .filter(|f| f.event == "text_delta")
            .map(|f| {
                let data: Value = serde_json::from_str(&f.data).unwrap();
                let key = if format == "native" { "text" } else { "chunk" };
                data[key].as_str().unwrap().to_owned()
            })
            .collect();
        assert_eq!(text, demo_answer().await);
        let first: Value = serde_json::from_str(&frames[0].data).unwrap();
        let end: Value = serde_json::from_str(&last.data).unwrap();
        if format == "native" {
            assert_eq!(first["run_id"], run_id);
            assert_eq!(first["seq"], 0);
            assert_eq!(end["status"], "completed");
        } else {
            assert_eq!(end["message"], "completed");
            let delta = frames.iter().find(|f| f.event == "text_delta").unwrap();
            let delta: Value = serde_json::from_str(&delta.data).unwrap();
            assert_eq!(delta["type"], "raw_response_event");
        }
    }
}

#[tokio::test]
async fn ndjson_by_accept() {
    let server = demo_server().await;
    let response = reqwest::Client::new()
        .post(server.url("/chat"))
        .header("accept", "application/x-ndjson")
        .json(&json!({"input": "Hi", "stream": true, "format": "native"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-type"], "application/x-ndjson");
    let body = response.text().await.unwrap();
    let events: Vec<Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events[0]["type"], "run_start");
    assert_eq!(events.last().unwrap()["type"], "run_end");
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e["seq"], i);
    }
}

async fn native_frames(server: &TestServer, body: Value, query: &str) -> Vec<Value> {
    let response = reqwest::Client::new()
        .post(server.url(&format!("/chat?format=native{query}")))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    sse_frames(response)
        .await
        .iter()
        .map(|f| serde_json::from_str(&f.data).unwrap())
        .collect()
}

#[tokio::test]
async fn options_filter_rebuffer_batch() {
    let server = demo_server().await;
    // events: only deltas asked; run_end still delivered.
    let events = native_frames(
        &server,
        json!({"input": "Hi", "stream": true}),
        "&events=raw_response_event",
    )
    .await;
    assert!(events[..events.len() - 1]
        .iter()
        .all(|e| e["type"] == "text_delta" || e["type"] == "reasoning_delta"));
    assert_eq!(events.last().unwrap()["type"], "run_end");
    // rebuffer=words: every delta but the last ends at a word boundary.
    let events = native_frames(
        &server,
        json!({"input": "Hi", "stream": true, "rebuffer": "words", "events": ["text_delta"]}),
        "",
    )
    .await;
    let texts: Vec<&str> = events.iter().filter_map(|e| e["text"].as_str()).collect();
    assert_eq!(texts.concat(), demo_answer().await);
    for t in &texts[..texts.len() - 1] {
        assert!(
            t.ends_with(|c: char| !c.is_alphanumeric()),
            "not a word: {t:?}"
        );
    }
    // batch_ms: deltas coalesced, text unchanged, fewer deltas.
    let plain = native_frames(&server, json!({"input": "Hi", "stream": true}), "").await;
    let batched = native_frames(
        &server,
        json!({"input": "Hi", "stream": true}),
        "&batch_ms=20",
    )
    .await;
    let text = |v: &[Value]| -> String {
        v.iter()
            .filter(|e| e["type"] == "text_delta")
            .filter_map(|e| e["text"].as_str())
            .collect()
    };
    assert_eq!(text(&batched), text(&plain));
    assert!(batched.len() < plain.len());
}

#[tokio::test]
async fn timeout_ends_timed_out() {
    let agent = Agentor::builder()
        .provider(Stalling::new(Some(Duration::from_secs(30))))
        .build();
    let server = start(agent, ServerConfig::default()).await;
    let events = native_frames(
        &server,
        json!({"input": "Hi", "stream": true, "timeout": 0.2}),
        "",
    )
    .await;
    let last = events.last().unwrap();
    assert_eq!(last["type"], "run_end");
    assert_eq!(last["status"], "timed_out");
    assert!(events.iter().any(|e| e["type"] == "error"));
    // Non-streaming: 504 JSON.
    let response = reqwest::Client::new()
        .post(server.url("/chat"))
        .json(&json!({"input": "Hi", "timeout": 0.2}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 504);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "run_timed_out");
}

#[tokio::test]
async fn heartbeat_while_silent() {
    let agent = Agentor::builder()
        .provider(Stalling::new(Some(Duration::from_millis(400))))
        .build();
    let config = ServerConfig::default().heartbeat(Duration::from_millis(50));
    let server = start(agent, config).await;
    let body = reqwest::Client::new()
        .post(server.url("/chat"))
        .json(&json!({"input": "Hi", "stream": true}))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.contains("\n\n: keep-alive\n\n"), "{body}");
    assert!(body.ends_with("\n\n") && body.contains("event: done"));
}

#[tokio::test]
async fn ready_frames_are_coalesced() {
    let agent = Agentor::builder().provider(Fast(2000)).build();
    let server = start(agent, ServerConfig::default()).await;
    let response = reqwest::Client::new()
        .post(server.url("/chat"))
        .json(&json!({"input": "Hi", "stream": true}))
        .send()
        .await
        .unwrap();
    let mut chunks = 0;
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        chunks += 1;
        body.extend_from_slice(&chunk.unwrap());
    }
    let frames = String::from_utf8(body).unwrap().matches("\n\n").count();
    assert!(frames > 2000);
    assert!(chunks * 5 < frames, "{chunks} chunks for {frames} frames");
}

/// A provider whose turn fails mid-stream with an `Err` item.
#[derive(Debug)]
struct Failing;

impl agentor::Provider for Failing {
    fn stream(&self, _request: agentor::ChatRequest) -> agentor::BoxEventStream {
        use agentor::{Error, Event, EventKind, RunStatus};
        Box::pin(futures::stream::iter(vec![
            Ok(Event::new(EventKind::RunStart {
                agent: "stub".into(),
                model: None,
            })),
            Ok(Event::text_delta("Hel")),
            Err(Error::provider("503 Service Unavailable: overloaded")),
            Ok(Event::new(EventKind::RunEnd {
                status: RunStatus::Failed,
            })),
        ]))
    }

    fn name(&self) -> &str {
        "failing"
    }
}

#[tokio::test]
async fn a_failed_run_is_an_error_frame_then_done_or_a_502() {
    let agent = Agentor::builder().provider(Failing).build();
    let server = start(agent, ServerConfig::default()).await;
    let response = reqwest::Client::new()
        .post(server.url("/chat?format=native"))
        .json(&json!({"input": "Hi", "stream": true}))
        .send()
        .await
        .unwrap();
    let frames = sse_frames(response).await;
    let error = frames.iter().position(|f| f.event == "error").unwrap();
    let data: Value = serde_json::from_str(&frames[error].data).unwrap();
    assert!(data["message"].as_str().unwrap().contains("overloaded"));
    let last = frames.last().unwrap();
    assert!(error < frames.len() - 1);
    assert_eq!(last.event, "done");
    let end: Value = serde_json::from_str(&last.data).unwrap();
    assert_eq!(end["status"], "failed");
    for (i, frame) in frames.iter().enumerate() {
        assert_eq!(frame.id, i.to_string());
    }

    let response = reqwest::Client::new()
        .post(server.url("/chat"))
        .json(&json!({"input": "Hi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 502);
    assert!(response.headers().contains_key("x-run-id"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "run_failed");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("overloaded"));
}

#[tokio::test]
async fn json_mode_answers_a_question_to_the_user_with_its_status() {
    let turn = concat!(
        r#"{"type":"tool_call","seq":0,"call_id":"c1","name":"request_input","arguments":{"question":"Which city?"}}"#,
        "\n",
        r#"{"type":"run_end","seq":1,"status":"completed"}"#,
        "\n",
    );
    let agent = Agentor::builder()
        .provider(agentor_providers::Replay::from_bytes(turn))
        .tool(agentor::Tool::request_input())
        .build();
    let server = start(agent, ServerConfig::default()).await;
    let response = reqwest::Client::new()
        .post(server.url("/chat"))
        .json(&json!({"input": "Weather?", "stream": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["output"], "Which city?");
    assert_eq!(body["status"], "input_required");
}
