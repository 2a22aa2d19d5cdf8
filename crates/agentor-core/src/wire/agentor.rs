//! Agentor JSON: the event shape of the Python Agentor project.
//!
//! Every event is one object with exactly the keys `type`, `message`,
//! `chunk`, `tool_action` and `reasoning`, in that order, unused ones `null`:
//!
//! ```text
//! {"type":"raw_response_event","message":null,"chunk":"Hel","tool_action":null,"reasoning":null}
//! ```
//!
//! | event | `type` | filled keys |
//! |---|---|---|
//! | text delta | `raw_response_event` | `chunk`: the delta |
//! | reasoning delta | `raw_response_event` | `reasoning`: the delta |
//! | tool-call delta | `raw_response_event` | none: a raw event Python Agentor passed through without a chunk |
//! | message | `run_item_stream_event` | `message`: the text |
//! | reasoning summary | `run_item_stream_event` | `reasoning`: the summary |
//! | tool call | `run_item_stream_event` | `tool_action`: `{"name": tool, "type": "tool_called"}` |
//! | tool result | `run_item_stream_event` | `message`: the output; `tool_action`: `{"name": tool, "type": "tool_output"}` |
//! | agent updated | `agent_updated_stream_event` | `message`: the agent |
//! | handoff | `run_item_stream_event` | `message`: the agent taking over (`to`); `tool_action`: `{"name": to, "type": "handoff"}` |
//! | run start | `run_start` | `message`: the agent |
//! | usage | `usage` | `message`: `input 12, output 30, total 42 tokens` |
//! | progress | `progress` | `message`: `10 events, 5 text deltas (80 bytes), 1 tool calls, 1 tool results, 0 errors in 1500 ms` |
//! | error | `error` | `message`: the error's message |
//! | run end | `run_end` | `message`: the status (`completed`, `max_turns`, …) |
//!
//! The last five kinds did not exist in Python Agentor; they use the native
//! kind name as `type`, which old filters ignore. The mapping loses
//! information (envelope, ids, tool arguments, error flags), so there is no
//! decoder: record in [native JSON](super::native).

use bytes::{BufMut, BytesMut};

use super::json::{write_duration_ms, write_str, write_u64};
use crate::{Event, EventKind, ProgressSnapshot};

/// The `type` of text and reasoning deltas.
pub const RAW_RESPONSE_EVENT: &str = "raw_response_event";
/// The `type` of messages, reasoning summaries, tool calls, tool results and handoffs.
pub const RUN_ITEM_STREAM_EVENT: &str = "run_item_stream_event";
/// The `type` of agent switches (`agent_updated`).
pub const AGENT_UPDATED_STREAM_EVENT: &str = "agent_updated_stream_event";

