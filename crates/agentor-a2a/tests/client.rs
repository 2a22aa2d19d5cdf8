//! The A2A client provider against a stub agent on 127.0.0.1: recorded
//! frames of both dialects (from an agent built with the official Python
//! SDK, and from agentor's own projector) cut at arbitrary chunk boundaries,
//! and every way a remote run can fail.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use agentor_a2a::client::A2aClient;
use agentor_a2a::{Dialect, Message, Part, Role, TaskProjector};
use agentor_core::ops::merge::merge;
use agentor_core::{
    ChatMessage, ChatRequest, ErrorKind, Event, EventKind, EventResult, Provider, RunStatus,
};
use common::{first_events, frames, sse_results, Reply, Stub};
use futures::StreamExt;
use serde_json::{json, Value};

/// What the SDK agent of the recordings streams.
const SDK_ANSWER: &str = "The official Python SDK streams this answer in pieces.";

async fn run(client: &A2aClient, text: &str) -> Vec<EventResult> {
    tokio::time::timeout(Duration::from_secs(10), client.stream(text).collect())
        .await
        .expect("the stream ends")
}

/// Each item's kind name, `Err(kind)` for an `Err` item.
fn kinds(events: &[EventResult]) -> Vec<String> {
    events
        .iter()
        .map(|e| match e {
            Ok(event) => event.kind().as_str().to_owned(),
            Err(error) => format!("Err({})", error.kind()),
        })
        .collect()
}

fn deltas(events: &[EventResult]) -> String {
    events
        .iter()
        .filter_map(|e| match &e.as_ref().ok()?.kind {
            EventKind::TextDelta { text, .. } => Some(text.to_string()),
            _ => None,
        })
        .collect()
}

fn last_status(events: &[EventResult]) -> Option<RunStatus> {
    events.last()?.as_ref().ok()?.run_status()
}

fn dialect_name(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::V0_3 => "0.3",
        Dialect::V1_0 => "1.0",
    }
}

#[tokio::test]
async fn recorded_sdk_streams_of_both_dialects_arrive_whole_at_any_chunking() {
    for dialect in [Dialect::V0_3, Dialect::V1_0] {
        let recording = frames(&format!("sdk-{}-completed.sse", dialect_name(dialect)));
        for chunk in [1, 7, 61, 4096] {
            let stub = Stub::replying(Reply::Events {
                body: recording.clone(),
                chunk,
            })
            .await;
            let client = A2aClient::builder()
                .dialect(dialect)
                .connect(&stub.base)
                .await
                .unwrap();
            let events = run(&client, "hi").await;
            let context = format!("{dialect:?}, chunks of {chunk}");
            assert_eq!(
                kinds(&events),
                [
                    "run_start",
                    "text_delta",
                    "text_delta",
                    "text_delta",
                    "text_delta",
                    "text_delta",
                    "message",
                    "run_end"
                ],
                "{context}"
            );
            assert_eq!(deltas(&events), SDK_ANSWER, "{context}");
            let events: Vec<Event> = events.into_iter().map(Result::unwrap).collect();
            assert_eq!(events[6].text(), Some(SDK_ANSWER), "{context}");
            assert_eq!(
                events[7].run_status(),
                Some(RunStatus::Completed),
                "{context}"
            );
            assert!(
                matches!(&events[0].kind, EventKind::RunStart { agent, .. } if agent == "Stub Agent")
            );
            for (seq, event) in events.iter().enumerate() {
                assert_eq!(event.seq, seq as u64, "{context}");
                assert_eq!(
                    event.origin.source.as_deref(),
                    Some("Stub Agent"),
                    "{context}"
                );
            }
            // Deltas and the closing message name the artifact.
            let EventKind::TextDelta { message_id, .. } = &events[1].kind else {
                panic!()
            };
            let EventKind::Message {
                message_id: closing,
                ..
            } = &events[6].kind
            else {
                panic!()
            };
            assert!(message_id.is_some());
            assert_eq!(message_id, closing);
        }
    }
}

