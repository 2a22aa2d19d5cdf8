//! [`ChatRuns`]: the latest run of each AI SDK chat, so
//! `GET /api/chat/{id}/stream` finds the run to resume from a chat id.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use agentor::Text;

/// Chat id → its latest run id, the most recent `capacity` chats (older
/// ones are forgotten first; their runs' logs expire anyway).
#[derive(Clone, Debug)]
pub(crate) struct ChatRuns {
    entries: Arc<Mutex<VecDeque<(String, Text)>>>,
    capacity: usize,
}

impl ChatRuns {
    pub(crate) fn new(capacity: usize) -> Self {
        ChatRuns {
            entries: Arc::default(),
            capacity: capacity.max(1),
        }
    }

    /// Records `run_id` as the chat's latest run.
    pub(crate) fn insert(&self, chat_id: &str, run_id: Text) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.retain(|(chat, _)| chat != chat_id);
        if entries.len() >= self.capacity {
            entries.pop_front();
        }
        entries.push_back((chat_id.to_owned(), run_id));
    }

    /// The chat's latest run id.
    pub(crate) fn get(&self, chat_id: &str) -> Option<Text> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries
            .iter()
            .rev()
            .find(|(chat, _)| chat == chat_id)
            .map(|(_, run)| run.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_latest_run_of_the_most_recent_chats() {
        let runs = ChatRuns::new(2);
        runs.insert("a", "r1".into());
        runs.insert("a", "r2".into());
        runs.insert("b", "r3".into());
        assert_eq!(runs.get("a").as_deref(), Some("r2"));
        runs.insert("c", "r4".into());
        assert_eq!(runs.get("a"), None);
        assert_eq!(runs.get("b").as_deref(), Some("r3"));
        assert_eq!(runs.get("c").as_deref(), Some("r4"));
    }
}
