//! The HTTP+JSON (REST) binding of A2A 1.0 under `/v1`, over real HTTP on
//! 127.0.0.1: streams of bare `StreamResponse`s, send, get, list, cancel and
//! subscribe, the error bodies and statuses, auth, and the card's interface.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use agentor::{Agentor, Provider};
use agentor_server::ServerConfig;
use common::*;
use serde_json::{json, Value};

fn agent_with(provider: impl Provider + 'static) -> Agentor {
    Agentor::builder()
        .name("Assistant")
        .provider(provider)
        .build()
}

fn send_body(text: &str) -> Value {
    json!({"message": {"messageId": "m-1", "role": "ROLE_USER", "parts": [{"text": text}]}})
}

/// A JSON answer: its status and body.
async fn json_call(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json"),
        "JSON answers, even errors"
    );
    (status, response.json().await.unwrap())
}

/// Asserts a REST error body: the HTTP status, the `google.rpc` status and
/// the A2A reason.
fn assert_error(answer: &(u16, Value), http: u16, status: &str, reason: &str) {
    let (code, body) = answer;
    assert_eq!(*code, http, "{body}");
    assert_eq!(body["error"]["code"], http, "{body}");
    assert_eq!(body["error"]["status"], status, "{body}");
    assert_eq!(body["error"]["details"][0]["reason"], reason, "{body}");
    assert_eq!(body["error"]["details"][0]["domain"], "a2a-protocol.org");
    assert!(body["error"]["message"]
        .as_str()
        .is_some_and(|m| !m.is_empty()));
}

/// The one wrapper key of a 1.0 `StreamResponse` and what it wraps.
fn wrapper(event: &Value) -> (&str, &Value) {
    let object = event.as_object().unwrap();
    assert_eq!(
        object.len(),
        1,
        "one wrapper key, no JSON-RPC envelope: {event}"
    );
    let (key, inner) = object.iter().next().unwrap();
    (key.as_str(), inner)
}

