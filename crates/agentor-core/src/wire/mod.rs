//! Wire encodings: agentor JSON, native JSON lines, SSE frames and NDJSON,
//! and the frontends' protocols: the [AI SDK UI message stream](ai_sdk) and
//! [AG-UI](ag_ui) events.
//!
//! Two JSON shapes, each one line per event:
//!
//! - [`native`]: flat `{"type":"text_delta","seq":7,"source":"A1","text":"Hel"}`,
//!   lossless, with a decoder; also the recording format.
//! - [`agentor`]: the five-key object of Python Agentor
//!   (`type`, `message`, `chunk`, `tool_action`, `reasoning`), for existing clients.
//!
//! And two framings that carry either shape: [`sse`] frames and [`ndjson`]
//! lines, chosen by a [`Framing`]. All encoders append to a [`BytesMut`] and allocate nothing per
//! event (tool-call arguments aside, which go through `serde_json`), so a sink
//! can reuse one buffer for a whole stream.

use std::fmt;
use std::str::FromStr;

use bytes::BytesMut;

use crate::Event;

pub mod ag_ui;
pub mod agentor;
pub mod ai_sdk;
mod framing;
mod json;
pub mod native;
pub mod ndjson;
pub mod sse;

pub use framing::Framing;
pub use native::{decode_lines, read_json_lines, read_timed_json_lines, DecodeError};

/// Writes `s` as a quoted JSON string, the way every encoder here does: one
/// scan, one copy per run of bytes needing no escape, and `\n` / `\r`
/// always escaped, so the result never spans lines (safe in an SSE `data:`
/// line or an NDJSON line). For hand-written encoders of other protocols.
///
/// ```
/// use agentor_core::wire::write_json_str;
/// use bytes::BytesMut;
///
/// let mut dst = BytesMut::new();
/// write_json_str(&mut dst, "say \"hi\"\n");
/// assert_eq!(&dst[..], br#""say \"hi\"\n""#);
/// ```
pub fn write_json_str(dst: &mut BytesMut, s: &str) {
    json::write_str(dst, s);
}

/// Which JSON shape to write events in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Format {
    /// [Native JSON](native): lossless, flat, with envelope.
    Native,
    /// [Agentor JSON](agentor): compatible with Python Agentor clients.
    #[default]
    Agentor,
}

impl Format {
    /// Every format.
    pub const ALL: &'static [Format] = &[Format::Native, Format::Agentor];

    /// The name: `native` or `agentor`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Format::Native => "native",
            Format::Agentor => "agentor",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not a [`Format`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown wire format `{0}` (expected `native` or `agentor`)")]
pub struct UnknownFormat(String);

impl FromStr for Format {
    type Err = UnknownFormat;

    /// Parses `native` or `agentor`, ignoring ASCII case (names arrive from
    /// query strings and command lines).
    fn from_str(s: &str) -> Result<Self, UnknownFormat> {
        Format::ALL
            .iter()
            .copied()
            .find(|f| f.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownFormat(s.to_owned()))
    }
}

/// Writes `event` as one line of JSON in `format` (no trailing newline).
///
/// ```
/// use agentor_core::{wire::{encode_json, Format}, Event};
/// use bytes::BytesMut;
///
/// let event = Event::text_delta("Hel").with_seq(7);
/// let mut dst = BytesMut::new();
/// encode_json(Format::Native, &event, &mut dst);
/// assert_eq!(&dst[..], br#"{"type":"text_delta","seq":7,"text":"Hel"}"#);
///
/// dst.clear();
/// encode_json("agentor".parse().unwrap(), &event, &mut dst);
/// assert!(dst.starts_with(br#"{"type":"raw_response_event","#));
/// ```
pub fn encode_json(format: Format, event: &Event, dst: &mut BytesMut) {
    match format {
        Format::Native => native::encode(event, dst),
        Format::Agentor => agentor::encode(event, dst),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn format_names() {
        assert_eq!(Format::default(), Format::Agentor);
        for f in Format::ALL {
            assert_eq!(f.to_string().parse::<Format>().unwrap(), *f);
        }
        assert_eq!("NATIVE".parse::<Format>().unwrap(), Format::Native);
        assert_eq!(
            "json".parse::<Format>().unwrap_err().to_string(),
            "unknown wire format `json` (expected `native` or `agentor`)"
        );
    }

    #[test]
    fn dispatches_by_format() {
        let event = crate::Event::message("m");
        let mut a = BytesMut::new();
        let mut b = BytesMut::new();
        encode_json(Format::Native, &event, &mut a);
        native::encode(&event, &mut b);
        assert_eq!(a, b);
        a.clear();
        b.clear();
        encode_json(Format::Agentor, &event, &mut a);
        agentor::encode(&event, &mut b);
        assert_eq!(a, b);
    }
}
