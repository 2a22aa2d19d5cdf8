//! Our A2A client over the HTTP+JSON (REST) binding, against our own server
//! on 127.0.0.1 with every request's method and path recorded: a forced
//! REST stream gives what JSON-RPC gives; a card listing HTTP+JSON first is
//! followed to `/v1` unless JSON-RPC is forced; dropping a stream cancels
//! the remote task with `POST /v1/tasks/{id}:cancel`; a conversation answers
//! an input-required task over REST; an HTTP error ends the run `failed`.
#![allow(clippy::unwrap_used)]

mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use agentor::{Agentor, BoxEventStream, Event, EventKind, RunStatus, Tool};
use agentor_a2a::client::A2aClient;
use agentor_a2a::{Binding, Dialect};
use agentor_server::{router, ServerConfig};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use common::{demo_agent, AsksFirst, Stalling};
use futures::StreamExt;
use serde_json::{json, Value};

/// `"<METHOD> <path>"` of every request a server got, in order.
type Requests = Arc<Mutex<Vec<String>>>;

/// An axum app on 127.0.0.1:0, stopped when dropped.
struct Served {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Served {
    async fn start(app: Router) -> Served {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Served { addr, task }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn record(State(requests): State<Requests>, request: Request, next: Next) -> Response {
    let line = format!("{} {}", request.method(), request.uri().path());
    requests.lock().unwrap().push(line);
    next.run(request).await
}

/// Our server for `agent`, recording what it is asked.
async fn server(agent: Agentor) -> (Served, Requests) {
    let requests = Requests::default();
    let app = router(agent, ServerConfig::default()).layer(axum::middleware::from_fn_with_state(
        requests.clone(),
        record,
    ));
    (Served::start(app).await, requests)
}

/// A card listing the server's HTTP+JSON interface first, then its
/// JSON-RPC one, served by an app of its own.
async fn rest_first_card(server: &Served) -> Served {
    let card = json!({
        "name": "Assistant",
        "supportedInterfaces": [
            {"url": server.url("/v1"), "protocolBinding": "HTTP+JSON", "protocolVersion": "1.0"},
            {"url": server.url("/"), "protocolBinding": "JSONRPC", "protocolVersion": "1.0"},
        ],
        "capabilities": {"streaming": true},
    });
    let app = Router::new().route(
        "/.well-known/agent-card.json",
        get(move || async move { Json(card) }),
    );
    Served::start(app).await
}

fn posts(requests: &Requests) -> Vec<String> {
    requests
        .lock()
        .unwrap()
        .iter()
        .filter(|r| r.starts_with("POST "))
        .cloned()
        .collect()
}

/// What a run says, without the envelope: each event's kind and text.
fn said(events: &[Event]) -> Vec<(std::mem::Discriminant<EventKind>, Option<String>)> {
    events
        .iter()
        .map(|e| (std::mem::discriminant(&e.kind), e.text().map(str::to_owned)))
        .collect()
}

async fn run(client: &A2aClient, text: &str) -> Vec<Event> {
    let events = tokio::time::timeout(
        Duration::from_secs(10),
        client.stream(text).collect::<Vec<_>>(),
    )
    .await
    .expect("the run ends within 10 s");
    events.into_iter().map(Result::unwrap).collect()
}

#[tokio::test]
async fn a_stream_over_rest_says_what_it_says_over_json_rpc() {
    let (server, requests) = server(demo_agent()).await;
    let base = server.url("");
    let connect = |binding| A2aClient::builder().binding(binding).connect(&base);
    let rest = connect(Binding::Rest).await.unwrap();
    assert_eq!(
        (rest.binding(), rest.dialect(), rest.card().endpoint()),
        (Binding::Rest, Dialect::V1_0, server.url("/v1").as_str())
    );
    let over_rest = run(&rest, "Hello there").await;
    assert_eq!(posts(&requests), ["POST /v1/message:stream"]);

    let jsonrpc = connect(Binding::JsonRpc).await.unwrap();
    assert_eq!(jsonrpc.binding(), Binding::JsonRpc);
    let over_jsonrpc = run(&jsonrpc, "Hello there").await;
    assert_eq!(posts(&requests)[1..], ["POST /"]);

    assert_eq!(said(&over_rest), said(&over_jsonrpc));
    assert_eq!(
        over_rest.last().unwrap().run_status(),
        Some(RunStatus::Completed)
    );
    let text: String = over_rest
        .iter()
        .filter(|e| matches!(e.kind, EventKind::TextDelta { .. }))
        .filter_map(Event::text)
        .collect();
    assert!(text.starts_with("(demo)"), "{text}");
    assert!(over_rest
        .iter()
        .all(|e| e.origin.source.as_deref() == Some("Assistant")));
}

#[tokio::test]
async fn a_card_preferring_http_json_is_followed_to_rest_unless_json_rpc_is_forced() {
    let (server, requests) = server(demo_agent()).await;
    let card = rest_first_card(&server).await;

    let auto = A2aClient::connect(&card.url("")).await.unwrap();
    assert_eq!(auto.binding(), Binding::Rest);
    let events = run(&auto, "Hi").await;
    assert_eq!(
        events.last().unwrap().run_status(),
        Some(RunStatus::Completed)
    );
    assert_eq!(posts(&requests), ["POST /v1/message:stream"]);

    let forced = A2aClient::builder()
        .binding(Binding::JsonRpc)
        .connect(&card.url(""))
        .await
        .unwrap();
    assert_eq!(
        (forced.binding(), forced.card().endpoint()),
        (Binding::JsonRpc, server.url("/").as_str())
    );
    let events = run(&forced, "Hi").await;
    assert_eq!(
        events.last().unwrap().run_status(),
        Some(RunStatus::Completed)
    );
    assert_eq!(posts(&requests)[1..], ["POST /"]);

    let error = A2aClient::builder()
        .binding(Binding::Rest)
        .dialect(Dialect::V0_3)
        .connect(&card.url(""))
        .await
        .unwrap_err();
    assert!(error.message().contains("1.0 only"), "{error}");
}

#[tokio::test]
async fn dropping_a_rest_stream_cancels_the_remote_task_over_rest() {
    let model = Stalling::new(None);
    let agent = Agentor::builder()
        .name("Assistant")
        .provider(model.clone())
        .build();
    let (server, requests) = server(agent).await;
    let card = rest_first_card(&server).await;
    let client = A2aClient::connect(&card.url("")).await.unwrap();

    let mut events = client.stream("Hi");
    let first_text = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(event) = events.next().await {
            if let Some(text) = event.unwrap().text() {
                return text.to_owned();
            }
        }
        panic!("the stream ended before any text");
    })
    .await
    .unwrap();
    assert_eq!(first_text, "Hello");
    drop(events);

