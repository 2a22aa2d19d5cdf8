//! The parser on recorded Responses API bodies (`tests/fixtures/responses_*.sse`).

use agentor_core::{ErrorKind, Event, EventKind, EventResult, Kind, RunStatus};
use serde_json::json;

use super::ResponsesParser;
use crate::TurnParser;

/// Splits SSE text into `(event, data)` messages: enough of the SSE format
/// for fixtures (the transport decodes live bodies with the full SSE decoder).
fn sse_messages(body: &str) -> Vec<(String, String)> {
    let mut messages = Vec::new();
    let (mut event, mut data) = (String::new(), Vec::new());
    for line in body.lines().chain([""]) {
        if line.is_empty() {
            if !data.is_empty() {
                messages.push((std::mem::take(&mut event), data.join("\n")));
            }
            event.clear();
            data.clear();
        } else if let Some(value) = line.strip_prefix("event:") {
            event = value.trim_start().to_owned();
        } else if let Some(value) = line.strip_prefix("data:") {
            data.push(value.strip_prefix(' ').unwrap_or(value));
        }
        // Comments (`:`) and other fields carry nothing for the parser.
    }
    messages
}

/// Feeds a fixture to a parser as a transport would: message by message
/// until the turn is done, then `finish`.
fn parse(body: &str) -> Vec<EventResult> {
    let mut parser = ResponsesParser::new();
    let mut out = Vec::new();
    for (event, data) in sse_messages(body) {
        if parser.is_done() {
            break;
        }
        parser.message(&event, &data, &mut out);
    }
    parser.finish(&mut out);
    assert!(parser.is_done());
    out
}

fn events(body: &str) -> Vec<Event> {
    parse(body).into_iter().map(Result::unwrap).collect()
}

/// The events without their `tool_call_delta`s (tested on their own).
fn without_deltas(events: Vec<Event>) -> Vec<Event> {
    events
        .into_iter()
        .filter(|e| e.kind() != Kind::ToolCallDelta)
        .collect()
}

/// The `tool_call_delta`s joined per call: `(id, first fragment's name, text)`.
fn joined_deltas(events: &[Event]) -> Vec<(String, Option<String>, String)> {
    let mut joined: Vec<(String, Option<String>, String)> = Vec::new();
    for event in events {
        let EventKind::ToolCallDelta(delta) = &event.kind else {
            continue;
        };
        match joined.iter_mut().find(|(id, ..)| *id == *delta.call_id) {
            Some((_, name, text)) => {
                assert!(name.is_some());
                text.push_str(&delta.delta);
            }
            None => joined.push((
                delta.call_id.to_string(),
                delta.name.as_deref().map(str::to_owned),
                delta.delta.to_string(),
            )),
        }
    }
    joined
}

fn kinds(events: &[Event]) -> Vec<Kind> {
    events.iter().map(Event::kind).collect()
}

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn usage(input: u64, output: u64, total: u64) -> Event {
    Event::new(EventKind::Usage {
        input_tokens: input,
        output_tokens: output,
        total_tokens: total,
        cache_read_input_tokens: 0,
        cache_creation_input_tokens: 0,
    })
}

#[test]
fn the_sse_helper_reads_fields_and_skips_comments() {
    let messages = sse_messages(": hi\n\nevent: a\ndata: {\"x\":\ndata:1}\n\ndata: b");
    assert_eq!(
        messages,
        [
            ("a".to_owned(), "{\"x\":\n1}".to_owned()),
            (String::new(), "b".to_owned())
        ]
    );
}

#[test]
fn text_streams_as_deltas_then_message_usage_and_end() {
    let out = events(&fixture("responses_text.sse"));
    let id = Some("msg_68a1c0f3a1b88195".into());
    let delta = |text: &str| {
        Event::new(EventKind::TextDelta {
            text: text.into(),
            message_id: id.clone(),
        })
    };
    assert_eq!(
        out,
        [
            delta("Hello"),
            delta("! Here is"),
            delta(" a \"quote\"\nand"),
            delta(" café ☕."),
            Event::new(EventKind::Message {
                text: "Hello! Here is a \"quote\"\nand café ☕.".into(),
                message_id: id.clone(),
            }),
            usage(12, 14, 26),
            Event::run_end(RunStatus::Completed),
        ]
    );
}

