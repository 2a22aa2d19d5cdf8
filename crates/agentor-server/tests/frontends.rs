//! The frontends' routes end to end: `POST /api/chat` (AI SDK UI message
//! stream), its resume route, and `POST /agui` (AG-UI), on a real server.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use agentor::{Agentor, BoxEventStream, ChatRequest, Error, Event, Provider, RunStatus};
use agentor::{Tool, ToolError};
use agentor_providers::Demo;
use agentor_server::ServerConfig;
use common::{start, wait_dropped, Stalling, TestServer};
use serde_json::{json, Value};

/// The `data:` payloads of an SSE body, JSON parsed (`[DONE]` as a string).
async fn data_frames(response: reqwest::Response) -> Vec<Value> {
    common::sse_frames(response)
        .await
        .into_iter()
        .map(|frame| {
            if frame.data == "[DONE]" {
                Value::from("[DONE]")
            } else {
                serde_json::from_str(&frame.data).unwrap()
            }
        })
        .collect()
}

fn type_names(frames: &[Value]) -> Vec<String> {
    frames
        .iter()
        .map(|f| match f.get("type") {
            Some(t) => t.as_str().unwrap().to_owned(),
            None => f.as_str().unwrap().to_owned(),
        })
        .collect()
}

fn weather_agent() -> Agentor {
    let weather = Tool::new(
        "get_weather",
        "Weather in a city.",
        json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
        |args: Value| async move { Ok::<_, ToolError>(format!("18°C in {}", args["city"])) },
    );
    Agentor::builder()
        .provider(Demo::instant())
        .tool(weather)
        .build()
}

fn ui_body(text: &str) -> Value {
    json!({
        "id": "chat_1",
        "trigger": "submit-message",
        "messageId": null,
        "messages": [{"id": "u1", "role": "user", "parts": [{"type": "text", "text": text}]}]
    })
}

