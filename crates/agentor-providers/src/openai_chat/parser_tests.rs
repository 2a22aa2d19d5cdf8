//! The parser alone, fed `data:` payloads by hand.

#![allow(clippy::unwrap_used)]

use agentor_core::{Error, ErrorKind, Event, EventKind, EventResult, Kind, RunStatus};
use serde_json::json;

use super::ChatCompletionsParser;
use crate::TurnParser;

/// Feeds `payloads`, then finishes, returning everything pushed.
fn parse(payloads: &[&str]) -> Vec<EventResult> {
    let mut parser = ChatCompletionsParser::new();
    let mut out = Vec::new();
    for data in payloads {
        parser.message("", data, &mut out);
    }
    parser.finish(&mut out);
    assert!(parser.is_done());
    out
}

fn events(out: &[EventResult]) -> Vec<&Event> {
    out.iter().map(|e| e.as_ref().unwrap()).collect()
}

fn content(text: &str) -> String {
    json!({"id": "chatcmpl-1", "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}]})
        .to_string()
}

fn fragment(index: Option<u32>, id: Option<&str>, name: Option<&str>, args: &str) -> String {
    let mut call = json!({"function": {"arguments": args}});
    if let Some(index) = index {
        call["index"] = json!(index);
    }
    if let Some(id) = id {
        call["id"] = json!(id);
        call["type"] = json!("function");
    }
    if let Some(name) = name {
        call["function"]["name"] = json!(name);
    }
    json!({"choices": [{"index": 0, "delta": {"tool_calls": [call]}}]}).to_string()
}

const STOP: &str = r#"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#;
const TOOL_STOP: &str = r#"{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#;

#[test]
fn text_then_message_with_the_completion_id() {
    let out = parse(&[
        &content(""),
        &content("Hel"),
        &content("lo"),
        STOP,
        "[DONE]",
    ]);
    let events = events(&out);
    let kinds: Vec<Kind> = events.iter().map(|e| e.kind()).collect();
    assert_eq!(
        kinds,
        [
            Kind::TextDelta,
            Kind::TextDelta,
            Kind::Message,
            Kind::RunEnd
        ]
    );
    assert_eq!(
        events[2].kind,
        EventKind::Message {
            text: "Hello".into(),
            message_id: Some("chatcmpl-1".into())
        }
    );
    assert_eq!(events[3].run_status(), Some(RunStatus::Completed));
}

#[test]
fn escaped_text_is_unescaped() {
    let out = parse(&[&content("line\n\"quoted\" \u{e9}"), "[DONE]"]);
    assert_eq!(events(&out)[0].text(), Some("line\n\"quoted\" é"));
}

#[test]
fn usage_comes_after_the_message() {
    let usage =
        r#"{"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":7,"total_tokens":12}}"#;
    let out = parse(&[&content("x"), STOP, usage, "[DONE]"]);
    let events = events(&out);
    assert_eq!(events[1].kind(), Kind::Message);
    assert_eq!(
        events[2].kind,
        EventKind::Usage {
            input_tokens: 5,
            output_tokens: 7,
            total_tokens: 12,
            cache_read_input_tokens: 0,
            cache_creation_input_tokens: 0,
        }
    );
}

#[test]
fn cached_prompt_tokens_are_reported_apart() {
    let usage = r#"{"choices":[],"usage":{"prompt_tokens":50,"completion_tokens":7,"total_tokens":57,"prompt_tokens_details":{"cached_tokens":32}}}"#;
    let out = parse(&[&content("x"), STOP, usage, "[DONE]"]);
    let events = events(&out);
    assert_eq!(
        events[2].kind,
        EventKind::Usage {
            input_tokens: 50,
            output_tokens: 7,
            total_tokens: 57,
            cache_read_input_tokens: 32,
            cache_creation_input_tokens: 0,
        }
    );
}

#[test]
fn reasoning_in_either_field() {
    let a = r#"{"choices":[{"index":0,"delta":{"reasoning_content":"think "}}]}"#;
    let b = r#"{"choices":[{"index":0,"delta":{"reasoning":"more"}}]}"#;
    let out = parse(&[a, b, "[DONE]"]);
    let events = events(&out);
    assert_eq!(events[0].kind(), Kind::ReasoningDelta);
    assert_eq!(events[1].text(), Some("more"));
    // Reasoning is not the message.
    assert_eq!(events[2].kind(), Kind::RunEnd);
}

#[test]
fn tool_calls_wait_for_the_finish_reason() {
    let mut parser = ChatCompletionsParser::new();
    let mut out = Vec::new();
    parser.message(
        "",
        &fragment(Some(0), Some("call_a"), Some("add"), ""),
        &mut out,
    );
    parser.message("", &fragment(Some(0), None, None, "{\"a\":"), &mut out);
    parser.message("", &fragment(Some(0), None, None, "1}"), &mut out);
    // The fragments stream as they come: id and name on the first.
    assert_eq!(
        events(&out),
        [
            &Event::tool_call_delta("call_a", Some("add"), ""),
            &Event::tool_call_delta("call_a", None, "{\"a\":"),
            &Event::tool_call_delta("call_a", None, "1}"),
        ]
    );
    out.clear();
    parser.message("", TOOL_STOP, &mut out);
    assert_eq!(out.len(), 1);
    let EventKind::ToolCall(call) = &out[0].as_ref().unwrap().kind else {
        panic!()
    };
    assert_eq!((&*call.call_id, &*call.name), ("call_a", "add"));
    assert_eq!(call.arguments, json!({"a": 1}));
}

#[test]
fn parallel_calls_come_out_in_index_order() {
    let out = parse(&[
        &fragment(Some(1), Some("call_b"), Some("second"), "{\"n\":"),
        &fragment(Some(0), Some("call_a"), Some("first"), "{}"),
        &fragment(Some(1), None, None, "2}"),
        "[DONE]",
    ]);
    let calls: Vec<_> = events(&out)
        .into_iter()
        .filter_map(|e| match &e.kind {
            EventKind::ToolCall(call) => Some((call.call_id.to_string(), call.arguments.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        calls,
        [
            ("call_a".into(), json!({})),
            ("call_b".into(), json!({"n": 2}))
        ]
    );
}

#[test]
fn calls_without_an_index_are_told_apart_by_id() {
    let out = parse(&[
        &fragment(None, Some("x"), Some("one"), "{\"v\":1}"),
        &fragment(None, Some("y"), Some("two"), "{\"v\""),
        &fragment(None, None, None, ":2}"),
        TOOL_STOP,
        "[DONE]",
    ]);
    let calls: Vec<&Event> = events(&out)
        .into_iter()
        .filter(|e| e.kind() == Kind::ToolCall)
        .collect();
    let names: Vec<_> = calls.iter().filter_map(|e| e.tool_name()).collect();
    assert_eq!(names, ["one", "two"]);
    let EventKind::ToolCall(second) = &calls[1].kind else {
        panic!()
    };
    assert_eq!(second.arguments, json!({"v": 2}));
}

#[test]
fn bad_or_empty_arguments_follow_the_contract() {
    let out = parse(&[
        &fragment(Some(0), Some("a"), Some("broken"), "{\"city\": \"Par"),
        &fragment(Some(1), None, Some("noargs"), ""),
        TOOL_STOP,
        "[DONE]",
    ]);
    let calls: Vec<_> = events(&out)
        .into_iter()
        .filter_map(|e| match &e.kind {
            EventKind::ToolCall(call) => Some((call.call_id.to_string(), call.arguments.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        calls,
        [
            ("a".into(), json!("{\"city\": \"Par")),
            ("call_1".into(), json!({}))
        ]
    );
}

#[test]
fn an_error_payload_fails_the_turn() {
    let err = r#"{"error":{"message":"Rate limit","type":"rate_limit_error"}}"#;
    let out = parse(&[&content("a"), err, &content("ignored"), "[DONE]"]);
    let events = events(&out);
    assert_eq!(events.len(), 3);
    assert_eq!(
        events[1].kind,
        EventKind::Error {
            kind: ErrorKind::Provider,
            message: "Rate limit".into()
        }
    );
    assert_eq!(events[2].run_status(), Some(RunStatus::Failed));
    // vLLM's shape and a named error event with plain text.
    let vllm = parse(&[r#"{"object":"error","message":"boom","code":500}"#]);
    assert_eq!(events_of_kind(&vllm, Kind::Error), 1);
    let mut parser = ChatCompletionsParser::new();
    let mut out = Vec::new();
    parser.message("error", "upstream went away", &mut out);
    assert!(parser.is_done());
    assert_eq!(
        out[0].as_ref().unwrap().kind,
        EventKind::Error {
            kind: ErrorKind::Provider,
            message: "upstream went away".into()
        }
    );
}

fn events_of_kind(out: &[EventResult], kind: Kind) -> usize {
    out.iter()
        .filter(|e| e.as_ref().is_ok_and(|e| e.kind() == kind))
        .count()
}

#[test]
fn invalid_json_is_a_protocol_error() {
    let out = parse(&["{\"choices\": [", "[DONE]"]);
    let err: &Error = out[0].as_ref().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert_eq!(
        out[1].as_ref().unwrap().run_status(),
        Some(RunStatus::Failed)
    );
    assert_eq!(out.len(), 2);
}

#[test]
fn no_done_marker_is_a_truncation() {
    let out = parse(&[&content("cut"), STOP]);
    assert_eq!(out.len(), 3);
    let err = out[1].as_ref().unwrap_err();
    assert!(err.message().starts_with("stream ended before [DONE]"));
    assert_eq!(
        out[2].as_ref().unwrap().run_status(),
        Some(RunStatus::Failed)
    );
}

#[test]
fn unknown_fields_and_nulls_are_ignored() {
    let chunk = r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","system_fingerprint":null,
        "choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":null,"audio":{"x":1}},
        "logprobs":null,"finish_reason":null}],"usage":null,"x_groq":{"id":"q"}}"#;
    let out = parse(&[chunk, "[DONE]"]);
    assert_eq!(
        events(&out).iter().map(|e| e.kind()).collect::<Vec<_>>(),
        [Kind::RunEnd]
    );
}

#[test]
fn other_choices_are_ignored_and_finish_is_idempotent() {
    let other = r#"{"choices":[{"index":1,"delta":{"content":"no"}}]}"#;
    let mut parser = ChatCompletionsParser::new();
    let mut out = Vec::new();
    parser.message("", other, &mut out);
    parser.message("", "[DONE]", &mut out);
    parser.message("", &content("late"), &mut out);
    parser.finish(&mut out);
    parser.finish(&mut out);
    assert_eq!(out.len(), 1);
}

#[test]
fn hostile_input_never_panics() {
    let inputs = [
        "",
        "null",
        "[]",
        "42",
        "\"str\"",
        "{}",
        "{\"choices\":null}",
        "{\"choices\":[null]}",
        "{\"choices\":[{\"index\":-1}]}",
        "{\"usage\":{\"prompt_tokens\":18446744073709551615,\"completion_tokens\":5}}",
        "{\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":4294967295}]}}]}",
        "{\"error\":null}",
        "{\"error\":{}}",
        "{\"error\":42}",
    ];
    for input in inputs {
        let out = parse(&[input, "[DONE]"]);
        assert!(!out.is_empty(), "{input}");
    }
}

