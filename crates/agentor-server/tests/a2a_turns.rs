//! Multi-turn A2A tasks over real HTTP on 127.0.0.1: an agent that calls
//! `request_input` leaves its task `input-required`; the answer sent with
//! the task's id continues the same task with its history, in both
//! dialects, streamed and blocking, and through our client's
//! `Conversation`. Messages to a finished task or in another context are
//! refused with the protocol's errors.
#![allow(clippy::unwrap_used)]

mod common;

use agentor::{Agentor, ChatRole, Event, RunStatus, Tool};
use agentor_a2a::client::A2aClient;
use agentor_server::{Dialect, ServerConfig};
use common::*;
use futures::StreamExt;
use serde_json::{json, Value};

async fn server() -> (TestServer, AsksFirst) {
    let model = AsksFirst::default();
    let agent = Agentor::builder()
        .name("Weather")
        .instructions("Ask for the city.")
        .provider(model.clone())
        .tool(Tool::request_input())
        .build();
    (start(agent, ServerConfig::default()).await, model)
}

fn message(dialect: Dialect, text: &str, task: Option<&str>, context: Option<&str>) -> Value {
    let mut message = match dialect {
        Dialect::V0_3 => {
            json!({"kind": "message", "messageId": text, "role": "user", "parts": [{"kind": "text", "text": text}]})
        }
        Dialect::V1_0 => {
            json!({"messageId": text, "role": "ROLE_USER", "parts": [{"text": text}]})
        }
    };
    if let Some(task) = task {
        message["taskId"] = json!(task);
    }
    if let Some(context) = context {
        message["contextId"] = json!(context);
    }
    message
}

fn method(dialect: Dialect, v03: &'static str, v10: &'static str) -> &'static str {
    match dialect {
        Dialect::V0_3 => v03,
        Dialect::V1_0 => v10,
    }
}

fn state(dialect: Dialect, name: &str) -> String {
    match dialect {
        Dialect::V0_3 => name.to_owned(),
        Dialect::V1_0 => format!("TASK_STATE_{}", name.to_uppercase().replace('-', "_")),
    }
}

fn post(
    server: &TestServer,
    dialect: Dialect,
    method: &str,
    params: Value,
) -> reqwest::RequestBuilder {
    let body = json!({"jsonrpc": "2.0", "id": 7, "method": method, "params": params});
    let request = reqwest::Client::new().post(server.url("/")).json(&body);
    match dialect {
        Dialect::V0_3 => request,
        Dialect::V1_0 => request.header("A2A-Version", "1.0"),
    }
}

