//! `GET /ws` with a real WebSocket client: runs, cancel, errors, auth,
//! disconnect, keepalive, shutdown.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use agentor::Agentor;
use agentor_server::ServerConfig;
use common::*;
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{connect_async, MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

async fn connect(server: &TestServer, path: &str) -> Ws {
    connect_async(format!("ws://{}{path}", server.addr))
        .await
        .unwrap()
        .0
}

async fn send(ws: &mut Ws, value: Value) {
    ws.send(Message::text(value.to_string())).await.unwrap();
}

/// The next text frame as JSON, skipping pings; panics after 5 s.
async fn next_json(ws: &mut Ws) -> Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("no frame within 5 s")
            .expect("connection closed")
            .unwrap();
        match message {
            Message::Text(text) => return serde_json::from_str(text.as_str()).unwrap(),
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("unexpected frame {other:?}"),
        }
    }
}

/// Text frames until the run end (included).
async fn run_frames(ws: &mut Ws) -> Vec<Value> {
    let mut frames = Vec::new();
    loop {
        let frame = next_json(ws).await;
        let end = frame["type"] == "run_end";
        frames.push(frame);
        if end {
            return frames;
        }
    }
}

fn native_text(frames: &[Value]) -> String {
    frames
        .iter()
        .filter(|f| f["type"] == "text_delta")
        .map(|f| f["text"].as_str().unwrap())
        .collect()
}

async fn demo_answer() -> String {
    demo_agent().chat("Hi").await.unwrap()
}

#[tokio::test]
async fn runs_stream_in_both_formats_one_after_another() {
    let server = demo_server().await;
    let mut ws = connect(&server, "/ws").await;

    send(&mut ws, json!({"input": "Hi"})).await;
    let frames = run_frames(&mut ws).await;
    let end = frames.last().unwrap();
    assert_eq!(end["message"], "completed");
    let text: String = frames
        .iter()
        .filter(|f| f["type"] == "raw_response_event")
        .filter_map(|f| f["chunk"].as_str())
        .collect();
    assert_eq!(text, demo_answer().await);

    // The same connection runs the next input, here in the native shape and
    // as a conversation.
    send(
        &mut ws,
        json!({"input": [{"role": "user", "content": "Hi"}], "format": "native"}),
    )
    .await;
    let frames = run_frames(&mut ws).await;
    assert_eq!(frames[0]["type"], "run_start");
    for (i, frame) in frames.iter().enumerate() {
        assert_eq!(frame["seq"], i, "renumbered per run");
    }
    assert_eq!(frames.last().unwrap()["status"], "completed");
    assert_eq!(native_text(&frames), demo_answer().await);
    let run_id = frames[0]["run_id"].as_str().unwrap();
    assert!(frames.iter().all(|f| f["run_id"] == run_id));

    // Options apply as on /chat; the URL gives defaults for every input.
    let mut ws = connect(&server, "/ws?format=native").await;
    send(
        &mut ws,
        json!({"input": "Hi", "events": "text_delta", "rebuffer": "words"}),
    )
    .await;
    let frames = run_frames(&mut ws).await;
    assert!(frames[..frames.len() - 1]
        .iter()
        .all(|f| f["type"] == "text_delta"));
    assert_eq!(native_text(&frames), demo_answer().await);
}

