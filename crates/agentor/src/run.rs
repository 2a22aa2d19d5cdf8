//! The agent loop: model turn, tools, next turn.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use agentor_core::{
    ChatMessage, ChatRequest, Event, EventKind, EventResult, RunStatus, Text, ToolCall,
    ToolCallRequest, ToolResult,
};
use futures_core::Stream;
use futures_util::stream::FuturesUnordered;
use futures_util::StreamExt;
use tokio::task::JoinHandle;

use crate::config::{Config, Input};

/// A run id unique within the process and unlikely to repeat across restarts.
pub(crate) fn new_run_id() -> Text {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    Text::from(format!("run_{nanos:x}{n:04x}"))
}

/// Numbers and tags what the run yields.
struct Envelope {
    seq: u64,
    source: Text,
    run_id: Text,
}

impl Envelope {
    fn stamp(&mut self, mut event: Event) -> Event {
        event.seq = self.seq;
        self.seq += 1;
        event.source = Some(self.source.clone());
        event.run_id = Some(self.run_id.clone());
        event
    }
}

/// The whole run as one stream, polled in the consumer's task. Tools run on
/// spawned tasks (so a panicking tool is an error result, not a crash) that
/// are aborted if the stream is dropped.
pub(crate) fn run(
    config: Arc<Config>,
    input: Input,
    run_id: Text,
) -> impl Stream<Item = EventResult> + Send {
    async_stream::stream! {
        let mut envelope = Envelope {
            seq: 0,
            source: config.name.clone(),
            run_id,
        };
        // The run start waits for the first turn's: the provider knows what is
        // really answering (the demo provider says it is a demo).
        let run_start = |model: Option<Text>| Event::new(EventKind::RunStart {
            agent: config.name.clone(),
            model: model.or_else(|| Some(config.model.clone())),
        });
        let mut started = false;

        let mut messages = config.conversation(input);
        // A request's client tools first: they are what the request adds.
        let specs: Vec<_> = config
            .client_tools
            .iter()
            .cloned()
            .chain(config.tools.iter().map(|t| t.spec().clone()))
            .collect();
        for _turn in 0..config.max_turns {
            let request = ChatRequest::new(config.model.clone(), messages.clone())
                .with_tools(specs.clone())
                .with_settings(config.settings.clone())
                .with_agent(config.name.clone())
                .with_run_id(envelope.run_id.clone());
            let mut turn = config.provider.stream(request);
            let mut calls: Vec<ToolCall> = Vec::new();
            let mut text = Text::new();
            let mut failed = false;
            let mut ended = false;
            while let Some(item) = turn.next().await {
                let reported_model = match &item {
                    Ok(Event { kind: EventKind::RunStart { model, .. }, .. }) => Some(model.clone()),
                    _ => None,
                };
                if !started {
                    started = true;
                    yield Ok(envelope.stamp(run_start(reported_model.clone().flatten())));
                }
                let event = match item {
                    Ok(event) => event,
                    Err(err) => {
                        failed = true;
                        yield Err(err);
                        continue;
                    }
                };
                match &event.kind {
                    // The run has one start and one end: the agent's.
                    EventKind::RunStart { .. } => continue,
                    EventKind::RunEnd { status } => {
                        failed |= *status != RunStatus::Completed;
                        ended = true;
                        continue;
                    }
                    EventKind::ToolCall(call) => calls.push((**call).clone()),
                    EventKind::Message { text: whole, .. } => text = whole.clone(),
                    EventKind::Error { .. } => failed = true,
                    _ => {}
                }
                yield Ok(envelope.stamp(event));
            }
            drop(turn);
            if !started {
                started = true;
                yield Ok(envelope.stamp(run_start(None)));
            }
            if !ended && !failed {
                // A provider that stops without saying how is not a success.
                failed = true;
                yield Err(agentor_core::Error::protocol(format!(
                    "provider `{}` ended its turn without a run end",
                    config.provider.name()
                )));
            }
            if failed {
                yield Ok(envelope.stamp(Event::run_end(RunStatus::Failed)));
                return;
            }
            if calls.is_empty() {
                yield Ok(envelope.stamp(Event::run_end(RunStatus::Completed)));
                return;
            }

            // Calls of a client's tools are the client's to run: the run
            // ends once the agent's own calls of the turn are answered.
            let (client_calls, calls): (Vec<ToolCall>, Vec<ToolCall>) = calls
                .into_iter()
                .partition(|c| config.client_tools.iter().any(|t| t.name == c.name));
            let hand_over = !client_calls.is_empty();
            messages.push(ChatMessage {
                tool_calls: calls
                    .iter()
                    .map(|c| ToolCallRequest { id: c.call_id.clone(), name: c.name.clone(), arguments: c.arguments.clone() })
                    .collect(),
                ..ChatMessage::assistant(text)
            });
            let mut running: FuturesUnordered<_> = calls
                .iter()
                .enumerate()
                .map(|(index, call)| ToolRun::start(&config, index, call))
                .collect();
            let mut results: Vec<Option<ToolResult>> = vec![None; calls.len()];
            while let Some((index, result)) = running.next().await {
                yield Ok(envelope.stamp(Event::new(EventKind::ToolResult(Box::new(result.clone())))));
                results[index] = Some(result);
            }
            if hand_over {
                yield Ok(envelope.stamp(Event::run_end(RunStatus::Completed)));
                return;
            }
            // Fed back in call order, whatever order they finished in.
            for result in results.into_iter().flatten() {
                messages.push(ChatMessage::tool(result.call_id, result.output));
            }
        }
        yield Ok(envelope.stamp(Event::run_end(RunStatus::MaxTurns)));
    }
}

