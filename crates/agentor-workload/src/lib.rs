//! The benchmark workload and its baseline, shared by `agentor bench` and the
//! criterion benches (`benches/`), so both measure the same thing.
//!
//! A crate of its own so that neither the benches depend on the command line
//! nor the command line on the benches; it needs nothing but `agentor-core`.
//!
//! [`synthetic_run`] builds the input every benchmark uses; [`hand_written`]
//! is the baseline for the six-layer pipeline: one loop doing the same work
//! (filter, word rebuffer, batch, idle timeout, progress, SSE encoding) on the
//! same input. A test checks both produce the same bytes, so the comparison is
//! honest.

use std::time::Duration;

use agentor_core::wire::{sse, Format};
use agentor_core::{
    BatchLayer, Boundary, Envelope, Event, EventKind, EventResult, Kind, KindSet, Origin, Pipeline,
    ProgressLayer, RebufferLayer, RunStatus, Text, TimeoutLayer,
};
use bytes::BytesMut;
use futures::{Stream, StreamExt};

/// Words the synthetic model says.
const WORDS: &[&str] = &[
    "the",
    "agent",
    "streams",
    "tokens",
    "to",
    "a",
    "client",
    "while",
    "tools",
    "run",
    "in",
    "parallel,",
    "and",
    "every",
    "delta",
    "arrives",
    "quickly.",
    "Latency",
    "matters",
    "here",
];

/// A tiny deterministic generator (no `rand` dependency, same input every run).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

/// `n` events shaped like a model's stream: text deltas of 1–8 characters cut
/// anywhere (mid-word included), a reasoning delta about every 50 events, a
/// tool call and its result about every 500, a message at the end of each
/// turn, and a `completed` run end.
pub fn synthetic_run(n: usize) -> Vec<Event> {
    let mut rng = Lcg(42);
    let mut text = String::new();
    while text.len() < n * 5 {
        text.push_str(WORDS[(rng.next() % WORDS.len() as u64) as usize]);
        text.push(' ');
    }
    let shared = Text::from(text);
    let mut events = Vec::with_capacity(n);
    let mut at = 0;
    let mut turn_start = 0;
    while events.len() + 1 < n {
        let roll = rng.next() % 1000;
        let event = if roll < 20 {
            Event::reasoning_delta("thinking about it ")
        } else if roll < 22 {
            let id = format!("call_{}", events.len());
            events.push(Event::tool_call(
                id.as_str(),
                "get_weather",
                serde_json::json!({"city": "Paris"}),
            ));
            Event::tool_result(id.as_str(), "get_weather", "18°C and sunny")
        } else if roll < 23 {
            let message = Event::message(shared.slice(turn_start..at));
            turn_start = at;
            message
        } else {
            let len = 1 + (rng.next() % 8) as usize;
            let end = (at + len).min(shared.len());
            let delta = Event::text_delta(shared.slice(at..end));
            at = end;
            delta
        };
        events.push(event);
    }
    events.truncate(n - 1);
    events.push(Event::run_end(RunStatus::Completed));
    // One origin for the run, shared as a producer shares it.
    let origin = Origin::new(Some(Text::from_static("assistant")), None, None);
    for (seq, event) in events.iter_mut().enumerate() {
        event.seq = seq as u64;
        event.origin = origin.clone();
    }
    events
}

/// Total bytes of text-delta text in `events`.
pub fn text_bytes(events: &[Event]) -> u64 {
    events
        .iter()
        .filter(|e| e.kind() == Kind::TextDelta)
        .map(|e| e.text().map_or(0, str::len) as u64)
        .sum()
}

/// The kinds the benchmark pipeline keeps.
pub fn kept_kinds() -> KindSet {
    KindSet::of(Kind::TextDelta)
        .with(Kind::Message)
        .with(Kind::ToolCall)
        .with(Kind::ToolResult)
        .with(Kind::RunEnd)
}

/// The six-layer pipeline: filter → rebuffer(words) → batch → timeout(idle) → progress.
/// (SSE encoding is the sink, [`drain_sse`].)
pub fn pipeline<S>(input: S) -> impl Stream<Item = EventResult>
where
    S: Stream<Item = EventResult>,
{
    Pipeline::new()
        .filter_events(kept_kinds())
        .rebuffer(RebufferLayer::new(Boundary::Words))
        .batch(BatchLayer::new().max_count(64))
        .timeouts(TimeoutLayer::new().idle(Duration::from_secs(30)))
        .progress(ProgressLayer::new())
        .apply(input)
}

/// A socket-sized sink: encoded bytes are dropped every 64 KiB, as a write would.
pub struct Sink {
    buf: BytesMut,
    /// Bytes written in all.
    pub written: u64,
}

impl Default for Sink {
    fn default() -> Self {
        Sink {
            buf: BytesMut::with_capacity(128 * 1024),
            written: 0,
        }
    }
}

impl Sink {
    /// Encodes one event as an SSE frame.
    #[inline]
    pub fn sse(&mut self, event: &Event) {
        sse::encode_event(Format::Native, event, &mut self.buf);
        if self.buf.len() >= 64 * 1024 {
            self.written += self.buf.len() as u64;
            self.buf.clear();
        }
    }

    /// Everything written, once the stream is over.
    pub fn finish(mut self) -> u64 {
        self.written + self.buf.split().len() as u64
    }
}

