//! A scanner for the one chunk shape that makes up nearly every Chat
//! Completions stream: a content delta of choice 0, and nothing else the
//! parser reads.
//!
//! ```json
//! {"id":"chatcmpl-…","object":"chat.completion.chunk","created":1733764000,"model":"…",
//!  "choices":[{"index":0,"delta":{"content":" the"},"logprobs":null,"finish_reason":null}],
//!  "usage":null}
//! ```
//!
//! serde spends most of such a chunk lexing the strings it skips (`id`,
//! `model`, `system_fingerprint`, …) and building the `choices` vector. The
//! scanner walks the same bytes once, borrows the content and the id, and
//! answers `None` for anything it does not fully understand: an escape in a
//! string, a key the parser reads with a value other than the hot one
//! (`finish_reason`, `usage`, `tool_calls`, `error`, …), a nested value under
//! a key it skips, a duplicate key serde would reject, malformed JSON. The
//! parser then takes the serde path, so a `Some` is always exactly what
//! serde would have read; a differential property test holds it to that.

/// What the parser reads from a hot chunk.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Hot<'a> {
    pub(super) id: Option<&'a str>,
    /// `choices[0].delta.content`, when present and not `null`.
    pub(super) content: Option<&'a str>,
}

/// Reads `data` if it is a hot chunk; `None` sends it to serde.
pub(super) fn scan(data: &str) -> Option<Hot<'_>> {
    let mut s = Scanner {
        bytes: data.as_bytes(),
        at: 0,
        data,
    };
    let hot = s.chunk()?;
    s.whitespace();
    (s.at == s.bytes.len()).then_some(hot)
}

struct Scanner<'a> {
    data: &'a str,
    bytes: &'a [u8],
    at: usize,
}

/// Keys serde reads (or rejects twice) at each level; a bit each.
const TOP_KEYS: &[&str] = &["id", "choices", "usage", "error", "object", "message"];
const CHOICE_KEYS: &[&str] = &["index", "delta", "finish_reason"];
const DELTA_KEYS: &[&str] = &[
    "content",
    "refusal",
    "reasoning_content",
    "reasoning",
    "tool_calls",
];

/// Marks `key` as seen if it is one of `known`; `None` on a second sight
/// (serde rejects a duplicate field).
fn see(known: &[&str], seen: &mut u32, key: &str) -> Option<()> {
    if let Some(bit) = known.iter().position(|k| *k == key) {
        let bit = 1 << bit;
        if *seen & bit != 0 {
            return None;
        }
        *seen |= bit;
    }
    Some(())
}

