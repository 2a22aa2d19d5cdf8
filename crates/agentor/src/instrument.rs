//! Spans and metrics of a run, its provider turns and its tools, after the
//! OpenTelemetry GenAI conventions (semconv v1.41.0). The names live in
//! [`agentor_core::telemetry`]; this module records them where the agent loop
//! calls it, one line at each place.
//!
//! `tracing` span names are static, so a span's name is the operation
//! (`invoke_agent`, `chat`, `execute_tool`) and its `otel.name` field holds
//! the conventions' full name (`chat gpt-5-mini`), which OpenTelemetry
//! bridges use as the span name. Message and tool contents are recorded only
//! for an agent that opted in ([`crate::content`]).

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use agentor_core::telemetry::{
    ERROR_TYPE, GEN_AI_AGENT_NAME, GEN_AI_INPUT_MESSAGES, GEN_AI_OPERATION_NAME,
    GEN_AI_OUTPUT_MESSAGES, GEN_AI_PROVIDER_NAME, GEN_AI_REQUEST_MODEL, GEN_AI_SYSTEM_INSTRUCTIONS,
    GEN_AI_TOKEN_TYPE, GEN_AI_TOOL_CALL_ARGUMENTS, GEN_AI_TOOL_CALL_RESULT, GEN_AI_TOOL_NAME,
    HTTP_STATUS, OPERATION_DURATION, PROVIDER_ERRORS, RUNS_ACTIVE, RUNS_ENDED, RUNS_STARTED,
    STATUS, TIME_TO_FIRST_CHUNK, TOKEN_USAGE, TOOL_DURATION, TOOL_ERRORS,
};
use agentor_core::{ChatMessage, Error, EventKind, EventResult, RunStatus, Text, ToolCall};
use futures_core::Stream;
use pin_project_lite::pin_project;
use tokio::time::Instant;
use tracing::field::Empty;
use tracing::Span;

use crate::content;

/// The conventions' provider name: `openai` for both OpenAI APIs.
pub(crate) fn provider_name(name: &str) -> &str {
    if name.starts_with("openai") {
        "openai"
    } else {
        name
    }
}

/// One run: its `invoke_agent` span and its run counters. Dropped before
/// [`RunRecord::end`], the run counts as cancelled (drop = cancel).
pub(crate) struct RunRecord {
    agent: Text,
    span: Span,
    ended: bool,
}

impl RunRecord {
    pub(crate) fn start(agent: &Text, model: &str, provider: &str, run_id: &Text) -> Self {
        let span = tracing::info_span!(
            "invoke_agent",
            otel.name = %format_args!("invoke_agent {agent}"),
            gen_ai.operation.name = "invoke_agent",
            gen_ai.agent.name = %agent,
            gen_ai.request.model = %model,
            gen_ai.provider.name = provider_name(provider),
            gen_ai.conversation.id = %run_id,
            agentor.run.status = Empty,
            error.type = Empty,
        );
        let name = agent.to_string();
        metrics::counter!(RUNS_STARTED, GEN_AI_AGENT_NAME => name.clone()).increment(1);
        metrics::gauge!(RUNS_ACTIVE, GEN_AI_AGENT_NAME => name).increment(1.0);
        RunRecord {
            agent: agent.clone(),
            span,
            ended: false,
        }
    }

    pub(crate) fn span(&self) -> &Span {
        &self.span
    }

    /// Notes the run's end (once; a later end is ignored).
    pub(crate) fn end(&mut self, status: RunStatus) {
        if std::mem::replace(&mut self.ended, true) {
            return;
        }
        self.span.record("agentor.run.status", status.as_str());
        if !(status == RunStatus::Completed || status.awaits_user()) {
            self.span.record(ERROR_TYPE, status.as_str());
        }
        let name = self.agent.to_string();
        metrics::counter!(RUNS_ENDED, GEN_AI_AGENT_NAME => name.clone(), STATUS => status.as_str())
            .increment(1);
        metrics::gauge!(RUNS_ACTIVE, GEN_AI_AGENT_NAME => name).decrement(1.0);
    }
}

impl Drop for RunRecord {
    fn drop(&mut self) {
        self.end(RunStatus::Cancelled);
    }
}

/// One provider turn: its `chat` span, time to first chunk, usage and duration.
pub(crate) struct TurnRecord {
    span: Span,
    provider: &'static str,
    model: String,
    started: Instant,
    first_seen: bool,
    response_model: bool,
    failure: Option<String>,
}

