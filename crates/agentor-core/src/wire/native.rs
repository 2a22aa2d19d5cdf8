//! Native JSON: one flat object per event, the recording format.
//!
//! ```text
//! {"type":"text_delta","seq":7,"source":"A1","run_id":"r1","text":"Hel"}
//! ```
//!
//! `type` is the [`Kind`] name and `seq` is always present; every other field
//! is omitted when it is `None`. The envelope is `seq`, `source`, `run_id`
//! and, on the events of a nested run (an agent used as a tool), `parent`:
//! the path of tool-call ids leading to it, `/`-joined (see
//! [`parent`](crate::OriginFields::parent)). The payload's fields keep their
//! [`EventKind`] names, except an error's class, `error_kind`, whose own
//! name is taken by `type`:
//!
//! | kind | fields |
//! |---|---|
//! | `run_start` | `agent`, `model`? (the run id is the envelope's `run_id`) |
//! | `text_delta`, `message`, `reasoning_delta` | `text`, `message_id`? |
//! | `reasoning_summary` | `text` |
//! | `tool_call` | `call_id`, `name`, `arguments` (any JSON value, `null` included) |
//! | `tool_result` | `call_id`, `name`, `output`, `is_error`, `duration_ms`? |
//! | `agent_updated` | `agent` |
//! | `handoff` | `from`, `to` |
//! | `usage` | `input_tokens`, `output_tokens`, `total_tokens`; `cache_read_input_tokens`, `cache_creation_input_tokens` when non-zero (part of `input_tokens`) |
//! | `progress` | `events`, `text_deltas`, `text_bytes`, `tool_calls`, `tool_results`, `errors`, `elapsed_ms` |
//! | `error` | `error_kind` (the [`ErrorKind`] name), `message` |
//! | `run_end` | `status` (the [`RunStatus`] name) |
//!
//! Durations are decimal milliseconds, exact to the nanosecond with trailing
//! zeros trimmed (`12.5`, `1234`). With that, [`decode`] undoes [`encode`] for
//! every event. The decoder ignores fields it does not know, so recordings
//! stay readable when fields are added; `is_error` defaults to `false`.
//!
//! **Recordings** add one field to each line: `t_ms`, the time since the
//! recording started ([`encode_timed`], written by the record operator), so a
//! replay can keep the recorded pace exactly. [`decode`] ignores it;
//! [`decode_timed`] and [`read_timed_json_lines`] return it.

use std::borrow::Cow;
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{BufMut, BytesMut};
use futures_core::Stream;
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use tokio::io::AsyncBufRead;

use super::json::{parse_duration_ms, write_duration_ms, write_str, write_u64};
use crate::{
    Error, ErrorKind, Event, EventKind, Kind, Origin, ProgressSnapshot, RunStatus, Text, ToolCall,
    ToolCallDelta, ToolResult,
};

/// Writes `event` as one line of native JSON (no trailing newline) to `dst`.
///
/// Allocates nothing but `dst`'s growth, except that tool-call arguments go
/// through `serde_json`.
///
/// ```
/// use agentor_core::{wire::native, Event};
/// use bytes::BytesMut;
///
/// let event = Event::text_delta("Hel").with_seq(7).with_source("A1").with_run_id("r1");
/// let mut dst = BytesMut::new();
/// native::encode(&event, &mut dst);
/// assert_eq!(
///     &dst[..],
///     br#"{"type":"text_delta","seq":7,"source":"A1","run_id":"r1","text":"Hel"}"#
/// );
/// assert_eq!(native::decode(&dst).unwrap(), event);
/// ```
pub fn encode(event: &Event, dst: &mut BytesMut) {
    let mut w = Writer { dst };
    w.dst.extend_from_slice(b"{\"type\":\"");
    w.dst.extend_from_slice(event.kind().as_str().as_bytes());
    w.dst.put_u8(b'"');
    w.u64("seq", event.seq);
    w.opt_str("source", event.origin.source.as_deref());
    w.opt_str("run_id", event.origin.run_id.as_deref());
    w.opt_str("parent", event.origin.parent.as_deref());
    encode_payload(&mut w, &event.kind);
    w.dst.put_u8(b'}');
}

