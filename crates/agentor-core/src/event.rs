//! The event model: an [`Event`] envelope around an [`EventKind`].

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::{Origin, Text};

/// One thing that happened in an agent run.
///
/// The envelope (`seq` and the [`Origin`]: source, run id, parent) is
/// small and the payload is an [`EventKind`]; text is held in [`Text`] and
/// the origin is shared, so cloning an event copies no text.
///
/// ```
/// use agentor_core::{Event, EventKind, Kind};
///
/// let event = Event::text_delta("Hel").with_seq(3).with_source("A1");
/// assert_eq!(event.kind(), Kind::TextDelta);
/// assert_eq!(event.text(), Some("Hel"));
/// assert_eq!(event.origin.source.as_deref(), Some("A1"));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// Position in its stream as the producer numbered it. Operators keep it
    /// non-decreasing but not unique: a re-cut piece keeps the `seq` of the
    /// delta it starts in, a progress event repeats the `seq` before it, and
    /// merge keeps each source's numbering. A sink that needs unique ids (SSE
    /// `id:`) numbers what it sends.
    pub seq: u64,
    /// Where the event comes from: its source, run id and parent path,
    /// read as `event.origin.source`, `event.origin.run_id`,
    /// `event.origin.parent`. Shared by the events of a run (see
    /// [`Origin`]).
    pub origin: Origin,
    /// What happened.
    pub kind: EventKind,
}

/// What happened: the payload of an [`Event`].
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum EventKind {
    /// A run began. Its id is the origin's [`run_id`](crate::OriginFields::run_id).
    RunStart {
        /// The agent running.
        agent: Text,
        /// The model answering, when known.
        model: Option<Text>,
    },
    /// A piece of the answer's text, as the model produced it.
    TextDelta {
        /// The new text.
        text: Text,
        /// The message the text belongs to, when the provider says.
        message_id: Option<Text>,
    },
    /// A complete message: the text of one model turn.
    Message {
        /// The whole text.
        text: Text,
        /// The message id, when the provider gives one.
        message_id: Option<Text>,
    },
    /// A piece of the model's reasoning.
    ReasoningDelta {
        /// The new text.
        text: Text,
        /// The reasoning item the text belongs to, when the provider says.
        message_id: Option<Text>,
    },
    /// A summary of the model's reasoning.
    ReasoningSummary {
        /// The summary text.
        text: Text,
    },
    /// The model asked for a tool to run. Boxed: tool events are rare, and
    /// keeping them out of line keeps every other event small to move.
    ToolCall(Box<ToolCall>),
    /// A fragment of a tool call's arguments, as the model generates them.
    /// The complete [`EventKind::ToolCall`] still follows. Boxed like it.
    ToolCallDelta(Box<ToolCallDelta>),
    /// A tool finished. Boxed like [`EventKind::ToolCall`].
    ToolResult(Box<ToolResult>),
    /// Another agent took over the run.
    AgentUpdated {
        /// The agent now running.
        agent: Text,
    },
    /// One agent handed the conversation to another.
    Handoff {
        /// The agent handing off.
        from: Text,
        /// The agent taking over.
        to: Text,
    },
    /// Token usage reported by the model.
    Usage {
        /// Prompt tokens.
        input_tokens: u64,
        /// Completion tokens.
        output_tokens: u64,
        /// All tokens.
        total_tokens: u64,
        /// Of `input_tokens`, how many were read from the provider's prompt
        /// cache (Anthropic `cache_read_input_tokens`, OpenAI
        /// `cached_tokens`); 0 when not reported.
        cache_read_input_tokens: u64,
        /// Of `input_tokens`, how many were written to the prompt cache
        /// (Anthropic `cache_creation_input_tokens`); 0 when not reported.
        cache_creation_input_tokens: u64,
    },
    /// Counters of the stream so far, emitted by the progress operator.
    Progress(ProgressSnapshot),
    /// Something failed; the stream still ends with a [`EventKind::RunEnd`].
    Error {
        /// The class of failure.
        kind: ErrorKind,
        /// A human-readable explanation.
        message: Text,
    },
    /// The run ended. The last event of a well-formed stream.
    RunEnd {
        /// How it ended.
        status: RunStatus,
    },
}

/// A tool call: the payload of [`EventKind::ToolCall`].
#[derive(Clone, Debug, PartialEq)]
pub struct ToolCall {
    /// Id pairing this call with its result.
    pub call_id: Text,
    /// The tool's name.
    pub name: Text,
    /// The arguments, as JSON.
    pub arguments: serde_json::Value,
}