/// The Python streaming guide's client: it sends `{"text": …}` and prints
/// `event["message"]` wherever it is set. By default the frames are agentor
/// JSON, so that prints the agent, the assistant's message, the usage and
/// the status; the connection then stays open for the next input.
#[tokio::test]
async fn the_guides_text_shape_and_message_reader() {
    let server = demo_server().await;
    let mut ws = connect(&server, "/ws").await;
    send(&mut ws, json!({"text": "Hi"})).await;
    let frames = run_frames(&mut ws).await;
    for frame in &frames {
        let keys: Vec<&str> = frame
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        // serde_json's map is sorted: these are agentor JSON's five keys.
        assert_eq!(
            keys,
            ["chunk", "message", "reasoning", "tool_action", "type"],
            "{frame}"
        );
    }
    // Python's `if event.get("message")`: set, and neither null nor "".
    let printed: Vec<&str> = frames
        .iter()
        .filter_map(|f| f["message"].as_str())
        .filter(|m| !m.is_empty())
        .collect();
    let answer = demo_answer().await;
    // The run start names the agent, usage and the run end (events Python
    // Agentor did not have) carry their summary in `message` too.
    assert_eq!(printed.len(), 4, "{printed:?}");
    assert_eq!(printed[..2], ["Assistant", answer.as_str()]);
    assert!(
        printed[2].starts_with("input ") && printed[2].ends_with(" tokens"),
        "{printed:?}"
    );
    assert_eq!(printed[3], "completed");
    let message = frames
        .iter()
        .find(|f| f["message"] == answer.as_str())
        .unwrap();
    assert_eq!(message["type"], "run_item_stream_event");

    // Both names at once are ambiguous; a wrong type is named as for `input`.
    send(&mut ws, json!({"text": "Hi", "input": "Hi"})).await;
    let error = next_json(&mut ws).await;
    assert_eq!(error["error"]["code"], "invalid_request", "{error}");
    assert!(error["error"]["message"]
        .as_str()
        .unwrap()
        .contains("both `input` and `text`"));
    send(&mut ws, json!({"text": 42})).await;
    let error = next_json(&mut ws).await;
    assert_eq!(error["error"]["code"], "invalid_request", "{error}");
    send(&mut ws, json!({"format": "native"})).await;
    let error = next_json(&mut ws).await;
    assert_eq!(
        error["error"]["message"],
        "missing field `input` (or its synonym `text`)"
    );

    // Still open: `text` takes `/chat`'s options, and `format=native` wins.
    send(&mut ws, json!({"text": "Hi", "format": "native"})).await;
    let frames = run_frames(&mut ws).await;
    assert_eq!(frames.last().unwrap()["status"], "completed");
    assert_eq!(native_text(&frames), answer);
    let mut native = connect(&server, "/ws?format=native").await;
    send(&mut native, json!({"text": "Hi"})).await;
    let frames = run_frames(&mut native).await;
    assert_eq!(frames[0]["type"], "run_start");
    assert_eq!(native_text(&frames), answer);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_busy_and_overloaded() {
    let provider = Stalling::new(None);
    let dropped_at = provider.dropped_at.clone();
    let agent = Agentor::builder().provider(provider).build();
    let server = start(agent, ServerConfig::default().max_runs(1)).await;
    let mut ws = connect(&server, "/ws?format=native").await;
    send(&mut ws, json!({"input": "Hi"})).await;
    assert_eq!(next_json(&mut ws).await["type"], "run_start");
    assert_eq!(next_json(&mut ws).await["type"], "text_delta");

    // Another input while the run streams: busy, the run goes on.
    send(&mut ws, json!({"input": "again"})).await;
    let busy = next_json(&mut ws).await;
    assert_eq!(busy["type"], "error");
    assert_eq!(busy["error"]["code"], "busy");
    assert!(dropped_at.lock().unwrap().is_none());

    // A second connection is over the run limit.
    let mut other = connect(&server, "/ws").await;
    send(&mut other, json!({"input": "Hi"})).await;
    assert_eq!(next_json(&mut other).await["error"]["code"], "overloaded");

    send(&mut ws, json!({"type": "cancel"})).await;
    let end = next_json(&mut ws).await;
    assert_eq!(end["type"], "run_end");
    assert_eq!(end["status"], "cancelled");
    assert_eq!(end["seq"], 2);
    assert!(dropped_at.lock().unwrap().is_some(), "provider not dropped");

    // The permit came back with the cancel.
    send(&mut other, json!({"input": "Hi"})).await;
    assert_eq!(next_json(&mut other).await["type"], "run_start");
    // A cancel with no run is answered, harmlessly.
    send(&mut ws, json!({"type": "cancel"})).await;
    assert_eq!(next_json(&mut ws).await["error"]["code"], "not_running");
}

#[tokio::test]
async fn malformed_messages_get_error_frames() {
    let server = demo_server().await;
    let mut ws = connect(&server, "/ws").await;
    for (message, code) in [
        (Message::text("not json"), "invalid_json"),
        (Message::text("[1, 2]"), "invalid_request"),
        (Message::text(r#"{"inpt": "Hi"}"#), "invalid_request"),
        (Message::text(r#"{"input": 42}"#), "invalid_request"),
        (Message::text(r#"{"type": "shout"}"#), "unknown_type"),
        (Message::text(r#"{"type": 7}"#), "unknown_type"),
        (
            Message::text(r#"{"input": "Hi", "rebuffer": "paragraphs"}"#),
            "invalid_option",
        ),
        (
            Message::text(r#"{"input": "Hi", "batch_ms": "soon"}"#),
            "invalid_request",
        ),
        (Message::binary(vec![1u8, 2, 3]), "unsupported_frame"),
    ] {
        ws.send(message).await.unwrap();
        let frame = next_json(&mut ws).await;
        assert_eq!(frame["type"], "error");
        assert_eq!(frame["error"]["code"], code, "{frame}");
        assert!(frame["error"]["message"].as_str().unwrap().len() > 5);
    }
    send(&mut ws, json!({"type": "input", "input": "Hi"})).await;
    let frames = run_frames(&mut ws).await;
    assert_eq!(frames.last().unwrap()["message"], "completed");
}

#[tokio::test]
async fn token_by_header_or_query() {
    let server = start(demo_agent(), ServerConfig::default().token("s3cret")).await;
    let url = format!("ws://{}/ws", server.addr);
    match connect_async(url.as_str()).await.unwrap_err() {
        tokio_tungstenite::tungstenite::Error::Http(response) => {
            assert_eq!(response.status(), 401);
        }
        other => panic!("expected 401, got {other}"),
    }
    assert!(connect_async(format!("{url}?token=wrong")).await.is_err());

    let mut ws = connect_async(format!("{url}?token=s3cret"))
        .await
        .unwrap()
        .0;
    send(&mut ws, json!({"input": "Hi"})).await;
    assert_eq!(
        run_frames(&mut ws).await.last().unwrap()["message"],
        "completed"
    );

    let mut request = url.as_str().into_client_request().unwrap();
    request
        .headers_mut()
        .insert("authorization", "Bearer s3cret".parse().unwrap());
    let mut ws = connect_async(request).await.unwrap().0;
    send(&mut ws, json!({"input": "Hi"})).await;
    assert_eq!(
        run_frames(&mut ws).await.last().unwrap()["message"],
        "completed"
    );

    // Not an upgrade: a JSON error.
    let response = reqwest::Client::new()
        .get(server.url("/ws?token=s3cret"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401, "?token= is for upgrades only");
    let response = reqwest::Client::new()
        .get(server.url("/ws"))
        .bearer_auth("s3cret")
        .send()
        .await
        .unwrap();
    assert!(response.status().is_client_error());
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "websocket_upgrade_required");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disconnect_cancels_the_run_within_100ms() {
    let provider = Stalling::new(None);
    let dropped_at = provider.dropped_at.clone();
    let agent = Agentor::builder().provider(provider).build();
    let server = start(agent, ServerConfig::default()).await;
    let mut ws = connect(&server, "/ws?format=native").await;
    send(&mut ws, json!({"input": "Hi"})).await;
    assert_eq!(next_json(&mut ws).await["type"], "run_start");
    assert_eq!(next_json(&mut ws).await["type"], "text_delta");
    assert!(dropped_at.lock().unwrap().is_none());
    // Vanish without a close handshake: the TCP connection just closes.
    let closed_at = Instant::now();
    drop(ws);
    assert_dropped_soon(&dropped_at, closed_at).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_close_cancels_and_gets_its_reply() {
    let provider = Stalling::new(None);
    let dropped_at = provider.dropped_at.clone();
    let agent = Agentor::builder().provider(provider).build();
    let server = start(agent, ServerConfig::default()).await;
    let mut ws = connect(&server, "/ws?format=native").await;
    send(&mut ws, json!({"input": "Hi"})).await;
    assert_eq!(next_json(&mut ws).await["type"], "run_start");
    let closed_at = Instant::now();
    ws.close(None).await.unwrap();
    // The server answers the close handshake (a client waits for it).
    loop {
        match tokio::time::timeout(Duration::from_secs(1), ws.next())
            .await
            .expect("no close reply")
        {
            Some(Ok(Message::Close(_))) | None => break,
            Some(Ok(_)) => {}
            Some(Err(e)) => panic!("{e}"),
        }
    }
    let dropped = dropped_at.lock().unwrap().expect("run not dropped");
    let delay = dropped.saturating_duration_since(closed_at);
    assert!(
        delay < Duration::from_millis(100),
        "dropped after {delay:?}"
    );
}

#[tokio::test]
async fn pings_arrive_and_a_silent_client_is_closed() {
    let config = ServerConfig::default().ws_ping(Duration::from_millis(50));
    let server = start(demo_agent(), config).await;
    let mut ws = connect(&server, "/ws").await;
    // Reading makes tungstenite answer each ping with a pong: alive.
    let mut pings = 0;
    let until = Instant::now() + Duration::from_millis(400);
    while Instant::now() < until {
        match tokio::time::timeout(Duration::from_millis(100), ws.next()).await {
            Ok(Some(Ok(Message::Ping(_)))) => pings += 1,
            Ok(other) => panic!("unexpected {other:?}"),
            Err(_) => {}
        }
    }
    assert!(pings >= 3, "{pings} pings");

    // Not reading means not answering pings: closed after 3 intervals. The
    // server sends a Close (1001) and drops the connection, so the client
    // sees that frame, or a broken pipe when it answers a queued ping.
    tokio::time::sleep(Duration::from_millis(400)).await;
    loop {
        match tokio::time::timeout(Duration::from_secs(2), ws.next())
            .await
            .unwrap()
        {
            Some(Ok(Message::Ping(_))) => {}
            Some(Ok(Message::Close(frame))) => {
                assert_eq!(frame.unwrap().code, CloseCode::Away);
                break;
            }
            Some(Err(tokio_tungstenite::tungstenite::Error::Io(_))) | None => break,
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_cancels_then_closes_going_away() {
    let agent = Agentor::builder().provider(Stalling::new(None)).build();
    let server = start(agent, ServerConfig::default()).await;
    let mut ws = connect(&server, "/ws?format=native").await;
    send(&mut ws, json!({"input": "Hi"})).await;
    assert_eq!(next_json(&mut ws).await["type"], "run_start");
    server.shutdown.trigger();
    let frames = run_frames(&mut ws).await;
    assert_eq!(frames.last().unwrap()["status"], "cancelled");
    let close = loop {
        match ws.next().await {
            Some(Ok(Message::Close(frame))) => break frame,
            Some(Ok(_)) => {}
            other => panic!("unexpected {other:?}"),
        }
    };
    assert_eq!(close.unwrap().code, CloseCode::Away);
}

#[tokio::test]
async fn a_message_over_the_body_limit_closes() {
    let server = start(demo_agent(), ServerConfig::default().body_limit(1024)).await;
    let mut ws = connect(&server, "/ws").await;
    let input = "x".repeat(4096);
    send(&mut ws, json!({ "input": input })).await;
    let end = tokio::time::timeout(Duration::from_secs(2), ws.next())
        .await
        .unwrap();
    match end {
        Some(Ok(Message::Close(frame))) => {
            assert_eq!(frame.unwrap().code, CloseCode::Size);
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_is_dropped_with_its_run() {
    // Far more than the socket buffers hold: the server's send gets stuck.
    let agent = Agentor::builder().provider(Fast(500_000)).build();
    let config = ServerConfig::default()
        .max_runs(1)
        .ws_ping(Duration::from_millis(50));
    let server = start(agent, config).await;
    let mut stuck = connect(&server, "/ws").await;
    send(&mut stuck, json!({"input": "Hi"})).await;
    // The stuck client's permit comes back once its send timed out.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut ws = connect(&server, "/ws?events=run_end").await;
        send(&mut ws, json!({"input": "Hi"})).await;
        let frame = next_json(&mut ws).await;
        if frame["type"] == "run_end" {
            break;
        }
        assert_eq!(frame["error"]["code"], "overloaded");
        assert!(Instant::now() < deadline, "the stuck run was never dropped");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(stuck);
}
