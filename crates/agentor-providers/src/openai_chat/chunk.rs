//! The Chat Completions chunk as serde reads it: only the fields the parser
//! uses, borrowing strings from the SSE data where they need no unescaping.

use std::borrow::Cow;

use serde::Deserialize;

/// One `data:` payload: `chat.completion.chunk`, the usage chunk, or an error.
#[derive(Debug, Deserialize)]
pub(super) struct Chunk<'a> {
    #[serde(borrow, default)]
    pub(super) id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(super) choices: Option<Vec<Choice<'a>>>,
    #[serde(default)]
    pub(super) usage: Option<Usage>,
    #[serde(borrow, default)]
    pub(super) error: Option<ApiError<'a>>,
    /// `"error"` in vLLM's error objects, which put `message` at the top.
    #[serde(borrow, default)]
    pub(super) object: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(super) message: Option<Cow<'a, str>>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Choice<'a> {
    #[serde(default)]
    pub(super) index: u32,
    #[serde(borrow, default)]
    pub(super) delta: Option<Delta<'a>>,
    #[serde(borrow, default)]
    pub(super) finish_reason: Option<Cow<'a, str>>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Delta<'a> {
    #[serde(borrow, default)]
    pub(super) content: Option<Cow<'a, str>>,
    /// A refusal is what the model says instead of an answer: shown as text.
    #[serde(borrow, default)]
    pub(super) refusal: Option<Cow<'a, str>>,
    /// DeepSeek, vLLM and llama.cpp.
    #[serde(borrow, default)]
    pub(super) reasoning_content: Option<Cow<'a, str>>,
    /// Ollama and OpenRouter.
    #[serde(borrow, default)]
    pub(super) reasoning: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(super) tool_calls: Option<Vec<ToolCallDelta<'a>>>,
}

#[derive(Debug, Deserialize)]
pub(super) struct ToolCallDelta<'a> {
    #[serde(default)]
    pub(super) index: Option<u32>,
    #[serde(borrow, default)]
    pub(super) id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(super) function: Option<FunctionDelta<'a>>,
}

#[derive(Debug, Deserialize)]
pub(super) struct FunctionDelta<'a> {
    #[serde(borrow, default)]
    pub(super) name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(super) arguments: Option<Cow<'a, str>>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Usage {
    #[serde(default)]
    pub(super) prompt_tokens: u64,
    #[serde(default)]
    pub(super) completion_tokens: u64,
    /// Where the prompt cache is reported: `cached_tokens`, part of the
    /// prompt's count.
    #[serde(default)]
    pub(super) prompt_tokens_details: Option<CachedTokens>,
    #[serde(default)]
    pub(super) total_tokens: Option<u64>,
}

/// `error` as OpenAI sends it (an object with a message) or as some proxies
/// do (a bare string).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum ApiError<'a> {
    Text(#[serde(borrow)] Cow<'a, str>),
    Object {
        #[serde(borrow, default)]
        message: Option<Cow<'a, str>>,
        #[serde(borrow, default, rename = "type")]
        kind: Option<Cow<'a, str>>,
    },
}

impl ApiError<'_> {
    pub(super) fn message(&self) -> String {
        match self {
            ApiError::Text(text) => text.to_string(),
            ApiError::Object {
                message: Some(message),
                ..
            } => message.to_string(),
            ApiError::Object {
                kind: Some(kind), ..
            } => format!("the provider reported an error ({kind})"),
            ApiError::Object { .. } => "the provider reported an error".to_owned(),
        }
    }
}

/// `usage.prompt_tokens_details`.
#[derive(Debug, Deserialize)]
pub(super) struct CachedTokens {
    #[serde(default)]
    pub(super) cached_tokens: u64,
}
