//! [`ThinkingMemory`]: the thinking blocks (with their signatures) of turns
//! that called tools, kept so the next request can send them back.
//!
//! With extended thinking on, the API requires the assistant turn that
//! called a tool to come back with its thinking blocks, signatures intact,
//! when the tool results are sent. A [`ChatMessage`](agentor_core::ChatMessage)
//! carries no provider-specific blocks, so the provider remembers them by
//! the turn's first `tool_use` id (ids are unique) and the request builder
//! puts them back in front of that call. The memory is bounded: the oldest
//! entries go first, and an entry forgotten only means the thinking is not
//! resent (the API then answers with an error the run reports).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use serde::Serialize;

/// How many turns' thinking a provider remembers.
const CAPACITY: usize = 256;

/// A thinking block as the API wants it back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum ThinkingBlock {
    /// Readable thinking and the signature that vouches for it.
    Thinking { thinking: String, signature: String },
    /// Thinking the API encrypted; sent back as it came.
    RedactedThinking { data: String },
}

/// Remembered turns, oldest first: the first call's id and the turn's blocks.
type Turns = VecDeque<(String, Arc<[ThinkingBlock]>)>;

/// Shared by a provider's clones, its parsers and its request builder.
#[derive(Clone, Debug, Default)]
pub(crate) struct ThinkingMemory {
    turns: Arc<Mutex<Turns>>,
}

impl ThinkingMemory {
    /// Remembers `blocks` for the turn whose first tool call is `call_id`.
    pub(crate) fn keep(&self, call_id: &str, blocks: Vec<ThinkingBlock>) {
        if blocks.is_empty() {
            return;
        }
        // A poisoned lock only means another thread panicked mid-push: the
        // queue itself is still a valid queue.
        let mut turns = self.turns.lock().unwrap_or_else(|e| e.into_inner());
        if turns.len() == CAPACITY {
            turns.pop_front();
        }
        turns.push_back((call_id.to_owned(), blocks.into()));
    }

    /// The blocks of the turn whose first tool call is `call_id`, if remembered.
    pub(crate) fn recall(&self, call_id: &str) -> Option<Arc<[ThinkingBlock]>> {
        let turns = self.turns.lock().unwrap_or_else(|e| e.into_inner());
        turns
            .iter()
            .rev()
            .find(|(id, _)| id == call_id)
            .map(|(_, blocks)| blocks.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_memory_is_bounded_and_recalls_by_call_id() {
        let memory = ThinkingMemory::default();
        let block = |n: usize| ThinkingBlock::Thinking {
            thinking: format!("t{n}"),
            signature: format!("s{n}"),
        };
        memory.keep("none", Vec::new());
        assert!(memory.recall("none").is_none());
        for n in 0..=CAPACITY {
            memory.keep(&format!("call_{n}"), vec![block(n)]);
        }
        assert!(memory.recall("call_0").is_none(), "the oldest is forgotten");
        assert_eq!(memory.recall("call_1").unwrap()[0], block(1));
        assert_eq!(
            memory.recall(&format!("call_{CAPACITY}")).unwrap()[0],
            block(CAPACITY)
        );
    }
}
