//! Cancellation on disconnect, graceful shutdown, the run limit.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use agentor::Agentor;
use agentor_server::ServerConfig;
use common::*;
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disconnect_cancels_the_run_within_100ms() {
    let provider = Stalling::new(None);
    let dropped_at = provider.dropped_at.clone();
    let agent = Agentor::builder().provider(provider).build();
    let server = start(agent, ServerConfig::default()).await;
    let socket = open_raw(&server).await.0;
    assert!(dropped_at.lock().unwrap().is_none());
    let closed_at = Instant::now();
    drop(socket);
    assert_dropped_soon(&dropped_at, closed_at).await;
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
    let first = open_raw(&server).await.0;
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
