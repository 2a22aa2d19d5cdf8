//! The built-in server against slow, idle and stuck clients: every timeout
//! of `ConnectionLimits` closes what it should, and `/health` keeps
//! answering while a thousand slow connections are open.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use agentor::{Agentor, BoxEventStream, ChatRequest, Event, EventKind, Provider};
use agentor_server::{ConnectionLimits, ServerConfig};
use common::*;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

fn limits() -> ConnectionLimits {
    ConnectionLimits::default()
        .header_read_timeout(Duration::from_secs(60))
        .body_read_timeout(Duration::from_secs(60))
        .write_stall_timeout(Duration::from_secs(60))
}

async fn server_with(limits: ConnectionLimits) -> TestServer {
    start(
        demo_agent(),
        ServerConfig::default().connection_limits(limits),
    )
    .await
}

/// Reads until the peer closes (or resets); returns what arrived, or
/// panics if it stays open longer than `within`.
async fn closed_within(socket: &mut TcpStream, within: Duration) -> Vec<u8> {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    let read_all = async {
        loop {
            match socket.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(within, read_all)
        .await
        .unwrap_or_else(|_| panic!("still open after {within:?}"));
    seen
}

async fn health_latency(server: &TestServer) -> Duration {
    let client = reqwest::Client::builder().build().unwrap();
    let started = Instant::now();
    let response = client.get(server.url("/health")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    started.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_slow_connections_neither_block_health_nor_stay_open() {
    let timeout = Duration::from_secs(2);
    let server = server_with(limits().header_read_timeout(timeout)).await;
    let mut slow = Vec::new();
    for i in 0..1000 {
        let mut socket = TcpStream::connect(server.addr).await.unwrap();
        // Half a request line, a header in the middle, or nothing at all.
        let sent: &[u8] = match i % 3 {
            0 => b"GET /hea",
            1 => b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: a",
            _ => b"",
        };
        socket.write_all(sent).await.unwrap();
        slow.push(socket);
    }
    let opened = Instant::now();
    let mut worst = Duration::ZERO;
    for _ in 0..5 {
        worst = worst.max(health_latency(&server).await);
    }
    assert!(worst < Duration::from_millis(100), "/health took {worst:?}");
    // One more byte on a third of them changes nothing: the timer runs
    // from the start of the request, not from the last byte.
    for socket in slow.iter_mut().step_by(3) {
        socket.write_all(b"l").await.unwrap();
    }
    for socket in &mut slow {
        let answer = closed_within(socket, timeout + Duration::from_secs(3)).await;
        // hyper closes a connection whose headers time out without an answer.
        assert!(
            answer.is_empty() || answer.starts_with(b"HTTP/1.1 408"),
            "{answer:?}"
        );
    }
    assert!(opened.elapsed() >= timeout - Duration::from_millis(200));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_keep_alive_connection_is_closed_after_the_header_timeout() {
    let timeout = Duration::from_millis(800);
    let server = server_with(limits().header_read_timeout(timeout)).await;
    let mut socket = TcpStream::connect(server.addr).await.unwrap();
    socket
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 1024];
    let n = socket.read(&mut buf).await.unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
    let idle_since = Instant::now();
    closed_within(&mut socket, timeout + Duration::from_secs(2)).await;
    assert!(idle_since.elapsed() >= timeout - Duration::from_millis(100));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_sent_a_byte_at_a_time_is_answered_408_at_the_body_deadline() {
    let timeout = Duration::from_secs(1);
    let server = server_with(limits().body_read_timeout(timeout)).await;
    let mut socket = TcpStream::connect(server.addr).await.unwrap();
    let head = "POST /chat HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n";
    socket.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let trickle = async {
        for byte in b"{\"input\": \"".iter().cycle() {
            if socket.write_all(&[*byte]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let mut answer = Vec::new();
    tokio::select! {
        () = trickle => {}
        () = tokio::time::sleep(timeout + Duration::from_secs(2)) => {}
    }
    let elapsed = started.elapsed();
    socket.read_to_end(&mut answer).await.unwrap_or_default();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    let body: Value = serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(body["error"]["code"], "body_timeout");
    assert!(elapsed >= timeout, "{elapsed:?}");
}

/// Deltas as fast as they are pulled, forever; records when it is dropped.
#[derive(Clone, Debug, Default)]
struct Flood {
    dropped_at: Arc<Mutex<Option<Instant>>>,
}

struct Recorded(Arc<Mutex<Option<Instant>>>);

impl Drop for Recorded {
    fn drop(&mut self) {
        *self.0.lock().unwrap() = Some(Instant::now());
    }
}

impl Provider for Flood {
    fn stream(&self, _request: ChatRequest) -> BoxEventStream {
        let recorded = Recorded(self.dropped_at.clone());
        let start = Event::new(EventKind::RunStart {
            agent: "flood".into(),
            model: None,
        });
        let deltas = futures::stream::iter((0u64..).map(move |i| {
            let _keep = &recorded;
            Ok(Event::text_delta(format!("word{i} ")))
        }));
        Box::pin(futures::StreamExt::chain(
            futures::stream::iter([Ok(start)]),
            deltas,
        ))
    }

    fn name(&self) -> &str {
        "flood"
    }
}

/// A client with a small receive buffer that sends a streaming `/chat` and
/// never reads.
async fn stuck_reader(server: &TestServer) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stream = socket.connect(server.addr).await.unwrap();
    let body = r#"{"input": "Hi", "stream": true}"#;
    let request = format!(
        "POST /chat HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    stream
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_cut_and_its_run_dropped() {
    let stall = Duration::from_secs(1);
    let flood = Flood::default();
    let dropped_at = flood.dropped_at.clone();
    let agent = Agentor::builder().provider(flood).build();
    let config = ServerConfig::default().connection_limits(limits().write_stall_timeout(stall));
    let server = start(agent, config).await;
    let _stuck = stuck_reader(&server).await;
    let started = Instant::now();
    let dropped = wait_dropped(&dropped_at, stall + Duration::from_secs(10)).await;
    let after = dropped.saturating_duration_since(started);
    assert!(after >= stall, "dropped after {after:?}");
    // The server still serves others.
    assert!(health_latency(&server).await < Duration::from_millis(100));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_cap_a_connection_gets_a_503_json_answer() {
    let server = server_with(limits().max_connections(3)).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut socket = TcpStream::connect(server.addr).await.unwrap();
        socket.write_all(b"GET /he").await.unwrap();
        held.push(socket);
    }
    // Let the server accept the three before the fourth arrives.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut fourth = TcpStream::connect(server.addr).await.unwrap();
    fourth
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let answer = closed_within(&mut fourth, Duration::from_secs(3)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("too_many_connections"), "{answer}");
    // A slot freed is a slot served.
    drop(held.pop());
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(health_latency(&server).await < Duration::from_millis(500));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_ends_at_its_deadline_whatever_the_clients_do() {
    let deadline = Duration::from_millis(700);
    let agent = Agentor::builder().provider(Flood::default()).build();
    let config = ServerConfig::default().connection_limits(limits().shutdown_deadline(deadline));
    let server = start(agent, config).await;
    let mut half_line = TcpStream::connect(server.addr).await.unwrap();
    half_line.write_all(b"GET /hea").await.unwrap();
    let mut half_body = TcpStream::connect(server.addr).await.unwrap();
    half_body
        .write_all(b"POST /chat HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{")
        .await
        .unwrap();
    let _stuck = stuck_reader(&server).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    server.shutdown.trigger();
    let result = tokio::time::timeout(deadline + Duration::from_secs(3), server.task)
        .await
        .expect("the server did not return after its deadline");
    result.unwrap().unwrap();
    let took = started.elapsed();
    assert!(took < deadline + Duration::from_millis(500), "{took:?}");
    closed_within(&mut half_line, Duration::from_secs(1)).await;
    closed_within(&mut half_body, Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_without_tls_serves_health_and_streams() {
    let server = server_with(limits()).await;
    let client = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let health = client.get(server.url("/health")).send().await.unwrap();
    assert_eq!(health.version(), reqwest::Version::HTTP_2);
    assert_eq!(health.status(), 200);
    let stream = client
        .post(server.url("/chat"))
        .json(&serde_json::json!({"input": "Hello over h2", "stream": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.version(), reqwest::Version::HTTP_2);
    let frames = sse_frames(stream).await;
    let last = frames.last().unwrap();
    assert_eq!(last.event, "done");
    assert!(last.data.contains("completed"), "{}", last.data);
    assert!(frames.iter().filter(|f| f.event == "text_delta").count() > 1);
}
