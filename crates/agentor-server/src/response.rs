//! [`EventStreamResponse`]: a run streamed from your own axum handler with
//! the frames `POST /chat` sends.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use agentor::wire::{Format, Framing};
use agentor::{BoxEventStream, EventResult, Text};
use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use futures_core::Stream;
use tokio::sync::OwnedSemaphorePermit;

use crate::encoding::Encoding;
use crate::event_body::{EventBody, Resume};
use crate::headers::RUN_ID_HEADER;
use crate::metrics::{CountedBody, CountedEvents, Wire};
use crate::shutdown::Shutdown;

/// A run's events as a streamed HTTP response, framed exactly as
/// `POST /chat` frames them: ids renumbered `0, 1, 2, …` without gaps, an
/// `Err` item sent as an `error` event, a run end always last (`event: done`
/// in SSE; one is added, `failed`, if the run ended without one), heartbeat
/// comments while the run is silent, and the events that are already ready
/// coalesced into one body chunk.
///
/// The body pulls the run only as the connection takes bytes, and dropping
/// it — the client went away — drops the run, which cancels the model
/// request and the tools. The response carries the content type of its
/// [`Framing`], `Cache-Control: no-cache`, `X-Accel-Buffering: no` (so
/// nginx does not hold the stream back) and, when given one,
/// [`X-Run-Id`](RUN_ID_HEADER).
///
/// ```no_run
/// use agentor::{Agentor, Boundary, EventStreamExt};
/// use axum::extract::State;
/// use axum::routing::post;
/// use agentor_server::EventStreamResponse;
///
/// async fn ask(State(agent): State<Agentor>, question: String) -> EventStreamResponse {
///     let run_id = Agentor::new_run_id();
///     let run = agent
///         .stream_chat_with_run_id(question, run_id.clone())
///         .rebuffer(Boundary::Words);
///     EventStreamResponse::new(run).run_id(run_id)
/// }
///
/// # #[tokio::main]
/// # async fn main() -> std::io::Result<()> {
/// let app = axum::Router::new()
///     .route("/ask", post(ask))
///     .with_state(Agentor::builder().build());
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8000").await?;
/// axum::serve(listener, app).await
/// # }
/// ```
#[must_use = "a response does nothing until it is returned from a handler"]
pub struct EventStreamResponse {
    body: EventBody,
    content_type: &'static str,
    protocol_header: Option<(&'static str, &'static str)>,
    run_id: Option<Text>,
    /// Set when the response is made; `None` when metrics are off.
    wire: Option<Arc<OnceLock<Wire>>>,
    chosen: Wire,
}

impl EventStreamResponse {
    /// A response streaming `events` as SSE in the agentor JSON format, with
    /// a heartbeat every 15 s, ready events coalesced.
    pub fn new<S>(events: S) -> Self
    where
        S: Stream<Item = EventResult> + Send + 'static,
    {
        Self::boxed(Box::pin(events))
    }

    /// [`new`](Self::new) for a stream already boxed (no second box).
    pub(crate) fn boxed(events: BoxEventStream) -> Self {
        let framing = Framing::default();
        let wire = crate::metrics::installed().then(|| Arc::new(OnceLock::new()));
        let events: BoxEventStream = match &wire {
            Some(cell) => Box::pin(CountedEvents::new(events, cell.clone())),
            None => events,
        };
        EventStreamResponse {
            body: EventBody::new(events, framing, Format::default()),
            content_type: framing.content_type(),
            protocol_header: None,
            run_id: None,
            wire,
            chosen: Wire::of_framing(framing),
        }
    }

    /// The JSON format of each event: [`Format::Agentor`] (the default) or
    /// [`Format::Native`].
    pub fn format(mut self, format: Format) -> Self {
        self.body = self.body.format(format);
        self
    }

    /// SSE (the default) or NDJSON; [`framing_for`](Self::framing_for)
    /// follows the request's `Accept` header instead.
    pub fn framing(mut self, framing: Framing) -> Self {
        self.content_type = framing.content_type();
        self.chosen = Wire::of_framing(framing);
        self.body = self.body.framing(framing);
        self
    }

    /// Streams the run as the Vercel AI SDK's UI message stream (what
    /// `useChat` reads), with the `x-vercel-ai-ui-message-stream: v1`
    /// header; `message_id` names the assistant message (default: the run
    /// id). See [`wire::ai_sdk`](agentor::wire::ai_sdk). Replaces
    /// [`framing`](Self::framing) and [`format`](Self::format).
    ///
    /// ```
    /// use agentor::source;
    /// use agentor_server::EventStreamResponse;
    /// use axum::response::IntoResponse;
    ///
    /// let response = EventStreamResponse::new(source::demo_text(["Hi"]))
    ///     .ui_message_stream(None)
    ///     .into_response();
    /// assert_eq!(response.headers()["x-vercel-ai-ui-message-stream"], "v1");
    /// ```
    pub fn ui_message_stream(self, message_id: Option<Text>) -> Self {
        let mut encoder = agentor::wire::ai_sdk::Encoder::new();
        if let Some(id) = message_id {
            encoder = encoder.message_id(id);
        }
        self.encoding(Encoding::AiSdk(Box::new(encoder)))
    }

