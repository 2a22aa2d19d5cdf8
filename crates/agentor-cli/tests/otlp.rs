//! OTLP export, end to end: the `agentor` binary (built with the `otlp`
//! feature, which this package's dev-dependency on itself turns on) serves a
//! run with a tool call and exports its spans over OTLP/HTTP to a receiver
//! this test starts; the protobuf is decoded with the OpenTelemetry proto
//! types and the GenAI span tree checked.

// Signals are sent with the `kill` command.
#![cfg(unix)]
#![allow(clippy::unwrap_used, missing_docs)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;

/// What the receiver got: each `POST /v1/traces` body, with its content type.
#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<(String, Bytes)>>>);

async fn traces(State(received): State<Received>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    received.0.lock().unwrap().push((content_type, body));
    StatusCode::OK
}

/// A collector's OTLP/HTTP traces endpoint on a free loopback port.
async fn receiver() -> (SocketAddr, Received) {
    let received = Received::default();
    let app = Router::new()
        .route("/v1/traces", post(traces))
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, received)
}

fn workdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("agentor-otlp-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `agentor serve` with the demo provider and its tool, exporting to
/// `endpoint`; returns the child, its stderr and its URL.
fn serve(
    dir: &Path,
    endpoint: &str,
    extra_env: &[(&str, &str)],
) -> (Child, BufReader<std::process::ChildStderr>, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_agentor"));
    command.current_dir(dir);
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy().into_owned();
        if name.starts_with("OPENAI_") || name.starts_with("AGENTOR_") || name.starts_with("OTEL_")
        {
            command.env_remove(name);
        }
    }
    let mut child = command
        .args([
            "serve",
            "--port",
            "0",
            "--host",
            "127.0.0.1",
            "--provider",
            "demo",
        ])
        .args(["--demo-tool", "--name", "Weather"])
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
        .envs(extra_env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    stderr.read_line(&mut first).unwrap();
    let url = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {first:?}"))
        .to_owned();
    (child, stderr, url)
}

async fn chat(url: &str) {
    let response = reqwest::Client::new()
        .post(format!("{url}/chat"))
        .json(&serde_json::json!({"input": "Weather in Oslo?", "stream": false}))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    response.bytes().await.unwrap();
}

/// SIGTERM, then how long the exit took, the code and the rest of stderr.
fn stop(
    mut child: Child,
    mut stderr: BufReader<std::process::ChildStderr>,
) -> (Duration, Option<i32>, String) {
    let sent = Instant::now();
    let pid = child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let status = child.wait().unwrap();
    let took = sent.elapsed();
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    (took, status.code(), rest)
}

fn attribute<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a Value> {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| v.value.as_ref())
}