async fn post(server: &TestServer, path: &str, body: &Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(server.url(path))
        .json(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn use_chat_gets_a_ui_message_stream_with_the_tool_round_trip() {
    let server = start(weather_agent(), ServerConfig::default()).await;
    let response = post(&server, "/api/chat", &ui_body("Weather in Paris?")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-vercel-ai-ui-message-stream"], "v1");
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let run_id = response.headers()["x-run-id"].to_str().unwrap().to_owned();
    let frames = data_frames(response).await;
    let types = type_names(&frames);
    assert_eq!(types.first().unwrap(), "start");
    assert_eq!(frames[0]["messageId"], run_id.as_str());
    assert_eq!(&types[types.len() - 2..], ["finish", "[DONE]"]);
    for expected in [
        "start-step",
        "reasoning-start",
        "tool-input-start",
        "tool-input-delta",
        "tool-input-available",
        "tool-output-available",
        "finish-step",
        "text-start",
        "text-delta",
        "text-end",
        "message-metadata",
    ] {
        assert!(types.iter().any(|t| t == expected), "{expected}: {types:?}");
    }
    let output = frames
        .iter()
        .find(|f| f["type"] == "tool-output-available")
        .unwrap();
    assert!(output["output"].as_str().unwrap().starts_with("18°C in"));
    let steps = types.iter().filter(|t| *t == "start-step").count();
    assert_eq!(steps, 2, "{types:?}");
}

#[tokio::test]
async fn history_with_tool_parts_becomes_the_conversation() {
    // The demo reports the last tool result when one follows the user message.
    let server = start(weather_agent(), ServerConfig::default()).await;
    let body = json!({
        "id": "chat_2", "trigger": "submit-message", "messages": [
            {"id": "u1", "role": "user", "parts": [{"type": "text", "text": "Weather?"}]},
            {"id": "a1", "role": "assistant", "parts": [
                {"type": "step-start"},
                {"type": "tool-get_weather", "toolCallId": "c1", "state": "output-available",
                 "input": {"city": "Oslo"}, "output": "-3°C in Oslo"}
            ]}
        ]
    });
    let frames = data_frames(post(&server, "/api/chat", &body).await).await;
    let text: String = frames
        .iter()
        .filter(|f| f["type"] == "text-delta")
        .map(|f| f["delta"].as_str().unwrap())
        .collect();
    assert!(text.contains("-3°C in Oslo"), "{text}");
}

#[tokio::test]
async fn bad_requests_are_json_errors() {
    let server = start(weather_agent(), ServerConfig::default().body_limit(4096)).await;
    let client = reqwest::Client::new();
    for path in ["/api/chat", "/agui"] {
        let cases: Vec<(reqwest::RequestBuilder, u16, &str)> = vec![
            (
                client
                    .post(server.url(path))
                    .header("content-type", "application/json")
                    .body("{not json"),
                400,
                "invalid_json",
            ),
            (
                client
                    .post(server.url(path))
                    .header("content-type", "application/json")
                    .body(""),
                400,
                "invalid_json",
            ),
            (
                client.post(server.url(path)).body("{}"),
                415,
                "unsupported_media_type",
            ),
            (
                client
                    .post(server.url(path))
                    .json(&json!({"messages": "hi"})),
                422,
                "invalid_request",
            ),
            (
                client.post(server.url(path)).json(
                    &json!({"threadId": "t", "runId": "r", "messages": [], "x": "y".repeat(5000)}),
                ),
                413,
                "body_too_large",
            ),
        ];
        for (request, status, code) in cases {
            let response = request.send().await.unwrap();
            assert_eq!(response.status().as_u16(), status, "{path} {code}");
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["error"]["code"], code, "{path}: {body}");
        }
    }
    for body in [
        json!({"id": "c", "messages": []}),
        json!({"id": "c", "trigger": "resubmit", "messages": [{"role": "user", "parts": []}]}),
        json!({"id": "c", "messages": [{"role": "robot", "parts": []}]}),
    ] {
        let response = post(&server, "/api/chat", &body).await;
        assert_eq!(response.status(), 422, "{body}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["error"]["code"], "invalid_request");
    }
    // Too many messages (within the default body limit).
    let roomy = start(weather_agent(), ServerConfig::default()).await;
    let many = json!({"messages": (0..1001).map(|_| json!({"role": "user"})).collect::<Vec<_>>()});
    let response = post(&roomy, "/api/chat", &many).await;
    assert_eq!(response.status(), 422);
    let error: Value = response.json().await.unwrap();
    assert!(error["error"]["message"]
        .as_str()
        .unwrap()
        .contains("at most 1000"));
    let response = post(
        &server,
        "/api/chat",
        &json!({"messages": [{"role": "user", "parts": []}], "rebuffer": "paragraphs"}),
    )
    .await;
    assert_eq!(response.status(), 400);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"]["code"], "invalid_option");
    for body in [
        json!({"threadId": "t", "runId": "r", "messages": []}),
        json!({"threadId": "t", "runId": "r", "messages": [{"role": "user", "content": "x"}],
               "tools": [{"name": "", "description": ""}]}),
        json!({"threadId": "t", "messages": [{"role": "user", "content": "x"}]}),
    ] {
        let response = post(&server, "/agui", &body).await;
        assert_eq!(response.status(), 422, "{body}");
    }
}

#[tokio::test]
async fn pipeline_options_apply_as_extra_body_fields() {
    let server = start(weather_agent(), ServerConfig::default()).await;
    let mut body = ui_body("Weather in Paris?");
    body["events"] = json!(["text_delta", "message", "run_end"]);
    let frames = data_frames(post(&server, "/api/chat", &body).await).await;
    let types = type_names(&frames);
    assert!(
        !types
            .iter()
            .any(|t| t.starts_with("tool-") || t.starts_with("reasoning")),
        "{types:?}"
    );
    assert!(types.iter().any(|t| t == "text-delta"));
    // AG-UI takes them from forwardedProps.
    let input = json!({"threadId": "t", "runId": "r", "messages": [{"id": "1", "role": "user", "content": "Hi"}],
                       "forwardedProps": {"events": "text_delta,run_end"}});
    let frames = data_frames(post(&server, "/agui", &input).await).await;
    let types = type_names(&frames);
    assert!(
        !types
            .iter()
            .any(|t| t.starts_with("TOOL_") || t.starts_with("REASONING")),
        "{types:?}"
    );
    assert_eq!(types.last().unwrap(), "RUN_FINISHED");
}

#[tokio::test]
async fn resume_replays_the_active_stream_and_answers_204_otherwise() {
    let stalling = Stalling::new(Some(Duration::from_millis(400)));
    let agent = Agentor::builder().provider(stalling.clone()).build();
    let server = start(agent, ServerConfig::default()).await;
    let client = reqwest::Client::new();
    let none = client
        .get(server.url("/api/chat/nobody/stream"))
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), 204);
    let mut live = post(&server, "/api/chat", &ui_body("Hi")).await;
    // Wait until the run is under way.
    let mut seen = Vec::new();
    while !String::from_utf8_lossy(&seen).contains("text-delta") {
        seen.extend_from_slice(&live.chunk().await.unwrap().unwrap());
    }
    let resumed = client
        .get(server.url("/api/chat/chat_1/stream"))
        .send()
        .await
        .unwrap();
    assert_eq!(resumed.status(), 200);
    assert_eq!(resumed.headers()["x-vercel-ai-ui-message-stream"], "v1");
    let frames = data_frames(resumed).await;
    let types = type_names(&frames);
    assert_eq!(types[0], "start");
    assert!(types.iter().any(|t| t == "text-delta"));
    assert_eq!(&types[types.len() - 2..], ["finish", "[DONE]"]);
    drop(live);
    let after = client
        .get(server.url("/api/chat/chat_1/stream"))
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 204);
}

