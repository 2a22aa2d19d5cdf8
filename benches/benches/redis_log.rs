//! Appends to the event log: Redis Streams (`RedisLog`, a local
//! `redis-server` of the bench's own) against the in-memory ring
//! (`MemoryLog`), through the interface the server's response body uses —
//! one `append` per body chunk of 256 events — until the run end is in the
//! log (for Redis: `close`, which waits for the writer task to have written
//! it). The baseline for Redis is a hand-written loop doing the same Redis
//! work with nothing of agentor's around it (`redis_hand_written`): each
//! event encoded to native JSON and appended with `XADD … MAXLEN ~` at its
//! id, one pipeline per chunk of 256, awaited in turn: what this machine's
//! Redis can take.
//!
//! `cargo bench -p agentor-benches --bench redis_log -- --sample-size 10 --measurement-time 5`
//!
//! Skipped (with a note on stderr) where `redis-server` is not installed.

#[path = "../../crates/agentor-redis/tests/support/redis_server.rs"]
mod redis_server;

use std::hint::black_box;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use agentor::{Event, RunStatus};
use agentor_redis::{RedisLog, RedisLogConfig};
use agentor_server::event_log::{EventLog, MemoryLog};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tokio_util::sync::CancellationToken;

/// Events per run, the run end included.
const EVENTS: usize = 10_000;
/// Events per `append`: a full body chunk (`COALESCE_EVENTS`).
const CHUNK: usize = 256;

fn run_events() -> Vec<Event> {
    let mut events: Vec<Event> = (0..EVENTS as u64 - 1)
        .map(|id| {
            Event::text_delta("word ")
                .with_seq(id)
                .with_source("Assistant")
                .with_run_id("run_bench")
        })
        .collect();
    events.push(Event::run_end(RunStatus::Completed).with_seq(EVENTS as u64 - 1));
    events
}

/// Appends a whole run to `log` as a response body would, then waits until
/// the log has written it.
async fn append_run(log: &dyn EventLog, run_id: &str, events: &[Event]) {
    let writer = log.start(run_id, CancellationToken::new());
    for chunk in events.chunks(CHUNK) {
        writer.append(chunk.to_vec());
    }
    log.close().await;
}

fn redis_installed() -> bool {
    Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn appends(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let events = run_events();
    let next_run = AtomicU64::new(0);
    let mut group = c.benchmark_group("event_log_append");
    group.throughput(Throughput::Elements(EVENTS as u64));

    let memory = MemoryLog::new(EVENTS, Duration::from_secs(1), 64);
    group.bench_function("memory", |b| {
        b.iter(|| {
            let run_id = format!("run_{}", next_run.fetch_add(1, Ordering::Relaxed));
            runtime.block_on(append_run(black_box(&memory), &run_id, &events));
        });
    });

    if !redis_installed() {
        eprintln!("redis_log: redis-server is not installed; the Redis bench is skipped");
        group.finish();
        return;
    }
    let redis = redis_server::RedisServer::start();
    // Short retention: the bench's runs leave Redis soon after.
    let config = RedisLogConfig::default()
        .max_len(EVENTS)
        .retention(Duration::from_secs(2));
    let log = runtime
        .block_on(RedisLog::connect(&redis.url(), config))
        .expect("the bench's redis-server");
    group.bench_function("redis", |b| {
        b.iter(|| {
            let run_id = format!("run_{}", next_run.fetch_add(1, Ordering::Relaxed));
            runtime.block_on(append_run(black_box(&log), &run_id, &events));
        });
    });
    let client = redis::Client::open(redis.url()).expect("the bench's redis-server");
    let mut conn = runtime
        .block_on(client.get_multiplexed_async_connection())
        .expect("a connection");
    group.bench_function("redis_hand_written", |b| {
        b.iter(|| {
            let key = format!("raw:{}", next_run.fetch_add(1, Ordering::Relaxed));
            runtime.block_on(xadd_run(&mut conn, &key, &events));
        });
    });
    group.finish();
    drop(log);
    drop(redis);
}

/// The Redis work of a run's appends by hand: native JSON, one `XADD` per
/// event at its id, a pipeline per chunk.
async fn xadd_run(conn: &mut redis::aio::MultiplexedConnection, key: &str, events: &[Event]) {
    let mut json = bytes::BytesMut::new();
    for chunk in events.chunks(CHUNK) {
        let mut pipe = redis::pipe();
        for event in chunk {
            json.clear();
            agentor::wire::encode_json(agentor::wire::Format::Native, event, &mut json);
            pipe.cmd("XADD")
                .arg(key)
                .arg("MAXLEN")
                .arg("~")
                .arg(EVENTS)
                .arg(format!("0-{}", event.seq + 1))
                .arg("e")
                .arg(&json[..])
                .ignore();
        }
        pipe.cmd("PEXPIRE").arg(key).arg(2000).ignore();
        pipe.query_async::<()>(conn).await.expect("the pipeline");
    }
}

criterion_group!(benches, appends);
criterion_main!(benches);
