//! The server the interop tests talk to (`tests/interop/run.sh`): an agent
//! with a tool on the offline demo provider, paced so that frames visibly
//! arrive one by one, on 127.0.0.1 and a free port, until SIGTERM or Ctrl-C.
//! A last user message containing "please fail" makes the provider fail
//! after a few text deltas, as a model API does mid-answer (the frontends'
//! clients check their protocol's error form). One saying "request input"
//! makes the demo call `request_input`: the A2A task asks, and the next
//! message on the task continues it (`a2a_multi_turn.py`).
//!
//! It prints `http://127.0.0.1:<port>` as its first line on stdout, so a
//! script can wait for it. It serves A2A too (`POST /`, the agent cards). Not part of the example run in `scripts/test.sh`
//! (it serves until stopped).

use std::time::Duration;

use agentor::providers::Demo;
use agentor::{
    Agentor, BoxEventStream, ChatRequest, ChatRole, Error, Event, Kind, Provider, RunStatus, Tool,
    ToolError,
};
use agentor_server::{AddressRange, PushSettings, Server, ServerConfig};
use futures_util::StreamExt;
use serde_json::json;
use tokio::io::AsyncWriteExt;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let get_weather = Tool::new(
        "get_weather",
        "The current weather in a city.",
        json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
        |args: serde_json::Value| async move {
            Ok::<_, ToolError>(format!("18°C and sunny in {}", args["city"]))
        },
    );
    let agent = Agentor::builder()
        .name("Weather")
        .instructions("Answer weather questions with the get_weather tool.")
        .provider(FailsOnRequest(Demo::with_delay(Duration::from_millis(5))))
        .tool(get_weather)
        // Multi-turn A2A: a message naming "request input" makes the demo
        // call it (it calls the first tool otherwise), leaving the task
        // input-required; the answer continues the task.
        .tool(Tool::request_input())
        .build();
    // A resume window lets a client that drops mid-run reconnect and go on
    // live (the Node client's Last-Event-ID reconnect).
    let config = ServerConfig::default()
        .heartbeat(Duration::from_secs(1))
        .resume_window(Duration::from_secs(10))
        .description("A weather agent on agentor's offline demo provider, for the interop tests.")
        // The push round trip's webhook receiver listens on 127.0.0.1, which
        // the SSRF policy refuses unless the operator allows it.
        .a2a_push(PushSettings::default().allow(AddressRange::Loopback));
    let server = Server::new(agent)
        .config(config)
        .bind("127.0.0.1:0")
        .await?;
    let mut stdout = tokio::io::stdout();
    stdout
        .write_all(format!("http://{}\n", server.local_addr()?).as_bytes())
        .await?;
    stdout.flush().await?;
    server.serve().await?;
    eprintln!("interop server: stopped gracefully");
    Ok(())
}

/// The demo, except that a request whose last user message says "please
/// fail" gets the demo's first three text deltas, then a provider error and
/// a failed run end.
#[derive(Debug)]
struct FailsOnRequest(Demo);

impl Provider for FailsOnRequest {
    fn stream(&self, request: ChatRequest) -> BoxEventStream {
        let fail = request
            .messages
            .iter()
            .rev()
            .find(|m| m.role == ChatRole::User)
            .is_some_and(|m| m.content.contains("please fail"));
        // Tools aside, so the demo answers in text.
        if !fail {
            return self.0.stream(request);
        }
        let mut request = request;
        request.tools.clear();
        let head = self
            .0
            .stream(request)
            .filter(|item| {
                let keep =
                    matches!(item, Ok(e) if matches!(e.kind(), Kind::RunStart | Kind::TextDelta));
                std::future::ready(keep)
            })
            .take(4);
        let tail = futures_util::stream::iter([
            Err(Error::provider(
                "the provider failed on purpose (interop test)",
            )),
            Ok(Event::run_end(RunStatus::Failed)),
        ]);
        Box::pin(head.chain(tail))
    }

    fn name(&self) -> &str {
        "demo"
    }
}
