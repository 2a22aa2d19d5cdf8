//! [`HttpClient`]: the POST (with retries) that opens a streamed answer,
//! and the bounded, timed reads every remote source needs around it.

use std::sync::Arc;
use std::time::Duration;

use agentor_core::{BoxEventStream, Error};
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, ACCEPT, CONTENT_TYPE};
use reqwest::{Method, RequestBuilder, Response};

use crate::status::{describe, is_retryable, retry_after, status_error, MAX_ERROR_BODY};
use crate::turn::{Limits, TurnStream};
use crate::{Body, ByteStream, TransportConfig, TurnParser, TurnStart};

/// One HTTP client per remote source. Cheap to clone: clones share one
/// connection pool.
///
/// ```
/// use agentor_transport::{HttpClient, Post, TransportConfig};
///
/// let client = HttpClient::new(TransportConfig::new());
/// let post = Post::json("http://127.0.0.1:9/v1/chat/completions", b"{}".to_vec())
///     .accept("text/event-stream");
/// assert_eq!(post.url(), "http://127.0.0.1:9/v1/chat/completions");
/// # let _ = client;
/// ```
#[derive(Clone, Debug)]
pub struct HttpClient {
    /// The client, or why it could not be built (reported by each request
    /// instead of a panic or a fallible constructor).
    client: Result<reqwest::Client, Error>,
    config: Arc<TransportConfig>,
}

/// A JSON `POST` to send: URL, body and extra headers.
#[derive(Clone, Debug)]
pub struct Post {
    url: String,
    body: Bytes,
    headers: HeaderMap,
}

impl Post {
    /// A `POST` of `body` as `application/json` to `url`.
    pub fn json(url: impl Into<String>, body: impl Into<Bytes>) -> Self {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        Post {
            url: url.into(),
            body: body.into(),
            headers,
        }
    }

    /// Sets the `Accept` header.
    #[must_use]
    pub fn accept(self, value: &'static str) -> Self {
        self.header(ACCEPT, HeaderValue::from_static(value))
    }

    /// Sets a header (a protocol version, say).
    #[must_use]
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.insert(name, value);
        self
    }

    /// Where it goes.
    pub fn url(&self) -> &str {
        &self.url
    }
}

/// Why an attempt failed, and whether another may succeed.
struct Failure {
    error: Error,
    retryable: bool,
    retry_after: Option<Duration>,
}

impl Failure {
    /// The retry counter's status label: the HTTP status, or `connect`.
    fn retry_label(&self) -> String {
        self.error
            .status()
            .map_or_else(|| "connect".to_owned(), |s| s.to_string())
    }
}

impl HttpClient {
    /// A client with its own connection pool, per `config`.
    pub fn new(config: TransportConfig) -> Self {
        let client = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .build()
            .map_err(|e| {
                Error::internal(format!("cannot build the HTTP client: {}", describe(&e)))
            });
        HttpClient {
            client,
            config: Arc::new(config),
        }
    }

    /// A client over `client` (its proxy, TLS and pool; its connect timeout
    /// replaces the config's), with `config`'s read timeout, retries, bound
    /// and token.
    pub fn with_client(client: reqwest::Client, config: TransportConfig) -> Self {
        HttpClient {
            client: Ok(client),
            config: Arc::new(config),
        }
    }

    /// The settings.
    pub fn config(&self) -> &TransportConfig {
        &self.config
    }

    /// A request to `url` with the bearer token, if any.
    pub fn request(&self, method: Method, url: &str) -> Result<RequestBuilder, Error> {
        let request = self.client.clone()?.request(method, url);
        Ok(match &self.config.bearer_token {
            Some(token) => request.bearer_auth(token),
            None => request,
        })
    }

    /// Sends `request` and waits for the answer's headers, at most the read
    /// timeout. An unreachable server is a provider error naming `url`, a
    /// wait past the timeout a timeout error. The status is not checked.
    pub async fn send(&self, request: RequestBuilder, url: &str) -> Result<Response, Error> {
        self.send_once(request, url)
            .await
            .map_err(|failure| failure.error)
    }

    async fn send_once(&self, request: RequestBuilder, url: &str) -> Result<Response, Failure> {
        let timeout = self.config.read_timeout;
        match tokio::time::timeout(timeout, request.send()).await {
            Err(_) => Err(Failure {
                error: Error::timeout(format!(
                    "no answer from {url} within {} ms",
                    timeout.as_millis()
                )),
                retryable: false,
                retry_after: None,
            }),
            Ok(Err(error)) => Err(Failure {
                // Without a total timeout, a timeout here is the connect timeout.
                retryable: error.is_connect() || error.is_timeout(),
                error: Error::provider(format!("cannot reach {url}: {}", describe(&error))),
                retry_after: None,
            }),
            Ok(Ok(response)) => Ok(response),
        }
    }

