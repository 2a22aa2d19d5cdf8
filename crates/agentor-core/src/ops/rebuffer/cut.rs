//! Where held text may be cut: the boundary rules of the rebuffer operator.
//!
//! Every function answers "how long a prefix of `text` can be emitted now,
//! without waiting for more text to know it ends on a boundary?". A cut is
//! only offered where the decision cannot change when more text arrives, so
//! pieces end on boundaries of the *final* text, not just of what was seen.

use unicode_segmentation::{GraphemeCursor, UnicodeSegmentation};

/// Whether `p` (with `text[p - 1]` ASCII whitespace and `text[p]` present)
/// is both a UAX #29 word boundary and a grapheme boundary.
///
/// After ASCII whitespace only the next character decides (no word or grapheme
/// rule looks further back than a whitespace character), so a two-character
/// window answers for the whole text. `text` is UTF-8 (the held text's
/// bytes, read without validating them all on every delta).
fn starts_word(text: &[u8], p: usize) -> bool {
    let next = text[p];
    if next < 0x80 {
        return !next.is_ascii_whitespace();
    }
    // The whitespace and the next character: at most five bytes.
    let window = &text[p - 1..(p + 4).min(text.len())];
    let window = match std::str::from_utf8(window) {
        Ok(window) => window,
        Err(e) => std::str::from_utf8(&window[..e.valid_up_to()]).unwrap_or_default(),
    };
    let Some(c) = window[1..].chars().next() else {
        return false;
    };
    if c.is_whitespace() {
        return false;
    }
    let window = &window[..1 + c.len_utf8()];
    window.split_word_bound_indices().any(|(i, _)| i == 1)
        && window.grapheme_indices(true).any(|(i, _)| i == 1)
}

/// Last cut after ASCII whitespace followed by a known word start, looking only
/// at cuts at or after `from` (earlier ones were decided before).
pub(super) fn words_fast(text: &[u8], from: usize) -> Option<usize> {
    // Candidates are p in [from, len); text[p - 1] must be whitespace.
    let lo = from.max(1) - 1;
    let mut hi = text.len().checked_sub(1)?;
    while hi > lo {
        let i = lo + last_space(&text[lo..hi])?;
        if starts_word(text, i + 1) {
            return Some(i + 1);
        }
        hi = i;
    }
    None
}

/// [`words_fast`] for ASCII text, 0 where it finds no cut: in ASCII, a
/// space, tab or line feed followed by anything but whitespace is always a
/// word and grapheme boundary, so one backward pass decides.
#[inline]
pub(super) fn words_ascii(text: &[u8], from: usize) -> usize {
    let lo = from.max(1);
    if text.len().saturating_sub(lo) >= 64 {
        // Long deltas: `words_fast` finds the spaces with SIMD.
        return words_fast(text, from).unwrap_or(0);
    }
    (lo..text.len())
        .rev()
        .find(|&p| matches!(text[p - 1], b' ' | b'\n' | b'\t') && !text[p].is_ascii_whitespace())
        .unwrap_or(0)
}

/// Last space, tab or line feed; deltas are short, so a plain loop beats
/// SIMD set-up below a few dozen bytes.
fn last_space(bytes: &[u8]) -> Option<usize> {
    if bytes.len() >= 64 {
        return memchr::memrchr3(b' ', b'\n', b'\t', bytes);
    }
    bytes
        .iter()
        .rposition(|&b| matches!(b, b' ' | b'\n' | b'\t'))
}

/// Cut before the second-to-last UAX #29 word segment of `text`.
///
/// The boundary before the last segment can still move (`3.` + `5` is one
/// word; `can'` + `t` too); the one before it cannot, because no rule looks
/// more than one character past a boundary.
pub(super) fn words_unicode(text: &str) -> usize {
    // Forward iteration only: the crate's reverse word iterator can disagree
    // with its forward one (`e.g.\u{200d}👍`), and forward is the reference.
    let (mut second_last, mut last) = (0, 0);
    for (start, _) in text.split_word_bound_indices() {
        (second_last, last) = (last, start);
    }
    // Word boundaries are grapheme boundaries but for rare cases (a prepended
    // mark); only then pay for checking every segment.
    if is_grapheme_boundary(text, second_last) && is_grapheme_boundary(text, last) {
        return second_last;
    }
    let (mut second_last, mut last) = (0, 0);
    for (start, _) in text.split_word_bound_indices() {
        if is_grapheme_boundary(text, start) {
            (second_last, last) = (last, start);
        }
    }
    second_last
}