impl TurnRecord {
    pub(crate) fn start(run: &Span, model: &Text, provider: &str) -> Self {
        let span = tracing::info_span!(
            parent: run,
            "chat",
            otel.name = %format_args!("chat {model}"),
            gen_ai.operation.name = "chat",
            gen_ai.provider.name = provider_name(provider),
            gen_ai.request.model = %model,
            gen_ai.response.model = Empty,
            gen_ai.usage.input_tokens = Empty,
            gen_ai.usage.output_tokens = Empty,
            gen_ai.response.finish_reasons = Empty,
            error.type = Empty,
            gen_ai.system_instructions = Empty,
            gen_ai.input.messages = Empty,
            gen_ai.output.messages = Empty,
        );
        TurnRecord {
            span,
            provider: static_provider(provider_name(provider)),
            model: model.to_string(),
            started: Instant::now(),
            first_seen: false,
            response_model: false,
            failure: None,
        }
    }

    pub(crate) fn span(&self) -> &Span {
        &self.span
    }

    /// Records the messages sent (opted-in content).
    pub(crate) fn input(&self, messages: &[ChatMessage]) {
        if self.span.is_disabled() {
            return;
        }
        let (instructions, input) = content::input(messages);
        if let Some(instructions) = instructions {
            self.span
                .record(GEN_AI_SYSTEM_INSTRUCTIONS, instructions.as_str());
        }
        self.span.record(GEN_AI_INPUT_MESSAGES, input.as_str());
    }

    /// Records what the model answered (opted-in content): its message
    /// text and tool calls.
    pub(crate) fn output(&self, text: &str, calls: &[ToolCall], failed: bool) {
        if self.span.is_disabled() {
            return;
        }
        // The output schema's reasons (`tool_call`), not OpenAI's.
        let reason = if failed {
            "error"
        } else if calls.is_empty() {
            "stop"
        } else {
            "tool_call"
        };
        let output = content::output(text, calls, reason);
        self.span.record(GEN_AI_OUTPUT_MESSAGES, output.as_str());
    }

    /// Looks at one item of the turn: the first starts the clock's first
    /// chunk, the provider's run start names the model answering, usage is
    /// recorded, a failure noted.
    pub(crate) fn observe(&mut self, item: &EventResult) {
        if !self.first_seen {
            self.first_seen = true;
            metrics::histogram!(
                TIME_TO_FIRST_CHUNK,
                GEN_AI_OPERATION_NAME => "chat",
                GEN_AI_PROVIDER_NAME => self.provider,
                GEN_AI_REQUEST_MODEL => self.model.clone(),
            )
            .record(self.started.elapsed().as_secs_f64());
        }
        match item {
            Ok(event) => match &event.kind {
                EventKind::RunStart {
                    model: Some(model), ..
                } if !self.response_model => {
                    self.response_model = true;
                    self.span.record("gen_ai.response.model", model.as_str());
                }
                EventKind::Usage {
                    input_tokens,
                    output_tokens,
                    ..
                } => self.usage(*input_tokens, *output_tokens),
                EventKind::Error { kind, .. } => {
                    self.failure.get_or_insert_with(|| kind.as_str().to_owned());
                }
                _ => {}
            },
            Err(err) => self.failed(err),
        }
    }

    fn usage(&self, input: u64, output: u64) {
        // As i64, OpenTelemetry's integer: bridges turn a u64 into a string.
        self.span.record(
            "gen_ai.usage.input_tokens",
            i64::try_from(input).unwrap_or(i64::MAX),
        );
        self.span.record(
            "gen_ai.usage.output_tokens",
            i64::try_from(output).unwrap_or(i64::MAX),
        );
        for (kind, tokens) in [("input", input), ("output", output)] {
            metrics::histogram!(
                TOKEN_USAGE,
                GEN_AI_OPERATION_NAME => "chat",
                GEN_AI_PROVIDER_NAME => self.provider,
                GEN_AI_REQUEST_MODEL => self.model.clone(),
                GEN_AI_TOKEN_TYPE => kind,
            )
            .record(tokens as f64);
        }
    }

    fn failed(&mut self, err: &Error) {
        if self.failure.is_some() {
            return;
        }
        let status = err
            .status()
            .map_or_else(|| "none".to_owned(), |s| s.to_string());
        metrics::counter!(PROVIDER_ERRORS, GEN_AI_PROVIDER_NAME => self.provider, HTTP_STATUS => status.clone())
            .increment(1);
        self.failure = Some(match err.status() {
            Some(_) => status,
            None => err.kind().as_str().to_owned(),
        });
    }