/// One tool call running on its own task; aborted when dropped.
struct ToolRun {
    index: usize,
    call_id: Text,
    name: Text,
    started: tokio::time::Instant,
    task: Option<JoinHandle<Result<String, String>>>,
}

impl ToolRun {
    fn start(config: &Config, index: usize, call: &ToolCall) -> ToolRun {
        let tool = config
            .tools
            .iter()
            .find(|t| t.name() == call.name.as_str())
            .cloned();
        let arguments = call.arguments.clone();
        let timeout = tool
            .as_ref()
            .map_or(config.tool_timeout, |t| t.timeout_or(config.tool_timeout));
        let name = call.name.clone();
        let task = tokio::spawn(async move {
            let Some(tool) = tool else {
                return Err(format!("unknown tool `{name}`"));
            };
            if !arguments.is_object() {
                return Err(format!(
                    "invalid arguments: expected a JSON object, got {arguments}"
                ));
            }
            match tokio::time::timeout(timeout, tool.call(arguments)).await {
                Ok(Ok(output)) => Ok(output),
                Ok(Err(err)) => Err(err.0),
                Err(_) => Err(format!("timed out after {}", describe(timeout))),
            }
        });
        ToolRun {
            index,
            call_id: call.call_id.clone(),
            name: call.name.clone(),
            started: tokio::time::Instant::now(),
            task: Some(task),
        }
    }
}

fn describe(d: Duration) -> String {
    format!("{}s", d.as_secs_f64())
}

impl std::future::Future for ToolRun {
    type Output = (usize, ToolResult);

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        let Some(task) = self.task.as_mut() else {
            return std::task::Poll::Pending;
        };
        let outcome = std::task::ready!(std::pin::Pin::new(task).poll(cx));
        self.task = None;
        let (output, is_error) = match outcome {
            Ok(Ok(output)) => (output, false),
            Ok(Err(message)) => (message, true),
            Err(join) if join.is_panic() => (format!("tool `{}` panicked", self.name), true),
            Err(_) => (format!("tool `{}` was cancelled", self.name), true),
        };
        let result = ToolResult {
            call_id: self.call_id.clone(),
            name: self.name.clone(),
            output: output.into(),
            is_error,
            duration: Some(self.started.elapsed()),
        };
        std::task::Poll::Ready((self.index, result))
    }
}

impl Drop for ToolRun {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}
