//! [`KindSet`]: a set of event kinds, one bit each.

use std::fmt;
use std::str::FromStr;

use crate::event::UnknownName;
use crate::Kind;

/// A set of [`Kind`]s, checked with one AND.
///
/// Parses the native kind names and the agentor compatibility names, so a
/// filter written for Python Agentor keeps its meaning:
///
/// | compatibility name | kinds |
/// |---|---|
/// | `raw_response_event` | `text_delta`, `reasoning_delta`, `tool_call_delta` |
/// | `run_item_stream_event` | `message`, `reasoning_summary`, `tool_call`, `tool_result`, `handoff` |
/// | `agent_updated_stream_event` | `agent_updated` |
///
/// ```
/// use agentor_core::{Kind, KindSet};
///
/// let set: KindSet = "run_item_stream_event, run_end".parse().unwrap();
/// assert!(set.contains(Kind::ToolCall));
/// assert!(set.contains(Kind::RunEnd));
/// assert!(!set.contains(Kind::TextDelta));
/// assert!("nonsense".parse::<KindSet>().is_err());
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct KindSet(u32);

impl KindSet {
    /// No kinds.
    pub const EMPTY: KindSet = KindSet(0);

    /// Text, reasoning and tool-call deltas: what Python Agentor called `raw_response_event`.
    pub const RAW_RESPONSE_EVENT: KindSet =
        KindSet(Kind::TextDelta.bit() | Kind::ReasoningDelta.bit() | Kind::ToolCallDelta.bit());

    /// Messages, reasoning summaries, tool calls and results: `run_item_stream_event`.
    pub const RUN_ITEM_STREAM_EVENT: KindSet = KindSet(
        Kind::Message.bit()
            | Kind::ReasoningSummary.bit()
            | Kind::ToolCall.bit()
            | Kind::ToolResult.bit()
            | Kind::Handoff.bit(),
    );

    /// Agent switches: `agent_updated_stream_event`.
    pub const AGENT_UPDATED_STREAM_EVENT: KindSet = KindSet(Kind::AgentUpdated.bit());

    /// Every kind.
    pub fn all() -> KindSet {
        Kind::ALL.iter().copied().collect()
    }

    /// A set of one kind.
    pub const fn of(kind: Kind) -> KindSet {
        KindSet(kind.bit())
    }

    /// This set with `kind` added.
    #[must_use]
    pub const fn with(self, kind: Kind) -> KindSet {
        KindSet(self.0 | kind.bit())
    }

    /// The union of two sets.
    #[must_use]
    pub const fn union(self, other: KindSet) -> KindSet {
        KindSet(self.0 | other.0)
    }

    /// Whether `kind` is in the set.
    #[inline]
    pub const fn contains(self, kind: Kind) -> bool {
        self.0 & kind.bit() != 0
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The kinds in the set, in [`Kind::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Kind> {
        Kind::ALL.iter().copied().filter(move |k| self.contains(*k))
    }

    /// Parses one name: a [`Kind`] name or a compatibility name.
    pub fn parse_name(name: &str) -> Result<KindSet, UnknownName> {
        match name {
            "raw_response_event" => Ok(KindSet::RAW_RESPONSE_EVENT),
            "run_item_stream_event" => Ok(KindSet::RUN_ITEM_STREAM_EVENT),
            "agent_updated_stream_event" => Ok(KindSet::AGENT_UPDATED_STREAM_EVENT),
            // The SSE sink names the run end frame `done`.
            "done" => Ok(KindSet::of(Kind::RunEnd)),
            _ => name.parse::<Kind>().map(KindSet::of),
        }
    }
}

impl FromIterator<Kind> for KindSet {
    fn from_iter<I: IntoIterator<Item = Kind>>(iter: I) -> Self {
        iter.into_iter().fold(KindSet::EMPTY, KindSet::with)
    }
}

impl From<Kind> for KindSet {
    fn from(kind: Kind) -> Self {
        KindSet::of(kind)
    }
}

/// Parses a comma-separated list of names; blanks around names are ignored.
impl FromStr for KindSet {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, UnknownName> {
        s.split(',')
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .try_fold(KindSet::EMPTY, |set, name| {
                Ok(set.union(KindSet::parse_name(name)?))
            })
    }
}

impl fmt::Debug for KindSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}
