//! Serde types for the Responses API's streaming events, borrowing from the
//! SSE `data:` text.
//!
//! One flat [`StreamEvent`] covers every event the parser reads: each field
//! is optional, unknown fields are skipped, so a delta is parsed in one pass
//! without building a `serde_json::Value`.

use std::borrow::Cow;
use std::ops::Deref;

use serde::Deserialize;

/// A JSON string borrowed from the input when it has no escapes.
///
/// serde borrows a `Cow<str>` only when it is a field itself (not inside an
/// `Option`), so this newtype carries the `borrow` to where `Option` can hold it.
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub(super) struct Str<'a>(#[serde(borrow)] pub(super) Cow<'a, str>);

impl Deref for Str<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

/// Just the `type` of an event: what the parser reads when the full parse
/// fails, to tell a broken known event from an unknown one it may skip.
#[derive(Deserialize)]
pub(super) struct Head<'a> {
    #[serde(rename = "type", borrow)]
    pub(super) ty: Option<Str<'a>>,
}

/// Every field of every event the parser reads.
#[derive(Debug, Deserialize)]
pub(super) struct StreamEvent<'a> {
    #[serde(rename = "type", borrow)]
    pub(super) ty: Option<Str<'a>>,
    #[serde(borrow)]
    pub(super) delta: Option<Str<'a>>,
    #[serde(borrow)]
    pub(super) item_id: Option<Str<'a>>,
    pub(super) output_index: Option<u64>,
    pub(super) summary_index: Option<u64>,
    /// The whole text of a `*.done` event.
    #[serde(borrow)]
    pub(super) text: Option<Str<'a>>,
    /// The whole arguments of `response.function_call_arguments.done`.
    #[serde(borrow)]
    pub(super) arguments: Option<Str<'a>>,
    #[serde(borrow)]
    pub(super) name: Option<Str<'a>>,
    #[serde(borrow)]
    pub(super) item: Option<Item<'a>>,
    #[serde(borrow)]
    pub(super) part: Option<Part<'a>>,
    #[serde(borrow)]
    pub(super) response: Option<ResponseBody<'a>>,
    /// The top-level failure of an `error` event (`code` and `message` may
    /// also sit at the top level, see [`StreamEvent::code`]).
    #[serde(borrow)]
    pub(super) error: Option<ErrorBody<'a>>,
    /// Any JSON: providers send a string, a number or `null`. Only `error`
    /// events carry it, so the `Value` costs nothing per delta.
    pub(super) code: Option<serde_json::Value>,
    #[serde(borrow)]
    pub(super) message: Option<Str<'a>>,
}

/// An output item (`response.output_item.added` / `.done`).
#[derive(Debug, Deserialize)]
pub(super) struct Item<'a> {
    #[serde(rename = "type", borrow)]
    pub(super) ty: Option<Str<'a>>,
    #[serde(borrow)]
    pub(super) id: Option<Str<'a>>,
    #[serde(borrow)]
    pub(super) call_id: Option<Str<'a>>,
    #[serde(borrow)]
    pub(super) name: Option<Str<'a>>,
    #[serde(borrow)]
    pub(super) arguments: Option<Str<'a>>,
}

/// A content or summary part (`response.reasoning_summary_part.done`).
#[derive(Debug, Deserialize)]
pub(super) struct Part<'a> {
    #[serde(borrow)]
    pub(super) text: Option<Str<'a>>,
}

/// The `response` object of the lifecycle events.
#[derive(Debug, Deserialize)]
pub(super) struct ResponseBody<'a> {
    pub(super) usage: Option<Usage>,
    #[serde(borrow)]
    pub(super) error: Option<ErrorBody<'a>>,
    #[serde(borrow)]
    pub(super) incomplete_details: Option<IncompleteDetails<'a>>,
}

/// `response.usage`.
#[derive(Debug, Deserialize)]
pub(super) struct Usage {
    #[serde(default)]
    pub(super) input_tokens: u64,
    #[serde(default)]
    pub(super) output_tokens: u64,
    /// Where the prompt cache is reported: `cached_tokens`, part of the
    /// prompt's count.
    #[serde(default)]
    pub(super) input_tokens_details: Option<CachedTokens>,
    pub(super) total_tokens: Option<u64>,
}

/// An API error: `response.error`, or the body of an `error` event.
#[derive(Debug, Deserialize)]
pub(super) struct ErrorBody<'a> {
    pub(super) code: Option<serde_json::Value>,
    #[serde(borrow)]
    pub(super) message: Option<Str<'a>>,
}

/// `response.incomplete_details`.
#[derive(Debug, Deserialize)]
pub(super) struct IncompleteDetails<'a> {
    #[serde(borrow)]
    pub(super) reason: Option<Str<'a>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_without_escapes_are_borrowed() {
        let data = r#"{"type":"response.output_text.delta","item_id":"msg_1","delta":"Hi"}"#;
        let event: StreamEvent<'_> = serde_json::from_str(data).unwrap();
        assert!(matches!(event.delta.unwrap().0, Cow::Borrowed("Hi")));
        let escaped = r#"{"delta":"a\nb"}"#;
        let event: StreamEvent<'_> = serde_json::from_str(escaped).unwrap();
        assert_eq!(&*event.delta.unwrap(), "a\nb");
    }
}

/// `usage.input_tokens_details`.
#[derive(Debug, Deserialize)]
pub(super) struct CachedTokens {
    #[serde(default)]
    pub(super) cached_tokens: u64,
}
