//! Load on the built-in server, over loopback, bounded in count and time.
//!
//! 1. One SSE connection carrying a run of 1,000,000 ready events, with and
//!    without coalescing ready frames into one body chunk: events per second.
//! 2. 10,000 concurrent SSE streams of 100 events each, the events ready at
//!    once, then paced (one every `AGENTOR_LOAD_PACE_MS`, default 200 ms):
//!    total events per second, and p50/p99 of the delay between consecutive
//!    events of a stream as the client sees them.
//! 3. 10,000 open idle streams (a run start, then nothing): the server's
//!    resident memory per stream.
//!
//! The clients of 2 and 3 run in a child process (this binary again), so the
//! server's memory is measured alone and each process stays under its file
//! descriptor limit; they speak HTTP/1.1 over plain sockets (see
//! `server_load/client.rs`: a client library cost more CPU than the server). `cargo bench -p agentor-benches --bench server_load`.
//! Each multi-stream run also reports the CPU used by the server, the client
//! and the rest of the machine, and which of them saturates.
//!
//! `AGENTOR_LOAD_ONLY=paced` (or `one`, `ready`, `idle`, comma-separated)
//! runs only those parts: the idle streams' memory is cleanest measured
//! alone, before the other runs have grown the heap.

#![allow(clippy::print_stdout)] // the report is this program's output

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use agentor_core::{BoxEventStream, ChatRequest, Event, EventResult, Provider, RunStatus, Text};
use agentor_server::{Server, ServerConfig};
use futures::{stream, StreamExt};

#[path = "server_load/client.rs"]
mod client;
#[path = "server_load/cpu.rs"]
mod cpu;

