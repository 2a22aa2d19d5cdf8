//! Connection health: heartbeats on an idle SSE stream, `GET /health`,
//! resuming a run after a lost connection with `Last-Event-ID`, and a client
//! disconnect cancelling its run.
//!
//! - While a slow tool runs, nothing is sent; the server writes `: keep-alive`
//!   comments (every 15 s by default, 50 ms here) so proxies keep the
//!   connection open. SSE clients ignore them.
//! - The client drops its connection mid-run and reads the rest from
//!   `GET /runs/{run_id}/events` with `Last-Event-ID`: the ids continue
//!   exactly, nothing is missed or repeated. (A resume window keeps the run
//!   going meanwhile; without one the run is cancelled at the disconnect.)
//! - On a server without a resume window, a client that disconnects drops its
//!   run: the running tool is aborted within milliseconds, and the run's log
//!   ends with a `cancelled` run end.
//!
//! Run it with `cargo run -p agentor-examples --example connection_health`.
#![allow(clippy::print_stdout)] // printing what each step saw is the point

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use agentor::providers::Demo;
use agentor::wire::native;
use agentor::{Agentor, Event, RunStatus, Tool, ToolError};
use agentor_server::{Server, ServerConfig, Shutdown, LAST_EVENT_ID_HEADER, RUN_ID_HEADER};
use eventsource_stream::Eventsource;
use futures::StreamExt;
use serde_json::{json, Value};
use tokio::sync::Notify;

type BoxError = Box<dyn std::error::Error>;

/// Signals when dropped: the tool's future was dropped, i.e. the run was cancelled.
struct DropSignal(Option<Arc<Notify>>);