fn encode_payload(w: &mut Writer<'_>, kind: &EventKind) {
    match kind {
        EventKind::RunStart { agent, model } => {
            w.str("agent", agent);
            w.opt_str("model", model.as_deref());
        }
        EventKind::TextDelta { text, message_id }
        | EventKind::Message { text, message_id }
        | EventKind::ReasoningDelta { text, message_id } => {
            w.str("text", text);
            w.opt_str("message_id", message_id.as_deref());
        }
        EventKind::ReasoningSummary { text } => w.str("text", text),
        EventKind::ToolCall(call) => {
            let ToolCall {
                call_id,
                name,
                arguments,
            } = &**call;
            w.str("call_id", call_id);
            w.str("name", name);
            w.key("arguments");
            let mark = w.dst.len();
            // serde_json escapes control characters too, so the value stays on one line.
            if serde_json::to_writer((&mut *w.dst).writer(), arguments).is_err() {
                // A `Value` into memory cannot fail; should it ever, stay valid JSON.
                w.dst.truncate(mark);
                w.dst.extend_from_slice(b"null");
            }
        }
        EventKind::ToolCallDelta(delta) => {
            let ToolCallDelta {
                call_id,
                name,
                delta,
            } = &**delta;
            w.str("call_id", call_id);
            w.opt_str("name", name.as_deref());
            w.str("delta", delta);
        }
        EventKind::ToolResult(result) => {
            let ToolResult {
                call_id,
                name,
                output,
                is_error,
                duration,
            } = &**result;
            w.str("call_id", call_id);
            w.str("name", name);
            w.str("output", output);
            w.key("is_error");
            w.dst
                .extend_from_slice(if *is_error { b"true" } else { b"false" });
            if let Some(d) = duration {
                w.key("duration_ms");
                write_duration_ms(w.dst, *d);
            }
        }
        EventKind::AgentUpdated { agent } => w.str("agent", agent),
        EventKind::Handoff { from, to } => {
            w.str("from", from);
            w.str("to", to);
        }
        EventKind::Usage {
            input_tokens,
            output_tokens,
            total_tokens,
            cache_read_input_tokens,
            cache_creation_input_tokens,
        } => {
            w.u64("input_tokens", *input_tokens);
            w.u64("output_tokens", *output_tokens);
            w.u64("total_tokens", *total_tokens);
            // Written only when reported, so lines from providers without a
            // prompt cache stay as they were.
            if *cache_read_input_tokens > 0 {
                w.u64("cache_read_input_tokens", *cache_read_input_tokens);
            }
            if *cache_creation_input_tokens > 0 {
                w.u64("cache_creation_input_tokens", *cache_creation_input_tokens);
            }
        }
        EventKind::Progress(p) => {
            w.u64("events", p.events);
            w.u64("text_deltas", p.text_deltas);
            w.u64("text_bytes", p.text_bytes);
            w.u64("tool_calls", p.tool_calls);
            w.u64("tool_results", p.tool_results);
            w.u64("errors", p.errors);
            w.key("elapsed_ms");
            write_duration_ms(w.dst, p.elapsed);
        }
        EventKind::Error { kind, message } => {
            w.str("error_kind", kind.as_str());
            w.str("message", message);
        }
        EventKind::RunEnd { status } => w.str("status", status.as_str()),
    }
}

/// Writes `,"key":` pairs after the first field.
struct Writer<'a> {
    dst: &'a mut BytesMut,
}

impl Writer<'_> {
    fn key(&mut self, key: &'static str) {
        // Keys are ASCII identifiers: no escaping needed.
        self.dst.extend_from_slice(b",\"");
        self.dst.extend_from_slice(key.as_bytes());
        self.dst.extend_from_slice(b"\":");
    }

    fn str(&mut self, key: &'static str, value: &str) {
        self.key(key);
        write_str(self.dst, value);
    }

    fn opt_str(&mut self, key: &'static str, value: Option<&str>) {
        if let Some(value) = value {
            self.str(key, value);
        }
    }

    fn u64(&mut self, key: &'static str, value: u64) {
        self.key(key);
        write_u64(self.dst, value);
    }
}

/// A line that is not a valid native JSON event.
///
/// ```
/// use agentor_core::wire::native::DecodeError;
///
/// let err = DecodeError::new("missing field `text`").at_line(3);
/// assert_eq!(err.to_string(), "line 3: missing field `text`");
/// assert_eq!(err.line(), Some(3));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", LinePrefix(*.line))]
pub struct DecodeError {
    line: Option<usize>,
    message: String,
}

struct LinePrefix(Option<usize>);

impl fmt::Display for LinePrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(line) => write!(f, "line {line}: "),
            None => Ok(()),
        }
    }
}

impl DecodeError {
    /// An error without a line number.
    pub fn new(message: impl Into<String>) -> Self {
        DecodeError {
            line: None,
            message: message.into(),
        }
    }

    /// The same error, located at 1-based line `line`.
    #[must_use]
    pub fn at_line(mut self, line: usize) -> Self {
        self.line = Some(line);
        self
    }

    /// The 1-based line number, when the input had lines.
    pub fn line(&self) -> Option<usize> {
        self.line
    }

    /// What is wrong, without the line number.
    pub fn message(&self) -> &str {
        &self.message
    }

    fn json(err: &serde_json::Error) -> Self {
        // serde_json appends "at line 1 column N"; on one line the column is
        // the useful part, and "line 1" would contradict our own numbering.
        let text = err.to_string();
        let message = match text.rfind(" at line ") {
            Some(i) if err.line() == 1 => format!("{} at column {}", &text[..i], err.column()),
            _ => text,
        };
        DecodeError::new(message)
    }
}

impl From<DecodeError> for Error {
    fn from(err: DecodeError) -> Self {
        Error::protocol(err.to_string())
    }
}

