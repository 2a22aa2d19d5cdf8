//! [`turn_stream`]: a response body, SSE-parsed and fed to a [`TurnParser`],
//! as a well-formed event stream.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use agentor_core::{BoxEventStream, Error, Event, EventKind, EventResult, RunStatus, Text};
use bytes::Bytes;
use eventsource_stream::{EventStream, EventStreamError, Eventsource};
use futures_core::Stream;

use super::guard::GuardedBody;
use crate::TurnParser;

/// A response body: chunks of bytes, or the failure that ended it.
pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, Error>> + Send>>;

/// What opens the body: sends the request (with its retries) and resolves to
/// the body once the answer's headers say it is a stream.
type Open = Pin<Box<dyn Future<Output = Result<ByteStream, Error>> + Send>>;

/// Who runs the turn: what the `run_start` says and what every event's
/// envelope carries.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TurnStart {
    /// The agent running (`assistant` when the request names none).
    pub agent: Text,
    /// The model answering.
    pub model: Option<Text>,
    /// The run id set on every event.
    pub run_id: Option<Text>,
}

/// A model turn as an event stream: a `run_start`, then what `parser` makes of
/// the SSE messages of the body that `open` resolves to, each event stamped
/// with an increasing `seq` (from 0) and `start.run_id`.
///
/// The stream ends right after the parser's [`TurnParser::finish`] output,
/// called once the parser [is done](TurnParser::is_done) or the body ends. A
/// failure to open, a transport error, a body that is not UTF-8 or a silence
/// longer than `read_timeout` between chunks ends it with that `Err` and a
/// `failed` run end. The parser's output is handed out before the next chunk
/// is read, so nothing piles up; dropping the stream drops the body (and so
/// closes the connection).
///
/// The transport of the OpenAI providers; replay and benchmarks drive the
/// same path over bytes they already hold:
///
/// ```
/// use agentor_core::Kind;
/// use agentor_providers::http::{turn_stream, ByteStream, TurnStart};
/// use agentor_providers::ChatCompletionsParser;
/// use bytes::Bytes;
/// use futures_util::StreamExt;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let body = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\ndata: [DONE]\n\n";
/// let bytes: ByteStream = Box::pin(futures_util::stream::iter([Ok(Bytes::from(body))]));
/// let start = TurnStart { agent: "assistant".into(), ..TurnStart::default() };
/// let events = turn_stream(start, async { Ok(bytes) }, None, Box::new(ChatCompletionsParser::new()));
/// let kinds: Vec<Kind> = events.map(|e| e.unwrap().kind()).collect().await;
/// assert_eq!(kinds, [Kind::RunStart, Kind::TextDelta, Kind::Message, Kind::RunEnd]);
/// # }
/// ```
pub fn turn_stream<F>(
    start: TurnStart,
    open: F,
    read_timeout: Option<Duration>,
    parser: Box<dyn TurnParser>,
) -> BoxEventStream
where
    F: Future<Output = Result<ByteStream, Error>> + Send + 'static,
{
    let run_start = Event::new(EventKind::RunStart {
        agent: start.agent,
        model: start.model,
    });
    Box::pin(TurnStream {
        phase: Phase::Opening(Box::pin(open)),
        parser,
        out: vec![Ok(run_start)],
        seq: 0,
        run_id: start.run_id,
        read_timeout,
    })
}

// The turn lives in one box (`BoxEventStream`) and is in one phase at a
// time, so the large reading phase costs nothing to keep inline.
#[allow(clippy::large_enum_variant)]
enum Phase {
    Opening(Open),
    Reading(EventStream<GuardedBody<ByteStream>>),
    Done,
}

struct TurnStream {
    phase: Phase,
    parser: Box<dyn TurnParser>,
    /// Items to hand out, in reverse order: `pop` yields the next one, and
    /// the vector's allocation is reused for every message.
    out: Vec<EventResult>,
    seq: u64,
    run_id: Option<Text>,
    read_timeout: Option<Duration>,
}

impl TurnStream {
    fn stamp(&mut self, item: EventResult) -> EventResult {
        item.map(|mut event| {
            event.seq = self.seq;
            self.seq += 1;
            event.run_id.clone_from(&self.run_id);
            event
        })
    }

    /// Ends the turn on a failure the parser never saw.
    fn fail(&mut self, error: Error) {
        self.out.push(Ok(Event::run_end(RunStatus::Failed)));
        self.out.push(Err(error));
        self.phase = Phase::Done;
    }

    fn finish(&mut self) {
        self.parser.finish(&mut self.out);
        self.out.reverse();
        self.phase = Phase::Done;
    }
}