impl<'a> Scanner<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.at += 1;
        }
    }

    /// Skips whitespace and consumes `byte`.
    fn expect(&mut self, byte: u8) -> Option<()> {
        self.whitespace();
        (self.peek()? == byte).then(|| self.at += 1)
    }

    /// Skips whitespace and consumes `literal` (a whole token).
    fn literal(&mut self, literal: &str) -> bool {
        self.whitespace();
        let found = self.bytes[self.at..].starts_with(literal.as_bytes());
        if found {
            self.at += literal.len();
        }
        found
    }

    /// A string without escapes or control characters, borrowed; `None` for
    /// any other string (serde unescapes or rejects it).
    fn string(&mut self) -> Option<&'a str> {
        self.expect(b'"')?;
        let start = self.at;
        let len = plain_len(&self.bytes[start..]);
        let end = start + len;
        if self.bytes.get(end) != Some(&b'"') {
            return None;
        }
        self.at = end + 1;
        // Both ends are ASCII quotes, so both are `char` boundaries.
        self.data.get(start..end)
    }

    /// A JSON number (the grammar only: serde does not evaluate what it skips).
    fn number(&mut self) -> Option<()> {
        self.whitespace();
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        match self.peek()? {
            b'0' => self.at += 1,
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            self.required_digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.at += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.at += 1;
            }
            self.required_digits()?;
        }
        Some(())
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.at += 1;
        }
    }

    fn required_digits(&mut self) -> Option<()> {
        let start = self.at;
        self.digits();
        (self.at > start).then_some(())
    }

    /// Skips a scalar: a plain string, a number, `true`, `false` or `null`.
    /// Objects and arrays under keys the parser skips are left to serde.
    fn scalar(&mut self) -> Option<()> {
        self.whitespace();
        match self.peek()? {
            b'"' => self.string().map(drop),
            b'-' | b'0'..=b'9' => self.number(),
            _ if self.literal("null") || self.literal("true") || self.literal("false") => Some(()),
            _ => None,
        }
    }

    /// The members of an object, `{` already consumed: calls `member` with
    /// each key, the scanner standing before its value.
    fn members(&mut self, mut member: impl FnMut(&mut Self, &'a str) -> Option<()>) -> Option<()> {
        self.whitespace();
        if self.peek()? == b'}' {
            self.at += 1;
            return Some(());
        }
        loop {
            let key = self.string()?;
            self.expect(b':')?;
            member(self, key)?;
            self.whitespace();
            match self.peek()? {
                b',' => self.at += 1,
                b'}' => {
                    self.at += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    fn chunk(&mut self) -> Option<Hot<'a>> {
        self.expect(b'{')?;
        let mut hot = Hot {
            id: None,
            content: None,
        };
        let mut choices = false;
        let mut seen = 0;
        self.members(|s, key| {
            see(TOP_KEYS, &mut seen, key)?;
            match key {
                "id" => hot.id = Some(s.string()?),
                // `"error"` objects are for serde to report.
                "object" => s.string().filter(|o| *o != "error").map(drop)?,
                "usage" => s.literal("null").then_some(())?,
                "choices" => {
                    s.expect(b'[')?;
                    hot.content = s.choice()?;
                    s.expect(b']')?;
                    choices = true;
                }
                "error" | "message" => return None,
                _ => s.scalar()?,
            }
            Some(())
        })?;
        choices.then_some(hot)
    }

    /// Choice 0 with a delta and no finish reason: its content.
    fn choice(&mut self) -> Option<Option<&'a str>> {
        self.expect(b'{')?;
        let (mut index, mut content) = (false, None);
        let mut seen = 0;
        self.members(|s, key| {
            see(CHOICE_KEYS, &mut seen, key)?;
            match key {
                "index" => {
                    s.whitespace();
                    // Exactly `0`: another index is skipped by the parser,
                    // and a number like `0.0` is serde's to reject.
                    s.literal("0").then_some(())?;
                    if s.peek()
                        .is_some_and(|b| b.is_ascii_digit() || b == b'.' || b == b'e' || b == b'E')
                    {
                        return None;
                    }
                    index = true;
                }
                "delta" => {
                    s.expect(b'{')?;
                    content = s.delta()?;
                }
                "finish_reason" => s.literal("null").then_some(())?,
                _ => s.scalar()?,
            }
            Some(())
        })?;
        index.then_some(content)
    }

    /// A delta holding at most content: its text, or `None` for `null`.
    fn delta(&mut self) -> Option<Option<&'a str>> {
        let mut content = None;
        let mut seen = 0;
        self.members(|s, key| {
            see(DELTA_KEYS, &mut seen, key)?;
            match key {
                "content" => {
                    if !s.literal("null") {
                        content = Some(s.string()?);
                    }
                }
                "refusal" => s.literal("null").then_some(())?,
                "reasoning_content" | "reasoning" | "tool_calls" => return None,
                _ => s.scalar()?,
            }
            Some(())
        })?;
        Some(content)
    }
}

/// How many leading bytes of `bytes` are plain string content: no quote,
/// backslash or control character. Eight bytes at a time (the bytes after
/// a string are the rest of the chunk, so most strings end inside a word).
fn plain_len(bytes: &[u8]) -> usize {
    const ONES: u64 = u64::from_le_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_le_bytes([0x80; 8]);
    // The high bit of each byte that is zero; the lowest one set is exact
    // (a borrow only runs upward from a byte that is itself zero).
    let zeros = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS;
    let mut at = 0;
    for word in bytes.chunks_exact(8) {
        let v = u64::from_le_bytes([
            word[0], word[1], word[2], word[3], word[4], word[5], word[6], word[7],
        ]);
        // Below 0x20 (the same borrow argument), a `"`, a `\`.
        let stop = (v.wrapping_sub(u64::from_le_bytes([0x20; 8])) & !v & HIGHS)
            | zeros(v ^ u64::from_le_bytes([b'"'; 8]))
            | zeros(v ^ u64::from_le_bytes([b'\\'; 8]));
        if stop != 0 {
            return at + (stop.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    at + bytes[at..]
        .iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
        .unwrap_or(bytes.len() - at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hot_shape_is_read() {
        let chunk = r#"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1733764000,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":" the"},"logprobs":null,"finish_reason":null}],"usage":null}"#;
        assert_eq!(
            scan(chunk),
            Some(Hot {
                id: Some("chatcmpl-1"),
                content: Some(" the")
            })
        );
        let role = r#"{ "choices" : [ { "index" : 0 , "delta" : { "role" : "assistant" , "content" : null } } ] }"#;
        assert_eq!(
            scan(role),
            Some(Hot {
                id: None,
                content: None
            })
        );
    }

    #[test]
    fn anything_else_goes_to_serde() {
        for chunk in [
            r#"{"choices":[{"index":0,"delta":{"content":"a\nb"}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"content":"x"},"finish_reason":"stop"}]}"#,
            r#"{"choices":[{"index":1,"delta":{"content":"x"}}]}"#,
            r#"{"choices":[{"index":0.0,"delta":{"content":"x"}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"content":"x"}}],"usage":{"prompt_tokens":1}}"#,
            r#"{"choices":[],"id":"x"}"#,
            r#"{"choices":[{"index":0,"delta":{"content":"x"}}],"id":"a","id":"b"}"#,
            r#"{"choices":[{"index":0,"delta":{"content":"x"}}],"extra":{"nested":1}}"#,
            r#"{"choices":[{"index":0,"delta":{"content":"x"}}],"created":01}"#,
            r#"{"choices":[{"index":0,"delta":{"content":"x"}}]} trailing"#,
            r#"{"object":"error","message":"boom"}"#,
            r#"{"choices":[{"index":0,"delta":{"content":"x"}}],"object":"error"}"#,
            r#"{"error":{"message":"boom"}}"#,
            "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"tab\there\"}}]}",
        ] {
            assert_eq!(scan(chunk), None, "{chunk}");
        }
    }

    #[test]
    fn plain_runs_stop_at_quotes_escapes_and_controls() {
        assert_eq!(plain_len(b"abcdefghijklmnop\"rest"), 16);
        assert_eq!(plain_len(b"abcdefg\\hijklmnop"), 7);
        assert_eq!(plain_len(b"abc\x1fdefghijkl"), 3);
        assert_eq!(
            plain_len("中文 é 👍 and more text\"".as_bytes()),
            "中文 é 👍 and more text".len()
        );
        assert_eq!(plain_len(b"short"), 5);
        // Every position of the stop byte within and across words.
        for stop in [b'"', b'\\', 0x00, 0x1f] {
            for at in 0..20 {
                let mut bytes = vec![b'x'; 24];
                bytes[at] = stop;
                bytes[at + 2] = b'"';
                assert_eq!(plain_len(&bytes), at, "{stop:#x} at {at}");
            }
        }
        // A byte just above each stop byte is plain.
        assert_eq!(plain_len(b"\x20#]\x7f\xc3\xa9!!!!!!\""), 12);
    }
}
