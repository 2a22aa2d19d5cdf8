//! Quick start: an agent streaming its answer as it is produced.
//!
//! With `OPENAI_API_KEY` (or `OPENAI_BASE_URL` for Ollama, vLLM, LiteLLM,
//! llama.cpp) set, this talks to the model; without, it runs agentor's offline
//! demo provider, which says so.
//!
//! Run it with `cargo run -p agentor-examples --example quick_start`.

use agentor::print::{PrintFormat, Printer};
use agentor::Agentor;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let agent = Agentor::builder()
        .name("Assistant")
        .instructions("You are a helpful assistant.")
        .build();
    eprintln!("provider: {}", agent.provider().name());

    // Text deltas are printed (and flushed) the moment they arrive; tool
    // calls, results, usage and the run end each get a line of their own.
    let events = agent.stream_chat("Explain quantum computing in one paragraph.");
    let status = Printer::stdout(PrintFormat::Text).print_all(events).await?;
    eprintln!("final status: {status:?}");
    Ok(())
}
