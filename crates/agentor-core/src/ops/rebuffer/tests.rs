#![allow(clippy::unwrap_used)]

use std::time::Duration;

use futures_util::StreamExt;

use super::*;
use crate::source::{self, Script};
use crate::{Error, EventStreamExt, RunStatus};

fn words() -> RebufferLayer {
    RebufferLayer::new(Boundary::Words).max_hold(None)
}

async fn run(layer: RebufferLayer, events: Vec<Event>) -> Vec<Event> {
    source::iter(events)
        .rebuffer(layer)
        .map(Result::unwrap)
        .collect()
        .await
}

fn texts(events: &[Event]) -> Vec<&str> {
    events.iter().filter_map(Event::text).collect()
}

fn deltas(pieces: &[&str]) -> Vec<Event> {
    pieces.iter().map(|p| Event::text_delta(*p)).collect()
}

#[tokio::test]
async fn words_keep_whitespace_in_place() {
    let out = run(words(), deltas(&["  Hello  wo", "rld\n", "\nnext  "])).await;
    assert_eq!(texts(&out), ["  Hello  ", "world\n\n", "next  "]);
}

#[tokio::test]
async fn a_word_inside_one_delta_is_not_copied() {
    let delta = Text::from("alpha beta");
    let out = run(words(), vec![Event::text_delta(delta.clone())]).await;
    assert_eq!(out[0].text().unwrap().as_ptr(), delta.as_ptr());
}

#[tokio::test]
async fn a_piece_that_ends_where_a_delta_ended_is_not_copied() {
    // "中" goes out with the first delta; "文很" is held, and the cut after
    // the second delta falls where the first ended.
    let first = Text::from("中文很");
    let out = run(
        words(),
        vec![Event::text_delta(first.clone()), Event::text_delta("大。")],
    )
    .await;
    assert_eq!(texts(&out), ["中", "文很", "大。"]);
    assert_eq!(out[1].text().unwrap().as_ptr(), first[3..].as_ptr());
}

#[tokio::test]
async fn chinese_flows_without_spaces() {
    let out = run(words(), deltas(&["我们", "今天", "学习", "中文"])).await;
    // Every delta after the first releases text; nothing waits for the end.
    assert_eq!(texts(&out), ["我们", "今天", "学习", "中文"]);
}

#[tokio::test]
async fn emoji_clusters_are_never_split() {
    let out = run(words(), deltas(&["hi 👨", "\u{200d}👩", "\u{200d}👧 ok"])).await;
    let pieces = texts(&out);
    assert_eq!(pieces.concat(), "hi 👨‍👩‍👧 ok");
    assert!(pieces
        .iter()
        .all(|p| !p.ends_with('👨') && !p.ends_with('\u{200d}')));
}

#[tokio::test]
async fn non_text_events_flush_and_keep_their_place() {
    let mut events = deltas(&["The ans", "wer"]);
    events.push(Event::tool_call("1", "calc", serde_json::json!({})));
    events.extend(deltas(&["is 4"]));
    events.push(Event::run_end(RunStatus::Completed));
    let out = run(words(), events).await;
    let kinds: Vec<Kind> = out.iter().map(Event::kind).collect();
    assert_eq!(
        kinds,
        [
            Kind::TextDelta,
            Kind::TextDelta,
            Kind::ToolCall,
            Kind::TextDelta,
            Kind::TextDelta,
            Kind::RunEnd
        ]
    );
    assert_eq!(texts(&out), ["The ", "answer", "is ", "4"]);
}

#[tokio::test]
async fn sources_have_their_own_buffers() {
    let events = vec![
        Event::text_delta("a1 a").with_source("A"),
        Event::text_delta("b1 b").with_source("B"),
        Event::text_delta("2 ").with_source("A"),
        Event::run_end(RunStatus::Completed).with_source("B"),
        Event::text_delta("x").with_source("A"),
    ];
    let out = run(words(), events).await;
    let got: Vec<(String, &str)> = out
        .iter()
        .filter_map(|e| Some((e.origin.source.as_deref()?.to_owned(), e.text()?)))
        .collect();
    assert_eq!(
        got,
        [
            ("A".into(), "a1 "),
            ("B".into(), "b1 "),
            ("B".into(), "b"), // B's run end flushed B only
            ("A".into(), "a2 "),
            ("A".into(), "x"),
        ]
    );
}

#[tokio::test]
async fn kind_or_message_change_flushes() {
    let events = vec![
        Event::reasoning_delta("think"),
        Event::text_delta("say"),
        Event::new(EventKind::TextDelta {
            text: "more".into(),
            message_id: Some("m2".into()),
        }),
    ];
    let out = run(words(), events).await;
    let kinds: Vec<Kind> = out.iter().map(Event::kind).collect();
    assert_eq!(
        kinds,
        [Kind::ReasoningDelta, Kind::TextDelta, Kind::TextDelta]
    );
    assert_eq!(texts(&out), ["think", "say", "more"]);
}

#[tokio::test]
async fn errors_flush_first_and_pass_unchanged() {
    let items = vec![
        Ok(Event::text_delta("par")),
        Err(Error::provider("gone")),
        Ok(Event::text_delta("tial")),
    ];
    let out: Vec<EventResult> = source::iter_results(items)
        .rebuffer(words())
        .collect()
        .await;
    assert_eq!(
        out,
        [
            Ok(Event::text_delta("par")),
            Err(Error::provider("gone")),
            Ok(Event::text_delta("tial"))
        ]
    );
}

#[tokio::test]
async fn empty_input_and_empty_deltas() {
    assert!(run(words(), vec![]).await.is_empty());
    let out = run(words(), deltas(&["", "a", "", " b", ""])).await;
    assert_eq!(texts(&out), ["a ", "b"]);
}

