//! A recorded agent run plays back identically through the replay provider.

#![allow(clippy::unwrap_used, missing_docs)]

use agentor::providers::{Demo, Replay};
use agentor::{Agentor, ChatRequest, EventStreamExt, Kind, Provider, Tool, ToolError};
use futures::StreamExt;
use serde_json::json;

#[tokio::test]
async fn replay_reproduces_a_recorded_run() {
    let echo = Tool::new(
        "echo",
        "Echoes",
        json!({"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}),
        |args: serde_json::Value| async move { Ok::<_, ToolError>(args) },
    );
    let agent = Agentor::builder()
        .provider(Demo::instant())
        .tool(echo)
        .build();

    let mut recording = agent.stream_chat("Say hello").record(Vec::new());
    let mut seen = Vec::new();
    while let Some(item) = recording.next().await {
        seen.push(item.unwrap());
    }
    let file = recording.into_writer().unwrap();
    assert!(
        seen.iter().any(|e| e.kind() == Kind::ToolResult),
        "the run used its tool"
    );

    let replayed: Vec<_> = Replay::from_bytes(file)
        .stream(ChatRequest::new("replay", vec![]))
        .map(Result::unwrap)
        .collect()
        .await;
    assert_eq!(replayed, seen);
}
