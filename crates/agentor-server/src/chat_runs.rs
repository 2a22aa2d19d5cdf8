//! [`ChatRuns`]: the latest run of each AI SDK chat, so
//! `GET /api/chat/{id}/stream` finds the run to resume from a chat id.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use agentor::{BoxEventStream, Text};

/// Whether a chat's run is still going (its stream not yet dropped).
type Live = Arc<AtomicBool>;

/// Chat id → its latest run id, the most recent `capacity` chats (older
/// ones are forgotten first; their runs' logs expire anyway).
#[derive(Clone, Debug)]
pub(crate) struct ChatRuns {
    entries: Arc<Mutex<VecDeque<(String, Text, Live)>>>,
    capacity: usize,
}

impl ChatRuns {
    pub(crate) fn new(capacity: usize) -> Self {
        ChatRuns {
            entries: Arc::default(),
            capacity: capacity.max(1),
        }
    }

    /// Records `run_id` as the chat's latest run, live until the returned
    /// flag is cleared ([`while_live`]).
    pub(crate) fn insert(&self, chat_id: &str, run_id: Text) -> Live {
        let live = Live::new(AtomicBool::new(true));
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.retain(|(chat, _, _)| chat != chat_id);
        if entries.len() >= self.capacity {
            entries.pop_front();
        }
        entries.push_back((chat_id.to_owned(), run_id, live.clone()));
        live
    }

    /// The chat's latest run id, while that run goes on.
    pub(crate) fn active(&self, chat_id: &str) -> Option<Text> {
        self.find(chat_id)
            .filter(|(_, live)| live.load(Ordering::SeqCst))
            .map(|(run, _)| run)
    }

    fn find(&self, chat_id: &str) -> Option<(Text, Live)> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries
            .iter()
            .rev()
            .find(|(chat, _, _)| chat == chat_id)
            .map(|(_, run, live)| (run.clone(), live.clone()))
    }
}

/// `events`, clearing `live` when dropped: a run's stream is dropped once it
/// ended, was cancelled, or its resume window closed.
pub(crate) fn while_live(events: BoxEventStream, live: Live) -> BoxEventStream {
    struct Clear(Live);
    impl Drop for Clear {
        fn drop(&mut self) {
            self.0.store(false, Ordering::SeqCst);
        }
    }
    let clear = Clear(live);
    Box::pin(futures_util::StreamExt::map(events, move |item| {
        let _keep = &clear;
        item
    }))
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
        assert_eq!(runs.active("a").as_deref(), Some("r2"));
        runs.insert("c", "r4".into());
        assert_eq!(runs.active("a"), None);
        assert_eq!(runs.active("b").as_deref(), Some("r3"));
        assert_eq!(runs.active("c").as_deref(), Some("r4"));
    }

    #[tokio::test]
    async fn a_run_is_active_until_its_stream_is_dropped() {
        let runs = ChatRuns::new(4);
        let live = runs.insert("chat", "r1".into());
        let events: BoxEventStream = Box::pin(futures_util::stream::empty());
        let events = while_live(events, live);
        assert_eq!(runs.active("chat").as_deref(), Some("r1"));
        drop(events);
        assert_eq!(runs.active("chat"), None);
    }
}