#[tokio::test]
async fn max_bytes_bounds_a_long_word() {
    let url = "https://example.com/".to_owned() + &"x".repeat(5000);
    let chunks: Vec<&str> = url
        .as_bytes()
        .chunks(7)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    let out = run(words().max_bytes(64), deltas(&chunks)).await;
    let pieces = texts(&out);
    assert_eq!(pieces.concat(), url);
    assert!(pieces.len() >= url.len() / (64 + 7));
    assert!(pieces.iter().all(|p| p.len() <= 64 + 7));
}

#[tokio::test]
async fn lines_and_sentences() {
    let lines = RebufferLayer::new(Boundary::Lines).max_hold(None);
    let out = run(lines, deltas(&["a\nb", "c\r\nd", "e"])).await;
    assert_eq!(texts(&out), ["a\n", "bc\r\n", "de"]);

    let sentences = RebufferLayer::new(Boundary::Sentences).max_hold(None);
    let out = run(
        sentences,
        deltas(&["Hi there. How", " are you? I'm", " fine."]),
    )
    .await;
    assert_eq!(texts(&out), ["Hi there. ", "How are you? ", "I'm fine."]);
}

#[tokio::test]
async fn custom_boundary_is_rounded_to_chars() {
    // Emit in triples of bytes, even when that would split "é".
    let pairs = RebufferLayer::new(Boundary::custom(|s: &str| s.len() / 3 * 3)).max_hold(None);
    let out = run(pairs, deltas(&["abé", "c"])).await;
    assert_eq!(texts(&out), ["ab", "éc"]);
}

#[tokio::test(start_paused = true)]
async fn stalled_text_is_released_after_max_hold() {
    let layer = RebufferLayer::new(Boundary::Words).max_hold(Some(Duration::from_millis(100)));
    let start = tokio::time::Instant::now();
    let mut out = Script::new()
        .then(Event::text_delta("Hel"))
        .then(Event::text_delta("lo"))
        .after(Duration::from_secs(5), Event::text_delta(" world"))
        .into_stream()
        .rebuffer(layer);
    let first = out.next().await.unwrap().unwrap();
    assert_eq!(first.text(), Some("Hell")); // all but the last grapheme
    assert_eq!(start.elapsed(), Duration::from_millis(100));
    // The last grapheme waits one more period in case it is still growing.
    let second = out.next().await.unwrap().unwrap();
    assert_eq!(second.text(), Some("o"));
    assert_eq!(start.elapsed(), Duration::from_millis(200));
    let rest: Vec<Event> = out.map(Result::unwrap).collect().await;
    assert_eq!(texts(&rest), [" ", "world"]);
}

#[tokio::test(start_paused = true)]
async fn steady_flow_is_not_cut_by_the_hold_timer() {
    // Each word is complete within 150 ms of its first piece.
    let layer = RebufferLayer::new(Boundary::Words).max_hold(Some(Duration::from_millis(150)));
    let pieces = ["str", "eam", "ing ", "to", "ke", "ns ", "sl", "ow", "ly"];
    let out: Vec<Event> = Script::new()
        .text(Duration::from_millis(40), pieces)
        .into_stream()
        .rebuffer(layer)
        .map(Result::unwrap)
        .collect()
        .await;
    assert_eq!(texts(&out), ["streaming ", "tokens ", "slowly"]);
}

#[tokio::test]
async fn pieces_keep_the_seq_of_the_delta_they_start_in() {
    let events = source::iter(deltas(&["Found ", "three ", "x"]));
    let out: Vec<Event> = events.rebuffer(words()).map(Result::unwrap).collect().await;
    let got: Vec<(&str, u64)> = out.iter().map(|e| (e.text().unwrap(), e.seq)).collect();
    assert_eq!(got, [("Found ", 0), ("three ", 1), ("x", 2)]);
}

#[tokio::test]
async fn max_bytes_holds_after_a_boundary_cut_too() {
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let mut out = tokio_stream::wrappers::ReceiverStream::new(rx).rebuffer(words().max_bytes(8));
    tx.send(Ok(Event::text_delta("a bcdefghijklmnopqrstu")))
        .await
        .unwrap();
    let mut pieces = Vec::new();
    while let Some(Some(item)) = futures::FutureExt::now_or_never(out.next()) {
        pieces.push(item.unwrap().text().unwrap().to_owned());
    }
    assert_eq!(
        pieces.concat().len(),
        "a bcdefghijklmnopqrstu".len() - 1,
        "only the last char is held"
    );
    assert!(pieces.iter().all(|p| p.len() <= 20));
}

/// A piece is the delta it ends in, its text and `seq` replaced: its
/// envelope must still be the one of the delta its text starts in, whether
/// the deltas share one origin or carry equal names in origins of their own.
#[tokio::test]
async fn pieces_keep_the_envelope_of_the_delta_they_start_in() {
    let shared = Origin::new(Some(Text::from("A")), Some(Text::from("r1")), None);
    let events = vec![
        Event::text_delta("a b").with_origin(shared.clone()),
        Event::text_delta("c d").with_source("A").with_run_id("r2"),
        Event::text_delta("e").with_origin(shared.clone()),
        Event::text_delta("f g").with_origin(shared),
    ];
    let out = run(words(), events).await;
    let got: Vec<(&str, u64, Option<&str>)> = out
        .iter()
        .map(|e| (e.text().unwrap(), e.seq, e.origin.run_id.as_deref()))
        .collect();
    assert_eq!(
        got,
        [
            ("a ", 0, Some("r1")),
            ("bc ", 0, Some("r1")),
            ("def ", 1, Some("r2")),
            ("g", 3, Some("r1")),
        ]
    );
}
