//! Rebuffering never changes the text and cuts only where it may.

#![allow(clippy::unwrap_used, missing_docs)]

use agentor_core::{source, Boundary, Event, EventStreamExt, RebufferLayer};
use futures::StreamExt;
use proptest::prelude::*;
use unicode_segmentation::{GraphemeCursor, UnicodeSegmentation};

/// Pieces of text from many scripts, with the awkward cases UAX #29 has rules for.
fn atom() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "Hello",
        "world",
        " ",
        "  ",
        "\n",
        "\r\n",
        "\t",
        ",",
        ".",
        "!",
        "?",
        "can't",
        "3.5",
        "e.g.",
        "我们",
        "学习",
        "中文",
        "。",
        "日本語",
        "カタカナ",
        "ひらがな",
        "한국어",
        "Привет",
        "مرحبا",
        "नमस्ते",
        "क्षत्रिय",
        "e\u{301}",
        "\u{301}",
        "👍",
        "👍🏽",
        "👨\u{200d}👩\u{200d}👧",
        "\u{200d}",
        "🇫🇷",
        "🇩🇪",
        "🇺",
        "\u{a0}",
        "\u{3000}",
        "(",
        ")",
        "\"",
        "…",
        "x",
        "42",
    ])
}

fn text_and_cuts() -> impl Strategy<Value = (String, Vec<usize>)> {
    prop::collection::vec(atom(), 0..40).prop_flat_map(|atoms| {
        let text = atoms.concat();
        let len = text.len();
        (Just(text), prop::collection::vec(0..=len, 0..30))
    })
}

/// Splits `text` into deltas at the given byte offsets (moved to char boundaries).
fn split(text: &str, cuts: &[usize]) -> Vec<String> {
    let mut cuts: Vec<usize> = cuts
        .iter()
        .map(|&c| {
            (0..=c)
                .rev()
                .find(|&i| text.is_char_boundary(i))
                .unwrap_or(0)
        })
        .collect();
    cuts.push(text.len());
    cuts.sort_unstable();
    let mut start = 0;
    let mut out = Vec::new();
    for c in cuts {
        out.push(text[start..c].to_owned());
        start = c;
    }
    out
}

fn rebuffer(layer: RebufferLayer, deltas: Vec<String>) -> Vec<String> {
    let events = source::iter(deltas.into_iter().map(Event::text_delta));
    futures::executor::block_on(
        events
            .rebuffer(layer)
            .map(|e| e.unwrap().text().unwrap().to_owned())
            .collect(),
    )
}

fn ends(pieces: &[String]) -> Vec<usize> {
    let mut at = 0;
    let mut out = Vec::new();
    for piece in &pieces[..pieces.len().saturating_sub(1)] {
        at += piece.len();
        out.push(at);
    }
    out
}

fn is_grapheme_boundary(text: &str, at: usize) -> bool {
    GraphemeCursor::new(at, text.len(), true)
        .is_boundary(text, 0)
        .unwrap()
}

proptest! {
    #[test]
    fn words_keep_the_text_and_end_on_word_boundaries((text, cuts) in text_and_cuts()) {
        let deltas = split(&text, &cuts);
        let pieces = rebuffer(RebufferLayer::new(Boundary::Words).max_hold(None).max_bytes(usize::MAX), deltas);
        prop_assert_eq!(pieces.concat(), text.clone());
        prop_assert!(pieces.iter().all(|p| !p.is_empty()));
        let word_bounds: Vec<usize> = text.split_word_bound_indices().map(|(i, _)| i).collect();
        for end in ends(&pieces) {
            prop_assert!(word_bounds.binary_search(&end).is_ok(), "{:?} cut at {} in {:?}", pieces, end, text);
            prop_assert!(is_grapheme_boundary(&text, end), "{:?} splits a cluster at {}", pieces, end);
        }
    }

    #[test]
    fn small_max_bytes_still_never_split_a_cluster((text, cuts) in text_and_cuts(), max in 1usize..24) {
        let deltas = split(&text, &cuts);
        let pieces = rebuffer(RebufferLayer::new(Boundary::Words).max_hold(None).max_bytes(max), deltas);
        prop_assert_eq!(pieces.concat(), text.clone());
        for end in ends(&pieces) {
            prop_assert!(is_grapheme_boundary(&text, end), "{:?} splits a cluster at {}", pieces, end);
        }
    }

    #[test]
    fn lines_end_with_line_feeds((text, cuts) in text_and_cuts()) {
        let pieces = rebuffer(RebufferLayer::new(Boundary::Lines).max_hold(None).max_bytes(usize::MAX), split(&text, &cuts));
        prop_assert_eq!(pieces.concat(), text.clone());
        for piece in &pieces[..pieces.len().saturating_sub(1)] {
            prop_assert!(piece.ends_with('\n'), "{:?}", pieces);
        }
    }

    #[test]
    fn sentences_keep_the_text((text, cuts) in text_and_cuts()) {
        let pieces = rebuffer(RebufferLayer::new(Boundary::Sentences).max_hold(None).max_bytes(usize::MAX), split(&text, &cuts));
        prop_assert_eq!(pieces.concat(), text.clone());
        for end in ends(&pieces) {
            prop_assert!(is_grapheme_boundary(&text, end));
        }
    }

    #[test]
    fn any_chunking_gives_the_same_text_as_one_delta((text, cuts) in text_and_cuts()) {
        let layer = RebufferLayer::new(Boundary::Words).max_hold(None);
        let chunked = rebuffer(layer.clone(), split(&text, &cuts)).concat();
        let whole = rebuffer(layer, vec![text.clone()]).concat();
        prop_assert_eq!(chunked, whole);
    }
}
