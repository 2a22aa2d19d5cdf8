//! Each operator alone over the same million events, against the unlayered
//! stream; rebuffer throughput in bytes; the rebuffer per 4-character delta
//! against a hand-written loop; merge of 1,000 sources.
//!
//! `cargo bench -p agentor-benches --bench operators`

use std::hint::black_box;
use std::time::Duration;

use agentor_benches::{kept_kinds, synthetic_run, text_bytes};
use agentor_core::ops::record::RecordLayer;
use agentor_core::wire::{sse, Format};
use agentor_core::{
    merge, source, BatchLayer, Boundary, Event, EventResult, EventStreamExt, Origin, ProgressLayer,
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
        .measurement_time(agentor_benches::measurement_time(Duration::from_secs(5)));

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
        .measurement_time(agentor_benches::measurement_time(Duration::from_secs(5)));
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

/// Deltas in the `rebuffer_4_char_deltas` input.
const FOUR_CHAR_DELTAS: usize = 100_000;

/// Issue #19's input: 100,000 deltas of 4 characters of ASCII prose (cut
/// anywhere, mid-word included), plus one reasoning delta and one tool call
/// every 10,000 deltas; every event tagged with a source, as the synthetic run is.
fn four_char_deltas() -> Vec<Event> {
    let prose: String = synthetic_run(EVENTS)
        .iter()
        .filter(|e| e.kind() == agentor_core::Kind::TextDelta)
        .filter_map(Event::text)
        .collect();
    assert!(prose.is_ascii() && prose.len() >= 4 * FOUR_CHAR_DELTAS);
    let shared = Text::from(prose);
    let mut events = Vec::with_capacity(FOUR_CHAR_DELTAS + FOUR_CHAR_DELTAS / 5_000);
    for i in 0..FOUR_CHAR_DELTAS {
        if i > 0 && i % 10_000 == 0 {
            events.push(Event::reasoning_delta("thinking about it "));
            events.push(Event::tool_call(
                format!("call_{i}").as_str(),
                "get_weather",
                serde_json::json!({"city": "Paris"}),
            ));
        }
        events.push(Event::text_delta(shared.slice(4 * i..4 * i + 4)));
    }
    // One origin for the run, shared as a producer shares it.
    let origin = Origin::new(Some(Text::from_static("assistant")), None, None);
    for (seq, event) in events.iter_mut().enumerate() {
        event.seq = seq as u64;
        event.origin = origin.clone();
    }
    events
}

/// The baseline: the word rebuffer written as one loop, no stream and no
/// layer. Text is held in a `String`; a piece is cut after the last space or
/// line feed followed by a non-space (the layer's rule for ASCII text), copied
/// out as a new delta of the held kind that keeps the envelope of the delta
/// it starts in; a change of delta kind or any other event flushes the held
/// text. Calls `out` on each event it emits and returns their seqs and text
/// lengths mixed into one number.
fn hand_written_rebuffer(input: Vec<Event>, mut out: impl FnMut(&Event)) -> u64 {
    use agentor_core::EventKind;
    let mut sum = 0u64;
    let mut held = String::with_capacity(1024);
    // The delta the held text starts in, and whether it is reasoning.
    let mut first: Option<(Event, bool)> = None;
    let mut emit = |event: Event, sum: &mut u64| {
        *sum = sum.wrapping_add(event.seq ^ event.text().map_or(0, str::len) as u64);
        out(&event);
    };
    let piece = |(first, reasoning): &(Event, bool), text: &str| {
        let text = Text::from(text);
        first.derive(if *reasoning {
            EventKind::ReasoningDelta {
                text,
                message_id: None,
            }
        } else {
            EventKind::TextDelta {
                text,
                message_id: None,
            }
        })
    };
    for event in input {
        let (text, reasoning) = match &event.kind {
            EventKind::TextDelta { text, .. } => (text, false),
            EventKind::ReasoningDelta { text, .. } => (text, true),
            _ => {
                if let Some(first) = first.take() {
                    emit(piece(&first, &held), &mut sum);
                    held.clear();
                }
                emit(event, &mut sum);
                continue;
            }
        };
        if first.as_ref().is_some_and(|f| f.1 != reasoning) {
            if let Some(first) = first.take() {
                emit(piece(&first, &held), &mut sum);
                held.clear();
            }
        }
        let old_len = held.len();
        held.push_str(text);
        let bytes = held.as_bytes();
        let cut = (old_len.max(1)..bytes.len()).rev().find(|&p| {
            matches!(bytes[p - 1], b' ' | b'\n' | b'\t') && !bytes[p].is_ascii_whitespace()
        });
        match cut {
            Some(cut) => {
                let start = first.take().unwrap_or_else(|| (event.clone(), reasoning));
                emit(piece(&start, &held[..cut]), &mut sum);
                held.drain(..cut);
                if !held.is_empty() {
                    first = Some(if cut >= old_len {
                        (event, reasoning)
                    } else {
                        start
                    });
                }
            }
            None if old_len == 0 => first = Some((event, reasoning)),
            None => {}
        }
    }
    if let Some(first) = first.take() {
        emit(piece(&first, &held), &mut sum);
    }
    sum
}

fn rebuffer_per_delta(c: &mut Criterion) {
    let rt = runtime();
    let input = four_char_deltas();
    let layer = || RebufferLayer::new(Boundary::Words);
    // Both sides must do the same work: the same pieces with the same seqs.
    let mut by_hand = Vec::new();
    hand_written_rebuffer(input.clone(), |e| by_hand.push(e.clone()));
    let layered: Vec<Event> = rt.block_on(
        source::iter(input.clone())
            .rebuffer(layer())
            .map(|e| e.expect("no errors"))
            .collect(),
    );
    assert_eq!(layered, by_hand, "the baseline does the layer's work");

    let mut group = c.benchmark_group("rebuffer_4_char_deltas");
    group
        .throughput(Throughput::Elements(FOUR_CHAR_DELTAS as u64))
        .sample_size(20)
        .measurement_time(agentor_benches::measurement_time(Duration::from_secs(5)));
    group.bench_function("hand_written", |b| {
        b.iter_batched(
            || input.clone(),
            |input| {
                hand_written_rebuffer(input, |e| {
                    black_box(e);
                })
            },
            BatchSize::PerIteration,
        )
    });
    group.bench_function("unlayered", |b| {
        b.iter_batched(
            || input.clone(),
            |input| rt.block_on(drain(source::iter(input))),
            BatchSize::PerIteration,
        )
    });
    group.bench_function("rebuffer_words", |b| {
        b.iter_batched(
            || input.clone(),
            |input| rt.block_on(drain(source::iter(input).rebuffer(layer()))),
            BatchSize::PerIteration,
        )
    });
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
        .measurement_time(agentor_benches::measurement_time(Duration::from_secs(5)));
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

criterion_group!(
    benches,
    operators,
    rebuffer_throughput,
    rebuffer_per_delta,
    merging
);
criterion_main!(benches);
