#![allow(clippy::unwrap_used)]

use bytes::BytesMut;
use serde_json::{json, Value};

use super::*;
use crate::{Error, Event, RunStatus, ToolResult};

fn events_of(encoder: &mut Encoder, events: &[Event]) -> Vec<Value> {
    let mut dst = BytesMut::new();
    for event in events {
        encoder.encode(event, &mut dst);
    }
    std::str::from_utf8(&dst)
        .unwrap()
        .split_terminator("\n\n")
        .map(|frame| serde_json::from_str(frame.strip_prefix("data: ").unwrap()).unwrap())
        .collect()
}

fn types(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["type"].as_str().unwrap()).collect()
}

/// The client's sequence rules (`verifyEvents` of `@ag-ui/client`), for the
/// events we write: what is started is open until ended, content needs an
/// open start, nothing is open at `RUN_FINISHED`, nothing follows the end.
fn verify(events: &[Value]) {
    use std::collections::HashSet;
    let (mut text, mut tools, mut reasoning, mut spans, mut steps) = (
        HashSet::new(),
        HashSet::new(),
        HashSet::new(),
        HashSet::new(),
        HashSet::new(),
    );
    assert_eq!(events[0]["type"], "RUN_STARTED");
    let mut ended = false;
    for event in events {
        assert!(!ended, "{event} after the end");
        let id = |key: &str| event[key].as_str().unwrap().to_owned();
        match event["type"].as_str().unwrap() {
            "TEXT_MESSAGE_START" => assert!(text.insert(id("messageId"))),
            "TEXT_MESSAGE_CONTENT" => assert!(text.contains(&id("messageId"))),
            "TEXT_MESSAGE_END" => assert!(text.remove(&id("messageId"))),
            "TOOL_CALL_START" => assert!(tools.insert(id("toolCallId"))),
            "TOOL_CALL_ARGS" => assert!(tools.contains(&id("toolCallId"))),
            "TOOL_CALL_END" => assert!(tools.remove(&id("toolCallId"))),
            "REASONING_START" => assert!(spans.insert(id("messageId"))),
            "REASONING_END" => assert!(spans.remove(&id("messageId"))),
            "REASONING_MESSAGE_START" => assert!(reasoning.insert(id("messageId"))),
            "REASONING_MESSAGE_CONTENT" => assert!(reasoning.contains(&id("messageId"))),
            "REASONING_MESSAGE_END" => assert!(reasoning.remove(&id("messageId"))),
            "STEP_STARTED" => assert!(steps.insert(id("stepName"))),
            "STEP_FINISHED" => assert!(steps.remove(&id("stepName"))),
            "RUN_FINISHED" => {
                assert!(text.is_empty() && tools.is_empty() && reasoning.is_empty());
                assert!(spans.is_empty() && steps.is_empty());
                ended = true;
            }
            "RUN_ERROR" => ended = true,
            "RUN_STARTED" | "TOOL_CALL_RESULT" | "CUSTOM" => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert!(ended);
}

#[test]
fn every_kind_maps_as_documented_in_a_verified_order() {
    let run = [
        Event::new(EventKind::RunStart {
            agent: "A".into(),
            model: None,
        }),
        Event::reasoning_delta("Hmm"),
        Event::new(EventKind::ReasoningSummary { text: "Hmm".into() }),
        Event::text_delta("Checking"),
        Event::tool_call_delta("c1", Some("get_weather"), ""),
        Event::tool_call_delta("c1", None, "{\"city\":\"Paris\"}"),
        Event::tool_call("c1", "get_weather", json!({"city": "Paris"})),
        Event::tool_result("c1", "get_weather", "18°C"),
        Event::new(EventKind::Usage {
            input_tokens: 3,
            output_tokens: 4,
            total_tokens: 7,
            cache_read_input_tokens: 0,
            cache_creation_input_tokens: 0,
        }),
        Event::text_delta("Sunny"),
        Event::message("Sunny"),
        Event::run_end(RunStatus::Completed),
    ];
    let out = events_of(&mut Encoder::new("th", "r\"1"), &run);
    verify(&out);
    assert_eq!(
        types(&out),
        [
            "RUN_STARTED",
            "STEP_STARTED",
            "REASONING_START",
            "REASONING_MESSAGE_START",
            "REASONING_MESSAGE_CONTENT",
            "REASONING_MESSAGE_END",
            "REASONING_END",
            "TEXT_MESSAGE_START",
            "TEXT_MESSAGE_CONTENT",
            "TEXT_MESSAGE_END",
            "TOOL_CALL_START",
            "TOOL_CALL_ARGS",
            "TOOL_CALL_END",
            "TOOL_CALL_RESULT",
            "STEP_FINISHED",
            "STEP_STARTED",
            "TEXT_MESSAGE_START",
            "TEXT_MESSAGE_CONTENT",
            "TEXT_MESSAGE_END",
            "STEP_FINISHED",
            "RUN_FINISHED",
        ]
    );
    assert_eq!(
        out[0],
        json!({"type": "RUN_STARTED", "threadId": "th", "runId": "r\"1"})
    );
    assert_eq!(
        out[1],
        json!({"type": "STEP_STARTED", "stepName": "turn-1"})
    );
    assert_eq!(out[3]["role"], "reasoning");
    assert_eq!(out[7]["messageId"], "r\"1-m1");
    assert_eq!(
        out[10],
        json!({"type": "TOOL_CALL_START", "toolCallId": "c1", "toolCallName": "get_weather", "parentMessageId": "r\"1-m1"})
    );
    assert_eq!(out[11]["delta"], "{\"city\":\"Paris\"}");
    assert_eq!(
        out[13],
        json!({"type": "TOOL_CALL_RESULT", "messageId": "r\"1-t2", "toolCallId": "c1", "content": "18°C", "role": "tool"})
    );
    assert_eq!(out[15]["stepName"], "turn-2");
    assert_eq!(
        out[20],
        json!({"type": "RUN_FINISHED", "threadId": "th", "runId": "r\"1", "outcome": {"type": "success"},
               "usage": [{"inputTokens": 3, "outputTokens": 4, "totalTokens": 7}]})
    );
}

#[test]
fn a_call_without_result_is_pending_for_the_frontend() {
    let out = events_of(
        &mut Encoder::new("th", "r1"),
        &[
            // No deltas: the call arrives whole.
            Event::tool_call("c9", "confirm", json!({"q": "ok?"})),
            Event::run_end(RunStatus::Completed),
        ],
    );
    verify(&out);
    assert_eq!(
        types(&out),
        [
            "RUN_STARTED",
            "STEP_STARTED",
            "TOOL_CALL_START",
            "TOOL_CALL_ARGS",
            "TOOL_CALL_END",
            "STEP_FINISHED",
            "RUN_FINISHED"
        ]
    );
    assert_eq!(out[3]["delta"], "{\"q\":\"ok?\"}");
    assert!(out[2].get("parentMessageId").is_none());
    assert_eq!(
        out[6]["outcome"],
        json!({"type": "success", "pendingToolCallIds": ["c9"]})
    );
}

#[test]
fn a_failure_ends_open_messages_then_run_error_with_the_message() {
    let out = events_of(
        &mut Encoder::new("th", "r1"),
        &[
            Event::text_delta("Half"),
            Event::tool_call_delta("c1", Some("t"), "{\"a"),
            Error::provider("upstream 500").to_event(),
            Event::run_end(RunStatus::Failed),
            Event::text_delta("late"),
        ],
    );
    verify(&out);
    assert_eq!(
        types(&out),
        [
            "RUN_STARTED",
            "STEP_STARTED",
            "TEXT_MESSAGE_START",
            "TEXT_MESSAGE_CONTENT",
            "TEXT_MESSAGE_END",
            "TOOL_CALL_START",
            "TOOL_CALL_ARGS",
            "TOOL_CALL_END",
            "STEP_FINISHED",
            "RUN_ERROR"
        ]
    );
    assert_eq!(
        out[9],
        json!({"type": "RUN_ERROR", "message": "upstream 500", "code": "failed"})
    );
}

#[test]
fn cancelled_and_empty_runs() {
    let out = events_of(
        &mut Encoder::new("th", "r1"),
        &[Event::run_end(RunStatus::Cancelled)],
    );
    verify(&out);
    assert_eq!(out[1]["outcome"], json!({"type": "cancelled"}));
    let out = events_of(
        &mut Encoder::new("th", "r1"),
        &[Event::run_end(RunStatus::TimedOut)],
    );
    verify(&out);
    assert_eq!(out[1]["message"], "the run ended: timed_out");
    let mut encoder = Encoder::new("th", "r1");
    let out = events_of(
        &mut encoder,
        &[
            Event::new(EventKind::ToolResult(Box::new(ToolResult {
                call_id: "x".into(),
                name: "t".into(),
                output: "o".into(),
                is_error: true,
                duration: None,
            }))),
            Event::run_end(RunStatus::MaxTurns),
        ],
    );
    verify(&out);
    assert_eq!(
        types(&out),
        [
            "RUN_STARTED",
            "STEP_STARTED",
            "TOOL_CALL_RESULT",
            "STEP_FINISHED",
            "RUN_FINISHED"
        ]
    );
    assert!(encoder.is_finished());
}

#[test]
fn a_nested_run_rides_along_as_custom_events() {
    let nested = |event: Event| event.with_source("Researcher").with_parent("call_1");
    let events = vec![
        Event::tool_call("call_1", "researcher", json!({"input": "x"})),
        nested(Event::text_delta("Found")),
        nested(Event::tool_call("call_9", "search", json!({}))),
        Event::tool_result("call_1", "researcher", "Found"),
        Event::message("Done"),
        Event::run_end(RunStatus::Completed),
    ];
    let out = events_of(&mut Encoder::new("th", "r1"), &events);
    verify(&out);
    let custom: Vec<&Value> = out.iter().filter(|e| e["type"] == "CUSTOM").collect();
    assert_eq!(custom.len(), 2);
    assert_eq!(custom[0]["name"], "agentor.nested");
    assert_eq!(custom[0]["value"]["text"], "Found");
    assert_eq!(custom[1]["value"]["call_id"], "call_9");
    // The nested call is not one the frontend must run.
    let finished = out.iter().find(|e| e["type"] == "RUN_FINISHED").unwrap();
    let pending = finished.get("pendingToolCallIds");
    assert!(
        pending.is_none_or(|p| !p.to_string().contains("call_9")),
        "{finished}"
    );
    let contents: Vec<&Value> = out
        .iter()
        .filter(|e| e["type"] == "TEXT_MESSAGE_CONTENT")
        .collect();
    assert_eq!(contents.len(), 1);
    assert_eq!(contents[0]["delta"], "Done");
}

#[test]
fn a_run_asking_the_user_finishes_with_an_interrupt_carrying_the_question() {
    for (status, reason) in [
        (RunStatus::InputRequired, "input_required"),
        (RunStatus::AuthRequired, "auth_required"),
    ] {
        let out = events_of(
            &mut Encoder::new("th", "r1"),
            &[Event::message("Which city?"), Event::run_end(status)],
        );
        verify(&out);
        let finished = out.last().unwrap();
        assert_eq!(finished["type"], "RUN_FINISHED");
        assert_eq!(
            finished["outcome"],
            json!({"type": "interrupt", "interrupts": [
                {"id": "r1-i0", "reason": reason, "message": "Which city?"}
            ]})
        );
    }
}
