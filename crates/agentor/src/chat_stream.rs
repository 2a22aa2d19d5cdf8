//! [`ChatStream`]: the stream an agent run returns.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use agentor_core::wire::{encode_json, Format};
use agentor_core::{BoxEventStream, Envelope, EventResult};
use bytes::BytesMut;
use futures_core::Stream;
use futures_util::StreamExt;

/// The events of one agent run; see [`Agentor::stream_chat`](crate::Agentor::stream_chat).
///
/// A `Stream<Item = Result<Event, Error>>`, so every layer of `agentor-core`
/// applies. Dropping it cancels the run.
#[must_use = "streams do nothing unless polled"]
pub struct ChatStream {
    inner: BoxEventStream,
}

impl ChatStream {
    pub(crate) fn new(inner: BoxEventStream) -> Self {
        ChatStream { inner }
    }

    /// The run as JSON strings, one per event, in the agentor JSON shape of
    /// Python Agentor's `serialize=True` (`type`, `message`, `chunk`,
    /// `tool_action`, `reasoning`). An `Err` is serialized as its error event.
    ///
    /// ```
    /// use agentor::Agentor;
    /// use agentor_providers::Demo;
    /// use futures_util::StreamExt;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let agent = Agentor::builder().provider(Demo::instant()).build();
    /// let lines: Vec<String> = agent.stream_chat("Hi").serialized().collect().await;
    /// let first: serde_json::Value = serde_json::from_str(&lines[1]).unwrap();
    /// assert_eq!(first.as_object().unwrap().len(), 5);
    /// # }
    /// ```
    pub fn serialized(self) -> impl Stream<Item = String> + Send {
        self.serialized_as(Format::Agentor)
    }

    /// The run as JSON strings in `format` (native JSON is lossless).
    pub fn serialized_as(self, format: Format) -> impl Stream<Item = String> + Send {
        let mut buf = BytesMut::new();
        let mut envelope = Envelope::new();
        self.inner.map(move |item| {
            let event = envelope.event(item);
            encode_json(format, &event, &mut buf);
            // The encoders write whole UTF-8 strings.
            String::from_utf8_lossy(&buf.split()).into_owned()
        })
    }

    /// The underlying boxed stream.
    pub fn into_inner(self) -> BoxEventStream {
        self.inner
    }
}

impl Stream for ChatStream {
    type Item = EventResult;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<EventResult>> {
        self.inner.as_mut().poll_next(cx)
    }
}

impl fmt::Debug for ChatStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChatStream").finish_non_exhaustive()
    }
}
