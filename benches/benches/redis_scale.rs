//! The shared event log across two instances, as a bench binary (each part
//! bounded, the whole well under 2 min): in-process `agentor-server`
//! instances on loopback, a `redis-server` of the bench's own, against the
//! in-memory log shared by the two instances in the same run.
//!
//! - `chat`: what logging adds per event on `POST /chat` (a run of 2 000
//!   deltas streamed as SSE, read to its end), median of 15 runs;
//! - `resume`: a client reads on A to id 100 of a live run, drops, and
//!   reconnects to B with `Last-Event-ID`; the time to the first missed
//!   event, p50 and p99 over 200 reconnects;
//! - `concurrent`: 1 000 runs at once, half on each instance, each read to
//!   its `done`: how many completed, and the wall time.
//!
//! `cargo bench -p agentor-benches --bench redis_scale`
//!
//! Skipped (with a note on stderr) where `redis-server` is not installed.
#![allow(clippy::print_stdout, clippy::print_stderr, clippy::unwrap_used)]

#[path = "../../crates/agentor-redis/tests/support/redis_server.rs"]
mod redis_server;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use agentor::{Agentor, BoxEventStream, ChatRequest, Event, Provider, RunStatus};
use agentor_redis::{RedisLog, RedisLogConfig};
use agentor_server::event_log::{EventLog, MemoryLog};
use agentor_server::{Server, ServerConfig};
use eventsource_stream::Eventsource;
use futures::StreamExt;

/// `n` deltas, `every` apart (none if zero), a message and a run end.
#[derive(Clone, Debug)]
struct Steady {
    n: usize,
    every: Duration,
}

impl Provider for Steady {
    fn stream(&self, _request: ChatRequest) -> BoxEventStream {
        let every = self.every;
        let deltas = futures::stream::iter(0..self.n).then(move |i| async move {
            if !every.is_zero() {
                tokio::time::sleep(every).await;
            }
            Ok(Event::text_delta(format!("w{i} ")))
        });
        let end = futures::stream::iter([
            Ok(Event::message("done")),
            Ok(Event::run_end(RunStatus::Completed)),
        ]);
        Box::pin(deltas.chain(end))
    }

    fn name(&self) -> &str {
        "steady"
    }
}

struct Pair {
    a: String,
    b: String,
}

async fn serve(agent: Agentor, log: impl EventLog) -> String {
    let config = ServerConfig::default()
        .event_log(log)
        .max_runs(2048)
        .resume_window(Duration::from_secs(10));
    let bound = Server::new(agent)
        .config(config)
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let addr = bound.local_addr().unwrap();
    tokio::spawn(bound.serve());
    format!("http://{addr}")
}

async fn pair(agent: Agentor, a: impl EventLog, b: impl EventLog) -> Pair {
    Pair {
        a: serve(agent.clone(), a).await,
        b: serve(agent, b).await,
    }
}