#[test]
fn a_function_call_is_one_event_once_its_arguments_are_done() {
    let out = without_deltas(events(&fixture("responses_function_call.sse")));
    assert_eq!(
        out,
        [
            Event::tool_call(
                "call_Xq2Lm9TfWb3nRk7PzA1sVd0e",
                "get_weather",
                json!({"location": "Paris, France", "unit": "celsius"}),
            ),
            usage(61, 23, 84),
            Event::run_end(RunStatus::Completed),
        ]
    );
}

#[test]
fn arguments_are_assembled_from_deltas_when_no_done_text_comes() {
    // Keep only the deltas and the completion: the calls must still come out whole.
    let body: String = fixture("responses_function_call.sse")
        .split("\n\n")
        .filter(|m| !m.contains("arguments.done") && !m.contains("output_item.done"))
        .map(|m| format!("{m}\n\n"))
        .collect();
    let all = events(&body);
    // The deltas still stream, and join to the same arguments.
    let joined = joined_deltas(&all);
    assert_eq!(joined.len(), 1);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&joined[0].2).unwrap(),
        json!({"location": "Paris, France", "unit": "celsius"})
    );
    let out = without_deltas(all);
    assert_eq!(
        out[0],
        Event::tool_call(
            "call_Xq2Lm9TfWb3nRk7PzA1sVd0e",
            "get_weather",
            json!({"location": "Paris, France", "unit": "celsius"}),
        )
    );
}

#[test]
fn parallel_calls_are_kept_apart() {
    let all = events(&fixture("responses_parallel_calls.sse"));
    let joined = joined_deltas(&all);
    let ids: Vec<(&str, Option<&str>)> = joined
        .iter()
        .map(|(id, name, _)| (id.as_str(), name.as_deref()))
        .collect();
    assert_eq!(
        ids,
        [
            ("call_paris_01", Some("get_weather")),
            ("call_tokyo_02", Some("get_time"))
        ]
    );
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&joined[1].2).unwrap(),
        json!({"timezone": "Asia/Tokyo"})
    );
    let out = without_deltas(all);
    assert_eq!(
        out,
        [
            Event::tool_call("call_paris_01", "get_weather", json!({"location": "Paris"})),
            Event::tool_call(
                "call_tokyo_02",
                "get_time",
                json!({"timezone": "Asia/Tokyo"})
            ),
            usage(88, 41, 129),
            Event::run_end(RunStatus::Completed),
        ]
    );
}

#[test]
fn each_call_streams_its_deltas_before_its_complete_call() {
    let all = events(&fixture("responses_function_call.sse"));
    let joined = joined_deltas(&all);
    assert_eq!(
        (joined[0].0.as_str(), joined[0].1.as_deref()),
        ("call_Xq2Lm9TfWb3nRk7PzA1sVd0e", Some("get_weather"))
    );
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&joined[0].2).unwrap(),
        json!({"location": "Paris, France", "unit": "celsius"})
    );
    let deltas = all
        .iter()
        .filter(|e| e.kind() == Kind::ToolCallDelta)
        .count();
    assert!(deltas > 2, "{deltas} deltas");
    let call = all.iter().position(|e| e.kind() == Kind::ToolCall).unwrap();
    assert!(all[..call].iter().all(|e| e.kind() == Kind::ToolCallDelta));
}

