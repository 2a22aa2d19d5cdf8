//! [`TaskParser`]: the JSON-RPC responses of one streamed A2A request — SSE
//! frames, or a whole JSON answer — as a [`TurnParser`] over the
//! [`TaskMapper`].

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
            mapper,
            task_id: None,
            remote_ended: false,
            cancel: None,
            context: None,
        }
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
        let result = match jsonrpc::parse_response(value) {
            Ok(result) => result,
            Err(error) => {
                let error = Error::provider(format!(
                    "the remote agent answered with JSON-RPC error {}: {}",
                    error.code.as_i32(),
                    error.message
                ));
                return self.mapper.fail(error, out);
            }
        };
        match StreamResponse::parse_at(self.dialect, &result, "result") {
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

/// At most 200 characters of `text`, for error messages.
fn clip(text: &str) -> &str {
    text.char_indices()
        .nth(200)
        .map_or(text, |(at, _)| &text[..at])
}
