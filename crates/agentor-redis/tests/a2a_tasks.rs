//! A2A tasks on any instance: two servers on one real `redis-server`; a
//! task created on A is got, subscribed, listed and cancelled through B,
//! in both protocol dialects.
#![allow(clippy::unwrap_used, missing_docs)]

#[path = "../../agentor-server/tests/common/mod.rs"]
mod common;
#[path = "support/redis_server.rs"]
mod redis_server;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use agentor::{Agentor, BoxEventStream, ChatRequest, Event, EventKind, Provider, RunStatus};
use agentor_redis::{RedisLog, RedisLogConfig};
use agentor_server::{Dialect, ServerConfig};
use common::*;
use futures::StreamExt;
use redis_server::RedisServer;
use serde_json::{json, Value};

/// `n` deltas `w0 `, `w1 `, … `every` apart, then the message and a
/// completed run end; records when its stream is dropped.
#[derive(Debug, Clone)]
struct Slow {
    n: usize,
    every: Duration,
    dropped_at: Arc<Mutex<Option<Instant>>>,
}

struct DropGuard(Arc<Mutex<Option<Instant>>>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        *self.0.lock().unwrap() = Some(Instant::now());
    }
}

impl Provider for Slow {
    fn stream(&self, _request: ChatRequest) -> BoxEventStream {
        let guard = DropGuard(self.dropped_at.clone());
        let (n, every) = (self.n, self.every);
        let deltas = futures::stream::unfold(0, move |i| async move {
            if i == n {
                return None;
            }
            tokio::time::sleep(every).await;
            Some((Ok(Event::text_delta(format!("w{i} "))), i + 1))
        });
        let text: String = (0..n).map(|i| format!("w{i} ")).collect();
        let end = futures::stream::once(async move {
            let _guard = guard;
            futures::stream::iter([
                Ok(Event::message(text)),
                Ok(Event::new(EventKind::RunEnd {
                    status: RunStatus::Completed,
                })),
            ])
        })
        .flatten();
        Box::pin(deltas.chain(end))
    }

    fn name(&self) -> &str {
        "slow"
    }
}

struct Cluster {
    a: TestServer,
    b: TestServer,
    _redis: RedisServer,
}

async fn cluster(provider: Slow) -> Cluster {
    cluster_of(Agentor::builder().provider(provider).build()).await
}

async fn cluster_of(agent: Agentor) -> Cluster {
    let redis = RedisServer::start();
    let log_a = RedisLog::connect(&redis.url(), RedisLogConfig::default())
        .await
        .unwrap();
    let log_b = RedisLog::connect(&redis.url(), RedisLogConfig::default())
        .await
        .unwrap();
    Cluster {
        a: start(agent.clone(), ServerConfig::default().event_log(log_a)).await,
        b: start(agent, ServerConfig::default().event_log(log_b)).await,
        _redis: redis,
    }
}

fn name(dialect: Dialect, v03: &'static str, v10: &'static str) -> &'static str {
    match dialect {
        Dialect::V0_3 => v03,
        Dialect::V1_0 => v10,
    }
}

fn request(url: String, dialect: Dialect, method: &str, params: Value) -> reqwest::RequestBuilder {
    let body = json!({"jsonrpc": "2.0", "id": 7, "method": method, "params": params});
    let request = reqwest::Client::new().post(url).json(&body);
    match dialect {
        Dialect::V0_3 => request,
        Dialect::V1_0 => request.header("A2A-Version", "1.0"),
    }
}

async fn call(server: &TestServer, dialect: Dialect, method: &str, params: Value) -> Value {
    let response = request(server.url("/"), dialect, method, params)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let value: Value = response.json().await.unwrap();
    assert_eq!(value["id"], 7);
    value
}

