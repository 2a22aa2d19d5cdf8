//! Per-event cost of the frontends' encoders — the AI SDK UI message stream
//! ([`ai_sdk::Encoder`]) and AG-UI ([`ag_ui::Encoder`]) — against the
//! `/chat` SSE encoder ([`sse::encode_event`], agentor JSON), on the same
//! events in the same run.
//!
//! The run is what a model turn streams: a run start, 1,000 text deltas of a
//! word each, a tool call streamed as 50 argument fragments and its complete
//! call, the tool result, 200 more deltas, the message, usage and the run
//! end. Each side writes every event into one reused buffer, as a response
//! body does; the time is per run, so divide by the event count (printed)
//! for the per-event cost.
//!
//! `cargo bench -p agentor-benches --bench frontends -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use agentor_core::wire::{ag_ui, ai_sdk, sse, Format};
use agentor_core::{Event, EventKind, RunStatus};
use bytes::BytesMut;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use serde_json::json;

fn run() -> Vec<Event> {
    let mut events = vec![Event::new(EventKind::RunStart {
        agent: "Assistant".into(),
        model: Some("gpt-4o-mini".into()),
    })];
    for i in 0..1000 {
        events.push(Event::text_delta(if i % 7 == 0 {
            "sentence. "
        } else {
            "word "
        }));
    }
    events.push(Event::tool_call_delta("call_1", Some("get_weather"), ""));
    for _ in 0..50 {
        events.push(Event::tool_call_delta("call_1", None, "\"Par"));
    }
    events.push(Event::tool_call(
        "call_1",
        "get_weather",
        json!({"city": "Paris"}),
    ));
    events.push(Event::tool_result(
        "call_1",
        "get_weather",
        "18°C and sunny",
    ));
    for _ in 0..200 {
        events.push(Event::text_delta("more "));
    }
    events.push(Event::message("the whole answer"));
    events.push(Event::new(EventKind::Usage {
        input_tokens: 100,
        output_tokens: 1250,
        total_tokens: 1350,
        cache_read_input_tokens: 0,
        cache_creation_input_tokens: 0,
    }));
    events.push(Event::run_end(RunStatus::Completed));
    events
        .into_iter()
        .enumerate()
        .map(|(i, e)| {
            e.with_seq(i as u64)
                .with_run_id("run_18f2a9c3e4b5")
                .with_source("Assistant")
        })
        .collect()
}

fn chat_sse(events: &[Event], buf: &mut BytesMut) -> usize {
    buf.clear();
    for event in events {
        sse::encode_event(Format::Agentor, event, buf);
    }
    black_box(buf.len())
}

fn ui_message_stream(events: &[Event], buf: &mut BytesMut) -> usize {
    buf.clear();
    let mut encoder = ai_sdk::Encoder::new();
    for event in events {
        encoder.encode(event, buf);
    }
    black_box(buf.len())
}

fn agui(events: &[Event], buf: &mut BytesMut) -> usize {
    buf.clear();
    let mut encoder = ag_ui::Encoder::new("thread_1", "run_1");
    for event in events {
        encoder.encode(event, buf);
    }
    black_box(buf.len())
}

fn bench(c: &mut Criterion) {
    let events = run();
    // The per-event cost is the time per run divided by this.
    assert_eq!(events.len(), 1257);
    let mut group = c.benchmark_group("encode_run");
    group.throughput(Throughput::Elements(events.len() as u64));
    let mut buf = BytesMut::with_capacity(1 << 20);
    group.bench_function("chat_sse_agentor_json", |b| {
        b.iter(|| chat_sse(&events, &mut buf))
    });
    group.bench_function("ai_sdk_ui_message_stream", |b| {
        b.iter(|| ui_message_stream(&events, &mut buf))
    });
    group.bench_function("ag_ui", |b| b.iter(|| agui(&events, &mut buf)));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
