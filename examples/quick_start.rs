//! Quick start: an agent streaming its answer as it is produced.
//!
//! With `OPENAI_API_KEY` (or `OPENAI_BASE_URL` for Ollama, vLLM, LiteLLM,
//! llama.cpp) set, this talks to the model; without, it runs agentor's offline
//! demo provider, which says so.
//!
//! Run it with `cargo run -p agentor-examples --example quick_start`.

use agentor::{Agentor, EventKind};
use futures::StreamExt;
use tokio::io::AsyncWriteExt;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let agent = Agentor::builder()
        .name("Assistant")
        .instructions("You are a helpful assistant.")
        .build();
    eprintln!("provider: {}", agent.provider().name());

    let mut stdout = tokio::io::stdout();
    let mut events = agent.stream_chat("Explain quantum computing in one paragraph.");
    while let Some(item) = events.next().await {
        match item.map(|e| e.kind) {
            Ok(EventKind::TextDelta { text, .. }) => {
                stdout.write_all(text.as_bytes()).await?;
                stdout.flush().await?; // show each delta the moment it arrives
            }
            Ok(EventKind::RunEnd { status }) => eprintln!("\n[run ended: {status}]"),
            Ok(_) => {}
            Err(err) => eprintln!("\n[error: {err}]"),
        }
    }
    Ok(())
}
