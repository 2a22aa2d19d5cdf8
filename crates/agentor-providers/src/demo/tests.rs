//! The demo provider's streams.

use std::time::Duration;

use agentor_core::{
    ChatMessage, ChatRequest, Event, EventKind, Kind, Provider, RunStatus, ToolCallRequest,
    ToolSpec,
};
use futures_util::StreamExt;
use serde_json::json;
use tokio::time::Instant;

use super::Demo;

fn weather_tool() -> ToolSpec {
    ToolSpec {
        name: "get_weather".into(),
        description: "Current weather for a city".into(),
        parameters: json!({
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}
            },
            "required": ["city", "unit"]
        }),
    }
}

async fn events(demo: &Demo, request: ChatRequest) -> Vec<Event> {
    demo.stream(request).map(Result::unwrap).collect().await
}

fn kinds(events: &[Event]) -> Vec<Kind> {
    events.iter().map(Event::kind).collect()
}

/// Run start first, run end (completed) last and only there, seq 0, 1, 2, …,
/// every event on the request's run.
fn assert_well_formed(events: &[Event], run_id: &str) {
    assert_eq!(events.first().map(Event::kind), Some(Kind::RunStart));
    assert_eq!(
        events.last().and_then(Event::run_status),
        Some(RunStatus::Completed)
    );
    assert_eq!(
        events.iter().filter(|e| e.kind() == Kind::RunEnd).count(),
        1
    );
    for (i, event) in events.iter().enumerate() {
        assert_eq!(event.seq, i as u64);
        assert_eq!(event.origin.run_id.as_deref(), Some(run_id));
    }
}

#[tokio::test]
async fn a_question_gets_an_honest_echo() {
    let request = ChatRequest::new("gpt-4.1", vec![ChatMessage::user("What is Rust?")])
        .with_run_id("r1")
        .with_agent("Helper");
    let out = events(&Demo::instant(), request).await;
    assert_well_formed(&out, "r1");
    assert_eq!(
        out[0].kind,
        EventKind::RunStart {
            agent: "Helper".into(),
            model: Some("demo (offline, no model)".into()),
        }
    );
    assert_eq!(out[1].kind(), Kind::ReasoningDelta);
    let deltas: Vec<&str> = out
        .iter()
        .filter(|e| e.kind() == Kind::TextDelta)
        .filter_map(Event::text)
        .collect();
    assert!(deltas.len() > 10);
    assert!(deltas.iter().all(|d| (1..=8).contains(&d.chars().count())));
    let message = out.iter().find(|e| e.kind() == Kind::Message).unwrap();
    assert_eq!(message.text(), Some(deltas.concat().as_str()));
    let text = message.text().unwrap();
    assert!(text.starts_with("(demo) This is agentor's offline demo provider"));
    assert!(text.contains("\"What is Rust?\""));
    let n = out.len();
    assert_eq!(
        kinds(&out[n - 3..]),
        [Kind::Message, Kind::Usage, Kind::RunEnd]
    );
}

#[tokio::test]
async fn the_same_request_gives_the_same_stream() {
    let request = ChatRequest::new("m", vec![ChatMessage::user("Weather in Paris?")])
        .with_tools(vec![weather_tool()])
        .with_run_id("r");
    let demo = Demo::instant();
    let first = events(&demo, request.clone()).await;
    assert_eq!(events(&demo, request.clone()).await, first);
    let plain = ChatRequest::new("m", vec![ChatMessage::user("Hi")]);
    assert_eq!(
        events(&demo, plain.clone()).await,
        events(&demo, plain).await
    );
}

#[tokio::test]
async fn offered_tools_are_called_first() {
    let request = ChatRequest::new("m", vec![ChatMessage::user("What's the weather in Paris?")])
        .with_tools(vec![weather_tool()])
        .with_run_id("r2");
    let out = events(&Demo::instant(), request).await;
    assert_well_formed(&out, "r2");
    let kinds = kinds(&out);
    let fragments = kinds.iter().filter(|k| **k == Kind::ToolCallDelta).count();
    assert!(fragments > 3, "{kinds:?}");
    assert_eq!(kinds[..2], [Kind::RunStart, Kind::ReasoningDelta]);
    assert!(kinds[2..2 + fragments]
        .iter()
        .all(|k| *k == Kind::ToolCallDelta));
    assert_eq!(
        kinds[2 + fragments..],
        [Kind::ToolCall, Kind::Usage, Kind::RunEnd]
    );
    let call_at = 2 + fragments;
    let EventKind::ToolCall(call) = &out[call_at].kind else {
        panic!("{:?}", out[call_at]);
    };
    let mut joined = String::new();
    for (i, event) in out[2..call_at].iter().enumerate() {
        let EventKind::ToolCallDelta(delta) = &event.kind else {
            panic!("{event:?}");
        };
        assert_eq!(delta.call_id, call.call_id);
        assert_eq!(
            delta.name.is_some(),
            i == 0,
            "the name rides on the first fragment only"
        );
        joined.push_str(&delta.delta);
    }
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&joined).unwrap(),
        call.arguments
    );
    assert_eq!(call.call_id, "call_demo_1");
    assert_eq!(call.name, "get_weather");
    assert_eq!(
        call.arguments,
        json!({"city": "What's the weather in Paris", "unit": "celsius"})
    );
}

