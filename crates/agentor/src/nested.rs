//! Agents as tools: a sub-agent's run, streamed live inside its caller's.
//!
//! A tool made from an agent ([`Tool::agent`](crate::Tool::agent)) does not
//! run on a task like a function tool: its run is a stream polled in the
//! caller's task (no channel, no spawn), beside the turn's other tool calls.
//! Every event of the sub-run is handed to the caller as it comes, marked
//! with the calling tool call ([`Event::nested_in`]); the sub-run's final
//! message becomes the tool's result. Dropping the caller's stream drops the
//! sub-run's, which drops its model request.

use std::sync::Arc;
use std::time::Duration;

use agentor_core::{
    BoxEventStream, ErrorKind, Event, EventKind, Restamp, RunStatus, Text, ToolCall, ToolResult,
};
use futures_core::Stream;
use futures_util::StreamExt;

/// What runs behind an agent tool: a local [`Agentor`](crate::Agentor)
/// (whose provider may itself be a remote A2A agent).
pub(crate) trait SubAgent: Send + Sync {
    /// The agent's name: the `source` of its events.
    fn name(&self) -> &str;

    /// A run of the agent on `input`, with the caller's `run_id`.
    fn run(&self, input: Text, run_id: Text) -> BoxEventStream;
}

/// What a running tool call reports to the run loop.
pub(crate) enum ToolEvent {
    /// An event of a sub-run, already marked with its parent path.
    Nested(Event),
    /// The call finished: its index in the turn's calls and its result.
    Done(usize, ToolResult),
    /// The call ended the run's turn to wait for the user (its result
    /// carries the interrupt's message).
    Interrupted(usize, ToolResult, crate::Interrupt),
}

/// The JSON Schema of an agent tool's arguments: one `input` string.
pub(crate) fn input_schema(agent: &str) -> serde_json::Value {
    serde_json::json!({
        "type": "object",
        "properties": {
            "input": {
                "type": "string",
                "description": format!("What to ask {agent}.")
            }
        },
        "required": ["input"]
    })
}

/// The sub-run for tool call `call` (number `index` of its turn): its events
/// as they happen, then the result. `timeout` bounds the whole sub-run.
///
/// The sub-run's own `run_start` and `run_end` are not forwarded: the call
/// and its result bracket the sub-run in the caller's stream, and a
/// `run_end` stays the caller's last event. A failure of the sub-run (an
/// `Err`, an `error` event, or an end other than `completed`) is forwarded
/// as a nested `error` event and makes the result an error: the caller's
/// model sees it; the caller's run goes on.
pub(crate) fn sub_run(
    agent: Arc<dyn SubAgent>,
    index: usize,
    call: &ToolCall,
    run_id: Text,
    timeout: Option<Duration>,
) -> impl Stream<Item = ToolEvent> + Send {
    let call_id = call.call_id.clone();
    let name = call.name.clone();
    let input = call
        .arguments
        .get("input")
        .and_then(serde_json::Value::as_str)
        .map(Text::from);
    async_stream::stream! {
        let started = tokio::time::Instant::now();
        let deadline = timeout.map(|t| started + t);
        let result = |output: String, is_error: bool| ToolResult {
            call_id: call_id.clone(),
            name: name.clone(),
            output: output.into(),
            is_error,
            duration: Some(started.elapsed()),
        };
        let Some(input) = input else {
            let message = "invalid arguments: expected {\"input\": \"…\"}".to_owned();
            yield ToolEvent::Done(index, result(message, true));
            return;
        };
        let source = Text::from(agent.name());
        let mut events = agent.run(input, run_id);
        let mut answer = Text::new();
        let mut failure: Option<Text> = None;
        let mut status = None;
        let mut nesting = Restamp::new();
        loop {
            let next = match deadline {
                Some(deadline) => match tokio::time::timeout_at(deadline, events.next()).await {
                    Ok(next) => next,
                    Err(_) => {
                        drop(events);
                        let waited = timeout.unwrap_or_default().as_secs_f64();
                        yield ToolEvent::Done(index, result(format!("timed out after {waited}s"), true));
                        return;
                    }
                },
                None => events.next().await,
            };
            let Some(item) = next else { break };
            let mut event = match item {
                Ok(event) => event,
                // An `Err` in the caller's stream would read as the caller
                // failing: it goes on as the sub-run's error event.
                Err(error) => {
                    failure.get_or_insert_with(|| Text::from(error.message()));
                    Event::error(error.kind(), error.message()).with_source(source.clone())
                }
            };
            // The sub-run's own events (not those of agents it called in turn).
            if event.origin.parent.is_none() {
                match &event.kind {
                    EventKind::RunStart { .. } => continue,
                    EventKind::RunEnd { status: end } => {
                        status = Some(*end);
                        continue;
                    }
                    EventKind::Message { text, .. } => answer = text.clone(),
                    EventKind::Error { message, .. } => {
                        failure.get_or_insert_with(|| message.clone());
                    }
                    _ => {}
                }
            }
            // One sub-run's events share an origin; nesting them keeps that.
            nesting.apply(&mut event.origin, |o| o.nest_in(&call_id));
            yield ToolEvent::Nested(event);
        }
        let done = match status {
            Some(RunStatus::Completed) => result(answer.to_string(), false),
            Some(end) if end.awaits_user() => {
                // The caller's model gets the question; it may answer it.
                result(format!("agent `{source}` ended {end}, asking: {answer}"), true)
            }
            Some(end) => {
                let why = failure.map_or_else(String::new, |f| format!(": {f}"));
                result(format!("agent `{source}` ended {end}{why}"), true)
            }
            None => {
                let error = format!("agent `{source}` stopped without a run end");
                yield ToolEvent::Nested(
                    Event::error(ErrorKind::Internal, error.clone())
                        .with_source(source.clone())
                        .nested_in(&call_id),
                );
                result(error, true)
            }
        };
        yield ToolEvent::Done(index, done);
    }
}

/// A turn's tool call as a stream of [`ToolEvent`]s, whatever runs it.
pub(crate) type ToolStream = std::pin::Pin<Box<dyn Stream<Item = ToolEvent> + Send>>;

/// A result known at once (a handoff's, an argument error's).
pub(crate) fn ready(index: usize, result: ToolResult) -> ToolStream {
    Box::pin(futures_util::stream::once(async move {
        ToolEvent::Done(index, result)
    }))
}

/// An agent tool called outside a streaming run loop: the sub-run's final
/// answer, its events discarded.
pub(crate) async fn collect(
    agent: Arc<dyn SubAgent>,
    arguments: serde_json::Value,
) -> Result<String, crate::ToolError> {
    let call = ToolCall {
        call_id: Text::from_static("call"),
        name: Text::from(agent.name()),
        arguments,
    };
    let run_id = crate::run::new_run_id();
    let mut events = std::pin::pin!(sub_run(agent, 0, &call, run_id, None));
    while let Some(event) = events.next().await {
        if let ToolEvent::Done(_, result) = event {
            return if result.is_error {
                Err(crate::ToolError(result.output.to_string()))
            } else {
                Ok(result.output.to_string())
            };
        }
    }
    Err(crate::ToolError::new(
        "the agent tool ended without a result",
    ))
}