/// Characters that are a word segment and a grapheme cluster of their own
/// whatever their neighbours (but a following mark, which joins them): Han
/// ideographs, hiragana and CJK punctuation. Their `Word_Break` is Other, or
/// MidNum / MidLetter (`，：；`), which only join digits or letters, and their
/// `Grapheme_Cluster_Break` is Other. Katakana (which joins katakana) and
/// Hangul (letters) are not among them.
fn stands_alone(c: char) -> bool {
    matches!(c,
        '\u{4E00}'..='\u{9FFF}' // CJK Unified Ideographs
        | '\u{3400}'..='\u{4DBF}' // Extension A
        | '\u{3041}'..='\u{3096}' // hiragana letters
        | '\u{3001}'..='\u{3003}' // 、。〃
        | '\u{300C}'..='\u{300F}' // 「」『』
        | '\u{FF01}' | '\u{FF08}' | '\u{FF09}' | '\u{FF0C}' | '\u{FF1A}' | '\u{FF1B}' | '\u{FF1F}' // ！（），：；？
    )
}

/// [`words_unicode`] in constant time for text whose last three characters
/// each [stand alone](stands_alone), as Chinese and Japanese text mostly does:
/// the last two word segments are then the last two characters, whatever came
/// before them, so the cut is before the second-to-last character. `None`
/// when the shortcut does not apply. `text` is UTF-8; only its last three
/// characters (at most 12 bytes) are read.
pub(super) fn words_cjk(text: &[u8]) -> Option<usize> {
    let mut start = text.len().saturating_sub(12);
    while text.get(start).is_some_and(|b| b & 0xC0 == 0x80) {
        start += 1;
    }
    let tail = std::str::from_utf8(&text[start..]).ok()?;
    let mut chars = tail.char_indices().rev();
    let (_, last) = chars.next()?;
    let (second_last, c) = chars.next()?;
    let (_, before) = chars.next()?;
    (stands_alone(last) && stands_alone(c) && stands_alone(before)).then_some(start + second_last)
}

/// Last cut after a line feed, anywhere at or after `from`.
pub(super) fn lines(text: &str, from: usize) -> Option<usize> {
    let lo = from.max(1) - 1;
    memchr::memrchr(b'\n', &text.as_bytes()[lo..]).map(|i| lo + i + 1)
}

const CLOSERS: &[char] = &['"', '\'', ')', ']', '}', '”', '’', '»', '」', '』', '）'];
const TERMINATORS: &[char] = &['.', '!', '?', '…'];
const FULL_WIDTH_TERMINATORS: &[char] = &['。', '！', '？'];

/// Last sentence cut at or after `from`: after `.`, `!`, `?` or `…` (and any
/// closing quotes or brackets) plus whitespace, after a line break, or after a
/// full-width `。！？` (and closers), always with the next character known.
pub(super) fn sentences(text: &str, from: usize) -> Option<usize> {
    let mut next: Option<char> = None;
    for (i, c) in text.char_indices().rev() {
        let p = i + c.len_utf8();
        if p < from.max(1) {
            break;
        }
        if let Some(n) = next {
            if p < text.len()
                && !n.is_whitespace()
                && !CLOSERS.contains(&n)
                && is_grapheme_boundary(text, p)
            {
                if c.is_whitespace() && ends_sentence_before_space(&text[..p]) {
                    return Some(p);
                }
                if FULL_WIDTH_TERMINATORS.contains(&c)
                    || (CLOSERS.contains(&c) && ends_full_width(&text[..p]))
                {
                    return Some(p);
                }
            }
        }
        next = Some(c);
    }
    None
}

fn ends_sentence_before_space(prefix: &str) -> bool {
    let body = prefix.trim_end_matches(char::is_whitespace);
    let space = &prefix[body.len()..];
    space.contains('\n') || body.trim_end_matches(CLOSERS).ends_with(TERMINATORS)
}

fn ends_full_width(prefix: &str) -> bool {
    prefix
        .trim_end_matches(CLOSERS)
        .ends_with(FULL_WIDTH_TERMINATORS)
}

/// A cut for text held too long or too large: before the second-to-last
/// word, else before the last grapheme cluster (0 if there is only one).
pub(super) fn forced(text: &str) -> usize {
    match words_unicode(text) {
        0 => before_last_grapheme(text),
        p => p,
    }
}

/// The start of the last grapheme cluster: the longest prefix that can never
/// end inside a cluster, whatever follows.
pub(super) fn before_last_grapheme(text: &str) -> usize {
    text.grapheme_indices(true)
        .next_back()
        .map_or(0, |(i, _)| i)
}

fn is_grapheme_boundary(text: &str, at: usize) -> bool {
    GraphemeCursor::new(at, text.len(), true)
        .is_boundary(text, 0)
        .unwrap_or(false)
}

