//! A2A over real HTTP on 127.0.0.1: both dialects' streams, the task store
//! (get, cancel, resubscribe, list), blocking and non-blocking sends, every
//! error case, and the agent card.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use agentor::{
    Agentor, BoxEventStream, ChatRequest, Error, Event, EventKind, Provider, RunStatus, Tool,
    ToolError,
};
use agentor_providers::Demo;
use agentor_server::{Dialect, ServerConfig};
use common::*;
use serde_json::{json, Value};

/// A provider that plays the same events on every turn.
#[derive(Clone, Debug)]
struct Script(Arc<Mutex<Vec<Result<Event, Error>>>>);

impl Script {
    fn new(events: Vec<Result<Event, Error>>) -> Self {
        Script(Arc::new(Mutex::new(events)))
    }
}

impl Provider for Script {
    fn stream(&self, _request: ChatRequest) -> BoxEventStream {
        Box::pin(futures::stream::iter(self.0.lock().unwrap().clone()))
    }

    fn name(&self) -> &str {
        "script"
    }
}

fn hello_script() -> Script {
    Script::new(vec![
        Ok(Event::text_delta("Hel")),
        Ok(Event::text_delta("lo ")),
        Ok(Event::text_delta("world")),
        Ok(Event::message("Hello world")),
        Ok(Event::new(EventKind::Usage {
            input_tokens: 3,
            output_tokens: 2,
            total_tokens: 5,
            cache_read_input_tokens: 0,
            cache_creation_input_tokens: 0,
        })),
        Ok(Event::run_end(RunStatus::Completed)),
    ])
}

fn agent_with(provider: impl Provider + 'static) -> Agentor {
    Agentor::builder()
        .name("Assistant")
        .instructions("SECRET system prompt")
        .provider(provider)
        .build()
}

fn weather_tool() -> Tool {
    Tool::new(
        "get_weather",
        "The current weather in a city.",
        json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
        |args: Value| async move { Ok::<_, ToolError>(format!("18°C and sunny in {}", args["city"])) },
    )
}

fn message(dialect: Dialect, text: &str) -> Value {
    match dialect {
        Dialect::V0_3 => {
            json!({"kind": "message", "messageId": "m-1", "role": "user", "parts": [{"kind": "text", "text": text}]})
        }
        Dialect::V1_0 => {
            json!({"messageId": "m-1", "role": "ROLE_USER", "parts": [{"text": text}]})
        }
    }
}

fn method(dialect: Dialect, v03: &'static str, v10: &'static str) -> &'static str {
    match dialect {
        Dialect::V0_3 => v03,
        Dialect::V1_0 => v10,
    }
}

fn post(server: &TestServer, body: &Value, version: Option<&str>) -> reqwest::RequestBuilder {
    let mut request = reqwest::Client::new().post(server.url("/")).json(body);
    if let Some(version) = version {
        request = request.header("A2A-Version", version);
    }
    request
}

fn version_of(dialect: Dialect) -> Option<&'static str> {
    match dialect {
        Dialect::V0_3 => None,
        Dialect::V1_0 => Some("1.0"),
    }
}

/// A JSON-RPC call answered with one JSON body; asserts HTTP 200 and the id.
async fn call(server: &TestServer, dialect: Dialect, method: &str, params: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 42, "method": method, "params": params});
    let response = post(server, &body, version_of(dialect))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let value: Value = response.json().await.unwrap();
    assert_eq!(value["jsonrpc"], "2.0");
    assert_eq!(value["id"], 42);
    value
}

/// A streaming call: every SSE frame's data as JSON; asserts the id on each.
async fn stream(server: &TestServer, dialect: Dialect, method: &str, params: Value) -> Vec<Value> {
    let body = json!({"jsonrpc": "2.0", "id": "s-1", "method": method, "params": params});
    let response = post(server, &body, version_of(dialect))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    sse_frames(response)
        .await
        .into_iter()
        .map(|frame| {
            let value: Value = serde_json::from_str(&frame.data).unwrap();
            assert_eq!(value["jsonrpc"], "2.0");
            assert_eq!(value["id"], "s-1");
            value
        })
        .collect()
}

fn results(frames: &[Value]) -> Vec<Value> {
    frames.iter().map(|f| f["result"].clone()).collect()
}

/// The inner object of an event in either dialect and its kind name.
fn event_kind(dialect: Dialect, event: &Value) -> (String, Value) {
    match dialect {
        Dialect::V0_3 => (event["kind"].as_str().unwrap().to_owned(), event.clone()),
        Dialect::V1_0 => {
            let (key, inner) = event.as_object().unwrap().iter().next().unwrap();
            let kind = match key.as_str() {
                "task" => "task",
                "message" => "message",
                "statusUpdate" => "status-update",
                "artifactUpdate" => "artifact-update",
                other => panic!("unknown wrapper {other}"),
            };
            assert_eq!(
                event.as_object().unwrap().len(),
                1,
                "one wrapper key: {event}"
            );
            (kind.to_owned(), inner.clone())
        }
    }
}

fn state(dialect: Dialect, name: &str) -> String {
    match dialect {
        Dialect::V0_3 => name.to_owned(),
        Dialect::V1_0 => format!("TASK_STATE_{}", name.to_uppercase().replace('-', "_")),
    }
}