#[tokio::test]
async fn after_a_tool_result_it_reports_it() {
    let mut assistant = ChatMessage::assistant("");
    assistant.tool_calls.push(ToolCallRequest {
        id: "call_demo_1".into(),
        name: "get_weather".into(),
        arguments: json!({"city": "Paris"}),
    });
    let request = ChatRequest::new(
        "m",
        vec![
            ChatMessage::user("Weather in Paris?"),
            assistant,
            ChatMessage::tool("call_demo_1", "18°C and sunny"),
        ],
    )
    .with_tools(vec![weather_tool()])
    .with_run_id("r3");
    let out = events(&Demo::instant(), request).await;
    assert_well_formed(&out, "r3");
    assert!(!kinds(&out).contains(&Kind::ToolCall));
    let message = out.iter().find(|e| e.kind() == Kind::Message).unwrap();
    let text = message.text().unwrap();
    assert!(text.starts_with("(demo) The tool `get_weather` returned: 18°C and sunny."));
}

#[tokio::test]
async fn a_new_question_calls_the_tool_again() {
    let mut assistant = ChatMessage::assistant("");
    assistant.tool_calls.push(ToolCallRequest {
        id: "call_demo_1".into(),
        name: "get_weather".into(),
        arguments: json!({}),
    });
    let request = ChatRequest::new(
        "m",
        vec![
            ChatMessage::user("Paris?"),
            assistant,
            ChatMessage::tool("call_demo_1", "sunny"),
            ChatMessage::assistant("(demo) …"),
            ChatMessage::user("And Rome?"),
        ],
    )
    .with_tools(vec![weather_tool()]);
    let out = events(&Demo::instant(), request).await;
    let call = out.iter().find(|e| e.kind() == Kind::ToolCall).unwrap();
    let EventKind::ToolCall(call) = &call.kind else {
        unreachable!()
    };
    assert_eq!(call.call_id, "call_demo_2");
    assert_eq!(call.arguments["city"], "And Rome");
}

#[tokio::test]
async fn usage_is_estimated_from_words() {
    let request = ChatRequest::new("m", vec![ChatMessage::user("one two three")]);
    let out = events(&Demo::instant(), request).await;
    let usage = out.iter().find(|e| e.kind() == Kind::Usage).unwrap();
    let EventKind::Usage {
        input_tokens,
        output_tokens,
        total_tokens,
        ..
    } = usage.kind
    else {
        unreachable!()
    };
    assert_eq!(input_tokens, 4);
    assert!(output_tokens > 0);
    assert_eq!(total_tokens, input_tokens + output_tokens);
}

#[tokio::test(start_paused = true)]
async fn deltas_come_at_a_visible_pace() {
    let request = ChatRequest::new("m", vec![ChatMessage::user("Hi")]);
    for (demo, delay) in [
        (Demo::new(), Demo::DEFAULT_DELAY),
        (
            Demo::with_delay(Duration::from_millis(40)),
            Duration::from_millis(40),
        ),
        (Demo::instant(), Duration::ZERO),
    ] {
        let start = Instant::now();
        let mut stream = demo.stream(request.clone());
        let mut times = Vec::new();
        while let Some(item) = stream.next().await {
            times.push((item.unwrap().kind(), start.elapsed()));
        }
        let deltas = times.iter().filter(|(k, _)| k.is_delta()).count() as u32;
        assert_eq!(start.elapsed(), delay * deltas);
        // Each delta waits its turn; the closing events follow at once.
        for pair in times.windows(2) {
            let expected = if pair[1].0.is_delta() {
                delay
            } else {
                Duration::ZERO
            };
            assert_eq!(pair[1].1 - pair[0].1, expected, "{pair:?}");
        }
    }
}

#[tokio::test]
async fn an_empty_conversation_still_streams_well() {
    let out = events(
        &Demo::instant(),
        ChatRequest::new("m", vec![]).with_run_id("r0"),
    )
    .await;
    assert_well_formed(&out, "r0");
    let message = out.iter().find(|e| e.kind() == Kind::Message).unwrap();
    assert!(message.text().unwrap().contains("offline demo provider"));
}

#[test]
fn it_is_a_provider_named_demo() {
    let demo: Box<dyn Provider> = Box::new(Demo::default());
    assert_eq!(demo.name(), "demo");
}
