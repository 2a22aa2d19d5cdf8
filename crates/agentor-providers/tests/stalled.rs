//! The OpenAI Chat Completions provider against servers that misbehave at
//! the TCP level (a raw server, not a framework): each case ends with a
//! clear error and a `failed` run end, within the configured read timeout.

#![allow(clippy::unwrap_used)]

#[path = "../../agentor-transport/tests/raw_server/mod.rs"]
mod raw_server;

use std::time::{Duration, Instant};

use agentor_core::{ChatMessage, ChatRequest, Error, ErrorKind, EventResult, Provider, RunStatus};
use agentor_providers::{OpenAiChat, OpenAiConfig, RetryPolicy};
use raw_server::{then, After, RawServer, SSE_HEAD};

const SHORT: Duration = Duration::from_millis(300);
/// Far longer than any case may take: a case that reaches it hangs.
const GUARD: Duration = Duration::from_secs(20);

const HI: &[u8] = b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\n";
const HALF: &[u8] = b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel";

async fn serve(bytes: Vec<u8>, after: After) -> RawServer {
    RawServer::start(move |_| (bytes.clone(), after)).await
}

/// The provider's turn against `server`, with `read_timeout` and no retries,
/// and how long it took.
async fn turn(server: &RawServer, read_timeout: Duration) -> (Vec<EventResult>, Duration) {
    let config = OpenAiConfig::new()
        .base_url(format!("{}/v1", server.url()))
        .model("m")
        .read_timeout(read_timeout)
        .retry(RetryPolicy::none());
    let request = ChatRequest::new("m", vec![ChatMessage::user("hi")]);
    let started = Instant::now();
    let stream = OpenAiChat::new(config).stream(request);
    let items = tokio::time::timeout(GUARD, futures::StreamExt::collect::<Vec<_>>(stream))
        .await
        .expect("the turn ended");
    (items, started.elapsed())
}

/// The turn's one error, after checking that it is followed by a `failed`
/// run end and nothing else, and that the texts before it are `texts`.
fn failure<'a>(items: &'a [EventResult], texts: &[&str]) -> &'a Error {
    let errors: Vec<&Error> = items.iter().filter_map(|i| i.as_ref().err()).collect();
    assert_eq!(errors.len(), 1, "{items:?}");
    let (last, before) = items.split_last().unwrap();
    assert_eq!(
        last.as_ref().unwrap().run_status(),
        Some(RunStatus::Failed),
        "{items:?}"
    );
    assert!(before.last().unwrap().is_err(), "{items:?}");
    let said: Vec<&str> = items
        .iter()
        .filter_map(|i| i.as_ref().ok()?.text())
        .collect();
    assert_eq!(said, texts);
    errors[0]
}

#[tokio::test]
async fn no_headers_at_all_is_a_timeout() {
    let server = serve(Vec::new(), After::Hold).await;
    let (items, took) = turn(&server, SHORT).await;
    let error = failure(&items, &[]);
    assert_eq!(error.kind(), ErrorKind::Timeout, "{error}");
    assert!(error.message().contains("no answer"), "{error}");
    assert!(took >= SHORT);
    server.wait_closed_by_client(1).await;
}

#[tokio::test]
async fn headers_then_silence_is_a_timeout_and_closes_the_connection() {
    let server = serve(SSE_HEAD.to_vec(), After::Hold).await;
    let (items, took) = turn(&server, SHORT).await;
    let error = failure(&items, &[]);
    assert_eq!(error.kind(), ErrorKind::Timeout, "{error}");
    assert!(error.message().contains("no data"), "{error}");
    assert!(took >= SHORT);
    server.wait_closed_by_client(1).await;
}

#[tokio::test]
async fn an_event_that_never_ends_is_a_timeout_after_what_came_whole() {
    let server = serve(then(SSE_HEAD, &[HI, HALF].concat()), After::Hold).await;
    let (items, took) = turn(&server, SHORT).await;
    let error = failure(&items, &["Hi"]);
    assert_eq!(error.kind(), ErrorKind::Timeout, "{error}");
    assert!(took >= SHORT);
    server.wait_closed_by_client(1).await;
}

#[tokio::test]
async fn invalid_utf8_mid_stream_fails_at_once_without_waiting() {
    let bad = b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\xFF\"}}]}\n\n";
    let server = serve(then(SSE_HEAD, &[HI, bad].concat()), After::Hold).await;
    // A read timeout the case must not wait for: the bad byte is enough.
    let (items, took) = turn(&server, GUARD * 2).await;
    let error = failure(&items, &["Hi"]);
    assert_eq!(error.kind(), ErrorKind::Protocol, "{error}");
    assert!(error.message().contains("UTF-8"), "{error}");
    assert!(took < GUARD);
    server.wait_closed_by_client(1).await;
}

#[tokio::test]
async fn a_connection_closed_mid_event_is_a_cut_stream() {
    let server = serve(then(SSE_HEAD, &[HI, HALF].concat()), After::Close).await;
    let (items, _) = turn(&server, GUARD * 2).await;
    let error = failure(&items, &["Hi"]);
    assert_eq!(error.kind(), ErrorKind::Provider, "{error}");
    assert!(error.message().contains("[DONE]"), "{error}");
}

#[tokio::test]
async fn comments_alone_are_not_progress_and_time_out() {
    // A keep-alive comment three times per timeout: bytes keep coming, but
    // never an event.
    let every = SHORT / 3;
    let server = serve(then(SSE_HEAD, HI), After::Comments(every)).await;
    let (items, took) = turn(&server, SHORT).await;
    let error = failure(&items, &["Hi"]);
    assert_eq!(error.kind(), ErrorKind::Timeout, "{error}");
    assert!(took >= SHORT && took < SHORT * 4, "{took:?}");
    server.wait_closed_by_client(1).await;
}
