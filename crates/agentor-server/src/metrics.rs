//! The server's metrics: their names, the handles the hot paths use, the
//! process's Prometheus recorder and the `GET /metrics` handler.
//!
//! The agent's own metrics (runs, model calls, tokens, tools) are recorded
//! by the agent loop under the names in [`agentor::telemetry`]; this module
//! adds what only the server sees. Nothing here costs more than a branch
//! when metrics are off: responses are wrapped only when a recorder was
//! installed by [`prometheus`].

use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{ready, Context, Poll};

use agentor::telemetry::{self, HTTP_STATUS, KIND};
use agentor::Kind;
use agentor_a2a::store::TaskStore;
use agentor_a2a::Dialect;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_core::Stream;
use metrics::{Counter, Gauge, Recorder};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use metrics_util::layers::FanoutBuilder;
use pin_project_lite::pin_project;

use crate::error::ApiError;

/// Gauge: streams open, by [`WIRE`].
pub(crate) const STREAMS_ACTIVE: &str = "agentor.streams.active";
/// Counter: events sent to clients, by [`KIND`] and [`WIRE`].
pub(crate) const EVENTS_OUT: &str = "agentor.events.out";
/// Counter, bytes: response body bytes of streams sent, by [`WIRE`].
pub(crate) const BYTES_OUT: &str = "agentor.stream.out";
/// Counter: `GET /runs/{id}/events` requests.
pub(crate) const RESUME_REQUESTS: &str = "agentor.resume.requests";
/// Counter: resume requests refused, by [`HTTP_STATUS`] (`404`, `410`).
pub(crate) const RESUME_MISSES: &str = "agentor.resume.misses";
/// Counter: A2A tasks that reached a final state, by `state`.
pub(crate) const A2A_TASKS: &str = "agentor.a2a.tasks";
/// Counter: A2A push notifications sent, by `outcome`.
pub(crate) const A2A_PUSH_SENT: &str = "agentor.a2a.push.sent";
/// Counter: A2A push notification POSTs retried.
pub(crate) const A2A_PUSH_RETRIES: &str = "agentor.a2a.push.retries";
/// Counter: A2A push notifications dropped from a full queue.
pub(crate) const A2A_PUSH_DROPPED: &str = "agentor.a2a.push.dropped";
/// Counter: requests refused with `503` because the run limit was reached.
pub(crate) const LOAD_SHEDS: &str = "agentor.load_sheds";
/// Label: how a stream is sent (`sse`, `ndjson`, `ai_sdk`, `ag_ui`, `ws`, `a2a`).
pub(crate) const WIRE: &str = "wire";

/// The content type of the Prometheus text exposition format.
const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

static RECORDER: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Returned by [`install_metrics_recorder`] when this process already has
/// a `metrics` recorder (the server's, or one the application installed).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a metrics recorder is already installed in this process")]
pub struct RecorderInstalled;

/// Installs the server's Prometheus recorder as the process's `metrics`
/// recorder together with `extra`: every metric goes to both, so
/// `GET /metrics` keeps serving while `extra` exports elsewhere (the
/// `agentor` binary passes its OTLP exporter). Call it before the first
/// router is built; then [`ServerConfig::metrics`](crate::ServerConfig::metrics)
/// decides only whether `/metrics` is routed, and streams are counted
/// either way.
///
/// # Errors
///
/// [`RecorderInstalled`] when a recorder is already installed; `extra` is
/// dropped and records nothing.
pub fn install_metrics_recorder<R>(extra: R) -> Result<(), RecorderInstalled>
where
    R: Recorder + Sync + 'static,
{
    let mut extra: Option<Box<dyn Recorder + Sync>> = Some(Box::new(extra));
    let mut ours = false;
    let handle = RECORDER.get_or_init(|| {
        ours = true;
        install(extra.take())
    });
    match handle {
        Some(_) if ours => Ok(()),
        _ => Err(RecorderInstalled),
    }
}

/// The process's Prometheus recorder, installed as the global `metrics`
/// recorder on the first call; `None` when the application installed
/// another recorder first (then it exports, and `/metrics` is not served).
pub(crate) fn prometheus() -> Option<&'static PrometheusHandle> {
    RECORDER.get_or_init(|| install(None)).as_ref()
}

