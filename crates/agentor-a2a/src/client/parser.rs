//! [`TaskParser`]: the JSON-RPC responses (or, over HTTP+JSON, the bare
//! `StreamResponse`s) of one streamed A2A request — SSE frames, or a whole
//! JSON answer — as a [`TurnParser`] over the [`TaskMapper`].

use agentor_core::{Error, EventResult};
use agentor_transport::TurnParser;
use serde_json::Value;

use super::cancel::CancelOnDrop;
use super::context::SharedContext;
use super::mapper::TaskMapper;
use crate::{jsonrpc, Dialect, StreamResponse};

/// Reads each JSON-RPC response of the remote task and maps it. The
/// transport stamps the envelope (the card's name as `source`, the run id,
/// `seq`), emits the run start and hands out one frame's events before the
/// next frame is read.
///
/// Dropping the parser — with its stream, or once the transport ended the
/// turn on a frame that could not be read — before the remote task ended
/// cancels that task ([`CancelOnDrop`]).
pub(crate) struct TaskParser {
    dialect: Dialect,
    /// Whether each message is a bare `StreamResponse` or a
    /// `google.rpc.Status` error (HTTP+JSON) rather than a JSON-RPC response.
    bare: bool,
    mapper: TaskMapper,
    /// The remote task, once an event named it.
    task_id: Option<String>,
    /// Whether the remote task reached a state that ends the stream (as
    /// opposed to the run ending here, on a failure to read it).
    remote_ended: bool,
    cancel: Option<CancelOnDrop>,
    /// Where to note the remote context of the task, for a conversation.
    context: Option<SharedContext>,
}

impl TaskParser {
    /// A parser for a task in `dialect`, whose run start the transport emits.
    pub(crate) fn new(mapper: TaskMapper, dialect: Dialect) -> Self {
        TaskParser {
            dialect,
            bare: false,
            mapper,
            task_id: None,
            remote_ended: false,
            cancel: None,
            context: None,
        }
    }

    /// Reads the HTTP+JSON binding's messages: bare `StreamResponse`s, and
    /// `{"error": {code, status, message}}` errors.
    pub(crate) fn bare(mut self) -> Self {
        self.bare = true;
        self
    }

    /// Cancels the remote task through `cancel` if dropped before it ended.
    pub(crate) fn cancelling(mut self, cancel: CancelOnDrop) -> Self {
        self.cancel = Some(cancel);
        self
    }

    /// Notes the remote context the task runs in into `context`.
    pub(crate) fn noting_context(mut self, context: Option<SharedContext>) -> Self {
        self.context = context;
        self
    }

    fn value(&mut self, value: &Value, out: &mut Vec<EventResult>) {
        if self.bare {
            match rest_error(value) {
                Some(error) => self.mapper.fail(error, out),
                None => self.response(value, "event", out),
            }
            return;
        }
        match jsonrpc::parse_response(value) {
            Ok(result) => self.response(&result, "result", out),
            Err(error) => {
                let error = Error::provider(format!(
                    "the remote agent answered with JSON-RPC error {}: {}",
                    error.code.as_i32(),
                    error.message
                ));
                self.mapper.fail(error, out);
            }
        }
    }

    /// Maps `result`, a `StreamResponse` (at `path`, for error messages).
    fn response(&mut self, result: &Value, path: &str, out: &mut Vec<EventResult>) {
        match StreamResponse::parse_at(self.dialect, result, path) {
            Ok(event) => {
                if let Some(context) = &self.context {
                    context.note(&event);
                }
                if self.task_id.is_none() {
                    self.task_id = event
                        .task_id()
                        .filter(|id| !id.is_empty())
                        .map(str::to_owned);
                }
                self.mapper.event(event, out);
                self.remote_ended = self.mapper.is_done();
            }
            Err(error) => self.mapper.fail(
                Error::protocol(format!(
                    "the A2A server sent an unreadable event: {}",
                    error.message
                )),
                out,
            ),
        }
    }
}

impl TurnParser for TaskParser {
    fn message(&mut self, _event: &str, data: &str, out: &mut Vec<EventResult>) {
        // An event without data (a named ping, say) carries no response.
        if data.is_empty() || self.mapper.is_done() {
            return;
        }
        match serde_json::from_str::<Value>(data) {
            Ok(value) => self.value(&value, out),
            Err(e) => self.mapper.fail(
                Error::protocol(format!(
                    "the A2A server sent invalid JSON ({e}): {}",
                    clip(data)
                )),
                out,
            ),
        }
    }

