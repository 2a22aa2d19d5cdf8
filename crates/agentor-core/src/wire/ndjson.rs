//! NDJSON: one JSON event per line, for `application/x-ndjson` responses and
//! for recordings (in the [native](super::native) format).

use bytes::{BufMut, BytesMut};

use super::{encode_json, Format};
use crate::Event;

/// Writes `event` in `format` followed by `\n`.
///
/// The JSON never contains a raw newline, so each event is exactly one line.
///
/// ```
/// use agentor_core::{wire::{ndjson, Format}, Event};
/// use bytes::BytesMut;
///
/// let mut dst = BytesMut::new();
/// ndjson::encode(Format::Native, &Event::text_delta("a\nb"), &mut dst);
/// ndjson::encode(Format::Native, &Event::text_delta("c").with_seq(1), &mut dst);
/// assert_eq!(
///     &dst[..],
///     &b"{\"type\":\"text_delta\",\"seq\":0,\"text\":\"a\\nb\"}\n\
///        {\"type\":\"text_delta\",\"seq\":1,\"text\":\"c\"}\n"[..]
/// );
/// ```
pub fn encode(format: Format, event: &Event, dst: &mut BytesMut) {
    encode_json(format, event, dst);
    dst.put_u8(b'\n');
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::wire::native;

    #[test]
    fn lines_decode_back() {
        let events = [
            Event::text_delta("line\r\nbreak\u{2028}").with_seq(1),
            Event::message("done").with_seq(2),
        ];
        let mut dst = BytesMut::new();
        for e in &events {
            encode(Format::Native, e, &mut dst);
        }
        let text = std::str::from_utf8(&dst).unwrap();
        assert_eq!(text.matches('\n').count(), 2);
        let back: Vec<_> = native::decode_lines(text).map(Result::unwrap).collect();
        assert_eq!(back, events);
    }

    #[test]
    fn agentor_lines() {
        let mut dst = BytesMut::new();
        encode(Format::Agentor, &Event::text_delta("x"), &mut dst);
        assert_eq!(
            &dst[..],
            &b"{\"type\":\"raw_response_event\",\"message\":null,\"chunk\":\"x\",\"tool_action\":null,\"reasoning\":null}\n"[..]
        );
    }
}
