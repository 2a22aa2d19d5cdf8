//! WebSocket server and client: runs over `GET /ws` of the built-in server,
//! read with tokio-tungstenite.
//!
//! One connection runs several inputs one after another: each text frame
//! `{"input": …}` starts a run, answered by one JSON event per text frame
//! ending with the run end. `{"type": "cancel"}` cancels the running run (the
//! model request and tools are dropped) and its run end says `cancelled`.
//! Closing the socket ends the connection; the server then shuts down.
//!
//! Run it with `cargo run -p agentor-examples --example websocket`.
#![allow(clippy::print_stdout)] // printing the frames is the point

use std::io::Write;
use std::time::Duration;

use agentor::providers::Demo;
use agentor::Agentor;
use agentor_server::{Server, ServerConfig};
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next text frame as JSON (WebSocket pings are answered by the client).
async fn next_json(ws: &mut Socket) -> Result<Value, Box<dyn std::error::Error>> {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await?
            .ok_or("the server closed the connection")??;
        if let Message::Text(text) = frame {
            return Ok(serde_json::from_str(text.as_str())?);
        }
    }
}

/// Prints a run's frames until its run end; returns the run end's status.
async fn print_run(
    ws: &mut Socket,
    cancel_after: Option<usize>,
) -> Result<String, Box<dyn std::error::Error>> {
    let mut deltas = 0;
    loop {
        let event = next_json(ws).await?;
        match event["type"].as_str() {
            Some("text_delta") => {
                print!("{}", event["text"].as_str().unwrap_or_default());
                std::io::stdout().flush()?;
                deltas += 1;
                if Some(deltas) == cancel_after {
                    ws.send(Message::text(json!({"type": "cancel"}).to_string()))
                        .await?;
                }
            }
            Some("run_end") => {
                let status = event["status"].as_str().unwrap_or_default().to_owned();
                println!("\n[run_end #{}] {status}", event["seq"]);
                return Ok(status);
            }
            Some(other) => println!("[{other} #{}]", event["seq"]),
            None => return Err(format!("not an event: {event}").into()),
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let agent = Agentor::builder()
        .name("Assistant")
        .provider(Demo::with_delay(Duration::from_millis(5)))
        .build();
    let server = Server::new(agent)
        .config(ServerConfig::default())
        .bind("127.0.0.1:0")
        .await?;
    let addr = server.local_addr()?;
    let shutdown = server.shutdown_handle();
    let serving = tokio::spawn(server.serve_with_shutdown(std::future::pending()));

    // Options in the URL are defaults for every input on the connection.
    let (mut ws, _) =
        tokio_tungstenite::connect_async(format!("ws://{addr}/ws?format=native")).await?;
    eprintln!("connected to ws://{addr}/ws");

    ws.send(Message::text(
        json!({"input": "Hello over a WebSocket"}).to_string(),
    ))
    .await?;
    let first = print_run(&mut ws, None).await?;

    // The next input on the same connection, cancelled after three deltas.
    ws.send(Message::text(
        json!({"input": "A long answer, please", "rebuffer": "words"}).to_string(),
    ))
    .await?;
    let second = print_run(&mut ws, Some(3)).await?;

    ws.close(None).await?;
    shutdown.trigger();
    serving.await??;
    assert_eq!(
        (first.as_str(), second.as_str()),
        ("completed", "cancelled")
    );
    eprintln!("server stopped");
    Ok(())
}
