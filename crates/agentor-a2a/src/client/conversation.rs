//! [`Conversation`]: messages to a remote agent that continue one context.

use agentor_core::BoxEventStream;

use super::context::SharedContext;
use super::A2aClient;

/// Several messages to one remote agent, as one conversation: the first
/// message starts a remote context, and every later one is sent in it
/// (`contextId`), so the agent answers knowing what was said before.
///
/// When the remote agent ends its turn asking (task state
/// `input-required` or `auth-required`), the stream ends with the question
/// as its last `message` and a run end [`RunStatus::InputRequired`] (or
/// [`RunStatus::AuthRequired`]); the next message sent is the answer: it
/// goes to that same task (`taskId`), which goes on working.
/// [`waiting_task`](Self::waiting_task) names the task while it waits.
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
///
/// [`RunStatus::InputRequired`]: agentor_core::RunStatus::InputRequired
/// [`RunStatus::AuthRequired`]: agentor_core::RunStatus::AuthRequired
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

    /// Sends `text` in the conversation's context — to the task waiting
    /// for an answer, if one is — and streams the remote task, as
    /// [`A2aClient::stream`] does.
    pub fn stream(&self, text: impl Into<String>) -> BoxEventStream {
        self.client
            .send(text.into(), None, Some(self.context.clone()), true)
    }

    /// The remote context, once a message's stream has named it.
    pub fn context_id(&self) -> Option<String> {
        self.context.get()
    }

    /// The remote task waiting for this conversation's next message: the
    /// one whose last stream ended `input-required` or `auth-required`.
    /// `None` once the answer's stream shows it working again or over.
    pub fn waiting_task(&self) -> Option<String> {
        self.context.waiting_task()
    }
}