/// Every field of every kind, flat; [`decode`] picks those its `type` needs.
#[derive(Deserialize)]
struct Line<'a> {
    #[serde(rename = "type", borrow)]
    ty: Option<Cow<'a, str>>,
    seq: Option<u64>,
    #[serde(borrow)]
    source: Option<Cow<'a, str>>,
    #[serde(borrow)]
    run_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    parent: Option<Cow<'a, str>>,
    agent: Option<Text>,
    model: Option<Text>,
    text: Option<Text>,
    message_id: Option<Text>,
    call_id: Option<Text>,
    name: Option<Text>,
    // `null` is a valid argument value, so only absence is `None`.
    #[serde(default, deserialize_with = "present")]
    arguments: Option<serde_json::Value>,
    delta: Option<Text>,
    output: Option<Text>,
    is_error: Option<bool>,
    #[serde(borrow)]
    duration_ms: Option<&'a RawValue>,
    from: Option<Text>,
    to: Option<Text>,
    input_tokens: Option<u64>,
    cache_read_input_tokens: Option<u64>,
    cache_creation_input_tokens: Option<u64>,
    output_tokens: Option<u64>,
    total_tokens: Option<u64>,
    events: Option<u64>,
    text_deltas: Option<u64>,
    text_bytes: Option<u64>,
    tool_calls: Option<u64>,
    tool_results: Option<u64>,
    errors: Option<u64>,
    #[serde(borrow)]
    elapsed_ms: Option<&'a RawValue>,
    #[serde(borrow)]
    t_ms: Option<&'a RawValue>,
    error_kind: Option<ErrorKind>,
    message: Option<Text>,
    status: Option<RunStatus>,
}

fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<serde_json::Value>, D::Error> {
    serde_json::Value::deserialize(d).map(Some)
}

fn required<T>(value: Option<T>, field: &str) -> Result<T, DecodeError> {
    value.ok_or_else(|| DecodeError::new(format!("missing field `{field}`")))
}

fn duration(
    raw: Option<&RawValue>,
    field: &str,
) -> Result<Option<std::time::Duration>, DecodeError> {
    raw.map(|raw| {
        parse_duration_ms(raw.get()).ok_or_else(|| {
            DecodeError::new(format!(
                "`{field}` must be a non-negative number of milliseconds, found {}",
                raw.get()
            ))
        })
    })
    .transpose()
}

/// Parses one line of native JSON (without its newline) into an event.
///
/// Rejects invalid UTF-8, malformed JSON, a missing or unknown `type`, a
/// missing required field and a field of the wrong type, each with a message
/// saying which. The error has no line number; [`decode_lines`] and
/// [`read_json_lines`] add it.
///
/// ```
/// use agentor_core::{wire::native, Event, RunStatus};
///
/// let event = native::decode(br#"{"type":"run_end","seq":9,"status":"completed"}"#).unwrap();
/// assert_eq!(event, Event::run_end(RunStatus::Completed).with_seq(9));
///
/// let err = native::decode(br#"{"type":"text_delta","seq":1}"#).unwrap_err();
/// assert_eq!(err.to_string(), "missing field `text`");
/// ```
pub fn decode(line: &[u8]) -> Result<Event, DecodeError> {
    decode_timed(line).map(|(event, _)| event)
}

/// Decodes one line of a recording: the event and, when the line has one,
/// its `t_ms` offset from the start of the recording.
///
/// ```
/// use std::time::Duration;
/// use agentor_core::wire::native;
///
/// let line = br#"{"type":"text_delta","seq":0,"text":"hi","t_ms":12.5}"#;
/// let (event, at) = native::decode_timed(line).unwrap();
/// assert_eq!((event.text(), at), (Some("hi"), Some(Duration::from_micros(12_500))));
/// ```
pub fn decode_timed(line: &[u8]) -> Result<(Event, Option<std::time::Duration>), DecodeError> {
    Decoder::new().decode_timed(line)
}

/// Decodes line after line of one stream (a recording, a log): an event
/// whose names are those of the event before it shares that event's
/// [`Origin`], as the events of a run do when they are made, instead of
/// allocating its own.
///
/// ```
/// use agentor_core::wire::native::Decoder;
///
/// let mut decoder = Decoder::new();
/// let a = decoder.decode(br#"{"type":"text_delta","seq":0,"source":"A1","text":"Hel"}"#).unwrap();
/// let b = decoder.decode(br#"{"type":"text_delta","seq":1,"source":"A1","text":"lo"}"#).unwrap();
/// assert!(a.origin.same_as(&b.origin));
/// ```
#[derive(Clone, Debug, Default)]
pub struct Decoder {
    last: Origin,
}

impl Decoder {
    /// A decoder that has seen no line yet.
    pub const fn new() -> Self {
        Decoder {
            last: Origin::none(),
        }
    }

    /// Like [`decode`].
    pub fn decode(&mut self, line: &[u8]) -> Result<Event, DecodeError> {
        self.decode_timed(line).map(|(event, _)| event)
    }

    /// Like [`decode_timed`].
    pub fn decode_timed(
        &mut self,
        line: &[u8],
    ) -> Result<(Event, Option<std::time::Duration>), DecodeError> {
        decode_line(line, &mut self.last)
    }
}

