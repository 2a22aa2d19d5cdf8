//! The server the interop tests talk to (`tests/interop/run.sh`): an agent
//! with a tool on the offline demo provider, paced so that frames visibly
//! arrive one by one, on 127.0.0.1 and a free port, until SIGTERM or Ctrl-C.
//!
//! It prints `http://127.0.0.1:<port>` as its first line on stdout, so a
//! script can wait for it. It serves A2A too (`POST /`, the agent cards). Not part of the example run in `scripts/test.sh`
//! (it serves until stopped).

use std::time::Duration;

use agentor::providers::Demo;
use agentor::{Agentor, Tool, ToolError};
use agentor_server::{Server, ServerConfig};
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
        .provider(Demo::with_delay(Duration::from_millis(5)))
        .tool(get_weather)
        .build();
    // A resume window lets a client that drops mid-run reconnect and go on
    // live (the Node client's Last-Event-ID reconnect).
    let config = ServerConfig::default()
        .heartbeat(Duration::from_secs(1))
        .resume_window(Duration::from_secs(10))
        .description("A weather agent on agentor's offline demo provider, for the interop tests.");
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
