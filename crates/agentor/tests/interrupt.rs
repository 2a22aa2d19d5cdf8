//! Tools that end the run waiting for the user: `request_input` and a tool
//! returning an `Interrupt`.

#![allow(clippy::unwrap_used, missing_docs)]

use std::sync::{Arc, Mutex};

use agentor::{
    Agentor, BoxEventStream, ChatMessage, ChatRequest, ChatRole, Event, EventKind, Interrupt, Kind,
    Provider, RunStatus, Tool, ToolError,
};
use futures::StreamExt;
use serde_json::json;

/// Plays one scripted turn per call and keeps every request.
#[derive(Debug, Default)]
struct Scripted {
    turns: Mutex<Vec<Vec<Event>>>,
    requests: Mutex<Vec<ChatRequest>>,
}

impl Scripted {
    fn new(mut turns: Vec<Vec<Event>>) -> Arc<Self> {
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
        futures::stream::iter(turn.into_iter().map(Ok)).boxed()
    }

    fn name(&self) -> &str {
        "scripted"
    }
}

fn calls(list: &[(&str, &str, serde_json::Value)]) -> Vec<Event> {
    let mut turn: Vec<_> = list
        .iter()
        .map(|(id, name, args)| Event::tool_call(*id, *name, args.clone()))
        .collect();
    turn.push(Event::run_end(RunStatus::Completed));
    turn
}

fn answer(text: &str) -> Vec<Event> {
    vec![Event::message(text), Event::run_end(RunStatus::Completed)]
}

fn sign_in() -> Tool {
    Tool::new(
        "read_mail",
        "Reads the user's mail.",
        json!({"type": "object"}),
        |_: serde_json::Value| async {
            Err::<String, _>(Interrupt::auth(
                "Sign in at https://mail.example/login first.",
            ))
        },
    )
}

fn echo() -> Tool {
    Tool::new(
        "echo",
        "Echoes.",
        json!({"type": "object"}),
        |args: serde_json::Value| async move { Ok::<_, ToolError>(args.to_string()) },
    )
}

async fn run(provider: Arc<Scripted>, tools: Vec<Tool>, input: agentor::Input) -> Vec<Event> {
    let agent = Agentor::builder()
        .shared_provider(provider)
        .tools(tools)
        .build();
    agent.stream_chat(input).map(Result::unwrap).collect().await
}

#[tokio::test]
async fn request_input_ends_the_run_with_the_question_then_the_answer_continues() {
    let provider = Scripted::new(vec![
        calls(&[("c1", "request_input", json!({"question": "Which city?"}))]),
        answer("Sunny in Paris."),
    ]);
    let tools = vec![Tool::request_input()];
    let events = run(provider.clone(), tools.clone(), "Weather?".into()).await;
    let kinds: Vec<Kind> = events.iter().map(Event::kind).collect();
    assert_eq!(
        kinds,
        [
            Kind::RunStart,
            Kind::ToolCall,
            Kind::ToolResult,
            Kind::Message,
            Kind::RunEnd
        ]
    );
    match &events[2].kind {
        EventKind::ToolResult(result) => {
            assert_eq!(&*result.output, "Which city?");
            assert!(!result.is_error);
        }
        other => panic!("not a tool result: {other:?}"),
    }
    assert_eq!(events[3].text(), Some("Which city?"));
    assert_eq!(events[4].run_status(), Some(RunStatus::InputRequired));
    // One model turn only: the run did not go on without the answer.
    assert_eq!(provider.requests.lock().unwrap().len(), 1);

    // The caller answers with the conversation so far.
    let conversation = vec![
        ChatMessage::user("Weather?"),
        ChatMessage::assistant("Which city?"),
        ChatMessage::user("Paris"),
    ];
    let events = run(provider.clone(), tools, conversation.into()).await;
    assert_eq!(
        events.last().unwrap().run_status(),
        Some(RunStatus::Completed)
    );
    let requests = provider.requests.lock().unwrap();
    let last = requests.last().unwrap().messages.last().unwrap();
    assert_eq!(
        (last.role, last.content.as_str()),
        (ChatRole::User, "Paris")
    );
}

#[tokio::test]
async fn a_tool_returning_an_auth_interrupt_ends_auth_required_after_the_turns_other_calls() {
    let provider = Scripted::new(vec![calls(&[
        ("c1", "echo", json!({"a": 1})),
        ("c2", "read_mail", json!({})),
    ])]);
    let events = run(provider, vec![echo(), sign_in()], "My mail?".into()).await;
    let results: Vec<(&str, bool)> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::ToolResult(r) => Some((r.call_id.as_str(), r.is_error)),
            _ => None,
        })
        .collect();
    assert_eq!(results.len(), 2, "both calls answered: {results:?}");
    let n = events.len();
    assert_eq!(
        events[n - 2].text(),
        Some("Sign in at https://mail.example/login first.")
    );
    assert_eq!(events[n - 1].run_status(), Some(RunStatus::AuthRequired));
}

#[tokio::test]
async fn an_empty_question_is_an_error_result_the_model_sees() {
    let provider = Scripted::new(vec![
        calls(&[("c1", "request_input", json!({"question": "  "}))]),
        answer("I will guess."),
    ]);
    let events = run(provider, vec![Tool::request_input()], "Hi".into()).await;
    let result = events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::ToolResult(r) => Some(r.clone()),
            _ => None,
        })
        .unwrap();
    assert!(result.is_error);
    assert!(result.output.contains("empty"), "{}", result.output);
    assert_eq!(
        events.last().unwrap().run_status(),
        Some(RunStatus::Completed)
    );
}

#[tokio::test]
async fn chat_reports_the_question_as_an_error() {
    let provider = Scripted::new(vec![calls(&[(
        "c1",
        "request_input",
        json!({"question": "Which city?"}),
    )])]);
    let agent = Agentor::builder()
        .shared_provider(provider)
        .tool(Tool::request_input())
        .build();
    let error = agent.chat("Weather?").await.unwrap_err();
    assert!(error.to_string().contains("Which city?"), "{error}");
}
