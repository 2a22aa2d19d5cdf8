//! Streams one message from a remote A2A agent and prints each agentor event
//! as a native JSON line.
//!
//! ```sh
//! cargo run -p agentor-a2a --example a2a_stream -- http://127.0.0.1:8000 "Hello" [--dialect 0.3|1.0]
//! ```
//!
//! The agent, endpoint and dialect chosen go to stderr. An `Err` item is
//! printed as the error event it stands for. Exits 0 when
//! the run ended `completed`, 1 otherwise (or when the agent cannot be
//! reached), 2 on bad arguments.
#![allow(clippy::print_stdout, reason = "printing the events is the point")]

use std::process::ExitCode;

use agentor_a2a::client::A2aClient;
use agentor_a2a::Dialect;
use agentor_core::wire::native;
use agentor_core::{Envelope, RunStatus};
use bytes::BytesMut;
use futures_util::StreamExt;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (url, text, dialect) = match args.as_slice() {
        [url, text] => (url, text, None),
        [url, text, flag, version] if flag == "--dialect" => {
            match Dialect::from_version_header(version) {
                Ok(dialect) => (url, text, Some(dialect)),
                Err(e) => return usage(&e.message),
            }
        }
        _ => return usage("expected: <url> <text> [--dialect 0.3|1.0]"),
    };
    let mut builder = A2aClient::builder();
    if let Some(dialect) = dialect {
        builder = builder.dialect(dialect);
    }
    let client = match builder.connect(url).await {
        Ok(client) => client,
        Err(e) => {
            eprintln!("a2a_stream: {e}");
            return ExitCode::from(1);
        }
    };
    let card = client.card();
    // On stderr, so that stdout stays pure JSON lines.
    eprintln!(
        "a2a_stream: {} at {} over A2A {}",
        card.name(),
        card.endpoint(),
        card.dialect().version()
    );
    let mut events = client.stream(text.as_str());
    let mut line = BytesMut::new();
    let mut status = None;
    // A failure prints as an error of the run: its source, run id and seq.
    let mut envelope = Envelope::new();
    while let Some(item) = events.next().await {
        let event = envelope.event(item);
        status = event.run_status().or(status);
        line.clear();
        native::encode(&event, &mut line);
        println!("{}", String::from_utf8_lossy(&line).trim_end());
    }
    if status == Some(RunStatus::Completed) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn usage(problem: &str) -> ExitCode {
    eprintln!("a2a_stream: {problem}");
    ExitCode::from(2)
}
