//! Fan-in across processes on Redis Streams: two child processes each run
//! an agent and publish its events with a `RedisSink`; this process merges
//! both runs with a `RedisSource` and prints them live, tagged by run.
//!
//! The example starts its own `redis-server` (a free loopback port, a temp
//! dir, no persistence) and stops it at the end. It exits non-zero if any
//! event is missing: each run must arrive whole (ids 0, 1, … with no gap,
//! as many as its publisher sent, ending `completed`). See
//! `docs/scale-out.md`.
//!
//! Run it with `cargo run -p agentor-examples --example redis_fan_in`
//! (`redis-server` must be installed).
#![allow(clippy::print_stdout, clippy::print_stderr)] // printing the merged events is the point

use std::collections::BTreeMap;
use std::net::{TcpListener, TcpStream};
use std::process::Stdio;
use std::time::{Duration, Instant};

use agentor::providers::Demo;
use agentor::{Agentor, EventKind, RunStatus};
use agentor_redis::{RedisLog, RedisLogConfig, RedisSource};
use futures::StreamExt;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

type Error = Box<dyn std::error::Error>;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().collect();
    if let [_, role, url, run_id] = args.as_slice() {
        if role == "--publish" {
            return publish(url, run_id).await;
        }
    }
    match tokio::time::timeout(Duration::from_secs(45), merge()).await {
        Ok(result) => result,
        Err(_) => Err("the example did not finish within 45 s".into()),
    }
}

/// A child: runs an agent and appends its events to `run_id`'s stream;
/// says `ready` once connected and `sent N` at the end.
async fn publish(url: &str, run_id: &str) -> Result<(), Error> {
    let log = RedisLog::connect(url, RedisLogConfig::default()).await?;
    let agent = Agentor::builder()
        .name(format!("worker-{run_id}"))
        .provider(Demo::with_delay(Duration::from_millis(3)))
        .build();
    println!("ready");
    let events = agent
        .stream_chat("Tell me about Redis Streams")
        .into_inner();
    let sent = log.sink(run_id)?.send_all(events).await?;
    println!("sent {sent}");
    Ok(())
}

/// The parent: its own `redis-server`, two publishers, the merge.
async fn merge() -> Result<(), Error> {
    let redis = Redis::start()?;
    let url = redis.url();
    let tag = std::process::id();
    let runs = [format!("fanin_{tag}_a"), format!("fanin_{tag}_b")];
    let exe = std::env::current_exe()?;
    let mut children = Vec::new();
    for run in &runs {
        let mut child = Command::new(&exe)
            .args(["--publish", &url, run])
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        if lines.next_line().await?.as_deref() != Some("ready") {
            return Err(format!("publisher of {run} did not start").into());
        }
        children.push((run.clone(), child, lines));
    }

    let log = RedisLog::connect(&url, RedisLogConfig::default()).await?;
    let mut source = RedisSource::runs(&log, runs.clone());
    let mut received: BTreeMap<String, Vec<agentor::Event>> = BTreeMap::new();
    while let Some(item) = source.next().await {
        let event = item?;
        let run = event.origin.run_id.as_deref().unwrap_or("?").to_owned();
        match &event.kind {
            EventKind::TextDelta { text, .. } => println!("[{run}] {text}"),
            EventKind::RunEnd { status } => println!("[{run}] run end: {status:?}"),
            other => println!("[{run}] {}", kind_name(other)),
        }
        received.entry(run).or_default().push(event);
    }

    let mut failures = Vec::new();
    for (run, child, lines) in &mut children {
        let status = wait(child).await?;
        let sent = next_count(lines).await?;
        let events = received.get(run.as_str()).map_or(&[][..], Vec::as_slice);
        let ids_ok = events.iter().enumerate().all(|(i, e)| e.seq == i as u64);
        let completed = events.last().is_some_and(|e| {
            matches!(
                e.kind,
                EventKind::RunEnd {
                    status: RunStatus::Completed
                }
            )
        });
        let text: usize = events
            .iter()
            .filter(|e| matches!(e.kind, EventKind::TextDelta { .. }))
            .count();
        println!(
            "{run}: publisher sent {sent}, received {} ({text} text deltas), ids contiguous: {ids_ok}, completed: {completed}",
            events.len()
        );
        if !status.success() || sent != events.len() as u64 || !ids_ok || !completed || text == 0 {
            failures.push(run.clone());
        }
    }
    if failures.is_empty() {
        println!("both runs arrived whole, merged live");
        Ok(())
    } else {
        Err(format!("runs with missing events: {failures:?}").into())
    }
}

fn kind_name(kind: &EventKind) -> &'static str {
    match kind {
        EventKind::RunStart { .. } => "run start",
        EventKind::Message { .. } => "message",
        EventKind::Usage { .. } => "usage",
        EventKind::Error { .. } => "error",
        _ => "event",
    }
}

async fn wait(child: &mut Child) -> Result<std::process::ExitStatus, Error> {
    Ok(tokio::time::timeout(Duration::from_secs(10), child.wait()).await??)
}

async fn next_count(
    lines: &mut tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
) -> Result<u64, Error> {
    let line = lines.next_line().await?.unwrap_or_default();
    Ok(line
        .strip_prefix("sent ")
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("publisher said {line:?}"))?)
}

/// A `redis-server` of the example's own, killed when dropped.
struct Redis {
    port: u16,
    dir: std::path::PathBuf,
    child: std::process::Child,
}

impl Redis {
    fn start() -> Result<Redis, Error> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let dir = std::env::temp_dir().join(format!("agentor-fan-in-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let child = std::process::Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .arg("--dir")
            .arg(&dir)
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start redis-server (is it installed?): {e}"))?;
        let redis = Redis { port, dir, child };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                return Err("redis-server did not start within 10 s".into());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Ok(redis)
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