#[tokio::test]
async fn the_request_is_in_the_dialect_spoken() {
    let stub = Stub::replying(Reply::Events {
        body: frames("sdk-0.3-completed.sse"),
        chunk: 4096,
    })
    .await;
    let old = A2aClient::builder()
        .dialect(Dialect::V0_3)
        .connect(&stub.base)
        .await
        .unwrap();
    run(&old, "in 0.3").await;
    let auto = A2aClient::connect(&stub.base).await.unwrap();
    assert_eq!(
        auto.dialect(),
        Dialect::V1_0,
        "1.0 is preferred when the card offers it"
    );
    run(&auto, "in 1.0").await;

    let posts = stub.posts();
    let (v03, v10) = (&posts[0], &posts[1]);
    assert_eq!(v03.body["method"], "message/stream");
    assert_eq!(v03.version, None);
    let message = &v03.body["params"]["message"];
    assert_eq!(
        (&message["kind"], &message["role"], &message["parts"][0]),
        (
            &json!("message"),
            &json!("user"),
            &json!({"kind": "text", "text": "in 0.3"})
        )
    );
    assert!(message["messageId"]
        .as_str()
        .is_some_and(|id| !id.is_empty()));

    assert_eq!(v10.body["method"], "SendStreamingMessage");
    assert_eq!(v10.version.as_deref(), Some("1.0"));
    let message = &v10.body["params"]["message"];
    assert_eq!(message.get("kind"), None);
    assert_eq!(
        (&message["role"], &message["parts"][0]),
        (&json!("ROLE_USER"), &json!({"text": "in 1.0"}))
    );
    assert_ne!(
        v03.body["params"]["message"]["messageId"],
        message["messageId"]
    );
}

#[tokio::test]
async fn a_bearer_token_goes_with_the_card_request_and_the_message() {
    let stub = Stub::replying(Reply::Events {
        body: frames("sdk-1.0-completed.sse"),
        chunk: 4096,
    })
    .await;
    let client = A2aClient::builder()
        .bearer_token("s3cret")
        .connect(&stub.base)
        .await
        .unwrap();
    run(&client, "hi").await;
    let seen = stub.seen();
    assert_eq!(seen.len(), 2);
    assert!(seen
        .iter()
        .all(|s| s.authorization.as_deref() == Some("Bearer s3cret")));
}

#[tokio::test]
async fn a_failed_task_is_an_error_event_with_its_reason_then_a_failed_end() {
    for dialect in [Dialect::V0_3, Dialect::V1_0] {
        let stub = Stub::replying(Reply::Events {
            body: frames(&format!("sdk-{}-failed.sse", dialect_name(dialect))),
            chunk: 13,
        })
        .await;
        let client = A2aClient::builder()
            .dialect(dialect)
            .connect(&stub.base)
            .await
            .unwrap();
        let events = run(&client, "fail").await;
        assert_eq!(
            kinds(&events),
            ["run_start", "text_delta", "error", "run_end"],
            "{dialect:?}"
        );
        let EventKind::Error { kind, message } = &events[2].as_ref().unwrap().kind else {
            panic!()
        };
        assert_eq!(*kind, ErrorKind::Provider);
        assert_eq!(message, "the SDK agent failed on purpose");
        assert_eq!(last_status(&events), Some(RunStatus::Failed));
    }
}

#[tokio::test]
async fn a_jsonrpc_error_fails_the_run_as_one_sse_event_or_as_plain_json() {
    let error = json!({"jsonrpc": "2.0", "id": 1,
        "error": {"code": -32001, "message": "Task not found"}});
    let as_event = Reply::Events {
        body: format!("data: {error}\n\n").into_bytes(),
        chunk: 5,
    };
    let plain: Value = serde_json::from_slice(&frames("sdk-1.0-error.json")).unwrap();
    for (dialect, reply) in [
        (Dialect::V0_3, as_event),
        (Dialect::V1_0, Reply::Json(plain)),
    ] {
        let stub = Stub::replying(reply).await;
        let client = A2aClient::builder()
            .dialect(dialect)
            .connect(&stub.base)
            .await
            .unwrap();
        let events = run(&client, "hi").await;
        assert_eq!(
            kinds(&events),
            ["run_start", "Err(provider)", "run_end"],
            "{dialect:?}"
        );
        let error = events[1].as_ref().unwrap_err();
        assert!(error.message().contains("-32001"), "{error}");
        assert!(error.message().contains("Task not found"), "{error}");
        assert_eq!(last_status(&events), Some(RunStatus::Failed));
    }
}

