//! What a run is made of: the agent's shared configuration and the run's
//! [`Input`]. A leaf module, so the agent (which builds them) and the run
//! loop (which reads them) do not import each other.

use std::sync::Arc;
use std::time::Duration;

use agentor_core::{ChatMessage, ModelSettings, Provider, Text, ToolSpec};

use crate::Tool;

/// What a run starts from: one user message, or a whole conversation.
#[derive(Clone, Debug, PartialEq)]
pub enum Input {
    /// A single user message.
    Text(Text),
    /// A conversation (the agent's instructions are added in front).
    Messages(Vec<ChatMessage>),
}

impl From<&str> for Input {
    fn from(text: &str) -> Self {
        Input::Text(text.into())
    }
}

impl From<String> for Input {
    fn from(text: String) -> Self {
        Input::Text(text.into())
    }
}

impl From<Text> for Input {
    fn from(text: Text) -> Self {
        Input::Text(text)
    }
}

impl From<Vec<ChatMessage>> for Input {
    fn from(messages: Vec<ChatMessage>) -> Self {
        Input::Messages(messages)
    }
}

impl Input {
    pub(crate) fn into_messages(self) -> Vec<ChatMessage> {
        match self {
            Input::Text(text) => vec![ChatMessage::user(text)],
            Input::Messages(messages) => messages,
        }
    }
}

/// An agent's configuration, shared by its clones and its runs.
#[derive(Clone)]
pub(crate) struct Config {
    pub(crate) name: Text,
    pub(crate) model: Text,
    pub(crate) instructions: Option<Text>,
    pub(crate) tools: Vec<Tool>,
    /// Tools the client runs (AG-UI frontend tools): offered to the model,
    /// never run here; a turn that calls one ends the run.
    pub(crate) client_tools: Vec<agentor_core::ToolSpec>,
    pub(crate) provider: Arc<dyn Provider>,
    pub(crate) settings: ModelSettings,
    pub(crate) max_turns: usize,
    pub(crate) tool_timeout: Duration,
    /// Agents this one may hand the conversation to.
    pub(crate) handoffs: Vec<Arc<Config>>,
    /// Whether its spans record message contents, tool arguments and results.
    pub(crate) capture_content: bool,
}

impl Config {
    /// What the model is offered: the tools, then a transfer tool per handoff target.
    pub(crate) fn specs(&self) -> Vec<ToolSpec> {
        // A request's client tools first: they are what the request adds.
        let client = self.client_tools.iter().cloned();
        let tools = self.tools.iter().map(|t| t.spec().clone());
        let transfers = self
            .handoffs
            .iter()
            .map(|t| crate::handoff::transfer_spec(t));
        client.chain(tools).chain(transfers).collect()
    }

    pub(crate) fn conversation(&self, input: Input) -> Vec<ChatMessage> {
        let mut messages: Vec<ChatMessage> = self
            .instructions
            .iter()
            .map(|i| ChatMessage::system(i.clone()))
            .collect();
        // A conversation that brings its own system message keeps it after ours.
        messages.extend(input.into_messages());
        messages
    }
}
