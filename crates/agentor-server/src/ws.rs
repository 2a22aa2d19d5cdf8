//! `GET /ws`: agent runs over a WebSocket, one after another on one
//! connection.
//!
//! One task per connection `select!`s between the run's next event, the
//! client's next message, the ping timer, the idle deadline and shutdown.
//! An event is pulled only once the previous frame was handed to the
//! socket, so a slow client slows the run and nothing queues; returning
//! from the task (the client closed or vanished) drops the run, which
//! cancels the model request and the tools.
//!
//! Each run is also appended to the server's [`EventLog`](crate::event_log::EventLog),
//! as `/chat` runs are: `GET /runs/{id}/events` follows it and
//! `POST /runs/{id}/cancel` stops it, on this instance or, with a shared
//! log, on any other. The run still belongs to its connection: closing the
//! socket cancels it (there is no resume window for a WebSocket run).

use std::sync::Arc;
use std::time::Duration;

use agentor::wire::{encode_json, Format};
use agentor::{Agentor, BoxEventStream, Envelope, Event, EventKind, EventResult, RunStatus};
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{close_code, CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use bytes::BytesMut;
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use crate::error::ApiError;
use crate::event_log::RunWriter;
use crate::options::{BodyOptions, InputBody, QueryOptions, RunOptions};
use crate::state::AppState;

/// How many ping intervals a client may stay silent (pongs count as frames).
const IDLE_PINGS: u32 = 3;

/// A client text frame starting a run: `/chat`'s body without `stream`.
#[derive(Debug, Deserialize)]
struct WsInput {
    input: Option<InputBody>,
    /// A synonym of `input`: the Python streaming guide's client sends
    /// `{"text": …}`.
    text: Option<InputBody>,
    #[serde(flatten)]
    options: BodyOptions,
}

impl WsInput {
    /// The input, under either name; both at once is ambiguous, so refused.
    fn into_parts(self) -> Result<(InputBody, BodyOptions), (&'static str, String)> {
        match (self.input, self.text) {
            (Some(input), None) | (None, Some(input)) => Ok((input, self.options)),
            (Some(_), Some(_)) => Err((
                "invalid_request",
                "both `input` and `text` given: `text` is a synonym of `input`; send one".into(),
            )),
            (None, None) => Err((
                "invalid_request",
                "missing field `input` (or its synonym `text`)".into(),
            )),
        }
    }
}

pub(crate) async fn ws(
    State(state): State<AppState>,
    uri: Uri,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let upgrade = match upgrade {
        Ok(upgrade) => upgrade,
        Err(rejection) => {
            return ApiError::new(
                rejection.status(),
                "websocket_upgrade_required",
                rejection.body_text(),
            )
            .into_response()
        }
    };
    // Options in the URL are defaults for every input of the connection;
    // checked now, so a bad one fails the upgrade rather than every run.
    let query = match Query::<QueryOptions>::try_from_uri(&uri) {
        Ok(Query(query)) => query,
        Err(e) => return ApiError::bad_request("invalid_query", e.body_text()).into_response(),
    };
    if let Err(err) = RunOptions::resolve(Some(true), BodyOptions::default(), query.clone()) {
        return err.into_response();
    }
    upgrade
        .max_message_size(state.ws.max_message)
        .on_upgrade(move |socket| {
            let shutdown = state.shutdown.clone();
            shutdown.track(Connection::new(socket, state, query).run())
        })
}

/// A run in progress on a connection.
struct ActiveRun {
    events: BoxEventStream,
    format: Format,
    /// The run's id and source, for failures and the events made here.
    envelope: Envelope,
    /// The number of the next frame: renumbered 0, 1, 2, … as sent, like
    /// the SSE ids (see `EventBody`).
    next_id: u64,
    /// The run's log, for readers and cancels from elsewhere.
    log: Arc<dyn RunWriter>,
    /// Fires on a cancel sent through the log (`POST /runs/{id}/cancel`).
    cancel: CancellationToken,
    /// A run end was numbered: the log has its terminal event.
    ended: bool,
    /// Released when the run is dropped.
    _permit: OwnedSemaphorePermit,
}

impl Drop for ActiveRun {
    /// A run dropped without its run end (the client went away) still
    /// ends in the log, `cancelled`: no reader waits on it.
    fn drop(&mut self) {
        if !self.ended {
            let _ = self.synthesized_end(RunStatus::Cancelled);
        }
    }
}

impl ActiveRun {
    /// Numbers an item (a failure item becomes an error event) and encodes it.
    fn frame(&mut self, item: EventResult) -> (Message, bool) {
        let mut event = self.envelope.event(item);
        event.seq = self.next_id;
        self.next_id += 1;
        let is_end = matches!(event.kind, EventKind::RunEnd { .. });
        let mut buf = BytesMut::new();
        encode_json(self.format, &event, &mut buf);
        crate::metrics::event_out(event.kind(), crate::metrics::Wire::Ws, buf.len());
        if !self.ended {
            self.ended = is_end;
            self.log.append(vec![event]);
        }
        (bytes_message(buf), is_end)
    }

    /// A run end the run did not send itself (cancel, shutdown, or a run
    /// that ended without one): no run ends silently.
    fn synthesized_end(&mut self, status: RunStatus) -> Message {
        let event = self
            .envelope
            .stamp(Event::new(EventKind::RunEnd { status }));
        self.frame(Ok(event)).0
    }
}

fn bytes_message(buf: BytesMut) -> Message {
    match Utf8Bytes::try_from(buf.freeze()) {
        Ok(text) => Message::Text(text),
        // The encoders write JSON from UTF-8 text: not reached, but a
        // frame must still go out.
        Err(_) => error_message("internal", "an event could not be encoded"),
    }
}

/// `{"type": "error", "error": {"code", "message"}}`: the shape of an HTTP
/// error body, tagged like an event.
fn error_message(code: &str, message: impl std::fmt::Display) -> Message {
    let body = json!({"type": "error", "error": {"code": code, "message": message.to_string()}});
    Message::text(body.to_string())
}

/// What a client text frame asks for.
enum Request {
    Input(InputBody, RunOptions),
    Cancel,
}

/// How the task ends.
enum Next {
    Continue,
    Close,
}

struct Connection {
    socket: WebSocket,
    state: AppState,
    query: QueryOptions,
    run: Option<ActiveRun>,
    /// How long the client may stay silent, and how long one frame may
    /// wait for the socket: a client that reads nothing for that long is
    /// gone, even while a send is stuck behind a full TCP window.
    idle_limit: Duration,
    _open: crate::metrics::Active,
}

impl Connection {
    fn new(socket: WebSocket, state: AppState, query: QueryOptions) -> Self {
        let idle_limit = state.ws.ping * IDLE_PINGS;
        Connection {
            socket,
            state,
            query,
            run: None,
            idle_limit,
            _open: crate::metrics::Active::new(crate::metrics::Wire::Ws),
        }
    }

    async fn run(mut self) {
        let every = self.state.ws.ping;
        let mut ping = tokio::time::interval_at(Instant::now() + every, every);
        // A late tick (a long send) must not fire a burst of pings.
        ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let idle_limit = self.idle_limit;
        let idle = tokio::time::sleep(idle_limit);
        tokio::pin!(idle);
        let shutdown = self.state.shutdown.clone();
        loop {
            let next = tokio::select! {
                next = next_event(&mut self.run) => match next {
                    RunNext::Item(item) => self.on_event(item).await,
                    RunNext::Cancelled => self.end_run(RunStatus::Cancelled).await,
                },
                message = self.socket.recv() => match message {
                    Some(Ok(message)) => {
                        idle.as_mut().reset(Instant::now() + idle_limit);
                        self.on_message(message).await
                    }
                    // Closed: returning drops the run.
                    None => Next::Close,
                    Some(Err(e)) => {
                        self.run = None;
                        self.close_after_read_error(&e).await;
                        Next::Close
                    }
                },
                _ = ping.tick() => self.send(Message::Ping(Default::default())).await,
                () = &mut idle => {
                    self.run = None;
                    self.close(close_code::AWAY, "no frame for 3 ping intervals").await;
                    Next::Close
                }
                () = shutdown.triggered() => {
                    self.end_run(RunStatus::Cancelled).await;
                    self.close(close_code::AWAY, "the server is shutting down").await;
                    Next::Close
                }
            };
            if let Next::Close = next {
                return;
            }
        }
    }

    async fn on_event(&mut self, item: Option<EventResult>) -> Next {
        let Some(run) = self.run.as_mut() else {
            return Next::Continue;
        };
        let (message, is_end) = match item {
            Some(item) => run.frame(item),
            None => (run.synthesized_end(RunStatus::Failed), true),
        };
        if is_end {
            // Release the permit before the frame goes out: a client may
            // start its next run as soon as it reads the run end.
            self.run = None;
        }
        self.send(message).await
    }

    async fn on_message(&mut self, message: Message) -> Next {
        let text = match message {
            Message::Text(text) => text,
            Message::Binary(_) => {
                return self
                    .send(error_message(
                        "unsupported_frame",
                        "binary frames are not accepted; send JSON text frames",
                    ))
                    .await
            }
            // tungstenite answers pings itself; either kind only proves
            // the client is alive (the idle deadline was reset).
            Message::Ping(_) | Message::Pong(_) => return Next::Continue,
            Message::Close(_) => {
                // Drop the run now, but keep reading: tungstenite sends the
                // closing reply on the next read, which then ends the stream
                // (a client waits for that reply before it closes TCP).
                self.run = None;
                return Next::Continue;
            }
        };
        match parse(text.as_str(), &self.query) {
            Err((code, message)) => self.send(error_message(code, message)).await,
            Ok(Request::Cancel) => {
                if self.run.is_some() {
                    self.end_run(RunStatus::Cancelled).await
                } else {
                    // Usually a cancel that crossed the run end on the wire.
                    self.send(error_message("not_running", "no run to cancel"))
                        .await
                }
            }
            Ok(Request::Input(input, options)) => {
                if self.run.is_some() {
                    return self
                        .send(error_message(
                            "busy",
                            "a run is in progress: wait for its run_end or send {\"type\": \"cancel\"}",
                        ))
                        .await;
                }
                self.start(input, options).await
            }
        }
    }

    async fn start(&mut self, input: InputBody, options: RunOptions) -> Next {
        let permit = match self.state.limit.acquire() {
            Ok(permit) => permit,
            Err(err) => return self.send(error_message("overloaded", err.message)).await,
        };
        let run_id = Agentor::new_run_id();
        let run = self
            .state
            .agent
            .stream_chat_with_run_id(input, run_id.clone())
            .into_inner();
        let cancel = self.state.shutdown.child();
        self.run = Some(ActiveRun {
            events: options.apply(run),
            format: options.format,
            log: self.state.runs.start(&run_id, cancel.clone()),
            cancel,
            envelope: Envelope::for_run(Some(run_id)),
            next_id: 0,
            ended: false,
            _permit: permit,
        });
        Next::Continue
    }

    /// Drops the run, if any (cancelling the model request and tools), then
    /// sends its run end with `status`.
    async fn end_run(&mut self, status: RunStatus) -> Next {
        let Some(mut run) = self.run.take() else {
            return Next::Continue;
        };
        let message = run.synthesized_end(status);
        // Cancel before the frame goes out: the send may wait on a slow client.
        drop(run);
        self.send(message).await
    }

    async fn send(&mut self, message: Message) -> Next {
        match tokio::time::timeout(self.idle_limit, self.socket.send(message)).await {
            Ok(Ok(())) => Next::Continue,
            // Broken, or stuck for as long as a silent client is given.
            Ok(Err(_)) | Err(_) => Next::Close,
        }
    }

    /// Tells the client why its frame broke the connection (too large, a
    /// protocol violation), if the socket still takes a frame.
    async fn close_after_read_error(&mut self, error: &axum::Error) {
        let text = error.to_string();
        // axum's error is opaque (no tungstenite type to match), so the
        // size limit is recognized by its message; anything else is 1002.
        let code = if text.contains("too long") || text.contains("too big") {
            close_code::SIZE
        } else {
            close_code::PROTOCOL
        };
        // A close reason is at most 123 bytes.
        let mut end = text.len().min(123);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let _ = self
            .send(Message::Close(Some(CloseFrame {
                code,
                reason: Utf8Bytes::from(&text[..end]),
            })))
            .await;
    }

    async fn close(&mut self, code: u16, reason: &'static str) {
        // The connection ends either way; a failed close changes nothing.
        let _ = self
            .send(Message::Close(Some(CloseFrame {
                code,
                reason: Utf8Bytes::from_static(reason),
            })))
            .await;
    }
}

/// What a client text frame asks for, or the error frame's code and
/// message. The query string's options are the defaults the frame's own
/// options override.
fn parse(text: &str, query: &QueryOptions) -> Result<Request, (&'static str, String)> {
    let value: Value = serde_json::from_str(text).map_err(|e| ("invalid_json", e.to_string()))?;
    let Value::Object(object) = &value else {
        return Err((
            "invalid_request",
            "expected a JSON object: {\"input\": …}, {\"text\": …} or {\"type\": \"cancel\"}"
                .into(),
        ));
    };
    match object.get("type") {
        None => {}
        Some(Value::String(kind)) if kind == "input" => {}
        Some(Value::String(kind)) if kind == "cancel" => return Ok(Request::Cancel),
        Some(other) => {
            return Err((
                "unknown_type",
                format!(
                    "unknown message type {}: expected \"input\" or \"cancel\"",
                    agentor::error::excerpt(&other.to_string())
                ),
            ))
        }
    }
    let message: WsInput =
        serde_json::from_value(value).map_err(|e| ("invalid_request", e.to_string()))?;
    let (input, options) = message.into_parts()?;
    let options =
        RunOptions::resolve(Some(true), options, query.clone()).map_err(|e| (e.code, e.message))?;
    Ok(Request::Input(input, options))
}

/// The WebSocket client-message parser, for the fuzz targets
/// (`agentor-fuzz`): the error code and message a frame of `text` would be
/// answered with, or `Ok` for a frame that starts or cancels a run.
#[doc(hidden)]
pub fn parse_client_message(text: &str) -> Result<(), (&'static str, String)> {
    parse(text, &QueryOptions::default()).map(drop)
}

/// What happened to the active run.
enum RunNext {
    /// Its next item (`None`: it ended).
    Item(Option<EventResult>),
    /// A cancel came through the log.
    Cancelled,
}

/// The run's next item or its cancel; pending forever while no run is active.
async fn next_event(run: &mut Option<ActiveRun>) -> RunNext {
    match run {
        Some(ActiveRun { events, cancel, .. }) => tokio::select! {
            biased;
            () = cancel.cancelled() => RunNext::Cancelled,
            item = events.next() => RunNext::Item(item),
        },
        None => std::future::pending().await,
    }
}