#[tokio::test]
async fn an_http_error_fails_the_run_with_its_status() {
    let stub = Stub::replying(Reply::Status(401, "missing bearer token".to_owned())).await;
    let client = A2aClient::connect(&stub.base).await.unwrap();
    let events = run(&client, "hi").await;
    assert_eq!(kinds(&events), ["run_start", "Err(provider)", "run_end"]);
    let error = events[1].as_ref().unwrap_err();
    assert_eq!(error.status(), Some(401));
    assert!(error.message().contains("missing bearer token"), "{error}");
    assert_eq!(last_status(&events), Some(RunStatus::Failed));
}

#[tokio::test]
async fn an_unauthorised_card_is_a_connect_error_with_its_status() {
    let stub = Stub::builder()
        .card_status(401)
        .start(|_| Reply::Json(Value::Null))
        .await;
    let error = A2aClient::connect(&stub.base).await.unwrap_err();
    assert_eq!(error.status(), Some(401));
    assert!(error.message().contains("no card for you"), "{error}");
}

#[tokio::test]
async fn invalid_json_ends_the_run_and_nothing_after_it_is_read() {
    let mut body = first_events(&frames("sdk-0.3-completed.sse"), 3);
    body.extend_from_slice(b"data: {\"jsonrpc\": \"2.0\", oops\n\n");
    body.extend_from_slice(&frames("sdk-0.3-completed.sse"));
    let stub = Stub::replying(Reply::Events { body, chunk: 9 }).await;
    let client = A2aClient::builder()
        .dialect(Dialect::V0_3)
        .connect(&stub.base)
        .await
        .unwrap();
    let events = run(&client, "hi").await;
    // Task, working, one chunk; then the bad frame.
    assert_eq!(
        kinds(&events),
        ["run_start", "text_delta", "Err(protocol)", "run_end"]
    );
    assert!(events[2]
        .as_ref()
        .unwrap_err()
        .message()
        .contains("invalid JSON"));
    assert_eq!(last_status(&events), Some(RunStatus::Failed));
    // The remote task was left running: the client cancels it.
    let cancelled = async {
        while stub.posts().len() < 2 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(2), cancelled)
        .await
        .expect("a cancel came");
    assert_eq!(stub.posts()[1].body["method"], "tasks/cancel");
}

#[tokio::test]
async fn a_stream_cut_before_a_final_state_fails_the_run() {
    for dialect in [Dialect::V0_3, Dialect::V1_0] {
        let recording = frames(&format!("sdk-{}-completed.sse", dialect_name(dialect)));
        // Task, working and two of the five chunks.
        let stub = Stub::replying(Reply::Events {
            body: first_events(&recording, 4),
            chunk: 3,
        })
        .await;
        let client = A2aClient::builder()
            .dialect(dialect)
            .connect(&stub.base)
            .await
            .unwrap();
        let events = run(&client, "hi").await;
        assert_eq!(
            kinds(&events),
            [
                "run_start",
                "text_delta",
                "text_delta",
                "Err(protocol)",
                "run_end"
            ],
            "{dialect:?}"
        );
        assert!(events[3]
            .as_ref()
            .unwrap_err()
            .message()
            .contains("before the remote task reached a final state"));
        assert_eq!(last_status(&events), Some(RunStatus::Failed));
    }
}

