#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use agentor_core::{ErrorKind, Kind, RunStatus};
use futures_util::StreamExt;

use super::*;

/// Each message becomes a text delta `event|data`; `end` ends the turn, and
/// `finish` owes a completed run end only after it.
#[derive(Default)]
struct Echo {
    done: bool,
}

impl TurnParser for Echo {
    fn message(&mut self, event: &str, data: &str, out: &mut Vec<EventResult>) {
        if data == "end" {
            self.done = true;
            return;
        }
        out.push(Ok(Event::new(EventKind::TextDelta {
            text: format!("{event}|{data}").into(),
            message_id: None,
        })));
    }

    fn finish(&mut self, out: &mut Vec<EventResult>) {
        if self.done {
            out.push(Ok(Event::run_end(RunStatus::Completed)));
        } else {
            self.fail(Error::provider("cut"), out);
        }
    }

    fn is_done(&self) -> bool {
        self.done
    }
}

const BODY: &str = concat!(
    "data: Café\n\n",
    ": keep-alive comment\n\n",
    "event: named\r\ndata: 中文 👍\r\n\r\n",
    "data: end\n\n",
);

fn start() -> TurnStart {
    TurnStart {
        agent: "assistant".into(),
        model: Some("m".into()),
        run_id: Some("r".into()),
        source: Some("remote".into()),
    }
}

fn body_of(chunks: Vec<Bytes>) -> ByteStream {
    Box::pin(futures_util::stream::iter(chunks.into_iter().map(Ok)))
}

async fn run_body(body: ByteStream) -> Vec<EventResult> {
    turn_stream(start(), async { Ok(body) }, None, Box::<Echo>::default())
        .collect()
        .await
}

async fn run(chunks: Vec<Bytes>) -> Vec<EventResult> {
    run_body(body_of(chunks)).await
}

fn kinds(items: &[EventResult]) -> Vec<Option<Kind>> {
    items
        .iter()
        .map(|i| i.as_ref().ok().map(Event::kind))
        .collect()
}

#[tokio::test]
async fn every_split_of_the_body_gives_the_same_turn() {
    let whole = run(vec![Bytes::from_static(BODY.as_bytes())]).await;
    let texts: Vec<_> = whole
        .iter()
        .filter_map(|e| e.as_ref().unwrap().text())
        .collect();
    assert_eq!(texts, ["|Café", "named|中文 👍"]);
    for cut in 1..BODY.len() {
        let (a, b) = BODY.as_bytes().split_at(cut);
        let split = run(vec![Bytes::copy_from_slice(a), Bytes::copy_from_slice(b)]).await;
        assert_eq!(split, whole, "cut at byte {cut}");
    }
    let bytes = BODY.bytes().map(|b| Bytes::copy_from_slice(&[b])).collect();
    assert_eq!(run(bytes).await, whole);
}

#[tokio::test]
async fn events_are_stamped_in_order_with_the_envelope() {
    let items = run(vec![Bytes::from_static(BODY.as_bytes())]).await;
    let stamps: Vec<_> = items
        .iter()
        .map(|e| {
            let e = e.as_ref().unwrap();
            (
                e.seq,
                e.origin.run_id.as_deref(),
                e.origin.source.as_deref(),
            )
        })
        .collect();
    let expected: Vec<_> = (0..4).map(|n| (n, Some("r"), Some("remote"))).collect();
    assert_eq!(stamps, expected);
    assert_eq!(
        kinds(&items),
        [
            Some(Kind::RunStart),
            Some(Kind::TextDelta),
            Some(Kind::TextDelta),
            Some(Kind::RunEnd)
        ]
    );
}

