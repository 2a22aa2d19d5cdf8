//! The names of agentor's metrics and span attributes, in one place.
//!
//! Names follow the OpenTelemetry semantic conventions for generative AI
//! (semconv **v1.41.0**, status "development") where they define one, and
//! are `agentor.*` otherwise. Metrics go through the [`metrics`] facade, so
//! nothing is recorded, and nearly nothing is spent, until an application
//! installs a recorder; a Prometheus exporter renders `gen_ai.client.token.usage`
//! as `gen_ai_client_token_usage` and counters with a `_total` suffix.
//! `docs/observability.md` lists each with its labels.

/// Histogram, seconds: one model call (a provider turn) from request to end.
/// Labels: [`GEN_AI_OPERATION_NAME`], [`GEN_AI_PROVIDER_NAME`],
/// [`GEN_AI_REQUEST_MODEL`], [`ERROR_TYPE`] when it failed.
pub const OPERATION_DURATION: &str = "gen_ai.client.operation.duration";
/// Histogram, seconds: from the request to the first streamed event of a
/// model call. Labels as [`OPERATION_DURATION`] without [`ERROR_TYPE`].
pub const TIME_TO_FIRST_CHUNK: &str = "gen_ai.client.operation.time_to_first_chunk";
/// Histogram, tokens: the usage a model call reported, by
/// [`GEN_AI_TOKEN_TYPE`] (`input` or `output`).
pub const TOKEN_USAGE: &str = "gen_ai.client.token.usage";

/// Counter: agent runs started. Label: [`GEN_AI_AGENT_NAME`].
pub const RUNS_STARTED: &str = "agentor.runs.started";
/// Counter: agent runs ended. Labels: [`GEN_AI_AGENT_NAME`], [`STATUS`]
/// (a [`RunStatus`](crate::RunStatus) name; `cancelled` for a run dropped
/// before its end).
pub const RUNS_ENDED: &str = "agentor.runs.ended";
/// Gauge: agent runs in progress. Label: [`GEN_AI_AGENT_NAME`].
pub const RUNS_ACTIVE: &str = "agentor.runs.active";
/// Histogram, seconds: how long a tool call ran. Label: [`GEN_AI_TOOL_NAME`].
pub const TOOL_DURATION: &str = "agentor.tool.duration";
/// Counter: tool calls that failed (error, timeout, panic, unknown tool).
/// Label: [`GEN_AI_TOOL_NAME`].
pub const TOOL_ERRORS: &str = "agentor.tool.errors";
/// Counter: requests to a model API sent again after a failure. Label:
/// [`HTTP_STATUS`] (the status that caused it, or `connect`).
pub const PROVIDER_RETRIES: &str = "agentor.provider.retries";
/// Counter: model calls that failed. Labels: [`GEN_AI_PROVIDER_NAME`],
/// [`HTTP_STATUS`] (`none` when the failure had no HTTP status).
pub const PROVIDER_ERRORS: &str = "agentor.provider.errors";

/// Counter: events that passed a [`MetricsLayer`](crate::ops::metrics::MetricsLayer).
/// Labels: [`POSITION`], [`KIND`].
pub const LAYER_EVENTS: &str = "agentor.layer.events";
/// Counter, bytes: streamed text (text, reasoning and message text) that
/// passed a [`MetricsLayer`](crate::ops::metrics::MetricsLayer). Label: [`POSITION`].
pub const LAYER_BYTES: &str = "agentor.layer.text";
/// Histogram, seconds: from a stream's first poll to its first item, at a
/// [`MetricsLayer`](crate::ops::metrics::MetricsLayer). Label: [`POSITION`].
pub const LAYER_TIME_TO_FIRST_EVENT: &str = "agentor.layer.time_to_first_event";

