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

/// ASCII prose, the text the whitespace fast path serves.
fn ascii_atom() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "The", "quick", "fox", " ", " ", " ", "  ", "\n", "\r\n", "\t", ".", ",", "can't", "3.5",
        "e.g.", "x", "42", "(", ")",
    ])
}

/// Chinese and Japanese, the text the CJK fast path serves, with the marks
/// and scripts that break it.
fn cjk_atom() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "我们",
        "学习",
        "中文",
        "很",
        "。",
        "，",
        "、",
        "「",
        "」",
        "！",
        "（",
        "）",
        "：",
        "ひらがな",
        "カタカナ",
        "ー",
        "한국어",
        "\u{301}",
        "\u{200d}",
        " ",
        "x",
        "1",
        "１",
    ])
}

fn text_and_cuts() -> impl Strategy<Value = (String, Vec<usize>)> {
    cut_anywhere(prop::collection::vec(atom(), 0..40))
}

/// Text of one script or of many, with cuts anywhere.
fn any_text_and_cuts() -> impl Strategy<Value = (String, Vec<usize>)> {
    cut_anywhere(prop_oneof![
        prop::collection::vec(ascii_atom(), 0..60),
        prop::collection::vec(cjk_atom(), 0..60),
        prop::collection::vec(prop_oneof![ascii_atom(), cjk_atom(), atom()], 0..60),
        prop::collection::vec(atom(), 0..60),
    ])
}

fn cut_anywhere(
    atoms: impl Strategy<Value = Vec<&'static str>>,
) -> impl Strategy<Value = (String, Vec<usize>)> {
    atoms.prop_flat_map(|atoms| {
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

/// The word rule written plainly, over the whole held text, as the
/// reference for the layer's fast paths (the whitespace search, the CJK
/// shortcut) and for how it holds text between deltas: after the last ASCII
/// whitespace that the delta completes and that a non-space word and
/// grapheme boundary follows; else nothing for ASCII text; else before the
/// second-to-last UAX #29 word that starts on a grapheme boundary.
fn plain_word_cut(text: &str, old_len: usize) -> usize {
    let words: Vec<usize> = text.split_word_bound_indices().map(|(i, _)| i).collect();
    let is_cut = |p: usize| words.binary_search(&p).is_ok() && is_grapheme_boundary(text, p);
    let bytes = text.as_bytes();
    let after_space = (old_len.max(1)..text.len()).rev().find(|&p| {
        matches!(bytes[p - 1], b' ' | b'\n' | b'\t')
            && !text[p..].starts_with(char::is_whitespace)
            && is_cut(p)
    });
    if let Some(p) = after_space {
        return p;
    }
    if text.is_ascii() {
        return 0;
    }
    let starts: Vec<usize> = words
        .into_iter()
        .filter(|&p| is_grapheme_boundary(text, p))
        .collect();
    starts.len().checked_sub(2).map_or(0, |i| starts[i])
}

fn plain_words(deltas: &[String]) -> Vec<String> {
    let mut held = String::new();
    let mut pieces = Vec::new();
    for delta in deltas.iter().filter(|d| !d.is_empty()) {
        let old_len = held.len();
        held.push_str(delta);
        let cut = plain_word_cut(&held, old_len);
        if cut > 0 {
            pieces.push(held.drain(..cut).collect());
        }
    }
    if !held.is_empty() {
        pieces.push(held);
    }
    pieces
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]
    /// The fast paths cut exactly where the plain rule does, for any text
    /// and any chunking of it.
    #[test]
    fn words_cut_where_the_plain_rule_does((text, cuts) in any_text_and_cuts()) {
        let deltas = split(&text, &cuts);
        let layer = RebufferLayer::new(Boundary::Words).max_hold(None).max_bytes(usize::MAX);
        prop_assert_eq!(rebuffer(layer, deltas.clone()), plain_words(&deltas), "{:?}", deltas);
    }
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
