//! The Anthropic Messages parser over 100,000 `text_delta` events, against
//! the least any parser must do (each `data:` payload into a
//! `serde_json::Value`), in the same run. Targets: ≥ 1 M deltas/s, and at
//! most twice the baseline's time.
//!
//! `cargo bench -p agentor-benches --bench anthropic`

use std::hint::black_box;
use std::time::Duration;

use agentor_core::{EventResult, Kind};
use agentor_providers::{MessagesParser, TurnParser};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const DELTAS: usize = 100_000;

/// A realistic stream: start, one text block of `deltas` word-sized
/// deltas (some with escapes and non-ASCII), stop.
fn payloads(deltas: usize) -> Vec<String> {
    let words = [
        "Hello",
        " world",
        ", \"quoted\"",
        " caf\u{e9}",
        "\\n",
        " streaming",
        " ☕",
    ];
    let mut payloads = vec![
        r#"{"type":"message_start","message":{"id":"msg_bench","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-5","stop_reason":null,"usage":{"input_tokens":25,"output_tokens":1}}}"#.to_owned(),
        r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#.to_owned(),
    ];
    for n in 0..deltas {
        let text = serde_json::to_string(words[n % words.len()]).expect("a string encodes");
        payloads.push(format!(
            r#"{{"type":"content_block_delta","index":0,"delta":{{"type":"text_delta","text":{text}}}}}"#
        ));
    }
    payloads.push(r#"{"type":"content_block_stop","index":0}"#.to_owned());
    payloads.push(r#"{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":15}}"#.to_owned());
    payloads.push(r#"{"type":"message_stop"}"#.to_owned());
    payloads
}

/// The parser alone over the payloads; counts text deltas.
fn parse_only(payloads: &[String]) -> usize {
    let mut parser = MessagesParser::new();
    let mut out: Vec<EventResult> = Vec::with_capacity(4);
    let mut deltas = 0;
    for payload in payloads {
        parser.message("", payload, &mut out);
        deltas += count_deltas(&mut out);
    }
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

fn bench(c: &mut Criterion) {
    let payloads = payloads(DELTAS);
    // Both do their work on the same input: check before timing.
    assert_eq!(parse_only(&payloads), DELTAS);
    assert_eq!(value_only(&payloads), DELTAS + 5);

    let mut group = c.benchmark_group("anthropic_100k_deltas");
    group
        .throughput(Throughput::Elements(DELTAS as u64))
        .sample_size(10)
        .measurement_time(Duration::from_secs(4));
    group.bench_function("serde_value_baseline", |b| b.iter(|| value_only(&payloads)));
    group.bench_function("parser", |b| b.iter(|| parse_only(&payloads)));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
