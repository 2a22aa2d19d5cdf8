//! An agent that asks the user, over A2A: a multi-turn task.
//!
//! A served agent has the built-in `request_input` tool (beside a weather
//! tool). Its first turn ends asking — the run end is `input_required`, the
//! A2A task `input-required` — and a `Conversation` sends the answer to the
//! same task, which goes on working and completes.
//!
//! Run it with `cargo run -p agentor-examples --example ask_user`. It exits
//! with an error unless the first turn asked and the answer completed the
//! same task.
#![allow(clippy::print_stdout)] // printing the turns is the point

use std::time::Duration;

use agentor::providers::Demo;
use agentor::{Agentor, Event, RunStatus, Tool, ToolError};
use agentor_a2a::client::A2aClient;
use agentor_server::{Server, ServerConfig};
use futures::StreamExt;
use serde_json::json;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let weather = Tool::new(
        "get_weather",
        "The current weather in a city.",
        json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
        |args: serde_json::Value| async move {
            Ok::<_, ToolError>(format!("18°C and sunny in {}", args["city"]))
        },
    );
    // The offline demo calls the first tool, or the one the message names:
    // "request input" picks `request_input`. A model decides for itself.
    let agent = Agentor::builder()
        .name("Weather")
        .provider(Demo::with_delay(Duration::from_millis(2)))
        .tools([weather, Tool::request_input()])
        .build();
    let server = Server::new(agent)
        .config(ServerConfig::default())
        .bind("127.0.0.1:0")
        .await?;
    let url = format!("http://{}", server.local_addr()?);
    let shutdown = server.shutdown_handle();
    let serving = tokio::spawn(server.serve_with_shutdown(std::future::pending()));

    let chat = A2aClient::connect(&url).await?.conversation();
    let (question, asked) = last_message_and_end(chat.stream("Please request input")).await?;
    println!("agent asks ({asked:?}): {question}");
    let waiting = chat.waiting_task();
    println!("the user answers task {waiting:?}: Paris");
    let (answer, ended) = last_message_and_end(chat.stream("Paris")).await?;
    println!("agent ({ended:?}): {answer}");

    shutdown.trigger();
    serving.await??;
    let same_task = waiting.is_some() && chat.waiting_task().is_none();
    if asked != Some(RunStatus::InputRequired)
        || ended != Some(RunStatus::Completed)
        || !same_task
        || !answer.contains("Paris")
    {
        return Err("the task did not ask, then complete with the answer".into());
    }
    Ok(())
}

/// The last message's text and the run end of one streamed turn.
async fn last_message_and_end(
    mut events: agentor::BoxEventStream,
) -> Result<(String, Option<RunStatus>), agentor::Error> {
    let (mut text, mut end) = (String::new(), None);
    while let Some(event) = events.next().await {
        let event: Event = event?;
        if let agentor::EventKind::Message { text: whole, .. } = &event.kind {
            text = whole.to_string();
        }
        end = event.run_status().or(end);
    }
    Ok((text, end))
}
