//! The HTTP side of the client: fetching the card, posting a streaming
//! request, and telling a stream from a plain answer or a failure.

use std::error::Error as _;
use std::sync::Arc;

use agentor_core::Error;
use futures_util::StreamExt;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use reqwest::{RequestBuilder, Response};
use serde_json::Value;

use super::card::{RemoteCard, CARD_PATHS};
use super::stream::{clip, Opened};
use crate::jsonrpc::{self, RequestId};
use crate::{Dialect, Method, TaskQuery};

/// The header a 1.0 client sends with every request.
const VERSION_HEADER: &str = "A2A-Version";

/// The most of a non-streaming answer read (a card, a JSON-RPC response, an
/// error page): enough for any of them, and a bound on what a peer can make
/// the client hold.
const MAX_BODY: usize = 1 << 20;

/// The most one SSE event of a stream may hold: the parser keeps an event
/// until its blank line, so a peer that never ends one would otherwise make
/// the client hold all it sends. Generous, for a whole task snapshot.
const MAX_EVENT: usize = 8 << 20;

/// An HTTP client with the bearer token, if any, for every request.
#[derive(Clone, Debug)]
pub(crate) struct Http {
    pub(crate) client: reqwest::Client,
    pub(crate) token: Option<Arc<str>>,
}

impl Http {
    fn authorized(&self, request: RequestBuilder) -> RequestBuilder {
        match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    /// Fetches the card at `url`: a card URL as given (a path ending in
    /// `.json`), else the well-known paths under the base URL, the current
    /// one first and the legacy one when it is not found. The request asks
    /// for the card in the forced dialect, else in 1.0.
    pub(crate) async fn card(
        &self,
        url: &str,
        forced: Option<Dialect>,
    ) -> Result<RemoteCard, Error> {
        let candidates: Vec<String> = if url.split('?').next().unwrap_or(url).ends_with(".json") {
            vec![url.to_owned()]
        } else {
            let base = url.trim_end_matches('/');
            CARD_PATHS
                .iter()
                .map(|path| format!("{base}{path}"))
                .collect()
        };
        let version = forced.unwrap_or(Dialect::V1_0).version();
        let mut not_found = None;
        for candidate in &candidates {
            let request = self
                .client
                .get(candidate)
                .header(ACCEPT, "application/json")
                .header(VERSION_HEADER, version);
            let response = self
                .authorized(request)
                .send()
                .await
                .map_err(|e| unreachable(candidate, &e))?;
            if response.status() == reqwest::StatusCode::NOT_FOUND {
                not_found = Some(http_error(candidate, response).await);
                continue;
            }
            if !response.status().is_success() {
                return Err(http_error(candidate, response).await);
            }
            let body = read_limited(response, candidate).await?;
            let json: Value = serde_json::from_slice(&body).map_err(|e| {
                Error::protocol(format!("the agent card at {candidate} is not JSON: {e}"))
            })?;
            return RemoteCard::from_json(json, forced);
        }
        Err(not_found.unwrap_or_else(|| Error::provider(format!("no agent card at {url}"))))
    }

    /// Posts a JSON-RPC request to a streaming method and resolves once the
    /// answer is known to be a stream (or is a whole JSON body, or failed).
    pub(crate) async fn open(
        self,
        endpoint: String,
        body: Vec<u8>,
        dialect: Dialect,
    ) -> Result<Opened, Error> {
        let mut request = self
            .client
            .post(&endpoint)
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "text/event-stream, application/json")
            .body(body);
        if dialect == Dialect::V1_0 {
            request = request.header(VERSION_HEADER, Dialect::V1_0.version());
        }
        let response = self
            .authorized(request)
            .send()
            .await
            .map_err(|e| unreachable(&endpoint, &e))?;
        if !response.status().is_success() {
            return Err(http_error(&endpoint, response).await);
        }
        let is_stream = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        if is_stream {
            let endpoint = Arc::<str>::from(endpoint);
            let mut event = EventSize::default();
            let body = response.bytes_stream().map(move |chunk| {
                let chunk = chunk.map_err(|e| {
                    Error::provider(format!(
                        "the A2A stream from {endpoint} broke: {}",
                        describe(&e)
                    ))
                })?;
                event.add(&chunk)?;
                Ok(chunk)
            });
            return Ok(Opened::Events(Box::pin(body)));
        }
        let body = read_limited(response, &endpoint).await?;
        serde_json::from_slice(&body)
            .map(Opened::Json)
            .map_err(|e| {
                let text = String::from_utf8_lossy(&body);
                Error::protocol(format!(
                    "the A2A server sent invalid JSON ({e}): {}",
                    clip(&text)
                ))
            })
    }
}

