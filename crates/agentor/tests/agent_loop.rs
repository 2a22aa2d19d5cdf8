//! The agent loop against a scripted provider: tools, turns, failures, cancellation.

#![allow(clippy::unwrap_used, missing_docs)]

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use agentor::{
    Agentor, BoxEventStream, ChatMessage, ChatRequest, ChatRole, Error, Event, EventKind, Kind,
    Provider, RunStatus, Tool, ToolError,
};
use futures::StreamExt;
use serde::Deserialize;
use serde_json::json;

/// Plays one scripted turn per call and keeps every request it was given.
#[derive(Debug, Default)]
struct Scripted {
    turns: Mutex<Vec<Vec<Result<Event, Error>>>>,
    requests: Mutex<Vec<ChatRequest>>,
}

impl Scripted {
    fn new(turns: Vec<Vec<Result<Event, Error>>>) -> Arc<Self> {
        let mut turns = turns;
        turns.reverse();
        Arc::new(Scripted {
            turns: Mutex::new(turns),
            requests: Mutex::default(),
        })
    }
}

impl Provider for Scripted {
    fn stream(&self, request: ChatRequest) -> BoxEventStream {
        self.requests.lock().unwrap().push(request);
        let turn = self.turns.lock().unwrap().pop().unwrap_or_default();
        futures::stream::iter(turn).boxed()
    }

    fn name(&self) -> &str {
        "scripted"
    }
}

fn text_turn(text: &str) -> Vec<Result<Event, Error>> {
    let mut turn: Vec<_> = text
        .split_inclusive(' ')
        .map(|w| Ok(Event::text_delta(w)))
        .collect();
    turn.push(Ok(Event::message(text)));
    turn.push(Ok(Event::run_end(RunStatus::Completed)));
    turn
}

fn calls(list: &[(&str, &str, serde_json::Value)]) -> Vec<Result<Event, Error>> {
    let mut turn: Vec<_> = list
        .iter()
        .map(|(id, name, args)| Ok(Event::tool_call(*id, *name, args.clone())))
        .collect();
    turn.push(Ok(Event::run_end(RunStatus::Completed)));
    turn
}

#[derive(Deserialize)]
struct City {
    city: String,
}

fn weather(delay: Duration) -> Tool {
    Tool::new(
        "get_weather",
        "Weather in a city",
        json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
        move |args: City| async move {
            tokio::time::sleep(delay).await;
            Ok::<_, ToolError>(format!("sunny in {}", args.city))
        },
    )
}

fn agent(provider: Arc<Scripted>, tools: Vec<Tool>) -> Agentor {
    Agentor::builder()
        .name("Tester")
        .model("test-model")
        .instructions("Be brief.")
        .shared_provider(provider)
        .tools(tools)
        .max_turns(3)
        .build()
}

async fn run_all(agent: &Agentor, input: &str) -> Vec<Result<Event, Error>> {
    agent.stream_chat(input).collect().await
}

fn kinds(items: &[Result<Event, Error>]) -> Vec<Kind> {
    items
        .iter()
        .map(|i| i.as_ref().map_or(Kind::Error, Event::kind))
        .collect()
}

#[tokio::test]
async fn a_plain_answer_streams_every_delta_and_completes() {
    let provider = Scripted::new(vec![text_turn("Hello there friend")]);
    let out = run_all(&agent(provider.clone(), vec![]), "hi").await;
    assert_eq!(
        kinds(&out),
        [
            Kind::RunStart,
            Kind::TextDelta,
            Kind::TextDelta,
            Kind::TextDelta,
            Kind::Message,
            Kind::RunEnd
        ]
    );
    let events: Vec<Event> = out.into_iter().map(Result::unwrap).collect();
    assert!(
        events.iter().enumerate().all(|(i, e)| e.seq == i as u64),
        "numbered from 0"
    );
    assert!(events
        .iter()
        .all(|e| e.origin.source.as_deref() == Some("Tester")));
    let run_id = events[0].origin.run_id.clone().unwrap();
    assert!(events
        .iter()
        .all(|e| e.origin.run_id.as_ref() == Some(&run_id)));
    assert_eq!(
        events.last().unwrap().run_status(),
        Some(RunStatus::Completed)
    );

    let request = &provider.requests.lock().unwrap()[0];
    assert_eq!(
        request.messages,
        [ChatMessage::system("Be brief."), ChatMessage::user("hi")]
    );
    assert_eq!(request.run_id.as_ref(), Some(&run_id));
}