    fn finish(&mut self, out: &mut Vec<EventResult>) {
        self.mapper.finish(out);
    }

    fn is_done(&self) -> bool {
        self.mapper.is_done()
    }

    fn fail(&mut self, error: Error, out: &mut Vec<EventResult>) {
        self.mapper.fail(error, out);
    }
}

impl Drop for TaskParser {
    fn drop(&mut self) {
        if self.remote_ended {
            return;
        }
        // Still running over there: dropped early, or ended here on a frame
        // that could not be read. Either way no one reads it any more.
        if let (Some(cancel), Some(task_id)) = (self.cancel.take(), self.task_id.take()) {
            cancel.send(task_id);
        }
    }
}

/// The error an HTTP+JSON message is, when it is one: a `google.rpc.Status`
/// (`{"error": {code, status, message}}`) sent as an SSE event or a whole
/// answer. As a JSON-RPC error does, it fails the run with a provider
/// error; its `code` (the HTTP status) is the error's status.
fn rest_error(value: &Value) -> Option<Error> {
    let error = value.get("error").filter(|e| e.is_object())?;
    let text = |key: &str| error.get(key).and_then(Value::as_str);
    let message = text("message").unwrap_or("error without a message");
    let code = error
        .get("code")
        .and_then(Value::as_u64)
        .and_then(|c| u16::try_from(c).ok())
        .filter(|c| (100..=599).contains(c));
    let head = match (code, text("status")) {
        (Some(code), Some(status)) => format!("{code} {status}"),
        (Some(code), None) => code.to_string(),
        (None, Some(status)) => status.to_owned(),
        (None, None) => "an error".to_owned(),
    };
    let error = Error::provider(format!("the remote agent answered with {head}: {message}"));
    Some(match code {
        Some(code) => error.with_status(code),
        None => error,
    })
}

/// At most 200 characters of `text`, for error messages.
fn clip(text: &str) -> &str {
    text.char_indices()
        .nth(200)
        .map_or(text, |(at, _)| &text[..at])
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use agentor_core::{ErrorKind, RunStatus};

    use super::*;

    fn bare_parser() -> TaskParser {
        TaskParser::new(TaskMapper::new("Remote".into()).announced(), Dialect::V1_0).bare()
    }

    #[test]
    fn a_bare_stream_response_is_read_without_an_envelope() {
        let mut parser = bare_parser();
        let mut out = Vec::new();
        parser.message(
            "",
            r#"{"statusUpdate":{"taskId":"t","contextId":"c","status":{"state":"TASK_STATE_COMPLETED"}}}"#,
            &mut out,
        );
        assert!(parser.is_done());
        assert_eq!(
            out.last().unwrap().as_ref().unwrap().run_status(),
            Some(RunStatus::Completed)
        );
        assert!(parser.remote_ended);
    }

    #[test]
    fn a_rest_error_event_fails_the_run_with_its_status_and_message() {
        let body = crate::A2aError::task_not_found("t9")
            .rest_body()
            .to_string();
        // As an `event: error` frame and as a whole JSON answer (no event name).
        for event in ["error", ""] {
            let mut parser = bare_parser();
            let mut out = Vec::new();
            parser.message(event, &body, &mut out);
            assert!(parser.is_done());
            let error = out[0].as_ref().unwrap_err();
            assert_eq!(error.kind(), ErrorKind::Provider);
            assert_eq!(error.status(), Some(404));
            assert!(
                error
                    .message()
                    .starts_with("the remote agent answered with 404 NOT_FOUND: "),
                "{error}"
            );
            assert!(error.message().contains("t9"), "{error}");
            assert_eq!(
                out[1].as_ref().unwrap().run_status(),
                Some(RunStatus::Failed)
            );
        }
    }

    #[test]
    fn a_json_rpc_parser_does_not_read_bare_responses() {
        let mut parser =
            TaskParser::new(TaskMapper::new("Remote".into()).announced(), Dialect::V1_0);
        let mut out = Vec::new();
        parser.message(
            "",
            r#"{"statusUpdate":{"taskId":"t","contextId":"c","status":{"state":"TASK_STATE_COMPLETED"}}}"#,
            &mut out,
        );
        assert!(out[0].is_err(), "{out:?}");
    }
}
