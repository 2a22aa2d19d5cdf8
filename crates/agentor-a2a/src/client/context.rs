//! [`SharedContext`]: the remote context id a conversation's streams note.

use std::sync::{Arc, Mutex};

use crate::StreamResponse;

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