impl DropSignal {
    /// The work finished: nothing was cancelled.
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for DropSignal {
    fn drop(&mut self) {
        if let Some(dropped) = self.0.take() {
            dropped.notify_one();
        }
    }
}

/// An agent whose tool takes `tool_time`, and signals `dropped` if cancelled.
fn agent(tool_time: Duration, dropped: Arc<Notify>) -> Agentor {
    let lookup = Tool::new(
        "get_weather",
        "The current weather in a city.",
        json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
        move |args: Value| {
            let signal = DropSignal(Some(dropped.clone()));
            async move {
                tokio::time::sleep(tool_time).await;
                signal.disarm();
                Ok::<_, ToolError>(format!("18°C in {}", args["city"]))
            }
        },
    );
    Agentor::builder()
        .name("Weather")
        .tool(lookup)
        .provider(Demo::with_delay(Duration::from_millis(5)))
        .build()
}

/// Serves `agent` on 127.0.0.1:0; returns its address and shutdown handle.
async fn serve(agent: Agentor, config: ServerConfig) -> Result<(String, Shutdown), BoxError> {
    let server = Server::new(agent)
        .config(config)
        .bind("127.0.0.1:0")
        .await?;
    let addr = format!("http://{}", server.local_addr()?);
    let shutdown = server.shutdown_handle();
    tokio::spawn(server.serve_with_shutdown(std::future::pending()));
    Ok((addr, shutdown))
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let client = reqwest::Client::new();
    let never = Arc::new(Notify::new());
    let config = ServerConfig::default()
        .heartbeat(Duration::from_millis(50))
        .resume_window(Duration::from_secs(5));
    let (base, shutdown) = serve(agent(Duration::from_millis(300), never), config).await?;

    // 1. Liveness: never behind the token, never streaming.
    let health: Value = client
        .get(format!("{base}/health"))
        .send()
        .await?
        .json()
        .await?;
    println!("GET /health → {health}");
    assert_eq!(health, json!({"status": "ok"}));

    // 2. Heartbeats while the tool runs, then a lost connection and a resume.
    let response = client
        .post(format!("{base}/chat?format=native"))
        .json(&json!({"input": "Paris", "stream": true}))
        .send()
        .await?;
    let run_id = response.headers()[RUN_ID_HEADER].to_str()?.to_owned();
    let heartbeats = Arc::new(AtomicUsize::new(0));
    let counter = heartbeats.clone();
    let mut frames = response
        .bytes_stream()
        .inspect(move |chunk| {
            if let Ok(bytes) = chunk {
                let n = bytes.windows(12).filter(|w| w == b": keep-alive").count();
                counter.fetch_add(n, Ordering::Relaxed);
            }
        })
        .eventsource();
    let (mut text, mut last_id, mut deltas_after_tool) = (String::new(), 0u64, None);
    while let Some(frame) = frames.next().await {
        let frame = frame?;
        last_id = frame.id.parse()?;
        let event = native::decode(frame.data.as_bytes())?;
        if frame.event == "tool_result" {
            deltas_after_tool = Some(0);
        }
        if frame.event == "text_delta" {
            text.push_str(event.text().unwrap_or_default());
            deltas_after_tool = deltas_after_tool.map(|n| n + 1);
        }
        if deltas_after_tool == Some(3) {
            break; // the connection drops mid-answer
        }
    }
    drop(frames);
    let beats = heartbeats.load(Ordering::Relaxed);
    println!("first connection: {beats} heartbeats while the tool ran, lost after id {last_id}");
    assert!(beats >= 2, "heartbeats kept the idle stream alive");

    tokio::time::sleep(Duration::from_millis(50)).await;
    let resumed = client
        .get(format!("{base}/runs/{run_id}/events?format=native"))
        .header(LAST_EVENT_ID_HEADER, last_id.to_string())
        .send()
        .await?
        .error_for_status()?;
    let mut frames = resumed.bytes_stream().eventsource();
    let (mut next_id, mut message, mut status) = (last_id + 1, None, None);
    while let Some(frame) = frames.next().await {
        let frame = frame?;
        assert_eq!(frame.id, next_id.to_string(), "ids continue exactly");
        next_id += 1;
        let event = native::decode(frame.data.as_bytes())?;
        match frame.event.as_str() {
            "text_delta" => text.push_str(event.text().unwrap_or_default()),
            "message" => message = event.text().map(str::to_owned),
            _ => {}
        }
        status = event.run_status().or(status);
    }
    println!(
        "resumed after {last_id}: read ids {}..{}, run {status:?}",
        last_id + 1,
        next_id - 1
    );
    assert_eq!(status, Some(RunStatus::Completed));
    assert_eq!(
        Some(text),
        message,
        "the two connections together carry the whole answer"
    );
    shutdown.trigger();

    // 3. No resume window: a disconnect cancels the run and its tool.
    let dropped = Arc::new(Notify::new());
    let (base, shutdown) = serve(
        agent(Duration::from_secs(30), dropped.clone()),
        ServerConfig::default(),
    )
    .await?;
    let response = client
        .post(format!("{base}/chat?format=native"))
        .json(&json!({"input": "Paris", "stream": true}))
        .send()
        .await?;
    let run_id = response.headers()[RUN_ID_HEADER].to_str()?.to_owned();
    let mut frames = response.bytes_stream().eventsource();
    while let Some(frame) = frames.next().await {
        if frame?.event == "tool_call" {
            break; // the 30 s tool is running now
        }
    }
    let gone = Instant::now();
    drop(frames);
    tokio::time::timeout(Duration::from_secs(2), dropped.notified()).await?;
    println!(
        "client disconnected: tool cancelled after {:?}",
        gone.elapsed()
    );

    let log = client
        .get(format!("{base}/runs/{run_id}/events?format=native"))
        .send()
        .await?
        .text()
        .await?;
    let last = log
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("data: "))
        .ok_or("a frame")?;
    let end: Event = native::decode(last.as_bytes())?;
    println!("the run's log ends with: {last}");
    assert_eq!(end.run_status(), Some(RunStatus::Cancelled));
    shutdown.trigger();
    Ok(())
}
