//! [`Conversation`]: messages to a remote agent that continue one context.

use std::sync::{Arc, Mutex};

use agentor_core::BoxEventStream;

use super::A2aClient;
use crate::StreamResponse;

/// Several messages to one remote agent, as one conversation: the first
/// message starts a remote context, and every later one is sent in it
/// (`contextId`), so the agent answers knowing what was said before.
///
/// Made by [`A2aClient::conversation`]; clones share the context. The
/// context is the one the remote task of a message ran in, noted as its
/// events arrive, so a message sent before the previous one's stream named
/// its task starts a context of its own.
///
/// ```no_run
/// # async fn run(remote: agentor_a2a::client::A2aClient) {
/// use futures_util::StreamExt;
///
/// let chat = remote.conversation();
/// let _first: Vec<_> = chat.stream("My name is Ada.").collect().await;
/// let _second: Vec<_> = chat.stream("What is my name?").collect().await; // same context
/// assert!(chat.context_id().is_some());
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Conversation {
    client: A2aClient,
    context: SharedContext,
}

impl Conversation {
    pub(crate) fn new(client: A2aClient) -> Self {
        Conversation {
            client,
            context: SharedContext::default(),
        }
    }

    /// Sends `text` in the conversation's context and streams the remote
    /// task, as [`A2aClient::stream`] does.
    pub fn stream(&self, text: impl Into<String>) -> BoxEventStream {
        Box::pin(
            self.client
                .send(text.into(), None, Some(self.context.clone())),
        )
    }

    /// The remote context, once a message's stream has named it.
    pub fn context_id(&self) -> Option<String> {
        self.context.get()
    }
}

/// The remote context id of a conversation, shared with its streams.
#[derive(Clone, Debug, Default)]
pub(crate) struct SharedContext(Arc<Mutex<Option<String>>>);

impl SharedContext {
    pub(crate) fn get(&self) -> Option<String> {
        self.0.lock().ok().and_then(|c| c.clone())
    }

    /// Notes the context `event` belongs to, when it names one.
    pub(crate) fn note(&self, event: &StreamResponse) {
        let context = match event {
            StreamResponse::Task(task) => Some(task.context_id.as_str()),
            StreamResponse::StatusUpdate(update) => Some(update.context_id.as_str()),
            StreamResponse::ArtifactUpdate(update) => Some(update.context_id.as_str()),
            StreamResponse::Message(message) => message.context_id.as_deref(),
        };
        if let (Some(context), Ok(mut slot)) = (context.filter(|c| !c.is_empty()), self.0.lock()) {
            if slot.as_deref() != Some(context) {
                *slot = Some(context.to_owned());
            }
        }
    }
}
