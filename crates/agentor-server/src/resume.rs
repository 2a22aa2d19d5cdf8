//! `GET /runs/{run_id}/events`: a streamed run read again from its replay
//! log — the events after the reader's last id, then the live ones, until
//! the run end — for clients that reconnect (`Last-Event-ID`).
//!
//! A reader does not own the run: its disconnecting changes nothing, and a
//! reader slower than the run by more than the log keeps gets a final error
//! frame (it never silently skips ids).

use std::convert::Infallible;
use std::time::Duration;

use agentor::wire::{self, Format, Framing};
use agentor::{ErrorKind, Event, EventKind};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, Uri};
use axum::response::{IntoResponse, Response};
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use serde::Deserialize;

use crate::encoding::Encoding;
use crate::error::ApiError;
use crate::event_log::{EventBatches, LogError};
use crate::headers::{LAST_EVENT_ID_HEADER, RUN_ID_HEADER};
use crate::state::AppState;

#[derive(Debug, Default, Deserialize)]
struct EventsQuery {
    after: Option<String>,
    format: Option<String>,
}

pub(crate) async fn run_events(
    State(state): State<AppState>,
    Path(run_id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    match open(&state, &run_id, &uri, &headers).await {
        Ok(response) => response,
        Err(err) => err.into_response(),
    }
}

async fn open(
    state: &AppState,
    run_id: &str,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    crate::metrics::resume_request();
    let query = Query::<EventsQuery>::try_from_uri(uri)
        .map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?
        .0;
    let format = match &query.format {
        Some(name) => name
            .parse::<Format>()
            .map_err(|e| ApiError::invalid_option("format", e))?,
        None => Format::default(),
    };
    let after = last_seen(&query, headers)?;
    let from = match after {
        Some(n) => n
            .checked_add(1)
            .ok_or_else(|| ApiError::invalid_option("after", "too large"))?,
        None => 0,
    };
    let batches = state
        .runs
        .read(run_id, from)
        .await
        .map_err(|e| crate::metrics::resume_miss(e.to_api(run_id, after)))?;
    let framing = crate::extract::framing(headers);
    let encoding = Encoding::Events { framing, format };
    Ok(follow(state, batches, from, encoding, run_id))
}

/// A response streaming a run's logged `batches` (read from id `from`) in
/// `encoding`, until the run end.
pub(crate) fn follow(
    state: &AppState,
    batches: EventBatches,
    from: u64,
    encoding: Encoding,
    run_id: &str,
) -> Response {
    let content_type = encoding.content_type();
    let protocol_header = encoding.protocol_header();
    let wire = crate::metrics::Wire::of(&encoding);
    let follower = Follower {
        batches,
        cursor: from,
        encoding,
        heartbeat: state.heartbeat,
        done: false,
    };
    let body = futures_util::stream::unfold(follower, |mut follower| async move {
        let chunk = follower.next_chunk().await?;
        Some((Ok::<_, Infallible>(chunk), follower))
    });
    let mut response = Response::new(crate::metrics::body(body, wire));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    if let Some((name, value)) = protocol_header {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if let Ok(value) = HeaderValue::from_str(run_id) {
        headers.insert(RUN_ID_HEADER, value);
    }
    response
}

/// The last id the reader has: `Last-Event-ID` wins over `?after=`, since an
/// `EventSource` reconnects to the same URL (whose `after` is where it first
/// started) with the header telling where it really is. `None`: from the start.
fn last_seen(query: &EventsQuery, headers: &HeaderMap) -> Result<Option<u64>, ApiError> {
    if let Some(value) = headers.get(LAST_EVENT_ID_HEADER) {
        let text = value.to_str().unwrap_or("").trim();
        // Browsers send no header when they have no id; an empty one means
        // the same.
        if !text.is_empty() {
            return text.parse().map(Some).map_err(|_| {
                ApiError::bad_request(
                    "invalid_last_event_id",
                    format!(
                        "`Last-Event-ID: {}` is not an event id (a whole number)",
                        agentor::error::excerpt(text)
                    ),
                )
            });
        }
    }
    match query.after.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => text.parse().map(Some).map_err(|_| {
            ApiError::invalid_option(
                "after",
                format!("`{}` is not an event id", agentor::error::excerpt(text)),
            )
        }),
    }
}

/// One reader of a run's log.
struct Follower {
    batches: EventBatches,
    /// The id of the next event to send.
    cursor: u64,
    encoding: Encoding,
    heartbeat: Duration,
    /// The last frame was sent.
    done: bool,
}

impl Follower {
    /// The next body chunk: the next batch of events from the log, else a
    /// heartbeat after a silence, else `None` at the end of the run.
    async fn next_chunk(&mut self) -> Option<Bytes> {
        if self.done {
            return None;
        }
        let mut buf = BytesMut::new();
        let sse = self.encoding.is_sse();
        let next = tokio::select! {
            next = self.batches.next() => next,
            // The log's stream keeps its place when this wins (it is a
            // stream, not a future dropped mid-way).
            () = tokio::time::sleep(self.heartbeat), if sse => {
                wire::sse::encode_heartbeat(&mut buf);
                return Some(buf.freeze());
            }
        };
        match next {
            Some(Ok(events)) => {
                for event in &events {
                    self.encoding.encode(event, &mut buf);
                    if matches!(event.kind, EventKind::RunEnd { .. }) {
                        self.done = true;
                    }
                }
                self.cursor += events.len() as u64;
                Some(buf.freeze())
            }
            Some(Err(err)) => {
                self.done = true;
                self.final_error(&err, &mut buf);
                Some(buf.freeze())
            }
            None => {
                self.done = true;
                None
            }
        }
    }

    /// The final frame of a reader the log failed mid-stream (it fell
    /// behind the log's bound, or the shared log became unreachable): an
    /// error, not a silent jump over lost ids. In SSE it has no `id:` line,
    /// so the client's `Last-Event-ID` stays the last event it really got
    /// (a reconnect then gets `410`, or `503` while the log is down).
    fn final_error(&mut self, err: &LogError, buf: &mut BytesMut) {
        let message = match err {
            LogError::FellBehind { .. } => {
                format!("this reader fell behind: {err}; the stream is closed")
            }
            other => format!("{other}; the stream is closed (reconnect with Last-Event-ID)"),
        };
        let event =
            Event::error(ErrorKind::Internal, message).with_seq(self.cursor.saturating_sub(1));
        match &mut self.encoding {
            Encoding::Events {
                framing: Framing::Sse,
                format,
            } => wire::sse::write_frame(buf, None, Some("error"), |buf| {
                wire::encode_json(*format, &event, buf);
            }),
            Encoding::Events {
                framing: Framing::Ndjson,
                format,
            } => wire::ndjson::encode(*format, &event, buf),
            // The frontends' protocols have no ids to keep: the error, then
            // the end their clients wait for.
            encoding => {
                encoding.encode(&event, buf);
                encoding.encode(&Event::run_end(agentor::RunStatus::Failed), buf);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::event_log::{EventLog, MemoryLog};

    #[tokio::test]
    async fn a_reader_outpaced_by_the_ring_gets_an_error_frame_without_id() {
        let memory = MemoryLog::new(2, Duration::from_secs(60), 4);
        let log = memory.start("run_a", tokio_util::sync::CancellationToken::new());
        log.append(
            (0..2)
                .map(|id| Event::text_delta("x").with_seq(id))
                .collect(),
        );
        let mut follower = Follower {
            batches: memory.read("run_a", 0).await.unwrap(),
            cursor: 0,
            encoding: Encoding::Events {
                framing: Framing::Sse,
                format: Format::Native,
            },
            heartbeat: Duration::from_secs(60),
            done: false,
        };
        let chunk = follower.next_chunk().await.unwrap();
        assert!(chunk.starts_with(b"id: 0\n"));
        // The run moves on by more than the ring keeps.
        log.append(
            (2..5)
                .map(|id| Event::text_delta("x").with_seq(id))
                .collect(),
        );
        let chunk = follower.next_chunk().await.unwrap();
        let text = std::str::from_utf8(&chunk).unwrap();
        assert!(text.starts_with("event: error\ndata: "), "{text}");
        assert!(!text.contains("id: "), "{text}");
        assert!(text.contains("fell behind"), "{text}");
        assert!(follower.next_chunk().await.is_none());
    }
}
