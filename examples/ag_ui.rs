//! AG-UI: `agentor serve`'s `POST /agui` route, called as `@ag-ui/client`'s
//! `HttpAgent` calls it, with a *frontend* tool — one the browser runs. The
//! model calls it, the run ends with the call pending
//! (`RUN_FINISHED.outcome.pendingToolCallIds`), the "frontend" runs it and
//! sends the result in the next run's messages, and the agent answers.
//!
//! Runs offline on the demo provider; exits non-zero if the events are not
//! what they should be (order included: every message and tool call is
//! closed before `RUN_FINISHED`). See `docs/frontends.md`.
//!
//! Run it with `cargo run -p agentor-examples --example ag_ui`.
#![allow(clippy::print_stdout)] // printing the events as they arrive is the point

use agentor::providers::Demo;
use agentor::Agentor;
use agentor_server::{router, ServerConfig};
use futures::StreamExt;
use serde_json::{json, Value};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let agent = Agentor::builder().provider(Demo::instant()).build();
    let app = router(agent, ServerConfig::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    let url = format!("http://{addr}/agui");

    let tools = json!([{
        "name": "confirm_order",
        "description": "Ask the user to confirm an order.",
        "parameters": {"type": "object", "properties": {"item": {"type": "string"}}, "required": ["item"]}
    }]);
    let mut messages = vec![json!({"id": "u1", "role": "user", "content": "Order a desk lamp"})];

    // Run 1: the model calls the frontend's tool; the run ends for the frontend.
    let events = run(&url, "run-1", &messages, &tools).await?;
    let start = events
        .iter()
        .find(|e| e["type"] == "TOOL_CALL_START")
        .ok_or("no tool call")?;
    let call_id = start["toolCallId"].as_str().ok_or("no call id")?.to_owned();
    let args: String = events
        .iter()
        .filter(|e| e["type"] == "TOOL_CALL_ARGS")
        .filter_map(|e| e["delta"].as_str())
        .collect();
    let finished = events.last().ok_or("no events")?;
    check(
        finished["outcome"]["pendingToolCallIds"] == json!([call_id]),
        "the call is pending for the frontend",
    )?;
    check(
        !events.iter().any(|e| e["type"] == "TOOL_CALL_RESULT"),
        "the server did not run the frontend's tool",
    )?;

    // The frontend runs the tool (here: the user clicks "confirm").
    println!("\nfrontend: confirm_order({args}) → confirmed\n");
    messages.push(json!({"id": "a1", "role": "assistant", "toolCalls": [
        {"id": call_id, "type": "function", "function": {"name": "confirm_order", "arguments": args}}
    ]}));
    messages
        .push(json!({"id": "t1", "role": "tool", "toolCallId": call_id, "content": "confirmed"}));

    // Run 2: the agent answers with the result.
    let events = run(&url, "run-2", &messages, &tools).await?;
    let text: String = events
        .iter()
        .filter(|e| e["type"] == "TEXT_MESSAGE_CONTENT")
        .filter_map(|e| e["delta"].as_str())
        .collect();
    check(
        text.contains("confirmed"),
        "the answer uses the frontend's result",
    )?;
    println!("\nanswer: {text}");
    Ok(())
}

/// One AG-UI run: POSTs a `RunAgentInput`, reads the SSE events, checks the
/// protocol's sequence rules on the way.
async fn run(
    url: &str,
    run_id: &str,
    messages: &[Value],
    tools: &Value,
) -> Result<Vec<Value>, Box<dyn std::error::Error>> {
    let input = json!({"threadId": "thread-1", "runId": run_id, "state": {}, "context": [],
                       "forwardedProps": {}, "messages": messages, "tools": tools});
    let response = reqwest::Client::new().post(url).json(&input).send().await?;
    check(response.status() == 200, "200 OK")?;
    let mut body = response.bytes_stream();
    let mut raw = Vec::new();
    while let Some(chunk) = body.next().await {
        raw.extend_from_slice(&chunk?);
    }
    let mut events = Vec::new();
    let mut open: Vec<String> = Vec::new();
    for frame in String::from_utf8(raw)?.split_terminator("\n\n") {
        let event: Value = serde_json::from_str(frame.strip_prefix("data: ").ok_or("no data")?)?;
        println!("{event}");
        let id = |key: &str| event[key].as_str().unwrap_or("").to_owned();
        match event["type"].as_str().unwrap_or("") {
            "TEXT_MESSAGE_START" => open.push(id("messageId")),
            "TOOL_CALL_START" => open.push(id("toolCallId")),
            "STEP_STARTED" => open.push(id("stepName")),
            "TEXT_MESSAGE_END" => open.retain(|x| *x != id("messageId")),
            "TOOL_CALL_END" => open.retain(|x| *x != id("toolCallId")),
            "STEP_FINISHED" => open.retain(|x| *x != id("stepName")),
            "RUN_FINISHED" => check(open.is_empty(), "everything is closed before RUN_FINISHED")?,
            _ => {}
        }
        events.push(event);
    }
    check(
        events.first().is_some_and(|e| e["type"] == "RUN_STARTED"),
        "RUN_STARTED first",
    )?;
    check(
        events.last().is_some_and(|e| e["type"] == "RUN_FINISHED"),
        "RUN_FINISHED last",
    )?;
    Ok(events)
}

fn check(ok: bool, what: &str) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(format!("unexpected events: {what}"))
    }
}