/// A fragment of a tool call's arguments: the payload of
/// [`EventKind::ToolCallDelta`].
///
/// The fragments of one call, concatenated in order, are the JSON text of the
/// arguments of the [`ToolCall`] with the same `call_id` that follows them.
#[derive(Clone, Debug, PartialEq)]
pub struct ToolCallDelta {
    /// Id of the call the fragment belongs to.
    pub call_id: Text,
    /// The tool's name: set on a call's first fragment, and allowed on later ones.
    pub name: Option<Text>,
    /// The new piece of the arguments' JSON text (possibly empty on the first fragment).
    pub delta: Text,
}

/// A tool's result: the payload of [`EventKind::ToolResult`].
#[derive(Clone, Debug, PartialEq)]
pub struct ToolResult {
    /// Id of the call this answers.
    pub call_id: Text,
    /// The tool's name.
    pub name: Text,
    /// What the tool returned (or its error message).
    pub output: Text,
    /// Whether the tool failed.
    pub is_error: bool,
    /// How long the tool ran, when measured.
    pub duration: Option<Duration>,
}

/// The counters of a stream at one moment. See [`crate::ProgressLayer`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProgressSnapshot {
    /// Events seen, `Err` items included.
    pub events: u64,
    /// Text deltas seen.
    pub text_deltas: u64,
    /// Bytes of text-delta text seen.
    pub text_bytes: u64,
    /// Tool calls seen.
    pub tool_calls: u64,
    /// Tool results seen.
    pub tool_results: u64,
    /// Errors seen: `Err` items and error events.
    pub errors: u64,
    /// Time since the stream was first polled (until it ended, if it has).
    pub elapsed: Duration,
}