/// Streams one `/chat` run from `base` to its end; the frames read and
/// whether the last said `completed`.
/// A failed request or a broken body counts as not completed.
async fn chat(client: &reqwest::Client, base: &str) -> (usize, bool) {
    let sent = client
        .post(format!("{base}/chat?format=native"))
        .json(&serde_json::json!({"input": "Hi", "stream": true}))
        .send()
        .await;
    let Ok(response) = sent else {
        return (0, false);
    };
    let mut frames = response.bytes_stream().eventsource();
    let (mut count, mut completed) = (0, false);
    while let Some(frame) = frames.next().await {
        let Ok(frame) = frame else {
            return (count, false);
        };
        count += 1;
        if frame.event == "done" {
            completed = frame.data.contains("\"completed\"");
        }
    }
    (count, completed)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn percentile(values: &mut [Duration], p: f64) -> Duration {
    values.sort();
    let at = ((values.len() as f64 - 1.0) * p).round() as usize;
    values[at]
}

const CHAT_EVENTS: usize = 2000;

/// Median ns per event of a `/chat` run on instance A.
async fn chat_cost(pair: &Pair) -> f64 {
    let client = reqwest::Client::new();
    chat(&client, &pair.a).await; // warm up
    let mut per_event = Vec::new();
    for _ in 0..15 {
        let started = Instant::now();
        let (frames, completed) = chat(&client, &pair.a).await;
        assert!(completed);
        per_event.push(started.elapsed().as_nanos() as f64 / frames as f64);
    }
    median(per_event)
}

/// p50 and p99 of the first missed event after a reconnect on B.
async fn resume_latency(pair: &Pair) -> (Duration, Duration) {
    let client = reqwest::Client::new();
    let mut latencies = Vec::new();
    for _ in 0..200 {
        let response = client
            .post(format!("{}/chat?format=native", pair.a))
            .json(&serde_json::json!({"input": "Hi", "stream": true}))
            .send()
            .await
            .unwrap();
        let run_id = response.headers()["x-run-id"].to_str().unwrap().to_owned();
        let mut frames = response.bytes_stream().eventsource();
        while let Some(frame) = frames.next().await {
            if frame.unwrap().id == "100" {
                break;
            }
        }
        drop(frames);
        let started = Instant::now();
        let response = client
            .get(format!("{}/runs/{run_id}/events?format=native", pair.b))
            .header("last-event-id", "100")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let mut frames = response.bytes_stream().eventsource();
        let first = frames.next().await.unwrap().unwrap();
        latencies.push(started.elapsed());
        assert_eq!(first.id, "101");
    }
    (
        percentile(&mut latencies, 0.5),
        percentile(&mut latencies, 0.99),
    )
}

/// 1 000 runs at once over both instances; how many completed, and when.
async fn concurrent(pair: &Pair) -> (usize, Duration) {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(1024)
        .build()
        .unwrap();
    let started = Instant::now();
    let runs = (0..1000).map(|i| {
        let client = client.clone();
        let base = if i % 2 == 0 {
            pair.a.clone()
        } else {
            pair.b.clone()
        };
        tokio::spawn(async move { chat(&client, &base).await })
    });
    let mut completed = 0;
    for run in futures::future::join_all(runs).await {
        let (frames, done) = run.unwrap();
        // Every event of the run: 50 deltas and more, ending `completed`.
        completed += usize::from(done && frames > 50);
    }
    (completed, started.elapsed())
}

fn redis_installed() -> bool {
    Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    if !redis_installed() {
        eprintln!("redis_scale: redis-server is not installed; skipped");
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let redis = redis_server::RedisServer::start();
        let config = RedisLogConfig::default().retention(Duration::from_secs(30));
        let memory = MemoryLog::new(4096, Duration::from_secs(30), 4096);
        let redis_a = RedisLog::connect(&redis.url(), config.clone()).await.unwrap();
        let redis_b = RedisLog::connect(&redis.url(), config).await.unwrap();

        let fast = |n| Agentor::builder().provider(Steady { n, every: Duration::ZERO }).build();
        let on_memory = pair(fast(CHAT_EVENTS), memory.clone(), memory.clone()).await;
        let on_redis = pair(fast(CHAT_EVENTS), redis_a.clone(), redis_b.clone()).await;
        let (m, r) = (chat_cost(&on_memory).await, chat_cost(&on_redis).await);
        println!("chat: ns/event median: memory {m:.0}, redis {r:.0}, redis/memory {:.2}, added {:.0} ns/event", r / m, r - m);

        let live = || {
            Agentor::builder()
                .provider(Steady { n: 300, every: Duration::from_micros(200) })
                .build()
        };
        let on_memory = pair(live(), memory.clone(), memory.clone()).await;
        let on_redis = pair(live(), redis_a.clone(), redis_b.clone()).await;
        let (m50, m99) = resume_latency(&on_memory).await;
        let (r50, r99) = resume_latency(&on_redis).await;
        println!("resume on B, first missed event: memory p50 {m50:?} p99 {m99:?}; redis p50 {r50:?} p99 {r99:?}");

        let small = || Agentor::builder().provider(Steady { n: 50, every: Duration::from_millis(1) }).build();
        let on_memory = pair(small(), memory.clone(), memory.clone()).await;
        let on_redis = pair(small(), redis_a.clone(), redis_b.clone()).await;
        let (mc, mt) = concurrent(&on_memory).await;
        let (rc, rt) = concurrent(&on_redis).await;
        println!("1000 concurrent runs over two instances: memory {mc}/1000 complete in {mt:?}; redis {rc}/1000 complete in {rt:?}");
        drop(redis);
    });
}