    let cancel = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let cancel = posts(&requests)
                .into_iter()
                .find(|p| p.ends_with(":cancel"));
            if let Some(cancel) = cancel {
                return cancel;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the client cancels the task within 10 s");
    let task_id = cancel
        .strip_prefix("POST /v1/tasks/")
        .and_then(|rest| rest.strip_suffix(":cancel"))
        .expect("cancelled over REST");
    assert!(
        !posts(&requests).contains(&"POST /".to_owned()),
        "{:?}",
        posts(&requests)
    );

    let state = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let task: Value = reqwest::get(server.url(&format!("/v1/tasks/{task_id}")))
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let state = task["status"]["state"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            if state != "TASK_STATE_WORKING" {
                return state;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .unwrap();
    assert_eq!(state, "TASK_STATE_CANCELED");
    assert!(
        model.dropped_at.lock().unwrap().is_some(),
        "the run was dropped"
    );
}

async fn asking_server() -> (Served, Requests) {
    let agent = Agentor::builder()
        .name("Weather")
        .provider(AsksFirst::default())
        .tool(Tool::request_input())
        .build();
    server(agent).await
}

async fn collect(stream: BoxEventStream) -> Vec<agentor::EventResult> {
    tokio::time::timeout(Duration::from_secs(10), stream.collect::<Vec<_>>())
        .await
        .expect("the run ends within 10 s")
}

#[tokio::test]
async fn a_conversation_over_rest_answers_the_task_that_asked() {
    let (server, requests) = asking_server().await;
    let client = A2aClient::builder()
        .binding(Binding::Rest)
        .connect(&server.url(""))
        .await
        .unwrap();
    let chat = client.conversation();
    let first = collect(chat.stream("Weather?")).await;
    let first: Vec<Event> = first.into_iter().map(Result::unwrap).collect();
    let n = first.len();
    assert_eq!(first[n - 2].text(), Some("Which city?"), "{first:?}");
    assert_eq!(first[n - 1].run_status(), Some(RunStatus::InputRequired));
    let waiting = chat.waiting_task().expect("the task waits for the answer");
    let context = chat.context_id().expect("the context is known");

    let second = collect(chat.stream("Lima")).await;
    let second: Vec<Event> = second.into_iter().map(Result::unwrap).collect();
    assert_eq!(
        second.last().unwrap().run_status(),
        Some(RunStatus::Completed),
        "{second:?}"
    );
    assert!(second.iter().any(|e| e.text() == Some("Sunny in Lima")));
    assert_eq!(chat.waiting_task(), None);
    assert_eq!(chat.context_id(), Some(context));
    assert_eq!(
        posts(&requests),
        ["POST /v1/message:stream", "POST /v1/message:stream"]
    );

    // One task, both turns in its history, read over REST.
    let task: Value = reqwest::get(server.url(&format!("/v1/tasks/{waiting}")))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(task["history"].as_array().unwrap().len(), 4, "{task}");
}

#[tokio::test]
async fn an_http_error_over_rest_ends_the_run_with_the_error_and_failed() {
    let (server, _) = asking_server().await;
    let client = A2aClient::builder()
        .binding(Binding::Rest)
        .connect(&server.url(""))
        .await
        .unwrap();
    let chat = client.conversation();
    collect(chat.stream("Weather?")).await;
    let waiting = chat.waiting_task().expect("the task waits for the answer");
    // Cancelled meanwhile: the answer goes to a finished task, which the
    // server refuses (400, FAILED_PRECONDITION).
    let canceled = reqwest::Client::new()
        .post(server.url(&format!("/v1/tasks/{waiting}:cancel")))
        .send()
        .await
        .unwrap();
    assert!(canceled.status().is_success(), "{canceled:?}");

    let answer = collect(chat.stream("Lima")).await;
    assert_eq!(answer.len(), 3, "run start, error, run end: {answer:?}");
    let error = answer[1].as_ref().unwrap_err();
    assert_eq!(error.kind(), agentor::ErrorKind::Provider);
    assert_eq!(error.status(), Some(400), "{error}");
    assert!(error.message().contains("400"), "{error}");
    assert_eq!(
        answer[2].as_ref().unwrap().run_status(),
        Some(RunStatus::Failed)
    );
}
