//! Built-in server streaming: `agentor_server::Server` serving an agent, a
//! client reading `POST /chat` as SSE, and a graceful shutdown.
//!
//! The server binds 127.0.0.1:0 (a free port). The client asks three times:
//! a streamed run read with `eventsource-stream` (server-side options: whole
//! words, native JSON), a plain JSON answer (`"stream": false`), and a stream
//! that is still open when the server shuts down: it ends with a `done` frame
//! whose status is `cancelled`, never with a cut connection.
//!
//! A long-running server is just `agent.serve(8000).await` (`AgentorServeExt`);
//! from a shell the first request is:
//!
//! ```sh
//! curl -N localhost:8000/chat -H 'content-type: application/json' \
//!      -d '{"input": "What is the weather in Paris?", "stream": true}'
//! ```
//!
//! Run it with `cargo run -p agentor-examples --example server_streaming`.
#![allow(clippy::print_stdout)] // printing the stream as it arrives is the point

use std::io::Write;
use std::time::Duration;

use agentor::providers::Demo;
use agentor::wire::native;
use agentor::{Agentor, RunStatus, Tool, ToolError};
use agentor_server::{Server, ServerConfig, RUN_ID_HEADER};
use eventsource_stream::Eventsource;
use futures::StreamExt;
use serde_json::{json, Value};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let get_weather = Tool::new(
        "get_weather",
        "The current weather in a city.",
        json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
        |args: Value| async move { Ok::<_, ToolError>(format!("18°C and sunny in {}", args["city"])) },
    );
    let agent = Agentor::builder()
        .name("Weather")
        .instructions("Answer weather questions with the get_weather tool.")
        .tool(get_weather)
        .provider(Demo::with_delay(Duration::from_millis(5)))
        .build();

    let server = Server::new(agent)
        .config(ServerConfig::default())
        .bind("127.0.0.1:0")
        .await?;
    let addr = server.local_addr()?;
    let shutdown = server.shutdown_handle();
    let serving = tokio::spawn(server.serve_with_shutdown(std::future::pending()));
    let client = reqwest::Client::new();
    let chat = format!("http://{addr}/chat");
    eprintln!("serving on http://{addr}");

    // 1. A streamed run: options apply the core layers on the server.
    let response = client
        .post(&chat)
        .json(&json!({"input": "Paris", "stream": true, "rebuffer": "words", "format": "native"}))
        .send()
        .await?
        .error_for_status()?;
    eprintln!(
        "{} {}, run {}",
        response.status(),
        response.headers()["content-type"].to_str()?,
        response.headers()[RUN_ID_HEADER].to_str()?
    );
    let mut frames = response.bytes_stream().eventsource();
    let mut status = None;
    while let Some(frame) = frames.next().await {
        let frame = frame?;
        let event = native::decode(frame.data.as_bytes())?;
        match frame.event.as_str() {
            "text_delta" => print!("{}", event.text().unwrap_or_default()),
            "tool_call" | "tool_result" | "done" => println!("\n[{} #{}]", frame.event, frame.id),
            _ => {}
        }
        std::io::stdout().flush()?;
        status = event.run_status().or(status);
    }
    assert_eq!(status, Some(RunStatus::Completed), "streamed run completed");

    // 2. The same run without streaming: one JSON answer.
    let answer: Value = client
        .post(&chat)
        .json(&json!({"input": "Rome"}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    println!("stream: false → {answer}");
    assert!(answer["output"]
        .as_str()
        .unwrap_or_default()
        .contains("Rome"));

    // 3. Graceful shutdown while a stream is open: it gets a `cancelled` run end.
    let response = client
        .post(&chat)
        .json(&json!({"input": "Lisbon", "stream": true}))
        .send()
        .await?;
    let mut frames = response.bytes_stream().eventsource();
    let first = frames.next().await.ok_or("a first frame")??;
    println!("open stream, first frame: {}", first.event);
    shutdown.trigger();
    let mut last = first;
    while let Some(frame) = frames.next().await {
        last = frame?;
    }
    println!("after shutdown: event: {}  data: {}", last.event, last.data);
    assert_eq!(last.event, "done");
    assert!(
        last.data.contains("cancelled"),
        "shutdown cancels open runs"
    );
    serving.await??;
    eprintln!("server stopped");
    Ok(())
}