#[tokio::test]
async fn output_is_handed_out_before_the_next_chunk_is_read() {
    let read = Arc::new(AtomicUsize::new(0));
    let counter = read.clone();
    let chunks: Vec<Bytes> = BODY
        .split_inclusive("\n\n")
        .map(|s| Bytes::from(s.to_owned()))
        .collect();
    let body: ByteStream = Box::pin(futures_util::stream::iter(chunks).map(move |chunk| {
        counter.fetch_add(1, Ordering::SeqCst);
        Ok(chunk)
    }));
    let mut events = turn_stream(start(), async { Ok(body) }, None, Box::<Echo>::default());
    assert_eq!(events.next().await.unwrap().unwrap().kind(), Kind::RunStart);
    assert_eq!(read.load(Ordering::SeqCst), 0);
    assert_eq!(events.next().await.unwrap().unwrap().text(), Some("|Café"));
    assert_eq!(read.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn the_turn_stops_reading_once_the_parser_is_done() {
    let tail: ByteStream = Box::pin(futures_util::stream::iter([
        Ok(Bytes::from_static(b"data: after\n\n")),
        Err(Error::internal("read after the end")),
    ]));
    let body: ByteStream = Box::pin(body_of(vec![Bytes::from_static(BODY.as_bytes())]).chain(tail));
    let items = run_body(body).await;
    assert!(items.iter().all(Result::is_ok), "{items:?}");
    assert_eq!(items.last().unwrap().as_ref().unwrap().kind(), Kind::RunEnd);
    assert!(items
        .iter()
        .all(|e| e.as_ref().unwrap().text() != Some("|after")));
}

#[tokio::test]
async fn a_failure_to_open_is_an_error_then_a_failed_end() {
    let open = async { Err::<ByteStream, _>(Error::provider("refused")) };
    let items: Vec<_> = turn_stream(start(), open, None, Box::<Echo>::default())
        .collect()
        .await;
    assert_eq!(items.len(), 3);
    assert_eq!(items[1].as_ref().unwrap_err().kind(), ErrorKind::Provider);
    let end = items[2].as_ref().unwrap();
    assert_eq!((end.seq, end.run_status()), (1, Some(RunStatus::Failed)));
}

#[tokio::test]
async fn a_whole_answer_is_one_message_then_the_finish() {
    let open = async { Ok(Body::Whole(Bytes::from_static(b"{\"x\": 1}"))) };
    let items: Vec<_> = turn_stream(start(), open, None, Box::<Echo>::default())
        .collect()
        .await;
    assert_eq!(items[1].as_ref().unwrap().text(), Some("|{\"x\": 1}"));
    // Never ended with `end`: the parser's finish says the turn was cut.
    assert_eq!(items[2].as_ref().unwrap_err().message(), "cut");
    let open = async { Ok(Body::Whole(Bytes::from_static(b"ok \xFF"))) };
    let items: Vec<_> = turn_stream(start(), open, None, Box::<Echo>::default())
        .collect()
        .await;
    let error = items[1].as_ref().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Protocol);
    assert!(error.message().contains("byte 3"), "{error}");
}

#[tokio::test]
async fn invalid_utf8_mid_stream_fails_at_once_and_reads_no_further() {
    let body: ByteStream = Box::pin(futures_util::stream::iter([
        Ok(Bytes::from_static(b"data: fine\n\ndata: b\xFFd\n")),
        Err(Error::internal("read after the bad byte")),
    ]));
    let items = run_body(body).await;
    assert_eq!(
        kinds(&items),
        [
            Some(Kind::RunStart),
            Some(Kind::TextDelta),
            None,
            Some(Kind::RunEnd)
        ]
    );
    let error = items[2].as_ref().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Protocol);
    assert!(error.message().contains("UTF-8"), "{error}");
}

#[tokio::test]
async fn an_event_over_the_bound_fails_the_turn() {
    let big = vec![b'x'; DEFAULT_MAX_EVENT_BYTES / 2];
    let chunks = vec![
        Bytes::from_static(b"data: "),
        Bytes::from(big.clone()),
        Bytes::from(big.clone()),
        Bytes::from(big),
    ];
    let items = run(chunks).await;
    let error = items[1].as_ref().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Protocol);
    assert!(error.message().contains("exceeds"), "{error}");
    assert_eq!(
        items[2].as_ref().unwrap().run_status(),
        Some(RunStatus::Failed)
    );
}

#[tokio::test]
async fn a_body_error_mid_stream_is_the_turn_error() {
    let body: ByteStream = Box::pin(futures_util::stream::iter([
        Ok(Bytes::from_static(b"data: one\n\ndata: tw")),
        Err(Error::provider("connection reset")),
    ]));
    let items = run_body(body).await;
    assert_eq!(items[2].as_ref().unwrap_err().message(), "connection reset");
    assert_eq!(
        items[3].as_ref().unwrap().run_status(),
        Some(RunStatus::Failed)
    );
    assert_eq!(items.len(), 4);
}
