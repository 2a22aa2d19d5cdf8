//! The Messages API's stream events as serde reads them: only the fields the
//! parser uses, borrowing strings from the SSE data where they need no
//! unescaping.
//!
//! Flat structs keyed by `type` rather than internally tagged enums: serde
//! buffers a tagged enum's whole object before choosing the variant, which
//! costs an allocation per field on the hottest path (one event per delta).
//! Unknown types simply match nothing in the parser (the API adds new ones).

use std::borrow::Cow;

use serde::Deserialize;

/// One `data:` payload.
#[derive(Debug, Deserialize)]
pub(super) struct StreamEvent<'a> {
    #[serde(borrow, rename = "type")]
    pub(super) kind: Cow<'a, str>,
    /// The content block an event is about (`content_block_*`).
    #[serde(default)]
    pub(super) index: Option<u32>,
    /// `message_start`'s message.
    #[serde(borrow, default)]
    pub(super) message: Option<MessageStart<'a>>,
    /// `content_block_start`'s block.
    #[serde(borrow, default)]
    pub(super) content_block: Option<Block<'a>>,
    /// `content_block_delta`'s delta, or `message_delta`'s (the stop reason).
    #[serde(borrow, default)]
    pub(super) delta: Option<Delta<'a>>,
    /// `message_delta`'s usage.
    #[serde(default)]
    pub(super) usage: Option<Usage>,
    /// The `error` event's error.
    #[serde(borrow, default)]
    pub(super) error: Option<ApiError<'a>>,
}

#[derive(Debug, Deserialize)]
pub(super) struct MessageStart<'a> {
    #[serde(borrow, default)]
    pub(super) id: Option<Cow<'a, str>>,
    #[serde(default)]
    pub(super) usage: Option<Usage>,
}

/// A content block as it starts: `text`, `tool_use`, `thinking`,
/// `redacted_thinking` (others are skipped).
#[derive(Debug, Deserialize)]
pub(super) struct Block<'a> {
    #[serde(borrow, rename = "type")]
    pub(super) kind: Cow<'a, str>,
    #[serde(borrow, default)]
    pub(super) text: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(super) id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(super) name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(super) thinking: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(super) signature: Option<Cow<'a, str>>,
    /// `redacted_thinking`'s opaque payload.
    #[serde(borrow, default)]
    pub(super) data: Option<Cow<'a, str>>,
}

/// A block delta (`text_delta`, `input_json_delta`, `thinking_delta`,
/// `signature_delta`), or `message_delta`'s delta (no type, a stop reason).
#[derive(Debug, Deserialize)]
pub(super) struct Delta<'a> {
    #[serde(borrow, default, rename = "type")]
    pub(super) kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(super) text: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(super) partial_json: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(super) thinking: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(super) signature: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(super) stop_reason: Option<Cow<'a, str>>,
}

/// Token counts. In `message_start` the input side is final and
/// `output_tokens` a start; `message_delta` gives the counts cumulatively,
/// so a later value replaces an earlier one.
#[derive(Clone, Copy, Debug, Default, Deserialize)]
pub(super) struct Usage {
    #[serde(default)]
    pub(super) input_tokens: Option<u64>,
    #[serde(default)]
    pub(super) output_tokens: Option<u64>,
    #[serde(default)]
    pub(super) cache_creation_input_tokens: Option<u64>,
    #[serde(default)]
    pub(super) cache_read_input_tokens: Option<u64>,
}

impl Usage {
    /// `self` updated by a later report: fields it carries replace ours.
    pub(super) fn update(&mut self, later: Usage) {
        let keep = |mine: &mut Option<u64>, theirs: Option<u64>| {
            if theirs.is_some() {
                *mine = theirs;
            }
        };
        keep(&mut self.input_tokens, later.input_tokens);
        keep(&mut self.output_tokens, later.output_tokens);
        keep(
            &mut self.cache_creation_input_tokens,
            later.cache_creation_input_tokens,
        );
        keep(
            &mut self.cache_read_input_tokens,
            later.cache_read_input_tokens,
        );
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct ApiError<'a> {
    #[serde(borrow, default, rename = "type")]
    pub(super) kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(super) message: Option<Cow<'a, str>>,
}