#[tokio::test(start_paused = true)]
async fn two_tools_over_two_turns_results_as_they_complete() {
    let provider = Scripted::new(vec![
        calls(&[
            ("c1", "get_weather", json!({"city": "Paris"})),
            ("c2", "slow_weather", json!({"city": "Oslo"})),
        ]),
        calls(&[("c3", "get_weather", json!({"city": "Rome"}))]),
        text_turn("Paris and Rome are sunny"),
    ]);
    let slow = Tool::new(
        "slow_weather",
        "Weather, slowly",
        json!({"type": "object"}),
        |args: City| async move {
            tokio::time::sleep(Duration::from_secs(2)).await;
            Ok::<_, ToolError>(format!("snow in {}", args.city))
        },
    );
    let agent = agent(
        provider.clone(),
        vec![weather(Duration::from_secs(1)), slow],
    );
    let start = tokio::time::Instant::now();
    let out = run_all(&agent, "weather?").await;
    assert_eq!(
        start.elapsed(),
        Duration::from_secs(3),
        "the two first calls ran concurrently"
    );
    let results: Vec<(String, String)> = out
        .iter()
        .filter_map(|e| match &e.as_ref().ok()?.kind {
            EventKind::ToolResult(r) => Some((r.call_id.to_string(), r.output.to_string())),
            _ => None,
        })
        .collect();
    assert_eq!(
        results,
        [
            ("c1".into(), "sunny in Paris".into()),
            ("c2".into(), "snow in Oslo".into()),
            ("c3".into(), "sunny in Rome".into())
        ]
    );
    let requests = provider.requests.lock().unwrap();
    assert_eq!(requests.len(), 3);
    let second = &requests[1].messages;
    assert_eq!(second[2].role, ChatRole::Assistant);
    assert_eq!(second[2].tool_calls.len(), 2);
    assert_eq!(second[3], ChatMessage::tool("c1", "sunny in Paris"));
    assert_eq!(second[4], ChatMessage::tool("c2", "snow in Oslo"));
    assert_eq!(requests[0].tools.len(), 2);
    assert_eq!(
        out.last().unwrap().as_ref().unwrap().run_status(),
        Some(RunStatus::Completed)
    );
}

#[tokio::test(start_paused = true)]
async fn tool_failures_become_error_results_and_the_run_goes_on() {
    let failing = Tool::new(
        "fails",
        "Always fails",
        json!({"type": "object"}),
        |_: serde_json::Value| async { Err::<String, _>(ToolError::new("database is down")) },
    );
    let panics = Tool::new(
        "panics",
        "Panics",
        json!({"type": "object"}),
        |_: serde_json::Value| async {
            if true {
                panic!("boom");
            }
            Ok::<String, ToolError>(String::new())
        },
    );
    let hangs = Tool::new(
        "hangs",
        "Never returns",
        json!({"type": "object"}),
        |_: serde_json::Value| async { std::future::pending::<Result<String, ToolError>>().await },
    )
    .timeout(Duration::from_secs(5));
    let provider = Scripted::new(vec![
        calls(&[
            ("c1", "nope", json!({})),
            ("c2", "get_weather", json!({"town": "Paris"})),
            ("c3", "get_weather", json!("Paris")),
            ("c4", "fails", json!({})),
            ("c5", "panics", json!({})),
            ("c6", "hangs", json!({})),
        ]),
        text_turn("Sorry"),
    ]);
    let out = run_all(
        &agent(
            provider,
            vec![weather(Duration::ZERO), failing, panics, hangs],
        ),
        "go",
    )
    .await;
    let results: Vec<(String, bool, String)> = out
        .iter()
        .filter_map(|e| match &e.as_ref().ok()?.kind {
            EventKind::ToolResult(r) => {
                Some((r.call_id.to_string(), r.is_error, r.output.to_string()))
            }
            _ => None,
        })
        .collect();
    let find = |id: &str| results.iter().find(|r| r.0 == id).unwrap().clone();
    assert!(find("c1").1 && find("c1").2.contains("unknown tool `nope`"));
    assert!(
        find("c2").1 && find("c2").2.contains("invalid arguments"),
        "{:?}",
        find("c2")
    );
    assert!(find("c3").1 && find("c3").2.contains("expected a JSON object"));
    assert_eq!(find("c4"), ("c4".into(), true, "database is down".into()));
    assert!(find("c5").1 && find("c5").2.contains("panicked"));
    assert!(find("c6").1 && find("c6").2.contains("timed out"));
    assert_eq!(
        out.last().unwrap().as_ref().unwrap().run_status(),
        Some(RunStatus::Completed)
    );
}