/// Builds the Prometheus recorder and installs it, fanned out with `extra`
/// when given; `None` when the process has a recorder already.
fn install(extra: Option<Box<dyn Recorder + Sync>>) -> Option<PrometheusHandle> {
    let mut builder = PrometheusBuilder::new().with_recommended_naming(true);
    for (name, buckets) in telemetry::HISTOGRAM_BUCKETS {
        builder = builder
            .set_buckets_for_metric(Matcher::Full((*name).to_owned()), buckets)
            .ok()?;
    }
    let recorder = builder.build_recorder();
    let handle = recorder.handle();
    let installed = match extra {
        None => metrics::set_global_recorder(recorder).is_ok(),
        Some(extra) => {
            let fanout = FanoutBuilder::default()
                .add_recorder(recorder)
                .add_recorder(extra)
                .build();
            metrics::set_global_recorder(fanout).is_ok()
        }
    };
    if !installed {
        return None;
    }
    telemetry::describe();
    describe();
    Some(handle)
}

/// Whether this process's recorder is installed: streams are counted.
pub(crate) fn installed() -> bool {
    matches!(RECORDER.get(), Some(Some(_)))
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, Unit};
    describe_gauge!(STREAMS_ACTIVE, "Streams open, by wire.");
    describe_counter!(EVENTS_OUT, "Events sent to clients, by kind and wire.");
    describe_counter!(BYTES_OUT, Unit::Bytes, "Stream body bytes sent, by wire.");
    describe_counter!(RESUME_REQUESTS, "Requests to read a run again.");
    describe_counter!(RESUME_MISSES, "Resume requests refused (404, 410).");
    describe_counter!(A2A_TASKS, "A2A tasks that reached a final state.");
    describe_counter!(LOAD_SHEDS, "Requests refused with 503 at the run limit.");
    describe_counter!(
        A2A_PUSH_SENT,
        "A2A push notifications sent, by outcome (delivered, refused, gave_up)."
    );
    describe_counter!(A2A_PUSH_RETRIES, "A2A push notification POSTs retried.");
    describe_counter!(
        A2A_PUSH_DROPPED,
        "A2A push notifications dropped from a full per-task queue."
    );
}

/// `GET /metrics`: every metric in the Prometheus text format.
pub(crate) async fn render() -> Response {
    let Some(handle) = prometheus() else {
        return ApiError::new(
            StatusCode::NOT_FOUND,
            "metrics_unavailable",
            "another metrics recorder is installed in this process",
        )
        .into_response();
    };
    handle.run_upkeep();
    let mut response = handle.render().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(PROMETHEUS_TEXT),
    );
    response
}

/// How a stream goes out, as a label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wire {
    Sse,
    Ndjson,
    AiSdk,
    AgUi,
    Ws,
    A2a,
}

impl Wire {
    /// The wire of a response body written in `encoding`.
    pub(crate) fn of(encoding: &crate::encoding::Encoding) -> Wire {
        use crate::encoding::Encoding;
        match encoding {
            Encoding::Events {
                framing: agentor::wire::Framing::Ndjson,
                ..
            } => Wire::Ndjson,
            Encoding::Events { .. } => Wire::Sse,
            Encoding::AiSdk(_) => Wire::AiSdk,
            Encoding::AgUi(_) => Wire::AgUi,
        }
    }

    /// The wire of `framing`.
    pub(crate) fn of_framing(framing: agentor::wire::Framing) -> Wire {
        match framing {
            agentor::wire::Framing::Ndjson => Wire::Ndjson,
            _ => Wire::Sse,
        }
    }

    const ALL: [Wire; 6] = [
        Wire::Sse,
        Wire::Ndjson,
        Wire::AiSdk,
        Wire::AgUi,
        Wire::Ws,
        Wire::A2a,
    ];

    fn as_str(self) -> &'static str {
        match self {
            Wire::Sse => "sse",
            Wire::Ndjson => "ndjson",
            Wire::AiSdk => "ai_sdk",
            Wire::AgUi => "ag_ui",
            Wire::Ws => "ws",
            Wire::A2a => "a2a",
        }
    }
}

/// The handles of one wire, registered once per process.
struct WireHandles {
    events: Vec<Counter>,
    bytes: Counter,
    active: Gauge,
}

fn handles(wire: Wire) -> &'static WireHandles {
    static HANDLES: OnceLock<Vec<WireHandles>> = OnceLock::new();
    let all = HANDLES.get_or_init(|| {
        Wire::ALL
            .iter()
            .map(|wire| {
                WireHandles {
                events: Kind::ALL
                    .iter()
                    .map(|kind| {
                        metrics::counter!(EVENTS_OUT, KIND => kind.as_str(), WIRE => wire.as_str())
                    })
                    .collect(),
                bytes: metrics::counter!(BYTES_OUT, WIRE => wire.as_str()),
                active: metrics::gauge!(STREAMS_ACTIVE, WIRE => wire.as_str()),
            }
            })
            .collect()
    });
    &all[wire as usize]
}

