//! Agents as tools and handoffs: nested runs stream live inside the
//! caller's, in order, survive rebuffering and batching, are cancelled with
//! the caller, and fail as tool errors; handoffs switch the agent.

#![allow(clippy::unwrap_used, missing_docs)]

#[path = "../../agentor-providers/tests/support/mod.rs"]
mod support;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use agentor::providers::{Demo, OpenAiChat};
use agentor::source::Script;
use agentor::{
    Agentor, BatchLayer, Boundary, BoxEventStream, ChatRequest, ChatRole, Event, EventKind,
    EventStreamExt, FilterLayer, Kind, Provider, RunStatus, Tool,
};
use futures::StreamExt;
use proptest::prelude::*;
use serde_json::json;
use support::{Reply, Stub};

/// A provider answering each request with what `answer` makes of it.
struct Fake {
    answer: Box<dyn Fn(&ChatRequest) -> Script + Send + Sync>,
}

impl Fake {
    fn new(answer: impl Fn(&ChatRequest) -> Script + Send + Sync + 'static) -> Self {
        Fake {
            answer: Box::new(answer),
        }
    }
}

impl fmt::Debug for Fake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Fake")
    }
}

impl Provider for Fake {
    fn stream(&self, request: ChatRequest) -> BoxEventStream {
        let start = Event::new(EventKind::RunStart {
            agent: request.agent.clone().unwrap_or_default(),
            model: None,
        });
        let script = (self.answer)(&request);
        Box::pin(
            Script::new()
                .then(start)
                .into_stream()
                .chain(script.into_stream()),
        )
    }

    fn name(&self) -> &str {
        "fake"
    }
}

fn has_tool_result(request: &ChatRequest) -> bool {
    request.messages.iter().any(|m| m.role == ChatRole::Tool)
}

/// Calls each of `tools` (with `{"input": "go"}`) in one turn, then answers "done".
fn caller(tools: Vec<String>) -> Fake {
    Fake::new(move |request| {
        if has_tool_result(request) {
            return Script::new()
                .then(Event::text_delta("done"))
                .then(Event::message("done"))
                .end(RunStatus::Completed);
        }
        let mut script = Script::new();
        for (i, tool) in tools.iter().enumerate() {
            script = script.then(Event::tool_call(
                format!("call_{i}"),
                tool.as_str(),
                json!({"input": "go"}),
            ));
        }
        script.end(RunStatus::Completed)
    })
}

/// Answers with `pieces` as text deltas, `gaps[i]` ms before piece `i`.
fn speaker(pieces: Vec<String>, gaps: Vec<u64>) -> Fake {
    Fake::new(move |_| {
        let mut script = Script::new();
        for (piece, gap) in pieces.iter().zip(gaps.iter().chain(std::iter::repeat(&0))) {
            script = script.after(
                Duration::from_millis(*gap),
                Event::text_delta(piece.as_str()),
            );
        }
        script
            .then(Event::message(pieces.concat()))
            .end(RunStatus::Completed)
    })
}

fn agent(name: &str, provider: Fake) -> Agentor {
    Agentor::builder().name(name).provider(provider).build()
}

async fn run(agent: &Agentor, input: &str) -> Vec<Event> {
    agent.stream_chat(input).map(Result::unwrap).collect().await
}

