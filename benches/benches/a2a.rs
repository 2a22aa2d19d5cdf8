//! A2A streaming against `/chat` SSE: the same run, projected to A2A task
//! events and framed as the server frames them, in each dialect.
//!
//! The A2A path is the server's per-event work: [`TaskProjector`] (the task
//! snapshot, status and artifact updates), then one frame per event inside
//! the JSON-RPC response ([`StreamFrames`], what the server writes with). The
//! baseline encodes the same events as `/chat` SSE frames ([`drain_sse`]).
//! Neither counts the task store or the socket.
//!
//! `cargo bench -p agentor-benches --bench a2a -- --sample-size 10 --measurement-time 5`

use agentor_a2a::frames::StreamFrames;
use agentor_a2a::jsonrpc::{self, RequestId};
use agentor_a2a::{Dialect, Message, Part, Role, StreamResponse, TaskProjector};
use agentor_benches::{drain_sse, synthetic_run, Sink};
use agentor_core::{source, Event};
use bytes::BytesMut;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::hint::black_box;
use std::time::Duration;

const EVENTS: usize = 200_000;

/// A socket-sized sink of A2A frames, dropped every 64 KiB as [`Sink`] does.
struct FrameSink {
    buf: BytesMut,
    written: u64,
}

impl FrameSink {
    fn new() -> Self {
        FrameSink {
            buf: BytesMut::with_capacity(128 * 1024),
            written: 0,
        }
    }

    /// One event as the server's A2A stream sends it; with `tree`, through
    /// a `serde_json::Value` per event as it was before the typed frames
    /// (`render`, then the envelope), for the comparison in the same run.
    fn frame(&mut self, frames: &StreamFrames, id: &RequestId, event: &StreamResponse, tree: bool) {
        if tree {
            let result = event.render(frames.dialect());
            jsonrpc::push_sse_frame(&mut self.buf, &jsonrpc::response(id, result));
        } else {
            frames.push(&mut self.buf, event);
        }
        if self.buf.len() >= 64 * 1024 {
            self.written += self.buf.len() as u64;
            self.buf.clear();
        }
    }

    fn finish(self) -> u64 {
        self.written + self.buf.len() as u64
    }
}

/// The run as one A2A task's stream in `dialect`: bytes framed.
fn a2a_stream(input: Vec<Event>, dialect: Dialect, tree: bool) -> u64 {
    let id = RequestId::String("bench".to_owned());
    let frames = StreamFrames::json_rpc(&id, dialect);
    let user = Message::new("m-1", Role::User, vec![Part::text("Go")]);
    let mut projector = TaskProjector::new("task-1", "ctx-1", user);
    let mut sink = FrameSink::new();
    for event in projector.start() {
        sink.frame(&frames, &id, &event, tree);
    }
    // One buffer for the whole run, as the task store keeps.
    let mut events = Vec::new();
    for item in input {
        projector.on_item_into(Ok(item), &mut events);
        for event in events.drain(..) {
            sink.frame(&frames, &id, &event, tree);
        }
    }
    for event in projector.on_end_of_stream() {
        sink.frame(&frames, &id, &event, tree);
    }
    sink.finish()
}

fn bench(c: &mut Criterion) {
    let input = synthetic_run(EVENTS);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    let mut group = c.benchmark_group("a2a_200k");
    group
        .throughput(Throughput::Elements(EVENTS as u64))
        .sample_size(10)
        .measurement_time(Duration::from_secs(5));

    group.bench_function("chat_sse", |b| {
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
    for (name, dialect, tree) in [
        ("a2a_v0_3", Dialect::V0_3, false),
        ("a2a_v1_0", Dialect::V1_0, false),
        ("a2a_v0_3_value_tree", Dialect::V0_3, true),
        ("a2a_v1_0_value_tree", Dialect::V1_0, true),
    ] {
        group.bench_function(name, |b| {
            b.iter_batched(
                || input.clone(),
                |input| black_box(a2a_stream(input, dialect, tree)),
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