/// Counts one event sent as `wire`, when metrics are on.
pub(crate) fn event_out(kind: Kind, wire: Wire, bytes: usize) {
    if installed() {
        let handles = handles(wire);
        handles.events[kind as usize].increment(1);
        handles.bytes.increment(bytes as u64);
    }
}

/// An open stream of `wire`, counted in [`STREAMS_ACTIVE`] until dropped.
#[derive(Debug)]
pub(crate) struct Active(Option<Wire>);

impl Active {
    pub(crate) fn new(wire: Wire) -> Self {
        if !installed() {
            return Active(None);
        }
        handles(wire).active.increment(1.0);
        Active(Some(wire))
    }
}

impl Drop for Active {
    fn drop(&mut self) {
        if let Some(wire) = self.0 {
            handles(wire).active.decrement(1.0);
        }
    }
}

/// A response body of `chunks` sent as `wire`: counted (bytes, open
/// streams) when metrics are on.
pub(crate) fn body<B>(chunks: B, wire: Wire) -> axum::body::Body
where
    B: Stream<Item = Result<Bytes, std::convert::Infallible>> + Send + 'static,
{
    if installed() {
        axum::body::Body::from_stream(CountedBody::new(chunks, wire))
    } else {
        axum::body::Body::from_stream(chunks)
    }
}

pin_project! {
    /// A response body counted: its bytes, and an open stream until dropped.
    pub(crate) struct CountedBody<B> {
        #[pin]
        inner: B,
        wire: Wire,
        _active: Active,
    }
}

impl<B> CountedBody<B> {
    pub(crate) fn new(inner: B, wire: Wire) -> Self {
        CountedBody {
            inner,
            wire,
            _active: Active::new(wire),
        }
    }
}

impl<B, E> Stream for CountedBody<B>
where
    B: Stream<Item = Result<Bytes, E>>,
{
    type Item = Result<Bytes, E>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.project();
        let item = ready!(this.inner.poll_next(cx));
        if let Some(Ok(chunk)) = &item {
            handles(*this.wire).bytes.increment(chunk.len() as u64);
        }
        Poll::Ready(item)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

pin_project! {
    /// Events on their way to a response, counted by kind once the wire is
    /// known (the response's framing is chosen after its events are given).
    pub(crate) struct CountedEvents<S> {
        #[pin]
        inner: S,
        wire: std::sync::Arc<OnceLock<Wire>>,
        counters: Option<&'static [Counter]>,
    }
}

impl<S> CountedEvents<S> {
    pub(crate) fn new(inner: S, wire: std::sync::Arc<OnceLock<Wire>>) -> Self {
        CountedEvents {
            inner,
            wire,
            counters: None,
        }
    }
}

impl<S> Stream for CountedEvents<S>
where
    S: Stream<Item = agentor::EventResult>,
{
    type Item = agentor::EventResult;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.project();
        let item = ready!(this.inner.poll_next(cx));
        if let Some(item) = &item {
            let counters = match this.counters {
                Some(counters) => *counters,
                None => {
                    let wire = this.wire.get().copied().unwrap_or(Wire::Sse);
                    *this.counters.insert(&handles(wire).events)
                }
            };
            let kind = match item {
                Ok(event) => event.kind(),
                Err(_) => Kind::Error,
            };
            counters[kind as usize].increment(1);
        }
        Poll::Ready(item)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

/// Counts a resume request.
pub(crate) fn resume_request() {
    metrics::counter!(RESUME_REQUESTS).increment(1);
}

/// Counts a refused resume, passing the refusal on.
pub(crate) fn resume_miss(error: ApiError) -> ApiError {
    metrics::counter!(RESUME_MISSES, HTTP_STATUS => error.status.as_str().to_owned()).increment(1);
    error
}

/// Counts a request shed at the run limit.
pub(crate) fn load_shed() {
    metrics::counter!(LOAD_SHEDS).increment(1);
}

/// Counts the A2A task `id` by the state its run left it in.
pub(crate) fn a2a_task_ended(store: &TaskStore, id: &str) {
    if let Ok(task) = store.get(id, Some(0)) {
        let state = task.status.state.as_str(Dialect::V0_3);
        metrics::counter!(A2A_TASKS, "state" => state).increment(1);
    }
}
