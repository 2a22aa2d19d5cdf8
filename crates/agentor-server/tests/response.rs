//! `EventStreamResponse` in a handler of one's own: the frames of `/chat`,
//! errors as values, NDJSON, heartbeats, and drop = cancel.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use agentor::wire::Format;
use agentor::{Agentor, Error, Event, EventKind, EventResult, RunStatus};
use agentor_server::{router, EventStreamResponse, Framing, ServerConfig};
use axum::body::Body;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::post;
use common::*;
use eventsource_stream::Eventsource;
use futures::{Stream, StreamExt};
use serde_json::{json, Value};

/// `POST /mine {"input": "…"}`: the run streamed by the public type, with
/// the options `/chat` would take from the query.
async fn mine(
    State(agent): State<Agentor>,
    axum::Json(body): axum::Json<Value>,
) -> impl IntoResponse {
    let input = body["input"].as_str().unwrap().to_owned();
    let run_id = Agentor::new_run_id();
    let run = agent.stream_chat_with_run_id(input, run_id.clone());
    EventStreamResponse::new(run)
        .format(Format::Native)
        .run_id(run_id)
}

/// An app with the built-in routes under `/agent` and `/mine` beside them.
async fn serve_both() -> std::net::SocketAddr {
    let agent = demo_agent();
    let app = axum::Router::new()
        .route("/mine", post(mine))
        .with_state(agent.clone())
        .nest("/agent", router(agent, ServerConfig::default()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// A frame with what differs between two runs of the same input (the run
/// id, the clock) taken out.
fn comparable(frame: &eventsource_stream::Event, run_id: &str) -> (String, String, Value) {
    let mut data: Value = serde_json::from_str(&frame.data).unwrap();
    let object = data.as_object_mut().unwrap();
    if let Some(id) = object.remove("run_id") {
        assert_eq!(id, run_id, "every event carries the response's run id");
    }
    object.remove("t_ms");
    (frame.id.clone(), frame.event.clone(), data)
}

#[tokio::test]
async fn frames_and_headers_match_chat_for_the_same_run() {
    let addr = serve_both().await;
    let client = reqwest::Client::new();
    let chat = client
        .post(format!("http://{addr}/agent/chat?format=native"))
        .json(&json!({"input": "Hi there", "stream": true}))
        .send()
        .await
        .unwrap();
    let own = client
        .post(format!("http://{addr}/mine"))
        .json(&json!({"input": "Hi there"}))
        .send()
        .await
        .unwrap();
    let mut run_ids = Vec::new();
    for response in [&chat, &own] {
        let h = response.headers();
        assert_eq!(response.status(), 200);
        assert_eq!(h["content-type"], "text/event-stream");
        assert_eq!(h["cache-control"], "no-cache");
        assert_eq!(h["x-accel-buffering"], "no");
        run_ids.push(h["x-run-id"].to_str().unwrap().to_owned());
    }
    let chat: Vec<_> = sse_frames(chat)
        .await
        .iter()
        .map(|f| comparable(f, &run_ids[0]))
        .collect();
    let own: Vec<_> = sse_frames(own)
        .await
        .iter()
        .map(|f| comparable(f, &run_ids[1]))
        .collect();
    assert!(chat.len() > 3, "a whole run: {chat:?}");
    assert_eq!(own, chat);
    for (i, (id, _, _)) in own.iter().enumerate() {
        assert_eq!(id, &i.to_string(), "ids are gapless");
    }
    assert_eq!(own.last().unwrap().1, "done");
    assert_eq!(own.last().unwrap().2["status"], "completed");
}

fn run_start(run_id: &str) -> EventResult {
    Ok(Event::new(EventKind::RunStart {
        agent: "stub".into(),
        model: None,
    })
    .with_run_id(run_id))
}

/// The response's body, as the frames a client reads.
fn frames(response: EventStreamResponse) -> impl Stream<Item = eventsource_stream::Event> + Unpin {
    response
        .into_response()
        .into_body()
        .into_data_stream()
        .eventsource()
        .map(|frame| frame.unwrap())
}

#[tokio::test]
async fn an_err_item_is_an_error_event_and_done_still_ends_the_stream() {
    // Two deltas sharing a `seq` (as a rebuffering layer sends them), then a
    // failure and no run end.
    let run = futures::stream::iter(vec![
        run_start("r1"),
        Ok(Event::text_delta("Hel").with_seq(1).with_run_id("r1")),
        Ok(Event::text_delta("lo").with_seq(1).with_run_id("r1")),
        Err(Error::provider("upstream closed")),
    ]);
    let response = EventStreamResponse::new(run).format(Format::Native);
    let frames: Vec<_> = frames(response).collect().await;
    let names: Vec<_> = frames.iter().map(|f| f.event.as_str()).collect();
    assert_eq!(
        names,
        ["run_start", "text_delta", "text_delta", "error", "done"]
    );
    for (i, frame) in frames.iter().enumerate() {
        assert_eq!(frame.id, i.to_string());
        let data: Value = serde_json::from_str(&frame.data).unwrap();
        assert_eq!(data["seq"], i, "renumbered");
        assert_eq!(
            data["run_id"], "r1",
            "the run's id, learned from its events"
        );
    }
    let error: Value = serde_json::from_str(&frames[3].data).unwrap();
    assert!(error["message"]
        .as_str()
        .unwrap()
        .contains("upstream closed"));
    let done: Value = serde_json::from_str(&frames[4].data).unwrap();
    assert_eq!(done["status"], RunStatus::Failed.as_str());
}

#[tokio::test]
async fn ndjson_framing_is_one_json_event_per_line() {
    let run = futures::stream::iter(vec![
        run_start("r2"),
        Ok(Event::text_delta("Hi").with_seq(1)),
        Ok(Event::new(EventKind::RunEnd {
            status: RunStatus::Completed,
        })
        .with_seq(2)),
    ]);
    let response = EventStreamResponse::new(run)
        .framing(Framing::Ndjson)
        .format(Format::Native)
        .run_id("r2")
        .into_response();
    assert_eq!(response.headers()["content-type"], "application/x-ndjson");
    assert_eq!(response.headers()["x-run-id"], "r2");
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let text = std::str::from_utf8(&body).unwrap();
    assert!(text.ends_with('\n'));
    let lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let types: Vec<_> = lines.iter().map(|l| l["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["run_start", "text_delta", "run_end"]);
    let seqs: Vec<_> = lines.iter().map(|l| l["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, [0, 1, 2]);
}

#[tokio::test(start_paused = true)]
async fn a_silent_run_gets_heartbeat_comments() {
    let run = futures::stream::iter(vec![run_start("r3")]).chain(futures::stream::pending());
    let response = EventStreamResponse::new(run).heartbeat(Duration::from_secs(5));
    let mut body = response.into_response().into_body().into_data_stream();
    let first = body.next().await.unwrap().unwrap();
    assert!(first.starts_with(b"id: 0\n"), "{first:?}");
    let started = tokio::time::Instant::now();
    for _ in 0..2 {
        let chunk = body.next().await.unwrap().unwrap();
        assert_eq!(&chunk[..], b": keep-alive\n\n");
    }
    assert_eq!(started.elapsed(), Duration::from_secs(10), "one every 5 s");
}

/// A run that never ends and records when it is dropped.
struct RecordsDrop<S> {
    inner: S,
    dropped: Arc<AtomicBool>,
}

impl<S: Stream + Unpin> Stream for RecordsDrop<S> {
    type Item = S::Item;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<S::Item>> {
        self.inner.poll_next_unpin(cx)
    }
}

impl<S> Drop for RecordsDrop<S> {
    fn drop(&mut self) {
        self.dropped.store(true, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn dropping_the_body_drops_the_run() {
    let dropped = Arc::new(AtomicBool::new(false));
    let run = RecordsDrop {
        inner: futures::stream::iter(vec![run_start("r4")]).chain(futures::stream::pending()),
        dropped: dropped.clone(),
    };
    let body: Body = EventStreamResponse::new(run).into_response().into_body();
    let mut frames = body.into_data_stream();
    assert!(frames.next().await.is_some());
    assert!(
        !dropped.load(Ordering::SeqCst),
        "the run goes on while read"
    );
    drop(frames);
    assert!(
        dropped.load(Ordering::SeqCst),
        "dropping the body cancels the run"
    );
}

#[tokio::test]
async fn a_client_that_goes_away_cancels_the_run() {
    let stalling = Stalling::new(None);
    let agent = Agentor::builder().provider(stalling.clone()).build();
    let app = axum::Router::new()
        .route("/mine", post(mine))
        .with_state(agent);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let response = reqwest::Client::new()
        .post(format!("http://{addr}/mine"))
        .json(&json!({"input": "Hi"}))
        .send()
        .await
        .unwrap();
    let mut frames = response.bytes_stream().eventsource();
    assert_eq!(frames.next().await.unwrap().unwrap().event, "run_start");
    drop(frames);
    wait_dropped(&stalling.dropped_at, Duration::from_secs(5)).await;
}

#[tokio::test]
async fn a_triggered_shutdown_ends_the_stream_with_a_cancelled_run_end() {
    let dropped = Arc::new(AtomicBool::new(false));
    let run = RecordsDrop {
        inner: futures::stream::iter(vec![run_start("r5")]).chain(futures::stream::pending()),
        dropped: dropped.clone(),
    };
    let shutdown = agentor_server::Shutdown::new();
    let response = EventStreamResponse::new(run)
        .format(Format::Native)
        .shutdown(&shutdown);
    let mut frames = frames(response);
    assert_eq!(frames.next().await.unwrap().event, "run_start");
    shutdown.trigger();
    let done = frames.next().await.unwrap();
    assert!(dropped.load(Ordering::SeqCst), "the run is dropped first");
    assert_eq!((done.id.as_str(), done.event.as_str()), ("1", "done"));
    let data: Value = serde_json::from_str(&done.data).unwrap();
    assert_eq!(data["status"], RunStatus::Cancelled.as_str());
    assert_eq!(data["run_id"], "r5");
    assert!(frames.next().await.is_none(), "nothing after done");
}