#[tokio::test]
async fn a_disconnect_cancels_the_run_on_both_routes() {
    for (path, body) in [
        ("/api/chat", ui_body("Hi")),
        (
            "/agui",
            json!({"threadId": "t", "runId": "r", "messages": [{"id": "1", "role": "user", "content": "Hi"}]}),
        ),
    ] {
        let stalling = Stalling::new(None);
        let agent = Agentor::builder().provider(stalling.clone()).build();
        let server = start(agent, ServerConfig::default()).await;
        let mut response = post(&server, path, &body).await;
        response.chunk().await.unwrap().unwrap();
        drop(response);
        wait_dropped(&stalling.dropped_at, Duration::from_secs(2)).await;
    }
}

/// Streams some text, then fails as a provider does mid-answer.
#[derive(Debug)]
struct FailsMidway;

impl Provider for FailsMidway {
    fn stream(&self, _request: ChatRequest) -> BoxEventStream {
        Box::pin(futures::stream::iter(vec![
            Ok(Event::text_delta("Half of ")),
            Ok(Event::text_delta("it")),
            Err(Error::provider("upstream 502")),
            Ok(Event::run_end(RunStatus::Failed)),
        ]))
    }

    fn name(&self) -> &str {
        "fails-midway"
    }
}

#[tokio::test]
async fn a_provider_failure_is_each_protocols_error_after_the_text() {
    let agent = Agentor::builder().provider(FailsMidway).build();
    let server = start(agent, ServerConfig::default()).await;
    let frames = data_frames(post(&server, "/api/chat", &ui_body("Hi")).await).await;
    let types = type_names(&frames);
    let error = types.iter().position(|t| t == "error").unwrap();
    let last_delta = types.iter().rposition(|t| t == "text-delta").unwrap();
    assert!(last_delta < error, "{types:?}");
    assert_eq!(frames[error]["errorText"], "upstream 502");
    let finish = frames.iter().find(|f| f["type"] == "finish").unwrap();
    assert_eq!(finish["finishReason"], "error");

    let input = json!({"threadId": "t", "runId": "r", "messages": [{"id": "1", "role": "user", "content": "Hi"}]});
    let frames = data_frames(post(&server, "/agui", &input).await).await;
    let types = type_names(&frames);
    assert_eq!(types.last().unwrap(), "RUN_ERROR", "{types:?}");
    assert!(types.iter().any(|t| t == "TEXT_MESSAGE_END"));
    let text: String = frames
        .iter()
        .filter(|f| f["type"] == "TEXT_MESSAGE_CONTENT")
        .map(|f| f["delta"].as_str().unwrap())
        .collect();
    assert_eq!(text, "Half of it");
    assert_eq!(frames.last().unwrap()["message"], "upstream 502");
}