/// The size of the SSE event being received, to bound it by [`MAX_EVENT`].
#[derive(Default)]
struct EventSize {
    /// Bytes since the last blank line.
    bytes: usize,
    /// Whether the current line is empty so far (a `\r` does not count).
    line_empty: bool,
}

impl EventSize {
    /// Counts `chunk`; an error once one event is larger than [`MAX_EVENT`].
    fn add(&mut self, chunk: &[u8]) -> Result<(), Error> {
        for &byte in chunk {
            match byte {
                b'\n' if self.line_empty => self.bytes = 0,
                b'\n' => self.line_empty = true,
                b'\r' => {}
                _ => {
                    self.line_empty = false;
                    self.bytes += 1;
                }
            }
        }
        if self.bytes > MAX_EVENT {
            return Err(Error::protocol(format!(
                "an event of the A2A stream is larger than {MAX_EVENT} bytes"
            )));
        }
        Ok(())
    }
}

/// What cancels the remote task when its stream is dropped before the run
/// ended: the remote server keeps a task running when only its stream goes
/// away (a client may resubscribe), so dropping means asking it to stop.
#[derive(Clone, Debug)]
pub(crate) struct CancelOnDrop {
    pub(crate) http: Http,
    pub(crate) endpoint: String,
    pub(crate) dialect: Dialect,
}

impl CancelOnDrop {
    /// Sends `tasks/cancel` / `CancelTask` for `task_id` from a task of its
    /// own (the stream is gone), waiting at most [`CANCEL_TIMEOUT`] and
    /// ignoring the answer: the task may have ended meanwhile. Without a
    /// tokio runtime (dropped after it shut down) there is no one to send it.
    pub(crate) fn send(self, task_id: String) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let method = Method::CancelTask
            .name(self.dialect)
            .unwrap_or("CancelTask");
        let params = TaskQuery::new(task_id).render(self.dialect);
        let body = jsonrpc::request(&RequestId::from(crate::new_id().as_str()), method, params);
        let mut request = self
            .http
            .client
            .post(&self.endpoint)
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_string());
        if self.dialect == Dialect::V1_0 {
            request = request.header(VERSION_HEADER, Dialect::V1_0.version());
        }
        let request = self.http.authorized(request);
        runtime.spawn(async move {
            let _ = tokio::time::timeout(CANCEL_TIMEOUT, request.send()).await;
        });
    }
}

/// How long a cancel sent on drop may take.
const CANCEL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// A non-2xx answer as an error carrying its status and what the server
/// said (a JSON-RPC error's message when the body is one).
async fn http_error(url: &str, response: Response) -> Error {
    let status = response.status();
    let body = read_limited(response, url).await.unwrap_or_default();
    let said = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| {
            v.pointer("/error/message")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .unwrap_or_else(|| String::from_utf8_lossy(&body).trim().to_owned());
    let mut message = format!("HTTP {status} from {url}");
    if !said.is_empty() {
        message.push_str(": ");
        message.push_str(clip(&said));
    }
    Error::provider(message).with_status(status.as_u16())
}

/// Reads a body, up to [`MAX_BODY`] bytes.
async fn read_limited(response: Response, url: &str) -> Result<Vec<u8>, Error> {
    let mut body = Vec::new();
    let mut chunks = response.bytes_stream();
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.map_err(|e| unreachable(url, &e))?;
        if body.len() + chunk.len() > MAX_BODY {
            return Err(Error::protocol(format!(
                "the answer from {url} is larger than {MAX_BODY} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn unreachable(url: &str, error: &reqwest::Error) -> Error {
    Error::provider(format!(
        "cannot reach the A2A agent at {url}: {}",
        describe(error)
    ))
}

/// A reqwest error with its causes: "error sending request: connection refused".
fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_event_size_restarts_at_each_blank_line_lf_or_crlf() {
        let mut size = EventSize::default();
        let line = vec![b'x'; MAX_EVENT / 2];
        // Many events, each under the bound, in both line endings.
        for _ in 0..4 {
            assert!(size.add(b"data: ").is_ok());
            assert!(size.add(&line).is_ok());
            assert!(size.add(b"\r\n\r\n").is_ok());
            assert!(size.add(&line).is_ok());
            assert!(size.add(b"\n\n").is_ok());
        }
        // One event over it, across lines, fails.
        assert!(size.add(&line).is_ok());
        assert!(size.add(b"\r\n").is_ok());
        assert!(size.add(&line).is_ok());
        assert!(size.add(b"\r\nmore").is_err());
    }
}
