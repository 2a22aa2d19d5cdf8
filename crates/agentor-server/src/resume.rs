//! `GET /runs/{run_id}/events`: a streamed run read again from its replay
//! log — the events after the reader's last id, then the live ones, until
//! the run end — for clients that reconnect (`Last-Event-ID`).
//!
//! A reader does not own the run: its disconnecting changes nothing, and a
//! reader slower than the run by more than the log keeps gets a final error
//! frame (it never silently skips ids).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use agentor::wire::{self, Format, Framing};
use agentor::{ErrorKind, Event, EventKind};
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use bytes::{Bytes, BytesMut};
use serde::Deserialize;

use crate::encoding::Encoding;
use crate::error::ApiError;
use crate::event_body::COALESCE_EVENTS;
use crate::headers::{LAST_EVENT_ID_HEADER, RUN_ID_HEADER};
use crate::run_log::{FollowerGuard, Read, RunLog};
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
    match open(&state, &run_id, &uri, &headers) {
        Ok(response) => response,
        Err(err) => err.into_response(),
    }
}

fn open(
    state: &AppState,
    run_id: &str,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
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
    let log = state
        .runs
        .get(run_id)
        .ok_or_else(|| ApiError::unknown_run(run_id))?;
    let from = match after {
        Some(n) => n
            .checked_add(1)
            .ok_or_else(|| ApiError::invalid_option("after", "too large"))?,
        None => 0,
    };
    let (oldest, next) = log.bounds();
    if from < oldest {
        return Err(ApiError::new(
            StatusCode::GONE,
            "gone",
            format!(
                "the events after id {} are no longer kept; the oldest kept is id {oldest}",
                from.saturating_sub(1)
            ),
        ));
    }
    if from > next {
        return Err(ApiError::invalid_option(
            "after",
            format!(
                "id {} was not sent yet (the next id is {next})",
                from.saturating_sub(1)
            ),
        ));
    }
    let framing = crate::extract::framing(headers);
    let encoding = Encoding::Events { framing, format };
    Ok(follow(state, log, from, encoding, run_id))
}

/// A response streaming `log` from id `from` in `encoding`, until the run end.
pub(crate) fn follow(
    state: &AppState,
    log: Arc<RunLog>,
    from: u64,
    encoding: Encoding,
    run_id: &str,
) -> Response {
    let content_type = encoding.content_type();
    let protocol_header = encoding.protocol_header();
    let follower = Follower {
        _guard: log.follow(),
        log,
        cursor: from,
        encoding,
        heartbeat: state.heartbeat,
        done: false,
    };
    let body = futures_util::stream::unfold(follower, |mut follower| async move {
        let chunk = follower.next_chunk().await?;
        Some((Ok::<_, Infallible>(chunk), follower))
    });
    let mut response = Response::new(Body::from_stream(body));
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
                    format!("`Last-Event-ID: {text}` is not an event id (a whole number)"),
                )
            });
        }
    }
    match query.after.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => text
            .parse()
            .map(Some)
            .map_err(|_| ApiError::invalid_option("after", format!("`{text}` is not an event id"))),
    }
}

/// One reader of a run's log.
struct Follower {
    log: Arc<RunLog>,
    _guard: FollowerGuard,
    /// The id of the next event to send.
    cursor: u64,
    encoding: Encoding,
    heartbeat: Duration,
    /// The last frame was sent.
    done: bool,
}

impl Follower {
    /// The next body chunk: the events from the cursor already logged (up to
    /// a chunk's worth), else a heartbeat after a silence, else `None` at the
    /// end of the run.
    async fn next_chunk(&mut self) -> Option<Bytes> {
        if self.done {
            return None;
        }
        loop {
            // A clone of the log, so the wait does not borrow `self`.
            let log = self.log.clone();
            let appended = log.appended();
            let mut appended = std::pin::pin!(appended);
            // Registered before reading, so an append in between wakes it.
            appended.as_mut().enable();
            let mut buf = BytesMut::new();
            match self.log.read(self.cursor, COALESCE_EVENTS) {
                Read::Events(events) => {
                    for event in &events {
                        self.encoding.encode(event, &mut buf);
                        if matches!(event.kind, EventKind::RunEnd { .. }) {
                            self.done = true;
                        }
                    }
                    self.cursor += events.len() as u64;
                    return Some(buf.freeze());
                }
                Read::End => {
                    self.done = true;
                    return None;
                }
                Read::Gone { oldest } => {
                    self.done = true;
                    self.fell_behind(oldest, &mut buf);
                    return Some(buf.freeze());
                }
                Read::Pending => {}
            }
            let sse = self.encoding.is_sse();
            tokio::select! {
                () = &mut appended => {}
                () = tokio::time::sleep(self.heartbeat), if sse => {
                    wire::sse::encode_heartbeat(&mut buf);
                    return Some(buf.freeze());
                }
            }
        }
    }

    /// The final frame of a reader the run outpaced by more than the log
    /// keeps: an error, not a silent jump over the lost ids. In SSE it has
    /// no `id:` line, so the client's `Last-Event-ID` stays the last event it
    /// really got (a reconnect then gets `410`).
    fn fell_behind(&mut self, oldest: u64, buf: &mut BytesMut) {
        let event = Event::error(
            ErrorKind::Internal,
            format!(
                "this reader fell behind: the events from id {} were dropped from the replay log \
                 (the oldest kept is id {oldest}); the stream is closed",
                self.cursor
            ),
        )
        .with_seq(self.cursor.saturating_sub(1));
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
    use crate::run_log::RunRegistry;

    #[tokio::test]
    async fn a_reader_outpaced_by_the_ring_gets_an_error_frame_without_id() {
        let registry = RunRegistry::new(2, Duration::from_secs(60), 4);
        let log = registry.register("run_a", tokio_util::sync::CancellationToken::new());
        log.append((0..2).map(|id| Event::text_delta("x").with_seq(id)));
        let mut follower = Follower {
            _guard: log.follow(),
            log: log.clone(),
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
        log.append((2..5).map(|id| Event::text_delta("x").with_seq(id)));
        let chunk = follower.next_chunk().await.unwrap();
        let text = std::str::from_utf8(&chunk).unwrap();
        assert!(text.starts_with("event: error\ndata: "), "{text}");
        assert!(!text.contains("id: "), "{text}");
        assert!(text.contains("fell behind"), "{text}");
        assert!(follower.next_chunk().await.is_none());
    }
}