fn text<'a>(attributes: &'a [KeyValue], key: &str) -> &'a str {
    match attribute(attributes, key) {
        Some(Value::StringValue(s)) => s,
        other => panic!("{key}: {other:?} in {attributes:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_exports_the_genai_span_tree_over_otlp_http() {
    let (addr, received) = receiver().await;
    let dir = workdir("tree");
    let (child, stderr, url) = serve(
        &dir,
        &format!("http://{addr}"),
        &[
            ("OTEL_SERVICE_NAME", "agentor-otlp-test"),
            ("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true"),
        ],
    );
    chat(&url).await;
    // Shutting down flushes what the batch exporter still holds.
    let (_, code, rest) = stop(child, stderr);
    assert_eq!(code, Some(0), "{rest}");
    assert!(!rest.contains("warning"), "{rest}");

    let bodies = received.0.lock().unwrap().clone();
    assert!(!bodies.is_empty(), "no export arrived; stderr: {rest}");
    let mut spans: Vec<Span> = Vec::new();
    for (content_type, body) in &bodies {
        assert_eq!(content_type, "application/x-protobuf");
        let request = ExportTraceServiceRequest::decode(body.as_ref()).unwrap();
        for resource_spans in request.resource_spans {
            let resource = resource_spans.resource.unwrap();
            assert_eq!(
                text(&resource.attributes, "service.name"),
                "agentor-otlp-test"
            );
            for scope in resource_spans.scope_spans {
                spans.extend(scope.spans);
            }
        }
    }
    let by_id: HashMap<&[u8], &Span> = spans.iter().map(|s| (s.span_id.as_slice(), s)).collect();
    let parent = |span: &Span| by_id.get(span.parent_span_id.as_slice()).copied();
    let named = |name: &str| spans.iter().filter(|s| s.name == name).collect::<Vec<_>>();
    let names: Vec<&str> = spans.iter().map(|s| s.name.as_str()).collect();

    let agents = named("invoke_agent Weather");
    assert_eq!(agents.len(), 1, "{names:?}");
    let agent = agents[0];
    assert_eq!(
        text(&agent.attributes, "gen_ai.operation.name"),
        "invoke_agent"
    );
    assert_eq!(text(&agent.attributes, "gen_ai.agent.name"), "Weather");
    assert_eq!(text(&agent.attributes, "gen_ai.provider.name"), "demo");
    // The run is the child of the request that started it.
    let request = parent(agent).expect("the request span was exported");
    assert_eq!(request.name, "POST /chat");
    assert_eq!(text(&request.attributes, "http.route"), "/chat");
    assert_eq!(request.trace_id, agent.trace_id);

    let chats: Vec<&Span> = spans
        .iter()
        .filter(|s| s.name.starts_with("chat "))
        .collect();
    assert_eq!(chats.len(), 2, "{names:?}");
    for chat in &chats {
        assert_eq!(parent(chat).map(|p| &p.span_id), Some(&agent.span_id));
        assert_eq!(text(&chat.attributes, "gen_ai.operation.name"), "chat");
        assert_eq!(text(&chat.attributes, "gen_ai.provider.name"), "demo");
        assert!(
            matches!(
                attribute(&chat.attributes, "gen_ai.usage.output_tokens"),
                Some(Value::IntValue(n)) if *n > 0
            ),
            "{:?}",
            chat.attributes
        );
        // Content was opted in: the messages are there, as the schema's JSON.
        let input: serde_json::Value =
            serde_json::from_str(text(&chat.attributes, "gen_ai.input.messages")).unwrap();
        assert_eq!(input[0]["role"], "user");
        assert_eq!(input[0]["parts"][0]["content"], "Weather in Oslo?");
    }
    let tools = named("execute_tool get_weather");
    assert_eq!(tools.len(), 1, "{names:?}");
    let tool = tools[0];
    assert_eq!(parent(tool).map(|p| &p.span_id), Some(&agent.span_id));
    assert_eq!(text(&tool.attributes, "gen_ai.tool.name"), "get_weather");
    assert!(!text(&tool.attributes, "gen_ai.tool.call.id").is_empty());
    let arguments: serde_json::Value =
        serde_json::from_str(text(&tool.attributes, "gen_ai.tool.call.arguments")).unwrap();
    assert!(arguments["city"].is_string(), "{arguments}");
    assert!(text(&tool.attributes, "gen_ai.tool.call.result").contains("sunny"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collector_that_never_answers_does_not_hold_up_shutdown() {
    // Accepts connections (the kernel's backlog does) and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = silent.local_addr().unwrap();
    let dir = workdir("silent");
    let (child, stderr, url) = serve(
        &dir,
        &format!("http://{addr}"),
        &[("OTEL_EXPORTER_OTLP_TIMEOUT", "60000")],
    );
    chat(&url).await;
    let (took, code, rest) = stop(child, stderr);
    assert_eq!(code, Some(0), "{rest}");
    assert!(took < Duration::from_secs(10), "shutdown took {took:?}");
    assert!(rest.contains("server stopped"), "{rest}");
    assert!(rest.contains("warning: OTLP"), "{rest}");
    drop(silent);
}

#[test]
fn a_configuration_that_cannot_work_exits_1_naming_the_variable() {
    let dir = workdir("invalid");
    for (name, value, endpoint) in [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "not a url", "not a url"),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "10s", "http://127.0.0.1:9"),
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_agentor"))
            .current_dir(&dir)
            .args([
                "serve",
                "--port",
                "0",
                "--host",
                "127.0.0.1",
                "--provider",
                "demo",
            ])
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
            .env(name, value)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(name) && stderr.contains(value), "{stderr}");
    }
}