fn texts(events: &[Event], parent: Option<&str>) -> Vec<String> {
    events
        .iter()
        .filter(|e| e.kind() == Kind::TextDelta && e.origin.parent.as_deref() == parent)
        .map(|e| e.text().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn nested_deltas_come_between_the_call_and_its_result_and_the_answer_is_the_result() {
    let words: Vec<String> = ["Paris ", "is ", "sunny"].map(String::from).to_vec();
    let researcher = agent("Researcher", speaker(words.clone(), vec![]));
    let lead = Agentor::builder()
        .name("Lead")
        .provider(caller(vec!["researcher".into()]))
        .tool(Tool::agent(researcher, "Looks things up."))
        .build();
    let events = run(&lead, "weather?").await;

    let call = events
        .iter()
        .position(|e| e.kind() == Kind::ToolCall)
        .unwrap();
    let result = events
        .iter()
        .position(|e| e.kind() == Kind::ToolResult)
        .unwrap();
    let nested: Vec<usize> = (0..events.len())
        .filter(|&i| events[i].origin.parent.is_some())
        .collect();
    assert_eq!(nested.len(), 4, "three deltas and the message");
    assert!(
        nested.iter().all(|&i| call < i && i < result),
        "{events:#?}"
    );
    for &i in &nested {
        assert_eq!(events[i].origin.source.as_deref(), Some("Researcher"));
        assert_eq!(events[i].origin.parent.as_deref(), Some("call_0"));
        assert_eq!(
            events[i].origin.run_id, events[0].origin.run_id,
            "one run, one id"
        );
    }
    assert!(!events
        .iter()
        .any(|e| e.origin.parent.is_some() && matches!(e.kind(), Kind::RunStart | Kind::RunEnd)));
    assert_eq!(texts(&events, Some("call_0")), words);
    let EventKind::ToolResult(result) = &events[result].kind else {
        unreachable!()
    };
    assert_eq!(
        (result.output.as_str(), result.is_error),
        ("Paris is sunny", false)
    );
    assert!(events.windows(2).all(|w| w[0].seq + 1 == w[1].seq));
    let last = events.last().unwrap();
    assert_eq!(
        (last.run_status(), last.origin.source.as_deref()),
        (Some(RunStatus::Completed), Some("Lead"))
    );
    assert_eq!(
        lead.chat("weather?").await.unwrap(),
        "done",
        "a sub-run's message is not the answer"
    );
}

#[tokio::test]
async fn nesting_works_at_any_depth_and_filters_pick_levels() {
    let leaf = agent("Leaf", speaker(vec!["deep".into()], vec![]));
    let middle = Agentor::builder()
        .name("Middle")
        .provider(caller(vec!["leaf".into()]))
        .tool(Tool::agent(leaf, "The leaf."))
        .build();
    let top = Agentor::builder()
        .name("Top")
        .provider(caller(vec!["middle".into()]))
        .tool(Tool::agent(middle, "The middle."))
        .build();
    let events = run(&top, "go").await;
    let leaf_delta = events
        .iter()
        .find(|e| e.text() == Some("deep") && e.kind() == Kind::TextDelta)
        .unwrap();
    assert_eq!(leaf_delta.origin.parent.as_deref(), Some("call_0/call_0"));
    assert_eq!(
        (leaf_delta.depth(), leaf_delta.origin.source.as_deref()),
        (2, Some("Leaf"))
    );
    let middle_result = events
        .iter()
        .find(|e| e.kind() == Kind::ToolResult && e.origin.parent.as_deref() == Some("call_0"))
        .unwrap();
    assert_eq!(middle_result.origin.source.as_deref(), Some("Middle"));
    let EventKind::ToolResult(top_result) = &events
        .iter()
        .rev()
        .find(|e| e.kind() == Kind::ToolResult)
        .unwrap()
        .kind
    else {
        unreachable!()
    };
    assert_eq!(top_result.output, "done", "the middle agent's final answer");

    let only_top: Vec<_> = events
        .iter()
        .filter(|e| FilterLayer::new().max_depth(0).matches(e))
        .collect();
    assert!(only_top
        .iter()
        .all(|e| e.origin.source.as_deref() == Some("Top")));
    let filtered: Vec<Event> = futures::stream::iter(events.clone().into_iter().map(Ok))
        .filter_events(FilterLayer::new().max_depth(1))
        .map(Result::unwrap)
        .collect()
        .await;
    assert!(filtered.iter().all(|e| e.depth() <= 1) && filtered.iter().any(|e| e.depth() == 1));
    assert!(!filtered
        .iter()
        .any(|e| e.origin.source.as_deref() == Some("Leaf")));
}

#[tokio::test]
async fn a_failing_sub_agent_is_a_tool_error_not_a_failed_run() {
    let broken = agent(
        "Broken",
        Fake::new(|_| {
            Script::new()
                .fail(
                    Duration::ZERO,
                    agentor::Error::provider("503 Service Unavailable"),
                )
                .end(RunStatus::Failed)
        }),
    );
    let lead = Agentor::builder()
        .name("Lead")
        .provider(caller(vec!["broken".into()]))
        .tool(Tool::agent(broken, "Fails."))
        .build();
    let events = run(&lead, "go").await;
    let nested_error = events.iter().find(|e| e.kind() == Kind::Error).unwrap();
    assert_eq!(nested_error.origin.parent.as_deref(), Some("call_0"));
    assert_eq!(nested_error.origin.source.as_deref(), Some("Broken"));
    let EventKind::ToolResult(result) = &events
        .iter()
        .find(|e| e.kind() == Kind::ToolResult)
        .unwrap()
        .kind
    else {
        unreachable!()
    };
    assert!(result.is_error);
    assert!(
        result.output.contains("failed") && result.output.contains("503"),
        "{}",
        result.output
    );
    assert_eq!(
        events.last().unwrap().run_status(),
        Some(RunStatus::Completed)
    );
    assert_eq!(lead.chat("go").await.unwrap(), "done");
}

#[tokio::test]
async fn dropping_the_caller_mid_nested_run_drops_the_sub_runs_model_request() {
    // The sub-agent's model streams one delta, then goes silent.
    let chunk = r#"data: {"id":"c","choices":[{"index":0,"delta":{"content":"Partial "}}]}"#;
    let stub = Stub::start(vec![Reply::sse(format!("{chunk}\n\n")).stalling()]).await;
    let sub = Agentor::builder()
        .name("Slow")
        .provider(OpenAiChat::new(stub.config()))
        .build();
    let lead = Agentor::builder()
        .name("Lead")
        .provider(caller(vec!["slow".into()]))
        .tool(Tool::agent(sub, "Slow."))
        .build();
    let mut events = lead.stream_chat("go");
    // The nested delta arrives live, while the sub-run is still running.
    let nested = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let event = events.next().await.unwrap().unwrap();
            if event.origin.parent.is_some() && event.kind() == Kind::TextDelta {
                return event;
            }
            assert_ne!(
                event.kind(),
                Kind::ToolResult,
                "the result came before the sub-run streamed"
            );
        }
    })
    .await
    .unwrap();
    assert_eq!(
        (nested.text(), nested.origin.source.as_deref()),
        (Some("Partial "), Some("Slow"))
    );
    assert_eq!(stub.received().len(), 1);
    drop(events);
    tokio::time::timeout(Duration::from_secs(5), stub.body_dropped())
        .await
        .expect("the sub-run's request was not dropped");
}

