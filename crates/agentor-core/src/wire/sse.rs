//! Server-sent event frames, per the WHATWG HTML standard (§ 9.2).
//!
//! ```text
//! id: 7
//! event: text_delta
//! data: {"type":"text_delta","seq":7,"text":"Hel"}
//!
//! ```
//!
//! `id` is the event's `seq`, so a reconnecting client's `Last-Event-ID` says
//! where it stopped; `event` is the [`Kind`](crate::Kind) name, except that
//! the run end is `done`, the one name a client must listen for to know the
//! stream is over. `data` is the event as single-line JSON in the chosen
//! [`Format`]: JSON escapes `\n` and `\r`, the only characters SSE splits
//! lines on, so one `data:` line always carries the whole event.
//!
//! The other direction is [`Decoder`]: an incremental, zero-copy parser of
//! any `text/event-stream` body (not only ours), faithful to the standard's
//! parsing rules, bounded per event, and the body's UTF-8 guard. Remote
//! sources (model APIs, A2A agents) read their streams with it.

use bytes::BytesMut;

mod decode;

pub use decode::{Decoder, SseError, SseEvent, SseStream};

use super::json::write_u64;
use super::{encode_json, Format};
use crate::{Error, Event, EventKind};

/// The SSE event name of the run end, the last frame of a stream.
pub const DONE: &str = "done";

/// Writes `event` as one SSE frame, blank line included.
///
/// ```
/// use agentor_core::{wire::{sse, Format}, Event, RunStatus};
/// use bytes::BytesMut;
///
/// let mut dst = BytesMut::new();
/// sse::encode_event(Format::Native, &Event::text_delta("Hel").with_seq(7), &mut dst);
/// sse::encode_event(Format::Native, &Event::run_end(RunStatus::Completed).with_seq(8), &mut dst);
/// assert_eq!(
///     std::str::from_utf8(&dst).unwrap(),
///     "id: 7\nevent: text_delta\ndata: {\"type\":\"text_delta\",\"seq\":7,\"text\":\"Hel\"}\n\n\
///      id: 8\nevent: done\ndata: {\"type\":\"run_end\",\"seq\":8,\"status\":\"completed\"}\n\n"
/// );
/// ```
pub fn encode_event(format: Format, event: &Event, dst: &mut BytesMut) {
    dst.extend_from_slice(b"id: ");
    write_u64(dst, event.seq);
    dst.extend_from_slice(b"\nevent: ");
    let name = match event.kind {
        EventKind::RunEnd { .. } => DONE,
        _ => event.kind().as_str(),
    };
    dst.extend_from_slice(name.as_bytes());
    dst.extend_from_slice(b"\ndata: ");
    encode_json(format, event, dst);
    dst.extend_from_slice(b"\n\n");
}

/// Writes an `Err` item of the stream as an `event: error` frame with id `seq`.
///
/// ```
/// use agentor_core::{wire::{sse, Format}, Error};
/// use bytes::BytesMut;
///
/// let mut dst = BytesMut::new();
/// sse::encode_error(Format::Native, &Error::provider("429"), 4, &mut dst);
/// assert_eq!(
///     &dst[..],
///     &b"id: 4\nevent: error\ndata: {\"type\":\"error\",\"seq\":4,\"error_kind\":\"provider\",\"message\":\"429\"}\n\n"[..]
/// );
/// ```
pub fn encode_error(format: Format, err: &Error, seq: u64, dst: &mut BytesMut) {
    encode_event(format, &err.to_event().with_seq(seq), dst);
}

