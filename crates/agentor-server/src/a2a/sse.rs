//! Streaming answers: each task event as one SSE frame
//! `data: <single-line JSON-RPC response with the request id>`.

use std::convert::Infallible;
use std::time::Duration;

use agentor::wire::sse::encode_heartbeat;
use agentor_a2a::jsonrpc::{self, RequestId};
use agentor_a2a::store::Subscription;
use agentor_a2a::{A2aError, Dialect};
use axum::body::Body;
use axum::http::{header, HeaderValue};
use axum::response::Response;
use bytes::{Bytes, BytesMut};
use futures_util::stream;

/// One SSE frame holding `message` (JSON escapes newlines, so one `data:`
/// line carries it all).
fn frame(message: &serde_json::Value) -> Bytes {
    let mut frame = BytesMut::with_capacity(128);
    frame.extend_from_slice(b"data: ");
    frame.extend_from_slice(message.to_string().as_bytes());
    frame.extend_from_slice(b"\n\n");
    frame.freeze()
}

fn sse_response(body: Body) -> Response {
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

/// The task's events from `subscription`, rendered in `dialect`, until the
/// final one; a heartbeat comment after `heartbeat` of silence. Dropping the
/// body (the client went away) only unsubscribes: the task runs on.
pub(crate) fn event_stream(
    subscription: Subscription,
    id: RequestId,
    dialect: Dialect,
    heartbeat: Duration,
) -> Response {
    let frames = stream::unfold(Some(subscription), move |state| {
        let id = id.clone();
        async move {
            let mut subscription = state?;
            let chunk = tokio::select! {
                event = subscription.next() => {
                    let event = event?;
                    frame(&jsonrpc::response(&id, event.render(dialect)))
                }
                () = tokio::time::sleep(heartbeat) => {
                    let mut beat = BytesMut::new();
                    encode_heartbeat(&mut beat);
                    beat.freeze()
                }
            };
            Some((Ok::<_, Infallible>(chunk), Some(subscription)))
        }
    });
    sse_response(Body::from_stream(frames))
}

/// A stream of one frame: the error, as 0.3 streaming methods answer errors.
pub(crate) fn error_event(id: &RequestId, error: &A2aError, dialect: Dialect) -> Response {
    sse_response(Body::from(frame(&jsonrpc::error_response(
        id, error, dialect,
    ))))
}