    /// Ends the turn. The event model carries no provider finish reason, so
    /// the one recorded is what the turn led to: `tool_calls`, `stop` or
    /// `error`.
    pub(crate) fn finish(self, failed: bool, tool_calls: bool) {
        // One reason per turn, recorded as its JSON array.
        let reason = if failed {
            r#"["error"]"#
        } else if tool_calls {
            r#"["tool_calls"]"#
        } else {
            r#"["stop"]"#
        };
        self.span.record("gen_ai.response.finish_reasons", reason);
        let error = failed.then(|| self.failure.clone().unwrap_or_else(|| "_OTHER".to_owned()));
        if let Some(error) = &error {
            self.span.record(ERROR_TYPE, error.as_str());
        }
        let duration = self.started.elapsed().as_secs_f64();
        match error {
            Some(error) => metrics::histogram!(
                OPERATION_DURATION,
                GEN_AI_OPERATION_NAME => "chat",
                GEN_AI_PROVIDER_NAME => self.provider,
                GEN_AI_REQUEST_MODEL => self.model,
                ERROR_TYPE => error,
            )
            .record(duration),
            None => metrics::histogram!(
                OPERATION_DURATION,
                GEN_AI_OPERATION_NAME => "chat",
                GEN_AI_PROVIDER_NAME => self.provider,
                GEN_AI_REQUEST_MODEL => self.model,
            )
            .record(duration),
        }
    }
}

/// Provider names as label values without an allocation per record: the
/// known ones are static, others are leaked once per distinct name (there
/// are as many as provider types, a handful).
fn static_provider(name: &str) -> &'static str {
    match name {
        "openai" => "openai",
        "anthropic" => "anthropic",
        "demo" => "demo",
        "replay" => "replay",
        "a2a" => "a2a",
        other => intern(other),
    }
}

fn intern(name: &str) -> &'static str {
    use std::collections::HashSet;
    use std::sync::{Mutex, OnceLock};
    // Bounded: past this many distinct names, the rest share one label.
    const MAX_NAMES: usize = 64;
    static NAMES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let mut names = NAMES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(known) = names.get(name) {
        return known;
    }
    if names.len() >= MAX_NAMES {
        return "_OTHER";
    }
    let leaked: &'static str = Box::leak(name.to_owned().into_boxed_str());
    names.insert(leaked);
    leaked
}

/// The `execute_tool` span of a function tool call, a child of the current
/// (the run's) span.
pub(crate) fn tool_span(name: &Text, call_id: &Text) -> Span {
    tracing::info_span!(
        "execute_tool",
        otel.name = %format_args!("execute_tool {name}"),
        gen_ai.operation.name = "execute_tool",
        gen_ai.tool.name = %name,
        gen_ai.tool.call.id = %call_id,
        gen_ai.tool.type = "function",
        error.type = Empty,
        gen_ai.tool.call.arguments = Empty,
        gen_ai.tool.call.result = Empty,
    )
}

/// Records a tool call's arguments (opted-in content).
pub(crate) fn tool_arguments(span: &Span, arguments: &serde_json::Value) {
    if !span.is_disabled() {
        span.record(
            GEN_AI_TOOL_CALL_ARGUMENTS,
            content::clip_json(arguments).as_str(),
        );
    }
}

/// Records what a tool that succeeded returned (opted-in content).
pub(crate) fn tool_result(span: &Span, output: &str) {
    if !span.is_disabled() {
        span.record(GEN_AI_TOOL_CALL_RESULT, content::clip(output).as_str());
    }
}

/// Records a finished tool call: its duration, and its failure.
pub(crate) fn tool_done(span: &Span, name: &Text, duration: Duration, is_error: bool) {
    let tool = name.to_string();
    metrics::histogram!(TOOL_DURATION, GEN_AI_TOOL_NAME => tool.clone())
        .record(duration.as_secs_f64());
    if is_error {
        span.record(ERROR_TYPE, "tool_error");
        metrics::counter!(TOOL_ERRORS, GEN_AI_TOOL_NAME => tool).increment(1);
    }
}

pin_project! {
    /// A run's stream, polled inside its `invoke_agent` span, so what it
    /// starts while polled (tool spans, sub-runs, log events) are the
    /// span's children. The run's end is noted by the run itself (its
    /// [`RunRecord`] lives in the run's state). Only a run whose span is
    /// enabled is wrapped: entering a disabled span would still cost calls
    /// per poll (and, with `tracing`'s `log` feature, a log check on enter
    /// and exit).
    pub(crate) struct Traced<S> {
        #[pin]
        inner: S,
        span: Span,
    }
}

impl<S> Traced<S> {
    pub(crate) fn new(inner: S, span: Span) -> Self {
        Traced { inner, span }
    }
}

impl<S: Stream<Item = EventResult>> Stream for Traced<S> {
    type Item = EventResult;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<EventResult>> {
        let this = self.project();
        // The item is returned straight from the inner poll, never moved here.
        let _entered = this.span.enter();
        this.inner.poll_next(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}
