//! HTTP streaming: your own axum handler returning an agent run as SSE, and a
//! client reading it.
//!
//! The handler applies the layers it wants (here: whole words) and returns
//! `agentor_server::EventStreamResponse`, which frames the run exactly as the
//! built-in `POST /chat` does: ids `0, 1, 2, …` without gaps, `event:` names
//! (the run end is `done`, always last), one-line `data:` JSON, an `Err` item
//! as an `event: error` frame, heartbeat comments while the run is silent.
//! The body pulls the run only as the connection takes bytes, and a client
//! that goes away drops the body, which drops (cancels) the run. The client
//! reads the stream with `eventsource-stream`, as any SSE client would, and
//! checks the frames.
//!
//! For resume, run limits and auth, mount `agentor_server::router` instead
//! (see the `server_streaming` example).
//!
//! Run it with `cargo run -p agentor-examples --example http_streaming`.
#![allow(clippy::print_stdout)] // printing the frames as they arrive is the point

use std::io::Write;
use std::time::Duration;

use agentor::providers::Demo;
use agentor::wire::{native, Format};
use agentor::{Agentor, Boundary, EventStreamExt, RunStatus};
use agentor_server::{EventStreamResponse, RUN_ID_HEADER};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, Router};
use eventsource_stream::Eventsource;
use futures::StreamExt;
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize)]
struct Ask {
    question: String,
}

/// `POST /ask {"question": "…"}` → the run as `text/event-stream` (or NDJSON
/// with `Accept: application/x-ndjson`), framed as `POST /chat` frames it.
async fn ask(
    State(agent): State<Agentor>,
    headers: HeaderMap,
    Json(ask): Json<Ask>,
) -> EventStreamResponse {
    let run_id = Agentor::new_run_id();
    let run = agent
        .stream_chat_with_run_id(ask.question, run_id.clone())
        .rebuffer(Boundary::Words);
    EventStreamResponse::new(run)
        .framing_for(&headers)
        .format(Format::Native)
        .heartbeat(Duration::from_secs(15))
        .run_id(run_id) // also the `X-Run-Id` header
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let agent = Agentor::builder()
        .name("Assistant")
        .provider(Demo::with_delay(Duration::from_millis(5)))
        .build();
    let app = Router::new().route("/ask", post(ask)).with_state(agent);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move { stopped.await.unwrap_or_default() })
            .await
    });
    eprintln!("serving on http://{addr}/ask");

    let response = reqwest::Client::new()
        .post(format!("http://{addr}/ask"))
        .json(&json!({"question": "Explain server-sent events"}))
        .send()
        .await?
        .error_for_status()?;
    let run_id = response.headers()[RUN_ID_HEADER].to_str()?.to_owned();
    let mut frames = response.bytes_stream().eventsource();
    let (mut text, mut names, mut last_status) = (String::new(), Vec::new(), None);
    while let Some(frame) = frames.next().await {
        let frame = frame?;
        // Rebuffered words share their delta's `seq`; the ids never repeat.
        assert_eq!(frame.id, names.len().to_string(), "ids are gapless");
        let event = native::decode(frame.data.as_bytes())?;
        assert_eq!(
            event.origin.run_id.as_deref(),
            Some(&*run_id),
            "the header's run"
        );
        if let Some(piece) = event.text().filter(|_| frame.event == "text_delta") {
            print!("{piece}");
            std::io::stdout().flush()?;
            text.push_str(piece);
        }
        last_status = event.run_status();
        names.push(frame.event);
    }
    println!();

    stop.send(()).ok();
    server.await??;
    assert!(
        text.contains("Explain server-sent events"),
        "the demo echoes"
    );
    assert_eq!(names.first().map(String::as_str), Some("run_start"));
    assert_eq!(
        (names.last().map(String::as_str), last_status),
        (Some("done"), Some(RunStatus::Completed)),
        "the stream ends with its `done` frame"
    );
    eprintln!(
        "{} frames, ids gapless, `done` last; server stopped",
        names.len()
    );
    Ok(())
}