/// Writes a comment frame that keeps idle connections (and proxies) open.
/// Clients ignore it.
///
/// ```
/// let mut dst = bytes::BytesMut::new();
/// agentor_core::wire::sse::encode_heartbeat(&mut dst);
/// assert_eq!(&dst[..], b": keep-alive\n\n");
/// ```
pub fn encode_heartbeat(dst: &mut BytesMut) {
    dst.extend_from_slice(b": keep-alive\n\n");
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use eventsource_stream::Eventsource;
    use futures::StreamExt;
    use serde_json::json;

    use super::*;
    use crate::wire::native;
    use crate::{ErrorKind, RunStatus};

    /// Parses `bytes` with an independent SSE parser, fed in `chunk`-byte pieces.
    async fn parse(bytes: &[u8], chunk: usize) -> Vec<eventsource_stream::Event> {
        let pieces: Vec<Result<Vec<u8>, std::convert::Infallible>> =
            bytes.chunks(chunk).map(|c| Ok(c.to_vec())).collect();
        futures::stream::iter(pieces)
            .eventsource()
            .map(Result::unwrap)
            .collect()
            .await
    }

    fn tricky_events() -> Vec<Event> {
        [
            "plain",
            "two\nlines",
            "crlf\r\nend",
            "lone\rcr",
            "trailing\n",
            "\r\n\r\n",
            "line\u{2028}sep\u{2029}para\u{85}nel",
            "nul\u{0}and\u{1b}esc",
            "data: fake\n\nid: 99\nevent: done",
            ": comment\n",
            "日本語 😀 \"q\" \\",
            "",
        ]
        .into_iter()
        .enumerate()
        .map(|(i, text)| Event::text_delta(text).with_seq(i as u64))
        .collect()
    }

    #[test]
    fn frames_are_exact() {
        let mut dst = BytesMut::new();
        encode_event(
            Format::Agentor,
            &Event::text_delta("a\r\nb").with_seq(3),
            &mut dst,
        );
        assert_eq!(
            &dst[..],
            &b"id: 3\nevent: text_delta\ndata: {\"type\":\"raw_response_event\",\"message\":null,\"chunk\":\"a\\r\\nb\",\"tool_action\":null,\"reasoning\":null}\n\n"[..]
        );
        dst.clear();
        encode_event(
            Format::Agentor,
            &Event::run_end(RunStatus::Cancelled),
            &mut dst,
        );
        assert_eq!(
            &dst[..],
            &b"id: 0\nevent: done\ndata: {\"type\":\"run_end\",\"message\":\"cancelled\",\"chunk\":null,\"tool_action\":null,\"reasoning\":null}\n\n"[..]
        );
    }

    #[test]
    fn every_frame_has_one_data_line() {
        for format in Format::ALL {
            for event in tricky_events() {
                let mut dst = BytesMut::new();
                encode_event(*format, &event, &mut dst);
                let text = std::str::from_utf8(&dst).unwrap();
                assert!(!text.contains('\r'));
                let lines: Vec<_> = text.split('\n').collect();
                assert_eq!(lines.len(), 5, "{text:?}");
                assert!(lines[2].starts_with("data: {"));
                assert_eq!(lines[3..], ["", ""]);
                serde_json::from_str::<serde_json::Value>(&lines[2]["data: ".len()..]).unwrap();
            }
        }
    }

    #[tokio::test]
    async fn an_independent_parser_reads_the_frames_back() {
        let mut events = tricky_events();
        events.push(Event::tool_call("c", "t", json!({"s": "x\ny"})).with_seq(50));
        events.push(Event::run_end(RunStatus::Completed).with_seq(51));
        let mut dst = BytesMut::new();
        encode_heartbeat(&mut dst);
        for event in &events {
            encode_event(Format::Native, event, &mut dst);
            encode_heartbeat(&mut dst);
        }
        encode_error(Format::Native, &Error::timeout("idle"), 52, &mut dst);
        for chunk in [1, 3, 64, dst.len()] {
            let parsed = parse(&dst, chunk).await;
            assert_eq!(parsed.len(), events.len() + 1);
            for (frame, event) in parsed.iter().zip(&events) {
                assert_eq!(frame.id, event.seq.to_string());
                let name = if event.run_status().is_some() {
                    DONE
                } else {
                    event.kind().as_str()
                };
                assert_eq!(frame.event, name);
                assert_eq!(native::decode(frame.data.as_bytes()).unwrap(), *event);
            }
            let last = parsed.last().unwrap();
            assert_eq!((last.id.as_str(), last.event.as_str()), ("52", "error"));
            let error = native::decode(last.data.as_bytes()).unwrap();
            assert_eq!(error, Event::error(ErrorKind::Timeout, "idle").with_seq(52));
        }
    }
}
