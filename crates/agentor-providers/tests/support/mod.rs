//! An in-process OpenAI stub on 127.0.0.1: it answers each request with the
//! next scripted [`Reply`], cut into chunks, and records what it received.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use agentor_core::{EventResult, Kind};
use agentor_providers::{OpenAiConfig, RetryPolicy};
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use futures::{Stream, StreamExt};
use tokio::sync::Notify;

/// One scripted answer.
#[derive(Clone, Debug)]
pub struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    /// Where to cut the body (byte offsets); empty: in `chunk_size` pieces.
    cuts: Vec<usize>,
    chunk_size: usize,
    delay: Duration,
    ending: Ending,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Ending {
    Close,
    /// Never end: the server goes silent.
    Stall,
    /// Fail the body: the connection is cut mid-response.
    Abort,
}

impl Reply {
    /// A `200` event stream with `body`.
    pub fn sse(body: impl Into<Vec<u8>>) -> Self {
        Reply {
            status: 200,
            headers: vec![("content-type", "text/event-stream".into())],
            body: body.into(),
            cuts: Vec::new(),
            chunk_size: 64,
            delay: Duration::ZERO,
            ending: Ending::Close,
        }
    }

    /// A `200` event stream with the body of `tests/fixtures/{name}.sse`.
    pub fn fixture(name: &str) -> Self {
        Reply::sse(fixture(name))
    }

    /// An error answer with a JSON body.
    pub fn status(status: u16, json: &str) -> Self {
        Reply {
            status,
            headers: vec![("content-type", "application/json".into())],
            ..Reply::sse(json)
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_owned()));
        self
    }

    /// Sends the body in pieces of `size` bytes.
    pub fn chunked(mut self, size: usize) -> Self {
        self.chunk_size = size.max(1);
        self
    }

    /// Cuts the body at these offsets.
    pub fn cut_at(mut self, cuts: Vec<usize>) -> Self {
        self.cuts = cuts;
        self
    }

    /// Waits this long before each piece.
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// Goes silent after the body instead of ending it.
    pub fn stalling(mut self) -> Self {
        self.ending = Ending::Stall;
        self
    }

    /// Breaks the connection after the body instead of ending it.
    pub fn aborting(mut self) -> Self {
        self.ending = Ending::Abort;
        self
    }

    fn pieces(&self) -> Vec<Bytes> {
        if self.cuts.is_empty() {
            return self
                .body
                .chunks(self.chunk_size)
                .map(Bytes::copy_from_slice)
                .collect();
        }
        let mut pieces = Vec::new();
        let mut start = 0;
        for &cut in self.cuts.iter().chain([&self.body.len()]) {
            pieces.push(Bytes::copy_from_slice(&self.body[start..cut]));
            start = cut;
        }
        pieces
    }
}

/// The bytes of `tests/fixtures/{name}.sse`.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}.sse", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A request the stub received.
#[derive(Clone, Debug)]
pub struct Received {
    pub path: String,
    pub headers: HeaderMap,
    pub body: serde_json::Value,
}

#[derive(Default)]
struct Shared {
    script: Mutex<VecDeque<Reply>>,
    received: Mutex<Vec<Received>>,
    body_dropped: AtomicBool,
    dropped: Notify,
}

/// The running stub.
pub struct Stub {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
}

impl Stub {
    /// Starts a stub answering with `replies`, in order (a `500` once they run out).
    pub async fn start(replies: Vec<Reply>) -> Stub {
        let shared = Arc::new(Shared::default());
        shared.script.lock().unwrap().extend(replies);
        let app = axum::Router::new()
            .fallback(answer)
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Stub { addr, shared }
    }

    /// A config pointing at the stub, with a test key and quick retries.
    pub fn config(&self) -> OpenAiConfig {
        OpenAiConfig::new()
            .base_url(format!("http://{}/v1/", self.addr))
            .api_key("sk-test")
            .model("gpt-4o-mini")
            .retry(RetryPolicy::default().initial_backoff(Duration::from_millis(10)))
    }

    /// The requests received so far.
    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }

    /// Waits until a response body the stub was sending is dropped (its
    /// connection closed or the response finished).
    pub async fn body_dropped(&self) {
        loop {
            let notified = self.shared.dropped.notified();
            if self.shared.body_dropped.load(Ordering::SeqCst) {
                return;
            }
            notified.await;
        }
    }
}

/// Flags the body's drop: hyper drops the body when the client goes away.
struct DropFlag(Arc<Shared>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.body_dropped.store(true, Ordering::SeqCst);
        self.0.dropped.notify_waiters();
    }
}

async fn answer(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    shared.received.lock().unwrap().push(Received {
        path: uri.path().to_owned(),
        headers,
        body: serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
    });
    let reply = shared.script.lock().unwrap().pop_front();
    let Some(reply) = reply else {
        return Response::builder()
            .status(StatusCode::INTERNAL_SERVER_ERROR)
            .body(Body::from("stub: no reply left"))
            .unwrap();
    };
    let mut response = Response::builder().status(reply.status);
    for (name, value) in &reply.headers {
        response = response.header(*name, value);
    }
    response.body(body_of(&reply, shared)).unwrap()
}

fn body_of(reply: &Reply, shared: Arc<Shared>) -> Body {
    let delay = reply.delay;
    let pieces = futures::stream::iter(reply.pieces()).then(move |piece| async move {
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        Ok::<_, std::io::Error>(piece)
    });
    let ending: std::pin::Pin<Box<dyn Stream<Item = _> + Send>> = match reply.ending {
        Ending::Close => Box::pin(futures::stream::empty()),
        Ending::Stall => Box::pin(futures::stream::pending()),
        Ending::Abort => Box::pin(futures::stream::once(async {
            Err(std::io::Error::other("stub: connection cut"))
        })),
    };
    let flag = DropFlag(shared);
    Body::from_stream(pieces.chain(ending).map(move |piece| {
        let _keep = &flag;
        piece
    }))
}

/// Every item of `stream`.
pub async fn collect(stream: impl Stream<Item = EventResult>) -> Vec<EventResult> {
    stream.collect().await
}

/// The kinds of the items (`None` for an `Err`).
pub fn kinds(items: &[EventResult]) -> Vec<Option<Kind>> {
    items
        .iter()
        .map(|item| item.as_ref().ok().map(|e| e.kind()))
        .collect()
}

/// The text deltas, joined.
pub fn text_of(items: &[EventResult], kind: Kind) -> String {
    items
        .iter()
        .filter_map(|item| item.as_ref().ok())
        .filter(|e| e.kind() == kind)
        .filter_map(|e| e.text())
        .collect()
}
