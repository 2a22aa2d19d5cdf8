//! Quick start: an agent streaming its answer, printed as it arrives.
//!
//! With `OPENAI_API_KEY` (or `OPENAI_BASE_URL` for Ollama, vLLM, LiteLLM,
//! llama.cpp) set, this talks to the model; without, it runs agentor's offline
//! demo provider, which says so.
//!
//! Run it with `cargo run -p agentor-examples --example quick_start`.
#![allow(clippy::print_stdout)] // printing the answer as it streams is the point

use std::io::Write;

use agentor::{Agentor, EventKind, RunStatus};
use futures::StreamExt;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let agent = Agentor::builder()
        .name("Assistant")
        .instructions("You are a helpful assistant.")
        .build();
    eprintln!("provider: {}", agent.provider().name());

    // `stream_chat` yields every event of the run; text deltas are the answer
    // as the model writes it. Flush each one so it shows the moment it arrives.
    let mut events = agent.stream_chat("Explain quantum computing in one paragraph.");
    let (mut stdout, mut answer, mut status) = (std::io::stdout(), String::new(), None);
    while let Some(item) = events.next().await {
        let event = item?; // a failure is an `Err` item (then a `failed` run end)
        match &event.kind {
            EventKind::TextDelta { text, .. } => {
                print!("{text}");
                stdout.flush()?;
                answer.push_str(text);
            }
            EventKind::RunEnd { status: end } => status = Some(*end),
            _ => {}
        }
    }
    println!();

    eprintln!("final status: {status:?}");
    assert!(!answer.is_empty(), "the answer streamed as text deltas");
    assert_eq!(status, Some(RunStatus::Completed));
    Ok(())
}
