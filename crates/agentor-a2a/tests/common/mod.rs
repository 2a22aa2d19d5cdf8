//! A stub A2A agent on 127.0.0.1:0 for the client tests: it serves a card
//! and answers `POST /` with what the test scripted, its body cut into
//! chunks of a chosen size sent one by one, and records what it was sent.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

/// What the stub answers a POST with.
#[derive(Clone, Debug)]
pub enum Reply {
    /// `text/event-stream`, `body` sent in chunks of `chunk` bytes.
    Events { body: Vec<u8>, chunk: usize },
    /// `application/json`.
    Json(Value),
    /// A non-2xx status with a body.
    Status(u16, String),
    /// `body` as events, then nothing until the client goes away.
    Hang(Vec<u8>),
}

/// A request the stub received.
#[derive(Clone, Debug)]
pub struct Seen {
    pub path: String,
    pub version: Option<String>,
    pub authorization: Option<String>,
    pub body: Value,
}

type Script = Arc<dyn Fn(&Value) -> Reply + Send + Sync>;

#[derive(Clone)]
struct Shared {
    base: String,
    name: String,
    script: Script,
    seen: Arc<Mutex<Vec<Seen>>>,
    dropped: Arc<AtomicBool>,
    card_status: Option<u16>,
}

/// A running stub agent.
pub struct Stub {
    pub base: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    dropped: Arc<AtomicBool>,
}

/// The stub's options.
pub struct StubBuilder {
    name: String,
    legacy_card_only: bool,
    card_status: Option<u16>,
}

impl Stub {
    pub fn builder() -> StubBuilder {
        StubBuilder {
            name: "Stub Agent".to_owned(),
            legacy_card_only: false,
            card_status: None,
        }
    }

    /// A stub answering every POST with `reply`.
    pub async fn replying(reply: Reply) -> Stub {
        Stub::builder().start(move |_| reply.clone()).await
    }

    /// What it received, in order.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// The POSTs it received.
    pub fn posts(&self) -> Vec<Seen> {
        self.seen().into_iter().filter(|s| s.path == "/").collect()
    }

    /// Whether the body of a [`Reply::Hang`] was dropped (the client went away).
    pub fn hang_dropped(&self) -> bool {
        self.dropped.load(Ordering::SeqCst)
    }
}

impl StubBuilder {
    pub fn name(mut self, name: &str) -> Self {
        name.clone_into(&mut self.name);
        self
    }

    /// Serves the card at the legacy path only.
    pub fn legacy_card_only(mut self) -> Self {
        self.legacy_card_only = true;
        self
    }

    /// Answers card requests with this status and no card.
    pub fn card_status(mut self, status: u16) -> Self {
        self.card_status = Some(status);
        self
    }

    pub async fn start(self, script: impl Fn(&Value) -> Reply + Send + Sync + 'static) -> Stub {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let shared = Shared {
            base: base.clone(),
            name: self.name,
            script: Arc::new(script),
            seen: Arc::default(),
            dropped: Arc::default(),
            card_status: self.card_status,
        };
        let card_path = if self.legacy_card_only {
            "/.well-known/agent.json"
        } else {
            "/.well-known/agent-card.json"
        };
        let app = Router::new()
            .route(card_path, get(card))
            .route("/", post(rpc))
            .with_state(shared.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Stub {
            base,
            seen: shared.seen,
            dropped: shared.dropped,
        }
    }
}

fn record(shared: &Shared, path: &str, headers: &HeaderMap, body: Value) {
    let header = |name: &str| headers.get(name).map(|v| v.to_str().unwrap().to_owned());
    shared.seen.lock().unwrap().push(Seen {
        path: path.to_owned(),
        version: header("a2a-version"),
        authorization: header("authorization"),
        body,
    });
}

/// A card of both shapes, as the official Python SDK serves it: a 1.0 and a
/// 0.3 JSON-RPC interface on one URL, and the 0.3 fields merged in.
async fn card(State(shared): State<Shared>, headers: HeaderMap) -> Response {
    record(&shared, "card", &headers, Value::Null);
    if let Some(status) = shared.card_status {
        return (StatusCode::from_u16(status).unwrap(), "no card for you").into_response();
    }
    let url = format!("{}/", shared.base);
    Json(json!({
        "name": shared.name,
        "description": "A stub agent for agentor's client tests.",
        "version": "1.0.0",
        "supportedInterfaces": [
            {"url": url, "protocolBinding": "JSONRPC", "protocolVersion": "1.0"},
            {"url": url, "protocolBinding": "JSONRPC", "protocolVersion": "0.3"},
        ],
        "capabilities": {"streaming": true},
        "defaultInputModes": ["text/plain"],
        "defaultOutputModes": ["text/plain"],
        "skills": [],
        "url": url,
        "protocolVersion": "0.3",
        "preferredTransport": "JSONRPC",
    }))
    .into_response()
}

async fn rpc(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    record(&shared, "/", &headers, request.clone());
    match (shared.script)(&request) {
        Reply::Events { body, chunk } => sse(Body::from_stream(chunked(body, chunk))),
        Reply::Json(value) => Json(value).into_response(),
        Reply::Status(status, body) => {
            (StatusCode::from_u16(status).unwrap(), body).into_response()
        }
        Reply::Hang(body) => {
            let guard = DropFlag(shared.dropped.clone());
            let first = futures::stream::iter([Ok::<_, Infallible>(Bytes::from(body))]);
            let forever = futures::stream::unfold(guard, |guard| async move {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                Some((Ok(Bytes::new()), guard))
            });
            sse(Body::from_stream(futures::StreamExt::chain(first, forever)))
        }
    }
}

fn sse(body: Body) -> Response {
    ([("content-type", "text/event-stream")], body).into_response()
}

/// `body` in chunks of `size` bytes, each sent on its own: a short pause
/// every few chunks lets them reach the client as separate reads.
fn chunked(body: Vec<u8>, size: usize) -> impl futures::Stream<Item = Result<Bytes, Infallible>> {
    let chunks: Vec<Bytes> = body
        .chunks(size.max(1))
        .map(Bytes::copy_from_slice)
        .collect();
    futures::stream::unfold((chunks.into_iter(), 0usize), |(mut chunks, n)| async move {
        let chunk = chunks.next()?;
        if n % 8 == 7 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        } else {
            tokio::task::yield_now().await;
        }
        Some((Ok(chunk), (chunks, n + 1)))
    })
}

struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// A recorded frames file of the tests' `frames` folder.
pub fn frames(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/frames/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The first `n` SSE events of `body` (blank-line separated, CRLF or LF).
pub fn first_events(body: &[u8], n: usize) -> Vec<u8> {
    let text = String::from_utf8(body.to_vec())
        .unwrap()
        .replace("\r\n", "\n");
    let events: Vec<&str> = text
        .split("\n\n")
        .filter(|e| !e.is_empty())
        .take(n)
        .collect();
    let mut out = events.join("\n\n");
    out.push_str("\n\n");
    out.into_bytes()
}

/// `data: <json>\n\n` frames of JSON-RPC responses with id 1.
pub fn sse_results(results: &[Value]) -> Vec<u8> {
    results
        .iter()
        .map(|result| {
            format!(
                "data: {}\n\n",
                json!({"jsonrpc": "2.0", "id": 1, "result": result})
            )
        })
        .collect::<String>()
        .into_bytes()
}
