//! Handoffs: a triage agent hands the conversation to a specialist.
//!
//! `.handoff(agent)` offers the model a transfer tool per target
//! (`transfer_to_billing`, `transfer_to_tech_support`). When the model calls
//! one, the run goes on with that agent's instructions and tools; the stream
//! shows `handoff {from, to}` and `agent_updated`, and every later event
//! carries the new agent as `source`. Offline: the demo provider calls the
//! transfer tool whose agent the question names.
//!
//! Run it with `cargo run -p agentor-examples --example handoffs`. It exits
//! with an error if the handoff did not happen as shown.
#![allow(clippy::print_stdout)] // printing the stream is the point

use std::time::Duration;

use agentor::providers::Demo;
use agentor::{Agentor, EventKind, Kind, RunStatus};
use futures::StreamExt;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let demo = || Demo::with_delay(Duration::from_millis(2));
    let billing = Agentor::builder()
        .name("Billing")
        .instructions("You resolve invoice and payment questions.")
        .provider(demo())
        .build();
    let tech = Agentor::builder()
        .name("Tech Support")
        .instructions("You fix technical problems.")
        .provider(demo())
        .build();
    let triage = Agentor::builder()
        .name("Triage")
        .instructions("Route the user to the right specialist.")
        .provider(demo())
        .handoff(billing)
        .handoff(tech)
        .build();

    let mut events = triage.stream_chat("I was charged twice, please get me to billing");
    let (mut handoff, mut switched, mut answered_by, mut status) = (None, None, None, None);
    while let Some(item) = events.next().await {
        let event = item?;
        let source = event.origin.source.as_deref().unwrap_or("?");
        match &event.kind {
            EventKind::ToolCall(call) => println!("[{source}] calls {}", call.name),
            EventKind::Handoff { from, to } => {
                println!("[{source}] hands off: {from} → {to}");
                handoff = Some((from.to_string(), to.to_string()));
            }
            EventKind::AgentUpdated { agent } => {
                println!("[{source}] agent updated: {agent}");
                switched = Some(agent.to_string());
            }
            EventKind::Message { text, .. } => {
                println!("[{source}] {text}");
                answered_by = Some(source.to_owned());
            }
            _ if event.kind() == Kind::RunEnd => {
                status = event.run_status();
                println!("[{source}] run end: {status:?}");
            }
            _ => {}
        }
    }

    let expected = Some(("Triage".to_owned(), "Billing".to_owned()));
    if handoff != expected
        || switched.as_deref() != Some("Billing")
        || answered_by.as_deref() != Some("Billing")
        || status != Some(RunStatus::Completed)
    {
        return Err(format!(
            "the handoff did not happen as shown: handoff {handoff:?}, agent {switched:?}, \
             answered by {answered_by:?}, {status:?}"
        )
        .into());
    }
    Ok(())
}
