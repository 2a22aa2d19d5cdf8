//! An agent with a tool, served over HTTP: `POST /chat` streams real SSE.
//!
//! Run it with `cargo run -p agentor-examples --example serve`. It serves on
//! `127.0.0.1:8000` (another free port if 8000 is taken), sends itself one
//! streaming request, prints the SSE frames exactly as they arrive on the
//! wire, then shuts down gracefully, so it ends by itself. A long-running
//! server is just `agent.serve(8000).await` (`AgentorServeExt`).
//!
//! While it runs, the same request from a shell is:
//!
//! ```sh
//! curl -N localhost:8000/chat -H 'content-type: application/json' \
//!      -d '{"input": "What is the weather in Paris?", "stream": true}'
//! ```

use agentor::{Agentor, Tool, ToolError};
use agentor_server::{Server, ServerConfig};
use futures::StreamExt;
use serde_json::json;
use tokio::io::AsyncWriteExt;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let get_weather = Tool::new(
        "get_weather",
        "The current weather in a city.",
        json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
        |args: serde_json::Value| async move {
            Ok::<_, ToolError>(format!("18°C and sunny in {}", args["city"]))
        },
    );
    // The default provider: OpenAI-compatible when configured, else the demo.
    let agent = Agentor::builder()
        .name("Weather")
        .instructions("Answer weather questions with the get_weather tool.")
        .tool(get_weather)
        .build();

    let server = match Server::new(agent.clone())
        .config(ServerConfig::from_env())
        .bind("127.0.0.1:8000")
        .await
    {
        Ok(server) => server,
        // CI machines may have 8000 taken; any free port shows the same.
        Err(_) => Server::new(agent).bind("127.0.0.1:0").await?,
    };
    let addr = server.local_addr()?;
    let shutdown = server.shutdown_handle();
    let serving = tokio::spawn(server.serve_with_shutdown(std::future::pending()));
    eprintln!("serving on http://{addr}");

    let mut request = reqwest::Client::new()
        .post(format!("http://{addr}/chat?format=native"))
        .json(&json!({"input": "What is the weather in Paris?", "stream": true}));
    if let Ok(token) = std::env::var(agentor_server::TOKEN_ENV) {
        request = request.bearer_auth(token);
    }
    let response = request.send().await?;
    eprintln!(
        "{} {} run {}",
        response.status(),
        response.headers()["content-type"].to_str()?,
        response.headers()[agentor_server::RUN_ID_HEADER].to_str()?
    );
    let mut stdout = tokio::io::stdout();
    let mut body = response.bytes_stream();
    while let Some(chunk) = body.next().await {
        stdout.write_all(&chunk?).await?;
    }
    stdout.flush().await?;

    // Graceful shutdown: open streams get a `cancelled` run end, then the
    // server stops (Ctrl-C or SIGTERM do the same).
    shutdown.trigger();
    serving.await??;
    eprintln!("server stopped");
    Ok(())
}
