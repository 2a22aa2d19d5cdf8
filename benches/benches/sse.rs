//! SSE decoding alone: agentor's [`Decoder`] against `eventsource-stream`,
//! on the same bytes in the same run.
//!
//! The body is a realistic Chat Completions stream of 10,000 content deltas
//! (each `data:` line a ~280-byte chunk object, as OpenAI sends them), fed
//! in 16 KiB chunks as a socket delivers it, and, for the worst case of
//! framing, its first 1,000 deltas fed one byte at a time. Each side yields
//! every event with its data as a string and nothing more.
//!
//! `cargo bench -p agentor-benches --bench sse -- --warm-up-time 1 --measurement-time 5`

use std::hint::black_box;

use agentor_benches::chat_completions;
use agentor_core::wire::sse::{Decoder, SseError};
use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use eventsource_stream::Eventsource;
use futures::StreamExt;

const DELTAS: usize = 10_000;
const SMALL_DELTAS: usize = 1_000;
const CHUNK_BYTES: usize = 16 * 1024;

/// Events and data bytes, so that neither side can skip work.
fn tally(events: usize, data: usize) -> (usize, usize) {
    black_box((events, data))
}

fn ours(chunks: &[Bytes]) -> (usize, usize) {
    let mut decoder = Decoder::new();
    let (mut events, mut data) = (0, 0);
    for chunk in chunks {
        decoder.push(chunk.clone());
        while let Some(event) = decoder.next_event().expect("a valid body") {
            events += 1;
            data += black_box(event.data).len();
        }
    }
    decoder.finish().expect("a valid body");
    tally(events, data)
}

fn eventsource_stream(chunks: &[Bytes]) -> (usize, usize) {
    let body = futures::stream::iter(chunks.iter().cloned().map(Ok::<_, SseError>));
    futures::executor::block_on(body.eventsource().fold((0, 0), |(events, data), event| {
        let event = event.expect("a valid body");
        std::future::ready((events + 1, data + black_box(event.data).len()))
    }))
}

fn bench(c: &mut Criterion) {
    for (name, deltas, size) in [
        ("sse_decode_10k_deltas_16k_chunks", DELTAS, CHUNK_BYTES),
        ("sse_decode_1k_deltas_1_byte_chunks", SMALL_DELTAS, 1),
    ] {
        let body = chat_completions::body(&chat_completions::payloads(deltas));
        let chunks = chat_completions::chunks(&body, size);
        // Both read the same events from the same bytes: check before timing.
        let expect = ours(&chunks);
        // The role, finish and usage chunks, the deltas, `[DONE]`.
        assert_eq!(expect.0, deltas + 4);
        assert_eq!(eventsource_stream(&chunks), expect);

        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_function("agentor_decoder", |b| b.iter(|| ours(&chunks)));
        group.bench_function("eventsource_stream", |b| {
            b.iter(|| eventsource_stream(&chunks))
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