#[test]
fn a_done_text_that_rewrites_the_deltas_stops_them_without_changing_the_call() {
    let body = "\
data: {\"type\":\"response.output_item.added\",\"output_index\":0,\"item\":{\"type\":\"function_call\",\"id\":\"fc_1\",\"call_id\":\"c1\",\"name\":\"f\",\"arguments\":\"\"}}

data: {\"type\":\"response.function_call_arguments.delta\",\"item_id\":\"fc_1\",\"output_index\":0,\"delta\":\"{\\\"a\"}

data: {\"type\":\"response.function_call_arguments.done\",\"item_id\":\"fc_1\",\"output_index\":0,\"arguments\":\"{\\\"b\\\":2}\"}

data: {\"type\":\"response.completed\",\"response\":{}}

";
    let all = events(body);
    assert_eq!(
        joined_deltas(&all),
        [("c1".into(), Some("f".into()), "{\"a".into())]
    );
    let EventKind::ToolCall(call) = &without_deltas(all)[0].kind else {
        panic!()
    };
    assert_eq!(call.arguments, json!({"b": 2}));
}

#[test]
fn invalid_arguments_arrive_as_the_raw_string() {
    let mut parser = ResponsesParser::new();
    let mut out = Vec::new();
    parser.message(
        "",
        r#"{"type":"response.output_item.added","output_index":0,"item":{"id":"fc_1","type":"function_call","arguments":"","call_id":"call_1","name":"f"}}"#,
        &mut out,
    );
    parser.message(
        "",
        r#"{"type":"response.function_call_arguments.done","item_id":"fc_1","output_index":0,"arguments":"{\"a\": tru"}"#,
        &mut out,
    );
    assert_eq!(
        out.pop().unwrap().unwrap(),
        Event::tool_call("call_1", "f", json!("{\"a\": tru"))
    );
}

#[test]
fn reasoning_summaries_stream_and_each_is_summarized_once() {
    let out = events(&fixture("responses_reasoning.sse"));
    assert_eq!(
        kinds(&out),
        [
            Kind::ReasoningDelta,
            Kind::ReasoningDelta,
            Kind::ReasoningSummary,
            Kind::ReasoningDelta,
            Kind::ReasoningSummary,
            Kind::TextDelta,
            Kind::TextDelta,
            Kind::Message,
            Kind::Usage,
            Kind::RunEnd,
        ]
    );
    assert_eq!(
        out[0].kind,
        EventKind::ReasoningDelta {
            text: "**Comparing numbers**\n\n".into(),
            message_id: Some("rs_68a1c3d5a0b08195".into()),
        }
    );
    assert_eq!(
        out[2].text(),
        Some("**Comparing numbers**\n\n9.11 vs 9.9: compare tenths.")
    );
    // The second summary had no `text.done`: its `part.done` stands in.
    assert_eq!(out[4].text(), Some("9 > 1, so 9.9 is larger."));
    assert_eq!(out[7].text(), Some("9.9 is larger."));
    assert_eq!(out[8], usage(18, 210, 228));
}

#[test]
fn reasoning_text_streams_as_reasoning_deltas() {
    let out = events(&fixture("responses_reasoning_text.sse"));
    let texts: Vec<(Kind, &str)> = out
        .iter()
        .filter_map(|e| Some((e.kind(), e.text()?)))
        .collect();
    assert_eq!(
        texts,
        [
            (Kind::ReasoningDelta, "User greets."),
            (Kind::ReasoningDelta, " Reply briefly."),
            (Kind::TextDelta, "Hi!"),
            (Kind::Message, "Hi!"),
        ]
    );
}

#[test]
fn an_error_event_ends_the_turn_failed_with_its_code() {
    let out = events(&fixture("responses_error.sse"));
    assert_eq!(kinds(&out), [Kind::TextDelta, Kind::Error, Kind::RunEnd]);
    assert_eq!(
        out[1],
        Event::error(
            ErrorKind::Provider,
            "rate_limit_exceeded: Rate limit reached for gpt-4.1 in organization org-abc on \
             tokens per min (TPM): Limit 30000, Used 30000, Requested 512."
        )
    );
    assert_eq!(out[2].run_status(), Some(RunStatus::Failed));
}

#[test]
fn an_error_event_with_a_nested_error_object_is_read_too() {
    let mut parser = ResponsesParser::new();
    let mut out = Vec::new();
    parser.message(
        "error",
        r#"{"type":"error","error":{"type":"invalid_request_error","code":null,"message":"Bad input","param":"input"}}"#,
        &mut out,
    );
    assert_eq!(
        out[0].as_ref().unwrap(),
        &Event::error(ErrorKind::Provider, "Bad input")
    );
    assert!(parser.is_done());
}

#[test]
fn a_failed_response_reports_its_error() {
    let out = events(&fixture("responses_failed.sse"));
    assert_eq!(
        out,
        [
            Event::error(
                ErrorKind::Provider,
                "server_error: The server had an error while processing your request. Sorry about that!"
            ),
            Event::run_end(RunStatus::Failed),
        ]
    );
}

#[test]
fn an_incomplete_response_fails_and_says_why() {
    let out = events(&fixture("responses_incomplete.sse"));
    assert_eq!(
        kinds(&out),
        [Kind::TextDelta, Kind::Usage, Kind::Error, Kind::RunEnd]
    );
    assert_eq!(out[1], usage(14, 16, 30));
    let EventKind::Error { kind, message } = &out[2].kind else {
        panic!("{:?}", out[2]);
    };
    assert_eq!(*kind, ErrorKind::Provider);
    assert!(message.contains("max_output_tokens"), "{message}");
    assert_eq!(out[3].run_status(), Some(RunStatus::Failed));
}

#[test]
fn a_truncated_stream_is_an_error_and_a_failed_end() {
    let out = parse(&fixture("responses_truncated.sse"));
    assert_eq!(out.len(), 4);
    assert_eq!(out[0].as_ref().unwrap().text(), Some("The first"));
    let err = out[2].as_ref().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Provider);
    assert!(
        err.message()
            .starts_with("stream ended before response.completed"),
        "{err}"
    );
    assert_eq!(
        out[3].as_ref().unwrap().run_status(),
        Some(RunStatus::Failed)
    );
}

#[test]
fn unknown_events_are_ignored() {
    let out = events(&fixture("responses_unknown_events.sse"));
    assert_eq!(
        kinds(&out),
        [Kind::TextDelta, Kind::Message, Kind::Usage, Kind::RunEnd]
    );
}

#[test]
fn the_sse_event_name_stands_in_for_a_missing_type() {
    let mut parser = ResponsesParser::new();
    let mut out = Vec::new();
    parser.message(
        "response.output_text.delta",
        r#"{"item_id":"m","delta":"x"}"#,
        &mut out,
    );
    assert_eq!(out[0].as_ref().unwrap().text(), Some("x"));
}

#[test]
fn broken_data_is_a_protocol_failure() {
    for (event, data) in [
        ("response.output_text.delta", "{not json"),
        (
            "",
            r#"{"type":"response.output_text.delta","delta":{"not":"text"}}"#,
        ),
    ] {
        let mut parser = ResponsesParser::new();
        let mut out = Vec::new();
        parser.message(event, data, &mut out);
        assert_eq!(out.len(), 2, "{data}");
        assert_eq!(out[0].as_ref().unwrap_err().kind(), ErrorKind::Protocol);
        assert_eq!(
            out[1].as_ref().unwrap().run_status(),
            Some(RunStatus::Failed)
        );
        assert!(parser.is_done());
        parser.finish(&mut out);
        assert_eq!(out.len(), 2, "finish adds nothing after the end");
    }
}

#[test]
fn done_markers_and_blank_data_are_skipped() {
    let mut parser = ResponsesParser::new();
    let mut out = Vec::new();
    parser.message("", "[DONE]", &mut out);
    parser.message("", "  ", &mut out);
    assert!(out.is_empty());
    assert!(!parser.is_done());
}

mod props {
    use proptest::prelude::*;

    use super::*;

    const FIXTURES: &[&str] = &[
        "responses_text.sse",
        "responses_function_call.sse",
        "responses_parallel_calls.sse",
        "responses_reasoning.sse",
        "responses_unknown_events.sse",
    ];

    proptest! {
        /// Whatever the server sends (here: real messages, some cut short or
        /// dropped), the turn ends with exactly one run end, last.
        #[test]
        fn any_body_ends_with_one_run_end(
            which in 0..FIXTURES.len(),
            cuts in proptest::collection::vec((any::<bool>(), 0usize..400), 0..64),
        ) {
            let messages = sse_messages(&fixture(FIXTURES[which]));
            let mut parser = ResponsesParser::new();
            let mut out = Vec::new();
            for (i, (event, data)) in messages.iter().enumerate() {
                let (drop, cut) = cuts.get(i).copied().unwrap_or((false, usize::MAX));
                if drop {
                    continue;
                }
                let end = (0..=cut.min(data.len())).rev().find(|&j| data.is_char_boundary(j)).unwrap_or(0);
                parser.message(event, &data[..end], &mut out);
            }
            parser.finish(&mut out);
            let ends = out.iter().filter(|e| matches!(e, Ok(e) if e.kind() == Kind::RunEnd)).count();
            prop_assert_eq!(ends, 1);
            prop_assert!(matches!(out.last(), Some(Ok(e)) if e.kind() == Kind::RunEnd));
        }
    }
}