/// Checks the shape every streamed run has; returns the answer's text and
/// the final status.
fn check_run(dialect: Dialect, events: &[Value]) -> (String, Value) {
    let (kind, task) = event_kind(dialect, &events[0]);
    assert_eq!(kind, "task", "Task first");
    assert_eq!(task["status"]["state"], state(dialect, "submitted"));
    assert!(task["id"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(task["contextId"].as_str().is_some_and(|s| !s.is_empty()));
    let user = &task["history"][0];
    assert!(user["messageId"].as_str().is_some_and(|s| !s.is_empty()));
    assert_eq!(user["role"], method(dialect, "user", "ROLE_USER"));
    let (kind, working) = event_kind(dialect, &events[1]);
    assert_eq!(kind, "status-update");
    assert_eq!(working["status"]["state"], state(dialect, "working"));
    let mut text = String::new();
    let mut chunks_of: std::collections::HashMap<String, (usize, bool)> = Default::default();
    for event in &events[1..events.len() - 1] {
        let (kind, inner) = event_kind(dialect, event);
        assert_eq!(inner["taskId"], task["id"]);
        assert_eq!(inner["contextId"], task["contextId"]);
        if kind == "artifact-update" {
            let id = inner["artifact"]["artifactId"].as_str().unwrap().to_owned();
            let seen = chunks_of.entry(id).or_default();
            assert!(!seen.1, "no chunk after lastChunk");
            assert_eq!(
                inner["append"],
                seen.0 > 0,
                "append false on the first chunk only"
            );
            seen.0 += 1;
            seen.1 = inner["lastChunk"] == true;
            for part in inner["artifact"]["parts"].as_array().unwrap() {
                text.push_str(part["text"].as_str().unwrap());
            }
        } else {
            assert_eq!(kind, "status-update");
            if dialect == Dialect::V0_3 {
                assert_eq!(inner["final"], false);
            }
        }
    }
    assert!(
        chunks_of.values().all(|(_, last)| *last),
        "every artifact ends with lastChunk"
    );
    let (kind, last) = event_kind(dialect, events.last().unwrap());
    assert_eq!(kind, "status-update");
    match dialect {
        Dialect::V0_3 => assert_eq!(last["final"], true),
        Dialect::V1_0 => {
            assert!(last.get("final").is_none());
            assert!(events.iter().all(|e| e.get("kind").is_none()));
        }
    }
    (text, last)
}

#[tokio::test]
async fn streamed_run_in_both_dialects() {
    let server = start(agent_with(hello_script()), ServerConfig::default()).await;
    for dialect in [Dialect::V0_3, Dialect::V1_0] {
        let frames = stream(
            &server,
            dialect,
            method(dialect, "message/stream", "SendStreamingMessage"),
            json!({"message": message(dialect, "Hi")}),
        )
        .await;
        let events = results(&frames);
        let (text, last) = check_run(dialect, &events);
        assert_eq!(
            event_kind(dialect, &events[0]).1["history"][0]["messageId"],
            "m-1"
        );
        assert_eq!(text, "Hello world");
        assert_eq!(last["status"]["state"], state(dialect, "completed"));
        assert_eq!(last["metadata"]["usage"]["totalTokens"], 5);
        assert_eq!(last["metadata"]["runStatus"], "completed");
        // Three deltas, then the empty closing chunk.
        let chunks = events
            .iter()
            .filter(|e| event_kind(dialect, e).0 == "artifact-update")
            .count();
        assert_eq!(chunks, 4);

        // The stored task: the whole answer in one artifact, the answer in the history.
        let task_id = event_kind(dialect, &events[0]).1["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let task = call(
            &server,
            dialect,
            method(dialect, "tasks/get", "GetTask"),
            json!({"id": task_id}),
        )
        .await;
        let task = &task["result"];
        assert_eq!(task["status"]["state"], state(dialect, "completed"));
        assert_eq!(task["artifacts"][0]["parts"][0]["text"], "Hello world");
        assert_eq!(task["history"].as_array().unwrap().len(), 2);
        assert_eq!(task["history"][1]["parts"][0]["text"], "Hello world");
    }
}

/// The Python streaming guide's minimal message (no `messageId`, `role` or
/// `kind`) streams in both dialects, and every answer is complete: the
/// user's message comes back with a generated id and the user role.
#[tokio::test]
async fn the_guides_minimal_message_streams_in_both_dialects() {
    let server = start(agent_with(hello_script()), ServerConfig::default()).await;
    let minimal = [
        json!({"parts": [{"kind": "text", "text": "Explain machine learning"}]}),
        json!({"parts": [{"text": "Explain machine learning"}]}),
    ];
    for dialect in [Dialect::V0_3, Dialect::V1_0] {
        let mut ids = Vec::new();
        for message in &minimal {
            let frames = stream(
                &server,
                dialect,
                method(dialect, "message/stream", "SendStreamingMessage"),
                json!({"message": message}),
            )
            .await;
            let events = results(&frames);
            let (text, last) = check_run(dialect, &events);
            assert_eq!(text, "Hello world");
            assert_eq!(last["status"]["state"], state(dialect, "completed"));
            let user = &event_kind(dialect, &events[0]).1["history"][0];
            let id = user["messageId"].as_str().unwrap().to_owned();
            assert_eq!(id.len(), 36, "a generated UUID: {id}");
            let text_part = match dialect {
                Dialect::V0_3 => {
                    assert_eq!(user["kind"], "message");
                    json!({"kind": "text", "text": "Explain machine learning"})
                }
                Dialect::V1_0 => json!({"text": "Explain machine learning"}),
            };
            assert_eq!(user["parts"], json!([text_part]));
            ids.push(id);
        }
        // A blocking send of the same message returns the finished task.
        let answer = call(
            &server,
            dialect,
            method(dialect, "message/send", "SendMessage"),
            json!({"message": minimal[1]}),
        )
        .await;
        let task = match dialect {
            Dialect::V0_3 => &answer["result"],
            Dialect::V1_0 => &answer["result"]["task"],
        };
        assert_eq!(
            task["status"]["state"],
            state(dialect, "completed"),
            "{answer}"
        );
        ids.push(task["history"][0]["messageId"].as_str().unwrap().to_owned());
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 3, "each message gets its own id");
    }
}

#[tokio::test]
async fn demo_run_text_equals_the_runs_text() {
    let agent = Agentor::builder()
        .name("Assistant")
        .provider(Demo::instant())
        .build();
    let expected = agent.chat("Tell me about streams").await.unwrap();
    let server = start(agent, ServerConfig::default()).await;
    for dialect in [Dialect::V0_3, Dialect::V1_0] {
        let frames = stream(
            &server,
            dialect,
            method(dialect, "message/stream", "SendStreamingMessage"),
            json!({"message": message(dialect, "Tell me about streams")}),
        )
        .await;
        let (text, last) = check_run(dialect, &results(&frames));
        assert_eq!(text, expected);
        assert_eq!(last["status"]["state"], state(dialect, "completed"));
    }
}

#[tokio::test]
async fn client_context_and_task_ids_are_honoured() {
    let server = start(agent_with(hello_script()), ServerConfig::default()).await;
    let mut msg = message(Dialect::V1_0, "Hi");
    msg["contextId"] = json!("ctx-client");
    msg["taskId"] = json!("task-client");
    let frames = stream(
        &server,
        Dialect::V1_0,
        "SendStreamingMessage",
        json!({"message": msg}),
    )
    .await;
    let events = results(&frames);
    assert_eq!(events[0]["task"]["id"], "task-client");
    assert_eq!(events[0]["task"]["contextId"], "ctx-client");
    assert!(events[1..].iter().all(|e| {
        let inner = event_kind(Dialect::V1_0, e).1;
        inner["taskId"] == "task-client" && inner["contextId"] == "ctx-client"
    }));
}

#[tokio::test]
async fn a_failing_provider_ends_failed_with_a_message() {
    let failing = Script::new(vec![
        Ok(Event::text_delta("partial")),
        Err(Error::provider("upstream said 503")),
    ]);
    let server = start(agent_with(failing), ServerConfig::default()).await;
    for dialect in [Dialect::V0_3, Dialect::V1_0] {
        let frames = stream(
            &server,
            dialect,
            method(dialect, "message/stream", "SendStreamingMessage"),
            json!({"message": message(dialect, "Hi")}),
        )
        .await;
        let (text, last) = check_run(dialect, &results(&frames));
        assert_eq!(text, "partial");
        assert_eq!(last["status"]["state"], state(dialect, "failed"));
        let why = last["status"]["message"]["parts"][0]["text"]
            .as_str()
            .unwrap();
        assert!(why.contains("upstream said 503"), "{why}");
        assert_eq!(
            last["status"]["message"]["role"],
            method(dialect, "agent", "ROLE_AGENT")
        );
    }
}

#[tokio::test]
async fn max_turns_is_failed_not_completed() {
    let agent = Agentor::builder()
        .name("Looper")
        .provider(Demo::instant())
        .tool(weather_tool())
        .max_turns(1)
        .build();
    let server = start(agent, ServerConfig::default()).await;
    for dialect in [Dialect::V0_3, Dialect::V1_0] {
        let frames = stream(
            &server,
            dialect,
            method(dialect, "message/stream", "SendStreamingMessage"),
            json!({"message": message(dialect, "Weather in Paris?")}),
        )
        .await;
        let (_, last) = check_run(dialect, &results(&frames));
        assert_eq!(last["status"]["state"], state(dialect, "failed"));
        assert_eq!(last["metadata"]["runStatus"], "max_turns");
        let why = last["status"]["message"]["parts"][0]["text"]
            .as_str()
            .unwrap();
        assert!(why.contains("max_turns"), "{why}");
    }
}

#[tokio::test]
async fn tool_events_are_data_parts_not_answer_text() {
    let agent = Agentor::builder()
        .name("Weather")
        .provider(Demo::instant())
        .tool(weather_tool())
        .build();
    let server = start(agent, ServerConfig::default()).await;
    for dialect in [Dialect::V0_3, Dialect::V1_0] {
        let frames = stream(
            &server,
            dialect,
            method(dialect, "message/stream", "SendStreamingMessage"),
            json!({"message": message(dialect, "Weather in Paris?")}),
        )
        .await;
        let events = results(&frames);
        let (text, last) = check_run(dialect, &events);
        assert_eq!(last["status"]["state"], state(dialect, "completed"));
        let data: Vec<Value> = events
            .iter()
            .map(|e| event_kind(dialect, e))
            .filter(|(kind, _)| kind == "status-update")
            .filter_map(|(_, inner)| inner["status"]["message"]["parts"][0].get("data").cloned())
            .collect();
        assert_eq!(data[0]["type"], "tool_call");
        assert_eq!(data[0]["name"], "get_weather");
        assert_eq!(data[1]["type"], "tool_result");
        assert!(data[1]["output"].as_str().unwrap().contains("sunny"));
        if dialect == Dialect::V0_3 {
            let part = events
                .iter()
                .find_map(|e| e["status"]["message"]["parts"][0].get("kind").cloned());
            assert_eq!(part, Some(json!("data")));
        }
        assert!(
            !text.contains("tool_call") && !text.contains("get_weather("),
            "{text}"
        );
        assert!(
            text.contains("sunny"),
            "the answer reports the result: {text}"
        );
    }
}

#[tokio::test]
async fn blocking_send_returns_the_finished_task_and_get_honours_history_length() {
    let server = start(agent_with(hello_script()), ServerConfig::default()).await;
    for dialect in [Dialect::V0_3, Dialect::V1_0] {
        let answer = call(
            &server,
            dialect,
            method(dialect, "message/send", "SendMessage"),
            json!({"message": message(dialect, "Hi")}),
        )
        .await;
        let task = match dialect {
            Dialect::V0_3 => {
                assert_eq!(answer["result"]["kind"], "task");
                answer["result"].clone()
            }
            Dialect::V1_0 => answer["result"]["task"].clone(),
        };
        assert_eq!(task["status"]["state"], state(dialect, "completed"));
        assert_eq!(task["artifacts"][0]["parts"][0]["text"], "Hello world");
        let id = task["id"].clone();
        let get = method(dialect, "tasks/get", "GetTask");
        let all = call(&server, dialect, get, json!({"id": id})).await;
        assert_eq!(all["result"]["history"].as_array().unwrap().len(), 2);
        let one = call(&server, dialect, get, json!({"id": id, "historyLength": 1})).await;
        let history = one["result"]["history"].as_array().unwrap();
        assert_eq!(history.len(), 1);
        assert_eq!(history[0]["role"], method(dialect, "agent", "ROLE_AGENT"));
        let none = call(&server, dialect, get, json!({"id": id, "historyLength": 0})).await;
        assert!(none["result"].get("history").is_none());
    }
}

#[tokio::test]
async fn non_blocking_send_returns_at_once_and_the_task_runs_on() {
    let stalling = Stalling::new(Some(Duration::from_millis(300)));
    let server = start(agent_with(stalling), ServerConfig::default()).await;
    let answer = call(
        &server,
        Dialect::V1_0,
        "SendMessage",
        json!({"message": message(Dialect::V1_0, "Hi"), "configuration": {"returnImmediately": true}}),
    )
    .await;
    let task = &answer["result"]["task"];
    let early = task["status"]["state"].as_str().unwrap();
    assert!(
        early == "TASK_STATE_SUBMITTED" || early == "TASK_STATE_WORKING",
        "{early}"
    );
    let id = task["id"].clone();
    // The run goes on without anyone attached and completes.
    let frames = stream(&server, Dialect::V1_0, "SubscribeToTask", json!({"id": id})).await;
    let last = results(&frames).last().unwrap().clone();
    assert_eq!(
        last["statusUpdate"]["status"]["state"],
        "TASK_STATE_COMPLETED"
    );
    let task = call(&server, Dialect::V1_0, "GetTask", json!({"id": id})).await;
    assert_eq!(task["result"]["artifacts"][0]["parts"][0]["text"], "Hello");

    // 0.3 spells it `blocking: false`.
    let answer = call(
        &server,
        Dialect::V0_3,
        "message/send",
        json!({"message": message(Dialect::V0_3, "Hi"), "configuration": {"blocking": false}}),
    )
    .await;
    assert_ne!(answer["result"]["status"]["state"], "completed");
}

#[tokio::test]
async fn cancel_a_running_task_subscribers_see_canceled() {
    let stalling = Stalling::new(None);
    let dropped = stalling.dropped_at.clone();
    let server = start(agent_with(stalling), ServerConfig::default()).await;
    for dialect in [Dialect::V0_3, Dialect::V1_0] {
        *dropped.lock().unwrap() = None;
        let answer = call(
            &server,
            dialect,
            method(dialect, "message/send", "SendMessage"),
            json!({"message": message(dialect, "Hi"), "configuration": match dialect {
                Dialect::V0_3 => json!({"blocking": false}),
                Dialect::V1_0 => json!({"returnImmediately": true}),
            }}),
        )
        .await;
        let task = match dialect {
            Dialect::V0_3 => answer["result"].clone(),
            Dialect::V1_0 => answer["result"]["task"].clone(),
        };
        let id = task["id"].as_str().unwrap().to_owned();
        let subscriber = {
            let url = server.url("/");
            let id = id.clone();
            tokio::spawn(async move {
                let body = json!({"jsonrpc": "2.0", "id": "s-1", "method": method(dialect, "tasks/resubscribe", "SubscribeToTask"), "params": {"id": id}});
                let mut request = reqwest::Client::new().post(url).json(&body);
                if let Some(v) = version_of(dialect) {
                    request = request.header("A2A-Version", v);
                }
                sse_frames(request.send().await.unwrap()).await
            })
        };
        // Let the subscriber attach, then cancel.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let cancel = method(dialect, "tasks/cancel", "CancelTask");
        let canceled = call(&server, dialect, cancel, json!({"id": id})).await;
        assert_eq!(
            canceled["result"]["status"]["state"],
            state(dialect, "canceled")
        );
        wait_dropped(&dropped, Duration::from_secs(2)).await;

        let frames: Vec<Value> = subscriber
            .await
            .unwrap()
            .iter()
            .map(|f| serde_json::from_str::<Value>(&f.data).unwrap()["result"].clone())
            .collect();
        assert_eq!(
            event_kind(dialect, &frames[0]).0,
            "task",
            "the snapshot first"
        );
        let (_, last) = event_kind(dialect, frames.last().unwrap());
        assert_eq!(last["status"]["state"], state(dialect, "canceled"));

        // Finished → -32002; unknown → -32001.
        let again = call(&server, dialect, cancel, json!({"id": id})).await;
        assert_eq!(again["error"]["code"], -32002);
        let unknown = call(&server, dialect, cancel, json!({"id": "nope"})).await;
        assert_eq!(unknown["error"]["code"], -32001);
    }
}

#[tokio::test]
async fn resubscribe_or_a_message_to_a_finished_task_is_unsupported_operation() {
    let server = start(agent_with(hello_script()), ServerConfig::default()).await;
    for dialect in [Dialect::V0_3, Dialect::V1_0] {
        let answer = call(
            &server,
            dialect,
            method(dialect, "message/send", "SendMessage"),
            json!({"message": message(dialect, "Hi")}),
        )
        .await;
        let id = match dialect {
            Dialect::V0_3 => answer["result"]["id"].clone(),
            Dialect::V1_0 => answer["result"]["task"]["id"].clone(),
        };
        let resubscribe = method(dialect, "tasks/resubscribe", "SubscribeToTask");
        // 1.0: "can be used with any task that is not in a terminal state";
        // the error comes at once, as JSON in 1.0 and as the one event of
        // an error stream in 0.3 (how 0.3 streaming methods answer errors).
        let error = match dialect {
            Dialect::V0_3 => {
                let frames = stream(&server, dialect, resubscribe, json!({"id": id})).await;
                assert_eq!(frames.len(), 1);
                frames[0]["error"].clone()
            }
            Dialect::V1_0 => {
                call(&server, dialect, resubscribe, json!({"id": id})).await["error"].clone()
            }
        };
        assert_eq!(error["code"], -32004, "{error}");
        assert!(
            error["message"].as_str().unwrap().contains("terminal"),
            "{error}"
        );
        // So is a message to it (A2A 1.0, CORE-SEND-002), streamed or not.
        for send in [
            method(dialect, "message/send", "SendMessage"),
            method(dialect, "message/stream", "SendStreamingMessage"),
        ] {
            let mut msg = message(dialect, "And again?");
            msg["taskId"] = id.clone();
            let params = json!({ "message": msg });
            let error = if send == "message/stream" {
                let frames = stream(&server, dialect, send, params).await;
                assert_eq!(frames.len(), 1);
                frames[0]["error"].clone()
            } else {
                call(&server, dialect, send, params).await["error"].clone()
            };
            assert_eq!(error["code"], -32004, "{send}: {error}");
            assert!(
                error["message"]
                    .as_str()
                    .unwrap()
                    .contains("terminal state"),
                "{error}"
            );
        }
        // The task itself is still there to read.
        let get = method(dialect, "tasks/get", "GetTask");
        let task = call(&server, dialect, get, json!({"id": id})).await;
        assert_eq!(
            task["result"]["status"]["state"],
            state(dialect, "completed")
        );
    }
}

#[tokio::test]
async fn streams_and_sends_honour_history_length() {
    let server = start(agent_with(hello_script()), ServerConfig::default()).await;
    for dialect in [Dialect::V0_3, Dialect::V1_0] {
        let history_of = |task: &Value| {
            task.get("history")
                .and_then(Value::as_array)
                .map_or(0, Vec::len)
        };
        // The Task that starts a stream holds the user's message, unless trimmed.
        let send_stream = method(dialect, "message/stream", "SendStreamingMessage");
        let full = stream(
            &server,
            dialect,
            send_stream,
            json!({"message": message(dialect, "Hi")}),
        )
        .await;
        let (kind, first) = event_kind(dialect, &full[0]["result"]);
        assert_eq!(kind, "task");
        assert_eq!(history_of(&first), 1);
        let trimmed = stream(
            &server,
            dialect,
            send_stream,
            json!({"message": message(dialect, "Hi"), "configuration": {"historyLength": 0}}),
        )
        .await;
        let (kind, first) = event_kind(dialect, &trimmed[0]["result"]);
        assert_eq!(kind, "task");
        assert_eq!(history_of(&first), 0, "{first}");

        // A blocking send's Task: user message and answer, or the last one.
        let answer = call(
            &server,
            dialect,
            method(dialect, "message/send", "SendMessage"),
            json!({"message": message(dialect, "Hi"), "configuration": {"historyLength": 1}}),
        )
        .await;
        let task = match dialect {
            Dialect::V0_3 => answer["result"].clone(),
            Dialect::V1_0 => answer["result"]["task"].clone(),
        };
        assert_eq!(history_of(&task), 1);
        assert_eq!(
            task["history"][0]["role"],
            method(dialect, "agent", "ROLE_AGENT")
        );

        // Reading the finished task: trimmed the same way.
        let get = method(dialect, "tasks/get", "GetTask");
        let id = task["id"].clone();
        let all = call(&server, dialect, get, json!({"id": id})).await;
        assert_eq!(history_of(&all["result"]), 2);
        let one = call(&server, dialect, get, json!({"id": id, "historyLength": 1})).await;
        assert_eq!(history_of(&one["result"]), 1);
        assert_eq!(
            one["result"]["history"][0]["role"],
            method(dialect, "agent", "ROLE_AGENT")
        );
    }
}

#[tokio::test]
async fn list_tasks_filters_and_pages() {
    let server = start(agent_with(hello_script()), ServerConfig::default()).await;
    for (context, text) in [("ctx-a", "one"), ("ctx-a", "two"), ("ctx-b", "three")] {
        let mut msg = message(Dialect::V1_0, text);
        msg["contextId"] = json!(context);
        call(
            &server,
            Dialect::V1_0,
            "SendMessage",
            json!({"message": msg}),
        )
        .await;
    }
    let all = call(&server, Dialect::V1_0, "ListTasks", json!({})).await;
    assert_eq!(all["result"]["totalSize"], 3);
    assert!(
        all["result"]["tasks"][0].get("artifacts").is_none(),
        "no artifacts unless asked"
    );

    let a = call(
        &server,
        Dialect::V1_0,
        "ListTasks",
        json!({"contextId": "ctx-a", "pageSize": 1}),
    )
    .await;
    let a = &a["result"];
    assert_eq!(a["totalSize"], 2);
    assert_eq!(a["pageSize"], 1);
    assert_eq!(a["tasks"].as_array().unwrap().len(), 1);
    let token = a["nextPageToken"].as_str().unwrap();
    assert!(!token.is_empty());
    let next = call(
        &server,
        Dialect::V1_0,
        "ListTasks",
        json!({"contextId": "ctx-a", "pageSize": 1, "pageToken": token, "includeArtifacts": true, "historyLength": 1}),
    )
    .await;
    let next = &next["result"];
    assert_eq!(next["nextPageToken"], "");
    assert_ne!(next["tasks"][0]["id"], a["tasks"][0]["id"]);
    assert_eq!(
        next["tasks"][0]["artifacts"][0]["parts"][0]["text"],
        "Hello world"
    );
    assert_eq!(next["tasks"][0]["history"].as_array().unwrap().len(), 1);

    let done = call(
        &server,
        Dialect::V1_0,
        "ListTasks",
        json!({"status": "TASK_STATE_COMPLETED"}),
    )
    .await;
    assert_eq!(done["result"]["totalSize"], 3);
    let failed = call(
        &server,
        Dialect::V1_0,
        "ListTasks",
        json!({"status": "TASK_STATE_FAILED"}),
    )
    .await;
    assert_eq!(failed["result"]["totalSize"], 0);
    let bad = call(
        &server,
        Dialect::V1_0,
        "ListTasks",
        json!({"pageToken": "garbage"}),
    )
    .await;
    assert_eq!(bad["error"]["code"], -32602);
}

/// Sends a raw body; returns the HTTP status, content type and body text.
async fn raw(server: &TestServer, body: &str, version: Option<&str>) -> (u16, String, String) {
    let mut request = reqwest::Client::new()
        .post(server.url("/"))
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(version) = version {
        request = request.header("A2A-Version", version);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    (status, content_type, response.text().await.unwrap())
}

fn json_body(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

#[tokio::test]
async fn envelope_errors() {
    let server = demo_server().await;
    let (status, _, body) = raw(&server, "{not json", None).await;
    assert_eq!(status, 200);
    let body = json_body(&body);
    assert_eq!(body["error"]["code"], -32700);
    assert_eq!(body["id"], Value::Null);
    for bad in [
        r#"[]"#,
        r#""hi""#,
        r#"{"id": 1, "method": "tasks/get"}"#,
        r#"{"jsonrpc": "1.0", "id": 1, "method": "tasks/get"}"#,
        r#"{"jsonrpc": "2.0", "id": 1}"#,
        r#"{"jsonrpc": "2.0", "id": 1, "method": 5}"#,
        r#"{"jsonrpc": "2.0", "id": [1], "method": "tasks/get"}"#,
    ] {
        let (status, _, body) = raw(&server, bad, None).await;
        assert_eq!(status, 200, "{bad}");
        assert_eq!(json_body(&body)["error"]["code"], -32600, "{bad}");
    }
    let (_, _, body) = raw(
        &server,
        r#"{"jsonrpc": "2.0", "id": "x", "method": "tasks/list"}"#,
        None,
    )
    .await;
    let body = json_body(&body);
    assert_eq!(body["error"]["code"], -32601);
    assert_eq!(body["id"], "x");
    // Ids of every kind come back as sent.
    for id in [json!("abc"), json!(7), json!(null)] {
        let body =
            json!({"jsonrpc": "2.0", "id": id, "method": "GetTask", "params": {"id": "nope"}});
        let answer: Value = post(&server, &body, Some("1.0"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(answer["id"], id);
        assert_eq!(answer["error"]["code"], -32001);
    }
}

#[tokio::test]
async fn a_body_that_is_not_json_by_its_content_type_is_32005() {
    let server = demo_server().await;
    let send = |content_type: &'static str, body: String| {
        reqwest::Client::new()
            .post(server.url("/"))
            .header("content-type", content_type)
            .header("A2A-Version", "1.0")
            .body(body)
            .send()
    };
    let get = json!({"jsonrpc": "2.0", "id": "ct", "method": "GetTask", "params": {"id": "nope"}});
    for content_type in [
        "text/xml",
        "text/plain",
        "application/x-www-form-urlencoded",
    ] {
        let response = send(content_type, get.to_string()).await.unwrap();
        assert_eq!(response.status(), 415, "{content_type}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["id"], "ct");
        assert_eq!(body["error"]["code"], -32005, "{body}");
        assert_eq!(
            body["error"]["data"][0]["reason"],
            "CONTENT_TYPE_NOT_SUPPORTED"
        );
        assert!(body["error"]["message"]
            .as_str()
            .unwrap()
            .contains(content_type));
    }
    // Not even JSON: the content type is still what is wrong.
    let response = send("text/xml", "<GetTask/>".into()).await.unwrap();
    assert_eq!(response.status(), 415);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], -32005);
    assert_eq!(body["id"], Value::Null);
    // JSON by parameters or suffix is JSON.
    for content_type in [
        "application/json; charset=utf-8",
        "application/a2a+json",
        "application/json-rpc+json",
    ] {
        let response = send(content_type, get.to_string()).await.unwrap();
        assert_eq!(response.status(), 200, "{content_type}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], -32001, "{content_type}: {body}");
    }
}

#[tokio::test]
async fn invalid_params_name_the_field() {
    let server = demo_server().await;
    // Leaving out messageId, role or kind is accepted (the guide's minimal
    // message); what the request does give is checked as strictly as ever.
    let cases = [
        (
            json!({"message": {"parts": [{"kind": "text", "text": "x"}]}, "configuration": {"historyLength": "many"}}),
            "params.configuration.historyLength must be a non-negative integer",
        ),
        (
            json!({"message": {"parts": []}}),
            "params.message.parts must not be empty",
        ),
        (
            json!({"message": {"role": "boss", "parts": [{"text": "x"}]}}),
            "params.message.role has an unknown value `boss`",
        ),
        (
            json!({"message": {"kind": "task", "parts": [{"text": "x"}]}}),
            "params.message.kind must be `message`",
        ),
        (
            json!({"message": {"parts": [{"txt": "x"}]}}),
            "params.message.parts[0] must have one of",
        ),
        (
            json!({"message": {"messageId": "m", "role": "user"}}),
            "params.message.parts is required",
        ),
        (
            json!({"message": {"messageId": 1, "role": "user", "parts": []}}),
            "params.message.messageId must be a string",
        ),
        (
            json!({"message": {"messageId": "m", "role": 1, "parts": []}}),
            "params.message.role must be a string",
        ),
        (
            json!({"message": {"messageId": "m", "role": "user", "parts": {}}}),
            "params.message.parts must be an array",
        ),
        (
            json!({"message": {"messageId": "m", "role": "user", "parts": [{"kind": "text"}]}}),
            "params.message.parts[0].text is required",
        ),
        (json!({"configuration": {}}), "params.message is required"),
        (json!(null), "params is required"),
    ];
    for dialect in [Dialect::V0_3, Dialect::V1_0] {
        for (params, expected) in &cases {
            let answer = call(
                &server,
                dialect,
                method(dialect, "message/send", "SendMessage"),
                params.clone(),
            )
            .await;
            assert_eq!(answer["error"]["code"], -32602, "{params}");
            let got = answer["error"]["message"].as_str().unwrap();
            assert!(got.starts_with(expected), "{got} vs {expected}");
        }
        let answer = call(
            &server,
            dialect,
            method(dialect, "tasks/get", "GetTask"),
            json!({"id": 5}),
        )
        .await;
        assert_eq!(answer["error"]["code"], -32602);
        let answer = call(
            &server,
            dialect,
            method(dialect, "tasks/get", "GetTask"),
            json!({"id": "t", "historyLength": "many"}),
        )
        .await;
        assert_eq!(answer["error"]["code"], -32602);
    }
}

#[tokio::test]
async fn streaming_errors_are_one_sse_event_in_03_and_json_in_10() {
    let server = demo_server().await;
    let bad = json!({"message": {"role": "user", "parts": []}});
    let body = json!({"jsonrpc": "2.0", "id": 9, "method": "message/stream", "params": bad});
    let response = post(&server, &body, None).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let frames = sse_frames(response).await;
    assert_eq!(frames.len(), 1);
    let error: Value = serde_json::from_str(&frames[0].data).unwrap();
    assert_eq!(error["id"], 9);
    assert_eq!(error["error"]["code"], -32602);

    let body = json!({"jsonrpc": "2.0", "id": 9, "method": "SendStreamingMessage", "params": bad});
    let (status, content_type, text) = raw(&server, &body.to_string(), Some("1.0")).await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("application/json"));
    let error = json_body(&text);
    assert_eq!(error["error"]["code"], -32602);
    // 1.0 errors carry google.rpc.ErrorInfo objects, as the 1.3.0 SDKs do.
    assert_eq!(
        error["error"]["data"],
        json!([{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "INVALID_PARAMS", "domain": "a2a-protocol.org", "metadata": {}}])
    );
    // Resubscribing to an unknown task: the same split.
    let frames = stream(
        &server,
        Dialect::V0_3,
        "tasks/resubscribe",
        json!({"id": "nope"}),
    )
    .await;
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0]["error"]["code"], -32001);
    let unknown = call(
        &server,
        Dialect::V1_0,
        "SubscribeToTask",
        json!({"id": "nope"}),
    )
    .await;
    assert_eq!(unknown["error"]["code"], -32001);
    assert_eq!(unknown["error"]["data"][0]["reason"], "TASK_NOT_FOUND");
}

#[tokio::test]
async fn unsupported_versions_and_push_notifications() {
    let server = demo_server().await;
    for version in ["2.0", "0.2", "banana"] {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": "GetTask", "params": {"id": "x"}});
        let (status, _, text) = raw(&server, &body.to_string(), Some(version)).await;
        assert_eq!(status, 200);
        let error = json_body(&text);
        assert_eq!(error["error"]["code"], -32009, "{version}");
        assert_eq!(error["error"]["data"][0]["reason"], "VERSION_NOT_SUPPORTED");
    }
    // The method names the dialect: a 0.3 method with `A2A-Version: 1.0`
    // (as the Python SDK sends) is served in 0.3.
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tasks/get", "params": {"id": "x"}});
    let (_, _, text) = raw(&server, &body.to_string(), Some("1.0")).await;
    assert_eq!(
        json_body(&text)["error"],
        json!({"code": -32001, "message": "Task not found: x"})
    );
    // Output modes the agent cannot produce: -32005; text among them is fine.
    let params = |modes: Value| json!({"message": message(Dialect::V1_0, "Hi"), "configuration": {"acceptedOutputModes": modes}});
    let answer = call(
        &server,
        Dialect::V1_0,
        "SendMessage",
        params(json!(["image/png"])),
    )
    .await;
    assert_eq!(answer["error"]["code"], -32005);
    assert_eq!(
        answer["error"]["data"][0]["reason"],
        "CONTENT_TYPE_NOT_SUPPORTED"
    );
    let answer = call(
        &server,
        Dialect::V1_0,
        "SendMessage",
        params(json!(["image/png", "text/plain; charset=utf-8"])),
    )
    .await;
    assert_eq!(
        answer["result"]["task"]["status"]["state"],
        "TASK_STATE_COMPLETED"
    );
    // Push notification methods are served (tests/a2a_push.rs): a bad
    // config is -32602, an unknown task -32001.
    for (dialect, name, code) in [
        (Dialect::V0_3, "tasks/pushNotificationConfig/set", -32602),
        (Dialect::V0_3, "tasks/pushNotificationConfig/get", -32602),
        (Dialect::V1_0, "CreateTaskPushNotificationConfig", -32602),
        (Dialect::V1_0, "ListTaskPushNotificationConfigs", -32001),
    ] {
        let answer = call(&server, dialect, name, json!({"taskId": "x"})).await;
        assert_eq!(answer["error"]["code"], code, "{name}");
    }
}

#[tokio::test]
async fn over_the_run_limit_is_an_error_not_a_hang() {
    let server = start(
        agent_with(Stalling::new(None)),
        ServerConfig::default().max_runs(1),
    )
    .await;
    let first = call(
        &server,
        Dialect::V1_0,
        "SendMessage",
        json!({"message": message(Dialect::V1_0, "Hi"), "configuration": {"returnImmediately": true}}),
    )
    .await;
    assert!(first["result"]["task"]["id"].is_string());
    let second = tokio::time::timeout(
        Duration::from_secs(2),
        call(
            &server,
            Dialect::V1_0,
            "SendMessage",
            json!({"message": message(Dialect::V1_0, "Hi")}),
        ),
    )
    .await
    .unwrap();
    assert_eq!(second["error"]["code"], -32603);
    assert!(second["error"]["message"]
        .as_str()
        .unwrap()
        .contains("runs are in progress"));
}

#[tokio::test]
async fn a_full_store_of_running_tasks_refuses_new_ones() {
    let config = ServerConfig::default().a2a_max_tasks(1);
    let server = start(agent_with(Stalling::new(None)), config).await;
    let params = json!({"message": message(Dialect::V1_0, "Hi"), "configuration": {"returnImmediately": true}});
    let first = call(&server, Dialect::V1_0, "SendMessage", params.clone()).await;
    assert!(first.get("result").is_some());
    let second = call(&server, Dialect::V1_0, "SendMessage", params).await;
    assert_eq!(second["error"]["code"], -32603);
    assert!(second["error"]["message"]
        .as_str()
        .unwrap()
        .contains("task store is full"));
}

#[tokio::test]
async fn shutdown_ends_running_tasks_canceled() {
    let server = start(agent_with(Stalling::new(None)), ServerConfig::default()).await;
    let body = json!({"jsonrpc": "2.0", "id": "s-1", "method": "message/stream", "params": {"message": message(Dialect::V0_3, "Hi")}});
    let response = post(&server, &body, None).send().await.unwrap();
    let reader = tokio::spawn(sse_frames(response));
    tokio::time::sleep(Duration::from_millis(100)).await;
    server.shutdown.trigger();
    let frames = tokio::time::timeout(Duration::from_secs(5), reader)
        .await
        .unwrap()
        .unwrap();
    let last: Value = serde_json::from_str(&frames.last().unwrap().data).unwrap();
    assert_eq!(last["result"]["status"]["state"], "canceled");
    assert_eq!(last["result"]["final"], true);
}

#[tokio::test]
async fn body_limit_and_auth_apply_to_post_root_but_cards_stay_public() {
    let config = ServerConfig::default().body_limit(64).token("s3cret");
    let server = start(demo_agent(), config).await;
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "GetTask", "params": {"id": "x"}});
    let response = post(&server, &body, None).send().await.unwrap();
    assert_eq!(response.status(), 401);
    let big =
        json!({"jsonrpc": "2.0", "id": 1, "method": "GetTask", "params": {"id": "x".repeat(100)}});
    let response = post(&server, &big, None)
        .bearer_auth("s3cret")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    let response = post(&server, &body, None)
        .bearer_auth("s3cret")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let card = reqwest::get(server.url("/.well-known/agent-card.json"))
        .await
        .unwrap();
    assert_eq!(card.status(), 200);
    let card: Value = card.json().await.unwrap();
    assert_eq!(
        card["securitySchemes"]["bearer"]["httpAuthSecurityScheme"]["scheme"],
        "Bearer"
    );
}

