#![allow(clippy::unwrap_used)]

use bytes::BytesMut;
use serde_json::{json, Value};

use super::*;
use crate::{Error, ErrorKind, Event, RunStatus};

/// The chunks `events` encode to, parsed; `"[DONE]"` as a JSON string.
fn chunks(encoder: &mut Encoder, events: &[Event]) -> Vec<Value> {
    let mut dst = BytesMut::new();
    for event in events {
        encoder.encode(event, &mut dst);
    }
    let text = std::str::from_utf8(&dst).unwrap();
    assert!(text.ends_with("\n\n") || text.is_empty());
    text.split_terminator("\n\n")
        .map(|frame| {
            let data = frame.strip_prefix("data: ").unwrap();
            assert!(!data.contains('\n'));
            if data == "[DONE]" {
                Value::from("[DONE]")
            } else {
                serde_json::from_str(data).unwrap()
            }
        })
        .collect()
}

fn types(chunks: &[Value]) -> Vec<&str> {
    chunks
        .iter()
        .map(|c| {
            c.get("type")
                .map_or_else(|| c.as_str().unwrap(), |t| t.as_str().unwrap())
        })
        .collect()
}

/// The keys the protocol defines for each chunk type we write (v5's strict
/// schemas: nothing else may appear).
fn allowed(ty: &str) -> &'static [&'static str] {
    match ty {
        "start" => &["type", "messageId", "messageMetadata"],
        "start-step" | "finish-step" => &["type"],
        "text-start" | "text-end" | "reasoning-start" | "reasoning-end" => &["type", "id"],
        "text-delta" | "reasoning-delta" => &["type", "id", "delta"],
        "tool-input-start" => &["type", "toolCallId", "toolName"],
        "tool-input-delta" => &["type", "toolCallId", "inputTextDelta"],
        "tool-input-available" => &["type", "toolCallId", "toolName", "input"],
        "tool-output-available" => &["type", "toolCallId", "output"],
        "tool-output-error" => &["type", "toolCallId", "errorText"],
        "message-metadata" => &["type", "messageMetadata"],
        "error" => &["type", "errorText"],
        "abort" => &["type", "reason"],
        "finish" => &["type", "finishReason", "messageMetadata"],
        "data-agentor-nested" => &["type", "data", "transient"],
        other => panic!("unexpected chunk type {other}"),
    }
}

fn assert_protocol_fields(chunks: &[Value]) {
    for chunk in chunks {
        let Some(object) = chunk.as_object() else {
            assert_eq!(chunk, "[DONE]");
            continue;
        };
        let ty = object["type"].as_str().unwrap();
        for key in object.keys() {
            assert!(allowed(ty).contains(&key.as_str()), "{ty} has {key}");
        }
    }
}

fn full_run() -> Vec<Event> {
    vec![
        Event::run_start_for_test(),
        Event::reasoning_delta("Let me "),
        Event::reasoning_delta("think."),
        Event::new(EventKind::ReasoningSummary {
            text: "Let me think.".into(),
        }),
        Event::text_delta("Checking"),
        Event::message("Checking"),
        Event::tool_call_delta("c1", Some("get_weather"), ""),
        Event::tool_call_delta("c1", None, "{\"city\":"),
        Event::tool_call_delta("c1", None, "\"Paris\"}"),
        Event::tool_call("c1", "get_weather", json!({"city": "Paris"})),
        Event::tool_result("c1", "get_weather", "18°C"),
        Event::new(EventKind::Usage {
            input_tokens: 10,
            output_tokens: 5,
            total_tokens: 15,
            cache_read_input_tokens: 0,
            cache_creation_input_tokens: 0,
        }),
        Event::text_delta("It is "),
        Event::text_delta("18°C \"sunny\"\n"),
        Event::message("It is 18°C \"sunny\"\n"),
        Event::new(EventKind::Usage {
            input_tokens: 20,
            output_tokens: 7,
            total_tokens: 27,
            cache_read_input_tokens: 0,
            cache_creation_input_tokens: 0,
        }),
        Event::run_end(RunStatus::Completed),
    ]
    .into_iter()
    .map(|e| e.with_run_id("run_1"))
    .collect()
}

