//! Shared helpers: a server on 127.0.0.1:0 and stub providers.
#![allow(dead_code, unreachable_pub, missing_docs, clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use agentor::{BoxEventStream, ChatRequest, ChatRole, Event, EventKind, Provider, RunStatus};
use agentor_providers::Demo;
use agentor_server::{Server, ServerConfig, Shutdown};
use futures::StreamExt;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub struct TestServer {
    pub addr: SocketAddr,
    pub shutdown: Shutdown,
    pub task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl TestServer {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

pub async fn start(agent: agentor::Agentor, config: ServerConfig) -> TestServer {
    let bound = Server::new(agent)
        .config(config)
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let addr = bound.local_addr().unwrap();
    let shutdown = bound.shutdown_handle();
    let task = tokio::spawn(bound.serve_with_shutdown(std::future::pending()));
    TestServer {
        addr,
        shutdown,
        task,
    }
}

pub fn demo_agent() -> agentor::Agentor {
    agentor::Agentor::builder()
        .name("Assistant")
        .provider(Demo::instant())
        .build()
}

pub async fn demo_server() -> TestServer {
    start(demo_agent(), ServerConfig::default()).await
}

/// A provider that sends a run start and one delta, then waits `stall`
/// (forever when `None`) before finishing; records when its stream is dropped.
#[derive(Debug, Clone)]
pub struct Stalling {
    pub stall: Option<Duration>,
    pub dropped_at: Arc<Mutex<Option<Instant>>>,
}

impl Stalling {
    pub fn new(stall: Option<Duration>) -> Self {
        Stalling {
            stall,
            dropped_at: Arc::default(),
        }
    }
}

struct DropGuard(Arc<Mutex<Option<Instant>>>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        *self.0.lock().unwrap() = Some(Instant::now());
    }
}

impl Provider for Stalling {
    fn stream(&self, request: ChatRequest) -> BoxEventStream {
        let guard = DropGuard(self.dropped_at.clone());
        let stall = self.stall;
        let run_id = request.run_id.clone().unwrap_or_default();
        Box::pin(async_stream_like(guard, stall, run_id))
    }

    fn name(&self) -> &str {
        "stalling"
    }
}

fn async_stream_like(
    guard: DropGuard,
    stall: Option<Duration>,
    run_id: agentor::Text,
) -> impl futures::Stream<Item = agentor::EventResult> + Send {
    let first = futures::stream::iter(vec![
        Ok(Event::new(EventKind::RunStart {
            agent: "stub".into(),
            model: None,
        })
        .with_run_id(run_id.clone())),
        Ok(Event::text_delta("Hello").with_seq(1)),
    ]);
    let rest = futures::stream::once(async move {
        let _guard = guard;
        match stall {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending::<()>().await,
        }
        futures::stream::iter(vec![
            Ok(Event::message("Hello").with_seq(2)),
            Ok(Event::new(EventKind::RunEnd {
                status: RunStatus::Completed,
            })
            .with_seq(3)),
        ])
    })
    .flatten();
    first.chain(rest)
}

/// A provider that answers `n` deltas at once.
#[derive(Debug, Clone)]
pub struct Fast(pub usize);

impl Provider for Fast {
    fn stream(&self, _request: ChatRequest) -> BoxEventStream {
        let mut events = vec![Ok(Event::new(EventKind::RunStart {
            agent: "stub".into(),
            model: None,
        }))];
        let mut text = String::new();
        for i in 0..self.0 {
            let piece = format!("w{i} ");
            text.push_str(&piece);
            events.push(Ok(Event::text_delta(piece)));
        }
        events.push(Ok(Event::message(text)));
        events.push(Ok(Event::new(EventKind::RunEnd {
            status: RunStatus::Completed,
        })));
        Box::pin(futures::stream::iter(events))
    }

    fn name(&self) -> &str {
        "fast"
    }
}

/// Reads an SSE body with an independent parser.
pub async fn sse_frames(response: reqwest::Response) -> Vec<eventsource_stream::Event> {
    use eventsource_stream::Eventsource;
    response
        .bytes_stream()
        .eventsource()
        .map(Result::unwrap)
        .collect()
        .await
}

/// Waits (at most `within`) until a stub provider records that its run was
/// dropped, and returns when that was.
pub async fn wait_dropped(dropped_at: &Mutex<Option<Instant>>, within: Duration) -> Instant {
    let deadline = Instant::now() + within;
    loop {
        if let Some(at) = *dropped_at.lock().unwrap() {
            return at;
        }
        assert!(Instant::now() < deadline, "the run was never dropped");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Opens a streaming `/chat` over raw TCP, reads until the first text delta
/// and returns the socket and the run id.
pub async fn open_raw(server: &TestServer) -> (TcpStream, String) {
    let mut socket = TcpStream::connect(server.addr).await.unwrap();
    let body = json!({"input": "Hi", "stream": true}).to_string();
    let request = format!(
        "POST /chat HTTP/1.1\r\nhost: test\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains("event: text_delta") {
        let n = socket.read(&mut buf).await.unwrap();
        assert!(n > 0, "closed early: {}", String::from_utf8_lossy(&seen));
        seen.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&seen).to_string();
    let run_id = text
        .lines()
        .find_map(|l| l.strip_prefix("x-run-id: "))
        .unwrap()
        .trim()
        .to_owned();
    (socket, run_id)
}

/// Asserts that the stub provider's run was dropped within 100 ms of
/// `closed_at` (when the client went away).
pub async fn assert_dropped_soon(dropped_at: &Mutex<Option<Instant>>, closed_at: Instant) {
    let dropped = wait_dropped(dropped_at, Duration::from_secs(2)).await;
    let delay = dropped.saturating_duration_since(closed_at);
    assert!(
        delay < Duration::from_millis(100),
        "dropped after {delay:?}"
    );
}

/// The agent card as JSON, asked in `version` (`A2A-Version`) when given.
pub async fn agent_card(server: &TestServer, version: Option<&str>) -> serde_json::Value {
    let mut request = reqwest::Client::new().get(server.url("/.well-known/agent-card.json"));
    if let Some(version) = version {
        request = request.header("A2A-Version", version);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// A model that asks which city, then answers with what the user said;
/// keeps every request.
#[derive(Clone, Debug, Default)]
pub struct AsksFirst {
    pub requests: Arc<Mutex<Vec<ChatRequest>>>,
}

impl Provider for AsksFirst {
    fn stream(&self, request: ChatRequest) -> BoxEventStream {
        let asked = request
            .messages
            .iter()
            .any(|m| m.role == ChatRole::Assistant && m.content.as_str() == "Which city?");
        let last_user = request
            .messages
            .iter()
            .rev()
            .find(|m| m.role == ChatRole::User)
            .map(|m| m.content.to_string())
            .unwrap_or_default();
        self.requests.lock().unwrap().push(request);
        let events = if asked {
            let answer = format!("Sunny in {last_user}");
            vec![
                Event::text_delta("Sunny in "),
                Event::text_delta(last_user),
                Event::message(answer),
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