#[tokio::test]
async fn an_agent_that_is_not_there_is_a_connect_error() {
    // A port that was just free: bound, then released.
    let gone = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", gone.local_addr().unwrap());
    drop(gone);
    let error = A2aClient::connect(&url).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Provider);
    assert!(error.message().contains("cannot reach"), "{error}");
}

#[tokio::test]
async fn the_legacy_card_path_and_a_full_card_url_are_understood() {
    let stub = Stub::builder()
        .legacy_card_only()
        .start(|_| Reply::Json(Value::Null))
        .await;
    let client = A2aClient::connect(&stub.base).await.unwrap();
    assert_eq!(client.card().name(), "Stub Agent");
    assert!(client.card().streams());
    let direct = A2aClient::connect(&format!("{}/.well-known/agent.json", stub.base))
        .await
        .unwrap();
    assert_eq!(direct.card().endpoint(), format!("{}/", stub.base));
    assert_eq!(
        direct.card().json()["description"],
        "A stub agent for agentor's client tests."
    );
}

/// The frames agentor's own server sends, in `dialect`, for a run with a
/// tool call, made by its projector.
fn agentor_frames(dialect: Dialect) -> Vec<u8> {
    let run_events = [
        Event::tool_call("call-1", "get_weather", json!({"city": "Paris"})),
        Event::tool_result("call-1", "get_weather", "18°C and sunny"),
        Event::text_delta("It is "),
        Event::text_delta("18°C "),
        Event::text_delta("in Paris."),
        Event::message("It is 18°C in Paris."),
        Event::run_end(RunStatus::Completed),
    ];
    let user = Message::new("m1", Role::User, vec![Part::text("Weather in Paris?")]);
    let mut projector = TaskProjector::new("t1", "c1", user);
    let mut results = projector.start();
    for event in run_events {
        results.extend(projector.on_item(Ok(event)));
    }
    let rendered: Vec<Value> = results.iter().map(|r| r.render(dialect)).collect();
    sse_results(&rendered)
}

/// The client gets the run back from agentor's own frames.
#[tokio::test]
async fn agentor_server_frames_round_trip_text_and_tool_events() {
    for dialect in [Dialect::V0_3, Dialect::V1_0] {
        let stub = Stub::replying(Reply::Events {
            body: agentor_frames(dialect),
            chunk: 11,
        })
        .await;
        let client = A2aClient::builder()
            .dialect(dialect)
            .connect(&stub.base)
            .await
            .unwrap();
        let events = run(&client, "Weather in Paris?").await;
        assert_eq!(
            kinds(&events),
            [
                "run_start",
                "tool_call",
                "tool_result",
                "text_delta",
                "text_delta",
                "text_delta",
                "message",
                "run_end"
            ],
            "{dialect:?}"
        );
        let events: Vec<Event> = events.into_iter().map(Result::unwrap).collect();
        let EventKind::ToolCall(call) = &events[1].kind else {
            panic!()
        };
        assert_eq!(
            (&*call.call_id, &*call.name, &call.arguments),
            ("call-1", "get_weather", &json!({"city": "Paris"}))
        );
        let EventKind::ToolResult(result) = &events[2].kind else {
            panic!()
        };
        assert_eq!(
            (&*result.output, result.is_error),
            ("18°C and sunny", false)
        );
        assert_eq!(events[6].text(), Some("It is 18°C in Paris."));
        assert_eq!(events[7].run_status(), Some(RunStatus::Completed));
    }
}

