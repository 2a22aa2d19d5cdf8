//! The server's spans: one per HTTP request, named by its matched route
//! template (it runs as a route layer, after routing), carrying the run id it
//! started or read (the `x-run-id` it answers with), and one per A2A task's
//! run, carrying the task and context ids. An agent run started while a
//! request is handled is that request's child.

use agentor_a2a::store::TaskStore;
use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use tracing::field::Empty;
use tracing::Instrument;

use crate::headers::RUN_ID_HEADER;

/// Runs the request inside its span; records the run id and the status.
pub(crate) async fn request(request: Request, next: Next) -> Response {
    let span = tracing::info_span!(
        "request",
        otel.name = Empty,
        http.request.method = %request.method(),
        http.route = Empty,
        http.response.status_code = Empty,
        agentor.run.id = Empty,
    );
    if !span.is_disabled() {
        // The route template (`/runs/{run_id}/events`), never the raw path:
        // a path is caller-chosen and unbounded. A request no route matched
        // has no `http.route`, and its span is named by the method alone.
        match request.extensions().get::<MatchedPath>() {
            Some(route) => {
                span.record("http.route", route.as_str());
                span.record(
                    "otel.name",
                    format_args!("{} {}", request.method(), route.as_str())
                        .to_string()
                        .as_str(),
                );
            }
            None => {
                span.record("otel.name", request.method().as_str());
            }
        }
    }
    let response = next.run(request).instrument(span.clone()).await;
    tracing::debug!(parent: &span, status = response.status().as_u16(), "answered");
    if !span.is_disabled() {
        // As i64, OpenTelemetry's integer: bridges turn a u64 into a string.
        span.record(
            "http.response.status_code",
            i64::from(response.status().as_u16()),
        );
        if let Some(run_id) = response
            .headers()
            .get(RUN_ID_HEADER)
            .and_then(|v| v.to_str().ok())
        {
            span.record("agentor.run.id", run_id);
        }
    }
    response
}

/// The span of an A2A task's run: its task and context ids.
pub(crate) fn a2a_task(store: &TaskStore, task_id: &str) -> tracing::Span {
    let span = tracing::info_span!(
        "a2a.task",
        a2a.task.id = task_id,
        a2a.context.id = tracing::field::Empty,
    );
    if !span.is_disabled() {
        if let Ok(task) = store.get(task_id, Some(0)) {
            span.record("a2a.context.id", task.context_id.as_str());
        }
    }
    span
}