#[tokio::test]
async fn skill_ids_stay_unique_when_a_tool_is_named_chat() {
    let chat_tool = Tool::new(
        "chat",
        "Chats.",
        json!({"type": "object"}),
        |_: Value| async move { Ok::<_, ToolError>("ok") },
    );
    let agent = Agentor::builder()
        .name("Assistant")
        .provider(Demo::instant())
        .tool(chat_tool)
        .build();
    let server = start(agent, ServerConfig::default()).await;
    let card: Value = reqwest::get(server.url("/.well-known/agent-card.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = card["skills"]
        .as_array()
        .unwrap()
        .iter()
        .map(|skill| skill["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["agent", "chat"]);
}

#[tokio::test]
async fn agent_card_in_both_dialects() {
    let agent = Agentor::builder()
        .name("Weather")
        .instructions("SECRET system prompt")
        .provider(Demo::instant())
        .tool(weather_tool())
        .build();
    let server = start(agent, ServerConfig::default().agent_version("2.1.0")).await;
    let client = reqwest::Client::new();
    let v10: Value = client
        .get(server.url("/.well-known/agent-card.json"))
        .header("A2A-Version", "1.0")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let url = format!("http://{}/", server.addr);
    assert_eq!(v10["name"], "Weather");
    assert_eq!(v10["version"], "2.1.0");
    assert_eq!(v10["capabilities"]["streaming"], true);
    assert_eq!(
        v10["supportedInterfaces"],
        json!([
            {"url": url, "protocolBinding": "JSONRPC", "protocolVersion": "1.0"},
            {"url": url, "protocolBinding": "JSONRPC", "protocolVersion": "0.3.0"},
            {"url": format!("{url}v1"), "protocolBinding": "HTTP+JSON", "protocolVersion": "1.0"},
        ])
    );
    assert!(v10.get("url").is_none());
    assert_eq!(v10["defaultInputModes"], json!(["text/plain"]));
    let skills = v10["skills"].as_array().unwrap();
    let tool = skills.iter().find(|s| s["id"] == "get_weather").unwrap();
    assert_eq!(tool["description"], "The current weather in a city.");
    assert!(
        !v10.to_string().contains("SECRET"),
        "never the system prompt"
    );
    assert!(v10["description"].as_str().unwrap().contains("Weather"));

    // `A2A-Version: 0.3`: the 0.3 card (with the 1.0 fields too); the legacy path serves the same.
    for path in ["/.well-known/agent-card.json", "/.well-known/agent.json"] {
        let v03: Value = client
            .get(server.url(path))
            .header("A2A-Version", "0.3")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(v03["protocolVersion"], "0.3.0");
        assert_eq!(v03["url"], url);
        assert_eq!(v03["preferredTransport"], "JSONRPC");
        assert_eq!(
            v03["additionalInterfaces"],
            json!([{"url": url, "transport": "JSONRPC"}])
        );
        assert_eq!(v03["capabilities"]["streaming"], true);
        assert_eq!(v03["supportedInterfaces"], v10["supportedInterfaces"]);
        assert!(v03["skills"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["tags"].is_array()));
    }
    // Without the header: the 1.0 card by default, the 0.3 one on request.
    let card: Value = reqwest::get(server.url("/.well-known/agent-card.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(card, v10);
    let server = start(
        demo_agent(),
        ServerConfig::default().card_dialect(Dialect::V0_3),
    )
    .await;
    let card: Value = reqwest::get(server.url("/.well-known/agent-card.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(card["protocolVersion"], "0.3.0");
}

#[tokio::test]
async fn card_url_description_etag() {
    let server = start(
        demo_agent(),
        ServerConfig::default().description("Answers in haiku"),
    )
    .await;
    let client = reqwest::Client::new();
    let card = |host: &'static str| {
        client
            .get(server.url("/.well-known/agent-card.json"))
            .header("host", host)
            .header("A2A-Version", "1.0")
            .send()
    };
    let response = card("agents.example.com:9000").await.unwrap();
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    assert!(response.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("max-age"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["supportedInterfaces"][0]["url"],
        "http://agents.example.com:9000/"
    );
    assert_eq!(body["description"], "Answers in haiku");
    let body: Value = card("0.0.0.0:8000").await.unwrap().json().await.unwrap();
    assert_eq!(
        body["supportedInterfaces"][0]["url"],
        "http://127.0.0.1:8000/"
    );

    let response = client
        .get(server.url("/.well-known/agent-card.json"))
        .header("host", "agents.example.com:9000")
        .header("A2A-Version", "1.0")
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 304);
    assert_eq!(response.headers()["etag"].to_str().unwrap(), etag);
    let modified = response.headers()["last-modified"]
        .to_str()
        .unwrap()
        .to_owned();
    let modified_at = httpdate::parse_http_date(&modified).unwrap();
    assert!(modified_at <= std::time::SystemTime::now());
    // `If-Modified-Since`: the card's own date or later is current; an
    // earlier one or a date that does not parse gets the card; with
    // `If-None-Match` too, the tag alone decides (RFC 9110 §13.1.3).
    let hour_before = httpdate::fmt_http_date(modified_at - Duration::from_secs(3600));
    let later = httpdate::fmt_http_date(modified_at + Duration::from_secs(3600));
    for (since, none_match, want) in [
        (modified.as_str(), None, 304),
        (later.as_str(), None, 304),
        (hour_before.as_str(), None, 200),
        ("yesterday", None, 200),
        (modified.as_str(), Some("W/\"other\""), 200),
        (hour_before.as_str(), Some(etag.as_str()), 304),
    ] {
        let mut request = client
            .get(server.url("/.well-known/agent-card.json"))
            .header("host", "agents.example.com:9000")
            .header("A2A-Version", "1.0")
            .header("if-modified-since", since);
        if let Some(tag) = none_match {
            request = request.header("if-none-match", tag);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), want, "{since} {none_match:?}");
        assert_eq!(response.headers()["last-modified"], modified.as_str());
    }
    // Another dialect is another entity.
    let response = client
        .get(server.url("/.well-known/agent-card.json"))
        .header("host", "agents.example.com:9000")
        .header("A2A-Version", "0.3")
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    let server = start(
        demo_agent(),
        ServerConfig::default().public_url("https://agent.example.com/a2a"),
    )
    .await;
    let body: Value = reqwest::get(server.url("/.well-known/agent-card.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        body["supportedInterfaces"][0]["url"],
        "https://agent.example.com/a2a"
    );
}

/// Replaces every `"timestamp":"…"` value with a fixed one.
fn fixed_timestamps(text: &str) -> String {
    const KEY: &str = "\"timestamp\":\"";
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(KEY) {
        let (head, tail) = rest.split_at(at + KEY.len());
        out.push_str(head);
        out.push_str("2026-01-01T00:00:00.000Z");
        rest = &tail[tail.find('"').unwrap()..];
    }
    out.push_str(rest);
    out
}

/// The frames in `docs/a2a.md` are what the server sends for a scripted run
/// (ids fixed by the client, timestamps normalized). `A2A_WRITE_DOCS=1`
/// rewrites them from the server's output.
#[tokio::test]
async fn docs_frames_match_what_the_server_sends() {
    let script = Script::new(vec![
        Ok(Event::text_delta("Hel")),
        Ok(Event::text_delta("lo!")),
        Ok(Event::message("Hello!")),
        Ok(Event::new(EventKind::Usage {
            input_tokens: 9,
            output_tokens: 2,
            total_tokens: 11,
            cache_read_input_tokens: 0,
            cache_creation_input_tokens: 0,
        })),
        Ok(Event::run_end(RunStatus::Completed)),
    ]);
    let server = start(agent_with(script), ServerConfig::default()).await;
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/a2a.md");
    let mut doc = std::fs::read_to_string(path).unwrap();
    for (dialect, name) in [(Dialect::V0_3, "0.3"), (Dialect::V1_0, "1.0")] {
        let mut msg = message(dialect, "Hi");
        msg["messageId"] = json!("msg-1");
        msg["contextId"] = json!("ctx-1");
        msg["taskId"] = json!(format!("task-{}", name.replace('.', "")));
        let method = method(dialect, "message/stream", "SendStreamingMessage");
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": {"message": msg}});
        let response = post(&server, &body, version_of(dialect))
            .send()
            .await
            .unwrap();
        let frames = fixed_timestamps(&response.text().await.unwrap());
        let header = match dialect {
            Dialect::V0_3 => "",
            Dialect::V1_0 => "A2A-Version: 1.0\n",
        };
        let block = format!("POST /\n{header}\n{body}\n\n200 OK, text/event-stream\n\n{frames}");
        let open = format!("<!-- frames {name} -->\n```text\n");
        let start = doc.find(&open).unwrap() + open.len();
        let end = start + doc[start..].find("```\n<!-- /frames -->").unwrap();
        if std::env::var("A2A_WRITE_DOCS").is_ok_and(|v| v == "1") {
            doc.replace_range(start..end, &block);
        } else {
            assert_eq!(
                doc[start..end],
                block,
                "docs/a2a.md is stale: run with A2A_WRITE_DOCS=1"
            );
        }
    }
    if std::env::var("A2A_WRITE_DOCS").is_ok_and(|v| v == "1") {
        std::fs::write(path, doc).unwrap();
    }
}

/// A provider that records the conversation of each request and answers "ok".
#[derive(Clone, Debug, Default)]
struct Recording(Arc<Mutex<Vec<Turn>>>);

/// One request's conversation: (role, content) pairs.
type Turn = Vec<(String, String)>;

impl Provider for Recording {
    fn stream(&self, request: ChatRequest) -> BoxEventStream {
        let turn = request
            .messages
            .iter()
            .map(|m| (format!("{:?}", m.role), m.content.to_string()))
            .collect();
        self.0.lock().unwrap().push(turn);
        Box::pin(futures::stream::iter(vec![
            Ok(Event::message("ok")),
            Ok(Event::run_end(RunStatus::Completed)),
        ]))
    }

    fn name(&self) -> &str {
        "recording"
    }
}

#[tokio::test]
async fn a_context_is_a_conversation() {
    let recording = Recording::default();
    let agent = Agentor::builder()
        .name("Assistant")
        .provider(recording.clone())
        .build();
    let server = start(agent, ServerConfig::default()).await;
    for text in ["first", "second"] {
        let mut msg = message(Dialect::V1_0, text);
        msg["contextId"] = json!("conv-1");
        let answer = call(
            &server,
            Dialect::V1_0,
            "SendMessage",
            json!({"message": msg}),
        )
        .await;
        assert_eq!(
            answer["result"]["task"]["status"]["state"],
            "TASK_STATE_COMPLETED"
        );
    }
    // Another context starts afresh.
    call(
        &server,
        Dialect::V1_0,
        "SendMessage",
        json!({"message": message(Dialect::V1_0, "elsewhere")}),
    )
    .await;
    let turns = recording.0.lock().unwrap().clone();
    let texts =
        |turn: &Vec<(String, String)>| turn.iter().map(|(_, c)| c.clone()).collect::<Vec<_>>();
    assert_eq!(texts(&turns[0]), ["first"]);
    assert_eq!(texts(&turns[1]), ["first", "ok", "second"]);
    assert_eq!(turns[1][1].0, "Assistant");
    assert_eq!(texts(&turns[2]), ["elsewhere"]);
}

#[tokio::test]
async fn a_streaming_client_that_leaves_only_unsubscribes() {
    let stalling = Stalling::new(Some(Duration::from_millis(200)));
    let dropped = stalling.dropped_at.clone();
    let server = start(agent_with(stalling), ServerConfig::default()).await;
    let mut msg = message(Dialect::V1_0, "Hi");
    msg["taskId"] = json!("leaver");
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "SendStreamingMessage", "params": {"message": msg}});
    let mut response = post(&server, &body, Some("1.0")).send().await.unwrap();
    // Read the first chunk (the task), then go away.
    let first = response.chunk().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&first).contains("\"task\""));
    drop(response);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let task = call(&server, Dialect::V1_0, "GetTask", json!({"id": "leaver"})).await;
    assert_eq!(task["result"]["status"]["state"], "TASK_STATE_COMPLETED");
    assert_eq!(task["result"]["artifacts"][0]["parts"][0]["text"], "Hello");
    // The run ended by itself (its stream was dropped only after it finished).
    assert!(dropped.lock().unwrap().is_some());
}

#[tokio::test]
async fn garbage_params_never_answer_500() {
    let server = demo_server().await;
    let params = [
        json!(null),
        json!([]),
        json!(5),
        json!("x"),
        json!({}),
        json!({"id": 5}),
        json!({"id": "x", "historyLength": -3}),
        json!({"message": 5}),
        json!({"message": {"messageId": "m", "role": "user", "parts": [{"kind": "file"}]}}),
        json!({"message": {"messageId": "m", "role": "user", "parts": [{"kind": "file", "file": {"bytes": 5}}]}}),
        json!({"message": {"messageId": "m", "role": "user", "parts": [{}]}}),
        json!({"message": {"messageId": "m", "role": "user", "parts": [{"kind": "nope"}]}}),
        json!({"message": {"messageId": "m", "role": "user", "parts": [{"text": ""}]}}),
        json!({"message": {"messageId": "m", "role": "user", "parts": [{"kind": "text", "text": "x"}]}, "configuration": 5}),
        json!({"message": {"messageId": "m", "role": "user", "parts": [{"kind": "text", "text": "x"}]}, "configuration": {"pushNotificationConfig": {"url": "http://x"}}}),
        json!({"pageSize": "lots", "status": "TASK_STATE_BOGUS"}),
    ];
    let methods = [
        "message/send",
        "message/stream",
        "tasks/get",
        "tasks/cancel",
        "tasks/resubscribe",
        "SendMessage",
        "SendStreamingMessage",
        "GetTask",
        "CancelTask",
        "SubscribeToTask",
        "ListTasks",
        "agent/getAuthenticatedExtendedCard",
        "GetExtendedAgentCard",
    ];
    for method in methods {
        for params in &params {
            let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
            let response = post(&server, &body, Some("1.0")).send().await.unwrap();
            assert_eq!(response.status(), 200, "{method} {params}");
            let text = response.text().await.unwrap();
            assert!(
                text.contains("\"error\"") || text.contains("\"result\""),
                "{method} {params}: {text}"
            );
        }
    }
}

#[tokio::test]
async fn idle_a2a_streams_get_heartbeats() {
    let config = ServerConfig::default().heartbeat(Duration::from_millis(50));
    let server = start(
        agent_with(Stalling::new(Some(Duration::from_millis(300)))),
        config,
    )
    .await;
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "message/stream", "params": {"message": message(Dialect::V0_3, "Hi")}});
    let text = post(&server, &body, None)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains(": keep-alive\n\n"), "{text}");
    // Heartbeats are comments: the events are intact around them.
    let last = text
        .trim_end()
        .rsplit("\n\n")
        .find(|f| f.starts_with("data: "))
        .unwrap();
    let last: Value = serde_json::from_str(last.strip_prefix("data: ").unwrap()).unwrap();
    assert_eq!(last["result"]["final"], true);
    assert_eq!(last["result"]["status"]["state"], "completed");
}