/// What goes in `message`; the composed ones are written straight into the
/// output so that no string is built.
enum Message<'a> {
    Null,
    Str(&'a str),
    Usage(u64, u64, u64),
    Progress(&'a ProgressSnapshot),
}

/// Writes `event` as one line of agentor JSON (no trailing newline) to `dst`.
///
/// Allocates nothing but `dst`'s growth.
///
/// ```
/// use agentor_core::{wire::agentor, Event};
/// use bytes::BytesMut;
///
/// let mut dst = BytesMut::new();
/// agentor::encode(&Event::text_delta("Hel").with_seq(7), &mut dst);
/// assert_eq!(
///     &dst[..],
///     br#"{"type":"raw_response_event","message":null,"chunk":"Hel","tool_action":null,"reasoning":null}"#
/// );
/// ```
pub fn encode(event: &Event, dst: &mut BytesMut) {
    use Message::{Null, Str};
    let kind_name = event.kind().as_str();
    match &event.kind {
        EventKind::TextDelta { text, .. } => {
            write(dst, RAW_RESPONSE_EVENT, Null, Some(text), None, None);
        }
        EventKind::ReasoningDelta { text, .. } => {
            write(dst, RAW_RESPONSE_EVENT, Null, None, None, Some(text));
        }
        // Python Agentor exposed the model's argument fragments as raw
        // response events whose `chunk` was null; readers that join chunks skip them.
        EventKind::ToolCallDelta(_) => write(dst, RAW_RESPONSE_EVENT, Null, None, None, None),
        EventKind::Message { text, .. } => {
            write(dst, RUN_ITEM_STREAM_EVENT, Str(text), None, None, None);
        }
        EventKind::ReasoningSummary { text } => {
            write(dst, RUN_ITEM_STREAM_EVENT, Null, None, None, Some(text));
        }
        EventKind::ToolCall(call) => {
            let name = &call.name;
            let action = Some((&**name, "tool_called"));
            write(dst, RUN_ITEM_STREAM_EVENT, Null, None, action, None);
        }
        EventKind::ToolResult(result) => {
            let (name, output) = (&result.name, &result.output);
            let action = Some((&**name, "tool_output"));
            write(dst, RUN_ITEM_STREAM_EVENT, Str(output), None, action, None);
        }
        EventKind::AgentUpdated { agent } => {
            write(
                dst,
                AGENT_UPDATED_STREAM_EVENT,
                Str(agent),
                None,
                None,
                None,
            );
        }
        // A run item, as the handoff output item is in Python's SDK: the
        // agent switch itself is the `agent_updated` that follows, so
        // filters on `agent_updated_stream_event` see one per handoff.
        EventKind::Handoff { to, .. } => {
            let action = Some((&**to, "handoff"));
            write(dst, RUN_ITEM_STREAM_EVENT, Str(to), None, action, None);
        }
        EventKind::RunStart { agent, .. } => write(dst, kind_name, Str(agent), None, None, None),
        EventKind::Usage {
            input_tokens,
            output_tokens,
            total_tokens,
            ..
        } => {
            let message = Message::Usage(*input_tokens, *output_tokens, *total_tokens);
            write(dst, kind_name, message, None, None, None);
        }
        EventKind::Progress(p) => write(dst, kind_name, Message::Progress(p), None, None, None),
        EventKind::Error { message, .. } => write(dst, kind_name, Str(message), None, None, None),
        EventKind::RunEnd { status } => {
            write(dst, kind_name, Str(status.as_str()), None, None, None);
        }
    }
}

fn write(
    dst: &mut BytesMut,
    ty: &str,
    message: Message<'_>,
    chunk: Option<&str>,
    tool_action: Option<(&str, &str)>,
    reasoning: Option<&str>,
) {
    dst.extend_from_slice(b"{\"type\":");
    write_str(dst, ty);
    dst.extend_from_slice(b",\"message\":");
    match message {
        Message::Null => dst.extend_from_slice(b"null"),
        Message::Str(s) => write_str(dst, s),
        // Numbers and ASCII words need no escaping: write inside the quotes directly.
        Message::Usage(input, output, total) => {
            dst.extend_from_slice(b"\"input ");
            write_u64(dst, input);
            dst.extend_from_slice(b", output ");
            write_u64(dst, output);
            dst.extend_from_slice(b", total ");
            write_u64(dst, total);
            dst.extend_from_slice(b" tokens\"");
        }
        Message::Progress(p) => {
            dst.put_u8(b'"');
            write_u64(dst, p.events);
            dst.extend_from_slice(b" events, ");
            write_u64(dst, p.text_deltas);
            dst.extend_from_slice(b" text deltas (");
            write_u64(dst, p.text_bytes);
            dst.extend_from_slice(b" bytes), ");
            write_u64(dst, p.tool_calls);
            dst.extend_from_slice(b" tool calls, ");
            write_u64(dst, p.tool_results);
            dst.extend_from_slice(b" tool results, ");
            write_u64(dst, p.errors);
            dst.extend_from_slice(b" errors in ");
            write_duration_ms(dst, p.elapsed);
            dst.extend_from_slice(b" ms\"");
        }
    }
    dst.extend_from_slice(b",\"chunk\":");
    write_opt_str(dst, chunk);
    dst.extend_from_slice(b",\"tool_action\":");
    match tool_action {
        Some((name, action)) => {
            dst.extend_from_slice(b"{\"name\":");
            write_str(dst, name);
            dst.extend_from_slice(b",\"type\":");
            write_str(dst, action);
            dst.put_u8(b'}');
        }
        None => dst.extend_from_slice(b"null"),
    }
    dst.extend_from_slice(b",\"reasoning\":");
    write_opt_str(dst, reasoning);
    dst.put_u8(b'}');
}

fn write_opt_str(dst: &mut BytesMut, s: Option<&str>) {
    match s {
        Some(s) => write_str(dst, s),
        None => dst.extend_from_slice(b"null"),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::time::Duration;

    use serde_json::json;

    use super::*;
    use crate::{ErrorKind, Kind, RunStatus};

    fn enc(event: &Event) -> String {
        let mut dst = BytesMut::new();
        encode(event, &mut dst);
        String::from_utf8(dst.to_vec()).unwrap()
    }

    fn line(ty: &str, message: &str, chunk: &str, tool_action: &str, reasoning: &str) -> String {
        format!(
            r#"{{"type":"{ty}","message":{message},"chunk":{chunk},"tool_action":{tool_action},"reasoning":{reasoning}}}"#
        )
    }

    #[test]
    fn every_kind_maps_as_documented() {
        let n = "null";
        let cases = vec![
            (
                Event::text_delta("a \"b\"\n"),
                line(RAW_RESPONSE_EVENT, n, r#""a \"b\"\n""#, n, n),
            ),
            (
                Event::reasoning_delta("think"),
                line(RAW_RESPONSE_EVENT, n, n, n, r#""think""#),
            ),
            (
                Event::message("Hello"),
                line(RUN_ITEM_STREAM_EVENT, r#""Hello""#, n, n, n),
            ),
            (
                Event::new(EventKind::ReasoningSummary { text: "sum".into() }),
                line(RUN_ITEM_STREAM_EVENT, n, n, n, r#""sum""#),
            ),
            (
                Event::tool_call("c1", "search", json!({"q": 1})),
                line(
                    RUN_ITEM_STREAM_EVENT,
                    n,
                    n,
                    r#"{"name":"search","type":"tool_called"}"#,
                    n,
                ),
            ),
            (
                Event::tool_call_delta("c1", Some("search"), "{\"q\":1}"),
                line(RAW_RESPONSE_EVENT, n, n, n, n),
            ),
            (
                Event::tool_result("c1", "search", "3 hits"),
                line(
                    RUN_ITEM_STREAM_EVENT,
                    r#""3 hits""#,
                    n,
                    r#"{"name":"search","type":"tool_output"}"#,
                    n,
                ),
            ),
            (
                Event::new(EventKind::AgentUpdated { agent: "B".into() }),
                line(AGENT_UPDATED_STREAM_EVENT, r#""B""#, n, n, n),
            ),
            (
                Event::new(EventKind::Handoff {
                    from: "A".into(),
                    to: "B".into(),
                }),
                line(
                    RUN_ITEM_STREAM_EVENT,
                    r#""B""#,
                    n,
                    r#"{"name":"B","type":"handoff"}"#,
                    n,
                ),
            ),
            (
                Event::new(EventKind::RunStart {
                    agent: "Planner".into(),
                    model: None,
                }),
                line("run_start", r#""Planner""#, n, n, n),
            ),
            (
                Event::new(EventKind::Usage {
                    input_tokens: 12,
                    output_tokens: 30,
                    total_tokens: 42,
                    cache_read_input_tokens: 0,
                    cache_creation_input_tokens: 0,
                }),
                line(
                    "usage",
                    r#""input 12, output 30, total 42 tokens""#,
                    n,
                    n,
                    n,
                ),
            ),
            (
                Event::new(EventKind::Progress(ProgressSnapshot {
                    events: 10,
                    text_deltas: 5,
                    text_bytes: 80,
                    tool_calls: 1,
                    tool_results: 1,
                    errors: 0,
                    elapsed: Duration::from_micros(1_500_250),
                })),
                line(
                    "progress",
                    r#""10 events, 5 text deltas (80 bytes), 1 tool calls, 1 tool results, 0 errors in 1500.25 ms""#,
                    n,
                    n,
                    n,
                ),
            ),
            (
                Event::error(ErrorKind::Provider, "429"),
                line("error", r#""429""#, n, n, n),
            ),
            (
                Event::run_end(RunStatus::TimedOut),
                line("run_end", r#""timed_out""#, n, n, n),
            ),
        ];
        for kind in Kind::ALL {
            assert!(
                cases.iter().any(|(e, _)| e.kind() == *kind),
                "{kind} untested"
            );
        }
        for (event, expected) in cases {
            assert_eq!(enc(&event), expected);
        }
    }

    #[test]
    fn output_has_exactly_the_five_keys_in_order() {
        let events = [
            Event::text_delta("x"),
            Event::tool_call("c", "t\u{0}", json!(null)),
            Event::error(ErrorKind::Internal, "multi\r\nline"),
        ];
        for event in events {
            let text = enc(&event);
            assert!(!text.contains('\n') && !text.contains('\r'));
            let value: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(value.as_object().unwrap().len(), 5);
            let keys = [
                "\"type\":",
                "\"message\":",
                "\"chunk\":",
                "\"tool_action\":",
                "\"reasoning\":",
            ];
            let positions: Vec<_> = keys.iter().map(|k| text.find(k).unwrap()).collect();
            assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");
        }
    }
}
