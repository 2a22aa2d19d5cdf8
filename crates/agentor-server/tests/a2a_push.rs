//! A2A push notifications over real HTTP on 127.0.0.1, both dialects: a
//! webhook receiver started here records what the server POSTs (every
//! state, in order, with the token and the authentication), a failing one
//! is retried and then given up while the run completes, the config methods
//! set, get, list and delete, and the SSRF policy refuses loopback webhooks
//! unless the operator allows them.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use agentor_server::{Dialect, PushSettings, ServerConfig};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use common::*;
use serde_json::{json, Value};

/// One POST the receiver got.
#[derive(Clone, Debug)]
struct Hit {
    token: Option<String>,
    authorization: Option<String>,
    body: Value,
}

/// A webhook receiver on 127.0.0.1 answering every POST with `status`
/// (after `delay`).
struct Receiver {
    url: String,
    hits: Arc<Mutex<Vec<Hit>>>,
}

impl Receiver {
    async fn start(status: StatusCode) -> Self {
        Self::start_slow(status, Duration::ZERO).await
    }

    async fn start_slow(status: StatusCode, delay: Duration) -> Self {
        let hits: Arc<Mutex<Vec<Hit>>> = Arc::default();
        let recorded = hits.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(
                move |State(hits): State<Arc<Mutex<Vec<Hit>>>>,
                      headers: HeaderMap,
                      body: String| async move {
                    let header =
                        |name: &str| headers.get(name).map(|v| v.to_str().unwrap().to_owned());
                    hits.lock().unwrap().push(Hit {
                        token: header("x-a2a-notification-token"),
                        authorization: header("authorization"),
                        body: serde_json::from_str(&body).unwrap(),
                    });
                    tokio::time::sleep(delay).await;
                    status
                },
            )
            .with_state(recorded),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver {
            url: format!("http://{addr}/hook"),
            hits,
        }
    }

    fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }

    /// Waits (at most 10 s) until `count` POSTs came.
    async fn wait_for(&self, count: usize) -> Vec<Hit> {
        for _ in 0..1000 {
            let hits = self.hits();
            if hits.len() >= count {
                return hits;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the webhook got {:?}, not {count} POSTs", self.hits());
    }
}

/// Loopback allowed (the receiver is on 127.0.0.1), fast retries.
fn push_allowed() -> PushSettings {
    PushSettings::default()
        .allow("127.0.0.1".parse().unwrap())
        .retries(3, Duration::from_millis(20))
        .timeout(Duration::from_secs(2))
}

async fn server(settings: PushSettings) -> TestServer {
    start(demo_agent(), ServerConfig::default().a2a_push(settings)).await
}

async fn call(server: &TestServer, dialect: Dialect, method: &str, params: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let mut request = reqwest::Client::new().post(server.url("/")).json(&body);
    if dialect == Dialect::V1_0 {
        request = request.header("A2A-Version", "1.0");
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
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

fn send_method(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::V0_3 => "message/send",
        Dialect::V1_0 => "SendMessage",
    }
}

/// A blocking send whose configuration carries `push` (the dialect's key).
fn send_with_push(dialect: Dialect, push: Value) -> Value {
    let key = match dialect {
        Dialect::V0_3 => "pushNotificationConfig",
        Dialect::V1_0 => "taskPushNotificationConfig",
    };
    json!({"message": message(dialect, "Explain push"), "configuration": {key: push}})
}

fn auth(dialect: Dialect) -> Value {
    match dialect {
        Dialect::V0_3 => json!({"schemes": ["Bearer"], "credentials": "hook-secret"}),
        Dialect::V1_0 => json!({"scheme": "Bearer", "credentials": "hook-secret"}),
    }
}

/// The task id and state a notification carries, and whether it is the
/// whole task: 0.3 always sends the task; 1.0 a `statusUpdate` on the way
/// and the `task` at the end.
fn state_of(dialect: Dialect, body: &Value) -> (String, String, bool) {
    match dialect {
        Dialect::V0_3 => {
            assert_eq!(body["kind"], "task", "{body}");
            (
                body["id"].as_str().unwrap().to_owned(),
                body["status"]["state"].as_str().unwrap().to_owned(),
                true,
            )
        }
        Dialect::V1_0 => match (body.get("task"), body.get("statusUpdate")) {
            (Some(task), None) => (
                task["id"].as_str().unwrap().to_owned(),
                task["status"]["state"].as_str().unwrap().to_owned(),
                true,
            ),
            (None, Some(update)) => (
                update["taskId"].as_str().unwrap().to_owned(),
                update["status"]["state"].as_str().unwrap().to_owned(),
                false,
            ),
            _ => panic!("not a 1.0 StreamResponse: {body}"),
        },
    }
}

fn states(dialect: Dialect) -> [&'static str; 3] {
    match dialect {
        Dialect::V0_3 => ["submitted", "working", "completed"],
        Dialect::V1_0 => [
            "TASK_STATE_SUBMITTED",
            "TASK_STATE_WORKING",
            "TASK_STATE_COMPLETED",
        ],
    }
}

#[tokio::test]
async fn every_state_reaches_the_webhook_in_order_with_the_token() {
    for dialect in [Dialect::V0_3, Dialect::V1_0] {
        let receiver = Receiver::start(StatusCode::OK).await;
        let server = server(push_allowed()).await;
        let push =
            json!({"url": receiver.url, "token": "tok-123", "authentication": auth(dialect)});
        let answer = call(
            &server,
            dialect,
            send_method(dialect),
            send_with_push(dialect, push),
        )
        .await;
        let task = match dialect {
            Dialect::V0_3 => &answer["result"],
            Dialect::V1_0 => &answer["result"]["task"],
        };
        let task_id = task["id"].as_str().unwrap_or_else(|| panic!("{answer}"));

        let hits = receiver.wait_for(3).await;
        // Nothing after the final state.
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(receiver.hits().len(), 3, "{:?}", receiver.hits());
        let seen: Vec<(String, String, bool)> = hits
            .iter()
            .map(|hit| state_of(dialect, &hit.body))
            .collect();
        let expected = states(dialect);
        for (i, (id, state, _)) in seen.iter().enumerate() {
            assert_eq!(id, task_id);
            assert_eq!(state, expected[i], "{dialect:?}: {seen:?}");
        }
        for hit in &hits {
            assert_eq!(hit.token.as_deref(), Some("tok-123"));
            assert_eq!(hit.authorization.as_deref(), Some("Bearer hook-secret"));
        }
        // The final notification is the whole task, with the answer.
        let last = &hits[2].body;
        let final_task = match dialect {
            Dialect::V0_3 => last,
            Dialect::V1_0 => &last["task"],
        };
        assert!(
            !final_task["artifacts"].as_array().unwrap().is_empty(),
            "{last}"
        );
        if dialect == Dialect::V1_0 {
            // The state on the way is a status update.
            assert!(!seen[1].2, "{seen:?}");
        }

        // The send's config is the task's, with the task's id as its id.
        let (get, params) = match dialect {
            Dialect::V0_3 => (
                "tasks/pushNotificationConfig/get",
                json!({"id": task_id, "pushNotificationConfigId": task_id}),
            ),
            Dialect::V1_0 => (
                "GetTaskPushNotificationConfig",
                json!({"taskId": task_id, "id": task_id}),
            ),
        };
        let got = call(&server, dialect, get, params).await;
        let url = match dialect {
            Dialect::V0_3 => &got["result"]["pushNotificationConfig"]["url"],
            Dialect::V1_0 => &got["result"]["url"],
        };
        assert_eq!(url, &json!(receiver.url), "{got}");
        server.shutdown.trigger();
    }
}

#[tokio::test]
async fn a_failing_webhook_is_retried_then_given_up_and_the_run_completes() {
    for dialect in [Dialect::V0_3, Dialect::V1_0] {
        let receiver = Receiver::start(StatusCode::INTERNAL_SERVER_ERROR).await;
        let server = server(push_allowed()).await;
        let push = json!({"url": receiver.url, "token": "t"});
        let answer = tokio::time::timeout(
            Duration::from_secs(5),
            call(
                &server,
                dialect,
                send_method(dialect),
                send_with_push(dialect, push),
            ),
        )
        .await
        .expect("the send waited for the webhook");
        let state = match dialect {
            Dialect::V0_3 => &answer["result"]["status"]["state"],
            Dialect::V1_0 => &answer["result"]["task"]["status"]["state"],
        };
        assert_eq!(state, states(dialect)[2], "{answer}");

        // Three states, three attempts each, then nothing more.
        let hits = receiver.wait_for(9).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(receiver.hits().len(), 9);
        let order: Vec<String> = hits.iter().map(|h| state_of(dialect, &h.body).1).collect();
        let expected = states(dialect);
        for (i, state) in order.iter().enumerate() {
            assert_eq!(state, expected[i / 3], "{order:?}");
        }
        server.shutdown.trigger();
    }
}

#[tokio::test]
async fn configs_are_set_listed_got_and_deleted_per_task() {
    let receiver = Receiver::start(StatusCode::OK).await;
    let server = start(
        agent_with_stall(Duration::from_millis(600)),
        ServerConfig::default().a2a_push(push_allowed().configs(2, 1 << 20)),
    )
    .await;
    for dialect in [Dialect::V0_3, Dialect::V1_0] {
        let hits_before = receiver.hits().len();
        let send = match dialect {
            Dialect::V0_3 => {
                json!({"message": message(dialect, "Hi"), "configuration": {"blocking": false}})
            }
            Dialect::V1_0 => {
                json!({"message": message(dialect, "Hi"), "configuration": {"returnImmediately": true}})
            }
        };
        let answer = call(&server, dialect, send_method(dialect), send).await;
        let task_id = match dialect {
            Dialect::V0_3 => answer["result"]["id"].as_str(),
            Dialect::V1_0 => answer["result"]["task"]["id"].as_str(),
        }
        .unwrap()
        .to_owned();
        let config = |id: &str| match dialect {
            Dialect::V0_3 => {
                json!({"taskId": task_id, "pushNotificationConfig": {"id": id, "url": receiver.url, "token": id}})
            }
            Dialect::V1_0 => json!({"taskId": task_id, "id": id, "url": receiver.url, "token": id}),
        };
        let (set, list, delete) = match dialect {
            Dialect::V0_3 => (
                "tasks/pushNotificationConfig/set",
                "tasks/pushNotificationConfig/list",
                "tasks/pushNotificationConfig/delete",
            ),
            Dialect::V1_0 => (
                "CreateTaskPushNotificationConfig",
                "ListTaskPushNotificationConfigs",
                "DeleteTaskPushNotificationConfig",
            ),
        };
        let created = call(&server, dialect, set, config("a")).await;
        assert_eq!(created["result"], config("a"), "{created}");
        assert!(call(&server, dialect, set, config("b")).await["result"].is_object());
        // Setting "a" again replaces it; a third config is over the bound.
        assert!(call(&server, dialect, set, config("a")).await["result"].is_object());
        let third = call(&server, dialect, set, config("c")).await;
        assert_eq!(third["error"]["code"], -32602, "{third}");

        let list_params = match dialect {
            Dialect::V0_3 => json!({"id": task_id}),
            Dialect::V1_0 => json!({"taskId": task_id}),
        };
        let listed = call(&server, dialect, list, list_params.clone()).await;
        let configs = match dialect {
            Dialect::V0_3 => listed["result"].clone(),
            Dialect::V1_0 => listed["result"]["configs"].clone(),
        };
        assert_eq!(configs, json!([config("a"), config("b")]), "{listed}");

        let delete_params = |id: &str| match dialect {
            Dialect::V0_3 => json!({"id": task_id, "pushNotificationConfigId": id}),
            Dialect::V1_0 => json!({"taskId": task_id, "id": id}),
        };
        let deleted = call(&server, dialect, delete, delete_params("b")).await;
        assert!(deleted.get("error").is_none(), "{deleted}");
        let again = call(&server, dialect, delete, delete_params("b")).await;
        assert_eq!(again["error"]["code"], -32001, "{again}");
        let listed = call(&server, dialect, list, list_params).await;
        let count = match dialect {
            Dialect::V0_3 => listed["result"].as_array().unwrap().len(),
            Dialect::V1_0 => listed["result"]["configs"].as_array().unwrap().len(),
        };
        assert_eq!(count, 1);

        // Only "a" is left: it gets the rest of the task, ending with its final state.
        let final_state = states(dialect)[2];
        for _ in 0..500 {
            let done = receiver.hits()[hits_before..]
                .iter()
                .any(|h| state_of(dialect, &h.body).1 == final_state);
            if done {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let hits = receiver.hits()[hits_before..].to_vec();
        let last = hits.last().unwrap();
        assert_eq!(state_of(dialect, &last.body).1, final_state, "{hits:?}");
        assert!(
            hits.iter().all(|h| h.token.as_deref() == Some("a")),
            "{hits:?}"
        );

        // An unknown task: -32001.
        let unknown = call(
            &server,
            dialect,
            list,
            match dialect {
                Dialect::V0_3 => json!({"id": "nope"}),
                Dialect::V1_0 => json!({"taskId": "nope"}),
            },
        )
        .await;
        assert_eq!(unknown["error"]["code"], -32001);
    }
}

#[tokio::test]
async fn loopback_webhooks_are_refused_unless_allowed() {
    let receiver = Receiver::start(StatusCode::OK).await;
    let server = server(PushSettings::default()).await;
    for dialect in [Dialect::V0_3, Dialect::V1_0] {
        let answer = call(
            &server,
            dialect,
            send_method(dialect),
            send_with_push(dialect, json!({"url": receiver.url})),
        )
        .await;
        assert_eq!(answer["error"]["code"], -32602, "{answer}");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("127.0.0.1 is a loopback address"),
            "{message}"
        );
        assert!(message.contains("--a2a-push-allow"), "{message}");

        let params = match dialect {
            Dialect::V0_3 => {
                json!({"message": message_of(dialect), "configuration": {"blocking": true}})
            }
            Dialect::V1_0 => json!({"message": message_of(dialect)}),
        };
        let sent = call(&server, dialect, send_method(dialect), params).await;
        let task_id = match dialect {
            Dialect::V0_3 => sent["result"]["id"].as_str(),
            Dialect::V1_0 => sent["result"]["task"]["id"].as_str(),
        }
        .unwrap();
        let (method, params) = match dialect {
            Dialect::V0_3 => (
                "tasks/pushNotificationConfig/set",
                json!({"taskId": task_id, "pushNotificationConfig": {"url": "http://localhost:1/x"}}),
            ),
            Dialect::V1_0 => (
                "CreateTaskPushNotificationConfig",
                json!({"taskId": task_id, "url": "ftp://example.com/x"}),
            ),
        };
        let refused = call(&server, dialect, method, params).await;
        assert_eq!(refused["error"]["code"], -32602, "{refused}");
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(receiver.hits().is_empty());
}

#[tokio::test]
async fn the_card_says_push_notifications_are_supported() {
    let server = server(PushSettings::default()).await;
    for version in ["0.3", "1.0"] {
        let card: Value = reqwest::Client::new()
            .get(server.url("/.well-known/agent-card.json"))
            .header("A2A-Version", version)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(card["capabilities"]["pushNotifications"], true, "{version}");
    }
}

fn message_of(dialect: Dialect) -> Value {
    message(dialect, "Hi")
}

fn agent_with_stall(stall: Duration) -> agentor::Agentor {
    agentor::Agentor::builder()
        .name("Assistant")
        .provider(Stalling::new(Some(stall)))
        .build()
}

#[tokio::test]
async fn a_named_host_is_resolved_checked_and_delivered_to() {
    let receiver = Receiver::start(StatusCode::OK).await;
    let named = receiver.url.replace("127.0.0.1", "localhost");
    // `localhost` resolves to loopback addresses only: allowed as a range.
    let settings = PushSettings::default()
        .allow("loopback".parse().unwrap())
        .retries(2, Duration::from_millis(20));
    let server = server(settings).await;
    let dialect = Dialect::V1_0;
    let push = json!({"url": named, "token": "named"});
    let answer = call(
        &server,
        dialect,
        "SendMessage",
        send_with_push(dialect, push),
    )
    .await;
    assert!(answer["result"]["task"]["id"].is_string(), "{answer}");
    let hits = receiver.wait_for(3).await;
    assert_eq!(state_of(dialect, &hits[2].body).1, "TASK_STATE_COMPLETED");

    // A token that cannot travel in a header is refused when set.
    let bad = json!({"url": named, "token": "line\nbreak"});
    let refused = call(
        &server,
        dialect,
        "SendMessage",
        send_with_push(dialect, bad),
    )
    .await;
    assert_eq!(refused["error"]["code"], -32602, "{refused}");
    assert_eq!(
        refused["error"]["message"],
        "params.configuration.taskPushNotificationConfig.token cannot be sent in an HTTP header (it holds control characters)"
    );
}

#[tokio::test]
async fn a_shutdown_delivers_the_canceled_state_and_stops_within_the_grace() {
    // A task that never ends on its own: the shutdown cancels it, and the
    // `canceled` state still reaches the webhook.
    let receiver = Receiver::start(StatusCode::OK).await;
    let stalled = start(
        agent_with_stall(Duration::from_secs(3600)),
        ServerConfig::default().a2a_push(push_allowed()),
    )
    .await;
    let dialect = Dialect::V1_0;
    let mut params = send_with_push(dialect, json!({"url": receiver.url}));
    params["configuration"]["returnImmediately"] = json!(true);
    let answer = call(&stalled, dialect, "SendMessage", params).await;
    assert!(answer["result"]["task"]["id"].is_string(), "{answer}");
    receiver.wait_for(2).await;
    stalled.shutdown.trigger();
    let hits = receiver.wait_for(3).await;
    assert_eq!(state_of(dialect, &hits[2].body).1, "TASK_STATE_CANCELED");
    tokio::time::timeout(Duration::from_secs(5), stalled.task)
        .await
        .expect("the server stops")
        .unwrap()
        .unwrap();

    // A webhook that keeps failing: delivery stops at the grace, not at the
    // end of its retries (which would take minutes), so the server stops.
    let failing = Receiver::start(StatusCode::SERVICE_UNAVAILABLE).await;
    let settings = push_allowed()
        .retries(100, Duration::from_millis(200))
        .shutdown_grace(Duration::from_millis(300));
    let server = server(settings).await;
    let answer = call(
        &server,
        dialect,
        "SendMessage",
        send_with_push(dialect, json!({"url": failing.url})),
    )
    .await;
    assert!(answer["result"]["task"]["id"].is_string(), "{answer}");
    failing.wait_for(2).await;
    let started = std::time::Instant::now();
    server.shutdown.trigger();
    tokio::time::timeout(Duration::from_secs(5), server.task)
        .await
        .expect("the server stops")
        .unwrap()
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    let attempts = failing.hits().len();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        failing.hits().len(),
        attempts,
        "delivery went on after the grace"
    );
}

#[tokio::test]
async fn a_webhook_that_hangs_does_not_hold_the_run() {
    // Each POST takes 3 s to answer: the run and its blocking send do not wait.
    let receiver = Receiver::start_slow(StatusCode::OK, Duration::from_secs(3)).await;
    let server = server(push_allowed().timeout(Duration::from_secs(10))).await;
    for dialect in [Dialect::V0_3, Dialect::V1_0] {
        let started = std::time::Instant::now();
        let push = json!({"url": receiver.url});
        let answer = call(
            &server,
            dialect,
            send_method(dialect),
            send_with_push(dialect, push),
        )
        .await;
        let state = match dialect {
            Dialect::V0_3 => &answer["result"]["status"]["state"],
            Dialect::V1_0 => &answer["result"]["task"]["status"]["state"],
        };
        assert_eq!(state, states(dialect)[2], "{answer}");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
    }
    // The first notification of each task has reached the webhook meanwhile.
    receiver.wait_for(2).await;
    server.shutdown.trigger();
}
