//! One suite, two backends: every test here runs against the in-memory log
//! shared by two in-process instances, and against a real `redis-server`
//! with each instance on its own `RedisLog`, so the backends cannot drift.
#![allow(clippy::unwrap_used, missing_docs)]

#[path = "../../agentor-server/tests/common/mod.rs"]
mod common;
#[path = "support/redis_server.rs"]
mod redis_server;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use agentor::{Agentor, BoxEventStream, ChatRequest, Event, EventKind, Provider, RunStatus};
use agentor_redis::{RedisLog, RedisLogConfig};
use agentor_server::event_log::MemoryLog;
use agentor_server::ServerConfig;
use common::*;
use futures::StreamExt;
use redis_server::RedisServer;
use serde_json::{json, Value};

/// Which log the two instances share.
#[derive(Clone, Copy, Debug)]
enum Backend {
    Memory,
    Redis,
}

/// The bounds a test wants, in the terms of both backends.
#[derive(Clone, Copy, Debug)]
struct Bounds {
    events: usize,
    retention: Duration,
    lease: Duration,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds {
            events: 1024,
            retention: Duration::from_secs(300),
            lease: Duration::from_secs(5),
        }
    }
}

/// Two instances sharing one log (and the Redis behind it, if any).
struct Cluster {
    a: TestServer,
    b: TestServer,
    redis: Option<RedisServer>,
}

async fn cluster(backend: Backend, agent: Agentor, bounds: Bounds, window: Duration) -> Cluster {
    let base = || {
        ServerConfig::default()
            .resume_window(window)
            .replay_events(bounds.events)
            .replay_retention(bounds.retention)
    };
    match backend {
        Backend::Memory => {
            let log = MemoryLog::new(bounds.events, bounds.retention, 256);
            Cluster {
                a: start(agent.clone(), base().event_log(log.clone())).await,
                b: start(agent, base().event_log(log)).await,
                redis: None,
            }
        }
        Backend::Redis => {
            let redis = RedisServer::start();
            let config = RedisLogConfig::default()
                .max_len(bounds.events)
                .retention(bounds.retention)
                .lease(bounds.lease);
            let log_a = RedisLog::connect(&redis.url(), config.clone())
                .await
                .unwrap();
            let log_b = RedisLog::connect(&redis.url(), config).await.unwrap();
            Cluster {
                a: start(agent.clone(), base().event_log(log_a)).await,
                b: start(agent, base().event_log(log_b)).await,
                redis: Some(redis),
            }
        }
    }
}

/// Runs each test against both backends.
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Backend::Memory).await;
                }
            )*
        }
        mod redis {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Backend::Redis).await;
                }
            )*
        }
    };
}

both_backends!(
    a_reader_cut_on_a_resumes_on_b_with_exactly_the_rest,
    a_follower_on_b_gets_a_live_run_of_a_whole,
    a_cancel_sent_to_b_stops_the_run_on_a_within_100ms,
    past_the_bound_is_410_and_an_unknown_run_404,
    a_finished_run_expires_after_its_retention,
    a_websocket_run_on_a_is_followed_and_cancelled_on_b,
);

/// A provider that sends a run start, `n` deltas `every` apart, a message
/// and a completed run end; records when its stream is dropped.
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
    last_event_id: Option<u64>,
) -> reqwest::Response {
    let mut request =
        reqwest::Client::new().get(server.url(&format!("/runs/{run_id}/events?format=native")));
    if let Some(id) = last_event_id {
        request = request.header("last-event-id", id.to_string());
    }
    request.send().await.unwrap()
}

fn ids(frames: &[eventsource_stream::Event]) -> Vec<u64> {
    frames.iter().map(|f| f.id.parse().unwrap()).collect()
}

fn status_of(frame: &eventsource_stream::Event) -> String {
    assert_eq!(frame.event, "done", "{frame:?}");
    let end: Value = serde_json::from_str(&frame.data).unwrap();
    end["status"].as_str().unwrap().to_owned()
}

async fn error_code(response: reqwest::Response) -> String {
    let body: Value = response.json().await.unwrap();
    body["error"]["code"].as_str().unwrap().to_owned()
}

