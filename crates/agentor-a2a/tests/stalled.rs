//! The A2A client against servers that misbehave at the TCP level (a raw
//! server, not a framework): each case ends with a clear error and a
//! `failed` run end, within the configured read timeout, and the remote
//! task the stream named is cancelled.

#![allow(clippy::unwrap_used)]

#[path = "../../agentor-transport/tests/raw_server/mod.rs"]
mod raw_server;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use agentor_a2a::client::A2aClient;
use agentor_core::{Error, ErrorKind, EventResult, Kind, RunStatus};
use futures::StreamExt;
use raw_server::{json_answer, then, After, RawServer, SSE_HEAD};

const SHORT: Duration = Duration::from_millis(300);
/// Far longer than any case may take: a case that reaches it hangs.
const GUARD: Duration = Duration::from_secs(20);

/// The first frame: the task, working (so the client knows what to cancel).
const WORKING: &[u8] = b"data: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"task\":{\"id\":\"t1\",\"contextId\":\"c1\",\"status\":{\"state\":\"TASK_STATE_WORKING\"}}}}\n\n";
/// The start of an artifact chunk that never ends.
const HALF: &[u8] = b"data: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"artifactUpdate\":{\"taskId\":\"t1\",\"contextId\":\"c1\",\"artifact\":{\"artifactId\":\"a\",\"parts\":[{\"text\":\"Hel";

struct Remote {
    server: RawServer,
    /// The JSON-RPC methods posted, in order.
    methods: Arc<Mutex<Vec<String>>>,
}

/// A 1.0 agent whose card is fine and whose message stream is `stream`,
/// followed by `after`.
async fn remote(stream: Vec<u8>, after: After) -> Remote {
    let methods = Arc::new(Mutex::new(Vec::new()));
    let seen = methods.clone();
    let base = Arc::new(Mutex::new(String::new()));
    let card_base = base.clone();
    let server = RawServer::start(move |request| {
        if request.method == "GET" {
            let url = card_base.lock().unwrap().clone();
            let card = serde_json::json!({
                "name": "Stalled",
                "supportedInterfaces": [
                    {"url": url, "protocolBinding": "JSONRPC", "protocolVersion": "1.0"}
                ],
            });
            return (json_answer(&card.to_string()), After::Close);
        }
        let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap_or_default();
        let method = body["method"].as_str().unwrap_or_default().to_owned();
        seen.lock().unwrap().push(method.clone());
        if method == "SendStreamingMessage" {
            (stream.clone(), after)
        } else {
            (
                json_answer(r#"{"jsonrpc":"2.0","id":1,"result":{}}"#),
                After::Close,
            )
        }
    })
    .await;
    *base.lock().unwrap() = format!("{}/", server.url());
    Remote { server, methods }
}

/// One message to the remote agent with `read_timeout`, and how long it took.
async fn run(remote: &Remote, read_timeout: Duration) -> (Vec<EventResult>, Duration) {
    let client = A2aClient::builder()
        .read_timeout(read_timeout)
        .connect(&remote.server.url())
        .await
        .unwrap();
    let started = Instant::now();
    let items = tokio::time::timeout(GUARD, client.stream("hi").collect::<Vec<_>>())
        .await
        .expect("the run ended");
    (items, started.elapsed())
}

/// The run's one error, after checking the run is `run_start`, the error
/// and a `failed` run end, each event stamped with the card's name.
fn failure(items: &[EventResult]) -> &Error {
    let kinds: Vec<Option<Kind>> = items
        .iter()
        .map(|i| i.as_ref().ok().map(|e| e.kind()))
        .collect();
    assert_eq!(
        kinds,
        [Some(Kind::RunStart), None, Some(Kind::RunEnd)],
        "{items:?}"
    );
    let end = items[2].as_ref().unwrap();
    assert_eq!(end.run_status(), Some(RunStatus::Failed));
    assert_eq!(end.origin.source.as_deref(), Some("Stalled"));
    items[1].as_ref().unwrap_err()
}

impl Remote {
    /// Waits (at most 5 s) for the client's cancel of the stalled task.
    async fn cancelled(&self) {
        let wait = async {
            while !self
                .methods
                .lock()
                .unwrap()
                .iter()
                .any(|m| m == "CancelTask")
            {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(5), wait)
            .await
            .expect("the client cancelled the remote task");
    }
}

#[tokio::test]
async fn headers_then_silence_is_a_timeout_and_closes_the_connection() {
    let remote = remote(SSE_HEAD.to_vec(), After::Hold).await;
    let (items, took) = run(&remote, SHORT).await;
    let error = failure(&items);
    assert_eq!(error.kind(), ErrorKind::Timeout, "{error}");
    assert!(error.message().contains("no data"), "{error}");
    assert!(took >= SHORT);
    remote.server.wait_closed_by_client(1).await;
}

#[tokio::test]
async fn an_event_that_never_ends_is_a_timeout_and_cancels_the_task() {
    let remote = remote(then(SSE_HEAD, &[WORKING, HALF].concat()), After::Hold).await;
    let (items, took) = run(&remote, SHORT).await;
    let error = failure(&items);
    assert_eq!(error.kind(), ErrorKind::Timeout, "{error}");
    assert!(took >= SHORT);
    remote.server.wait_closed_by_client(1).await;
    remote.cancelled().await;
}

#[tokio::test]
async fn invalid_utf8_mid_stream_fails_at_once_without_waiting() {
    let bad = b"data: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"artifactUpdate\":{\"taskId\":\"t1\",\"contextId\":\"c1\",\"artifact\":{\"artifactId\":\"a\",\"parts\":[{\"text\":\"\xC3\x28\"}]}}}}\n\n";
    let remote = remote(then(SSE_HEAD, &[WORKING, bad].concat()), After::Hold).await;
    // A read timeout the case must not wait for: the bad byte is enough.
    let (items, took) = run(&remote, GUARD * 2).await;
    let error = failure(&items);
    assert_eq!(error.kind(), ErrorKind::Protocol, "{error}");
    assert!(error.message().contains("UTF-8"), "{error}");
    assert!(took < GUARD);
    remote.server.wait_closed_by_client(1).await;
    remote.cancelled().await;
}

#[tokio::test]
async fn a_connection_closed_mid_event_is_a_cut_stream() {
    let remote = remote(then(SSE_HEAD, &[WORKING, HALF].concat()), After::Close).await;
    let (items, _) = run(&remote, GUARD * 2).await;
    let error = failure(&items);
    assert_eq!(error.kind(), ErrorKind::Protocol, "{error}");
    assert!(
        error
            .message()
            .contains("before the remote task reached a final state"),
        "{error}"
    );
    remote.cancelled().await;
}
