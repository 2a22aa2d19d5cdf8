//! Buffered streaming: re-cut ragged model deltas at word or sentence
//! boundaries, and batch events released together.
//!
//! Models stream pieces that split words anywhere ("Wor", "ld"). `rebuffer`
//! re-cuts text deltas at boundaries (Unicode-aware, CJK included) and
//! `batch` groups events by count, bytes and a maximum wait, optionally
//! coalescing adjacent deltas into one. Neither ever changes the text: the
//! concatenation of what comes out is what went in.
//!
//! Run it with `cargo run -p agentor-examples --example buffered_streaming`.
#![allow(clippy::print_stdout)] // showing the pieces is the point

use std::time::Duration;

use agentor::source::{Script, Scripted};
use agentor::{BatchLayer, Boundary, EventStreamExt, Kind, RunStatus};
use futures::{Stream, StreamExt};

const PIECES: [&str; 12] = [
    "Stre", "aming ", "is f", "un. Wor", "ds arr", "ive in p", "ieces", "! Do", "n't wo",
    "rry: th", "ey join", " up.",
];

/// A model streaming `PIECES`, one every 5 ms.
fn model() -> Scripted {
    Script::new()
        .text(Duration::from_millis(5), PIECES)
        .end(RunStatus::Completed)
        .into_stream()
}

/// The text deltas of `stream`, printed as `|`-separated pieces.
async fn show(name: &str, stream: impl Stream<Item = agentor::EventResult>) -> Vec<String> {
    let pieces: Vec<String> = stream
        .filter_map(|item| async move {
            let event = item.ok()?;
            (event.kind() == Kind::TextDelta).then(|| event.text().unwrap_or_default().to_owned())
        })
        .collect()
        .await;
    println!("{name:>22}: |{}|", pieces.join("|"));
    assert_eq!(pieces.concat(), PIECES.concat(), "{name}: nothing lost");
    pieces
}

#[tokio::main]
async fn main() {
    show("as the model sent", model()).await;

    let words = show("rebuffer(Words)", model().rebuffer(Boundary::Words)).await;
    assert!(words[..words.len() - 1].iter().all(|w| w.ends_with(' ')));

    let sentences = show("rebuffer(Sentences)", model().rebuffer(Boundary::Sentences)).await;
    assert_eq!(sentences.len(), 3, "{sentences:?}");

    // Batches of up to 4 events, or whatever came within 12 ms; adjacent
    // deltas merged into one (fewer, larger frames for a slow client).
    let batch = BatchLayer::new()
        .max_count(4)
        .max_wait(Some(Duration::from_millis(12)))
        .coalesce(true);
    let batched = show("batch(4, 12 ms, coalesce)", model().batch(batch.clone())).await;
    assert!(batched.len() < PIECES.len());

    // Whole words, then batched: what a chat UI over a slow link wants.
    show(
        "rebuffer + batch",
        model().rebuffer(Boundary::Words).batch(batch),
    )
    .await;
}
