//! [`Conversation`]: messages to a remote agent that continue one context.

use agentor_core::BoxEventStream;

use super::context::SharedContext;
use super::A2aClient;

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
        self.client
            .send(text.into(), None, Some(self.context.clone()), true)
    }

    /// The remote context, once a message's stream has named it.
    pub fn context_id(&self) -> Option<String> {
        self.context.get()
    }
}