impl Stream for TurnStream {
    type Item = EventResult;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<EventResult>> {
        let this = &mut *self;
        loop {
            if let Some(item) = this.out.pop() {
                return Poll::Ready(Some(this.stamp(item)));
            }
            match &mut this.phase {
                Phase::Done => return Poll::Ready(None),
                Phase::Opening(open) => match open.as_mut().poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Ok(body)) => {
                        let body = GuardedBody::new(body, this.read_timeout);
                        this.phase = Phase::Reading(body.eventsource());
                    }
                    Poll::Ready(Err(error)) => this.fail(error),
                },
                Phase::Reading(messages) => match Pin::new(messages).poll_next(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Some(Ok(message))) => {
                        // eventsource-stream names an unnamed event `message`;
                        // the parser contract says unnamed is empty.
                        let name = match message.event.as_str() {
                            "message" => "",
                            name => name,
                        };
                        this.parser.message(name, &message.data, &mut this.out);
                        if this.parser.is_done() {
                            this.finish();
                        } else {
                            this.out.reverse();
                        }
                    }
                    Poll::Ready(Some(Err(error))) => this.fail(sse_error(error)),
                    Poll::Ready(None) => this.finish(),
                },
            }
        }
    }
}

fn sse_error(error: EventStreamError<Error>) -> Error {
    match error {
        EventStreamError::Transport(error) => error,
        EventStreamError::Utf8(error) => {
            Error::protocol(format!("the response body is not valid UTF-8: {error}"))
        }
        EventStreamError::Parser(error) => {
            Error::protocol(format!("malformed server-sent events: {error}"))
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use agentor_core::{ErrorKind, Kind};
    use futures_util::StreamExt;

    use super::*;
    use crate::ChatCompletionsParser;

    const BODY: &str = concat!(
        "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Café \"}}]}\n\n",
        ": keep-alive comment\n\n",
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"中文 👍\"}}]}\r\n\r\n",
        "data: [DONE]\n\n",
    );

    fn start() -> TurnStart {
        TurnStart {
            agent: "assistant".into(),
            model: Some("m".into()),
            run_id: Some("r".into()),
        }
    }

    fn body_of(chunks: Vec<Bytes>) -> ByteStream {
        Box::pin(futures_util::stream::iter(chunks.into_iter().map(Ok)))
    }

    async fn run(chunks: Vec<Bytes>) -> Vec<EventResult> {
        let body = body_of(chunks);
        let parser = Box::new(ChatCompletionsParser::new());
        turn_stream(start(), async { Ok(body) }, None, parser)
            .collect()
            .await
    }

    #[tokio::test]
    async fn every_split_of_the_body_gives_the_same_turn() {
        let whole = run(vec![Bytes::from_static(BODY.as_bytes())]).await;
        let texts: String = whole
            .iter()
            .filter_map(|e| e.as_ref().unwrap().text())
            .collect();
        assert_eq!(texts, "Café 中文 👍Café 中文 👍");
        for cut in 1..BODY.len() {
            let (a, b) = BODY.as_bytes().split_at(cut);
            let split = run(vec![Bytes::copy_from_slice(a), Bytes::copy_from_slice(b)]).await;
            assert_eq!(split, whole, "cut at byte {cut}");
        }
        let bytes = BODY.bytes().map(|b| Bytes::copy_from_slice(&[b])).collect();
        assert_eq!(run(bytes).await, whole);
    }

    #[tokio::test]
    async fn events_are_stamped_in_order() {
        let items = run(vec![Bytes::from_static(BODY.as_bytes())]).await;
        let stamps: Vec<_> = items
            .iter()
            .map(|e| {
                let e = e.as_ref().unwrap();
                (e.seq, e.run_id.as_deref() == Some("r"))
            })
            .collect();
        assert_eq!(stamps, (0..5).map(|n| (n, true)).collect::<Vec<_>>());
        assert_eq!(items[0].as_ref().unwrap().kind(), Kind::RunStart);
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
        let parser = Box::new(ChatCompletionsParser::new());
        let mut events = turn_stream(start(), async { Ok(body) }, None, parser);
        assert_eq!(events.next().await.unwrap().unwrap().kind(), Kind::RunStart);
        assert_eq!(read.load(Ordering::SeqCst), 0);
        assert_eq!(events.next().await.unwrap().unwrap().text(), Some("Café "));
        assert_eq!(read.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn the_turn_stops_reading_once_the_parser_is_done() {
        let tail = Bytes::from_static(
            b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"after\"}}]}\n\n",
        );
        let chunks = vec![Bytes::from_static(BODY.as_bytes()), tail];
        let items = run(chunks).await;
        assert_eq!(items.last().unwrap().as_ref().unwrap().kind(), Kind::RunEnd);
        assert!(items
            .iter()
            .all(|e| e.as_ref().unwrap().text() != Some("after")));
    }

    #[tokio::test]
    async fn a_failure_to_open_is_an_error_then_a_failed_end() {
        let parser = Box::new(ChatCompletionsParser::new());
        let open = async { Err::<ByteStream, _>(Error::provider("refused")) };
        let items: Vec<_> = turn_stream(start(), open, None, parser).collect().await;
        assert_eq!(items.len(), 3);
        assert_eq!(items[1].as_ref().unwrap_err().kind(), ErrorKind::Provider);
        let end = items[2].as_ref().unwrap();
        assert_eq!((end.seq, end.run_status()), (1, Some(RunStatus::Failed)));
    }
}