/// The `tool_call_delta`s of `out`, joined per call id in order of first
/// appearance: `(id, name of the first fragment, arguments text)`.
fn joined_deltas(out: &[EventResult]) -> Vec<(String, Option<String>, String)> {
    let mut joined: Vec<(String, Option<String>, String)> = Vec::new();
    for event in events(out) {
        let EventKind::ToolCallDelta(delta) = &event.kind else {
            continue;
        };
        match joined.iter_mut().find(|(id, ..)| *id == *delta.call_id) {
            Some((_, _, text)) => text.push_str(&delta.delta),
            None => joined.push((
                delta.call_id.to_string(),
                delta.name.as_deref().map(str::to_owned),
                delta.delta.to_string(),
            )),
        }
    }
    joined
}

#[test]
fn deltas_join_to_the_arguments_of_the_complete_call_with_its_id() {
    let out = parse(&[
        &fragment(Some(1), Some("call_b"), Some("second"), "{\"n\":"),
        &fragment(Some(0), Some("call_a"), Some("first"), "{}"),
        &fragment(Some(1), None, None, "2}"),
        // The name only on a later fragment, and no id at all.
        &fragment(Some(2), None, None, "{\"k\""),
        &fragment(Some(2), None, Some("third"), ":true}"),
        &fragment(Some(2), None, None, ""),
        TOOL_STOP,
        "[DONE]",
    ]);
    assert_eq!(
        joined_deltas(&out),
        [
            ("call_b".into(), Some("second".into()), "{\"n\":2}".into()),
            ("call_a".into(), Some("first".into()), "{}".into()),
            ("call_2".into(), Some("third".into()), "{\"k\":true}".into()),
        ]
    );
    // Only the first fragment of a call names the tool, and an empty
    // fragment after the first sends nothing.
    let named = events(&out)
        .iter()
        .filter(|e| matches!(&e.kind, EventKind::ToolCallDelta(d) if d.name.is_some()))
        .count();
    assert_eq!(named, 3);
    assert_eq!(
        events(&out)
            .iter()
            .filter(|e| e.kind() == Kind::ToolCallDelta)
            .count(),
        4
    );
    // Every delta comes before every complete call, whose ids match.
    let last_delta = out
        .iter()
        .rposition(|e| e.as_ref().unwrap().kind() == Kind::ToolCallDelta)
        .unwrap();
    let first_call = out
        .iter()
        .position(|e| e.as_ref().unwrap().kind() == Kind::ToolCall)
        .unwrap();
    assert!(last_delta < first_call);
    let ids: Vec<_> = events(&out)
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::ToolCall(call) => Some(call.call_id.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(ids, ["call_a", "call_b", "call_2"]);
}
