//! Cancellation on disconnect, graceful shutdown, the run limit.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use agentor::Agentor;
use agentor_server::ServerConfig;
use common::*;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Sends a streaming `/chat` over a raw TCP connection and reads until the
/// first text delta frame arrived.
async fn open_stream(server: &TestServer) -> TcpStream {
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
    socket
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disconnect_cancels_the_run_within_100ms() {
    let provider = Stalling::new(None);
    let dropped_at = provider.dropped_at.clone();
    let agent = Agentor::builder().provider(provider).build();
    let server = start(agent, ServerConfig::default()).await;
    let socket = open_stream(&server).await;
    assert!(dropped_at.lock().unwrap().is_none());
    let closed_at = Instant::now();
    drop(socket);
    let dropped = wait_dropped(&dropped_at, Duration::from_secs(2)).await;
    let delay = dropped.saturating_duration_since(closed_at);
    assert!(
        delay < Duration::from_millis(100),
        "dropped after {delay:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_sends_cancelled_then_stops() {
    let provider = Stalling::new(None);
    let dropped_at = provider.dropped_at.clone();
    let agent = Agentor::builder().provider(provider).build();
    let server = start(agent, ServerConfig::default()).await;
    let response = reqwest::Client::new()
        .post(server.url("/chat?format=native"))
        .json(&json!({"input": "Hi", "stream": true}))
        .send()
        .await
        .unwrap();
    let shutdown = server.shutdown.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        shutdown.trigger();
    });
    let frames = tokio::time::timeout(Duration::from_secs(5), sse_frames(response))
        .await
        .unwrap();
    let last = frames.last().unwrap();
    assert_eq!(last.event, "done");
    assert_eq!(last.id, (frames.len() - 1).to_string());
    let end: Value = serde_json::from_str(&last.data).unwrap();
    assert_eq!(end["status"], "cancelled");
    assert!(dropped_at.lock().unwrap().is_some());
    tokio::time::timeout(Duration::from_secs(5), server.task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_the_run_limit_is_503() {
    let agent = Agentor::builder().provider(Stalling::new(None)).build();
    let server = start(agent, ServerConfig::default().max_runs(1)).await;
    let first = open_stream(&server).await;
    let response = reqwest::Client::new()
        .post(server.url("/chat"))
        .json(&json!({"input": "Hi", "stream": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "1");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_many_runs");
    // The permit comes back when the stream is dropped.
    drop(first);
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let response = reqwest::Client::new()
            .post(server.url("/chat"))
            .json(&json!({"input": "Hi", "stream": true}))
            .send()
            .await
            .unwrap();
        if response.status() == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "permit never released");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
