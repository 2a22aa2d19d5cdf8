//! `install_metrics_recorder`: the server's Prometheus recorder and the
//! application's own, side by side, each getting every metric of a run. Its
//! own test binary, since a process has one `metrics` recorder.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use agentor_server::{install_metrics_recorder, RecorderInstalled, ServerConfig};
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use metrics_util::MetricKind;
use serde_json::json;

#[tokio::test]
async fn prometheus_and_the_extra_recorder_both_count_a_run() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    install_metrics_recorder(recorder).unwrap();
    assert_eq!(
        install_metrics_recorder(DebuggingRecorder::new()),
        Err(RecorderInstalled)
    );

    let server = common::start(common::demo_agent(), ServerConfig::default()).await;
    let client = reqwest::Client::new();
    let response = client
        .post(server.url("/chat"))
        .json(&json!({"input": "hello", "stream": true}))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    let body = response.text().await.unwrap();
    assert!(body.contains("event: done"), "{body}");
    let exposition = client
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        "agentor_runs_started_total{gen_ai_agent_name=\"Assistant\"} 1\n",
        "agentor_events_out_total{kind=\"run_end\",wire=\"sse\"} 1\n",
    ] {
        assert!(exposition.contains(line), "{line}\n{exposition}");
    }

    // A snapshot takes the counts (it resets them): one for both checks.
    let snapshot = snapshotter.snapshot().into_vec();
    let counter = |name: &str, labels: &[(&str, &str)]| {
        snapshot
            .iter()
            .find(|(key, ..)| {
                let key_labels: Vec<(&str, &str)> =
                    key.key().labels().map(|l| (l.key(), l.value())).collect();
                key.kind() == MetricKind::Counter
                    && key.key().name() == name
                    && key_labels == labels
            })
            .map(|(.., value)| value)
    };
    assert_eq!(
        counter(
            "agentor.runs.started",
            &[("gen_ai.agent.name", "Assistant")]
        ),
        Some(&DebugValue::Counter(1))
    );
    assert_eq!(
        counter(
            "agentor.events.out",
            &[("kind", "run_end"), ("wire", "sse")]
        ),
        Some(&DebugValue::Counter(1))
    );
    server.shutdown.trigger();
}
