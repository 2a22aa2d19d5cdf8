//! Streaming answers: each task event as one SSE frame, either
//! `data: <single-line JSON-RPC response with the request id>` (JSON-RPC)
//! or `data: <the StreamResponse itself>` (the HTTP+JSON binding), as
//! [`StreamFrames`] writes them.

use std::convert::Infallible;
use std::time::Duration;

use agentor::wire::sse::encode_heartbeat;
use agentor_a2a::frames::StreamFrames;
use agentor_a2a::jsonrpc::{self, RequestId};
use agentor_a2a::store::Subscription;
use agentor_a2a::{A2aError, Dialect, StreamResponse};
use axum::body::Body;
use axum::http::{header, HeaderValue};
use axum::response::Response;
use bytes::BytesMut;
use futures_util::{stream, FutureExt};

use crate::event_body::{COALESCE_BYTES, COALESCE_EVENTS};

/// `body` as an SSE response, with the headers every A2A stream carries.
pub(crate) fn sse_response(body: Body) -> Response {
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    // nginx buffers responses unless told not to; a buffered stream is not one.
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

/// Appends `event` in `dialect` as one frame, serialized straight into
/// `chunk`; a Task (the stream's first event, or a lagging subscriber's
/// snapshot) keeps only the last `history_length` messages of its history,
/// as the request asked.
pub(crate) fn push_event(
    chunk: &mut BytesMut,
    frames: &StreamFrames,
    event: &StreamResponse,
    history_length: Option<u32>,
) {
    match event {
        StreamResponse::Task(task) if history_length.is_some() => {
            let trimmed = StreamResponse::Task(task.with_history_length(history_length));
            frames.push(chunk, &trimmed);
        }
        event => frames.push(chunk, event),
    }
}

/// The task's events from `subscription`, rendered in `dialect` (Tasks
/// trimmed to `history_length`), until the final one; a heartbeat comment after `heartbeat` of silence. With
/// `coalesce`, the events already published go out as one body chunk (never
/// a wait), as `/chat` streams do. Dropping the body (the client went away)
/// only unsubscribes: the task runs on.
pub(crate) fn event_stream(
    subscription: Subscription,
    frames: StreamFrames,
    history_length: Option<u32>,
    heartbeat: Duration,
    coalesce: bool,
) -> Response {
    let max_events = if coalesce { COALESCE_EVENTS } else { 1 };
    // The framing travels in the state: no copy of it per chunk.
    let chunks = stream::unfold(Some((subscription, frames)), move |state| {
        async move {
            let (mut subscription, frames) = state?;
            let mut chunk = BytesMut::with_capacity(256);
            tokio::select! {
                event = subscription.next() => {
                    push_event(&mut chunk, &frames, &event?, history_length);
                }
                () = tokio::time::sleep(heartbeat) => encode_heartbeat(&mut chunk),
            }
            let mut events = 1;
            while events < max_events && chunk.len() < COALESCE_BYTES {
                // `next` is cancel-safe: an event not ready stays queued.
                match subscription.next().now_or_never() {
                    Some(Some(event)) => {
                        push_event(&mut chunk, &frames, &event, history_length);
                        events += 1;
                    }
                    // Over (the next poll ends the body) or nothing ready yet.
                    Some(None) | None => break,
                }
            }
            Some((
                Ok::<_, Infallible>(chunk.freeze()),
                Some((subscription, frames)),
            ))
        }
    });
    sse_response(crate::metrics::body(chunks, crate::metrics::Wire::A2a))
}

/// A stream of one frame: the error, as 0.3 streaming methods answer errors.
pub(crate) fn error_event(id: &RequestId, error: &A2aError, dialect: Dialect) -> Response {
    let mut frame = BytesMut::new();
    jsonrpc::push_sse_frame(&mut frame, &jsonrpc::error_response(id, error, dialect));
    sse_response(Body::from(frame.freeze()))
}
