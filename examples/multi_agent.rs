//! Multi-agent streaming: several agents at different paces merged into one stream.
//!
//! Three scripted agents are merged with `agentor_core::merge`; a `MergeHandle`
//! adds a fourth while the merge runs, then closes it so the merge can end once
//! every agent has. The merged stream is re-cut at word boundaries (rebuffer
//! keeps one buffer per source, so agents never mix their text) and printed as
//! native JSON lines, each tagged with the agent it came from.
//!
//! Run it with `cargo run -p agentor-examples --example multi_agent`.

use std::collections::BTreeMap;
use std::time::Duration;

use agentor_core::source::{Script, Scripted};
use agentor_core::wire::{ndjson, Format};
use agentor_core::{merge, Boundary, EventStreamExt, RunStatus};
use bytes::BytesMut;
use futures::StreamExt;
use tokio::io::AsyncWriteExt;

/// An agent streaming `text` in pieces of up to `piece` characters, one every `pace`.
fn agent(text: &str, piece: usize, pace: Duration) -> Scripted {
    let chars: Vec<char> = text.chars().collect();
    let pieces = chars.chunks(piece).map(|c| c.iter().collect::<String>());
    Script::new()
        .text(pace, pieces)
        .end(RunStatus::Completed)
        .into_stream()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let ms = Duration::from_millis;
    let said = [
        ("planner", "First the data, then the chart.", 4, ms(7)),
        (
            "researcher",
            "Found three sources on solar output.",
            6,
            ms(3),
        ),
        ("critic", "Check the units.", 2, ms(15)),
        ("fact-checker", "All three sources agree.", 5, ms(4)),
    ];
    let [first, second, third, late] =
        said.map(|(name, text, piece, pace)| (name, text, agent(text, piece, pace)));

    let merged = merge([first, second, third].map(|(name, _, stream)| (name, stream)));
    let handle = merged.handle();
    tokio::spawn(async move {
        tokio::time::sleep(ms(40)).await; // the others are mid-sentence by now
        let (name, _, stream) = late;
        handle
            .add(name, stream)
            .expect("the merge is still running");
        handle.close(); // no more agents: the merge ends when these four have
        let refused = handle.add("too-late", agent("Wait!", 5, ms(1)));
        assert!(refused.is_err(), "a closed merge gives the stream back");
    });

    let mut words = merged.rebuffer(Boundary::Words);
    let (mut stdout, mut line) = (tokio::io::stdout(), BytesMut::new());
    let mut texts: BTreeMap<String, String> = BTreeMap::new();
    let mut last_seq: BTreeMap<String, u64> = BTreeMap::new();
    while let Some(item) = words.next().await {
        let event = item?;
        let source = event
            .origin
            .source
            .as_deref()
            .unwrap_or_default()
            .to_owned();
        // Each source keeps its own numbering, in order, however they interleave.
        let previous = last_seq.insert(source.clone(), event.seq);
        assert!(previous <= Some(event.seq), "{source}: order kept");
        texts
            .entry(source)
            .or_default()
            .push_str(event.text().unwrap_or_default());
        ndjson::encode(Format::Native, &event, &mut line);
        stdout.write_all_buf(&mut line).await?;
    }
    stdout.flush().await?;

    // Each agent's text arrived whole and in order, whatever the interleaving.
    for (name, text, _, _) in said {
        assert_eq!(texts[name], text, "{name}");
    }
    Ok(())
}