#[tokio::test]
async fn canceled_and_input_required_end_the_run_as_documented() {
    let task =
        json!({"kind": "task", "id": "t", "contextId": "c", "status": {"state": "submitted"}});
    let cases = [
        (
            "canceled",
            json!(null),
            RunStatus::Cancelled,
            vec!["run_start", "run_end"],
        ),
        (
            "input-required",
            json!({"kind": "message", "messageId": "q", "role": "agent",
                "parts": [{"kind": "text", "text": "Which city?"}]}),
            RunStatus::InputRequired,
            vec!["run_start", "message", "run_end"],
        ),
        (
            "auth-required",
            json!({"kind": "message", "messageId": "a", "role": "agent",
                "parts": [{"kind": "text", "text": "Sign in first."}]}),
            RunStatus::AuthRequired,
            vec!["run_start", "message", "run_end"],
        ),
        (
            "rejected",
            json!(null),
            RunStatus::Failed,
            vec!["run_start", "error", "run_end"],
        ),
    ];
    for (state, message, status, expected) in cases {
        let mut update = json!({"kind": "status-update", "taskId": "t", "contextId": "c",
            "final": true, "status": {"state": state}});
        if !message.is_null() {
            update["status"]["message"] = message;
        }
        let stub = Stub::replying(Reply::Events {
            body: sse_results(&[task.clone(), update]),
            chunk: 64,
        })
        .await;
        let client = A2aClient::builder()
            .dialect(Dialect::V0_3)
            .connect(&stub.base)
            .await
            .unwrap();
        let events = run(&client, "hi").await;
        assert_eq!(kinds(&events), expected, "{state}");
        assert_eq!(last_status(&events), Some(status), "{state}");
    }
}

#[tokio::test]
async fn a_direct_message_answer_is_text_then_completed() {
    let answer = json!({"message": {"messageId": "a1", "role": "ROLE_AGENT",
        "parts": [{"text": "Hello from a message"}]}});
    let stub = Stub::replying(Reply::Events {
        body: sse_results(&[answer]),
        chunk: 64,
    })
    .await;
    let client = A2aClient::connect(&stub.base).await.unwrap();
    let events = run(&client, "hi").await;
    assert_eq!(
        kinds(&events),
        ["run_start", "text_delta", "message", "run_end"]
    );
    assert_eq!(deltas(&events), "Hello from a message");
    assert_eq!(last_status(&events), Some(RunStatus::Completed));
}

#[tokio::test]
async fn a_whole_task_answered_as_json_gives_its_artifacts_once() {
    let task = json!({"jsonrpc": "2.0", "id": 1, "result": {"task": {"id": "t", "contextId": "c",
        "status": {"state": "TASK_STATE_COMPLETED"},
        "artifacts": [{"artifactId": "a", "parts": [{"text": "All "}, {"text": "at once"}]}]}}});
    let stub = Stub::replying(Reply::Json(task)).await;
    let client = A2aClient::connect(&stub.base).await.unwrap();
    let events = run(&client, "hi").await;
    assert_eq!(
        kinds(&events),
        ["run_start", "text_delta", "message", "run_end"]
    );
    assert_eq!(deltas(&events), "All at once");
    assert_eq!(events[2].as_ref().unwrap().text(), Some("All at once"));
    assert_eq!(last_status(&events), Some(RunStatus::Completed));
}

#[tokio::test]
async fn a_final_task_snapshot_after_streamed_chunks_repeats_nothing() {
    let mut body = first_events(&frames("sdk-1.0-completed.sse"), 7);
    let snapshot = json!({"task": {"id": "t", "contextId": "c",
        "status": {"state": "TASK_STATE_COMPLETED"},
        "artifacts": [{"artifactId": "a", "parts": [{"text": SDK_ANSWER}]}]}});
    body.extend(sse_results(&[snapshot]));
    let stub = Stub::replying(Reply::Events { body, chunk: 256 }).await;
    let client = A2aClient::connect(&stub.base).await.unwrap();
    let events = run(&client, "hi").await;
    assert_eq!(deltas(&events), SDK_ANSWER);
    assert_eq!(last_status(&events), Some(RunStatus::Completed));
}

