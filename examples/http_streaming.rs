//! HTTP streaming: your own axum handler returning an agent run as SSE, and a
//! client reading it.
//!
//! The handler applies the layers it wants (here: whole words) and writes each
//! event with `agentor::wire::sse`, the encoder the built-in server uses: `id:`,
//! `event:` (the run end is `done`), one-line `data:` JSON. The body pulls the
//! run only as the connection takes bytes, and a client that goes away drops
//! the body, which drops (cancels) the run. The client reads the stream with
//! `eventsource-stream`, as any SSE client would.
//!
//! For heartbeats, resume and limits, mount `agentor_server::router` instead
//! (see the `server_streaming` example).
//!
//! Run it with `cargo run -p agentor-examples --example http_streaming`.
#![allow(clippy::print_stdout)] // printing the frames as they arrive is the point

use std::convert::Infallible;
use std::io::Write;
use std::time::Duration;

use agentor::providers::Demo;
use agentor::wire::{native, sse, Format};
use agentor::{Agentor, Boundary, EventStreamExt, RunStatus};
use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use bytes::BytesMut;
use eventsource_stream::Eventsource;
use futures::StreamExt;
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize)]
struct Ask {
    question: String,
}

/// `POST /ask {"question": "…"}` → the run as `text/event-stream`.
async fn ask(State(agent): State<Agentor>, Json(ask): Json<Ask>) -> impl IntoResponse {
    let run = agent.stream_chat(ask.question).rebuffer(Boundary::Words);
    let (mut buf, mut id) = (BytesMut::new(), 0);
    let frames = run.map(move |item| {
        // A failure is a value on the wire: an `event: error` frame.
        let mut event = item.unwrap_or_else(|err| err.to_event());
        // Rebuffered pieces share their delta's `seq`; SSE ids must be unique.
        event.seq = id;
        id += 1;
        sse::encode_event(Format::Native, &event, &mut buf);
        Ok::<_, Infallible>(buf.split().freeze())
    });
    (
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        Body::from_stream(frames),
    )
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
    let mut frames = response.bytes_stream().eventsource();
    let (mut text, mut last) = (String::new(), None);
    while let Some(frame) = frames.next().await {
        let frame = frame?;
        let event = native::decode(frame.data.as_bytes())?;
        if let Some(piece) = event.text().filter(|_| frame.event == "text_delta") {
            print!("{piece}");
            std::io::stdout().flush()?;
            text.push_str(piece);
        }
        last = Some((frame.event, event.run_status()));
    }
    println!();

    stop.send(()).ok();
    server.await??;
    assert!(
        text.contains("Explain server-sent events"),
        "the demo echoes"
    );
    assert_eq!(
        last,
        Some(("done".to_owned(), Some(RunStatus::Completed))),
        "the stream ends with its `done` frame"
    );
    eprintln!("server stopped");
    Ok(())
}
