//! [`SharedContext`]: the remote context id a conversation's streams note,
//! and the remote task waiting for the conversation's next message.

use std::sync::{Arc, Mutex};

use crate::StreamResponse;

/// What a conversation's streams have learned of the remote side.
#[derive(Debug, Default)]
struct Noted {
    context: Option<String>,
    /// The task whose turn ended `input-required` / `auth-required`: the
    /// next message answers it.
    waiting_task: Option<String>,
}

/// The remote context id of a conversation, shared with its streams.
#[derive(Clone, Debug, Default)]
pub(crate) struct SharedContext(Arc<Mutex<Noted>>);

impl SharedContext {
    pub(crate) fn get(&self) -> Option<String> {
        self.0.lock().ok().and_then(|n| n.context.clone())
    }

    /// The remote task waiting for the next message, if one is.
    pub(crate) fn waiting_task(&self) -> Option<String> {
        self.0.lock().ok().and_then(|n| n.waiting_task.clone())
    }

    /// Notes the context `event` belongs to, when it names one, and
    /// whether its task now waits for the user.
    pub(crate) fn note(&self, event: &StreamResponse) {
        let (context, task, state) = match event {
            StreamResponse::Task(task) => (
                Some(task.context_id.as_str()),
                Some(task.id.as_str()),
                Some(task.status.state),
            ),
            StreamResponse::StatusUpdate(update) => (
                Some(update.context_id.as_str()),
                Some(update.task_id.as_str()),
                Some(update.status.state),
            ),
            StreamResponse::ArtifactUpdate(update) => {
                (Some(update.context_id.as_str()), None, None)
            }
            StreamResponse::Message(message) => (message.context_id.as_deref(), None, None),
        };
        let Ok(mut noted) = self.0.lock() else {
            return;
        };
        if let Some(context) = context.filter(|c| !c.is_empty()) {
            if noted.context.as_deref() != Some(context) {
                noted.context = Some(context.to_owned());
            }
        }
        if let (Some(task), Some(state)) = (task, state) {
            if state.is_interrupted() {
                noted.waiting_task = Some(task.to_owned());
            } else if noted.waiting_task.as_deref() == Some(task) {
                // Answered (working again) or over: nothing waits now.
                noted.waiting_task = None;
            }
        }
    }
}
