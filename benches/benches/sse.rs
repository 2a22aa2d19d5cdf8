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

use agentor_core::wire::sse::{Decoder, SseError};
use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use eventsource_stream::Eventsource;
use futures::StreamExt;

const DELTAS: usize = 10_000;
const SMALL_DELTAS: usize = 1_000;
const CHUNK_BYTES: usize = 16 * 1024;

const WORDS: &[&str] = &[
    " the",
    " agent",
    " streams",
    " tok",
    "ens",
    " to",
    " a",
    " client",
    " while",
    " tools",
    " run",
    " in",
    " parallel,",
    " and",
    " every",
    " delta",
    " arrives",
    " quickly.",
    "\n\n",
    " \"quoted\"",
    " café",
    " 中文",
];

/// The SSE body of a turn of `deltas` content deltas: a role chunk, the
/// deltas, the finish chunk, and `[DONE]`.
fn body(deltas: usize) -> Bytes {
    let head = r#"{"id":"chatcmpl-AZ9xk2LmQw7pX","object":"chat.completion.chunk","created":1733764000,"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_0aa8d3e20b","choices":[{"index":0,"delta":"#;
    let tail = r#","logprobs":null,"finish_reason":null}],"usage":null}"#;
    let mut body = format!(
        "data: {head}{{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null}}{tail}\n\n"
    );
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..deltas {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let word = WORDS[(state >> 33) as usize % WORDS.len()];
        let content = serde_json::to_string(word).expect("a string");
        body.push_str(&format!("data: {head}{{\"content\":{content}}}{tail}\n\n"));
    }
    body.push_str(&format!(
        "data: {head}{{}},\"logprobs\":null,\"finish_reason\":\"stop\"}}],\"usage\":null}}\n\n"
    ));
    body.push_str("data: [DONE]\n\n");
    Bytes::from(body)
}

/// `body` in pieces of `size` bytes, sharing its allocation.
fn chunks(body: &Bytes, size: usize) -> Vec<Bytes> {
    (0..body.len())
        .step_by(size)
        .map(|start| body.slice(start..(start + size).min(body.len())))
        .collect()
}

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
        let body = body(deltas);
        let chunks = chunks(&body, size);
        // Both read the same events from the same bytes: check before timing.
        let expect = ours(&chunks);
        assert_eq!(expect.0, deltas + 3);
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