#[tokio::test]
async fn max_turns_is_reported_as_such() {
    let call = || calls(&[("c", "get_weather", json!({"city": "Paris"}))]);
    let provider = Scripted::new((0..6).map(|_| call()).collect());
    let agent = agent(provider.clone(), vec![weather(Duration::ZERO)]);
    let out = run_all(&agent, "loop").await;
    assert_eq!(
        out.last().unwrap().as_ref().unwrap().run_status(),
        Some(RunStatus::MaxTurns)
    );
    assert_eq!(provider.requests.lock().unwrap().len(), 3);
    let err = agent.chat("loop").await.unwrap_err();
    assert!(err.to_string().contains("max_turns"), "{err}");
}

#[tokio::test]
async fn a_failing_provider_ends_the_run_failed() {
    let provider = Scripted::new(vec![vec![
        Ok(Event::text_delta("Hal")),
        Err(Error::provider("503 Service Unavailable").with_status(503)),
        Ok(Event::run_end(RunStatus::Failed)),
    ]]);
    let agent = agent(provider, vec![]);
    let out = run_all(&agent, "hi").await;
    assert_eq!(
        kinds(&out),
        [Kind::RunStart, Kind::TextDelta, Kind::Error, Kind::RunEnd]
    );
    assert_eq!(out[2].as_ref().unwrap_err().status(), Some(503));
    assert_eq!(
        out.last().unwrap().as_ref().unwrap().run_status(),
        Some(RunStatus::Failed)
    );
}

#[tokio::test]
async fn chat_returns_the_final_answer() {
    let provider = Scripted::new(vec![
        calls(&[("c1", "get_weather", json!({"city": "Paris"}))]),
        text_turn("It is sunny in Paris"),
    ]);
    let answer = agent(provider, vec![weather(Duration::ZERO)])
        .chat("weather?")
        .await
        .unwrap();
    assert_eq!(answer, "It is sunny in Paris");
}

#[tokio::test]
async fn serialized_gives_agentor_json_lines() {
    let provider = Scripted::new(vec![text_turn("Hi you")]);
    let lines: Vec<String> = agent(provider, vec![])
        .stream_chat("hi")
        .serialized()
        .collect()
        .await;
    let second: serde_json::Value = serde_json::from_str(&lines[1]).unwrap();
    assert_eq!(
        second,
        json!({"type": "raw_response_event", "message": null, "chunk": "Hi ", "tool_action": null, "reasoning": null})
    );
}

#[tokio::test(start_paused = true)]
async fn dropping_the_stream_aborts_running_tools() {
    let finished = Arc::new(AtomicBool::new(false));
    let started = Arc::new(AtomicUsize::new(0));
    let (f, s) = (finished.clone(), started.clone());
    let long = Tool::new(
        "long",
        "Takes a minute",
        json!({"type": "object"}),
        move |_: serde_json::Value| {
            let (f, s) = (f.clone(), s.clone());
            async move {
                s.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_secs(60)).await;
                f.store(true, Ordering::SeqCst);
                Ok::<_, ToolError>("done")
            }
        },
    );
    let provider = Scripted::new(vec![calls(&[("c1", "long", json!({}))]), text_turn("ok")]);
    let mut stream = agent(provider, vec![long]).stream_chat("go");
    // Run until the tool call is out and the tool has started.
    while let Some(item) = stream.next().await {
        if item.unwrap().kind() == Kind::ToolCall {
            break;
        }
    }
    tokio::time::timeout(Duration::from_millis(10), stream.next())
        .await
        .unwrap_err();
    assert_eq!(started.load(Ordering::SeqCst), 1);
    drop(stream);
    tokio::time::sleep(Duration::from_secs(120)).await;
    assert!(
        !finished.load(Ordering::SeqCst),
        "the tool was aborted with the stream"
    );
}

#[tokio::test]
async fn a_turn_without_a_run_end_is_a_failure_not_a_silent_success() {
    let provider = Scripted::new(vec![vec![Ok(Event::text_delta("cut off"))]]);
    let out = run_all(&agent(provider, vec![]), "hi").await;
    assert_eq!(
        kinds(&out),
        [Kind::RunStart, Kind::TextDelta, Kind::Error, Kind::RunEnd]
    );
    assert!(out[2]
        .as_ref()
        .unwrap_err()
        .message()
        .contains("without a run end"));
    assert_eq!(
        out.last().unwrap().as_ref().unwrap().run_status(),
        Some(RunStatus::Failed)
    );
}
