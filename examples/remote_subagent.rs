//! A remote A2A agent as a streamed sub-agent.
//!
//! An agent served by `agentor serve`'s router (here in the same process, on
//! 127.0.0.1) is reached with `A2aClient`, which is a `Provider`: wrapped in
//! an `Agentor` and offered to a local agent with `as_tool`, its artifact
//! chunks stream into the local agent's run **as they arrive**, each with
//! the remote agent as `source` and the calling tool call's id as `parent`.
//! The remote's final text is the tool's result.
//!
//! Run it with `cargo run -p agentor-examples --example remote_subagent`. It
//! exits with an error if the remote's text did not stream into the parent
//! before the tool's result.
#![allow(clippy::print_stdout)] // printing the stream is the point

use std::io::Write;
use std::time::Duration;

use agentor::providers::Demo;
use agentor::{Agentor, EventKind, RunStatus};
use agentor_a2a::client::A2aClient;
use agentor_server::{Server, ServerConfig};
use futures::StreamExt;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The remote agent, served over A2A as `agentor serve` serves it.
    let remote = Agentor::builder()
        .name("Researcher")
        .provider(Demo::with_delay(Duration::from_millis(5)))
        .build();
    let server = Server::new(remote)
        .config(ServerConfig::default().description("Looks things up (offline demo)"))
        .bind("127.0.0.1:0")
        .await?;
    let url = format!("http://{}", server.local_addr()?);
    let shutdown = server.shutdown_handle();
    let serving = tokio::spawn(server.serve_with_shutdown(std::future::pending()));

    // The local side: the remote agent as a tool of a local one.
    let client = A2aClient::connect(&url).await?;
    let researcher = Agentor::builder()
        .name(client.card().name().to_owned())
        .provider(client)
        .build();
    let lead = Agentor::builder()
        .name("Lead")
        .provider(Demo::with_delay(Duration::from_millis(2)))
        .tool(researcher.as_tool("ask_researcher", "Ask the remote researcher."))
        .build();

    let (mut nested_deltas, mut result_seen, mut late) = (0, false, false);
    let mut events = lead.stream_chat("Find out about streaming agents");
    let mut status = None;
    while let Some(item) = events.next().await {
        let event = item?;
        let source = event.origin.source.as_deref().unwrap_or("?");
        match (&event.kind, event.origin.parent.as_deref()) {
            (EventKind::TextDelta { text, .. }, Some(parent)) => {
                if nested_deltas == 0 {
                    print!("[{source}, for call {parent}] ");
                }
                print!("{text}");
                std::io::stdout().flush().ok();
                nested_deltas += 1;
                late |= result_seen;
            }
            (EventKind::ToolCall(call), None) => println!("[{source}] calls {}", call.name),
            (EventKind::ToolResult(result), None) => {
                println!("\n[{source}] tool result ({} chars)", result.output.len());
                result_seen = true;
            }
            (EventKind::Message { text, .. }, None) => println!("[{source}] {text}"),
            (EventKind::RunEnd { status: end }, None) => status = Some(*end),
            _ => {}
        }
    }
    shutdown.trigger();
    serving.await??;

    if nested_deltas < 2 || late || !result_seen || status != Some(RunStatus::Completed) {
        return Err(format!(
            "the remote's chunks did not stream into the parent: {nested_deltas} nested deltas, \
             after the result: {late}, result seen: {result_seen}, {status:?}"
        )
        .into());
    }
    Ok(())
}