macro_rules! named_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $wire:literal,)* }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The wire name (`snake_case`).
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $wire,)*
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownName;
            fn from_str(s: &str) -> Result<Self, UnknownName> {
                match s {
                    $($wire => Ok($name::$variant),)*
                    _ => Err(UnknownName { what: stringify!($name), name: s.to_owned() }),
                }
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

named_enum! {
    /// The kind of an event, without its payload: what filters select on.
    Kind {
        /// [`EventKind::RunStart`]
        RunStart = "run_start",
        /// [`EventKind::TextDelta`]
        TextDelta = "text_delta",
        /// [`EventKind::Message`]
        Message = "message",
        /// [`EventKind::ReasoningDelta`]
        ReasoningDelta = "reasoning_delta",
        /// [`EventKind::ReasoningSummary`]
        ReasoningSummary = "reasoning_summary",
        /// [`EventKind::ToolCall`]
        ToolCall = "tool_call",
        /// [`EventKind::ToolCallDelta`]
        ToolCallDelta = "tool_call_delta",
        /// [`EventKind::ToolResult`]
        ToolResult = "tool_result",
        /// [`EventKind::AgentUpdated`]
        AgentUpdated = "agent_updated",
        /// [`EventKind::Handoff`]
        Handoff = "handoff",
        /// [`EventKind::Usage`]
        Usage = "usage",
        /// [`EventKind::Progress`]
        Progress = "progress",
        /// [`EventKind::Error`]
        Error = "error",
        /// [`EventKind::RunEnd`]
        RunEnd = "run_end",
    }
}

named_enum! {
    /// The class of a failure, carried by error events and [`crate::Error`].
    ErrorKind {
        /// A deadline passed (idle, first event or total).
        Timeout = "timeout",
        /// The model provider failed or answered with an error.
        Provider = "provider",
        /// A peer spoke the wire protocol wrongly (malformed JSON, bad frame).
        Protocol = "protocol",
        /// The run was cancelled.
        Cancelled = "cancelled",
        /// A bug or an unexpected local failure (I/O included).
        Internal = "internal",
    }
}

named_enum! {
    /// How a run ended.
    RunStatus {
        /// The model finished its answer.
        Completed = "completed",
        /// The tool loop hit its turn limit before the model finished.
        MaxTurns = "max_turns",
        /// A failure ended the run.
        Failed = "failed",
        /// Someone cancelled the run.
        Cancelled = "cancelled",
        /// A timeout ended the run.
        TimedOut = "timed_out",
        /// The agent ended its turn asking the user a question (the run's
        /// last message); the answer continues the conversation.
        InputRequired = "input_required",
        /// The agent ended its turn asking the user to authenticate (the
        /// run's last message says how); the conversation continues after.
        AuthRequired = "auth_required",
    }
}

impl RunStatus {
    /// Whether the run stopped to wait for the user
    /// ([`InputRequired`](RunStatus::InputRequired) or
    /// [`AuthRequired`](RunStatus::AuthRequired)): not a failure, and not
    /// the end of the conversation.
    ///
    /// ```
    /// use agentor_core::RunStatus;
    /// assert!(RunStatus::InputRequired.awaits_user());
    /// assert!(!RunStatus::Completed.awaits_user());
    /// ```
    pub const fn awaits_user(self) -> bool {
        matches!(self, RunStatus::InputRequired | RunStatus::AuthRequired)
    }
}

/// A name that does not denote any value of the enum it was parsed as.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{}`", crate::error::excerpt(.name))]
pub struct UnknownName {
    what: &'static str,
    name: String,
}

impl Kind {
    /// The bit of this kind in a [`crate::KindSet`].
    pub(crate) const fn bit(self) -> u32 {
        1 << (self as u32)
    }

    /// Whether events of this kind carry streamed text (text or reasoning deltas).
    pub const fn is_delta(self) -> bool {
        matches!(self, Kind::TextDelta | Kind::ReasoningDelta)
    }
}

impl EventKind {
    /// The payload's [`Kind`].
    pub const fn kind(&self) -> Kind {
        match self {
            EventKind::RunStart { .. } => Kind::RunStart,
            EventKind::TextDelta { .. } => Kind::TextDelta,
            EventKind::Message { .. } => Kind::Message,
            EventKind::ReasoningDelta { .. } => Kind::ReasoningDelta,
            EventKind::ReasoningSummary { .. } => Kind::ReasoningSummary,
            EventKind::ToolCall(_) => Kind::ToolCall,
            EventKind::ToolCallDelta(_) => Kind::ToolCallDelta,
            EventKind::ToolResult(_) => Kind::ToolResult,
            EventKind::AgentUpdated { .. } => Kind::AgentUpdated,
            EventKind::Handoff { .. } => Kind::Handoff,
            EventKind::Usage { .. } => Kind::Usage,
            EventKind::Progress(_) => Kind::Progress,
            EventKind::Error { .. } => Kind::Error,
            EventKind::RunEnd { .. } => Kind::RunEnd,
        }
    }
}

impl Event {
    /// An event with `seq` 0, no source and no run id.
    pub const fn new(kind: EventKind) -> Self {
        Event {
            seq: 0,
            origin: Origin::none(),
            kind,
        }
    }

    /// Sets `seq`.
    #[must_use]
    pub fn with_seq(mut self, seq: u64) -> Self {
        self.seq = seq;
        self
    }

    /// Sets the whole origin: how a producer gives every event of a run the
    /// one shared [`Origin`].
    #[must_use]
    pub fn with_origin(mut self, origin: Origin) -> Self {
        self.origin = origin;
        self
    }

    /// Sets the origin's `source`.
    #[must_use]
    pub fn with_source(mut self, source: impl Into<Text>) -> Self {
        self.origin.source = Some(source.into());
        self
    }

    /// Sets the origin's `run_id`.
    #[must_use]
    pub fn with_run_id(mut self, run_id: impl Into<Text>) -> Self {
        self.origin.run_id = Some(run_id.into());
        self
    }

    /// Sets the origin's `parent`, the path of tool-call ids of a nested run's event.
    ///
    /// ```
    /// use agentor_core::Event;
    ///
    /// let nested = Event::text_delta("Hi").with_source("Researcher").with_parent("call_1/call_7");
    /// assert_eq!(nested.depth(), 2);
    /// assert_eq!(nested.parent_call(), Some("call_7"));
    /// assert_eq!(Event::text_delta("Hi").depth(), 0);
    /// ```
    #[must_use]
    pub fn with_parent(mut self, parent: impl Into<Text>) -> Self {
        self.origin.parent = Some(parent.into());
        self
    }

    /// How deeply nested the event's run is: 0 for the run's own events, 1
    /// for those of a sub-agent it called, and so on (the segments of
    /// [`OriginFields::parent`](crate::OriginFields::parent)).
    pub fn depth(&self) -> usize {
        self.origin
            .parent
            .as_deref()
            .map_or(0, |path| path.split('/').count())
    }

    /// The id of the tool call whose sub-run produced the event (the last
    /// segment of [`OriginFields::parent`](crate::OriginFields::parent)).
    pub fn parent_call(&self) -> Option<&str> {
        let path = self.origin.parent.as_deref()?;
        path.rsplit('/').next()
    }

    /// The event as seen from the run that called it through tool call
    /// `call_id`: `call_id` is put in front of its parent path.
    #[must_use]
    pub fn nested_in(mut self, call_id: &str) -> Self {
        self.origin.nest_in(call_id);
        self
    }

    /// An event with the envelope of `self` (seq and origin, shared) and
    /// another payload.
    #[must_use]
    pub fn derive(&self, kind: EventKind) -> Self {
        Event {
            seq: self.seq,
            origin: self.origin.clone(),
            kind,
        }
    }

    /// The payload's [`Kind`].
    pub const fn kind(&self) -> Kind {
        self.kind.kind()
    }

    /// About how many bytes the event holds: its own size, the bytes of its
    /// text fields, and the size of its tool-call arguments. What byte
    /// bounds count (the server's replay log, queues): cheap, and exact
    /// enough to bound memory, not an allocator's measure (text that shares
    /// a larger buffer counts only its own bytes).
    ///
    /// ```
    /// use agentor_core::Event;
    ///
    /// let small = Event::text_delta("Hi");
    /// let large = Event::text_delta("x".repeat(32 * 1024));
    /// assert_eq!(large.size_bytes() - small.size_bytes(), 32 * 1024 - 2);
    /// assert!(small.size_bytes() >= std::mem::size_of::<Event>());
    /// ```
    pub fn size_bytes(&self) -> usize {
        let len = |text: &Text| text.len();
        let opt = |text: &Option<Text>| text.as_ref().map_or(0, |text| text.len());
        let origin = &self.origin;
        let envelope = opt(&origin.source) + opt(&origin.run_id) + opt(&origin.parent);
        let payload = match &self.kind {
            EventKind::RunStart { agent, model } => len(agent) + opt(model),
            EventKind::TextDelta { text, message_id }
            | EventKind::Message { text, message_id }
            | EventKind::ReasoningDelta { text, message_id } => len(text) + opt(message_id),
            EventKind::ReasoningSummary { text } | EventKind::AgentUpdated { agent: text } => {
                len(text)
            }
            EventKind::ToolCall(call) => {
                std::mem::size_of::<ToolCall>()
                    + len(&call.call_id)
                    + len(&call.name)
                    + value_bytes(&call.arguments)
            }
            EventKind::ToolCallDelta(delta) => {
                std::mem::size_of::<ToolCallDelta>()
                    + len(&delta.call_id)
                    + opt(&delta.name)
                    + len(&delta.delta)
            }
            EventKind::ToolResult(result) => {
                std::mem::size_of::<ToolResult>()
                    + len(&result.call_id)
                    + len(&result.name)
                    + len(&result.output)
            }
            EventKind::Handoff { from, to } => len(from) + len(to),
            EventKind::Error { message, .. } => len(message),
            EventKind::Usage { .. } | EventKind::Progress(_) | EventKind::RunEnd { .. } => 0,
        };
        std::mem::size_of::<Event>() + envelope + payload
    }

    /// The text of a text delta, reasoning delta, message or reasoning summary.
    pub fn text(&self) -> Option<&str> {
        match &self.kind {
            EventKind::TextDelta { text, .. }
            | EventKind::ReasoningDelta { text, .. }
            | EventKind::Message { text, .. }
            | EventKind::ReasoningSummary { text } => Some(text),
            _ => None,
        }
    }

    /// The tool name of a tool call or tool result, or of a tool-call delta
    /// that carries it.
    pub fn tool_name(&self) -> Option<&str> {
        match &self.kind {
            EventKind::ToolCall(call) => Some(&call.name),
            EventKind::ToolCallDelta(delta) => delta.name.as_deref(),
            EventKind::ToolResult(result) => Some(&result.name),
            _ => None,
        }
    }

    /// The status of a run end.
    pub fn run_status(&self) -> Option<RunStatus> {
        match self.kind {
            EventKind::RunEnd { status } => Some(status),
            _ => None,
        }
    }

    /// A text delta.
    pub fn text_delta(text: impl Into<Text>) -> Self {
        Event::new(EventKind::TextDelta {
            text: text.into(),
            message_id: None,
        })
    }

    /// A reasoning delta.
    pub fn reasoning_delta(text: impl Into<Text>) -> Self {
        Event::new(EventKind::ReasoningDelta {
            text: text.into(),
            message_id: None,
        })
    }

    /// A complete message.
    pub fn message(text: impl Into<Text>) -> Self {
        Event::new(EventKind::Message {
            text: text.into(),
            message_id: None,
        })
    }

    /// A tool call.
    pub fn tool_call(
        call_id: impl Into<Text>,
        name: impl Into<Text>,
        arguments: serde_json::Value,
    ) -> Self {
        Event::new(EventKind::ToolCall(Box::new(ToolCall {
            call_id: call_id.into(),
            name: name.into(),
            arguments,
        })))
    }

    /// A fragment of a tool call's arguments.
    ///
    /// ```
    /// use agentor_core::{Event, Kind};
    ///
    /// let first = Event::tool_call_delta("call_1", Some("get_weather"), "{\"ci");
    /// assert_eq!(first.kind(), Kind::ToolCallDelta);
    /// assert_eq!(first.tool_name(), Some("get_weather"));
    /// ```
    pub fn tool_call_delta(
        call_id: impl Into<Text>,
        name: Option<&str>,
        delta: impl Into<Text>,
    ) -> Self {
        Event::new(EventKind::ToolCallDelta(Box::new(ToolCallDelta {
            call_id: call_id.into(),
            name: name.map(Text::from),
            delta: delta.into(),
        })))
    }

    /// A successful tool result, without a duration.
    pub fn tool_result(
        call_id: impl Into<Text>,
        name: impl Into<Text>,
        output: impl Into<Text>,
    ) -> Self {
        Event::new(EventKind::ToolResult(Box::new(ToolResult {
            call_id: call_id.into(),
            name: name.into(),
            output: output.into(),
            is_error: false,
            duration: None,
        })))
    }

    /// An error event.
    pub fn error(kind: ErrorKind, message: impl Into<Text>) -> Self {
        Event::new(EventKind::Error {
            kind,
            message: message.into(),
        })
    }

    /// A run end.
    pub const fn run_end(status: RunStatus) -> Self {
        Event::new(EventKind::RunEnd { status })
    }
}

/// The bytes a JSON value holds, about: each node's size plus its strings.
fn value_bytes(value: &serde_json::Value) -> usize {
    use serde_json::Value;
    std::mem::size_of::<Value>()
        + match value {
            Value::Null | Value::Bool(_) | Value::Number(_) => 0,
            Value::String(s) => s.len(),
            Value::Array(items) => items.iter().map(value_bytes).sum(),
            Value::Object(map) => map.iter().map(|(k, v)| k.len() + value_bytes(v)).sum(),
        }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for k in Kind::ALL {
            assert_eq!(k.as_str().parse::<Kind>().unwrap(), *k);
        }
        for k in RunStatus::ALL {
            assert_eq!(k.as_str().parse::<RunStatus>().unwrap(), *k);
        }
        for k in ErrorKind::ALL {
            assert_eq!(k.as_str().parse::<ErrorKind>().unwrap(), *k);
        }
        let err = "text".parse::<Kind>().unwrap_err();
        assert_eq!(err.to_string(), "unknown Kind `text`");
    }

    #[test]
    fn nesting_prepends_the_calling_call() {
        let inner = Event::text_delta("x").nested_in("call_7");
        assert_eq!((inner.depth(), inner.parent_call()), (1, Some("call_7")));
        let outer = inner.nested_in("call_1");
        assert_eq!(outer.origin.parent.as_deref(), Some("call_1/call_7"));
        assert_eq!((outer.depth(), outer.parent_call()), (2, Some("call_7")));
    }

    #[test]
    fn the_event_stays_small_to_move() {
        // `seq`, one pointer for the origin and a 72-byte payload. It was
        // 176 bytes with the origin's three `Option<Text>` inline (issue
        // #19 asks for at most 96). An `Err` item must not be larger.
        assert!(std::mem::size_of::<Event>() <= 96);
        assert!(std::mem::size_of::<crate::EventResult>() <= 96);
    }

    #[test]
    fn kinds_fit_a_bitset() {
        assert!(Kind::ALL.len() <= 32);
        let mut seen = 0u32;
        for k in Kind::ALL {
            assert_eq!(seen & k.bit(), 0);
            seen |= k.bit();
        }
    }

    #[test]
    fn derive_keeps_the_envelope() {
        let e = Event::text_delta("x")
            .with_seq(9)
            .with_source("A")
            .with_run_id("r")
            .with_parent("c1");
        let d = e.derive(EventKind::RunEnd {
            status: RunStatus::Failed,
        });
        assert_eq!((d.seq, &d.origin), (9, &e.origin));
        assert!(d.origin.same_as(&e.origin));
        assert_eq!(d.run_status(), Some(RunStatus::Failed));
    }
}