const FIREHOSE_EVENTS: u64 = 1_000_000;
const STREAMS: usize = 10_000;
const EVENTS_PER_STREAM: usize = 100;
/// The time between two events of a paced stream: `AGENTOR_LOAD_PACE_MS`,
/// default 200 ms (10,000 streams then offer 50,000 events/s).
fn pace() -> Duration {
    let ms = std::env::var("AGENTOR_LOAD_PACE_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    Duration::from_millis(ms)
}

/// Yields `events` text deltas as fast as they are pulled.
#[derive(Debug)]
struct Firehose {
    events: u64,
}

impl Provider for Firehose {
    fn stream(&self, _request: ChatRequest) -> BoxEventStream {
        let deltas = (0..self.events).map(|_| Ok(Event::text_delta(Text::from_static("tok "))));
        stream::iter(deltas)
            .chain(stream::iter([Ok(Event::run_end(RunStatus::Completed))]))
            .boxed()
    }
    fn name(&self) -> &str {
        "firehose"
    }
}

/// One text delta every `PACE`, `EVENTS_PER_STREAM` of them.
#[derive(Debug)]
struct Paced;

impl Provider for Paced {
    fn stream(&self, _request: ChatRequest) -> BoxEventStream {
        let pace = pace();
        let ticks = stream::unfold(0usize, move |n| async move {
            if n == EVENTS_PER_STREAM {
                return None;
            }
            tokio::time::sleep(pace).await;
            Some((
                Ok::<_, agentor_core::Error>(Event::text_delta(Text::from_static("tok "))),
                n + 1,
            ))
        });
        ticks
            .chain(stream::iter([Ok(Event::run_end(RunStatus::Completed))]))
            .boxed()
    }
    fn name(&self) -> &str {
        "paced"
    }
}

/// Starts, then says nothing more.
#[derive(Debug)]
struct Idle;

impl Provider for Idle {
    fn stream(&self, _request: ChatRequest) -> BoxEventStream {
        stream::iter([Ok(Event::text_delta(Text::from_static("hello")))])
            .chain(stream::pending::<EventResult>())
            .boxed()
    }
    fn name(&self) -> &str {
        "idle"
    }
}

async fn start(provider: impl Provider + 'static, config: ServerConfig) -> SocketAddr {
    let agent = agentor::Agentor::builder()
        .provider(provider)
        .model("load")
        .build();
    let server = Server::new(agent)
        .config(config)
        .bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = server.local_addr().expect("addr");
    tokio::spawn(server.serve());
    addr
}

fn stream_request(client: &reqwest::Client, addr: SocketAddr) -> reqwest::RequestBuilder {
    client
        .post(format!("http://{addr}/chat?format=native"))
        .json(&serde_json::json!({"input": "go", "stream": true}))
}

fn frames_in(chunk: &[u8]) -> usize {
    chunk.windows(7).filter(|w| *w == b"event: ").count()
}

async fn one_connection(config: ServerConfig) -> (f64, f64) {
    let addr = start(
        Firehose {
            events: FIREHOSE_EVENTS,
        },
        config.max_runs(4),
    )
    .await;
    let client = reqwest::Client::new();
    let started = Instant::now();
    let response = stream_request(&client, addr).send().await.expect("request");
    let mut body = response.bytes_stream();
    let (mut frames, mut chunks) = (0usize, 0usize);
    while let Some(chunk) = body.next().await {
        let chunk = chunk.expect("chunk");
        frames += frames_in(&chunk);
        chunks += 1;
    }
    (
        frames as f64 / started.elapsed().as_secs_f64(),
        frames as f64 / chunks.max(1) as f64,
    )
}

fn resident_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// The client side of 2 and 3, in the child process.
async fn client(addr: SocketAddr, mode: &str) {
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(STREAMS);
    for i in 0..STREAMS {
        let idle = mode == "idle";
        tasks.push(tokio::spawn(async move {
            client::stream_once(addr, idle, EVENTS_PER_STREAM).await
        }));
        // Connect in waves so the listen backlog never overflows.
        if i % 250 == 249 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let mut all_delays = Vec::new();
    let mut frames = 0;
    let mut open = Vec::new();
    let mut failed = 0;
    for task in tasks {
        match task.await.expect("task") {
            Ok(seen) => {
                frames += seen.frames;
                all_delays.extend(seen.delays);
                open.extend(seen.open);
            }
            Err(err) => {
                // The first failure says why; the count says how many.
                if failed == 0 {
                    eprintln!("a stream failed: {err}");
                }
                failed += 1;
            }
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    all_delays.sort_unstable();
    let mut out = std::io::stdout();
    if mode == "idle" {
        writeln!(out, "ready {}", open.len()).expect("stdout");
        out.flush().expect("stdout");
        // Hold the streams open until the parent has measured and kills us.
        std::future::pending::<()>().await;
    }
    writeln!(
        out,
        "done {frames} {elapsed:.3} {} {} {:.2} {failed}",
        percentile(&all_delays, 0.5),
        percentile(&all_delays, 0.99),
        cpu::process_seconds("self"),
    )
    .expect("stdout");
}

fn spawn_client(addr: SocketAddr, mode: &str) -> std::process::Child {
    Command::new(std::env::current_exe().expect("exe"))
        .env("AGENTOR_LOAD_CLIENT", format!("{addr} {mode}"))
        .stdout(Stdio::piped())
        .spawn()
        .expect("client process")
}

/// Runs the streams client of `mode` against `addr` and prints its report.
fn report_streams(addr: SocketAddr, mode: &str, what: String) {
    let usage = cpu::Usage::start();
    let mut child = spawn_client(addr, mode);
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("read");
    child.wait().expect("client");
    let parts: Vec<&str> = line.split_whitespace().collect();
    let frames: f64 = parts[1].parse().expect("frames");
    let secs: f64 = parts[2].parse().expect("secs");
    println!(
        "{STREAMS} concurrent streams x {EVENTS_PER_STREAM} {what}: {:.0} events/s; delay between events p50 {:.1} ms, p99 {:.1} ms",
        frames / secs,
        parts[3].parse::<f64>().expect("p50") / 1000.0,
        parts[4].parse::<f64>().expect("p99") / 1000.0,
    );
    println!("  {}", usage.report(parts[5].parse().expect("cpu"), frames));
    let failed: usize = parts[6].parse().expect("failed");
    if failed > 0 {
        println!("  {failed} of {STREAMS} streams failed (the first error is above)");
    }
}

/// Whether part `name` runs: all of them unless `AGENTOR_LOAD_ONLY` lists some.
fn runs(name: &str) -> bool {
    std::env::var("AGENTOR_LOAD_ONLY")
        .map_or(true, |only| only.split(',').any(|n| n.trim() == name))
}

fn main() {
    // `cargo bench` passes `--bench`; nothing to parse.
    if let Ok(spec) = std::env::var("AGENTOR_LOAD_CLIENT") {
        let (addr, mode) = spec.split_once(' ').expect("spec");
        let addr: SocketAddr = addr.parse().expect("addr");
        let mode = mode.to_owned();
        tokio::runtime::Runtime::new()
            .expect("runtime")
            .block_on(client(addr, &mode));
        return;
    }
    let rt = Arc::new(tokio::runtime::Runtime::new().expect("runtime"));

    println!("server load (loopback, this machine; medians of 3 for the single connection)");
    for coalesce in [true, false].into_iter().filter(|_| runs("one")) {
        let mut rates: Vec<(f64, f64)> = (0..3)
            .map(|_| rt.block_on(one_connection(ServerConfig::default().coalesce(coalesce))))
            .collect();
        rates.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (rate, per_chunk) = rates[1];
        println!(
            "one SSE connection, coalescing {:3}: {:>10.0} events/s ({per_chunk:.1} frames per chunk read)",
            if coalesce { "on" } else { "off" },
            rate
        );
    }

    let config = ServerConfig::default().max_runs(STREAMS * 2);
    if runs("ready") {
        let ready = Firehose {
            events: EVENTS_PER_STREAM as u64,
        };
        let addr = rt.block_on(start(ready, config.clone()));
        report_streams(addr, "ready", "ready events".to_owned());
    }
    if runs("paced") {
        let addr = rt.block_on(start(Paced, config.clone()));
        report_streams(addr, "paced", format!("events (one per {:?})", pace()));
    }
    if !runs("idle") {
        return;
    }
    let addr = rt.block_on(start(Idle, config));
    let before = resident_kib();
    let mut child = spawn_client(addr, "idle");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("read");
    std::thread::sleep(Duration::from_millis(500));
    let after = resident_kib();
    let open: usize = line
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let _ = child.kill();
    let _ = child.wait();
    println!(
        "{open} open idle streams: server resident memory +{} KiB, {:.1} KiB per stream",
        after.saturating_sub(before),
        after.saturating_sub(before) as f64 / open.max(1) as f64
    );
}