/// A streaming call's results, in order.
async fn stream(url: String, dialect: Dialect, method: &str, params: Value) -> Vec<Value> {
    let response = request(url, dialect, method, params).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    sse_frames(response)
        .await
        .iter()
        .map(|frame| {
            let value: Value = serde_json::from_str(&frame.data).unwrap();
            assert_eq!(value["id"], 7, "{value}");
            value["result"].clone()
        })
        .collect()
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

/// Sends `text` on `server` without waiting; the task answered.
async fn send(server: &TestServer, dialect: Dialect, text: &str, blocking: bool) -> Value {
    let configuration = match dialect {
        Dialect::V0_3 => json!({"blocking": blocking}),
        Dialect::V1_0 => json!({"returnImmediately": !blocking}),
    };
    let method = name(dialect, "message/send", "SendMessage");
    let answer = call(
        server,
        dialect,
        method,
        json!({"message": message(dialect, text), "configuration": configuration}),
    )
    .await;
    match dialect {
        Dialect::V0_3 => answer["result"].clone(),
        Dialect::V1_0 => answer["result"]["task"].clone(),
    }
}

fn state(dialect: Dialect, name: &str) -> String {
    match dialect {
        Dialect::V0_3 => name.to_owned(),
        Dialect::V1_0 => format!("TASK_STATE_{}", name.to_uppercase().replace('-', "_")),
    }
}

/// The kind and inner object of a stream result in either dialect.
fn kind_of(dialect: Dialect, event: &Value) -> (String, Value) {
    match dialect {
        Dialect::V0_3 => (event["kind"].as_str().unwrap().to_owned(), event.clone()),
        Dialect::V1_0 => {
            let (key, inner) = event.as_object().unwrap().iter().next().unwrap();
            let kind = match key.as_str() {
                "task" => "task",
                "statusUpdate" => "status-update",
                "artifactUpdate" => "artifact-update",
                other => panic!("unexpected {other}"),
            };
            (kind.to_owned(), inner.clone())
        }
    }
}

/// The answer's text: the snapshot's artifacts, then the chunks after it.
fn text_of(dialect: Dialect, events: &[Value]) -> String {
    let mut text = String::new();
    for event in events {
        let (kind, inner) = kind_of(dialect, event);
        let artifacts = match kind.as_str() {
            "task" => inner["artifacts"].as_array().cloned().unwrap_or_default(),
            "artifact-update" => vec![inner["artifact"].clone()],
            _ => Vec::new(),
        };
        for artifact in artifacts {
            for part in artifact["parts"].as_array().unwrap() {
                text.push_str(part["text"].as_str().unwrap());
            }
        }
    }
    text
}

fn task_text(task: &Value) -> String {
    let mut text = String::new();
    for artifact in task["artifacts"].as_array().unwrap() {
        for part in artifact["parts"].as_array().unwrap() {
            text.push_str(part["text"].as_str().unwrap());
        }
    }
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_created_on_a_is_got_subscribed_and_cancelled_through_b() {
    let provider = Slow {
        n: 1000,
        every: Duration::from_millis(20),
        dropped_at: Arc::default(),
    };
    let dropped_at = provider.dropped_at.clone();
    let cluster = cluster(provider).await;
    for dialect in [Dialect::V0_3, Dialect::V1_0] {
        *dropped_at.lock().unwrap() = None;
        let created = send(&cluster.a, dialect, "Hi", false).await;
        let id = created["id"].as_str().unwrap().to_owned();
        let context = created["contextId"].as_str().unwrap().to_owned();

        // B knows the task A created: its context and the user's message.
        let got = call(
            &cluster.b,
            dialect,
            name(dialect, "tasks/get", "GetTask"),
            json!({"id": id}),
        )
        .await;
        let task = &got["result"];
        assert_eq!(task["id"], id.as_str(), "{got}");
        assert_eq!(task["contextId"], context.as_str());
        assert_eq!(task["history"][0]["parts"][0]["text"], "Hi");
        assert_eq!(task["status"]["state"], state(dialect, "working"));

        let subscriber = {
            let b = cluster.b.url("/");
            let id = id.clone();
            tokio::spawn(async move {
                stream(
                    b,
                    dialect,
                    name(dialect, "tasks/resubscribe", "SubscribeToTask"),
                    json!({"id": id}),
                )
                .await
            })
        };
        tokio::time::sleep(Duration::from_millis(200)).await;

        let sent_at = Instant::now();
        let cancel = name(dialect, "tasks/cancel", "CancelTask");
        let canceled = call(&cluster.b, dialect, cancel, json!({"id": id})).await;
        assert_eq!(
            canceled["result"]["status"]["state"],
            state(dialect, "canceled"),
            "{canceled}"
        );
        let dropped = wait_dropped(&dropped_at, Duration::from_secs(2)).await;
        assert!(dropped.duration_since(sent_at) < Duration::from_millis(500));

        let events = subscriber.await.unwrap();
        assert_eq!(kind_of(dialect, &events[0]).0, "task", "the task first");
        let (kind, last) = kind_of(dialect, events.last().unwrap());
        assert_eq!(kind, "status-update");
        assert_eq!(last["status"]["state"], state(dialect, "canceled"));
        // Nothing lost, nothing twice: the deltas in order from `w0`.
        let streamed = text_of(dialect, &events);
        let words = streamed.split_whitespace().count();
        let expected: String = (0..words).map(|i| format!("w{i} ")).collect();
        assert_eq!(streamed, expected);
        assert!(streamed.starts_with("w0 w1 "), "{streamed}");

        // A, which produced it, agrees; a second cancel on either is refused.
        for server in [&cluster.a, &cluster.b] {
            let got = call(
                server,
                dialect,
                name(dialect, "tasks/get", "GetTask"),
                json!({"id": id}),
            )
            .await;
            assert_eq!(got["result"]["status"]["state"], state(dialect, "canceled"));
            let again = call(server, dialect, cancel, json!({"id": id})).await;
            assert_eq!(again["error"]["code"], -32002, "{again}");
        }
        let unknown = call(&cluster.b, dialect, cancel, json!({"id": "nope"})).await;
        assert_eq!(unknown["error"]["code"], -32001);
        let unknown = call(
            &cluster.b,
            dialect,
            name(dialect, "tasks/get", "GetTask"),
            json!({"id": "no:pe"}),
        )
        .await;
        assert_eq!(unknown["error"]["code"], -32001);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_task_of_a_followed_on_b_to_its_end_and_listed_on_both() {
    let provider = Slow {
        n: 30,
        every: Duration::from_millis(10),
        dropped_at: Arc::default(),
    };
    let cluster = cluster(provider).await;
    let whole: String = (0..30).map(|i| format!("w{i} ")).collect();
    let mut ids = Vec::new();
    for dialect in [Dialect::V0_3, Dialect::V1_0] {
        let created = send(&cluster.a, dialect, "Hi", false).await;
        let id = created["id"].as_str().unwrap().to_owned();
        tokio::time::sleep(Duration::from_millis(60)).await;
        let events = stream(
            cluster.b.url("/"),
            dialect,
            name(dialect, "tasks/resubscribe", "SubscribeToTask"),
            json!({"id": id}),
        )
        .await;
        let (kind, snapshot) = kind_of(dialect, &events[0]);
        assert_eq!(kind, "task");
        assert_eq!(snapshot["status"]["state"], state(dialect, "working"));
        let (_, last) = kind_of(dialect, events.last().unwrap());
        assert_eq!(last["status"]["state"], state(dialect, "completed"));
        assert_eq!(text_of(dialect, &events), whole);

        // Finished: B's task is A's, artifacts and all; a resubscribe is
        // the task alone.
        let get = name(dialect, "tasks/get", "GetTask");
        let on_a = call(&cluster.a, dialect, get, json!({"id": id})).await["result"].clone();
        let on_b = call(&cluster.b, dialect, get, json!({"id": id})).await["result"].clone();
        assert_eq!(task_text(&on_a), whole);
        assert_eq!(task_text(&on_b), whole);
        // The same history, but for the agent message's id, which each
        // instance's projection draws (docs/scale-out.md).
        let without_ids = |task: &Value| {
            let mut history = task["history"].clone();
            for message in history.as_array_mut().unwrap() {
                message.as_object_mut().unwrap().remove("messageId");
            }
            history
        };
        assert_eq!(on_a["history"].as_array().unwrap().len(), 2);
        assert_eq!(without_ids(&on_a), without_ids(&on_b));
        assert_eq!(on_a["artifacts"], on_b["artifacts"]);
        let again = stream(
            cluster.b.url("/"),
            dialect,
            name(dialect, "tasks/resubscribe", "SubscribeToTask"),
            json!({"id": id}),
        )
        .await;
        assert_eq!(again.len(), 1);
        assert_eq!(
            kind_of(dialect, &again[0]).1["status"]["state"],
            state(dialect, "completed")
        );
        ids.push(id);
    }
    // One running on B too: both instances list all three.
    let running = send(&cluster.b, Dialect::V1_0, "more", false).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for server in [&cluster.a, &cluster.b] {
        let listed = call(server, Dialect::V1_0, "ListTasks", json!({})).await;
        let listed_ids: Vec<&str> = listed["result"]["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap())
            .collect();
        assert_eq!(
            listed_ids,
            [running.as_str(), ids[1].as_str(), ids[0].as_str()],
            "{listed}"
        );
        let completed = call(
            server,
            Dialect::V1_0,
            "ListTasks",
            json!({"status": "TASK_STATE_COMPLETED", "pageSize": 1}),
        )
        .await;
        let result = &completed["result"];
        assert_eq!(result["totalSize"], 2, "{completed}");
        assert_eq!(result["tasks"][0]["id"], ids[1].as_str());
        assert!(result["tasks"][0]
            .get("artifacts")
            .is_none_or(|a| a.as_array().unwrap().is_empty()));
        let next = result["nextPageToken"].as_str().unwrap();
        let page2 = call(
            server,
            Dialect::V1_0,
            "ListTasks",
            json!({"status": "TASK_STATE_COMPLETED", "pageSize": 1, "pageToken": next}),
        )
        .await;
        assert_eq!(page2["result"]["tasks"][0]["id"], ids[0].as_str());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_configs_of_a_task_stay_on_the_instance_that_runs_it() {
    let provider = Slow {
        n: 3,
        every: Duration::from_millis(20),
        dropped_at: Arc::default(),
    };
    let cluster = cluster(provider).await;
    for dialect in [Dialect::V0_3, Dialect::V1_0] {
        let task = send(&cluster.a, dialect, "hi", true).await;
        let id = task["id"].as_str().unwrap();
        let (method, params) = match dialect {
            Dialect::V0_3 => ("tasks/pushNotificationConfig/list", json!({"id": id})),
            Dialect::V1_0 => ("ListTaskPushNotificationConfigs", json!({"taskId": id})),
        };
        let on_a = call(&cluster.a, dialect, method, params.clone()).await;
        assert!(on_a.get("error").is_none(), "{on_a}");
        // B knows the task through the log, and says where its configs are.
        let on_b = call(&cluster.b, dialect, method, params).await;
        assert_eq!(on_b["error"]["code"], -32004, "{on_b}");
        assert!(on_b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("runs on another instance"));
        // A task neither knows: -32001 on both.
        let unknown = match dialect {
            Dialect::V0_3 => json!({"id": "nope"}),
            Dialect::V1_0 => json!({"taskId": "nope"}),
        };
        let missing = call(&cluster.b, dialect, method, unknown).await;
        assert_eq!(missing["error"]["code"], -32001, "{missing}");
    }
}

/// Asks which city (`request_input`) until the conversation has the
/// question in it, then answers.
#[derive(Debug)]
struct AsksFirst;

impl Provider for AsksFirst {
    fn stream(&self, request: ChatRequest) -> BoxEventStream {
        let asked = request
            .messages
            .iter()
            .any(|m| m.role == agentor::ChatRole::Assistant);
        let events = if asked {
            vec![
                Event::message("Sunny"),
                Event::run_end(RunStatus::Completed),
            ]
        } else {
            vec![
                Event::tool_call("c1", "request_input", json!({"question": "Which city?"})),
                Event::run_end(RunStatus::Completed),
            ]
        };
        Box::pin(futures::stream::iter(events.into_iter().map(Ok)))
    }

    fn name(&self) -> &str {
        "asks-first"
    }
}

#[tokio::test]
async fn a_task_asking_on_a_is_seen_on_b_and_answered_on_a_only() {
    let agent = Agentor::builder()
        .provider(AsksFirst)
        .tool(agentor::Tool::request_input())
        .build();
    let cluster = cluster_of(agent).await;
    for dialect in [Dialect::V0_3, Dialect::V1_0] {
        let task = send(&cluster.a, dialect, "Weather?", true).await;
        assert_eq!(
            task["status"]["state"],
            state(dialect, "input-required"),
            "{task}"
        );
        let id = task["id"].as_str().unwrap().to_owned();
        let get = name(dialect, "tasks/get", "GetTask");
        // The log gets A's last events a moment after A answered.
        let deadline = Instant::now() + Duration::from_secs(5);
        let on_b = loop {
            let on_b = call(&cluster.b, dialect, get, json!({"id": id})).await;
            if on_b["result"]["status"]["state"] != state(dialect, "working")
                || Instant::now() > deadline
            {
                break on_b;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        assert_eq!(
            on_b["result"]["status"]["state"],
            state(dialect, "input-required"),
            "{on_b}"
        );
        let mut answer = message(dialect, "Paris");
        answer["taskId"] = json!(id);
        let send_method = name(dialect, "message/send", "SendMessage");
        let refused = call(
            &cluster.b,
            dialect,
            send_method,
            json!({"message": answer.clone()}),
        )
        .await;
        assert_eq!(refused["error"]["code"], -32004, "{refused}");
        assert!(
            refused["error"]["message"]
                .as_str()
                .unwrap()
                .contains("another instance"),
            "{refused}"
        );
        let done = call(&cluster.a, dialect, send_method, json!({"message": answer})).await;
        let done = match dialect {
            Dialect::V0_3 => done["result"].clone(),
            Dialect::V1_0 => done["result"]["task"].clone(),
        };
        assert_eq!(done["id"], json!(id));
        assert_eq!(
            done["status"]["state"],
            state(dialect, "completed"),
            "{done}"
        );
    }
}
