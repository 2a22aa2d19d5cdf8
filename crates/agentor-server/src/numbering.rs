//! [`Numbering`]: how a streamed run's items become the events sent, with
//! the server's ids.
//!
//! Shared by the response body and the task that keeps a disconnected run
//! going ([`crate::detach`]), so a run numbers its events the same way
//! whoever pulls it.

use agentor::{Envelope, Event, EventKind, EventResult, RunStatus, Text};

/// Renumbers a run's items 0, 1, 2, … and turns failures into error events.
#[derive(Debug, Default)]
pub(crate) struct Numbering {
    /// The id of the next event: events are renumbered as sent, so ids are
    /// unique and gapless even where layers repeat a `seq`; the replay log
    /// and `Last-Event-ID` key on the same numbers.
    next_id: u64,
    /// The run's id (given up front, else the first seen) and source (the
    /// first seen), for failures and the events the server makes itself.
    envelope: Envelope,
    /// A run end was numbered: the run needs no synthesized one.
    ended: bool,
}

impl Numbering {
    pub(crate) fn new(run_id: Option<Text>) -> Self {
        Numbering {
            next_id: 0,
            envelope: Envelope::for_run(run_id),
            ended: false,
        }
    }

    /// The event for one item, with the next id.
    pub(crate) fn number(&mut self, item: EventResult) -> Event {
        let id = self.next_id;
        self.next_id += 1;
        let mut event = self.envelope.event(item);
        event.seq = id;
        if matches!(event.kind, EventKind::RunEnd { .. }) {
            self.ended = true;
        }
        event
    }

    /// A run end the run did not send itself (shutdown, disconnect, or a run
    /// that ended without one), so no stream ends silently.
    pub(crate) fn run_end(&mut self, status: RunStatus) -> Event {
        let event = self
            .envelope
            .stamp(Event::new(EventKind::RunEnd { status }));
        self.number(Ok(event))
    }

    pub(crate) fn ended(&self) -> bool {
        self.ended
    }
}
