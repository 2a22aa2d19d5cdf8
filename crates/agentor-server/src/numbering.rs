//! [`Numbering`]: how a streamed run's items become the events sent, with
//! the server's ids.
//!
//! Shared by the response body and the task that keeps a disconnected run
//! going ([`crate::detach`]), so a run numbers its events the same way
//! whoever pulls it.

use agentor::{Event, EventKind, EventResult, RunStatus, Text};

/// Renumbers a run's items 0, 1, 2, … and turns failures into error events.
#[derive(Debug, Default)]
pub(crate) struct Numbering {
    /// The id of the next event: events are renumbered as sent, so ids are
    /// unique and gapless even where layers repeat a `seq`; the replay log
    /// and `Last-Event-ID` key on the same numbers.
    next_id: u64,
    /// Given to the events the server makes itself; when not given up
    /// front, the first run id seen.
    run_id: Option<Text>,
    /// The first source seen, given to the events the server makes itself.
    source: Option<Text>,
    /// A run end was numbered: the run needs no synthesized one.
    ended: bool,
}

impl Numbering {
    pub(crate) fn new(run_id: Option<Text>) -> Self {
        Numbering {
            next_id: 0,
            run_id,
            source: None,
            ended: false,
        }
    }

    /// The event for one item, with the next id.
    pub(crate) fn number(&mut self, item: EventResult) -> Event {
        let id = self.next_id;
        self.next_id += 1;
        let mut event = match item {
            Ok(event) => event,
            Err(err) => {
                let mut event = err.to_event();
                event.run_id.clone_from(&self.run_id);
                event.source.clone_from(&self.source);
                event
            }
        };
        event.seq = id;
        if self.source.is_none() {
            self.source.clone_from(&event.source);
        }
        if self.run_id.is_none() {
            self.run_id.clone_from(&event.run_id);
        }
        if matches!(event.kind, EventKind::RunEnd { .. }) {
            self.ended = true;
        }
        event
    }

    /// A run end the run did not send itself (shutdown, disconnect, or a run
    /// that ended without one), so no stream ends silently.
    pub(crate) fn run_end(&mut self, status: RunStatus) -> Event {
        let mut event = Event::new(EventKind::RunEnd { status });
        event.run_id.clone_from(&self.run_id);
        event.source.clone_from(&self.source);
        self.number(Ok(event))
    }

    pub(crate) fn ended(&self) -> bool {
        self.ended
    }
}