#[tokio::test]
async fn a_stream_is_bare_stream_responses_and_the_task_stays_readable() {
    let server = demo_server().await;
    let client = reqwest::Client::new();
    let response = client
        .post(server.url("/v1/message:stream"))
        .json(&send_body("What is the weather in Paris?"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let frames: Vec<Value> = sse_frames(response)
        .await
        .iter()
        .map(|frame| serde_json::from_str(&frame.data).unwrap())
        .collect();
    let (first, task) = wrapper(&frames[0]);
    assert_eq!(first, "task");
    assert_eq!(task["status"]["state"], "TASK_STATE_SUBMITTED");
    let task_id = task["id"].as_str().unwrap().to_owned();
    let mut text = String::new();
    for frame in &frames[1..] {
        let (kind, inner) = wrapper(frame);
        assert!(matches!(kind, "statusUpdate" | "artifactUpdate"), "{kind}");
        assert_eq!(inner["taskId"], task_id.as_str());
        if kind == "artifactUpdate" && inner["artifact"]["name"] != "tool" {
            for part in inner["artifact"]["parts"].as_array().unwrap() {
                text.push_str(part["text"].as_str().unwrap_or_default());
            }
        }
    }
    let (last, status) = wrapper(frames.last().unwrap());
    assert_eq!(last, "statusUpdate");
    assert_eq!(status["status"]["state"], "TASK_STATE_COMPLETED");

    // The same task by id, its history trimmed by the query.
    let (code, stored) =
        json_call(client.get(server.url(&format!("/v1/tasks/{task_id}?historyLength=1")))).await;
    assert_eq!(code, 200, "{stored}");
    assert_eq!(stored["id"], task_id.as_str());
    assert_eq!(stored["status"]["state"], "TASK_STATE_COMPLETED");
    assert_eq!(stored["history"].as_array().unwrap().len(), 1);
    let answer = stored["history"][0]["parts"][0]["text"].as_str().unwrap();
    assert!(!answer.is_empty());
    assert!(
        text.contains(answer) || answer.contains(text.trim()),
        "{text:?} vs {answer:?}"
    );

    // A finished task: subscribing (GET or POST) and cancelling are refused.
    for request in [
        client.get(server.url(&format!("/v1/tasks/{task_id}:subscribe"))),
        client.post(server.url(&format!("/v1/tasks/{task_id}:subscribe"))),
    ] {
        let answer = json_call(request).await;
        assert_error(&answer, 400, "FAILED_PRECONDITION", "UNSUPPORTED_OPERATION");
    }
    let answer = json_call(client.post(server.url(&format!("/v1/tasks/{task_id}:cancel")))).await;
    assert_error(&answer, 400, "FAILED_PRECONDITION", "TASK_NOT_CANCELABLE");
}

#[tokio::test]
async fn send_list_and_cancel_a_running_task_seen_by_a_subscriber() {
    let stalling = Stalling::new(None);
    let dropped = stalling.dropped_at.clone();
    let server = start(agent_with(stalling), ServerConfig::default()).await;
    let client = reqwest::Client::new();
    let mut body = send_body("Hi");
    body["configuration"] = json!({"returnImmediately": true});
    let (code, sent) = json_call(client.post(server.url("/v1/message:send")).json(&body)).await;
    assert_eq!(code, 200, "{sent}");
    let task_id = sent["task"]["id"].as_str().unwrap().to_owned();

    let subscriber = {
        let url = server.url(&format!("/v1/tasks/{task_id}:subscribe"));
        tokio::spawn(async move { sse_frames(reqwest::get(url).await.unwrap()).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;

    let (code, listed) =
        json_call(client.get(server.url("/v1/tasks?status=TASK_STATE_WORKING&pageSize=10"))).await;
    assert_eq!(code, 200, "{listed}");
    assert_eq!(listed["tasks"][0]["id"], task_id.as_str());
    assert_eq!(listed["totalSize"], 1);

    let (code, canceled) =
        json_call(client.post(server.url(&format!("/v1/tasks/{task_id}:cancel")))).await;
    assert_eq!(code, 200, "{canceled}");
    assert_eq!(canceled["status"]["state"], "TASK_STATE_CANCELED");
    wait_dropped(&dropped, Duration::from_secs(2)).await;

    let frames = subscriber.await.unwrap();
    let first: Value = serde_json::from_str(&frames[0].data).unwrap();
    assert_eq!(wrapper(&first).0, "task", "the snapshot first");
    let last: Value = serde_json::from_str(&frames.last().unwrap().data).unwrap();
    assert_eq!(wrapper(&last).1["status"]["state"], "TASK_STATE_CANCELED");
}

#[tokio::test]
async fn errors_are_google_rpc_statuses_with_http_codes() {
    let server = demo_server().await;
    let client = reqwest::Client::new();
    let url = |path: &str| server.url(path);

    let answer = json_call(client.get(url("/v1/tasks/no-such-task"))).await;
    assert_error(&answer, 404, "NOT_FOUND", "TASK_NOT_FOUND");

    let answer = json_call(
        client
            .post(url("/v1/message:send"))
            .header("content-type", "application/json")
            .body("{not json"),
    )
    .await;
    assert_error(&answer, 400, "INVALID_ARGUMENT", "PARSE_ERROR");

    let answer = json_call(
        client
            .post(url("/v1/message:send"))
            .json(&json!({"message": {}})),
    )
    .await;
    assert_error(&answer, 400, "INVALID_ARGUMENT", "INVALID_PARAMS");
    assert!(answer.1["error"]["message"]
        .as_str()
        .unwrap()
        .contains("params.message"));

    let answer = json_call(
        client
            .post(url("/v1/message:send"))
            .header("content-type", "text/plain")
            .body(send_body("Hi").to_string()),
    )
    .await;
    assert_error(
        &answer,
        415,
        "INVALID_ARGUMENT",
        "CONTENT_TYPE_NOT_SUPPORTED",
    );

    let answer = json_call(
        client
            .post(url("/v1/message:send"))
            .header("A2A-Version", "0.3")
            .json(&send_body("Hi")),
    )
    .await;
    assert_error(&answer, 400, "FAILED_PRECONDITION", "VERSION_NOT_SUPPORTED");

    let answer = json_call(client.get(url("/v1/tasks?colour=red"))).await;
    assert_error(&answer, 400, "INVALID_ARGUMENT", "INVALID_PARAMS");
    let answer = json_call(client.get(url("/v1/tasks?pageToken=forged"))).await;
    assert_error(&answer, 400, "INVALID_ARGUMENT", "INVALID_PARAMS");

    let answer = json_call(client.get(url("/v1/agents/everything"))).await;
    assert_error(&answer, 404, "NOT_FOUND", "METHOD_NOT_FOUND");
    let answer = json_call(client.get(url("/v1/message:send"))).await;
    assert_eq!(answer.0, 405, "{}", answer.1);
    assert_eq!(
        answer.1["error"]["details"][0]["reason"],
        "METHOD_NOT_FOUND"
    );
}

#[tokio::test]
async fn the_routes_sit_behind_the_token_and_the_card_lists_them() {
    let server = start(demo_agent(), ServerConfig::default().token("s3cret")).await;
    let client = reqwest::Client::new();
    let denied = client.get(server.url("/v1/tasks")).send().await.unwrap();
    assert_eq!(denied.status(), 401);
    let (code, listed) = json_call(client.get(server.url("/v1/tasks")).bearer_auth("s3cret")).await;
    assert_eq!(code, 200, "{listed}");
    assert_eq!(listed["tasks"], json!([]));

    let card = agent_card(&server, Some("1.0")).await;
    let interfaces = card["supportedInterfaces"].as_array().unwrap();
    let rest = interfaces
        .iter()
        .find(|i| i["protocolBinding"] == "HTTP+JSON")
        .expect("an HTTP+JSON interface");
    assert_eq!(rest["url"], server.url("/v1"));
    assert_eq!(rest["protocolVersion"], "1.0");
    assert_eq!(
        interfaces[0]["protocolBinding"], "JSONRPC",
        "JSON-RPC stays first"
    );
}

#[tokio::test]
async fn push_configs_are_set_listed_read_and_deleted_by_route() {
    let push = agentor_server::PushSettings::default().allow("127.0.0.1".parse().unwrap());
    let server = start(demo_agent(), ServerConfig::default().a2a_push(push)).await;
    let client = reqwest::Client::new();
    let (code, sent) = json_call(
        client
            .post(server.url("/v1/message:send"))
            .json(&send_body("Hi")),
    )
    .await;
    assert_eq!(code, 200, "{sent}");
    let task_id = sent["task"]["id"].as_str().unwrap().to_owned();
    let configs = server.url(&format!("/v1/tasks/{task_id}/pushNotificationConfigs"));

    // The path names the task; the body is the config.
    let config = json!({"id": "hook-1", "url": "http://127.0.0.1:9/hook", "token": "t0k"});
    let (code, created) = json_call(client.post(&configs).json(&config)).await;
    assert_eq!(code, 200, "{created}");
    assert_eq!(created["taskId"], task_id.as_str());
    assert_eq!(created["id"], "hook-1");
    let (code, listed) = json_call(client.get(&configs)).await;
    assert_eq!(code, 200, "{listed}");
    assert_eq!(
        listed["configs"][0]["url"], "http://127.0.0.1:9/hook",
        "{listed}"
    );
    let (code, one) = json_call(client.get(format!("{configs}/hook-1"))).await;
    assert_eq!((code, &one["token"]), (200, &json!("t0k")), "{one}");
    let (code, deleted) = json_call(client.delete(format!("{configs}/hook-1"))).await;
    assert_eq!((code, deleted), (200, json!({})));
    let answer = json_call(client.get(format!("{configs}/hook-1"))).await;
    assert_error(&answer, 404, "NOT_FOUND", "TASK_NOT_FOUND");

    let answer = json_call(
        client
            .post(&configs)
            .body("")
            .header("content-type", "application/json"),
    )
    .await;
    assert_error(&answer, 400, "INVALID_ARGUMENT", "INVALID_PARAMS");
}
