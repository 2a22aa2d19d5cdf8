//! A2A streaming client: an agent served over A2A, streamed from with `A2aClient`.
//!
//! The built-in server answers the Agent2Agent protocol on `POST /` (JSON-RPC,
//! the 0.3 `message/stream` and 1.0 `SendStreamingMessage` dialects) and
//! serves its agent card at `/.well-known/agent-card.json`. `A2aClient`
//! reads the card, picks the endpoint and dialect, sends a message and yields
//! the remote task as agentor events — text deltas as they stream, then a
//! run end with the task's final state — so every layer and sink applies to a
//! remote agent as to a local one. Both dialects are tried here.
//!
//! Run it with `cargo run -p agentor-examples --example a2a_client`.
#![allow(clippy::print_stdout)] // printing the remote answer is the point

use std::io::Write;
use std::time::Duration;

use agentor::providers::Demo;
use agentor::{Agentor, RunStatus};
use agentor_a2a::client::A2aClient;
use agentor_a2a::Dialect;
use agentor_server::{Server, ServerConfig};
use futures::StreamExt;

/// Streams `text` from the remote agent; prints the text, returns the final state.
async fn ask(
    remote: &A2aClient,
    text: &str,
) -> Result<(String, Option<RunStatus>), agentor::Error> {
    let (mut answer, mut status) = (String::new(), None);
    let mut events = remote.stream(text);
    while let Some(item) = events.next().await {
        let event = item?;
        if event.kind() == agentor::Kind::TextDelta {
            let piece = event.text().unwrap_or_default();
            print!("{piece}");
            std::io::stdout().flush().ok();
            answer.push_str(piece);
        }
        status = event.run_status().or(status);
    }
    println!();
    Ok((answer, status))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let agent = Agentor::builder()
        .name("Echo")
        .provider(Demo::with_delay(Duration::from_millis(5)))
        .build();
    let server = Server::new(agent)
        .config(ServerConfig::default().description("An offline demo agent"))
        .bind("127.0.0.1:0")
        .await?;
    let url = format!("http://{}", server.local_addr()?);
    let shutdown = server.shutdown_handle();
    let serving = tokio::spawn(server.serve_with_shutdown(std::future::pending()));

    for dialect in [Dialect::V0_3, Dialect::V1_0] {
        let remote = A2aClient::builder().dialect(dialect).connect(&url).await?;
        println!("[{} at {url}, dialect {dialect:?}]", remote.card().name());
        let (answer, status) = ask(&remote, "Hello from another agent").await?;
        println!("[final state: {status:?}]");
        assert!(
            answer.contains("Hello from another agent"),
            "the demo echoes"
        );
        assert_eq!(status, Some(RunStatus::Completed));
    }

    shutdown.trigger();
    serving.await??;
    Ok(())
}
