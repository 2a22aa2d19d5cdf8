//! Error handling: failures are values in the stream, never a silent close.
//!
//! 1. A provider that fails mid-answer: the run yields an `Err` item (the
//!    provider error, with its HTTP status) and ends with a `failed` run end.
//!    A model API that reports an error inside its stream gives an `error`
//!    event instead, and the same `failed` run end.
//! 2. A tool that fails: its `tool_result` has `is_error: true` and the
//!    error's message; the model sees it and the run goes on to complete.
//! 3. Operators pass an `Err` through in order, and sinks render it as an
//!    error event: here the SSE encoder writes `event: error` before `done`.
//!
//! Run it with `cargo run -p agentor-examples --example error_handling`.
#![allow(clippy::print_stdout)] // printing how each failure arrives is the point

use std::time::Duration;

use agentor::providers::Demo;
use agentor::source::Script;
use agentor::wire::{sse, Format};
use agentor::{Agentor, Boundary, BoxEventStream, ChatRequest, Error, ErrorKind, Event};
use agentor::{EventKind, EventStreamExt, Provider, RunStatus, Tool, ToolError};
use bytes::BytesMut;
use futures::StreamExt;
use serde_json::{json, Value};

/// A model API that starts answering, then fails: its connection breaks with
/// a 503 (an `Err` item), or, `reported`, it says so in its stream (an
/// `error` event), as APIs do for a failure mid-answer.
#[derive(Debug)]
struct Flaky {
    reported: bool,
}

impl Provider for Flaky {
    fn stream(&self, _request: ChatRequest) -> BoxEventStream {
        let ms = Duration::from_millis;
        let answering = Script::new().text(ms(5), ["The answ", "er is"]);
        let failed = if self.reported {
            answering.after(ms(5), Event::error(ErrorKind::Provider, "model overloaded"))
        } else {
            let broken = Error::provider("503 Service Unavailable").with_status(503);
            answering.fail(ms(5), broken)
        };
        Box::pin(failed.end(RunStatus::Failed).into_stream())
    }

    fn name(&self) -> &str {
        "flaky"
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 1. A provider failure.
    let agent = Agentor::builder()
        .name("Flaky")
        .provider(Flaky { reported: false })
        .build();
    let (mut errors, mut status) = (Vec::new(), None);
    let mut events = agent.stream_chat("What is the answer?");
    while let Some(item) = events.next().await {
        match item {
            Ok(event) => {
                if let EventKind::RunEnd { status: end } = event.kind {
                    status = Some(end);
                }
            }
            Err(err) => {
                println!(
                    "Err item: {err} (kind {}, HTTP {:?})",
                    err.kind(),
                    err.status()
                );
                errors.push(err);
            }
        }
    }
    println!("run ended: {status:?}");
    assert_eq!(errors.len(), 1);
    assert_eq!(
        (errors[0].kind(), errors[0].status()),
        (ErrorKind::Provider, Some(503))
    );
    assert_eq!(status, Some(RunStatus::Failed));
    // `chat` turns the same failure into an `Err` return value.
    let answer = agent.chat("What is the answer?").await;
    println!("chat(): {answer:?}");
    assert!(answer.is_err());

    // The same failure reported by the API inside its stream: an error event.
    let agent = Agentor::builder()
        .name("Flaky")
        .provider(Flaky { reported: true })
        .build();
    let events: Vec<Event> = agent
        .stream_chat("What is the answer?")
        .map(|item| item.unwrap_or_else(|err| err.to_event()))
        .collect()
        .await;
    let reported = events.iter().find_map(|e| match &e.kind {
        EventKind::Error { kind, message } => Some((*kind, message.to_string())),
        _ => None,
    });
    println!("error event: {reported:?}");
    assert_eq!(
        reported,
        Some((ErrorKind::Provider, "model overloaded".into()))
    );
    assert_eq!(
        events.last().and_then(Event::run_status),
        Some(RunStatus::Failed)
    );

    // 2. A tool error: reported to the model, the run continues.
    let booking = Tool::new(
        "book_table",
        "Books a table.",
        json!({"type": "object", "properties": {"restaurant": {"type": "string"}}, "required": ["restaurant"]}),
        |_args: Value| async move { Err::<String, _>(ToolError::new("fully booked tonight")) },
    );
    let agent = Agentor::builder()
        .name("Concierge")
        .tool(booking)
        .provider(Demo::with_delay(Duration::from_millis(1)))
        .build();
    let events: Vec<Event> = agent
        .stream_chat("Chez Paul")
        .map(|item| item.unwrap_or_else(|err| err.to_event()))
        .collect()
        .await;
    let result = events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::ToolResult(result) => Some(result.clone()),
            _ => None,
        })
        .ok_or("a tool result")?;
    println!(
        "tool result: {} is_error={} output={:?}",
        result.name, result.is_error, result.output
    );
    assert!(result.is_error && result.output.contains("fully booked"));
    assert_eq!(
        events.last().and_then(Event::run_status),
        Some(RunStatus::Completed)
    );

    // 3. Through operators and out as SSE: the error keeps its place.
    let mut frames = BytesMut::new();
    let mut failing = Flaky { reported: false }
        .stream(ChatRequest::new("any", vec![]))
        .rebuffer(Boundary::Words);
    let mut id = 0;
    while let Some(item) = failing.next().await {
        match item {
            Ok(event) => sse::encode_event(Format::Native, &event.with_seq(id), &mut frames),
            Err(err) => sse::encode_error(Format::Native, &err, id, &mut frames),
        }
        id += 1;
    }
    let frames = String::from_utf8(frames.to_vec())?;
    print!("{frames}");
    let error_at = frames.find("event: error").ok_or("an error frame")?;
    assert!(
        frames[..error_at].contains(r#""text":"answer ""#),
        "text before the error"
    );
    assert!(
        frames[error_at..].contains("event: done"),
        "done after the error"
    );
    Ok(())
}