impl Event {
    fn run_start_for_test() -> Event {
        Event::new(EventKind::RunStart {
            agent: "A".into(),
            model: None,
        })
    }
}

#[test]
fn every_kind_maps_as_documented() {
    let mut encoder = Encoder::new();
    let out = chunks(&mut encoder, &full_run());
    assert_protocol_fields(&out);
    assert_eq!(
        types(&out),
        [
            "start",
            "start-step",
            "reasoning-start",
            "reasoning-delta",
            "reasoning-delta",
            "reasoning-end",
            "text-start",
            "text-delta",
            "text-end",
            "tool-input-start",
            "tool-input-delta",
            "tool-input-delta",
            "tool-input-available",
            "tool-output-available",
            "message-metadata",
            "finish-step",
            "start-step",
            "text-start",
            "text-delta",
            "text-delta",
            "text-end",
            "message-metadata",
            "finish-step",
            "finish",
            "[DONE]",
        ]
    );
    assert_eq!(
        out[0],
        json!({"type": "start", "messageId": "run_1", "messageMetadata": {"runId": "run_1"}})
    );
    assert_eq!(
        out[3],
        json!({"type": "reasoning-delta", "id": "r0", "delta": "Let me "})
    );
    assert_eq!(out[6], json!({"type": "text-start", "id": "t1"}));
    assert_eq!(
        out[9],
        json!({"type": "tool-input-start", "toolCallId": "c1", "toolName": "get_weather"})
    );
    assert_eq!(
        out[11],
        json!({"type": "tool-input-delta", "toolCallId": "c1", "inputTextDelta": "\"Paris\"}"})
    );
    assert_eq!(
        out[12],
        json!({"type": "tool-input-available", "toolCallId": "c1", "toolName": "get_weather", "input": {"city": "Paris"}})
    );
    assert_eq!(
        out[13],
        json!({"type": "tool-output-available", "toolCallId": "c1", "output": "18°C"})
    );
    assert_eq!(out[19]["delta"], "18°C \"sunny\"\n");
    assert_eq!(out[19]["id"], "t2");
    // Usage is summed over the turns.
    assert_eq!(
        out[21],
        json!({"type": "message-metadata", "messageMetadata": {"usage": {"inputTokens": 30, "outputTokens": 12, "totalTokens": 42}}})
    );
    assert_eq!(out[23], json!({"type": "finish", "finishReason": "stop"}));
    assert!(encoder.is_finished());
    // Nothing after the end.
    assert!(chunks(&mut encoder, &[Event::text_delta("late")]).is_empty());
}

#[test]
fn a_failure_is_an_error_chunk_and_keeps_the_text_block() {
    let mut encoder = Encoder::new().message_id("m1");
    let out = chunks(
        &mut encoder,
        &[
            Event::text_delta("Half an ans").with_run_id("run_9"),
            Error::provider("upstream 500").to_event(),
            Event::run_end(RunStatus::Failed),
        ],
    );
    assert_protocol_fields(&out);
    assert_eq!(
        out[0],
        json!({"type": "start", "messageId": "m1", "messageMetadata": {"runId": "run_9"}})
    );
    assert_eq!(
        types(&out),
        [
            "start",
            "start-step",
            "text-start",
            "text-delta",
            "error",
            "text-end",
            "finish-step",
            "finish",
            "[DONE]"
        ]
    );
    assert_eq!(
        out[4],
        json!({"type": "error", "errorText": "upstream 500"})
    );
    assert_eq!(out[7]["finishReason"], "error");
}

