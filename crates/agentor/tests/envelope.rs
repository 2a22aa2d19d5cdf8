//! Every event of a failed run carries the run's envelope — the error
//! included: an agent over the OpenAI provider against a local server that
//! fails in each way the transport knows (an HTTP status, no server, a
//! timeout, a stream cut or broken mid-way), rendered by the two sinks of
//! this crate (`ChatStream::serialized_as` and the `Printer`).

#![allow(clippy::unwrap_used, missing_docs)]

#[path = "../../agentor-transport/tests/raw_server/mod.rs"]
mod raw_server;

use std::time::Duration;

use agentor::print::{PrintFormat, Printer};
use agentor::providers::{OpenAiChat, OpenAiConfig, RetryPolicy};
use agentor::wire::{native, Format};
use agentor::{Agentor, ErrorKind, Event, EventKind, Kind, RunStatus};
use futures::StreamExt;
use raw_server::{then, After, RawServer, SSE_HEAD};

const HI: &[u8] = b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\n";
const HALF: &[u8] = b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel";
const GUARD: Duration = Duration::from_secs(20);

/// How the server fails.
#[derive(Clone, Copy, Debug)]
enum Failure {
    Status,
    NoServer,
    Timeout,
    CutMidEvent,
    InvalidUtf8,
}

const ALL: [Failure; 5] = [
    Failure::Status,
    Failure::NoServer,
    Failure::Timeout,
    Failure::CutMidEvent,
    Failure::InvalidUtf8,
];

/// The base URL of a server failing as `failure` says (held while the
/// returned server lives), and the error kind it gives.
async fn failing(failure: Failure) -> (String, Option<RawServer>, ErrorKind) {
    let (bytes, after, kind) = match failure {
        Failure::NoServer => {
            let gone = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!("http://{}", gone.local_addr().unwrap());
            drop(gone);
            return (url, None, ErrorKind::Provider);
        }
        Failure::Status => {
            let body = r#"{"error":{"message":"Rate limit reached"}}"#;
            let answer = format!(
                "HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            (answer.into_bytes(), After::Close, ErrorKind::Provider)
        }
        Failure::Timeout => (then(SSE_HEAD, HI), After::Hold, ErrorKind::Timeout),
        Failure::CutMidEvent => (
            then(SSE_HEAD, &[HI, HALF].concat()),
            After::Close,
            ErrorKind::Provider,
        ),
        Failure::InvalidUtf8 => (
            then(SSE_HEAD, &[HI, b"data: \xFF\n\n"].concat()),
            After::Hold,
            ErrorKind::Protocol,
        ),
    };
    let server = RawServer::start(move |_| (bytes.clone(), after)).await;
    (server.url(), Some(server), kind)
}

fn agent(base: &str) -> Agentor {
    let config = OpenAiConfig::new()
        .base_url(format!("{base}/v1"))
        .model("m")
        .read_timeout(Duration::from_millis(300))
        .retry(RetryPolicy::none());
    Agentor::builder()
        .name("Helper")
        .provider(OpenAiChat::new(config))
        .build()
}

/// The run's events share one `run_id` and one `source`, `seq` never goes
/// back, one of them is an error of `kind`, and the last is a failed run end.
fn assert_one_envelope(events: &[Event], kind: ErrorKind, failure: Failure) {
    let first = &events[0];
    assert_eq!(first.kind(), Kind::RunStart, "{failure:?}: {events:?}");
    assert!(
        first.origin.run_id.is_some() && first.origin.source.is_some(),
        "{failure:?}: {first:?}"
    );
    for pair in events.windows(2) {
        assert!(
            pair[1].seq >= pair[0].seq,
            "{failure:?}: seq went back: {pair:?}"
        );
    }
    for event in events {
        assert_eq!(
            event.origin.run_id, first.origin.run_id,
            "{failure:?}: {event:?}"
        );
        assert_eq!(
            event.origin.source, first.origin.source,
            "{failure:?}: {event:?}"
        );
    }
    let errors: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Error { kind, .. } => Some(*kind),
            _ => None,
        })
        .collect();
    assert_eq!(errors, [kind], "{failure:?}: {events:?}");
    let last = events.last().unwrap();
    assert_eq!(last.run_status(), Some(RunStatus::Failed), "{failure:?}");
}

fn decode_lines(text: &str) -> Vec<Event> {
    text.lines()
        .map(|line| native::decode(line.as_bytes()).unwrap())
        .collect()
}

#[tokio::test]
async fn serialized_runs_stamp_their_error_like_every_other_event() {
    for failure in ALL {
        let (url, _server, kind) = failing(failure).await;
        let lines = agent(&url)
            .stream_chat("hi")
            .serialized_as(Format::Native)
            .collect::<Vec<String>>();
        let lines = tokio::time::timeout(GUARD, lines).await.unwrap();
        let events: Vec<Event> = lines
            .iter()
            .map(|line| native::decode(line.trim_end().as_bytes()).unwrap())
            .collect();
        assert_one_envelope(&events, kind, failure);
    }
}

#[tokio::test]
async fn printed_runs_stamp_their_error_like_every_other_event() {
    for failure in ALL {
        let (url, _server, kind) = failing(failure).await;
        let mut out = Vec::new();
        let mut printer = Printer::new(&mut out, PrintFormat::JsonLines(Format::Native));
        let run = printer.print_all(agent(&url).stream_chat("hi"));
        let status = tokio::time::timeout(GUARD, run).await.unwrap().unwrap();
        assert_eq!(status, Some(RunStatus::Failed));
        assert_one_envelope(
            &decode_lines(std::str::from_utf8(&out).unwrap()),
            kind,
            failure,
        );
    }
}