#[tokio::test]
async fn dropping_the_stream_closes_the_connection_and_cancels_the_remote_task() {
    for (dialect, method) in [
        (Dialect::V0_3, "tasks/cancel"),
        (Dialect::V1_0, "CancelTask"),
    ] {
        let recording = frames(&format!("sdk-{}-completed.sse", dialect_name(dialect)));
        let stub = Stub::replying(Reply::Hang(first_events(&recording, 3))).await;
        let client = A2aClient::builder()
            .dialect(dialect)
            .bearer_token("t0ken")
            .connect(&stub.base)
            .await
            .unwrap();
        let mut events = client.stream("hi");
        let first: Vec<_> = (&mut events).take(2).collect().await;
        assert_eq!(kinds(&first), ["run_start", "text_delta"]);
        assert!(!stub.hang_dropped());
        drop(events);
        let closed_and_cancelled = async {
            while !stub.hang_dropped() || stub.posts().len() < 2 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(2), closed_and_cancelled)
            .await
            .expect("the connection closed and a cancel came");
        let posts = stub.posts();
        // The task the recording's first frame announces.
        let first_frame = String::from_utf8(first_events(&recording, 1)).unwrap();
        let first: Value =
            serde_json::from_str(first_frame.trim().trim_start_matches("data:")).unwrap();
        let task = first["result"].get("task").unwrap_or(&first["result"]);
        let task_id = task["id"].as_str().unwrap();
        assert_eq!(posts[1].body["method"], method, "{dialect:?}");
        assert_eq!(posts[1].body["params"]["id"], task_id, "{dialect:?}");
        assert_eq!(posts[1].authorization.as_deref(), Some("Bearer t0ken"));
    }
}

#[tokio::test]
async fn a_task_that_ended_is_not_cancelled_when_its_stream_is_dropped() {
    let stub = Stub::replying(Reply::Events {
        body: frames("sdk-1.0-failed.sse"),
        chunk: 4096,
    })
    .await;
    let client = A2aClient::connect(&stub.base).await.unwrap();
    let events = run(&client, "fail").await;
    assert_eq!(last_status(&events), Some(RunStatus::Failed));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(stub.posts().len(), 1, "no cancel for a task that ended");
}

#[tokio::test]
async fn a_conversation_sends_its_next_messages_in_the_remote_context() {
    for dialect in [Dialect::V0_3, Dialect::V1_0] {
        let recording = frames(&format!("sdk-{}-completed.sse", dialect_name(dialect)));
        let first_frame = String::from_utf8(first_events(&recording, 1)).unwrap();
        let first: Value =
            serde_json::from_str(first_frame.trim().trim_start_matches("data:")).unwrap();
        let task = first["result"].get("task").unwrap_or(&first["result"]);
        let context_id = task["contextId"].as_str().unwrap();
        let stub = Stub::replying(Reply::Events {
            body: recording.clone(),
            chunk: 4096,
        })
        .await;
        let client = A2aClient::builder()
            .dialect(dialect)
            .connect(&stub.base)
            .await
            .unwrap();
        let chat = client.conversation();
        assert_eq!(chat.context_id(), None);
        let _: Vec<_> = chat.stream("My name is Ada.").collect().await;
        assert_eq!(
            chat.context_id().as_deref(),
            Some(context_id),
            "{dialect:?}"
        );
        let _: Vec<_> = chat.stream("What is my name?").collect().await;
        // A plain stream stays out of it.
        let _: Vec<_> = client.stream("Unrelated").collect().await;
        let posts = stub.posts();
        let sent = |n: usize| posts[n].body["params"]["message"].get("contextId").cloned();
        assert_eq!(sent(0), None, "{dialect:?}");
        assert_eq!(sent(1), Some(json!(context_id)), "{dialect:?}");
        assert_eq!(sent(2), None, "{dialect:?}");
    }
}

#[tokio::test]
async fn as_a_provider_the_remote_tool_events_are_left_out() {
    // An agent loop runs the tool calls of its provider's turn: the remote
    // agent's, already run over there, must not be among them.
    let stub = Stub::replying(Reply::Events {
        body: agentor_frames(Dialect::V1_0),
        chunk: 4096,
    })
    .await;
    let client = A2aClient::connect(&stub.base).await.unwrap();
    let request = ChatRequest::new("", vec![ChatMessage::user("Weather in Paris?")]);
    let events: Vec<EventResult> = Provider::stream(&client, request).collect().await;
    assert_eq!(
        kinds(&events),
        [
            "run_start",
            "text_delta",
            "text_delta",
            "text_delta",
            "message",
            "run_end"
        ]
    );
    assert_eq!(last_status(&events), Some(RunStatus::Completed));
}