#[tokio::test]
async fn an_empty_version_header_is_no_header_as_the_sdks_read_it() {
    // Both official servers read `A2A-Version` as `header || "0.3"`: an empty
    // value (a proxy or client that sets it blank) is not an unknown version.
    let server = demo_server().await;
    for method in ["tasks/get", "GetTask"] {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": {"id": "x"}});
        let (status, _, text) = raw(&server, &body.to_string(), Some("")).await;
        assert_eq!(status, 200);
        assert_eq!(json_body(&text)["error"]["code"], -32001, "{method}");
    }
}

#[tokio::test]
async fn notifications_get_no_reply_but_are_carried_out() {
    let server = start(agent_with(hello_script()), ServerConfig::default()).await;
    let send = json!({
        "jsonrpc": "2.0",
        "method": "SendMessage",
        "params": {"message": message(Dialect::V1_0, "one")},
    });
    let response = post(&server, &send, Some("1.0")).send().await.unwrap();
    assert_eq!(response.status(), 204);
    assert_eq!(response.text().await.unwrap(), "");
    // Carried out: the task exists.
    let all = call(&server, Dialect::V1_0, "ListTasks", json!({})).await;
    assert_eq!(all["result"]["totalSize"], 1, "{all}");

    // Not even an error is answered to a notification.
    for body in [
        json!({"jsonrpc": "2.0", "method": "tasks/explode"}),
        json!({"jsonrpc": "2.0", "method": "tasks/get", "params": {"id": "unknown"}}),
    ] {
        let response = post(&server, &body, None).send().await.unwrap();
        assert_eq!(response.status(), 204, "{body}");
        assert_eq!(response.text().await.unwrap(), "");
    }
    // An explicit null id is a request, answered.
    let null_id = json!({"jsonrpc": "2.0", "id": null, "method": "tasks/explode"});
    let answered: Value = post(&server, &null_id, None)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answered["error"]["code"], -32601);
}

