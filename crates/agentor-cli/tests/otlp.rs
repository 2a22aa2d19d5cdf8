//! OTLP export, end to end: the `agentor` binary (built with the `otlp`
//! feature, which this package's dev-dependency on itself turns on) serves a
//! run with a tool call and exports its spans and metrics over OTLP/HTTP to
//! a receiver this test starts; the protobuf is decoded with the
//! OpenTelemetry proto types, the GenAI span tree checked, and the metrics
//! compared with what `GET /metrics` shows.

// Signals are sent with the `kill` command.
#![cfg(unix)]
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::collections::HashMap;
use std::io::{BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::routing::post;
use axum::Router;
use common::{agentor, spawn_serving};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::metrics::v1::{metric, number_data_point, Metric};
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;

/// What the receiver got: each `POST` body with its path and content type.
#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<(String, String, Bytes)>>>);

impl Received {
    /// The bodies posted to `path`, in order, each checked to be protobuf.
    fn bodies(&self, path: &str) -> Vec<Bytes> {
        let received = self.0.lock().unwrap();
        received
            .iter()
            .filter(|(p, _, _)| p == path)
            .map(|(_, content_type, body)| {
                assert_eq!(content_type, "application/x-protobuf");
                body.clone()
            })
            .collect()
    }
}

async fn export(
    State(received): State<Received>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    received
        .0
        .lock()
        .unwrap()
        .push((uri.path().to_owned(), content_type, body));
    StatusCode::OK
}

/// A collector's OTLP/HTTP traces and metrics endpoints on a free loopback port.
async fn receiver() -> (SocketAddr, Received) {
    let received = Received::default();
    let app = Router::new()
        .route("/v1/traces", post(export))
        .route("/v1/metrics", post(export))
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
    let spawned = spawn_serving(
        agentor(dir)
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
            .envs(extra_env.iter().copied()),
    );
    (spawned.child, spawned.stderr, spawned.url)
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

    let bodies = received.bodies("/v1/traces");
    assert!(!bodies.is_empty(), "no export arrived; stderr: {rest}");
    let mut spans: Vec<Span> = Vec::new();
    for body in &bodies {
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
        ("OTEL_METRIC_EXPORT_INTERVAL", "1m", "http://127.0.0.1:9"),
    ] {
        let output = agentor(&dir)
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

/// The metric values of one OTLP export, by metric name.
fn metrics_of(body: &[u8], service: &str) -> HashMap<String, Metric> {
    let request = ExportMetricsServiceRequest::decode(body).unwrap();
    let mut metrics = HashMap::new();
    for resource_metrics in request.resource_metrics {
        let resource = resource_metrics.resource.unwrap();
        assert_eq!(text(&resource.attributes, "service.name"), service);
        for scope in resource_metrics.scope_metrics {
            for metric in scope.metrics {
                metrics.insert(metric.name.clone(), metric);
            }
        }
    }
    metrics
}

/// An attribute set as Prometheus writes its labels: sorted, dots as
/// underscores.
fn labels(attributes: &[KeyValue]) -> Vec<(String, String)> {
    let mut labels: Vec<(String, String)> = attributes
        .iter()
        .map(|kv| {
            let value = match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                Some(Value::StringValue(s)) => s.clone(),
                other => panic!("{}: {other:?}", kv.key),
            };
            (kv.key.replace('.', "_"), value)
        })
        .collect();
    labels.sort();
    labels
}

/// The samples of a Prometheus text exposition: name and sorted labels to value.
fn prometheus_samples(exposition: &str) -> HashMap<(String, Vec<(String, String)>), f64> {
    let mut samples = HashMap::new();
    for line in exposition.lines().filter(|l| !l.starts_with('#')) {
        let Some((series, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let (name, labels) = match series.split_once('{') {
            Some((name, rest)) => {
                let mut labels: Vec<(String, String)> = rest
                    .trim_end_matches('}')
                    .split("\",")
                    .filter(|pair| !pair.is_empty())
                    .map(|pair| {
                        let (k, v) = pair.split_once("=\"").unwrap();
                        (k.to_owned(), v.trim_end_matches('"').to_owned())
                    })
                    .collect();
                labels.sort();
                (name.to_owned(), labels)
            }
            None => (series.to_owned(), Vec::new()),
        };
        samples.insert((name, labels), value.parse().unwrap());
    }
    samples
}

/// A number data point's value, whichever type it was sent as.
fn number(value: Option<&number_data_point::Value>) -> f64 {
    match value {
        Some(number_data_point::Value::AsInt(n)) => *n as f64,
        Some(number_data_point::Value::AsDouble(x)) => *x,
        None => panic!("a data point without a value"),
    }
}

/// Each data point of `metric` as (sorted labels, value); a histogram's
/// value is its count.
fn points(metric: &Metric) -> Vec<(Vec<(String, String)>, f64)> {
    match metric.data.as_ref().unwrap() {
        metric::Data::Sum(sum) => {
            assert!(sum.is_monotonic, "{}", metric.name);
            // Cumulative, as Prometheus counters are.
            assert_eq!(sum.aggregation_temporality, 2, "{}", metric.name);
            sum.data_points
                .iter()
                .map(|p| (labels(&p.attributes), number(p.value.as_ref())))
                .collect()
        }
        metric::Data::Gauge(gauge) => gauge
            .data_points
            .iter()
            .map(|p| (labels(&p.attributes), number(p.value.as_ref())))
            .collect(),
        metric::Data::Histogram(histogram) => histogram
            .data_points
            .iter()
            .map(|p| (labels(&p.attributes), p.count as f64))
            .collect(),
        other => panic!("{}: {other:?}", metric.name),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_exports_its_metrics_over_otlp_http_and_still_serves_them_on_prometheus() {
    let (addr, received) = receiver().await;
    let dir = workdir("metrics");
    let service = "agentor-otlp-metrics";
    let (child, stderr, url) = serve(
        &dir,
        &format!("http://{addr}"),
        &[
            ("OTEL_SERVICE_NAME", service),
            ("OTEL_TRACES_EXPORTER", "none"),
            ("OTEL_METRIC_EXPORT_INTERVAL", "200"),
        ],
    );
    let client = reqwest::Client::new();
    let response = client
        .post(format!("{url}/chat"))
        .json(&serde_json::json!({"input": "Weather in Oslo?", "stream": true}))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    let events = response.text().await.unwrap();
    assert!(events.contains("event: done"), "{events}");
    // The stream counts as open until the server drops its body, which may
    // be just after the client read its end.
    let deadline = Instant::now() + Duration::from_secs(10);
    let exposition = loop {
        let exposition = client
            .get(format!("{url}/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if exposition.contains("agentor_streams_active{wire=\"sse\"} 0\n") {
            break exposition;
        }
        assert!(Instant::now() < deadline, "{exposition}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    // The periodic reader exports while the server runs, not only at exit.
    let deadline = Instant::now() + Duration::from_secs(10);
    while received.bodies("/v1/metrics").is_empty() {
        assert!(Instant::now() < deadline, "no periodic metrics export");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (_, code, rest) = stop(child, stderr);
    assert_eq!(code, Some(0), "{rest}");
    assert!(!rest.contains("warning"), "{rest}");
    assert!(
        received.bodies("/v1/traces").is_empty(),
        "OTEL_TRACES_EXPORTER=none"
    );

    // Counts are cumulative: the export at shutdown holds every one.
    let bodies = received.bodies("/v1/metrics");
    let metrics = metrics_of(bodies.last().unwrap(), service);
    let names: Vec<&String> = metrics.keys().collect();
    let point = |name: &str, attributes: &[(&str, &str)]| -> f64 {
        let metric = metrics
            .get(name)
            .unwrap_or_else(|| panic!("no {name} in {names:?}"));
        let mut wanted: Vec<(String, String)> = attributes
            .iter()
            .map(|(k, v)| (k.replace('.', "_"), (*v).to_owned()))
            .collect();
        wanted.sort();
        points(metric)
            .into_iter()
            .find(|(labels, _)| *labels == wanted)
            .unwrap_or_else(|| panic!("{name}: no point {wanted:?} in {metric:?}"))
            .1
    };
    let agent = [("gen_ai.agent.name", "Weather")];
    assert_eq!(point("agentor.runs.started", &agent), 1.0);
    assert_eq!(
        point(
            "agentor.runs.ended",
            &[("gen_ai.agent.name", "Weather"), ("status", "completed")]
        ),
        1.0
    );
    assert_eq!(point("agentor.runs.active", &agent), 0.0);
    assert_eq!(point("agentor.streams.active", &[("wire", "sse")]), 0.0);
    assert_eq!(
        point(
            "agentor.events.out",
            &[("kind", "tool_call"), ("wire", "sse")]
        ),
        1.0
    );
    assert_eq!(
        point(
            "agentor.events.out",
            &[("kind", "run_end"), ("wire", "sse")]
        ),
        1.0
    );
    assert!(point("agentor.stream.out", &[("wire", "sse")]) >= events.len() as f64);
    assert_eq!(
        point(
            "agentor.tool.duration",
            &[("gen_ai.tool.name", "get_weather")]
        ),
        1.0
    );
    // Two model calls: the one asking for the tool, the one answering.
    let duration = &metrics["gen_ai.client.operation.duration"];
    assert_eq!(duration.unit, "s");
    assert!(!duration.description.is_empty());
    let Some(metric::Data::Histogram(histogram)) = &duration.data else {
        panic!("{duration:?}")
    };
    assert_eq!(
        histogram.data_points.iter().map(|p| p.count).sum::<u64>(),
        2
    );
    let first = &histogram.data_points[0];
    assert_eq!(first.explicit_bounds, agentor::telemetry::DURATION_BUCKETS);
    assert_eq!(text(&first.attributes, "gen_ai.operation.name"), "chat");
    assert_eq!(text(&first.attributes, "gen_ai.provider.name"), "demo");
    assert!(metrics.contains_key("gen_ai.client.operation.time_to_first_chunk"));

    // `/metrics` saw the same: every point of these has its Prometheus twin.
    let samples = prometheus_samples(&exposition);
    for (name, prometheus) in [
        ("agentor.runs.started", "agentor_runs_started_total"),
        ("agentor.runs.ended", "agentor_runs_ended_total"),
        ("agentor.runs.active", "agentor_runs_active"),
        ("agentor.events.out", "agentor_events_out_total"),
        ("agentor.stream.out", "agentor_stream_out_bytes_total"),
        ("agentor.streams.active", "agentor_streams_active"),
        (
            "agentor.tool.duration",
            "agentor_tool_duration_seconds_count",
        ),
        (
            "gen_ai.client.operation.duration",
            "gen_ai_client_operation_duration_seconds_count",
        ),
        (
            "gen_ai.client.token.usage",
            "gen_ai_client_token_usage_count",
        ),
    ] {
        let metric = metrics
            .get(name)
            .unwrap_or_else(|| panic!("no {name} in {names:?}"));
        for (labels, value) in points(metric) {
            let key = (prometheus.to_owned(), labels);
            assert_eq!(samples.get(&key), Some(&value), "{key:?}\n{exposition}");
        }
    }
}
