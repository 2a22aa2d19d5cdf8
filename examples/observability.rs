//! Observability: a run through the built-in server, then `GET /metrics` in
//! the Prometheus text format, showing the run, its model turns, its tool
//! call and the streamed events counted.
//!
//! Traces are `tracing` spans (`invoke_agent`, `chat`, `execute_tool`, after
//! the OpenTelemetry GenAI conventions); install any subscriber to see them.
//! See docs/observability.md.
//!
//! Run it with `cargo run -p agentor-examples --example observability`.
#![allow(clippy::print_stdout)] // printing the scrape is the point

use agentor::providers::Demo;
use agentor::{Agentor, Tool, ToolError};
use agentor_server::{Server, ServerConfig};
use serde_json::json;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let weather = Tool::new(
        "get_weather",
        "The current weather in a city.",
        json!({"type": "object", "properties": {"city": {"type": "string"}}}),
        |_: serde_json::Value| async { Ok::<_, ToolError>("18°C and sunny".to_owned()) },
    );
    let agent = Agentor::builder()
        .name("Weather")
        .provider(Demo::instant())
        .tool(weather)
        .build();
    let server = Server::new(agent)
        .config(ServerConfig::default()) // metrics on: GET /metrics
        .bind("127.0.0.1:0")
        .await?;
    let base = format!("http://{}", server.local_addr()?);
    let shutdown = server.shutdown_handle();
    let serving = tokio::spawn(server.serve_with_shutdown(std::future::pending()));

    let client = reqwest::Client::new();
    let streamed = client
        .post(format!("{base}/chat"))
        .json(&json!({"input": "Weather in Paris?", "stream": true}))
        .send()
        .await?
        .bytes()
        .await?;
    let scrape = client
        .get(format!("{base}/metrics"))
        .send()
        .await?
        .text()
        .await?;
    for line in scrape.lines().filter(|l| {
        !l.starts_with('#')
            && !l.contains("_bucket")
            && !l.ends_with(" 0")
            && (l.starts_with("agentor_") || l.starts_with("gen_ai_"))
    }) {
        println!("{line}");
    }

    let value = |series: &str| -> f64 {
        scrape
            .lines()
            .find(|l| l.starts_with(series))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    };
    let checks = [
        ("agentor_runs_started_total{", 1.0),
        (
            "agentor_runs_ended_total{gen_ai_agent_name=\"Weather\",status=\"completed\"}",
            1.0,
        ),
        (
            "agentor_tool_duration_seconds_count{gen_ai_tool_name=\"get_weather\"}",
            1.0,
        ),
        (
            "agentor_events_out_total{kind=\"run_end\",wire=\"sse\"}",
            1.0,
        ),
        (
            "agentor_stream_out_bytes_total{wire=\"sse\"}",
            streamed.len() as f64,
        ),
    ];
    for (series, want) in checks {
        let got = value(series);
        if got != want {
            eprintln!("{series}: expected {want}, got {got}");
            std::process::exit(1);
        }
    }
    // Two model turns: the tool call, then the answer.
    if !scrape.contains("gen_ai_client_operation_duration_seconds_count{gen_ai_operation_name=\"chat\",gen_ai_provider_name=\"demo\"") {
        eprintln!("no model-call duration in the scrape");
        std::process::exit(1);
    }
    shutdown.trigger();
    serving.await??;
    Ok(())
}