#[tokio::test]
async fn list_tasks_reads_status_timestamp_after_as_rfc_3339_or_refuses_it() {
    let server = start(agent_with(hello_script()), ServerConfig::default()).await;
    let sent = call(
        &server,
        Dialect::V1_0,
        "SendMessage",
        json!({"message": message(Dialect::V1_0, "one")}),
    )
    .await;
    assert!(sent.get("result").is_some(), "{sent}");
    let list = |after: &'static str| {
        let server = &server;
        async move {
            call(
                server,
                Dialect::V1_0,
                "ListTasks",
                json!({"statusTimestampAfter": after}),
            )
            .await
        }
    };
    assert_eq!(list("2000-01-01T00:00:00Z").await["result"]["totalSize"], 1);
    // The same instant, written with an offset far ahead of UTC.
    assert_eq!(
        list("2000-01-01T05:00:00+05:00").await["result"]["totalSize"],
        1
    );
    assert_eq!(list("2999-01-01T00:00:00Z").await["result"]["totalSize"], 0);
    for junk in ["yesterday", "2026-02-30T00:00:00Z", "2026-01-01"] {
        let refused = list(junk).await;
        assert_eq!(refused["error"]["code"], -32602, "{junk}: {refused}");
        let text = refused["error"]["message"].as_str().unwrap();
        assert!(text.contains("statusTimestampAfter"), "{text}");
    }
}

