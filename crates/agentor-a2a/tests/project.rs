//! The projection of agentor runs onto A2A tasks, event by event.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use agentor_a2a::{Message, Part, PartContent, Role, StreamResponse, TaskProjector, TaskState};
use agentor_core::{Error, Event, EventKind, RunStatus, ToolCall, ToolResult};
use serde_json::json;

fn projector() -> TaskProjector {
    TaskProjector::new(
        "t1",
        "c1",
        Message::new("m1", Role::User, vec![Part::text("hi")]),
    )
}

fn run(items: Vec<Result<Event, Error>>) -> (TaskProjector, Vec<StreamResponse>) {
    let mut projector = projector();
    let mut out = projector.start();
    for item in items {
        out.extend(projector.on_item(item));
    }
    out.extend(projector.on_end_of_stream());
    (projector, out)
}

fn final_status(events: &[StreamResponse]) -> &agentor_a2a::TaskStatusUpdate {
    match events.last().unwrap() {
        StreamResponse::StatusUpdate(update) => {
            assert!(update.is_final);
            update
        }
        other => panic!("ends with {other:?}"),
    }
}

fn status_text(update: &agentor_a2a::TaskStatusUpdate) -> String {
    update.status.message.as_ref().unwrap().text()
}

#[test]
fn deltas_become_appended_chunks_closed_by_the_message() {
    let (projector, events) = run(vec![
        Ok(Event::text_delta("Hel")),
        Ok(Event::text_delta("lo")),
        Ok(Event::message("Hello")),
        Ok(Event::run_end(RunStatus::Completed)),
    ]);
    let chunks: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            StreamResponse::ArtifactUpdate(u) => Some((u.artifact.text(), u.append, u.last_chunk)),
            _ => None,
        })
        .collect();
    assert_eq!(
        chunks,
        [
            ("Hel".into(), false, false),
            ("lo".into(), true, false),
            (String::new(), true, true)
        ]
    );
    let task = projector.task();
    assert_eq!(task.status.state, TaskState::Completed);
    assert_eq!(task.artifacts.len(), 1);
    assert_eq!(
        task.artifacts[0].parts.len(),
        1,
        "one text part holding the whole answer"
    );
    assert_eq!(task.artifacts[0].text(), "Hello");
    assert_eq!(task.history.len(), 2);
    assert_eq!(task.history[1].role, Role::Agent);
    assert_eq!(task.history[1].text(), "Hello");
    assert_eq!(task.history[0].task_id.as_deref(), Some("t1"));
    assert!(final_status(&events).status.message.is_none());
}

#[test]
fn a_message_without_deltas_is_one_whole_chunk_and_each_message_its_own_artifact() {
    let (projector, events) = run(vec![
        Ok(Event::message("First")),
        Ok(Event::text_delta("Sec")),
        Ok(Event::message("Sec")),
        Ok(Event::run_end(RunStatus::Completed)),
    ]);
    let first = events
        .iter()
        .find_map(|e| match e {
            StreamResponse::ArtifactUpdate(u) => Some(u),
            _ => None,
        })
        .unwrap();
    assert!(!first.append && first.last_chunk);
    assert_eq!(first.artifact.text(), "First");
    let ids: Vec<_> = projector
        .task()
        .artifacts
        .iter()
        .map(|a| a.text())
        .collect();
    assert_eq!(ids, ["First", "Sec"]);
}

#[test]
fn tool_events_are_working_statuses_with_data_parts() {
    let call = ToolCall {
        call_id: "call-1".into(),
        name: "get_weather".into(),
        arguments: json!({"city": "Paris"}),
    };
    let result = ToolResult {
        call_id: "call-1".into(),
        name: "get_weather".into(),
        output: "sunny".into(),
        is_error: false,
        duration: Some(Duration::from_millis(12)),
    };
    let (projector, events) = run(vec![
        Ok(Event::text_delta("Let me check. ")),
        Ok(Event::new(EventKind::ToolCall(Box::new(call)))),
        Ok(Event::new(EventKind::ToolResult(Box::new(result)))),
        Ok(Event::new(EventKind::ReasoningDelta {
            text: "hmm".into(),
            message_id: None,
        })),
        Ok(Event::text_delta("Sunny.")),
        Ok(Event::message("Sunny.")),
        Ok(Event::run_end(RunStatus::Completed)),
    ]);
    let data: Vec<_> =
        events
            .iter()
            .filter_map(|e| match e {
                StreamResponse::StatusUpdate(u) => u.status.message.as_ref().and_then(|m| match &m
                    .parts[0]
                    .content
                {
                    PartContent::Data(d) => {
                        assert_eq!(u.status.state, TaskState::Working);
                        Some(d.clone())
                    }
                    _ => None,
                }),
                _ => None,
            })
            .collect();
    assert_eq!(
        data,
        [
            json!({"type": "tool_call", "callId": "call-1", "name": "get_weather", "arguments": {"city": "Paris"}}),
            json!({"type": "tool_result", "callId": "call-1", "name": "get_weather", "output": "sunny", "isError": false, "durationMs": 12}),
        ]
    );
    // The text before the call is closed as its own artifact; no tool text, no reasoning in answers.
    let texts: Vec<_> = projector
        .task()
        .artifacts
        .iter()
        .map(|a| a.text())
        .collect();
    assert_eq!(texts, ["Let me check. ", "Sunny."]);
}