#[tokio::test]
async fn a_frontend_tool_call_ends_the_run_for_the_frontend_then_its_result_is_answered() {
    let server = start(weather_agent(), ServerConfig::default()).await;
    let tools = json!([{"name": "confirm_order", "description": "Ask the user to confirm",
                        "parameters": {"type": "object", "properties": {"item": {"type": "string"}}, "required": ["item"]}}]);
    let input = json!({"threadId": "t1", "runId": "r1", "state": {}, "context": [], "forwardedProps": {},
                       "messages": [{"id": "1", "role": "user", "content": "Order a lamp"}], "tools": tools});
    let frames = data_frames(post(&server, "/agui", &input).await).await;
    let types = type_names(&frames);
    assert_eq!(types[0], "RUN_STARTED");
    assert_eq!(frames[0]["threadId"], "t1");
    assert_eq!(frames[0]["runId"], "r1");
    assert!(!types.iter().any(|t| t == "TOOL_CALL_RESULT"), "{types:?}");
    let start = frames
        .iter()
        .find(|f| f["type"] == "TOOL_CALL_START")
        .unwrap();
    assert_eq!(start["toolCallName"], "confirm_order");
    let call_id = start["toolCallId"].as_str().unwrap().to_owned();
    let args: String = frames
        .iter()
        .filter(|f| f["type"] == "TOOL_CALL_ARGS")
        .map(|f| f["delta"].as_str().unwrap())
        .collect();
    let args: Value = serde_json::from_str(&args).unwrap();
    assert!(args["item"].is_string());
    let finished = frames.last().unwrap();
    assert_eq!(finished["type"], "RUN_FINISHED");
    assert_eq!(finished["outcome"]["pendingToolCallIds"], json!([call_id]));

    // The frontend ran it and sends the result back.
    let input = json!({"threadId": "t1", "runId": "r2", "tools": tools, "messages": [
        {"id": "1", "role": "user", "content": "Order a lamp"},
        {"id": "2", "role": "assistant", "toolCalls": [{"id": call_id, "type": "function",
            "function": {"name": "confirm_order", "arguments": args.to_string()}}]},
        {"id": "3", "role": "tool", "toolCallId": call_id, "content": "confirmed by the user"}
    ]});
    let frames = data_frames(post(&server, "/agui", &input).await).await;
    let text: String = frames
        .iter()
        .filter(|f| f["type"] == "TEXT_MESSAGE_CONTENT")
        .map(|f| f["delta"].as_str().unwrap())
        .collect();
    assert!(text.contains("confirmed by the user"), "{text}");
    assert_eq!(
        frames.last().unwrap()["outcome"],
        json!({"type": "success"})
    );
}

#[tokio::test]
async fn routes_can_be_moved_or_turned_off() {
    let config = ServerConfig::default()
        .ai_sdk_path(Some("/ui/chat"))
        .ag_ui_path(None::<&str>);
    let server = start(weather_agent(), config).await;
    assert_eq!(
        post(&server, "/api/chat", &ui_body("Hi")).await.status(),
        404
    );
    assert_eq!(
        post(&server, "/ui/chat", &ui_body("Hi")).await.status(),
        200
    );
    let input = json!({"threadId": "t", "runId": "r", "messages": [{"id": "1", "role": "user", "content": "Hi"}]});
    assert_eq!(post(&server, "/agui", &input).await.status(), 404);
    let resume = reqwest::get(server.url("/ui/chat/x/stream")).await.unwrap();
    assert_eq!(resume.status(), 204);
}

#[tokio::test]
async fn the_token_guards_the_frontend_routes() {
    let server = start(weather_agent(), ServerConfig::default().token("s3cret")).await;
    assert_eq!(
        post(&server, "/api/chat", &ui_body("Hi")).await.status(),
        401
    );
    let response = reqwest::Client::new()
        .post(server.url("/api/chat"))
        .bearer_auth("s3cret")
        .json(&ui_body("Hi"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}
