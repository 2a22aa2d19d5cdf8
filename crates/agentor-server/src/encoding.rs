//! [`Encoding`]: how a streamed run's events become body bytes — agentor's
//! own frames (SSE or NDJSON, in a JSON format), the AI SDK UI message
//! stream, or AG-UI events. One per response body or log reader.

use agentor::wire::{ag_ui, ai_sdk, Format, Framing};
use agentor::Event;
use bytes::BytesMut;

/// How a response body writes its events.
#[derive(Debug)]
pub(crate) enum Encoding {
    /// `POST /chat`'s frames.
    Events { framing: Framing, format: Format },
    /// The AI SDK UI message stream (boxed: the encoders carry state).
    AiSdk(Box<ai_sdk::Encoder>),
    /// AG-UI events.
    AgUi(Box<ag_ui::Encoder>),
}

impl Default for Encoding {
    fn default() -> Self {
        Encoding::Events {
            framing: Framing::default(),
            format: Format::default(),
        }
    }
}

impl Encoding {
    #[inline]
    pub(crate) fn encode(&mut self, event: &Event, dst: &mut BytesMut) {
        match self {
            Encoding::Events { framing, format } => framing.encode(*format, event, dst),
            Encoding::AiSdk(encoder) => encoder.encode(event, dst),
            Encoding::AgUi(encoder) => encoder.encode(event, dst),
        }
    }

    /// Whether the body is SSE, which has comments for heartbeats.
    pub(crate) fn is_sse(&self) -> bool {
        !matches!(
            self,
            Encoding::Events {
                framing: Framing::Ndjson,
                ..
            }
        )
    }

    pub(crate) fn content_type(&self) -> &'static str {
        match self {
            Encoding::Events { framing, .. } => framing.content_type(),
            Encoding::AiSdk(_) => ai_sdk::CONTENT_TYPE,
            Encoding::AgUi(_) => ag_ui::CONTENT_TYPE,
        }
    }

    /// The protocol header a response in this encoding carries.
    pub(crate) fn protocol_header(&self) -> Option<(&'static str, &'static str)> {
        match self {
            Encoding::AiSdk(_) => Some((ai_sdk::HEADER_NAME, ai_sdk::HEADER_VALUE)),
            _ => None,
        }
    }
}
