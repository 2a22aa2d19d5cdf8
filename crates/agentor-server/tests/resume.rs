//! Resume: a streamed run read again from its replay log (`GET
//! /runs/{run_id}/events`), live followers, disconnects, the resume window,
//! and the log's bounds.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use agentor::{Agentor, BoxEventStream, ChatRequest, Event, EventKind, Provider, RunStatus};
use agentor_server::ServerConfig;
use common::*;
use futures::StreamExt;
use serde_json::{json, Value};

/// A provider that sends a run start, then `n` deltas `every` apart, a
/// message and a completed run end; records when its stream is dropped.
#[derive(Debug, Clone)]
struct Slow {
    n: usize,
    every: Duration,
    dropped_at: Arc<Mutex<Option<Instant>>>,
}

impl Slow {
    fn new(n: usize, every: Duration) -> Self {
        Slow {
            n,
            every,
            dropped_at: Arc::default(),
        }
    }
}

struct Guard(Arc<Mutex<Option<Instant>>>);

impl Drop for Guard {
    fn drop(&mut self) {
        *self.0.lock().unwrap() = Some(Instant::now());
    }
}

impl Provider for Slow {
    fn stream(&self, _request: ChatRequest) -> BoxEventStream {
        let guard = Guard(self.dropped_at.clone());
        let (n, every) = (self.n, self.every);
        let start = futures::stream::iter([Ok(Event::new(EventKind::RunStart {
            agent: "stub".into(),
            model: None,
        }))]);
        let deltas = futures::stream::unfold(0, move |i| async move {
            if i == n {
                return None;
            }
            tokio::time::sleep(every).await;
            Some((Ok(Event::text_delta(format!("w{i} "))), i + 1))
        });
        let end = futures::stream::once(async move {
            let _guard = guard;
            futures::stream::iter([
                Ok(Event::message("done")),
                Ok(Event::new(EventKind::RunEnd {
                    status: RunStatus::Completed,
                })),
            ])
        })
        .flatten();
        Box::pin(start.chain(deltas).chain(end))
    }

    fn name(&self) -> &str {
        "slow"
    }
}

fn agent(provider: impl Provider + 'static) -> Agentor {
    Agentor::builder().provider(provider).build()
}