/// Attribute `gen_ai.operation.name`: `chat`, `invoke_agent`, `execute_tool`.
pub const GEN_AI_OPERATION_NAME: &str = "gen_ai.operation.name";
/// Attribute `gen_ai.provider.name`: the provider's name (`openai`, `anthropic`, …).
pub const GEN_AI_PROVIDER_NAME: &str = "gen_ai.provider.name";
/// Attribute `gen_ai.request.model`: the model asked for.
pub const GEN_AI_REQUEST_MODEL: &str = "gen_ai.request.model";
/// Attribute `gen_ai.agent.name`: the agent running.
pub const GEN_AI_AGENT_NAME: &str = "gen_ai.agent.name";
/// Attribute `gen_ai.token.type`: `input` or `output`.
pub const GEN_AI_TOKEN_TYPE: &str = "gen_ai.token.type";
/// Attribute `gen_ai.tool.name`: the tool called.
pub const GEN_AI_TOOL_NAME: &str = "gen_ai.tool.name";
/// Attribute `error.type`: the class of a failure.
pub const ERROR_TYPE: &str = "error.type";
/// Attribute `gen_ai.system_instructions` (opt-in content): a `chat` span's
/// system instructions, a JSON array of text parts.
pub const GEN_AI_SYSTEM_INSTRUCTIONS: &str = "gen_ai.system_instructions";
/// Attribute `gen_ai.input.messages` (opt-in content): the messages a `chat`
/// span sent, JSON in the conventions' input messages schema.
pub const GEN_AI_INPUT_MESSAGES: &str = "gen_ai.input.messages";
/// Attribute `gen_ai.output.messages` (opt-in content): what the model
/// answered, JSON in the conventions' output messages schema.
pub const GEN_AI_OUTPUT_MESSAGES: &str = "gen_ai.output.messages";
/// Attribute `gen_ai.tool.call.arguments` (opt-in content): an
/// `execute_tool` span's arguments, as JSON text.
pub const GEN_AI_TOOL_CALL_ARGUMENTS: &str = "gen_ai.tool.call.arguments";
/// Attribute `gen_ai.tool.call.result` (opt-in content): what a tool that
/// succeeded returned.
pub const GEN_AI_TOOL_CALL_RESULT: &str = "gen_ai.tool.call.result";
/// The environment variable that opts in to recording contents on spans
/// (`true`), the de-facto name among OpenTelemetry GenAI instrumentations.
pub const CAPTURE_CONTENT_ENV: &str = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT";
/// Label `status`: how a run ended.
pub const STATUS: &str = "status";
/// Label `http.response.status_code`: an HTTP status.
pub const HTTP_STATUS: &str = "http.response.status_code";
/// Label `position`: the name given to a [`MetricsLayer`](crate::ops::metrics::MetricsLayer).
pub const POSITION: &str = "position";
/// Label `kind`: an event's [`Kind`](crate::Kind) name.
pub const KIND: &str = "kind";

/// The bucket bounds the conventions give for durations, in seconds.
pub const DURATION_BUCKETS: &[f64] = &[
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
];
/// The bucket bounds the conventions give for token counts.
pub const TOKEN_BUCKETS: &[f64] = &[
    1.0, 4.0, 16.0, 64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0, 4194304.0,
    16777216.0, 67108864.0,
];

/// The bucket bounds of each histogram above, for exporters to configure
/// alike (`/metrics` and OTLP use these).
pub const HISTOGRAM_BUCKETS: &[(&str, &[f64])] = &[
    (OPERATION_DURATION, DURATION_BUCKETS),
    (TIME_TO_FIRST_CHUNK, DURATION_BUCKETS),
    (TOOL_DURATION, DURATION_BUCKETS),
    (LAYER_TIME_TO_FIRST_EVENT, DURATION_BUCKETS),
    (TOKEN_USAGE, TOKEN_BUCKETS),
];

/// Describes every metric above to the installed recorder (help text and
/// unit), so an exporter names and documents them; call it once after
/// installing one.
pub fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_histogram!(
        OPERATION_DURATION,
        Unit::Seconds,
        "GenAI operation duration."
    );
    describe_histogram!(
        TIME_TO_FIRST_CHUNK,
        Unit::Seconds,
        "Time from a model request to its first streamed chunk."
    );
    describe_histogram!(TOKEN_USAGE, "Input and output tokens used per model call.");
    describe_counter!(RUNS_STARTED, "Agent runs started.");
    describe_counter!(RUNS_ENDED, "Agent runs ended, by status.");
    describe_gauge!(RUNS_ACTIVE, "Agent runs in progress.");
    describe_histogram!(TOOL_DURATION, Unit::Seconds, "Tool call duration.");
    describe_counter!(TOOL_ERRORS, "Tool calls that failed.");
    describe_counter!(PROVIDER_RETRIES, "Model API requests retried.");
    describe_counter!(PROVIDER_ERRORS, "Model calls that failed, by HTTP status.");
    describe_counter!(LAYER_EVENTS, "Events through a metrics layer, by kind.");
    describe_counter!(
        LAYER_BYTES,
        Unit::Bytes,
        "Streamed text through a metrics layer."
    );
    describe_histogram!(
        LAYER_TIME_TO_FIRST_EVENT,
        Unit::Seconds,
        "Time to the first item at a metrics layer."
    );
}