#[tokio::test]
async fn nested_events_survive_rebuffer_and_batch_with_their_envelope() {
    // Two sub-agents of the same name run at once: their texts must not mix.
    let words = |tag: &str| (0..12).map(|i| format!("{tag}{i} ")).collect::<Vec<_>>();
    let (a, b) = (words("a"), words("b"));
    // Each sub-run streams its text in two-character deltas, mid-word.
    let twin = |words: Vec<String>| {
        let text: Vec<char> = words.concat().chars().collect();
        let pieces: Vec<String> = text.chunks(2).map(|c| c.iter().collect()).collect();
        let gaps = vec![1; pieces.len()];
        agent("Twin", speaker(pieces, gaps))
    };
    let lead = Agentor::builder()
        .name("Lead")
        .provider(caller(vec!["twin_a".into(), "twin_b".into()]))
        .tool(twin(a.clone()).as_tool("twin_a", "A."))
        .tool(twin(b.clone()).as_tool("twin_b", "B."))
        .build();
    for coalesce in [false, true] {
        let events: Vec<Event> = lead
            .stream_chat("go")
            .rebuffer(Boundary::Words)
            .batch(BatchLayer::new().max_count(4).coalesce(coalesce))
            .map(Result::unwrap)
            .collect()
            .await;
        let (got_a, got_b) = (
            texts(&events, Some("call_0")),
            texts(&events, Some("call_1")),
        );
        assert_eq!(got_a.concat(), a.concat());
        assert_eq!(got_b.concat(), b.concat());
        if !coalesce {
            // Re-cut at words: whole words again, not the two-character pieces.
            assert_eq!(got_a, a);
        }
        assert!(events
            .iter()
            .filter(|e| e.origin.parent.is_some())
            .all(|e| e.origin.source.as_deref() == Some("Twin")));
        assert_eq!(
            events.last().unwrap().run_status(),
            Some(RunStatus::Completed)
        );
    }
}

#[tokio::test]
async fn a_handoff_switches_the_agent_and_reads_as_agent_updated_in_compat_json() {
    let billing = Agentor::builder()
        .name("Billing")
        .instructions("You handle invoices.")
        .provider(Demo::instant())
        .build();
    let triage = Agentor::builder()
        .name("Triage")
        .instructions("Route the user.")
        .provider(Demo::instant())
        .handoff(billing)
        .build();
    let events = run(&triage, "My invoice is wrong, billing please").await;
    let handoff = events
        .iter()
        .position(|e| e.kind() == Kind::Handoff)
        .unwrap();
    assert_eq!(
        events[handoff].kind,
        EventKind::Handoff {
            from: "Triage".into(),
            to: "Billing".into()
        }
    );
    assert_eq!(events[handoff].origin.source.as_deref(), Some("Triage"));
    assert_eq!(
        events[handoff + 1].kind,
        EventKind::AgentUpdated {
            agent: "Billing".into()
        }
    );
    let EventKind::ToolResult(transfer) = &events[handoff - 1].kind else {
        panic!("{:?}", events[handoff - 1])
    };
    assert_eq!(
        (transfer.name.as_str(), transfer.output.as_str()),
        ("transfer_to_billing", r#"{"assistant":"Billing"}"#)
    );
    assert!(events[..handoff]
        .iter()
        .all(|e| e.origin.source.as_deref() == Some("Triage")));
    assert!(events[handoff + 1..]
        .iter()
        .all(|e| e.origin.source.as_deref() == Some("Billing")));
    assert!(events[handoff + 1..]
        .iter()
        .any(|e| e.kind() == Kind::Message));
    assert_eq!(
        events.last().unwrap().run_status(),
        Some(RunStatus::Completed)
    );

    let lines: Vec<String> = triage
        .stream_chat("billing please")
        .serialized()
        .collect()
        .await;
    let updated: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("agent_updated_stream_event"))
        .collect();
    // One agent switch per handoff, as Python's SDK streams it.
    assert_eq!(updated.len(), 1, "{lines:?}");
    for line in updated {
        assert_eq!(
            line,
            r#"{"type":"agent_updated_stream_event","message":"Billing","chunk":null,"tool_action":null,"reasoning":null}"#
        );
    }
}

