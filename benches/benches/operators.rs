//! Each operator alone over the same million events, against the unlayered
//! stream; rebuffer throughput in bytes; merge of 1,000 sources.
//!
//! `cargo bench -p agentor-benches --bench operators`

use std::hint::black_box;
use std::time::Duration;

use agentor_benches::{kept_kinds, synthetic_run, text_bytes};
use agentor_core::ops::record::RecordLayer;
use agentor_core::wire::{sse, Format};
use agentor_core::{
    merge, source, BatchLayer, Boundary, Event, EventResult, EventStreamExt, ProgressLayer,
    RebufferLayer, Text, TimeoutLayer,
};
use bytes::BytesMut;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use futures::{stream, Stream, StreamExt};
use tokio::runtime::Runtime;

const EVENTS: usize = 1_000_000;

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime")
}

/// Drains `stream`, touching every item so nothing is optimized away.
async fn drain<S: Stream<Item = EventResult>>(stream: S) -> u64 {
    let mut stream = std::pin::pin!(stream);
    let mut seqs = 0u64;
    while let Some(item) = stream.next().await {
        seqs = seqs.wrapping_add(item.map_or(1, |e| e.seq));
    }
    seqs
}

fn operators(c: &mut Criterion) {
    let input = synthetic_run(EVENTS);
    let rt = runtime();
    let mut group = c.benchmark_group("operator_1M");
    group
        .throughput(Throughput::Elements(EVENTS as u64))
        .sample_size(10)
        .measurement_time(Duration::from_secs(5));

    macro_rules! case {
        ($name:literal, |$s:ident| $layered:expr) => {
            group.bench_function($name, |b| {
                b.iter_batched(
                    || input.clone(),
                    |input| {
                        let $s = source::iter(input);
                        rt.block_on(drain($layered))
                    },
                    BatchSize::PerIteration,
                )
            });
        };
    }

    case!("unlayered", |s| s);
    case!("filter", |s| s.filter_events(kept_kinds()));
    case!("rebuffer_words", |s| s.rebuffer(Boundary::Words));
    case!("batch_64", |s| s.batch(BatchLayer::new().max_count(64)));
    case!("batch_64_coalesce", |s| s
        .batch(BatchLayer::new().max_count(64).coalesce(true)));
    case!("timeout_idle", |s| s
        .timeouts(TimeoutLayer::new().idle(Duration::from_secs(30))));
    case!("progress", |s| s.progress(ProgressLayer::new()));
    case!("tap", |s| s.tap(|item| {
        black_box(item);
    }));
    case!("record_to_sink", |s| s
        .with(RecordLayer::new(tokio::io::sink)));

    group.bench_function("sse_encode", |b| {
        b.iter_batched(
            || input.clone(),
            |input| {
                let mut buf = BytesMut::with_capacity(128 * 1024);
                for event in &input {
                    sse::encode_event(Format::Native, event, &mut buf);
                    if buf.len() > 64 * 1024 {
                        buf.clear();
                    }
                }
                buf.len()
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

/// Text-only input cut into pieces of `size` bytes (at char boundaries).
fn text_in_pieces(text: &str, size: usize) -> Vec<Event> {
    let mut pieces = Vec::new();
    let shared = Text::from(text);
    let mut at = 0;
    while at < text.len() {
        let mut end = (at + size).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        pieces.push(Event::text_delta(shared.slice(at..end)));
        at = end;
    }
    pieces
}

fn rebuffer_throughput(c: &mut Criterion) {
    let rt = runtime();
    let synthetic: Vec<Event> = synthetic_run(EVENTS)
        .into_iter()
        .filter(|e| e.kind() == agentor_core::Kind::TextDelta)
        .collect();
    let prose: String = synthetic.iter().filter_map(Event::text).collect();
    let cjk = "我们今天学习中文，流式输出需要在词边界切分。".repeat(prose.len() / 66);
    let inputs = [
        ("deltas_1_8_bytes", synthetic),
        ("chunks_64_bytes", text_in_pieces(&prose, 64)),
        ("chunks_4_KiB", text_in_pieces(&prose, 4096)),
        ("cjk_chunks_64_bytes", text_in_pieces(&cjk, 64)),
    ];
    let mut group = c.benchmark_group("rebuffer_words_bytes");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(5));
    for (name, input) in inputs {
        group.throughput(Throughput::Bytes(text_bytes(&input)));
        group.bench_function(name, |b| {
            b.iter_batched(
                || input.clone(),
                |input| {
                    rt.block_on(drain(
                        source::iter(input).rebuffer(RebufferLayer::new(Boundary::Words)),
                    ))
                },
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

const SOURCES: usize = 1_000;
const PER_SOURCE: usize = 1_000;

/// One always-ready source of small events, made as they are pulled.
fn lazy_source() -> impl Stream<Item = EventResult> + Send + 'static {
    stream::iter(
        (0..PER_SOURCE as u64)
            .map(|seq| Ok(Event::text_delta(Text::from_static("tok")).with_seq(seq))),
    )
}

fn merging(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("merge_1000_sources");
    group
        .throughput(Throughput::Elements((SOURCES * PER_SOURCE) as u64))
        .sample_size(10)
        .measurement_time(Duration::from_secs(5));
    group.bench_function("chained_baseline", |b| {
        b.iter(|| {
            rt.block_on(drain(
                stream::iter((0..SOURCES).map(|_| lazy_source())).flatten(),
            ))
        })
    });
    group.bench_function("agentor_merge", |b| {
        b.iter(|| {
            let names: Vec<String> = (0..SOURCES).map(|i| format!("agent-{i}")).collect();
            rt.block_on(drain(merge(names.into_iter().map(|n| (n, lazy_source())))))
        })
    });
    group.bench_function("futures_select_all", |b| {
        b.iter(|| {
            rt.block_on(drain(stream::select_all(
                (0..SOURCES).map(|_| lazy_source().boxed()),
            )))
        })
    });
    group.finish();
}

criterion_group!(benches, operators, rebuffer_throughput, merging);
criterion_main!(benches);