#[tokio::test]
async fn ids_are_bounded_and_errors_quote_a_bounded_prefix() {
    let server = demo_server().await;
    let huge = "t".repeat(100_000);
    let mut msg = message(Dialect::V1_0, "hi");
    msg["taskId"] = json!(huge);
    let refused = call(
        &server,
        Dialect::V1_0,
        "SendMessage",
        json!({"message": msg}),
    )
    .await;
    assert_eq!(refused["error"]["code"], -32602, "{refused}");
    let text = refused["error"]["message"].as_str().unwrap();
    assert!(text.contains("taskId") && text.len() < 200, "{text}");
    for (key, value) in [("contextId", json!(huge)), ("messageId", json!(huge))] {
        let mut msg = message(Dialect::V1_0, "hi");
        msg[key] = value;
        let refused = call(
            &server,
            Dialect::V1_0,
            "SendMessage",
            json!({"message": msg}),
        )
        .await;
        assert_eq!(refused["error"]["code"], -32602, "{key}");
    }
    let refused = call(&server, Dialect::V0_3, "tasks/get", json!({"id": huge})).await;
    assert_eq!(refused["error"]["code"], -32602);
    // Under the bound but unknown: the answer quotes a prefix only.
    let long = "u".repeat(agentor_a2a::MAX_ID_CHARS);
    let unknown = call(&server, Dialect::V0_3, "tasks/get", json!({"id": long})).await;
    assert_eq!(unknown["error"]["code"], -32001);
    let text = unknown["error"]["message"].as_str().unwrap();
    assert!(text.len() < 120, "{text}");
    // An unknown method name of any length, likewise.
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "m".repeat(50_000)});
    let answer: Value = post(&server, &body, None)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["error"]["code"], -32601);
    assert!(answer["error"]["message"].as_str().unwrap().len() < 120);
}