#[tokio::test]
async fn as_a_provider_it_sends_the_last_user_message_and_keeps_the_run_id() {
    let stub = Stub::replying(Reply::Events {
        body: frames("sdk-1.0-completed.sse"),
        chunk: 4096,
    })
    .await;
    let client = A2aClient::connect(&stub.base).await.unwrap();
    let request = ChatRequest::new(
        "",
        vec![
            ChatMessage::system("Be brief."),
            ChatMessage::user("first question"),
            ChatMessage::assistant("first answer"),
            ChatMessage::user("second question"),
        ],
    )
    .with_run_id("run-7");
    let events: Vec<EventResult> = Provider::stream(&client, request).collect().await;
    assert_eq!(last_status(&events), Some(RunStatus::Completed));
    assert!(events
        .iter()
        .all(|e| e.as_ref().unwrap().origin.run_id.as_deref() == Some("run-7")));
    let sent = &stub.posts()[0].body["params"]["message"]["parts"][0]["text"];
    assert_eq!(sent, "second question");

    let nothing = ChatRequest::new("", vec![ChatMessage::system("Be brief.")]);
    let events: Vec<EventResult> = Provider::stream(&client, nothing).collect().await;
    assert_eq!(kinds(&events), ["run_start", "Err(provider)", "run_end"]);
    assert_eq!(stub.posts().len(), 1, "nothing sent without a user message");
}

#[tokio::test]
async fn a_remote_agent_merges_with_a_local_one() {
    let stub = Stub::replying(Reply::Events {
        body: frames("sdk-0.3-completed.sse"),
        chunk: 17,
    })
    .await;
    let remote = A2aClient::connect(&stub.base).await.unwrap();
    let name = remote.card().name().to_owned();
    let local = agentor_core::source::demo_text(["Local ", "agent ", "here."]);
    let merged: Vec<EventResult> = merge([
        (name.clone(), remote.stream("hi")),
        ("local".to_owned(), Box::pin(local)),
    ])
    .collect()
    .await;
    let text_of = |source: &str| -> String {
        merged
            .iter()
            .map(|e| e.as_ref().unwrap())
            .filter(|e| e.origin.source.as_deref() == Some(source))
            .filter(|e| e.kind() == agentor_core::Kind::TextDelta)
            .filter_map(Event::text)
            .collect()
    };
    assert_eq!(text_of("Stub Agent"), SDK_ANSWER);
    assert_eq!(text_of("local"), "Local agent here.");
    let ends = merged
        .iter()
        .filter(|e| e.as_ref().unwrap().run_status() == Some(RunStatus::Completed))
        .count();
    assert_eq!(ends, 2, "each source's run end is kept");
}

#[tokio::test]
async fn an_endless_sse_event_fails_the_run_instead_of_growing_without_bound() {
    // One `data:` line that never ends: the SSE parser buffers an event until
    // its blank line, so without a bound the client held all of it.
    let mut body = first_events(&frames("sdk-1.0-completed.sse"), 2);
    body.extend_from_slice(b"data: ");
    body.extend(std::iter::repeat_n(b'x', 9 << 20));
    let stub = Stub::replying(Reply::Hang(body)).await;
    let client = A2aClient::builder()
        .dialect(Dialect::V1_0)
        .connect(&stub.base)
        .await
        .unwrap();
    let events = run(&client, "hi").await;
    assert_eq!(
        kinds(&events),
        ["run_start", "Err(protocol)", "run_end"],
        "{events:?}"
    );
    let error = events[1].as_ref().unwrap_err();
    assert!(error.message().contains("exceeds"), "{error}");
    assert_eq!(last_status(&events), Some(RunStatus::Failed));
}
