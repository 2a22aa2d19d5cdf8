//! [`Provider`]: what turns a chat request into an event stream.
//!
//! The trait lives in the core so that agents, servers and tests can depend on
//! it without any HTTP stack; the OpenAI, replay and demo providers live in
//! `agentor-providers`.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::{BoxEventStream, Text};

/// Who said a [`ChatMessage`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChatRole {
    /// Instructions for the model.
    System,
    /// The person (or program) talking to the agent.
    User,
    /// The model.
    Assistant,
    /// A tool's answer to a call.
    Tool,
}

/// A tool call the model made, as it goes back into the conversation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ToolCallRequest {
    /// Id pairing the call with its result.
    pub id: Text,
    /// The tool's name.
    pub name: Text,
    /// The arguments as the model wrote them (JSON, normally an object).
    pub arguments: serde_json::Value,
}

/// One message of a conversation.
///
/// ```
/// use agentor_core::{ChatMessage, ChatRole};
///
/// let question = ChatMessage::user("What's the weather in Paris?");
/// assert_eq!(question.role, ChatRole::User);
/// assert_eq!(question.content, "What's the weather in Paris?");
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// Who said it.
    pub role: ChatRole,
    /// The text (empty for an assistant message that only calls tools).
    #[serde(default)]
    pub content: Text,
    /// Tool calls of an assistant message.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCallRequest>,
    /// For a tool message: the call it answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<Text>,
}

impl ChatMessage {
    /// A message with `role` and `content`.
    pub fn new(role: ChatRole, content: impl Into<Text>) -> Self {
        ChatMessage {
            role,
            content: content.into(),
            tool_calls: Vec::new(),
            tool_call_id: None,
        }
    }

    /// A system message.
    pub fn system(content: impl Into<Text>) -> Self {
        ChatMessage::new(ChatRole::System, content)
    }

    /// A user message.
    pub fn user(content: impl Into<Text>) -> Self {
        ChatMessage::new(ChatRole::User, content)
    }

    /// An assistant message.
    pub fn assistant(content: impl Into<Text>) -> Self {
        ChatMessage::new(ChatRole::Assistant, content)
    }

    /// A tool's result, answering `call_id`.
    pub fn tool(call_id: impl Into<Text>, content: impl Into<Text>) -> Self {
        ChatMessage {
            tool_call_id: Some(call_id.into()),
            ..ChatMessage::new(ChatRole::Tool, content)
        }
    }
}

/// A tool the model may call: its name, what it does, and a JSON Schema of
/// its parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ToolSpec {
    /// The name the model calls it by.
    pub name: Text,
    /// What it does, for the model.
    pub description: Text,
    /// JSON Schema of the arguments object.
    pub parameters: serde_json::Value,
}

/// Model settings a request may carry; `None` leaves the provider's default.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ModelSettings {
    /// Sampling temperature.
    pub temperature: Option<f32>,
    /// Nucleus sampling.
    pub top_p: Option<f32>,
    /// Upper bound on generated tokens.
    pub max_tokens: Option<u32>,
    /// Reasoning effort for models that take one (`low`, `medium`, `high`).
    pub reasoning_effort: Option<Text>,
}

/// What a provider is asked: one model turn.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ChatRequest {
    /// The model to ask.
    pub model: Text,
    /// The conversation so far, instructions first.
    pub messages: Vec<ChatMessage>,
    /// Tools the model may call.
    pub tools: Vec<ToolSpec>,
    /// Sampling and length settings.
    pub settings: ModelSettings,
    /// The agent asking, for the run start event.
    pub agent: Option<Text>,
    /// The run this turn belongs to, set on every event's envelope.
    pub run_id: Option<Text>,
}

impl ChatRequest {
    /// A request to `model` with `messages`, no tools, default settings.
    pub fn new(model: impl Into<Text>, messages: Vec<ChatMessage>) -> Self {
        ChatRequest {
            model: model.into(),
            messages,
            tools: Vec::new(),
            settings: ModelSettings::default(),
            agent: None,
            run_id: None,
        }
    }

    /// Offers `tools` to the model.
    #[must_use]
    pub fn with_tools(mut self, tools: Vec<ToolSpec>) -> Self {
        self.tools = tools;
        self
    }

    /// Sets the model settings.
    #[must_use]
    pub fn with_settings(mut self, settings: ModelSettings) -> Self {
        self.settings = settings;
        self
    }

    /// Names the agent asking.
    #[must_use]
    pub fn with_agent(mut self, agent: impl Into<Text>) -> Self {
        self.agent = Some(agent.into());
        self
    }

    /// Sets the run id.
    #[must_use]
    pub fn with_run_id(mut self, run_id: impl Into<Text>) -> Self {
        self.run_id = Some(run_id.into());
        self
    }
}

/// A source of model turns: an LLM API, a recording, a demo.
///
/// [`Provider::stream`] returns one model turn as a well-formed event stream:
///
/// 1. a `run_start` (agent and model);
/// 2. text and reasoning deltas as they arrive; each tool call once complete,
///    with its arguments parsed (arguments that are not valid JSON arrive as a
///    JSON string holding the raw text, for the caller to reject);
/// 3. the complete `message` of the turn when it produced text, and `usage`
///    when reported;
/// 4. a `run_end`: `completed` when the model finished (whatever its reason,
///    tool calls included), `failed` after a failure.
///
/// A failure is an `Err` item (HTTP status, connection, truncated body) or an
/// `error` event (the model's API reported one mid-stream), always followed by
/// the `failed` run end. Every event's envelope carries the request's
/// `run_id`. Dropping the stream cancels the work (closes the HTTP request).
///
/// The trait is object-safe: agents hold an `Arc<dyn Provider>`.
pub trait Provider: Send + Sync + fmt::Debug {
    /// One model turn for `request`.
    fn stream(&self, request: ChatRequest) -> BoxEventStream;

    /// A short name for logs and the run start (`openai-chat`, `demo`, …).
    fn name(&self) -> &str;
}

impl<P: Provider + ?Sized> Provider for Arc<P> {
    fn stream(&self, request: ChatRequest) -> BoxEventStream {
        (**self).stream(request)
    }

    fn name(&self) -> &str {
        (**self).name()
    }
}

impl<P: Provider + ?Sized> Provider for Box<P> {
    fn stream(&self, request: ChatRequest) -> BoxEventStream {
        (**self).stream(request)
    }

    fn name(&self) -> &str {
        (**self).name()
    }
}

/// The old name of [`ChatMessage`].
#[deprecated(
    since = "0.1.0",
    note = "renamed `ChatMessage`, apart from the A2A `Message`"
)]
pub type Message = ChatMessage;

/// The old name of [`ChatRole`].
#[deprecated(
    since = "0.1.0",
    note = "renamed `ChatRole`, apart from the A2A `Role`"
)]
pub type Role = ChatRole;
