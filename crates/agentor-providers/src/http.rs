//! The HTTP transport shared by the OpenAI providers: a JSON `POST` with
//! bearer auth and retries, its server-sent-events body parsed by
//! `eventsource-stream` and fed to a [`TurnParser`], as an event stream.
//!
//! [`HttpTransport`] sends; [`turn_stream`] turns any body (live, recorded,
//! in memory) into a well-formed turn.

mod guard;
pub(crate) mod status;
mod turn;

use std::sync::Arc;
use std::time::Duration;

use agentor_core::{BoxEventStream, ChatRequest, Error, Text};
use bytes::Bytes;
use futures_util::StreamExt;
use reqwest::header::{ACCEPT, CONTENT_TYPE};

pub use turn::{turn_stream, ByteStream, TurnStart};

use crate::{OpenAiConfig, TurnParser};
use status::{describe, is_retryable, retry_after, status_error, MAX_ERROR_BODY};

/// Sends one JSON request per turn to an OpenAI-compatible API and streams
/// the answer. Cheap to clone: clones share one connection pool.
#[derive(Clone, Debug)]
pub struct HttpTransport {
    /// The client, or why it could not be built (reported by each turn
    /// instead of a panic or a fallible constructor).
    client: Result<reqwest::Client, Error>,
    config: Arc<OpenAiConfig>,
}

impl HttpTransport {
    /// A transport for `config`: its connect timeout, read timeout, key and retries.
    pub fn new(config: OpenAiConfig) -> Self {
        let client = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .build()
            .map_err(|e| {
                Error::internal(format!("cannot build the HTTP client: {}", describe(&e)))
            });
        HttpTransport {
            client,
            config: Arc::new(config),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &OpenAiConfig {
        &self.config
    }

    /// `POST`s `body` (JSON) to `path` under the base URL and streams the
    /// turn through `parser`; see [`turn_stream`] for the shape of the stream.
    ///
    /// A connection failure, `429` or `5xx` is retried per the
    /// [`RetryPolicy`](crate::RetryPolicy), only before the body is read. Any
    /// other non-2xx answer ends the turn at once with a provider error
    /// carrying the status and the server's message. Waiting longer than the
    /// read timeout for the headers is a timeout error.
    pub fn stream(
        &self,
        path: &str,
        body: Vec<u8>,
        start: TurnStart,
        parser: Box<dyn TurnParser>,
    ) -> BoxEventStream {
        let open = self
            .clone()
            .open(self.config.endpoint(path), Bytes::from(body));
        turn_stream(start, open, Some(self.config.read_timeout), parser)
    }

    /// One model turn of an HTTP provider: picks the model (the request's,
    /// else the configured one), builds the body with `body`, and streams the
    /// answer to `path` through `parser`. A missing model or a body that
    /// cannot be encoded is a failed turn, not a request.
    pub fn model_turn(
        &self,
        path: &str,
        request: &ChatRequest,
        parser: Box<dyn TurnParser>,
        body: impl FnOnce(&ChatRequest, &str) -> Result<Vec<u8>, serde_json::Error>,
    ) -> BoxEventStream {
        let model = if request.model.is_empty() {
            self.config.model.as_deref().map(Text::from)
        } else {
            Some(request.model.clone())
        };
        let start = TurnStart {
            agent: request
                .agent
                .clone()
                .unwrap_or(Text::from_static("assistant")),
            model: model.clone(),
            run_id: request.run_id.clone(),
        };
        let Some(model) = model else {
            let error =
                Error::provider("no model: the request names none and OPENAI_MODEL is not set");
            return failed(start, error, parser);
        };
        match body(request, &model) {
            Ok(body) => self.stream(path, body, start, parser),
            Err(e) => failed(
                start,
                Error::internal(format!("cannot encode the request: {e}")),
                parser,
            ),
        }
    }

    async fn open(self, url: String, body: Bytes) -> Result<ByteStream, Error> {
        let client = self.client.clone()?;
        let policy = &self.config.retry;
        let mut retries = 0;
        loop {
            let failure = match self.attempt(&client, &url, body.clone()).await {
                Ok(response) => return Ok(body_stream(response)),
                Err(failure) => failure,
            };
            if !failure.retryable || retries >= policy.max_retries {
                return Err(failure.error);
            }
            let wait = failure
                .retry_after
                .unwrap_or_else(|| policy.backoff(retries));
            if wait > policy.max_backoff {
                return Err(failure.error);
            }
            tokio::time::sleep(wait).await;
            retries += 1;
        }
    }

    /// One request, up to its response headers.
    async fn attempt(
        &self,
        client: &reqwest::Client,
        url: &str,
        body: Bytes,
    ) -> Result<reqwest::Response, Failure> {
        let mut request = client
            .post(url)
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "text/event-stream")
            .body(body);
        if let Some(key) = &self.config.api_key {
            request = request.bearer_auth(key);
        }
        let timeout = self.config.read_timeout;
        let response = match tokio::time::timeout(timeout, request.send()).await {
            Err(_) => {
                return Err(Failure::fatal(Error::timeout(format!(
                    "no answer from {url} within {} ms",
                    timeout.as_millis()
                ))))
            }
            Ok(Err(error)) => {
                return Err(Failure {
                    // Without a total timeout, a timeout here is the connect timeout.
                    retryable: error.is_connect() || error.is_timeout(),
                    error: Error::provider(describe(&error)),
                    retry_after: None,
                });
            }
            Ok(Ok(response)) => response,
        };
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let wait = retry_after(response.headers());
        let body = read_error_body(response, timeout).await;
        Err(Failure {
            error: status_error(status, &body),
            retryable: is_retryable(status),
            retry_after: wait,
        })
    }
}

/// Why an attempt failed, and whether another may succeed.
struct Failure {
    error: Error,
    retryable: bool,
    retry_after: Option<Duration>,
}

impl Failure {
    fn fatal(error: Error) -> Self {
        Failure {
            error,
            retryable: false,
            retry_after: None,
        }
    }
}

fn body_stream(response: reqwest::Response) -> ByteStream {
    Box::pin(response.bytes_stream().map(|chunk| {
        chunk.map_err(|e| {
            Error::provider(format!(
                "the connection failed mid-stream: {}",
                describe(&e)
            ))
        })
    }))
}

/// The start of an error answer's body, for its message: bounded in size
/// and time, and whatever arrived when reading fails.
async fn read_error_body(mut response: reqwest::Response, timeout: Duration) -> Vec<u8> {
    let mut body = Vec::new();
    while body.len() < MAX_ERROR_BODY {
        match tokio::time::timeout(timeout, response.chunk()).await {
            Ok(Ok(Some(chunk))) => {
                let room = MAX_ERROR_BODY - body.len();
                body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            _ => break,
        }
    }
    body
}

/// A turn that fails before any request: run start, the error, failed run end.
fn failed(start: TurnStart, error: Error, parser: Box<dyn TurnParser>) -> BoxEventStream {
    turn_stream(
        start,
        async move { Err::<ByteStream, _>(error) },
        None,
        parser,
    )
}