/// Decodes `line`, sharing `last` when its names are the line's.
fn decode_line(
    line: &[u8],
    last: &mut Origin,
) -> Result<(Event, Option<std::time::Duration>), DecodeError> {
    let line = std::str::from_utf8(line)
        .map_err(|e| DecodeError::new(format!("invalid UTF-8 at byte {}", e.valid_up_to())))?;
    // serde's derive would also accept an array, matching fields by position.
    if !line.trim_start().starts_with('{') {
        return Err(DecodeError::new("expected a JSON object"));
    }
    let l: Line<'_> = serde_json::from_str(line).map_err(|e| DecodeError::json(&e))?;
    let ty = required(l.ty, "type")?;
    let kind: Kind = ty
        .parse()
        .map_err(|_| DecodeError::new(format!("unknown type `{ty}`")))?;
    let seq = required(l.seq, "seq")?;
    let payload = match kind {
        Kind::RunStart => EventKind::RunStart {
            agent: required(l.agent, "agent")?,
            model: l.model,
        },
        Kind::TextDelta => EventKind::TextDelta {
            text: required(l.text, "text")?,
            message_id: l.message_id,
        },
        Kind::Message => EventKind::Message {
            text: required(l.text, "text")?,
            message_id: l.message_id,
        },
        Kind::ReasoningDelta => EventKind::ReasoningDelta {
            text: required(l.text, "text")?,
            message_id: l.message_id,
        },
        Kind::ReasoningSummary => EventKind::ReasoningSummary {
            text: required(l.text, "text")?,
        },
        Kind::ToolCall => EventKind::ToolCall(Box::new(ToolCall {
            call_id: required(l.call_id, "call_id")?,
            name: required(l.name, "name")?,
            arguments: required(l.arguments, "arguments")?,
        })),
        Kind::ToolCallDelta => EventKind::ToolCallDelta(Box::new(ToolCallDelta {
            call_id: required(l.call_id, "call_id")?,
            name: l.name,
            delta: required(l.delta, "delta")?,
        })),
        Kind::ToolResult => EventKind::ToolResult(Box::new(ToolResult {
            call_id: required(l.call_id, "call_id")?,
            name: required(l.name, "name")?,
            output: required(l.output, "output")?,
            is_error: l.is_error.unwrap_or(false),
            duration: duration(l.duration_ms, "duration_ms")?,
        })),
        Kind::AgentUpdated => EventKind::AgentUpdated {
            agent: required(l.agent, "agent")?,
        },
        Kind::Handoff => EventKind::Handoff {
            from: required(l.from, "from")?,
            to: required(l.to, "to")?,
        },
        Kind::Usage => EventKind::Usage {
            input_tokens: required(l.input_tokens, "input_tokens")?,
            output_tokens: required(l.output_tokens, "output_tokens")?,
            total_tokens: required(l.total_tokens, "total_tokens")?,
            cache_read_input_tokens: l.cache_read_input_tokens.unwrap_or(0),
            cache_creation_input_tokens: l.cache_creation_input_tokens.unwrap_or(0),
        },
        Kind::Progress => EventKind::Progress(ProgressSnapshot {
            events: required(l.events, "events")?,
            text_deltas: required(l.text_deltas, "text_deltas")?,
            text_bytes: required(l.text_bytes, "text_bytes")?,
            tool_calls: required(l.tool_calls, "tool_calls")?,
            tool_results: required(l.tool_results, "tool_results")?,
            errors: required(l.errors, "errors")?,
            elapsed: required(duration(l.elapsed_ms, "elapsed_ms")?, "elapsed_ms")?,
        }),
        Kind::Error => EventKind::Error {
            kind: required(l.error_kind, "error_kind")?,
            message: required(l.message, "message")?,
        },
        Kind::RunEnd => EventKind::RunEnd {
            status: required(l.status, "status")?,
        },
    };
    let at = duration(l.t_ms, "t_ms")?;
    let same = |have: &Option<Text>, got: &Option<Cow<'_, str>>| have.as_deref() == got.as_deref();
    if !(same(&last.source, &l.source)
        && same(&last.run_id, &l.run_id)
        && same(&last.parent, &l.parent))
    {
        let text = |name: Option<Cow<'_, str>>| name.map(|name| Text::from(&*name));
        *last = Origin::new(text(l.source), text(l.run_id), text(l.parent));
    }
    let event = Event {
        seq,
        origin: last.clone(),
        kind: payload,
    };
    Ok((event, at))
}

/// Writes `event` like [`encode`], plus `t_ms`: its offset from the start of
/// a recording.
///
/// ```
/// use std::time::Duration;
/// use agentor_core::{wire::native, Event};
/// use bytes::BytesMut;
///
/// let mut line = BytesMut::new();
/// native::encode_timed(&Event::text_delta("hi"), Duration::from_millis(7), &mut line);
/// assert_eq!(&line[..], br#"{"type":"text_delta","seq":0,"text":"hi","t_ms":7}"#);
/// ```
pub fn encode_timed(event: &Event, at: std::time::Duration, dst: &mut BytesMut) {
    encode(event, dst);
    // Reopen the object: `encode` always ends it with `}`.
    dst.truncate(dst.len() - 1);
    dst.extend_from_slice(b",\"t_ms\":");
    write_duration_ms(dst, at);
    dst.put_u8(b'}');
}

fn is_blank(line: &[u8]) -> bool {
    line.iter().all(u8::is_ascii_whitespace)
}

