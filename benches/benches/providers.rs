//! The Chat Completions parser over 100,000 content deltas, against the
//! least any parser must do (each `data:` payload into a `serde_json::Value`),
//! and the full path: SSE framing of the body in 16 KiB chunks, parsing,
//! stamping, as a live turn runs it.
//!
//! `cargo bench -p agentor-benches --bench providers`

use std::hint::black_box;
use std::time::Duration;

use agentor_benches::chat_completions;
use agentor_core::{EventResult, Kind};
use agentor_providers::http::{turn_stream, ByteStream, TurnStart};
use agentor_providers::{ChatCompletionsParser, TurnParser};
use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use futures::StreamExt;

const DELTAS: usize = 100_000;
const CHUNK_BYTES: usize = 16 * 1024;

/// The parser alone over the payloads; counts text deltas.
fn parse_only(payloads: &[String]) -> usize {
    let mut parser = ChatCompletionsParser::new();
    let mut out: Vec<EventResult> = Vec::with_capacity(4);
    let mut deltas = 0;
    for payload in payloads {
        parser.message("", payload, &mut out);
        deltas += count_deltas(&mut out);
    }
    parser.message("", "[DONE]", &mut out);
    parser.finish(&mut out);
    deltas + count_deltas(&mut out)
}

fn count_deltas(out: &mut Vec<EventResult>) -> usize {
    let n = out
        .drain(..)
        .filter(|e| matches!(e, Ok(e) if e.kind() == Kind::TextDelta))
        .count();
    black_box(n)
}

/// The baseline: each payload into a `Value`, nothing else.
fn value_only(payloads: &[String]) -> usize {
    payloads
        .iter()
        .filter(|p| black_box(serde_json::from_str::<serde_json::Value>(p)).is_ok())
        .count()
}

/// The whole turn: SSE framing, parsing, stamping, as a stream.
async fn full_path(chunks: Vec<Bytes>) -> usize {
    let body: ByteStream = Box::pin(futures::stream::iter(chunks.into_iter().map(Ok)));
    let start = TurnStart {
        agent: "assistant".into(),
        ..TurnStart::default()
    };
    let parser = Box::new(ChatCompletionsParser::new());
    turn_stream(start, async { Ok(body) }, None, parser)
        .filter(|e| std::future::ready(matches!(e, Ok(e) if e.kind() == Kind::TextDelta)))
        .count()
        .await
}

fn bench(c: &mut Criterion) {
    let payloads = chat_completions::payloads(DELTAS);
    let chunks = chat_completions::chunks(&chat_completions::body(&payloads), CHUNK_BYTES);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    // The three do the same work on the same input: check before timing.
    assert_eq!(parse_only(&payloads), DELTAS);
    assert_eq!(value_only(&payloads), DELTAS + 3);
    assert_eq!(rt.block_on(full_path(chunks.clone())), DELTAS);

    let mut group = c.benchmark_group("chat_completions_100k_deltas");
    group
        .throughput(Throughput::Elements(DELTAS as u64))
        .sample_size(20)
        .measurement_time(agentor_benches::measurement_time(Duration::from_secs(6)));
    group.bench_function("serde_value_baseline", |b| b.iter(|| value_only(&payloads)));
    group.bench_function("parser", |b| b.iter(|| parse_only(&payloads)));
    group.bench_function("sse_full_path", |b| {
        b.iter(|| rt.block_on(full_path(chunks.clone())))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
