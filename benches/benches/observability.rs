//! What observability costs per event: the six-layer pipeline with metrics
//! layers, an agent run (spans, run and turn metrics) and the `/chat`
//! response body (events by kind, bytes), first with no subscriber and no
//! recorder, then with the server's Prometheus recorder installed.
//!
//! `cargo bench -p agentor-benches --bench observability`; to compare the
//! "off" cases with the code before instrumentation, run the same bench on
//! that code with `-- --save-baseline before`, then here with `-- --baseline before`.

use agentor::{Agentor, BoxEventStream, ChatRequest, Event, Provider, RunStatus};
use agentor_benches::{drain_sse, pipeline, synthetic_run, Sink};
use agentor_core::{source, EventStreamExt};
use agentor_server::{EventStreamResponse, ServerConfig};
use axum::response::IntoResponse;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use futures::StreamExt;
use std::hint::black_box;
use std::time::Duration;

const PIPELINE_EVENTS: usize = 1_000_000;
const RUN_EVENTS: usize = 200_000;

/// A provider answering at once with `RUN_EVENTS` text deltas.
#[derive(Debug)]
struct Fast;

impl Provider for Fast {
    fn stream(&self, _request: ChatRequest) -> BoxEventStream {
        let deltas = (0..RUN_EVENTS).map(|_| Ok(Event::text_delta("word ")));
        let end = [
            Ok(Event::message("…")),
            Ok(Event::run_end(RunStatus::Completed)),
        ];
        source::iter_results(deltas.chain(end)).boxed()
    }
    fn name(&self) -> &str {
        "fast"
    }
}

fn cases(c: &mut Criterion, recorder: &str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    let input = synthetic_run(PIPELINE_EVENTS);
    let mut group = c.benchmark_group(format!("obs_pipeline_1M/{recorder}"));
    group
        .throughput(Throughput::Elements(PIPELINE_EVENTS as u64))
        .sample_size(10)
        .measurement_time(Duration::from_secs(8));
    group.bench_function("six_layers", |b| {
        b.iter_batched(
            || input.clone(),
            |input| {
                let mut sink = Sink::default();
                rt.block_on(drain_sse(pipeline(source::iter(input)), &mut sink));
                sink.finish()
            },
            BatchSize::PerIteration,
        )
    });
    group.bench_function("six_layers_two_metrics_layers", |b| {
        b.iter_batched(
            || input.clone(),
            |input| {
                let mut sink = Sink::default();
                let events = pipeline(source::iter(input).metrics("provider")).metrics("client");
                rt.block_on(drain_sse(events, &mut sink));
                sink.finish()
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();

    let agent = Agentor::builder().name("Bench").provider(Fast).build();
    let mut group = c.benchmark_group(format!("obs_run_200k/{recorder}"));
    group
        .throughput(Throughput::Elements(RUN_EVENTS as u64))
        .sample_size(10)
        .measurement_time(Duration::from_secs(8));
    group.bench_function("agent_run", |b| {
        b.iter(|| rt.block_on(agent.stream_chat("go").into_inner().count()))
    });
    group.bench_function("chat_body", |b| {
        b.iter(|| {
            rt.block_on(async {
                let events = agent.stream_chat("go").into_inner();
                let body = EventStreamResponse::new(events)
                    .heartbeat(Duration::from_secs(3600))
                    .into_response()
                    .into_body();
                let mut chunks = body.into_data_stream();
                let mut bytes = 0usize;
                while let Some(chunk) = chunks.next().await {
                    bytes += chunk.expect("body").len();
                }
                black_box(bytes)
            })
        })
    });
    group.finish();
}

fn bench(c: &mut Criterion) {
    cases(c, "off");
    // Building the router installs the server's Prometheus recorder (once
    // per process, for good): every case after this records.
    let agent = Agentor::builder().provider(Fast).build();
    drop(agentor_server::router(agent, ServerConfig::default()));
    cases(c, "prometheus");
}

criterion_group!(benches, bench);
criterion_main!(benches);