    /// Streams the run as AG-UI events (what `@ag-ui/client`'s `HttpAgent`
    /// reads) for the run `run_id` of thread `thread_id`, as the client's
    /// `RunAgentInput` named them. See [`wire::ag_ui`](agentor::wire::ag_ui).
    /// Replaces [`framing`](Self::framing) and [`format`](Self::format).
    pub fn ag_ui(self, thread_id: impl Into<Text>, run_id: impl Into<Text>) -> Self {
        let encoder = agentor::wire::ag_ui::Encoder::new(thread_id, run_id);
        self.encoding(Encoding::AgUi(Box::new(encoder)))
    }

    pub(crate) fn encoding(mut self, encoding: Encoding) -> Self {
        self.content_type = encoding.content_type();
        self.protocol_header = encoding.protocol_header();
        self.chosen = Wire::of(&encoding);
        self.body = self.body.encoding(encoding);
        self
    }

    /// Frames as `POST /chat` does for a request with these headers: NDJSON
    /// when an `Accept` header names `application/x-ndjson`, SSE otherwise
    /// (see [`Framing::from_accept`]).
    ///
    /// ```
    /// use agentor::source;
    /// use agentor_server::EventStreamResponse;
    /// use axum::http::{header, HeaderMap, HeaderValue};
    /// use axum::response::IntoResponse;
    ///
    /// let mut headers = HeaderMap::new();
    /// headers.insert(header::ACCEPT, HeaderValue::from_static("application/x-ndjson"));
    /// let response = EventStreamResponse::new(source::demo_text(["Hi"]))
    ///     .framing_for(&headers)
    ///     .into_response();
    /// assert_eq!(response.headers()[header::CONTENT_TYPE], "application/x-ndjson");
    /// ```
    pub fn framing_for(self, request_headers: &HeaderMap) -> Self {
        self.framing(crate::extract::framing(request_headers))
    }

    /// How long an SSE stream may stay silent before a `: keep-alive`
    /// comment is sent (default 15 s, at least 1 ms; proxies commonly close
    /// connections idle for 30–60 s). NDJSON has no heartbeat.
    pub fn heartbeat(mut self, every: Duration) -> Self {
        self.body = self.body.heartbeat(every);
        self
    }

    /// Whether events that are already ready share one body chunk (the
    /// default) or each get their own.
    pub fn coalesce(mut self, coalesce: bool) -> Self {
        self.body = self.body.coalescing(coalesce);
        self
    }

    /// The run's id: sent as the [`X-Run-Id`](RUN_ID_HEADER) header and
    /// given to the events the response makes itself (by default those get
    /// the first run id the run sends).
    pub fn run_id(mut self, run_id: impl Into<Text>) -> Self {
        let run_id = run_id.into();
        self.body = self.body.run_id(Some(run_id.clone()));
        self.run_id = Some(run_id);
        self
    }

    /// Ends the stream when `shutdown` is triggered: the run is dropped
    /// (cancelled) and a `cancelled` run end is sent, so a graceful shutdown
    /// does not wait for open streams.
    pub fn shutdown(mut self, shutdown: &Shutdown) -> Self {
        self.body = self.body.until(shutdown.triggered_owned());
        self
    }

    /// Holds the run's concurrency permit while the run goes on.
    pub(crate) fn holding(mut self, permit: OwnedSemaphorePermit) -> Self {
        self.body = self.body.holding(permit);
        self
    }

    /// Keeps the run's events in a replay log for readers that reconnect.
    pub(crate) fn with_resume(mut self, resume: Resume) -> Self {
        self.body = self.body.with_resume(resume);
        self
    }
}

impl std::fmt::Debug for EventStreamResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventStreamResponse")
            .field("content_type", &self.content_type)
            .field("run_id", &self.run_id)
            .finish_non_exhaustive()
    }
}

impl IntoResponse for EventStreamResponse {
    fn into_response(self) -> Response {
        let mut response = match &self.wire {
            Some(cell) => {
                let _ = cell.set(self.chosen);
                Response::new(Body::from_stream(CountedBody::new(self.body, self.chosen)))
            }
            None => Response::new(Body::from_stream(self.body)),
        };
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(self.content_type),
        );
        if let Some((name, value)) = self.protocol_header {
            headers.insert(name, HeaderValue::from_static(value));
        }
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        // nginx buffers responses unless told not to; a buffered stream is not one.
        headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
        if let Some(value) = self.run_id.and_then(|id| HeaderValue::from_str(&id).ok()) {
            headers.insert(RUN_ID_HEADER, value);
        }
        response
    }
}