async fn post_stream(server: &TestServer) -> reqwest::Response {
    let response = reqwest::Client::new()
        .post(server.url("/chat?format=native"))
        .json(&json!({"input": "Hi", "stream": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response
}

fn run_id(response: &reqwest::Response) -> String {
    response.headers()["x-run-id"].to_str().unwrap().to_owned()
}

async fn get_events(
    server: &TestServer,
    run_id: &str,
    query: &str,
    last_event_id: Option<&str>,
) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .get(server.url(&format!("/runs/{run_id}/events?format=native{query}")));
    if let Some(id) = last_event_id {
        request = request.header("last-event-id", id);
    }
    request.send().await.unwrap()
}

fn ids(frames: &[eventsource_stream::Event]) -> Vec<u64> {
    frames.iter().map(|f| f.id.parse().unwrap()).collect()
}

fn status_of(frame: &eventsource_stream::Event) -> String {
    assert_eq!(frame.event, "done");
    let end: Value = serde_json::from_str(&frame.data).unwrap();
    end["status"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finished_run_reads_again_after_k() {
    let server = start(agent(Fast(5)), ServerConfig::default()).await;
    let response = post_stream(&server).await;
    let id = run_id(&response);
    let original = sse_frames(response).await;
    let n = original.len();
    assert_eq!(ids(&original), (0..n as u64).collect::<Vec<_>>());

    for (query, header) in [("&after=2", None), ("", Some("2"))] {
        let response = get_events(&server, &id, query, header).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        assert_eq!(response.headers()["x-run-id"], id.as_str());
        let frames = sse_frames(response).await;
        assert_eq!(ids(&frames), (3..n as u64).collect::<Vec<_>>());
        assert_eq!(status_of(frames.last().unwrap()), "completed");
        for (again, first) in frames.iter().zip(&original[3..]) {
            assert_eq!(again.data, first.data);
        }
    }
    // No position: from the start. The header wins over `after`.
    let all = sse_frames(get_events(&server, &id, "", None).await).await;
    assert_eq!(ids(&all), ids(&original));
    let frames = sse_frames(get_events(&server, &id, "&after=0", Some("3")).await).await;
    assert_eq!(ids(&frames)[0], 4);
    // After the last id: nothing more, the stream just ends.
    let last = (n - 1).to_string();
    let frames = sse_frames(get_events(&server, &id, "", Some(&last)).await).await;
    assert!(frames.is_empty());
    // NDJSON by Accept, the same events.
    let body = reqwest::Client::new()
        .get(server.url(&format!("/runs/{id}/events?after=2")))
        .header("accept", "application/x-ndjson")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(body.lines().count(), n - 3);
    // A bad position names itself.
    let response = get_events(&server, &id, "&after=x", None).await;
    assert_eq!(response.status(), 400);
    let response = get_events(&server, &id, "&after=999", None).await;
    assert_eq!(response.status(), 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_of_a_live_run_gets_missed_then_live_events() {
    let server = start(
        agent(Slow::new(10, Duration::from_millis(30))),
        ServerConfig::default(),
    )
    .await;
    let response = post_stream(&server).await;
    let id = run_id(&response);
    let original = tokio::spawn(async move {
        let frames = sse_frames(response).await;
        (frames, Instant::now())
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let follower = get_events(&server, &id, "&after=0", None).await;
    let frames = sse_frames(follower).await;
    let follower_end = Instant::now();
    let (original, original_end) = original.await.unwrap();
    let n = original.len() as u64;
    assert_eq!(n, 13);
    assert_eq!(ids(&frames), (1..n).collect::<Vec<_>>());
    assert_eq!(status_of(frames.last().unwrap()), "completed");
    for (again, first) in frames.iter().zip(&original[1..]) {
        assert_eq!(again.data, first.data);
    }
    let apart = if follower_end > original_end {
        follower_end - original_end
    } else {
        original_end - follower_end
    };
    assert!(apart < Duration::from_millis(100), "{apart:?} apart");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disconnect_logs_cancelled_and_a_reconnect_reads_it() {
    let provider = Slow::new(1000, Duration::from_millis(20));
    let dropped_at = provider.dropped_at.clone();
    let server = start(agent(provider), ServerConfig::default()).await;
    let (socket, id) = open_raw(&server).await;
    let closed_at = Instant::now();
    drop(socket);
    assert_dropped_soon(&dropped_at, closed_at).await;

    let frames = sse_frames(get_events(&server, &id, "", None).await).await;
    let n = frames.len() as u64;
    assert!(n >= 3, "{frames:?}");
    assert_eq!(ids(&frames), (0..n).collect::<Vec<_>>());
    assert_eq!(frames[0].event, "run_start");
    assert_eq!(status_of(frames.last().unwrap()), "cancelled");
    // From the last id the client saw: the rest, then `done`.
    let frames = sse_frames(get_events(&server, &id, "", Some("0")).await).await;
    assert_eq!(ids(&frames), (1..n).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn within_the_resume_window_the_run_continues_live() {
    let provider = Slow::new(10, Duration::from_millis(40));
    let dropped_at = provider.dropped_at.clone();
    let config = ServerConfig::default().resume_window(Duration::from_secs(5));
    let server = start(agent(provider), config).await;
    let (socket, id) = open_raw(&server).await;
    drop(socket);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        dropped_at.lock().unwrap().is_none(),
        "the run was dropped although a window is on"
    );
    let response = get_events(&server, &id, "", Some("1")).await;
    let frames = sse_frames(response).await;
    let n = ids(&frames).last().copied().unwrap() + 1;
    assert_eq!(n, 13);
    assert_eq!(ids(&frames), (2..n).collect::<Vec<_>>());
    assert_eq!(status_of(frames.last().unwrap()), "completed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_reconnect_the_window_ends_cancelled() {
    let provider = Stalling::new(None);
    let dropped_at = provider.dropped_at.clone();
    let window = Duration::from_millis(300);
    let config = ServerConfig::default().resume_window(window).max_runs(1);
    let server = start(agent(provider), config).await;
    let (socket, id) = open_raw(&server).await;
    let closed_at = Instant::now();
    drop(socket);
    // The detached run keeps its permit.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let response = reqwest::Client::new()
        .post(server.url("/chat"))
        .json(&json!({"input": "Hi", "stream": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    let dropped = wait_dropped(&dropped_at, Duration::from_secs(3)).await;
    let after = dropped.saturating_duration_since(closed_at);
    assert!(
        after >= window && after < window + Duration::from_millis(500),
        "dropped after {after:?}"
    );
    let frames = sse_frames(get_events(&server, &id, "", None).await).await;
    assert_eq!(status_of(frames.last().unwrap()), "cancelled");
    assert_eq!(ids(&frames), (0..frames.len() as u64).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_ring_is_410_and_an_unknown_run_404() {
    let config = ServerConfig::default().replay_events(10);
    let server = start(agent(Fast(50)), config).await;
    let response = post_stream(&server).await;
    let id = run_id(&response);
    let n = sse_frames(response).await.len() as u64;
    assert_eq!(n, 53);

    let response = get_events(&server, &id, "&after=5", None).await;
    assert_eq!(response.status(), 410);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "gone");
    let oldest = n - 10;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&format!("oldest kept is id {oldest}")),
        "{body}"
    );
    // The last ten are still there.
    let after = (oldest - 1).to_string();
    let frames = sse_frames(get_events(&server, &id, "", Some(&after)).await).await;
    assert_eq!(ids(&frames), (oldest..n).collect::<Vec<_>>());

    let response = get_events(&server, "run_nope", "", None).await;
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unknown_run");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ended_log_is_evicted_after_its_retention() {
    let config = ServerConfig::default().replay_retention(Duration::from_millis(200));
    let server = start(agent(Fast(2)), config).await;
    let response = post_stream(&server).await;
    let id = run_id(&response);
    sse_frames(response).await;
    assert_eq!(get_events(&server, &id, "", None).await.status(), 200);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(get_events(&server, &id, "", None).await.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reading_a_run_needs_the_token() {
    let config = ServerConfig::default().token("s3cret");
    let server = start(agent(Fast(2)), config).await;
    let response = reqwest::Client::new()
        .get(server.url("/runs/run_x/events"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let response = reqwest::Client::new()
        .get(server.url("/runs/run_x/events"))
        .bearer_auth("s3cret")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_from_another_request_ends_the_stream_and_its_readers_cancelled() {
    let provider = Slow::new(1000, Duration::from_millis(20));
    let dropped_at = provider.dropped_at.clone();
    let server = start(agent(provider), ServerConfig::default()).await;
    let response = post_stream(&server).await;
    let id = run_id(&response);
    let streaming = tokio::spawn(sse_frames(response));
    let follower = tokio::spawn(sse_frames(get_events(&server, &id, "", None).await));
    tokio::time::sleep(Duration::from_millis(100)).await;

    let client = reqwest::Client::new();
    let cancel_url = server.url(&format!("/runs/{id}/cancel"));
    let sent_at = Instant::now();
    let answer = client.post(&cancel_url).send().await.unwrap();
    assert_eq!(answer.status(), 202);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body, json!({"run_id": id, "status": "cancelling"}));
    assert_dropped_soon(&dropped_at, sent_at).await;

    let frames = streaming.await.unwrap();
    assert_eq!(status_of(frames.last().unwrap()), "cancelled");
    let n = frames.len() as u64;
    assert!(n > 3 && n < 100, "{n} frames");
    let followed = follower.await.unwrap();
    assert_eq!(ids(&followed), ids(&frames));
    assert_eq!(status_of(followed.last().unwrap()), "cancelled");

    // An ended run cannot be cancelled again; an unknown one is not found.
    let again = client.post(&cancel_url).send().await.unwrap();
    assert_eq!(again.status(), 409);
    assert_eq!(error_code(again).await, "run_ended");
    let unknown = client
        .post(server.url("/runs/nope/cancel"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    assert_eq!(error_code(unknown).await, "unknown_run");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_reaches_a_run_in_its_resume_window() {
    let provider = Slow::new(1000, Duration::from_millis(20));
    let dropped_at = provider.dropped_at.clone();
    let config = ServerConfig::default().resume_window(Duration::from_secs(30));
    let server = start(agent(provider), config).await;
    let (socket, id) = open_raw(&server).await;
    drop(socket);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(dropped_at.lock().unwrap().is_none());
    let sent_at = Instant::now();
    let answer = reqwest::Client::new()
        .post(server.url(&format!("/runs/{id}/cancel")))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 202);
    assert_dropped_soon(&dropped_at, sent_at).await;
    let frames = sse_frames(get_events(&server, &id, "", None).await).await;
    assert_eq!(status_of(frames.last().unwrap()), "cancelled");
}

async fn error_code(response: reqwest::Response) -> String {
    let body: Value = response.json().await.unwrap();
    body["error"]["code"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn long_ids_and_positions_are_refused_without_being_echoed_whole() {
    let server = demo_server().await;
    let client = reqwest::Client::new();
    let long_id = "r".repeat(10_000);
    for response in [
        get_events(&server, &long_id, "", None).await,
        client
            .post(server.url(&format!("/runs/{long_id}/cancel")))
            .send()
            .await
            .unwrap(),
    ] {
        assert_eq!(response.status(), 400);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "invalid_run_id");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.len() < 300, "{} bytes", message.len());
        assert!(
            message.contains("rrrr") && message.contains("10000 bytes"),
            "{message}"
        );
    }
    // A known run, asked from a position of 309 digits.
    let id = run_id(&post_stream(&server).await);
    let huge = "9".repeat(309);
    for response in [
        get_events(&server, &id, "", Some(&huge)).await,
        get_events(&server, &id, &format!("&after={huge}"), None).await,
    ] {
        assert_eq!(response.status(), 400);
        let body: Value = response.json().await.unwrap();
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.len() < 300, "{message}");
    }
}
