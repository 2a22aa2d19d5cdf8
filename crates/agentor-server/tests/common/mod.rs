//! Shared helpers: a server on 127.0.0.1:0 and stub providers.
#![allow(dead_code, unreachable_pub, missing_docs, clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use agentor::{BoxEventStream, ChatRequest, Event, EventKind, Provider, RunStatus};
use agentor_providers::Demo;
use agentor_server::{Server, ServerConfig, Shutdown};
use futures::StreamExt;

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