/// Drives `stream` to the end, encoding every event as an SSE frame.
pub async fn drain_sse<S: Stream<Item = EventResult>>(stream: S, sink: &mut Sink) {
    let mut stream = std::pin::pin!(stream);
    let mut envelope = Envelope::new();
    while let Some(item) = stream.next().await {
        sink.sse(&envelope.event_ref(&item));
    }
}

/// Counters the hand-written loop keeps, like the progress layer.
#[derive(Debug, Default)]
pub struct Counts {
    /// Events.
    pub events: u64,
    /// Text deltas.
    pub text_deltas: u64,
    /// Text-delta bytes.
    pub text_bytes: u64,
    /// Tool calls.
    pub tool_calls: u64,
    /// Tool results.
    pub tool_results: u64,
}

/// The baseline: filter, word rebuffer, batch of 64, progress counting and SSE
/// encoding written as one loop over the input, no streams, no layers.
///
/// The rebuffer is the same rule the layer uses for ASCII text (cut after a
/// space or line feed once the next character is known), which is what the
/// synthetic input holds; the idle timeout costs nothing when the input never
/// waits, so the loop has none.
pub fn hand_written(input: Vec<Event>, sink: &mut Sink) -> Counts {
    let kept = kept_kinds();
    let mut counts = Counts::default();
    let mut held = String::new();
    let mut held_event: Option<Event> = None;
    let mut batch: Vec<Event> = Vec::with_capacity(64);

    let emit = |event: Event, batch: &mut Vec<Event>, counts: &mut Counts, sink: &mut Sink| {
        batch.push(event);
        if batch.len() == 64 {
            for event in batch.drain(..) {
                count(counts, &event);
                sink.sse(&event);
            }
        }
    };

    for event in input {
        if !kept.contains(event.kind()) {
            continue;
        }
        if let EventKind::TextDelta { text, .. } = &event.kind {
            if text.is_empty() {
                continue;
            }
            let old_len = held.len();
            held.push_str(text);
            if old_len == 0 {
                held_event = Some(event.clone());
            }
            let bytes = held.as_bytes();
            let cut = (old_len.max(1)..bytes.len()).rev().find(|&p| {
                matches!(bytes[p - 1], b' ' | b'\n' | b'\t') && !bytes[p].is_ascii_whitespace()
            });
            if let Some(cut) = cut {
                let first = held_event.take().unwrap_or_else(|| event.clone());
                emit(
                    first.derive(delta(&held[..cut])),
                    &mut batch,
                    &mut counts,
                    sink,
                );
                held.drain(..cut);
                if !held.is_empty() {
                    held_event = Some(if cut >= old_len { event.clone() } else { first });
                }
            }
            continue;
        }
        if let Some(first) = held_event.take() {
            emit(first.derive(delta(&held)), &mut batch, &mut counts, sink);
            held.clear();
        }
        emit(event, &mut batch, &mut counts, sink);
    }
    if let Some(first) = held_event.take() {
        emit(first.derive(delta(&held)), &mut batch, &mut counts, sink);
    }
    for event in batch.drain(..) {
        count(&mut counts, &event);
        sink.sse(&event);
    }
    counts
}

fn delta(text: &str) -> EventKind {
    EventKind::TextDelta {
        text: Text::from(text),
        message_id: None,
    }
}

fn count(counts: &mut Counts, event: &Event) {
    counts.events += 1;
    match &event.kind {
        EventKind::TextDelta { text, .. } => {
            counts.text_deltas += 1;
            counts.text_bytes += text.len() as u64;
        }
        EventKind::ToolCall(_) => counts.tool_calls += 1,
        EventKind::ToolResult(_) => counts.tool_results += 1,
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode_all(events: &[Event]) -> Vec<u8> {
        let mut buf = BytesMut::new();
        for e in events {
            sse::encode_event(Format::Native, e, &mut buf);
        }
        buf.to_vec()
    }

    /// Captures what a sink is given.
    fn run_pipeline(input: Vec<Event>) -> Vec<Event> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("runtime");
        rt.block_on(
            pipeline(agentor_core::source::iter(input))
                .map(|e| e.expect("no errors in the synthetic run"))
                .collect(),
        )
    }

    #[test]
    fn the_baseline_does_the_same_work_as_the_pipeline() {
        let input = synthetic_run(20_000);
        let layered = run_pipeline(input.clone());
        let mut sink = Sink::default();
        let mut captured = BytesMut::new();
        // Re-run the hand-written loop into a capturing buffer.
        let counts = hand_written(input, &mut sink);
        for e in &layered {
            sse::encode_event(Format::Native, e, &mut captured);
        }
        assert_eq!(counts.events, layered.len() as u64);
        assert_eq!(sink.finish(), captured.len() as u64);
        assert_eq!(encode_all(&layered), captured.to_vec());
    }

    #[test]
    fn the_synthetic_run_looks_like_a_model() {
        let run = synthetic_run(10_000);
        assert_eq!(run.len(), 10_000);
        let kinds = |k: Kind| run.iter().filter(|e| e.kind() == k).count();
        assert!(kinds(Kind::TextDelta) > 9_000);
        assert!(kinds(Kind::ReasoningDelta) > 100);
        assert!(kinds(Kind::ToolCall) > 5);
        assert_eq!(kinds(Kind::ToolCall), kinds(Kind::ToolResult));
        assert_eq!(
            run.last().and_then(Event::run_status),
            Some(RunStatus::Completed)
        );
        let deltas = run.iter().filter(|e| e.kind() == Kind::TextDelta);
        assert!(deltas
            .clone()
            .all(|e| (1..=8).contains(&e.text().map_or(0, str::len))));
    }
}