#[tokio::test]
async fn forwarded_headers_count_only_behind_a_trusted_proxy_and_derived_cards_are_private() {
    let fetch = |server: &TestServer| {
        reqwest::Client::new()
            .get(server.url("/.well-known/agent-card.json"))
            .header("host", "agents.example.com")
            .header("x-forwarded-proto", "https")
            .header("x-forwarded-host", "evil.example.net")
            .header("A2A-Version", "1.0")
            .send()
    };
    let url_of = |card: &Value| {
        card["supportedInterfaces"][0]["url"]
            .as_str()
            .unwrap()
            .to_owned()
    };

    // By default anyone can send X-Forwarded-*: ignored.
    let server = demo_server().await;
    let response = fetch(&server).await.unwrap();
    let headers = response.headers().clone();
    assert!(headers["cache-control"]
        .to_str()
        .unwrap()
        .starts_with("private"));
    assert_eq!(headers["vary"], "A2A-Version, Host");
    assert_eq!(
        url_of(&response.json().await.unwrap()),
        "http://agents.example.com/"
    );

    // Behind a proxy the operator trusts, they are the client's view.
    let server = start(demo_agent(), ServerConfig::default().trust_proxy(true)).await;
    let response = fetch(&server).await.unwrap();
    let vary = response.headers()["vary"].to_str().unwrap().to_owned();
    assert!(
        vary.contains("X-Forwarded-Host") && vary.contains("X-Forwarded-Proto"),
        "{vary}"
    );
    assert_eq!(
        url_of(&response.json().await.unwrap()),
        "https://evil.example.net/"
    );

    // A configured URL is the same for everyone: a shared cache may keep it.
    let config = ServerConfig::default().public_url("https://agents.example.com/a/");
    let server = start(demo_agent(), config).await;
    let response = fetch(&server).await.unwrap();
    assert!(response.headers()["cache-control"]
        .to_str()
        .unwrap()
        .starts_with("public"));
    assert_eq!(response.headers()["vary"], "A2A-Version");
    assert_eq!(
        url_of(&response.json().await.unwrap()),
        "https://agents.example.com/a/"
    );
}
