//! The agent loop: model turn, tools, next turn.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use agentor_core::{
    BoxEventStream, ChatMessage, ChatRequest, Event, EventKind, Origin, Restamp, RunStatus, Text,
    ToolCall, ToolCallRequest, ToolResult,
};
use futures_util::StreamExt;
use tokio::task::JoinHandle;

use crate::config::{Config, Input};
use crate::handoff;
use crate::instrument::{self, RunRecord, Traced, TurnRecord};
use crate::nested::{self, ToolEvent, ToolStream};
use crate::tool::Failure;
use crate::{Interrupt, Tool, ToolError};

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
    run_id: Text,
    /// The running agent and the run: every own event's origin, shared.
    origin: Origin,
    /// Sub-runs' origins with this run's id, shared per sub-run.
    nested: Restamp,
    /// Ended by the run end the run yields; if the run is dropped first,
    /// its drop records a cancelled run.
    record: RunRecord,
}

impl Envelope {
    fn new(source: Text, run_id: Text, record: RunRecord) -> Self {
        Envelope {
            seq: 0,
            origin: Origin::new(Some(source), Some(run_id.clone()), None),
            run_id,
            nested: Restamp::new(),
            record,
        }
    }

    fn set_source(&mut self, source: Text) {
        self.origin = Origin::new(Some(source), Some(self.run_id.clone()), None);
    }

    fn stamp(&mut self, mut event: Event) -> Event {
        event.seq = self.seq;
        self.seq += 1;
        event.origin.clone_from(&self.origin);
        if let EventKind::RunEnd { status } = event.kind {
            self.record.end(status);
        }
        event
    }

    /// A sub-run's event: numbered in this run, in this run, but keeping its
    /// own `source` and `parent`.
    fn stamp_nested(&mut self, mut event: Event) -> Event {
        event.seq = self.seq;
        self.seq += 1;
        let run_id = &self.run_id;
        self.nested
            .apply(&mut event.origin, |o| o.run_id = Some(run_id.clone()));
        event
    }
}

