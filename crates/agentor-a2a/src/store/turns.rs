//! The next turn of a task waiting for the user (`input-required`,
//! `auth-required`): what a message naming an existing task may do, and the
//! store reopening the task for it.

use std::collections::VecDeque;

use tokio::sync::broadcast;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::{publish_locked, Inner, Subscription, TaskHandle, TaskStore};
use crate::{A2aError, Message, Task};

impl TaskStore {
    /// The next turn of task `id`, which awaits the user (checked): the
    /// message must fit the byte bound like a new task's, then the task is
    /// driven again by a new handle and followed by a new subscription.
    pub(super) fn resume(
        &self,
        inner: &mut Inner,
        id: String,
        user: Message,
    ) -> Result<(TaskHandle, Subscription), A2aError> {
        let bytes = user.retained_bytes();
        if bytes > self.limits.max_bytes {
            return Err(A2aError::invalid_params(format!(
                "params.message holds about {bytes} bytes, more than this server keeps for all its tasks ({} bytes)",
                self.limits.max_bytes
            )));
        }
        // Not evictable while it makes room: it is running again from here.
        let (sender, receiver) = broadcast::channel(self.limits.subscriber_buffer);
        let cancel = CancellationToken::new();
        let mut turn = 0;
        if let Some(entry) = inner.tasks.get_mut(&id) {
            entry.turn += 1;
            turn = entry.turn;
            entry.finished_at = None;
            entry.sender = Some(sender);
            entry.cancel = cancel.clone();
            entry.subscribers += 1;
        }
        while inner.bytes.saturating_add(bytes) > self.limits.max_bytes {
            if !inner.evict_oldest() {
                if let Some(entry) = inner.tasks.get_mut(&id) {
                    // Back to waiting, as it was.
                    entry.finished_at = Some(Instant::now());
                    entry.sender = None;
                    entry.subscribers -= 1;
                }
                return Err(A2aError::internal(format!(
                    "task store is full: the tasks running or still being read hold {} of {} bytes (the limit); retry when one finishes",
                    inner.bytes, self.limits.max_bytes
                )));
            }
        }
        let subscription = Subscription {
            store: self.clone(),
            id: id.clone(),
            receiver: Some(receiver),
            pending: VecDeque::new(),
            skip_through: 0,
            done: false,
        };
        let handle = TaskHandle {
            store: self.clone(),
            id: id.clone(),
            cancel,
            turn,
        };
        // Under the same lock: a message sent a moment later finds it working.
        publish_locked(inner, self.limits, &id, |p, _| {
            p.resume(user);
        });
        Ok((handle, subscription))
    }
}

/// Whether `task` takes `id`'s next message (sent with `context_id`):
/// only when it waits for the user, and in its own context.
pub(super) fn check_continuable(
    id: &str,
    task: &Task,
    context_id: Option<&str>,
) -> Result<(), A2aError> {
    let state = task.status.state;
    let id = agentor_core::error::excerpt(id);
    if state.is_terminal() {
        // A2A 1.0 §3.1.1 (CORE-SEND-002): "Messages sent to Tasks that are
        // in a terminal state (e.g., completed, canceled, rejected) cannot
        // accept further messages": UnsupportedOperationError.
        return Err(A2aError::unsupported_operation(format!(
            "task {id} is {}, a terminal state: it takes no more messages; send without taskId (same contextId) to go on in a new task",
            state.as_str(crate::Dialect::V0_3)
        )));
    }
    if !state.is_interrupted() {
        return Err(A2aError::unsupported_operation(format!(
            "task {id} is {} and takes its next message when it asks for one (input-required); follow it with tasks/resubscribe (SubscribeToTask), or cancel it",
            state.as_str(crate::Dialect::V0_3)
        )));
    }
    match context_id {
        Some(context) if context != task.context_id => Err(A2aError::invalid_params(format!(
            "params.message.contextId {} is not the context of task {id} ({})",
            agentor_core::error::excerpt(context),
            task.context_id
        ))),
        _ => Ok(()),
    }
}