/// Reads SSE frames until one with id `last`, then drops the connection.
async fn read_until(response: reqwest::Response, last: u64) -> Vec<eventsource_stream::Event> {
    use eventsource_stream::Eventsource;
    let mut frames = Vec::new();
    let mut stream = response.bytes_stream().eventsource();
    while let Some(frame) = stream.next().await {
        let frame = frame.unwrap();
        let id: u64 = frame.id.parse().unwrap();
        frames.push(frame);
        if id == last {
            break;
        }
    }
    frames
}

async fn a_reader_cut_on_a_resumes_on_b_with_exactly_the_rest(backend: Backend) {
    let provider = Slow::new(20, Duration::from_millis(15));
    let window = Duration::from_secs(30);
    let cluster = cluster(backend, agent(provider), Bounds::default(), window).await;
    let response = post_stream(&cluster.a).await;
    let id = run_id(&response);
    // The client on A is cut after id 5; the run goes on (resume window).
    let before = read_until(response, 5).await;
    assert_eq!(ids(&before), (0..=5).collect::<Vec<_>>());
    let frames = sse_frames(get_events(&cluster.b, &id, Some(5)).await).await;
    // run start + 20 deltas + message + run end = ids 0..=22.
    assert_eq!(ids(&frames), (6..=22).collect::<Vec<_>>());
    assert_eq!(status_of(frames.last().unwrap()), "completed");
    let text: String = before
        .iter()
        .chain(&frames)
        .filter(|f| f.event == "text_delta")
        .map(|f| {
            serde_json::from_str::<Value>(&f.data).unwrap()["text"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let expected: String = (0..20).map(|i| format!("w{i} ")).collect();
    assert_eq!(text, expected);
}

async fn a_follower_on_b_gets_a_live_run_of_a_whole(backend: Backend) {
    let provider = Slow::new(10, Duration::from_millis(30));
    let cluster = cluster(backend, agent(provider), Bounds::default(), Duration::ZERO).await;
    let response = post_stream(&cluster.a).await;
    let id = run_id(&response);
    let original = tokio::spawn(sse_frames(response));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let followed = sse_frames(get_events(&cluster.b, &id, None).await).await;
    let original = original.await.unwrap();
    assert_eq!(original.len(), 13);
    assert_eq!(ids(&followed), ids(&original));
    for (again, first) in followed.iter().zip(&original) {
        assert_eq!(again.data, first.data);
        assert_eq!(again.event, first.event);
    }
    assert_eq!(status_of(followed.last().unwrap()), "completed");
}

async fn a_cancel_sent_to_b_stops_the_run_on_a_within_100ms(backend: Backend) {
    let provider = Slow::new(1000, Duration::from_millis(20));
    let dropped_at = provider.dropped_at.clone();
    let cluster = cluster(backend, agent(provider), Bounds::default(), Duration::ZERO).await;
    let response = post_stream(&cluster.a).await;
    let id = run_id(&response);
    let streaming = tokio::spawn(sse_frames(response));
    let follower = tokio::spawn(sse_frames(get_events(&cluster.b, &id, None).await));
    tokio::time::sleep(Duration::from_millis(150)).await;

    let client = reqwest::Client::new();
    let cancel_url = cluster.b.url(&format!("/runs/{id}/cancel"));
    let sent_at = Instant::now();
    let answer = client.post(&cancel_url).send().await.unwrap();
    assert_eq!(answer.status(), 202);
    assert_dropped_soon(&dropped_at, sent_at).await;

    let frames = streaming.await.unwrap();
    assert_eq!(status_of(frames.last().unwrap()), "cancelled");
    let followed = follower.await.unwrap();
    assert_eq!(ids(&followed), ids(&frames));
    assert_eq!(status_of(followed.last().unwrap()), "cancelled");

    // Ended: a second cancel, on either instance, is refused.
    for server in [&cluster.a, &cluster.b] {
        let url = server.url(&format!("/runs/{id}/cancel"));
        let again = client.post(&url).send().await.unwrap();
        assert_eq!(again.status(), 409);
        assert_eq!(error_code(again).await, "run_ended");
    }
    let unknown = client
        .post(cluster.b.url("/runs/nope/cancel"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    assert_eq!(error_code(unknown).await, "unknown_run");
}

async fn past_the_bound_is_410_and_an_unknown_run_404(backend: Backend) {
    let bounds = Bounds {
        events: 10,
        ..Bounds::default()
    };
    // Redis trims whole nodes (`MAXLEN ~`): enough events that some go.
    let cluster = cluster(backend, agent(Fast(500)), bounds, Duration::ZERO).await;
    let response = post_stream(&cluster.a).await;
    let id = run_id(&response);
    let n = sse_frames(response).await.len() as u64;
    assert_eq!(n, 503);

    let response = get_events(&cluster.b, &id, Some(5)).await;
    assert_eq!(response.status(), 410);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "gone");
    let message = body["error"]["message"].as_str().unwrap();
    let oldest: u64 = message.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(oldest > 6 && oldest <= n - 10, "{message}");
    // What is kept reads whole, from the oldest kept to the end.
    let frames = sse_frames(get_events(&cluster.b, &id, Some(oldest - 1)).await).await;
    assert_eq!(ids(&frames), (oldest..n).collect::<Vec<_>>());
    assert_eq!(status_of(frames.last().unwrap()), "completed");

    // Not sent yet: 400; a bad id: 400; unknown runs: 404.
    let response = get_events(&cluster.b, &id, Some(n + 5)).await;
    assert_eq!(response.status(), 400);
    for unknown in ["run_nope", "run:nope%3Alease"] {
        let response = get_events(&cluster.b, unknown, None).await;
        assert_eq!(response.status(), 404, "{unknown}");
        assert_eq!(error_code(response).await, "unknown_run");
    }
}

async fn a_finished_run_expires_after_its_retention(backend: Backend) {
    let bounds = Bounds {
        retention: Duration::from_millis(300),
        ..Bounds::default()
    };
    let cluster = cluster(backend, agent(Fast(3)), bounds, Duration::ZERO).await;
    let response = post_stream(&cluster.a).await;
    let id = run_id(&response);
    sse_frames(response).await;
    let frames = sse_frames(get_events(&cluster.b, &id, None).await).await;
    assert_eq!(status_of(frames.last().unwrap()), "completed");
    tokio::time::sleep(Duration::from_millis(600)).await;
    let response = get_events(&cluster.b, &id, None).await;
    assert_eq!(response.status(), 404);
    if let Some(redis) = &cluster.redis {
        // Every key of the run is gone, not just unread.
        let mut conn = redis
            .client()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        let keys: Vec<String> = ::redis::cmd("KEYS")
            .arg(format!("agentor:run:{id}*"))
            .query_async(&mut conn)
            .await
            .unwrap();
        assert!(keys.is_empty(), "{keys:?}");
    }
}

/// Redis-only: Redis killed mid-run and started again, empty (no
/// persistence). The producer's own client gets every event; a reader on
/// the other instance ends with an error frame (never hangs); resume there
/// answers `503` while Redis is away; once it is back the run's stream
/// carries the rest of the run and its run end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_restarted_mid_run() {
    let provider = Slow::new(60, Duration::from_millis(25));
    let mut cluster = cluster(
        Backend::Redis,
        agent(provider),
        Bounds::default(),
        Duration::ZERO,
    )
    .await;
    let response = post_stream(&cluster.a).await;
    let id = run_id(&response);
    let own = tokio::spawn(sse_frames(response));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let follower = tokio::spawn(sse_frames(get_events(&cluster.b, &id, None).await));
    tokio::time::sleep(Duration::from_millis(200)).await;

    let redis = cluster.redis.as_mut().unwrap();
    redis.stop();
    let followed = tokio::time::timeout(Duration::from_secs(5), follower)
        .await
        .expect("a reader hung while Redis was down")
        .unwrap();
    let last = followed.last().unwrap();
    assert_eq!(last.event, "error", "{followed:?}");
    assert!(last.id.is_empty() || last.id == followed[followed.len() - 2].id);
    let response = get_events(&cluster.b, &id, Some(3)).await;
    assert_eq!(response.status(), 503);
    assert_eq!(error_code(response).await, "log_unavailable");
    tokio::time::sleep(Duration::from_millis(300)).await;
    redis.restart();

    // The producer's client never noticed.
    let frames = own.await.unwrap();
    assert_eq!(ids(&frames), (0..63).collect::<Vec<_>>());
    assert_eq!(status_of(frames.last().unwrap()), "completed");

    // Back: the events logged before the restart are lost with Redis's
    // data (410 from the start); what was written since reads whole, to
    // the run end.
    let deadline = Instant::now() + Duration::from_secs(10);
    let oldest = loop {
        let response = get_events(&cluster.b, &id, Some(0)).await;
        if response.status() == 410 {
            let body: Value = response.json().await.unwrap();
            let message = body["error"]["message"].as_str().unwrap().to_owned();
            break message.rsplit(' ').next().unwrap().parse::<u64>().unwrap();
        }
        assert!(
            [503, 404].contains(&response.status().as_u16()) && Instant::now() < deadline,
            "{}",
            response.status()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let frames = tokio::time::timeout(
        Duration::from_secs(10),
        sse_frames(get_events(&cluster.b, &id, Some(oldest - 1)).await),
    )
    .await
    .unwrap();
    assert_eq!(ids(&frames), (oldest..63).collect::<Vec<_>>());
    assert_eq!(status_of(frames.last().unwrap()), "completed");
}

/// Redis-only: a producer that drops its log without a run end (a bug, or
/// a panic in the body) leaves no writer renewing its lease: readers end the
/// run `failed` with the `interrupted` error within the lease.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_dropped_without_a_run_end_is_noticed_within_the_lease() {
    use agentor_server::event_log::EventLog;
    let redis = RedisServer::start();
    let config = RedisLogConfig::default().lease(Duration::from_millis(300));
    let producer = RedisLog::connect(&redis.url(), config.clone())
        .await
        .unwrap();
    let reader = RedisLog::connect(&redis.url(), config).await.unwrap();
    let writer = producer.start("run_dropped", tokio_util::sync::CancellationToken::new());
    writer.append(vec![Event::text_delta("a")
        .with_seq(0)
        .with_run_id("run_dropped")]);
    let mut batches = reader.read("run_dropped", 0).await.unwrap();
    let first = batches.next().await.unwrap().unwrap();
    assert_eq!(first.len(), 1);
    let dropped_at = Instant::now();
    drop(writer);
    let mut rest = Vec::new();
    let collect = async {
        while let Some(batch) = batches.next().await {
            rest.extend(batch.unwrap());
        }
    };
    tokio::time::timeout(Duration::from_secs(3), collect)
        .await
        .unwrap();
    let took = dropped_at.elapsed();
    assert!(took < Duration::from_millis(300 + 60 + 400), "{took:?}");
    let kinds: Vec<_> = rest.iter().map(|e| (e.seq, e.kind().as_str())).collect();
    assert_eq!(kinds, [(1, "error"), (2, "run_end")]);
    assert!(matches!(
        rest[1].kind,
        EventKind::RunEnd {
            status: RunStatus::Failed
        }
    ));
    assert_eq!(rest[1].origin.run_id.as_deref(), Some("run_dropped"));
}

/// Redis-only: a cancel of a run whose producer is gone (no lease, no run
/// end yet) ends the run `cancelled` in the stream at once: every reader
/// gets that end, and the lease expiry adds nothing after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_of_a_run_without_producer_ends_it_cancelled() {
    use agentor_server::event_log::{EventLog, LogError};
    let redis = RedisServer::start();
    let config = RedisLogConfig::default().lease(Duration::from_secs(5));
    let producer = RedisLog::connect(&redis.url(), config.clone())
        .await
        .unwrap();
    let other = RedisLog::connect(&redis.url(), config).await.unwrap();
    let writer = producer.start("run_orphan", tokio_util::sync::CancellationToken::new());
    writer.append(vec![Event::text_delta("a")
        .with_seq(0)
        .with_run_id("run_orphan")]);
    let mut batches = other.read("run_orphan", 0).await.unwrap();
    assert_eq!(batches.next().await.unwrap().unwrap().len(), 1);
    // The producer is lost: its lease goes (as when it expires).
    drop(writer);
    drop(producer);
    let mut conn = redis
        .client()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let () = ::redis::cmd("DEL")
        .arg("agentor:run:run_orphan:lease")
        .query_async(&mut conn)
        .await
        .unwrap();
    other.cancel("run_orphan").await.unwrap();
    let rest = tokio::time::timeout(Duration::from_secs(2), batches.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(rest.len(), 2);
    assert_eq!(rest[0].kind().as_str(), "error");
    assert!(matches!(
        rest[1].kind,
        EventKind::RunEnd {
            status: RunStatus::Cancelled
        }
    ));
    assert_eq!(other.cancel("run_orphan").await, Err(LogError::RunEnded));
}

async fn a_websocket_run_on_a_is_followed_and_cancelled_on_b(backend: Backend) {
    use futures::SinkExt;
    use tokio_tungstenite::tungstenite::Message;

    let provider = Slow::new(1000, Duration::from_millis(20));
    let dropped_at = provider.dropped_at.clone();
    let cluster = cluster(backend, agent(provider), Bounds::default(), Duration::ZERO).await;
    let url = format!("ws://{}/ws?format=native", cluster.a.addr);
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    socket
        .send(Message::text(json!({"input": "Hi"}).to_string()))
        .await
        .unwrap();
    let mut frames: Vec<Value> = Vec::new();
    frames.push(ws_frame(&mut socket).await);
    let id = frames[0]["run_id"].as_str().unwrap().to_owned();
    let follower = tokio::spawn(sse_frames(get_events(&cluster.b, &id, None).await));
    tokio::time::sleep(Duration::from_millis(150)).await;

    let sent_at = Instant::now();
    let cancel_url = cluster.b.url(&format!("/runs/{id}/cancel"));
    let answer = reqwest::Client::new()
        .post(&cancel_url)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 202);
    assert_dropped_soon(&dropped_at, sent_at).await;
    loop {
        let frame = ws_frame(&mut socket).await;
        let end = frame["type"] == "run_end";
        frames.push(frame);
        if end {
            break;
        }
    }
    assert_eq!(frames.last().unwrap()["status"], "cancelled");
    // The follower on B got every frame the socket got, with the same ids.
    let followed = follower.await.unwrap();
    let socket_ids: Vec<u64> = frames.iter().map(|f| f["seq"].as_u64().unwrap()).collect();
    assert_eq!(ids(&followed), socket_ids);
    assert_eq!(socket_ids, (0..socket_ids.len() as u64).collect::<Vec<_>>());
    assert_eq!(status_of(followed.last().unwrap()), "cancelled");

    // The socket takes the next run; one closed mid-run ends `cancelled` in the log.
    socket
        .send(Message::text(json!({"input": "again"}).to_string()))
        .await
        .unwrap();
    let first = ws_frame(&mut socket).await;
    let second = first["run_id"].as_str().unwrap().to_owned();
    assert_ne!(second, id);
    let follower = tokio::spawn(sse_frames(get_events(&cluster.b, &second, None).await));
    tokio::time::sleep(Duration::from_millis(100)).await;
    drop(socket);
    let followed = tokio::time::timeout(Duration::from_secs(5), follower)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status_of(followed.last().unwrap()), "cancelled");
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next text frame of `socket` as JSON, within 5 s.
async fn ws_frame(socket: &mut Socket) -> Value {
    use tokio_tungstenite::tungstenite::Message;
    let read = async move {
        loop {
            match socket.next().await.unwrap().unwrap() {
                Message::Text(text) => return serde_json::from_str::<Value>(&text).unwrap(),
                Message::Ping(_) | Message::Pong(_) => {}
                other => panic!("unexpected frame {other:?}"),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(5), read)
        .await
        .unwrap()
}
