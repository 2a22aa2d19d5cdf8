//! `agentor bench`: a short in-process measurement of each layer and of the
//! full pipeline against the hand-written loop, on the workload of
//! [`agentor_workload`] (the one the criterion benches use).

use std::hint::black_box;
use std::io::Write;
use std::time::{Duration, Instant};

use agentor_core::{
    source, BatchLayer, Boundary, Event, EventResult, EventStreamExt, ProgressLayer, TimeoutLayer,
};
use futures::{Stream, StreamExt};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::args::BenchArgs;
use crate::exit::Outcome;
use agentor_workload::{drain_sse, hand_written, kept_kinds, pipeline, synthetic_run, Sink};

/// One row of the table: what was measured and its median time.
#[derive(Debug)]
struct Row {
    name: &'static str,
    median: Duration,
}

/// The cases, in the table's order. Each layer alone is drained without a
/// sink; the full pipeline and the hand-written loop both encode SSE.
const CASES: &[&str] = &[
    "hand-written loop (baseline)",
    "unlayered stream",
    "filter",
    "rebuffer (words)",
    "batch (64)",
    "timeout (idle)",
    "progress",
    "full pipeline + SSE",
];

/// Runs [`measure_all`] on a thread of its own, so that the command's task
/// stays free to hear Ctrl-C: the measurements never wait, so they would
/// not let it be polled. Stopped, the command leaves the thread behind, and
/// the process exits without it.
pub(crate) async fn run(args: BenchArgs) -> Outcome {
    let runtime = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || runtime.block_on(measure_all(&args)))
        .await
        .unwrap_or_else(|err| Outcome::Failed(format!("the measurements failed: {err}")))
}

/// Runs every case `repetitions` times, in one task (no spawned task, no
/// thread hop: what the criterion benches measure too).
async fn measure_all(args: &BenchArgs) -> Outcome {
    let events = usize::try_from(args.events).unwrap_or(usize::MAX);
    let input = synthetic_run(events);
    let bar = progress_bar((CASES.len() as u64) * args.repetitions);
    let mut rows = Vec::with_capacity(CASES.len());
    for (case, name) in CASES.iter().enumerate() {
        let mut times = Vec::new();
        for _ in 0..args.repetitions {
            let input = input.clone();
            let started = Instant::now();
            measure(case, input).await;
            times.push(started.elapsed());
            bar.inc(1);
        }
        times.sort();
        rows.push(Row {
            name,
            median: times[times.len() / 2],
        });
    }
    bar.finish_and_clear();

    let mut out = std::io::stdout().lock();
    Outcome::of_output(table(&rows, events, args.repetitions, &mut out))
}

fn progress_bar(steps: u64) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(steps), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("measuring {bar:30} {pos}/{len} {elapsed}") {
        bar.set_style(style);
    }
    bar
}

/// Runs case number `case` once over `input`.
async fn measure(case: usize, input: Vec<Event>) {
    if case == 0 {
        let mut sink = Sink::default();
        black_box(hand_written(input, &mut sink));
        black_box(sink.finish());
        return;
    }
    let stream = source::iter(input);
    match case {
        1 => drain(stream).await,
        2 => drain(stream.filter_events(kept_kinds())).await,
        3 => drain(stream.rebuffer(Boundary::Words)).await,
        4 => drain(stream.batch(BatchLayer::new().max_count(64))).await,
        5 => drain(stream.timeouts(TimeoutLayer::new().idle(Duration::from_secs(30)))).await,
        6 => drain(stream.progress(ProgressLayer::new())).await,
        _ => {
            let mut sink = Sink::default();
            drain_sse(pipeline(stream), &mut sink).await;
            black_box(sink.finish());
        }
    }
}

/// Drains `stream`, touching every item so nothing is optimized away.
async fn drain<S: Stream<Item = EventResult>>(stream: S) {
    let mut stream = std::pin::pin!(stream);
    let mut seqs = 0u64;
    while let Some(item) = stream.next().await {
        seqs = seqs.wrapping_add(item.map_or(1, |e| e.seq));
    }
    black_box(seqs);
}

/// Writes the table: ns/event, what each layer adds over the unlayered
/// stream, and the ratio to the hand-written loop.
fn table(
    rows: &[Row],
    events: usize,
    repetitions: u64,
    out: &mut impl Write,
) -> std::io::Result<()> {
    let build = if cfg!(debug_assertions) {
        "debug build: run with --release for representative numbers"
    } else {
        "release build"
    };
    writeln!(
        out,
        "agentor bench: {events} events, median of {repetitions} runs ({build})"
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "{:<30} {:>10} {:>15} {:>16}",
        "layer", "ns/event", "layer cost", "vs hand-written"
    )?;
    let per_event = |row: &Row| row.median.as_nanos() as f64 / events.max(1) as f64;
    let baseline = rows.first().map_or(1.0, per_event).max(f64::MIN_POSITIVE);
    // What a layer adds is its time beyond the unlayered stream it wraps:
    // the ratio to the whole hand-written loop alone would flatter it.
    let unlayered = rows.get(1).map_or(0.0, per_event);
    for (index, row) in rows.iter().enumerate() {
        let ns = per_event(row);
        let cost = if index < 2 {
            "-".to_owned()
        } else {
            format!("{:+.1}", ns - unlayered)
        };
        writeln!(
            out,
            "{:<30} {:>10.1} {:>15} {:>15.2}×",
            row.name,
            ns,
            cost,
            ns / baseline
        )?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "layer cost: ns/event beyond the unlayered stream; the hand-written loop and the full pipeline both filter, rebuffer, batch, time and count, and encode SSE"
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_table_has_a_row_per_case_and_ratios_to_the_baseline() {
        let rows: Vec<Row> = CASES
            .iter()
            .enumerate()
            .map(|(i, name)| Row {
                name,
                median: Duration::from_micros(100 * (i as u64 + 1)),
            })
            .collect();
        let mut out = Vec::new();
        table(&rows, 1000, 3, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 5 + CASES.len(), "{text}");
        assert!(
            lines[3].contains("100.0") && lines[3].ends_with("1.00×"),
            "{text}"
        );
        assert!(lines[3 + CASES.len() - 1].ends_with("8.00×"), "{text}");
        // The filter row (third case) costs 300 µs − 200 µs over 1000 events.
        assert!(lines[5].contains("+100.0"), "{text}");
    }
}