async fn call(server: &TestServer, dialect: Dialect, method: &str, params: Value) -> Value {
    let response = post(server, dialect, method, params).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// The events of a streamed call, each unwrapped to its kind and object.
async fn stream(server: &TestServer, dialect: Dialect, params: Value) -> Vec<(String, Value)> {
    let name = method(dialect, "message/stream", "SendStreamingMessage");
    let response = post(server, dialect, name, params).send().await.unwrap();
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    sse_frames(response)
        .await
        .into_iter()
        .map(|frame| {
            let value: Value = serde_json::from_str(&frame.data).unwrap();
            let result = value["result"].clone();
            assert!(!result.is_null(), "an error: {value}");
            match dialect {
                Dialect::V0_3 => (result["kind"].as_str().unwrap().to_owned(), result),
                Dialect::V1_0 => {
                    let (key, inner) = result.as_object().unwrap().iter().next().unwrap();
                    (key.clone(), inner.clone())
                }
            }
        })
        .collect()
}

fn is_task(kind: &str) -> bool {
    kind == "task"
}

fn is_status(kind: &str) -> bool {
    kind == "status-update" || kind == "statusUpdate"
}

fn is_artifact(kind: &str) -> bool {
    kind == "artifact-update" || kind == "artifactUpdate"
}

fn text_of(message: &Value) -> String {
    message["parts"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["text"].as_str())
        .collect()
}

#[tokio::test]
async fn a_streamed_task_asks_then_the_answer_continues_it_in_both_dialects() {
    for dialect in [Dialect::V0_3, Dialect::V1_0] {
        let (server, model) = server().await;
        let first = stream(
            &server,
            dialect,
            json!({"message": message(dialect, "Weather?", None, None)}),
        )
        .await;
        let (kind, last) = first.last().unwrap();
        assert!(is_status(kind), "{dialect:?}: {first:?}");
        if dialect == Dialect::V0_3 {
            // 1.0 has no `final`: the stream ends after it.
            assert_eq!(last["final"], json!(true));
        }
        assert_eq!(last["status"]["state"], state(dialect, "input-required"));
        assert_eq!(text_of(&last["status"]["message"]), "Which city?");
        assert!(
            !first.iter().any(|(kind, _)| is_artifact(kind)),
            "the question is no answer artifact: {first:?}"
        );
        let task_id = last["taskId"].as_str().unwrap().to_owned();
        let context_id = last["contextId"].as_str().unwrap().to_owned();

        let answer = message(dialect, "Paris", Some(&task_id), Some(&context_id));
        let second = stream(&server, dialect, json!({"message": answer})).await;
        let (kind, task) = &second[0];
        assert!(is_task(kind), "{dialect:?}: {second:?}");
        assert_eq!(task["id"], json!(task_id), "the same task");
        assert_eq!(task["status"]["state"], state(dialect, "working"));
        let text: String = second
            .iter()
            .filter(|(kind, _)| is_artifact(kind))
            .map(|(_, update)| text_of(&update["artifact"]))
            .collect();
        assert_eq!(text, "Sunny in Paris", "{dialect:?}");
        let (kind, last) = second.last().unwrap();
        assert!(is_status(kind));
        assert_eq!(last["status"]["state"], state(dialect, "completed"));

        // The second run started from the task's history.
        let requests = model.requests.lock().unwrap().clone();
        let conversation: Vec<(ChatRole, String)> = requests
            .last()
            .unwrap()
            .messages
            .iter()
            .map(|m| (m.role, m.content.to_string()))
            .collect();
        assert_eq!(
            conversation,
            [
                (ChatRole::System, "Ask for the city.".to_owned()),
                (ChatRole::User, "Weather?".to_owned()),
                (ChatRole::Assistant, "Which city?".to_owned()),
                (ChatRole::User, "Paris".to_owned()),
            ],
            "{dialect:?}"
        );

        let get = method(dialect, "tasks/get", "GetTask");
        let task = call(&server, dialect, get, json!({"id": task_id})).await["result"].clone();
        let history: Vec<String> = task["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(text_of)
            .collect();
        assert_eq!(
            history,
            ["Weather?", "Which city?", "Paris", "Sunny in Paris"]
        );

        // Completed is terminal: the spec's UnsupportedOperationError.
        let send = method(dialect, "message/send", "SendMessage");
        let more = message(dialect, "And Rome?", Some(&task_id), None);
        let error = call(&server, dialect, send, json!({"message": more})).await["error"].clone();
        assert_eq!(error["code"], -32004, "{dialect:?}: {error}");
        assert!(
            error["message"]
                .as_str()
                .unwrap()
                .contains("terminal state"),
            "{error}"
        );
    }
}

#[tokio::test]
async fn a_blocking_send_returns_the_waiting_task_and_checks_the_context_of_the_answer() {
    for dialect in [Dialect::V0_3, Dialect::V1_0] {
        let (server, _) = server().await;
        let send = method(dialect, "message/send", "SendMessage");
        let task = |answer: &Value| match dialect {
            Dialect::V0_3 => answer["result"].clone(),
            Dialect::V1_0 => answer["result"]["task"].clone(),
        };
        let asked = call(
            &server,
            dialect,
            send,
            json!({"message": message(dialect, "Weather?", None, None)}),
        )
        .await;
        let asked = task(&asked);
        assert_eq!(
            asked["status"]["state"],
            state(dialect, "input-required"),
            "{asked}"
        );
        assert_eq!(text_of(&asked["status"]["message"]), "Which city?");
        let id = asked["id"].as_str().unwrap();

        // An answer in another context is refused; the task still waits.
        let elsewhere = message(dialect, "Paris", Some(id), Some("another-context"));
        let error =
            call(&server, dialect, send, json!({"message": elsewhere})).await["error"].clone();
        assert_eq!(error["code"], -32602, "{dialect:?}: {error}");

        // Without a contextId the task's own is taken.
        let answer = message(dialect, "Oslo", Some(id), None);
        let done = task(&call(&server, dialect, send, json!({"message": answer})).await);
        assert_eq!(done["id"], json!(id));
        assert_eq!(
            done["status"]["state"],
            state(dialect, "completed"),
            "{done}"
        );
        let answer: String = done["artifacts"]
            .as_array()
            .unwrap()
            .iter()
            .map(text_of)
            .collect();
        assert_eq!(answer, "Sunny in Oslo");
    }
}

#[tokio::test]
async fn a_waiting_task_can_be_canceled_and_then_takes_no_answer() {
    for dialect in [Dialect::V0_3, Dialect::V1_0] {
        let (server, _) = server().await;
        let send = method(dialect, "message/send", "SendMessage");
        let asked = call(
            &server,
            dialect,
            send,
            json!({"message": message(dialect, "Weather?", None, None)}),
        )
        .await;
        let id = match dialect {
            Dialect::V0_3 => asked["result"]["id"].clone(),
            Dialect::V1_0 => asked["result"]["task"]["id"].clone(),
        };
        let cancel = method(dialect, "tasks/cancel", "CancelTask");
        let canceled = call(&server, dialect, cancel, json!({"id": id})).await;
        assert_eq!(
            canceled["result"]["status"]["state"],
            state(dialect, "canceled"),
            "{canceled}"
        );
        let answer = message(dialect, "Paris", id.as_str(), None);
        let error = call(&server, dialect, send, json!({"message": answer})).await["error"].clone();
        assert_eq!(error["code"], -32004, "{dialect:?}: {error}");
    }
}

#[tokio::test]
async fn a_conversation_surfaces_input_required_and_its_next_message_answers_the_task() {
    for dialect in [Dialect::V0_3, Dialect::V1_0] {
        let (server, _) = server().await;
        let client = A2aClient::builder()
            .dialect(dialect)
            .connect(&server.url(""))
            .await
            .unwrap();
        let chat = client.conversation();
        let first: Vec<Event> = chat.stream("Weather?").map(Result::unwrap).collect().await;
        let n = first.len();
        assert_eq!(
            first[n - 2].text(),
            Some("Which city?"),
            "{dialect:?}: {first:?}"
        );
        assert_eq!(first[n - 1].run_status(), Some(RunStatus::InputRequired));
        let waiting = chat.waiting_task().expect("the task waits for the answer");

        let second: Vec<Event> = chat.stream("Lima").map(Result::unwrap).collect().await;
        assert_eq!(
            second.last().unwrap().run_status(),
            Some(RunStatus::Completed),
            "{second:?}"
        );
        let answer: String = second
            .iter()
            .filter_map(|e| match e.kind {
                agentor::EventKind::TextDelta { .. } => e.text(),
                _ => None,
            })
            .collect();
        assert_eq!(answer, "Sunny in Lima");
        assert_eq!(chat.waiting_task(), None);

        // One task, both turns in its history.
        let get = method(dialect, "tasks/get", "GetTask");
        let task = call(&server, dialect, get, json!({"id": waiting})).await["result"].clone();
        assert_eq!(task["history"].as_array().unwrap().len(), 4, "{task}");
    }
}
