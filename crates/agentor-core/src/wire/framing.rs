//! [`Framing`]: how a stream of events is laid out on the wire, SSE or NDJSON.

use bytes::BytesMut;

use super::{ndjson, sse, Format};
use crate::Event;

/// How a stream of events is framed on the wire: each event, in a JSON
/// [`Format`], as an [SSE](sse) frame or an [NDJSON](ndjson) line.
///
/// ```
/// use agentor_core::{wire::{Format, Framing}, Event};
/// use bytes::BytesMut;
///
/// let event = Event::text_delta("Hi").with_seq(2);
/// let mut dst = BytesMut::new();
/// Framing::Ndjson.encode(Format::Native, &event, &mut dst);
/// assert_eq!(&dst[..], b"{\"type\":\"text_delta\",\"seq\":2,\"text\":\"Hi\"}\n");
///
/// dst.clear();
/// Framing::Sse.encode(Format::Native, &event, &mut dst);
/// assert!(dst.starts_with(b"id: 2\nevent: text_delta\ndata: {"));
/// assert_eq!(Framing::Sse.content_type(), "text/event-stream");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Framing {
    /// `text/event-stream`: `id:`, `event:`, `data:` frames, heartbeat
    /// comments, and a terminal `event: done`.
    #[default]
    Sse,
    /// `application/x-ndjson`: one JSON event per line, no heartbeat (NDJSON
    /// has no comment syntax; an empty line would break strict readers).
    Ndjson,
}

impl Framing {
    /// NDJSON when the value of an `Accept` header names
    /// `application/x-ndjson` (parameters and case aside), SSE otherwise.
    ///
    /// ```
    /// use agentor_core::wire::Framing;
    ///
    /// assert_eq!(Framing::from_accept("text/event-stream"), Framing::Sse);
    /// assert_eq!(Framing::from_accept("*/*"), Framing::Sse);
    /// assert_eq!(
    ///     Framing::from_accept("text/html, Application/X-NDJSON; q=0.9"),
    ///     Framing::Ndjson
    /// );
    /// ```
    pub fn from_accept(accept: &str) -> Self {
        let ndjson = accept.split(',').any(|media| {
            media
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case(Framing::Ndjson.content_type())
        });
        if ndjson {
            Framing::Ndjson
        } else {
            Framing::Sse
        }
    }

    /// The `Content-Type` of a body framed this way.
    pub const fn content_type(self) -> &'static str {
        match self {
            Framing::Sse => "text/event-stream",
            Framing::Ndjson => "application/x-ndjson",
        }
    }

    /// Writes `event` in `format` as one frame: [`sse::encode_event`] or
    /// [`ndjson::encode`].
    #[inline]
    pub fn encode(self, format: Format, event: &Event, dst: &mut BytesMut) {
        match self {
            Framing::Sse => sse::encode_event(format, event, dst),
            Framing::Ndjson => ndjson::encode(format, event, dst),
        }
    }
}