/// Largest char boundary `<= at` (for cuts a caller's function proposes).
pub(super) fn floor_char_boundary(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_need_the_next_character() {
        assert_eq!(words_fast("Hello wor".as_bytes(), 0), Some(6));
        assert_eq!(words_fast("Hello ".as_bytes(), 0), None); // a second space or a mark may follow
        assert_eq!(words_fast("a  b".as_bytes(), 0), Some(3)); // spaces stay together
        assert_eq!(words_fast("a \u{301}b".as_bytes(), 0), None); // the mark belongs to the space
        assert_eq!(words_fast("nowhitespace".as_bytes(), 0), None);
        assert_eq!(words_fast("a b c".as_bytes(), 3), Some(4));
        assert_eq!(words_fast("a b c".as_bytes(), 5), None);
        assert_eq!(words_fast("x 世界".as_bytes(), 0), Some(2));
    }

    #[test]
    fn unicode_words_hold_two_segments() {
        assert_eq!(words_unicode("世界很大"), 6); // "世界" | "很大"
        assert_eq!(words_unicode("can'"), 0);
        assert_eq!(words_unicode("🇫🇷🇩🇪x"), 8);
    }

    #[test]
    fn the_cjk_shortcut_agrees_with_uax_29() {
        for text in [
            "世界很大",
            "我们今天学习",
            "学习，流式",
            "、ひらがな。",
            "「中文」",
        ] {
            assert_eq!(
                words_cjk(text.as_bytes()),
                Some(words_unicode(text)),
                "{text}"
            );
        }
        // Katakana joins katakana; a mark may still follow; two characters
        // are too few.
        assert_eq!(words_cjk("中カタカ".as_bytes()), None);
        assert_eq!(words_cjk("中文\u{301}".as_bytes()), None);
        assert_eq!(words_cjk("中文".as_bytes()), None);
        // Only the tail is read: a long text is answered from its last 12 bytes.
        let long = "ab 世界很大".repeat(10);
        assert_eq!(words_cjk(long.as_bytes()), Some(words_unicode(&long)));
    }

    /// Between two characters that stand alone there is a word and a
    /// grapheme boundary, whatever comes before and after them: checked for
    /// every character of the set beside letters, digits, full-width forms,
    /// katakana and a prepended mark.
    #[test]
    fn standing_alone_holds_for_every_character_of_the_set() {
        let contexts = [
            ('a', '中', 'a'),
            ('1', '，', '1'),
            ('Ａ', '：', 'Ａ'),
            ('１', '；', '１'),
            ('カ', 'あ', 'カ'),
            ('\u{600}', '。', '\u{301}'),
        ];
        let is_cut = |text: &str, i: usize| {
            text.split_word_bound_indices().any(|(s, _)| s == i)
                && text.grapheme_indices(true).any(|(s, _)| s == i)
        };
        for c in (0..=0xFFFFu32)
            .filter_map(char::from_u32)
            .filter(|&c| stands_alone(c))
        {
            for (before, other, after) in contexts {
                for pair in [[c, other], [other, c]] {
                    let text: String = [before, pair[0], pair[1], after].iter().collect();
                    let at = before.len_utf8() + pair[0].len_utf8();
                    assert!(is_cut(&text, at), "{text:?} at {at}");
                }
            }
        }
    }

    proptest::proptest! {
        /// Wherever the shortcut answers, it answers what UAX #29 does.
        #[test]
        fn the_cjk_shortcut_is_words_unicode(chars in proptest::collection::vec(
            proptest::sample::select(vec![
                '中', '文', '㐀', '鿿', 'あ', 'ゖ', '、', '。', '「', '』', '！', '，', '：', '；', '？', '（',
                'カ', 'ー', '한', 'a', '1', '１', 'Ａ', ' ', '.', '\'', '\u{301}', '\u{200d}', '\u{600}', '👍', '🇫',
            ]),
            0..12,
        )) {
            let text: String = chars.into_iter().collect();
            if let Some(cut) = words_cjk(text.as_bytes()) {
                proptest::prop_assert_eq!(cut, words_unicode(&text), "{:?}", text);
            }
        }
    }

    proptest::proptest! {
        /// On ASCII text the one-pass cut is `words_fast`'s, short and long.
        #[test]
        fn the_ascii_cut_is_words_fast(
            text in "[a-c .,'\t\n\r\x0b\x0c0-9]{0,100}",
            from in 0usize..110,
        ) {
            let from = from.min(text.len());
            proptest::prop_assert_eq!(
                words_ascii(text.as_bytes(), from),
                words_fast(text.as_bytes(), from).unwrap_or(0),
                "{:?} from {}", text, from
            );
        }
    }

    #[test]
    fn lines_cut_after_line_feeds() {
        assert_eq!(lines("a\nb", 0), Some(2));
        assert_eq!(lines("a\r\n", 0), Some(3));
        assert_eq!(lines("ab", 0), None);
    }

    #[test]
    fn sentences() {
        assert_eq!(super::sentences("One. Two", 0), Some(5));
        assert_eq!(super::sentences("One. ", 0), None);
        assert_eq!(super::sentences("He said \"Hi!\" Then", 0), Some(14));
        assert_eq!(super::sentences("3.5 is a number", 0), None);
        assert_eq!(super::sentences("Title\nBody", 0), Some(6));
        assert_eq!(super::sentences("你好。世界", 0), Some(9));
        assert_eq!(super::sentences("你好。」世界", 0), Some(12));
    }

    #[test]
    fn graphemes_stay_whole() {
        assert_eq!(before_last_grapheme("ab👨‍👩‍👧"), 2);
        assert_eq!(floor_char_boundary("aé", 2), 1);
    }
}
