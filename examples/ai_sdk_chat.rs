//! The Vercel AI SDK's `useChat` backend in your own axum app: a handler
//! taking the body `useChat`'s default transport sends ([`UiChatRequest`])
//! and answering with the UI message stream
//! ([`EventStreamResponse::ui_message_stream`]); and a client reading the
//! stream as `useChat` would, assembling the assistant message.
//!
//! The built-in server offers the same at `POST /api/chat` (with resume at
//! `GET /api/chat/{id}/stream`); this shows the pieces for an app of your
//! own. Runs offline on the demo provider; exits non-zero if the stream is
//! not what it should be. See `docs/frontends.md`.
//!
//! Run it with `cargo run -p agentor-examples --example ai_sdk_chat`.
#![allow(clippy::print_stdout)] // printing the chunks as they arrive is the point

use agentor::providers::Demo;
use agentor::{Agentor, Tool, ToolError};
use agentor_server::{EventStreamResponse, UiChatRequest};
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use futures::StreamExt;
use serde_json::{json, Value};

/// `POST /api/chat`: the conversation from the UI messages, the run as chunks.
async fn chat(
    State(agent): State<Agentor>,
    Json(request): Json<UiChatRequest>,
) -> EventStreamResponse {
    let run_id = Agentor::new_run_id();
    let run = agent.stream_chat_with_run_id(request.conversation(), run_id.clone());
    EventStreamResponse::new(run)
        .ui_message_stream(request.message_id.map(Into::into))
        .run_id(run_id)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let weather = Tool::new(
        "get_weather",
        "The current weather in a city.",
        json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
        |args: Value| async move { Ok::<_, ToolError>(format!("18°C and sunny in {}", args["city"])) },
    );
    let agent = Agentor::builder()
        .provider(Demo::instant())
        .tool(weather)
        .build();
    let app = Router::new()
        .route("/api/chat", post(chat))
        .with_state(agent);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });

    // What `useChat` sends for a first message.
    let body = json!({
        "id": "chat_1",
        "trigger": "submit-message",
        "messages": [{"id": "m1", "role": "user", "parts": [{"type": "text", "text": "Weather in Paris?"}]}]
    });
    let response = reqwest::Client::new()
        .post(format!("http://{addr}/api/chat"))
        .json(&body)
        .send()
        .await?;
    check(
        response
            .headers()
            .get("x-vercel-ai-ui-message-stream")
            .map(|v| v.as_bytes())
            == Some(b"v1"),
        "the protocol header",
    )?;
    let mut body = response.bytes_stream();
    let mut raw = Vec::new();
    while let Some(chunk) = body.next().await {
        raw.extend_from_slice(&chunk?);
    }
    let raw = String::from_utf8(raw)?;

    // Assemble the message as the client does: text blocks, tool parts.
    let (mut text, mut tool_input, mut tool_output, mut done) =
        (String::new(), Value::Null, None, false);
    for frame in raw.split_terminator("\n\n") {
        let data = frame.strip_prefix("data: ").ok_or("a frame without data")?;
        if data == "[DONE]" {
            done = true;
            println!("[DONE]");
            continue;
        }
        let chunk: Value = serde_json::from_str(data)?;
        println!("{chunk}");
        match chunk["type"].as_str() {
            Some("text-delta") => text.push_str(chunk["delta"].as_str().unwrap_or("")),
            Some("tool-input-available") => tool_input = chunk["input"].clone(),
            Some("tool-output-available") => {
                tool_output = chunk["output"].as_str().map(str::to_owned)
            }
            _ => {}
        }
    }
    check(done, "the stream ends with [DONE]")?;
    check(tool_input["city"].is_string(), "the tool's input")?;
    let output = tool_output.ok_or("no tool output")?;
    check(output.starts_with("18°C and sunny"), "the tool's output")?;
    check(
        text.contains(&output),
        "the answer reports the tool's output",
    )?;
    println!("\nassembled: tool get_weather({tool_input}) → {output}; text: {text}");
    Ok(())
}

fn check(ok: bool, what: &str) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(format!("unexpected stream: {what}"))
    }
}