#[test]
fn failures_end_failed_with_an_explanation() {
    // An error event, then the run end.
    let (_, events) = run(vec![
        Ok(Event::new(EventKind::Error {
            kind: agentor_core::ErrorKind::Provider,
            message: "rate limited".into(),
        })),
        Ok(Event::run_end(RunStatus::Failed)),
    ]);
    let last = final_status(&events);
    assert_eq!(last.status.state, TaskState::Failed);
    assert!(status_text(last).contains("rate limited"));

    // An `Err` item ends the task at once, open text closed first.
    let (projector, events) = run(vec![
        Ok(Event::text_delta("par")),
        Err(Error::provider("boom")),
    ]);
    let last = final_status(&events);
    assert!(status_text(last).contains("boom"));
    assert!(matches!(&events[events.len() - 2], StreamResponse::ArtifactUpdate(u) if u.last_chunk));
    assert_eq!(
        projector.task().history.last().unwrap().text(),
        status_text(last)
    );

    // The stream ending without a run end.
    let (_, events) = run(vec![Ok(Event::text_delta("par"))]);
    let last = final_status(&events);
    assert_eq!(last.status.state, TaskState::Failed);
    assert!(status_text(last).contains("without a run end"));

    // Timed out.
    let (_, events) = run(vec![Ok(Event::run_end(RunStatus::TimedOut))]);
    assert!(status_text(final_status(&events)).contains("timed out"));
}

#[test]
fn max_turns_is_failed_and_cancelled_is_canceled() {
    let (_, events) = run(vec![Ok(Event::run_end(RunStatus::MaxTurns))]);
    let last = final_status(&events);
    assert_eq!(last.status.state, TaskState::Failed);
    assert!(status_text(last).contains("max_turns"));
    assert_eq!(last.metadata.as_ref().unwrap()["runStatus"], "max_turns");

    let (_, events) = run(vec![Ok(Event::run_end(RunStatus::Cancelled))]);
    assert_eq!(final_status(&events).status.state, TaskState::Canceled);

    let mut projector = projector();
    projector.start();
    projector.on_item(Ok(Event::text_delta("x")));
    let events = projector.cancel("the server is shutting down");
    let last = final_status(&events);
    assert_eq!(last.status.state, TaskState::Canceled);
    assert_eq!(status_text(last), "the server is shutting down");
    // After the end, nothing.
    assert!(projector.on_item(Ok(Event::text_delta("late"))).is_empty());
    assert!(projector.on_end_of_stream().is_empty());
    assert!(projector.cancel("again").is_empty());
}

#[test]
fn usage_is_summed_into_the_final_metadata() {
    let usage = |i, o| {
        Ok(Event::new(EventKind::Usage {
            input_tokens: i,
            output_tokens: o,
            total_tokens: i + o,
            cache_read_input_tokens: 0,
            cache_creation_input_tokens: 0,
        }))
    };
    let (projector, events) = run(vec![
        usage(10, 2),
        usage(5, 3),
        Ok(Event::run_end(RunStatus::Completed)),
    ]);
    let metadata = final_status(&events).metadata.clone().unwrap();
    assert_eq!(
        metadata["usage"],
        json!({"inputTokens": 15, "outputTokens": 5, "totalTokens": 20})
    );
    assert_eq!(
        projector.task().metadata.as_ref().unwrap()["usage"]["totalTokens"],
        20
    );
}

#[test]
fn usage_that_would_overflow_saturates_instead_of_panicking() {
    // A provider's counts are not ours to trust: u64 addition overflowing
    // panicked (debug) inside the store's publish, leaving the task running.
    let huge = || {
        Ok(Event::new(EventKind::Usage {
            input_tokens: u64::MAX,
            output_tokens: 1,
            total_tokens: u64::MAX,
            cache_read_input_tokens: 0,
            cache_creation_input_tokens: 0,
        }))
    };
    let (_, events) = run(vec![
        huge(),
        huge(),
        Ok(Event::run_end(RunStatus::Completed)),
    ]);
    let update = final_status(&events);
    assert_eq!(update.status.state, TaskState::Completed);
    let usage = &update.metadata.as_ref().unwrap()["usage"];
    assert_eq!(usage["inputTokens"], u64::MAX);
    assert_eq!(usage["outputTokens"], 2);
    assert_eq!(usage["totalTokens"], u64::MAX);
}

#[test]
fn a_sub_agents_events_stay_out_of_the_answer_and_do_not_fail_the_task() {
    let nested = |event: Event| Ok(event.with_source("Researcher").with_parent("call_1"));
    let (projector, events) = run(vec![
        Ok(Event::tool_call(
            "call_1",
            "researcher",
            json!({"input": "x"}),
        )),
        nested(Event::text_delta("sub text")),
        nested(Event::message("sub text")),
        nested(Event::error(
            agentor_core::ErrorKind::Provider,
            "sub failed",
        )),
        Ok(Event::new(EventKind::ToolResult(Box::new(ToolResult {
            call_id: "call_1".into(),
            name: "researcher".into(),
            output: "found".into(),
            is_error: false,
            duration: None,
        })))),
        Ok(Event::text_delta("Answer")),
        Ok(Event::message("Answer")),
        Ok(Event::run_end(RunStatus::Completed)),
    ]);
    let artifacts: Vec<String> = projector
        .task()
        .artifacts
        .iter()
        .map(|a| a.text())
        .collect();
    assert_eq!(artifacts, ["Answer"]);
    assert_eq!(final_status(&events).status.state, TaskState::Completed);
}