#[tokio::test]
async fn the_target_sees_its_own_instructions_and_handoff_loops_end_at_max_turns() {
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    // A "model" that always hands off to whoever it is offered.
    let pinger = move || {
        let log = log.clone();
        Fake::new(move |request| {
            log.lock().unwrap().push((
                request.agent.clone().unwrap().to_string(),
                request.messages[0].content.to_string(),
            ));
            let tool = request
                .tools
                .iter()
                .find(|t| t.name.starts_with("transfer_to_"))
                .unwrap();
            Script::new()
                .then(Event::tool_call(
                    format!("c{}", request.messages.len()),
                    tool.name.clone(),
                    json!({}),
                ))
                .end(RunStatus::Completed)
        })
    };
    let b = Agentor::builder()
        .name("B")
        .instructions("I am B.")
        .provider(pinger())
        .handoff(
            Agentor::builder()
                .name("A")
                .instructions("I am A again.")
                .provider(pinger())
                .handoff(Agentor::builder().name("C").provider(pinger()).build())
                .build(),
        )
        .build();
    let a = Agentor::builder()
        .name("A")
        .instructions("I am A.")
        .provider(pinger())
        .handoff(b)
        .max_turns(3)
        .build();
    let events = run(&a, "ping").await;
    // Three turns, each a handoff; the budget is the first agent's.
    assert_eq!(
        events.iter().filter(|e| e.kind() == Kind::Handoff).count(),
        3
    );
    let last = events.last().unwrap();
    assert_eq!(last.run_status(), Some(RunStatus::MaxTurns));
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        [("A", "I am A."), ("B", "I am B."), ("A", "I am A again.")]
            .map(|(a, i)| (a.to_owned(), i.to_owned()))
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// However the sub-runs' deltas are paced, each sub-run's events reach
    /// the caller's stream in their own order, inside its call's bracket.
    #[test]
    fn merged_nested_streams_keep_each_sources_order(
        gaps in proptest::collection::vec(proptest::collection::vec(0u64..4, 0..10), 1..4)
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap();
        rt.block_on(async {
            let names: Vec<String> = (0..gaps.len()).map(|i| format!("sub_{i}")).collect();
            let mut builder = Agentor::builder().name("Lead").provider(caller(names.clone()));
            for (i, gaps) in gaps.iter().enumerate() {
                let pieces: Vec<String> = (0..gaps.len()).map(|n| format!("{i}.{n} ")).collect();
                let sub = agent(&format!("Sub{i}"), speaker(pieces, gaps.clone()));
                builder = builder.tool(sub.as_tool(names[i].clone(), "A sub-agent."));
            }
            let events = run(&builder.build(), "go").await;
            for (i, gaps) in gaps.iter().enumerate() {
                let parent = format!("call_{i}");
                let expected: Vec<String> = (0..gaps.len()).map(|n| format!("{i}.{n} ")).collect();
                prop_assert_eq!(texts(&events, Some(&parent)), expected);
                let mine: Vec<usize> = (0..events.len()).filter(|&k| events[k].origin.parent.as_deref() == Some(parent.as_str())).collect();
                let result = events.iter().position(|e| matches!(&e.kind, EventKind::ToolResult(r) if r.call_id == parent.as_str())).unwrap();
                prop_assert!(mine.iter().all(|&k| k < result));
                let source = format!("Sub{}", i);
                prop_assert!(mine.iter().all(|&k| events[k].origin.source.as_deref() == Some(source.as_str())));
            }
            prop_assert!(events.windows(2).all(|w| w[0].seq < w[1].seq));
            prop_assert_eq!(events.last().unwrap().run_status(), Some(RunStatus::Completed));
            Ok(())
        })?;
    }
}