    /// A failed answer as an error: its status and what its body (read up
    /// to 64 KiB, within the read timeout) says.
    pub async fn status_error(&self, mut response: Response) -> Error {
        let status = response.status();
        let mut body = Vec::new();
        while body.len() < MAX_ERROR_BODY {
            match tokio::time::timeout(self.config.read_timeout, response.chunk()).await {
                Ok(Ok(Some(chunk))) => {
                    let room = MAX_ERROR_BODY - body.len();
                    body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                }
                // Whatever arrived is the message; a failure to read more is not.
                _ => break,
            }
        }
        status_error(status, &body)
    }

    /// Reads a whole answer: at most `max_event_bytes`, and no silence
    /// longer than the read timeout between its chunks.
    pub async fn read_whole(&self, response: Response, url: &str) -> Result<Bytes, Error> {
        let limit = self.config.max_event_bytes;
        let timeout = self.config.read_timeout;
        let mut chunks = response.bytes_stream();
        let mut body = BytesMut::new();
        loop {
            let next = tokio::time::timeout(timeout, chunks.next())
                .await
                .map_err(|_| {
                    Error::timeout(format!("no data from {url} for {} ms", timeout.as_millis()))
                })?;
            let Some(chunk) = next else {
                return Ok(body.freeze());
            };
            let chunk = chunk.map_err(|e| {
                Error::provider(format!("the answer from {url} broke: {}", describe(&e)))
            })?;
            if body.len() + chunk.len() > limit {
                return Err(Error::protocol(format!(
                    "the answer from {url} is larger than {limit} bytes"
                )));
            }
            body.extend_from_slice(&chunk);
        }
    }

    /// Sends `post` and resolves once the answer is known: a `text/event-stream`
    /// body to read, any other successful answer read whole, or the error.
    ///
    /// A connection failure, `429` or `5xx` is retried per the
    /// [`RetryPolicy`](crate::RetryPolicy) (honouring `Retry-After` and
    /// `retry-after-ms`), only before any of the answer is read. Any other
    /// non-2xx answer is a provider error carrying the status and the
    /// server's message.
    pub async fn open(self, post: Post) -> Result<Body, Error> {
        let policy = &self.config.retry;
        let mut retries = 0;
        loop {
            let failure = match self.attempt(&post).await {
                Ok(body) => return Ok(body),
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
            metrics::counter!(
                agentor_core::telemetry::PROVIDER_RETRIES,
                agentor_core::telemetry::HTTP_STATUS => failure.retry_label(),
            )
            .increment(1);
            tokio::time::sleep(wait).await;
            retries += 1;
        }
    }

    async fn attempt(&self, post: &Post) -> Result<Body, Failure> {
        let fatal = |error| Failure {
            error,
            retryable: false,
            retry_after: None,
        };
        let request = self
            .request(Method::POST, &post.url)
            .map_err(fatal)?
            .headers(post.headers.clone())
            .body(post.body.clone());
        let response = self.send_once(request, &post.url).await?;
        let status = response.status();
        if !status.is_success() {
            let retry_after = retry_after(response.headers());
            return Err(Failure {
                error: self.status_error(response).await,
                retryable: is_retryable(status),
                retry_after,
            });
        }
        let is_stream = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim_start().starts_with("text/event-stream"));
        if is_stream {
            return Ok(Body::Events(body_stream(response, &post.url)));
        }
        self.read_whole(response, &post.url)
            .await
            .map(Body::Whole)
            .map_err(fatal)
    }

    /// `POST`s `post` and streams the answer through `parser`, as a turn
    /// that `start` describes: see [`turn_stream`](crate::turn_stream) for
    /// its shape, and [`HttpClient::open`] for the request. The read timeout
    /// bounds the silence between chunks, `max_event_bytes` one event.
    pub fn stream(
        &self,
        post: Post,
        start: TurnStart,
        parser: Box<dyn TurnParser>,
    ) -> BoxEventStream {
        let limits = Limits {
            read_timeout: Some(self.config.read_timeout),
            max_event_bytes: self.config.max_event_bytes,
        };
        let open = Box::pin(self.clone().open(post));
        Box::pin(TurnStream::new(start, open, limits, parser))
    }
}

fn body_stream(response: Response, url: &str) -> ByteStream {
    let url: Arc<str> = Arc::from(url);
    Box::pin(response.bytes_stream().map(move |chunk| {
        chunk.map_err(|e| {
            Error::provider(format!(
                "the connection to {url} failed mid-stream: {}",
                describe(&e)
            ))
        })
    }))
}
