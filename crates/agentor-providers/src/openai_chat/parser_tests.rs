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

mod hot_path {
    //! The scanner for hot chunks against serde: the same events, always.

    use proptest::prelude::*;

    use super::*;

    /// An object from members, with optional spaces around its tokens.
    fn object(members: Vec<(&str, String)>, space: &str) -> String {
        let members: Vec<String> = members
            .into_iter()
            .map(|(k, v)| format!("{space}\"{k}\"{space}:{space}{v}{space}"))
            .collect();
        format!("{{{}}}", members.join(","))
    }

    fn strings() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            r#""""#,
            r#"" the""#,
            r#""chatcmpl-AZ9xk2LmQw7pX""#,
            r#""a\nb""#,
            r#""say \"hi\"""#,
            r#""caf\u00e9""#,
            r#""中文 👍""#,
            "\"tab\there\"",
            r#""error""#,
            r#""unterminated"#,
            "null",
            "0",
        ])
    }

    fn scalars() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            "1733764000",
            "-1",
            "1.5e3",
            "01",
            "1.",
            "true",
            "false",
            "null",
            "nul",
            r#""gpt-4o""#,
            r#"{"a":1}"#,
            "[1,2]",
        ])
    }

    fn delta() -> impl Strategy<Value = String> {
        let member = prop_oneof![
            strings().prop_map(|v| ("content", v.to_owned())),
            Just(("role", r#""assistant""#.to_owned())),
            prop::sample::select(vec!["null", r#""I can't""#])
                .prop_map(|v| ("refusal", v.to_owned())),
            Just(("reasoning_content", r#""hmm""#.to_owned())),
            Just(("reasoning", "null".to_owned())),
            Just((
                "tool_calls",
                r#"[{"index":0,"id":"c1","function":{"name":"f","arguments":"{}"}}]"#.to_owned()
            )),
            scalars().prop_map(|v| ("extra", v.to_owned())),
        ];
        (
            prop::collection::vec(member, 0..4),
            prop::sample::select(vec!["", " "]),
        )
            .prop_map(|(m, space)| object(m, space))
    }

    fn choice() -> impl Strategy<Value = String> {
        let member = prop_oneof![
            3 => prop::sample::select(vec!["0", "1", "0.0", "00", "-0", "0e0"])
                .prop_map(|v| ("index", v.to_owned())),
            4 => delta().prop_map(|v| ("delta", v)),
            1 => prop::sample::select(vec!["null", r#""stop""#, r#""tool_calls""#])
                .prop_map(|v| ("finish_reason", v.to_owned())),
            1 => Just(("logprobs", "null".to_owned())),
        ];
        (
            prop::collection::vec(member, 0..5),
            prop::sample::select(vec!["", "\n"]),
        )
            .prop_map(|(m, space)| object(m, space))
    }

    type Member = (&'static str, String);

    /// The `first` member and some of the others, in any order.
    fn some_of(
        first: BoxedStrategy<Member>,
        others: Vec<BoxedStrategy<Member>>,
    ) -> impl Strategy<Value = Vec<Member>> {
        let n = others.len();
        (
            first,
            others,
            prop::sample::subsequence((0..n).collect::<Vec<_>>(), 0..=n),
        )
            .prop_map(|(first, others, keep)| {
                let mut members: Vec<Member> =
                    keep.into_iter().map(|i| others[i].clone()).collect();
                members.push(first);
                members
            })
            .prop_shuffle()
    }

    /// Chunks shaped like the hot one, with its values varied.
    fn hot_chunk() -> impl Strategy<Value = String> {
        let delta = some_of(
            strings().prop_map(|v| ("content", v.to_owned())).boxed(),
            vec![
                Just(("role", r#""assistant""#.to_owned())).boxed(),
                prop::sample::select(vec!["null", "null", r#""no""#])
                    .prop_map(|v| ("refusal", v.to_owned()))
                    .boxed(),
            ],
        )
        .prop_map(|m| object(m, ""));
        let choice = some_of(
            prop::sample::select(vec!["0", "0", "0", "0", "0", "1", "00"])
                .prop_map(|v| ("index", v.to_owned()))
                .boxed(),
            vec![
                delta.prop_map(|v| ("delta", v)).boxed(),
                Just(("logprobs", "null".to_owned())).boxed(),
                prop::sample::select(vec!["null", "null", r#""stop""#])
                    .prop_map(|v| ("finish_reason", v.to_owned()))
                    .boxed(),
            ],
        )
        .prop_map(|m| object(m, " "));
        some_of(
            choice.prop_map(|c| ("choices", format!("[{c}]"))).boxed(),
            vec![
                strings().prop_map(|v| ("id", v.to_owned())).boxed(),
                prop::sample::select(vec![r#""chat.completion.chunk""#, r#""error""#])
                    .prop_map(|v| ("object", v.to_owned()))
                    .boxed(),
                scalars().prop_map(|v| ("created", v.to_owned())).boxed(),
                Just(("model", r#""gpt-4o-mini""#.to_owned())).boxed(),
                prop::sample::select(vec!["null", "null", r#"{"total_tokens":1}"#])
                    .prop_map(|v| ("usage", v.to_owned()))
                    .boxed(),
            ],
        )
        .prop_map(|m| object(m, ""))
    }

    /// Chunks of every shape, hot ones included, some cut short or followed
    /// by more text.
    fn chunk() -> impl Strategy<Value = String> {
        let choices =
            prop::collection::vec(choice(), 0..3).prop_map(|c| format!("[{}]", c.join(",")));
        let member = prop_oneof![
            2 => strings().prop_map(|v| ("id", v.to_owned())),
            1 => prop::sample::select(vec![r#""chat.completion.chunk""#, r#""error""#])
                .prop_map(|v| ("object", v.to_owned())),
            2 => scalars().prop_map(|v| ("created", v.to_owned())),
            1 => scalars().prop_map(|v| ("model", v.to_owned())),
            5 => choices.prop_map(|v| ("choices", v)),
            1 => prop::sample::select(vec!["null", r#"{"prompt_tokens":3,"completion_tokens":4}"#])
                .prop_map(|v| ("usage", v.to_owned())),
            1 => prop::sample::select(vec![r#"{"message":"boom"}"#, r#""bare""#])
                .prop_map(|v| ("error", v.to_owned())),
            1 => Just(("message", r#""boom""#.to_owned())),
        ];
        let any_shape = (
            prop::collection::vec(member, 0..7),
            prop::sample::select(vec!["", " ", "\r\n"]),
        )
            .prop_map(|(m, space)| object(m, space));
        (
            prop_oneof![1 => any_shape, 3 => hot_chunk()],
            prop::sample::select(vec!["", "", "", "", "", " ", "x", "}"]),
            any::<prop::sample::Index>(),
            prop::bool::weighted(0.1),
        )
            .prop_map(|(chunk, tail, cut, truncate)| {
                let mut chunk = chunk + tail;
                if truncate {
                    let at = cut.index(chunk.len() + 1);
                    let at = (0..=at)
                        .rev()
                        .find(|&i| chunk.is_char_boundary(i))
                        .unwrap_or(0);
                    chunk.truncate(at);
                }
                chunk
            })
    }

    fn run(payloads: &[(bool, String)], scan: bool) -> String {
        let mut parser = ChatCompletionsParser::new();
        let mut out = Vec::new();
        for (error, data) in payloads {
            let event = if *error { "error" } else { "" };
            parser.parse(event, data, scan, &mut out);
        }
        parser.finish(&mut out);
        format!("{out:?}")
    }

    proptest! {
        #[test]
        fn the_scanner_and_serde_give_the_same_events(
            payloads in prop::collection::vec((prop::bool::weighted(0.05), chunk()), 1..6),
            done in any::<bool>(),
        ) {
            let mut payloads = payloads;
            if done {
                payloads.push((false, "[DONE]".to_owned()));
            }
            prop_assert_eq!(run(&payloads, true), run(&payloads, false));
        }
    }

    #[test]
    fn the_generated_chunks_reach_the_scanner() {
        // The property is only worth something if many chunks take the hot
        // path: check the generator makes them.
        use proptest::strategy::ValueTree;
        use proptest::test_runner::TestRunner;
        let mut runner = TestRunner::deterministic();
        let hot = (0..2000)
            .filter(|_| {
                let chunk = chunk().new_tree(&mut runner).unwrap().current();
                super::super::hot::scan(&chunk).is_some()
            })
            .count();
        assert!(hot > 100, "only {hot} of 2000 generated chunks are hot");
    }
}