/// Decodes native JSON lines from a string, numbering lines from 1.
///
/// Blank lines are skipped; `\r\n` endings are accepted. A bad line yields
/// an `Err` carrying its line number, and decoding goes on with the next.
///
/// ```
/// use agentor_core::wire::native;
///
/// let input = "{\"type\":\"text_delta\",\"seq\":0,\"text\":\"hi\"}\n\n{\"type\":\"nope\",\"seq\":1}\n";
/// let items: Vec<_> = native::decode_lines(input).collect();
/// assert_eq!(items[0].as_ref().unwrap().text(), Some("hi"));
/// assert_eq!(items[1].as_ref().unwrap_err().to_string(), "line 3: unknown type `nope`");
/// ```
pub fn decode_lines(input: &str) -> impl Iterator<Item = Result<Event, DecodeError>> + '_ {
    let mut decoder = Decoder::new();
    input
        .lines()
        .enumerate()
        .filter(|(_, line)| !is_blank(line.as_bytes()))
        .map(move |(i, line)| {
            decoder
                .decode(line.as_bytes())
                .map_err(|e| e.at_line(i + 1))
        })
}

/// The longest line [`read_json_lines`] buffers; longer lines are skipped
/// with an error.
pub const MAX_LINE_BYTES: usize = 16 * 1024 * 1024;

/// Reads native JSON lines (a recording) as an event stream.
///
/// Blank lines are skipped. A malformed line, invalid UTF-8 included, or one
/// longer than [`MAX_LINE_BYTES`] yields an `Err` of kind
/// [`ErrorKind::Protocol`] naming its line, and reading goes on. An I/O error
/// yields one `Err` and ends the stream.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use agentor_core::wire::native;
/// use futures::StreamExt;
///
/// let recording: &[u8] = b"{\"type\":\"text_delta\",\"seq\":0,\"text\":\"hi\"}\nnot json\n";
/// let items: Vec<_> = native::read_json_lines(recording).collect().await;
/// assert_eq!(items[0].as_ref().unwrap().text(), Some("hi"));
/// assert!(items[1].as_ref().unwrap_err().message().starts_with("line 2: "));
/// # }
/// ```
pub fn read_json_lines<R: AsyncBufRead + Unpin>(reader: R) -> JsonLines<R> {
    JsonLines {
        reader,
        buf: Vec::new(),
        line: 0,
        too_long: false,
        done: false,
        decoder: Decoder::new(),
    }
}

/// Like [`read_json_lines`], keeping each line's `t_ms` offset (when it has
/// one): what a replay needs to keep the recorded pace.
pub fn read_timed_json_lines<R: AsyncBufRead + Unpin>(reader: R) -> TimedJsonLines<R> {
    TimedJsonLines(read_json_lines(reader))
}

/// The stream returned by [`read_timed_json_lines`].
#[derive(Debug)]
#[must_use = "streams do nothing unless polled"]
pub struct TimedJsonLines<R>(JsonLines<R>);

impl<R: AsyncBufRead + Unpin> Stream for TimedJsonLines<R> {
    type Item = Result<(Event, Option<std::time::Duration>), Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().0.poll_timed(cx)
    }
}

/// The stream returned by [`read_json_lines`].
#[derive(Debug)]
#[must_use = "streams do nothing unless polled"]
pub struct JsonLines<R> {
    reader: R,
    /// The current line so far (bounded by [`MAX_LINE_BYTES`]).
    buf: Vec<u8>,
    /// Number of the line being read, 1-based once reading starts.
    line: usize,
    /// The current line passed the bound: drop bytes until its end.
    too_long: bool,
    done: bool,
    decoder: Decoder,
}

impl<R> JsonLines<R> {
    /// Turns the finished line in `buf` into an item, or `None` for a blank line.
    fn finish_line(&mut self) -> Option<Result<(Event, Option<std::time::Duration>), Error>> {
        let too_long = std::mem::take(&mut self.too_long);
        let mut line = self.buf.as_slice();
        if let [rest @ .., b'\r'] = line {
            line = rest;
        }
        let item = if too_long {
            Some(Err(DecodeError::new(format!(
                "line longer than {MAX_LINE_BYTES} bytes"
            ))))
        } else if is_blank(line) {
            None
        } else {
            Some(self.decoder.decode_timed(line))
        };
        self.buf.clear();
        item.map(|r| r.map_err(|e| e.at_line(self.line).into()))
    }
}

impl<R: AsyncBufRead + Unpin> Stream for JsonLines<R> {
    type Item = Result<Event, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut()
            .poll_timed(cx)
            .map(|item| item.map(|r| r.map(|(event, _)| event)))
    }
}

