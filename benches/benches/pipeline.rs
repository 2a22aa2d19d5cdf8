//! The six-layer pipeline against a hand-written loop doing the same work.
//!
//! `cargo bench -p agentor-benches --bench pipeline`

use agentor_benches::{drain_sse, hand_written, pipeline, synthetic_run, Sink};
use agentor_core::source;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::hint::black_box;
use std::time::Duration;

const EVENTS: usize = 1_000_000;

fn bench(c: &mut Criterion) {
    let input = synthetic_run(EVENTS);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    let mut group = c.benchmark_group("pipeline_1M");
    group
        .throughput(Throughput::Elements(EVENTS as u64))
        .sample_size(10)
        .measurement_time(agentor_benches::measurement_time(Duration::from_secs(8)));

    group.bench_function("hand_written_loop", |b| {
        b.iter_batched(
            || input.clone(),
            |input| {
                let mut sink = Sink::default();
                black_box(hand_written(input, &mut sink));
                sink.finish()
            },
            BatchSize::PerIteration,
        )
    });
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
    group.bench_function("unlayered_sse", |b| {
        b.iter_batched(
            || input.clone(),
            |input| {
                let mut sink = Sink::default();
                rt.block_on(drain_sse(source::iter(input), &mut sink));
                sink.finish()
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