#[test]
fn tool_errors_cancellation_and_whole_messages() {
    let mut encoder = Encoder::new();
    let out = chunks(
        &mut encoder,
        &[
            // No deltas: the message is the whole block; the call comes whole.
            Event::message("Whole"),
            Event::tool_call("c2", "t", json!({})),
            Event::new(EventKind::ToolResult(Box::new(crate::ToolResult {
                call_id: "c2".into(),
                name: "t".into(),
                output: "boom".into(),
                is_error: true,
                duration: None,
            }))),
            // A result whose call was filtered out still gets its tool part.
            Event::tool_result("c3", "u", "ok"),
            Event::error(ErrorKind::Cancelled, "stopped"),
            Event::run_end(RunStatus::Cancelled),
        ],
    );
    assert_protocol_fields(&out);
    assert_eq!(
        types(&out),
        [
            "start",
            "start-step",
            "text-start",
            "text-delta",
            "text-end",
            "tool-input-start",
            "tool-input-available",
            "tool-output-error",
            "tool-input-available",
            "tool-output-available",
            "error",
            "finish-step",
            "abort",
            "finish",
            "[DONE]"
        ]
    );
    assert_eq!(out[0], json!({"type": "start"}));
    assert_eq!(out[3]["delta"], "Whole");
    assert_eq!(
        out[7],
        json!({"type": "tool-output-error", "toolCallId": "c2", "errorText": "boom"})
    );
    assert_eq!(out[8]["input"], Value::Null);
    assert_eq!(out[13]["finishReason"], "other");
}

#[test]
fn finish_reasons_follow_the_status() {
    for (status, reason) in [
        (RunStatus::Completed, "stop"),
        (RunStatus::MaxTurns, "length"),
        (RunStatus::Failed, "error"),
        (RunStatus::TimedOut, "error"),
        (RunStatus::Cancelled, "other"),
        (RunStatus::InputRequired, "stop"),
        (RunStatus::AuthRequired, "stop"),
    ] {
        let out = chunks(&mut Encoder::new(), &[Event::run_end(status)]);
        let finish = out.iter().find(|c| c["type"] == "finish").unwrap();
        assert_eq!(finish["finishReason"], reason, "{status}");
        assert_eq!(out.last().unwrap(), "[DONE]");
        // No step was opened for an empty run.
        assert!(!types(&out).contains(&"start-step"));
    }
}

#[test]
fn ignored_kinds_write_nothing_but_the_start() {
    let mut encoder = Encoder::new();
    let out = chunks(
        &mut encoder,
        &[
            Event::new(EventKind::AgentUpdated { agent: "B".into() }),
            Event::new(EventKind::Handoff {
                from: "A".into(),
                to: "B".into(),
            }),
            Event::new(EventKind::Progress(crate::ProgressSnapshot::default())),
        ],
    );
    assert_eq!(types(&out), ["start"]);
}

#[test]
fn a_nested_run_rides_along_as_transient_data_not_in_the_message() {
    use crate::{ToolCall, ToolResult};
    let nested = |event: Event| event.with_source("Researcher").with_parent("call_1");
    let events = vec![
        Event::new(EventKind::ToolCall(Box::new(ToolCall {
            call_id: "call_1".into(),
            name: "researcher".into(),
            arguments: json!({"input": "find it"}),
        }))),
        nested(Event::text_delta("Found")),
        nested(Event::error(ErrorKind::Provider, "sub-run failed")),
        Event::new(EventKind::ToolResult(Box::new(ToolResult {
            call_id: "call_1".into(),
            name: "researcher".into(),
            output: "Found".into(),
            is_error: false,
            duration: None,
        }))),
        Event::text_delta("Done"),
        Event::message("Done"),
        Event::run_end(RunStatus::Completed),
    ];
    let chunks = chunks(&mut Encoder::new().message_id("m"), &events);
    assert_protocol_fields(&chunks);
    let nested: Vec<&Value> = chunks
        .iter()
        .filter(|c| c["type"] == "data-agentor-nested")
        .collect();
    assert_eq!(nested.len(), 2);
    assert_eq!(nested[0]["transient"], true);
    assert_eq!(nested[0]["data"]["type"], "text_delta");
    assert_eq!(nested[0]["data"]["text"], "Found");
    assert_eq!(nested[0]["data"]["parent"], "call_1");
    assert_eq!(nested[1]["data"]["type"], "error");
    // The sub-run's failure is not the chat's, and its text is not the
    // message's: one text block, the parent's own.
    let types = types(&chunks);
    assert!(!types.contains(&"error"), "{types:?}");
    let deltas: Vec<&Value> = chunks
        .iter()
        .filter(|c| c["type"] == "text-delta")
        .collect();
    assert_eq!(deltas.len(), 1);
    assert_eq!(deltas[0]["delta"], "Done");
    assert_eq!(chunks[chunks.len() - 2]["finishReason"], "stop");
}