impl<R: AsyncBufRead + Unpin> JsonLines<R> {
    #[allow(clippy::type_complexity)]
    fn poll_timed(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<(Event, Option<std::time::Duration>), Error>>> {
        let this = self;
        loop {
            if this.done {
                return Poll::Ready(None);
            }
            let available = match Pin::new(&mut this.reader).poll_fill_buf(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(err)) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(err.into())));
                }
                Poll::Ready(Ok(available)) => available,
            };
            if this.buf.is_empty() && !this.too_long {
                this.line += 1;
            }
            if available.is_empty() {
                this.done = true;
                // A last line without a newline still counts.
                if this.buf.is_empty() && !this.too_long {
                    return Poll::Ready(None);
                }
                match this.finish_line() {
                    Some(item) => return Poll::Ready(Some(item)),
                    None => return Poll::Ready(None),
                }
            }
            let (chunk, consumed, ends_line) = match memchr::memchr(b'\n', available) {
                Some(i) => (&available[..i], i + 1, true),
                None => (available, available.len(), false),
            };
            if !this.too_long {
                if this.buf.len() + chunk.len() > MAX_LINE_BYTES {
                    this.too_long = true;
                    this.buf.clear();
                } else {
                    this.buf.extend_from_slice(chunk);
                }
            }
            Pin::new(&mut this.reader).consume(consumed);
            if ends_line {
                if let Some(item) = this.finish_line() {
                    return Poll::Ready(Some(item));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::time::Duration;

    use futures::StreamExt;
    use serde_json::json;

    use super::*;

    fn enc(event: &Event) -> String {
        let mut dst = BytesMut::new();
        encode(event, &mut dst);
        String::from_utf8(dst.to_vec()).unwrap()
    }

    /// One event of every kind, with its exact encoding.
    fn samples() -> Vec<(Event, &'static str)> {
        let tool_result = Event::new(EventKind::ToolResult(Box::new(ToolResult {
            call_id: "c1".into(),
            name: "search".into(),
            output: "no \"hits\"".into(),
            is_error: true,
            duration: Some(Duration::from_micros(12_345)),
        })));
        vec![
            (
                Event::new(EventKind::RunStart {
                    agent: "Planner".into(),
                    model: Some("gpt-4o".into()),
                })
                .with_run_id("r1"),
                r#"{"type":"run_start","seq":0,"run_id":"r1","agent":"Planner","model":"gpt-4o"}"#,
            ),
            (
                Event::text_delta("Hel")
                    .with_seq(7)
                    .with_source("A1")
                    .with_run_id("r1"),
                r#"{"type":"text_delta","seq":7,"source":"A1","run_id":"r1","text":"Hel"}"#,
            ),
            (
                Event::text_delta("Hi")
                    .with_seq(8)
                    .with_source("Sub")
                    .with_run_id("r1")
                    .with_parent("call_1/call_2"),
                r#"{"type":"text_delta","seq":8,"source":"Sub","run_id":"r1","parent":"call_1/call_2","text":"Hi"}"#,
            ),
            (
                Event::new(EventKind::Message {
                    text: "line 1\nline 2".into(),
                    message_id: Some("m1".into()),
                }),
                r#"{"type":"message","seq":0,"text":"line 1\nline 2","message_id":"m1"}"#,
            ),
            (
                Event::reasoning_delta("hmm").with_seq(1),
                r#"{"type":"reasoning_delta","seq":1,"text":"hmm"}"#,
            ),
            (
                Event::new(EventKind::ReasoningSummary { text: "sum".into() }),
                r#"{"type":"reasoning_summary","seq":0,"text":"sum"}"#,
            ),
            (
                Event::tool_call("c1", "search", json!({"q": "rust\n", "n": 3})),
                r#"{"type":"tool_call","seq":0,"call_id":"c1","name":"search","arguments":{"n":3,"q":"rust\n"}}"#,
            ),
            (
                Event::tool_call_delta("c1", Some("search"), "{\"q\":"),
                r#"{"type":"tool_call_delta","seq":0,"call_id":"c1","name":"search","delta":"{\"q\":"}"#,
            ),
            (
                Event::tool_call_delta("c1", None, "3}"),
                r#"{"type":"tool_call_delta","seq":0,"call_id":"c1","delta":"3}"}"#,
            ),
            (
                tool_result,
                r#"{"type":"tool_result","seq":0,"call_id":"c1","name":"search","output":"no \"hits\"","is_error":true,"duration_ms":12.345}"#,
            ),
            (
                Event::tool_result("c2", "t", ""),
                r#"{"type":"tool_result","seq":0,"call_id":"c2","name":"t","output":"","is_error":false}"#,
            ),
            (
                Event::new(EventKind::AgentUpdated { agent: "B".into() }),
                r#"{"type":"agent_updated","seq":0,"agent":"B"}"#,
            ),
            (
                Event::new(EventKind::Handoff {
                    from: "A".into(),
                    to: "B".into(),
                }),
                r#"{"type":"handoff","seq":0,"from":"A","to":"B"}"#,
            ),
            (
                Event::new(EventKind::Usage {
                    input_tokens: 12,
                    output_tokens: 30,
                    total_tokens: 42,
                    cache_read_input_tokens: 0,
                    cache_creation_input_tokens: 0,
                }),
                r#"{"type":"usage","seq":0,"input_tokens":12,"output_tokens":30,"total_tokens":42}"#,
            ),
            (
                Event::new(EventKind::Usage {
                    input_tokens: 120,
                    output_tokens: 30,
                    total_tokens: 150,
                    cache_read_input_tokens: 100,
                    cache_creation_input_tokens: 10,
                }),
                r#"{"type":"usage","seq":0,"input_tokens":120,"output_tokens":30,"total_tokens":150,"cache_read_input_tokens":100,"cache_creation_input_tokens":10}"#,
            ),
            (
                Event::new(EventKind::Progress(ProgressSnapshot {
                    events: 10,
                    text_deltas: 5,
                    text_bytes: 80,
                    tool_calls: 1,
                    tool_results: 1,
                    errors: 0,
                    elapsed: Duration::from_millis(1500),
                })),
                r#"{"type":"progress","seq":0,"events":10,"text_deltas":5,"text_bytes":80,"tool_calls":1,"tool_results":1,"errors":0,"elapsed_ms":1500}"#,
            ),
            (
                Event::error(ErrorKind::Timeout, "idle for 30 s").with_seq(u64::MAX),
                r#"{"type":"error","seq":18446744073709551615,"error_kind":"timeout","message":"idle for 30 s"}"#,
            ),
            (
                Event::run_end(RunStatus::MaxTurns),
                r#"{"type":"run_end","seq":0,"status":"max_turns"}"#,
            ),
        ]
    }

    #[test]
    fn every_kind_encodes_exactly_and_round_trips() {
        let samples = samples();
        for kind in Kind::ALL {
            assert!(
                samples.iter().any(|(e, _)| e.kind() == *kind),
                "{kind} untested"
            );
        }
        for (event, expected) in samples {
            let line = enc(&event);
            assert_eq!(line, expected);
            serde_json::from_str::<serde_json::Value>(&line).unwrap();
            assert_eq!(decode(line.as_bytes()).unwrap(), event, "{line}");
        }
    }

    #[test]
    fn null_arguments_and_floats_round_trip() {
        for args in [json!(null), json!(0.1), json!([1.5e300, -0.0, {"x": null}])] {
            let e = Event::tool_call("c", "t", args);
            assert_eq!(decode(enc(&e).as_bytes()).unwrap(), e);
        }
        let err = decode(br#"{"type":"tool_call","seq":0,"call_id":"c","name":"t"}"#);
        assert_eq!(err.unwrap_err().message(), "missing field `arguments`");
    }

    #[test]
    fn decoding_is_lenient_where_it_is_safe() {
        let line = br#" {"seq":3,"type":"text_delta","text":"x","source":null,"future":[1]} "#;
        assert_eq!(decode(line).unwrap(), Event::text_delta("x").with_seq(3));
        let line = br#"{"type":"tool_result","seq":0,"call_id":"c","name":"t","output":"o","duration_ms":2.5e-3}"#;
        let EventKind::ToolResult(result) = decode(line).unwrap().kind else {
            panic!("not a tool result")
        };
        let ToolResult {
            is_error, duration, ..
        } = *result;
        assert!(!is_error);
        assert_eq!(
            duration,
            Some(Duration::from_micros(2)).map(|d| d + Duration::from_nanos(500))
        );
    }

    #[test]
    fn malformed_lines_say_what_is_wrong() {
        let cases: &[(&[u8], &str)] = &[
            (b"", "expected a JSON object"),
            (b"not json", "expected a JSON object"),
            (b"{\"type\":", "EOF while parsing a value at column 8"),
            (b"[\"text_delta\",1,\"x\"]", "expected a JSON object"),
            (b"{\"type\":\"text_delta\",\"seq\":1,\"text\":\"x\"}}", "trailing characters at column 41"),
            (br#"{"seq":1}"#, "missing field `type`"),
            (br#"{"type":"chunk","seq":1}"#, "unknown type `chunk`"),
            (br#"{"type":"text_delta","text":"x"}"#, "missing field `seq`"),
            (br#"{"type":"text_delta","seq":1}"#, "missing field `text`"),
            (br#"{"type":"text_delta","seq":1,"text":null}"#, "missing field `text`"),
            (
                br#"{"type":"text_delta","seq":"1","text":"x"}"#,
                "invalid type: string \"1\", expected u64 at column 30",
            ),
            (
                br#"{"type":"run_end","seq":1,"status":"done"}"#,
                "unknown RunStatus `done` at column 42",
            ),
            (
                br#"{"type":"tool_result","seq":1,"call_id":"c","name":"t","output":"o","duration_ms":-1}"#,
                "`duration_ms` must be a non-negative number of milliseconds, found -1",
            ),
            (
                br#"{"type":"text_delta","seq":1,"seq":2,"text":"x"}"#,
                "duplicate field `seq` at column 34",
            ),
            (b"{\"type\":\"text_delta\",\"seq\":1,\"text\":\"\xff\"}", "invalid UTF-8 at byte 37"),
        ];
        for (line, message) in cases {
            let err = decode(line).unwrap_err();
            assert_eq!(err.message(), *message, "{}", String::from_utf8_lossy(line));
            assert_eq!(err.line(), None);
        }
    }

    #[test]
    fn decode_error_converts_to_a_protocol_error() {
        let err: Error = DecodeError::new("missing field `text`").at_line(3).into();
        assert_eq!(err.kind(), ErrorKind::Protocol);
        assert_eq!(err.message(), "line 3: missing field `text`");
    }

    #[test]
    fn consecutive_lines_of_one_run_share_an_origin() {
        let input = concat!(
            "{\"type\":\"text_delta\",\"seq\":0,\"source\":\"A\",\"run_id\":\"r\",\"text\":\"a\"}\n",
            "{\"type\":\"text_delta\",\"seq\":1,\"source\":\"A\",\"run_id\":\"r\",\"text\":\"b\"}\n",
            "{\"type\":\"text_delta\",\"seq\":2,\"source\":\"B\",\"run_id\":\"r\",\"text\":\"c\"}\n",
        );
        let events: Vec<Event> = decode_lines(input).map(Result::unwrap).collect();
        assert!(events[0].origin.same_as(&events[1].origin));
        assert!(!events[1].origin.same_as(&events[2].origin));
        assert_eq!(events[2].origin.source.as_deref(), Some("B"));
        assert_eq!(events[2].origin.run_id.as_deref(), Some("r"));
    }

    #[test]
    fn decode_lines_numbers_lines() {
        let input = "\n{\"type\":\"run_end\",\"seq\":1,\"status\":\"completed\"}\r\n  \n{\"type\":\"usage\",\"seq\":2}\n{bad";
        let items: Vec<_> = decode_lines(input).collect();
        assert_eq!(items.len(), 3);
        assert_eq!(
            items[0],
            Ok(Event::run_end(RunStatus::Completed).with_seq(1))
        );
        assert_eq!(
            items[1].as_ref().unwrap_err().to_string(),
            "line 4: missing field `input_tokens`"
        );
        assert_eq!(items[2].as_ref().unwrap_err().line(), Some(5));
    }

    async fn read(input: &[u8]) -> Vec<Result<Event, Error>> {
        read_json_lines(input).collect().await
    }

    #[tokio::test]
    async fn reader_skips_blank_lines_and_continues_after_bad_ones() {
        let mut input = Vec::new();
        input.extend_from_slice(b"\n");
        input.extend_from_slice(enc(&Event::text_delta("a")).as_bytes());
        input
            .extend_from_slice(b"\r\n \t\n{\"type\":\"text_delta\",\"seq\":1,\"text\":\"\xc3\"}\n");
        input.extend_from_slice(b"{oops\n");
        input.extend_from_slice(enc(&Event::run_end(RunStatus::Completed)).as_bytes());
        let items = read(&input).await;
        assert_eq!(items.len(), 4);
        assert_eq!(items[0], Ok(Event::text_delta("a")));
        let err = items[1].as_ref().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Protocol);
        assert_eq!(err.message(), "line 4: invalid UTF-8 at byte 37");
        assert!(items[2]
            .as_ref()
            .unwrap_err()
            .message()
            .starts_with("line 5: key must be a string"));
        assert_eq!(items[3], Ok(Event::run_end(RunStatus::Completed)));
        assert!(read(b"").await.is_empty());
        assert!(read(b"\n\n  \n").await.is_empty());
    }

    #[tokio::test]
    async fn reader_handles_lines_split_across_reads() {
        let lines: String = (0..50)
            .map(|i| enc(&Event::text_delta(format!("delta {i} ✓")).with_seq(i)) + "\n")
            .collect();
        // A tiny buffer makes every line arrive in several pieces.
        let reader = tokio::io::BufReader::with_capacity(7, lines.as_bytes());
        let items: Vec<_> = read_json_lines(reader).collect().await;
        assert_eq!(items.len(), 50);
        for (i, item) in items.into_iter().enumerate() {
            assert_eq!(item.unwrap().seq, i as u64);
        }
    }

    #[tokio::test]
    async fn reader_bounds_line_length() {
        let mut input = vec![b'x'; MAX_LINE_BYTES + 1];
        input.push(b'\n');
        input.extend_from_slice(enc(&Event::text_delta("after")).as_bytes());
        let items = read(&input).await;
        assert_eq!(items.len(), 2);
        assert_eq!(
            items[0].as_ref().unwrap_err().message(),
            format!("line 1: line longer than {MAX_LINE_BYTES} bytes")
        );
        assert_eq!(items[1], Ok(Event::text_delta("after")));
    }

    #[tokio::test]
    async fn reader_ends_after_an_io_error() {
        let first = enc(&Event::text_delta("a")) + "\n";
        let reader = Chunks(vec![
            Ok(b"never read\n".to_vec()),
            Err(std::io::Error::other("boom")),
            Ok(first.into_bytes()),
        ]);
        let items: Vec<_> = read_json_lines(reader).collect().await;
        assert_eq!(items.len(), 2);
        assert_eq!(items[0], Ok(Event::text_delta("a")));
        let err = items[1].as_ref().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Internal);
        assert!(err.message().contains("boom"));
    }

    /// A reader serving chunks from the back of its list, errors included.
    struct Chunks(Vec<std::io::Result<Vec<u8>>>);

    impl tokio::io::AsyncRead for Chunks {
        fn poll_read(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            _: &mut tokio::io::ReadBuf<'_>,
        ) -> Poll<std::io::Result<()>> {
            // The line reader only uses the buffered interface.
            Poll::Ready(Err(std::io::Error::other("read through AsyncBufRead")))
        }
    }

    impl AsyncBufRead for Chunks {
        fn poll_fill_buf(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<std::io::Result<&[u8]>> {
            let this = self.get_mut();
            if let Some(Err(_)) = this.0.last() {
                if let Some(Err(err)) = this.0.pop() {
                    return Poll::Ready(Err(err));
                }
            }
            Poll::Ready(Ok(match this.0.last() {
                Some(Ok(chunk)) => chunk,
                _ => &[],
            }))
        }

        fn consume(self: Pin<&mut Self>, amt: usize) {
            let this = self.get_mut();
            if let Some(Ok(chunk)) = this.0.last_mut() {
                chunk.drain(..amt);
                if chunk.is_empty() {
                    this.0.pop();
                }
            }
        }
    }
}