/// The whole run as one stream, polled in the consumer's task. Function
/// tools run on spawned tasks (so a panicking tool is an error result, not
/// a crash) that are aborted if the stream is dropped; agent tools' runs are
/// streams polled here, their events passed on as they come.
///
/// A handoff switches `agent` (instructions, tools, provider) for the turns
/// that follow; the run's turn budget is the first agent's `max_turns`, and
/// every turn counts, whichever agent runs it, so handoff loops end there.
pub(crate) fn run(config: Arc<Config>, input: Input, run_id: Text) -> BoxEventStream {
    let record = RunRecord::start(&config.name, &config.model, config.provider.name(), &run_id);
    let run_span = record.span().clone();
    let traced_span = run_span.clone();
    let events = async_stream::stream! {
        let max_turns = config.max_turns;
        let mut agent = config;
        let mut envelope = Envelope::new(agent.name.clone(), run_id, record);
        let mut started = false;

        let mut messages = agent.conversation(input);
        for _turn in 0..max_turns {
            let request = ChatRequest::new(agent.model.clone(), messages.clone())
                .with_tools(agent.specs())
                .with_settings(agent.settings.clone())
                .with_agent(agent.name.clone())
                .with_run_id(envelope.run_id.clone());
            let mut turn_record = TurnRecord::start(&run_span, &agent.model, agent.provider.name());
            if agent.capture_content {
                turn_record.input(&messages);
            }
            let mut turn = {
                let _entered = turn_record.span().enter();
                agent.provider.stream(request)
            };
            let mut calls: Vec<ToolCall> = Vec::new();
            let mut text = Text::new();
            let mut failed = false;
            let mut ended = false;
            let mut awaiting: Option<RunStatus> = None;
            while let Some(item) = turn.next().await {
                turn_record.observe(&item);
                if !started {
                    started = true;
                    // The run start waits for the first turn's: the provider
                    // knows what is really answering (the demo says it is a demo).
                    let reported = match &item {
                        Ok(Event { kind: EventKind::RunStart { model, .. }, .. }) => model.clone(),
                        _ => None,
                    };
                    yield Ok(envelope.stamp(Event::new(EventKind::RunStart {
                        agent: agent.name.clone(),
                        model: reported.or_else(|| Some(agent.model.clone())),
                    })));
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
                        // A remote agent (A2A) may end its turn asking the
                        // user: so does this run.
                        if status.awaits_user() {
                            awaiting = Some(*status);
                        } else {
                            failed |= *status != RunStatus::Completed;
                        }
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
                yield Ok(envelope.stamp(Event::new(EventKind::RunStart {
                    agent: agent.name.clone(),
                    model: Some(agent.model.clone()),
                })));
            }
            if !ended && !failed {
                // A provider that stops without saying how is not a success.
                failed = true;
                yield Err(agentor_core::Error::protocol(format!(
                    "provider `{}` ended its turn without a run end",
                    agent.provider.name()
                )));
            }
            if agent.capture_content {
                turn_record.output(&text, &calls, failed);
            }
            turn_record.finish(failed, !calls.is_empty());
            if failed {
                yield Ok(envelope.stamp(Event::run_end(RunStatus::Failed)));
                return;
            }
            if let Some(status) = awaiting {
                yield Ok(envelope.stamp(Event::run_end(status)));
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
                .partition(|c| agent.client_tools.iter().any(|t| t.name == c.name));
            let hand_over = !client_calls.is_empty();
            messages.push(ChatMessage {
                tool_calls: calls
                    .iter()
                    .map(|c| ToolCallRequest { id: c.call_id.clone(), name: c.name.clone(), arguments: c.arguments.clone() })
                    .collect(),
                ..ChatMessage::assistant(text)
            });
            let mut handoff_to: Option<Arc<Config>> = None;
            let mut running = futures_util::stream::select_all(
                calls.iter().enumerate().map(|(index, call)| {
                    start_call(&agent, index, call, &envelope.run_id, &mut handoff_to)
                }),
            );
            let mut results: Vec<Option<ToolResult>> = vec![None; calls.len()];
            // The first call (in call order) that interrupts decides.
            let mut interrupt: Option<(usize, Interrupt)> = None;
            while let Some(reported) = running.next().await {
                match reported {
                    ToolEvent::Nested(event) => yield Ok(envelope.stamp_nested(event)),
                    ToolEvent::Done(index, result) => {
                        yield Ok(envelope.stamp(Event::new(EventKind::ToolResult(Box::new(result.clone())))));
                        results[index] = Some(result);
                    }
                    ToolEvent::Interrupted(index, result, asked) => {
                        yield Ok(envelope.stamp(Event::new(EventKind::ToolResult(Box::new(result)))));
                        if interrupt.as_ref().is_none_or(|(first, _)| index < *first) {
                            interrupt = Some((index, asked));
                        }
                    }
                }
            }
            drop(running);
            if let Some((_, asked)) = interrupt {
                // The question is the run's last message: what every sink
                // shows, and what an A2A task puts in its status.
                yield Ok(envelope.stamp(Event::message(asked.message())));
                yield Ok(envelope.stamp(Event::run_end(asked.status())));
                return;
            }
            if hand_over {
                yield Ok(envelope.stamp(Event::run_end(RunStatus::Completed)));
                return;
            }
            // Fed back in call order, whatever order they finished in.
            for result in results.into_iter().flatten() {
                messages.push(ChatMessage::tool(result.call_id, result.output));
            }
            if let Some(target) = handoff_to {
                yield Ok(envelope.stamp(Event::new(EventKind::Handoff {
                    from: agent.name.clone(),
                    to: target.name.clone(),
                })));
                handoff::swap_instructions(&mut messages, &agent, &target);
                agent = target;
                envelope.set_source(agent.name.clone());
                yield Ok(envelope.stamp(Event::new(EventKind::AgentUpdated {
                    agent: agent.name.clone(),
                })));
            }
        }
        yield Ok(envelope.stamp(Event::run_end(RunStatus::MaxTurns)));
    };
    // A span made with no subscriber to record it stays disabled: the run
    // then goes without the wrapper, and costs what an uninstrumented one does.
    if traced_span.is_disabled() {
        Box::pin(events)
    } else {
        Box::pin(Traced::new(events, traced_span))
    }
}

/// Starts tool call `call`, number `index` of the turn, as a stream of what
/// it reports: a handoff (the first transfer call of the turn wins; it is
/// noted in `handoff_to`), an agent tool's sub-run, or a function tool.
fn start_call(
    agent: &Config,
    index: usize,
    call: &ToolCall,
    run_id: &Text,
    handoff_to: &mut Option<Arc<Config>>,
) -> ToolStream {
    let result = |output: String, is_error: bool| ToolResult {
        call_id: call.call_id.clone(),
        name: call.name.clone(),
        output: output.into(),
        is_error,
        duration: Some(Duration::ZERO),
    };
    if let Some(target) = handoff::target(agent, &call.name) {
        if handoff_to.is_some() {
            let refused =
                "only one handoff per turn: an earlier call of this turn already handed off";
            return nested::ready(index, result(refused.to_owned(), true));
        }
        *handoff_to = Some(target.clone());
        return nested::ready(index, result(handoff::transfer_output(target), false));
    }
    let tool = agent.tools.iter().find(|t| t.name() == call.name.as_str());
    if let Some(sub) = tool.and_then(|t| t.sub_agent()) {
        let timeout = tool.and_then(Tool::own_timeout);
        return Box::pin(nested::sub_run(
            sub.clone(),
            index,
            call,
            run_id.clone(),
            timeout,
        ));
    }
    let run = ToolRun::start(agent, index, call);
    Box::pin(
        futures_util::stream::once(run).map(|(index, result, interrupt)| match interrupt {
            Some(interrupt) => ToolEvent::Interrupted(index, result, interrupt),
            None => ToolEvent::Done(index, result),
        }),
    )
}

/// One tool call running on its own task; aborted when dropped.
struct ToolRun {
    index: usize,
    call_id: Text,
    name: Text,
    started: tokio::time::Instant,
    span: tracing::Span,
    capture_content: bool,
    task: Option<JoinHandle<Result<String, Failure>>>,
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
        let span = instrument::tool_span(&call.name, &call.call_id);
        if config.capture_content {
            instrument::tool_arguments(&span, &call.arguments);
        }
        let task = tokio::spawn(tracing::Instrument::instrument(
            async move {
                let Some(tool) = tool else {
                    return Err(ToolError(format!("unknown tool `{name}`")).into());
                };
                if !arguments.is_object() {
                    return Err(ToolError(format!(
                        "invalid arguments: expected a JSON object, got {arguments}"
                    ))
                    .into());
                }
                match tokio::time::timeout(timeout, tool.call(arguments)).await {
                    Ok(result) => result,
                    Err(_) => {
                        Err(ToolError(format!("timed out after {}", describe(timeout))).into())
                    }
                }
            },
            span.clone(),
        ));
        ToolRun {
            index,
            call_id: call.call_id.clone(),
            name: call.name.clone(),
            started: tokio::time::Instant::now(),
            span,
            capture_content: config.capture_content,
            task: Some(task),
        }
    }
}

fn describe(d: Duration) -> String {
    format!("{}s", d.as_secs_f64())
}

impl std::future::Future for ToolRun {
    type Output = (usize, ToolResult, Option<Interrupt>);

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        let Some(task) = self.task.as_mut() else {
            return std::task::Poll::Pending;
        };
        let outcome = std::task::ready!(std::pin::Pin::new(task).poll(cx));
        self.task = None;
        let mut interrupt = None;
        let (output, is_error) = match outcome {
            Ok(Ok(output)) => (output, false),
            Ok(Err(Failure::Error(error))) => (error.0, true),
            Ok(Err(Failure::Interrupt(asked))) => {
                let output = asked.message().to_owned();
                interrupt = Some(asked);
                (output, false)
            }
            Err(join) if join.is_panic() => (format!("tool `{}` panicked", self.name), true),
            Err(_) => (format!("tool `{}` was cancelled", self.name), true),
        };
        let duration = self.started.elapsed();
        instrument::tool_done(&self.span, &self.name, duration, is_error);
        if self.capture_content && !is_error {
            instrument::tool_result(&self.span, &output);
        }
        let result = ToolResult {
            call_id: self.call_id.clone(),
            name: self.name.clone(),
            output: output.into(),
            is_error,
            duration: Some(duration),
        };
        std::task::Poll::Ready((self.index, result, interrupt))
    }
}

impl Drop for ToolRun {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}
