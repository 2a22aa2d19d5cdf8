//! [`Envelope`]: the envelope of a stream's events so far, for stamping the
//! failures passed along in it.
//!
//! An `Err` item carries no envelope: a provider or the transport raises a
//! plain [`Error`]. A sink that renders it as an event ([`Error::to_event`])
//! would send an `error` with no `source`, no `run_id` and `seq` 0 after a
//! run start of `seq` 0 and more. Every sink that renders items runs them
//! through one `Envelope`, so the error reads as part of its run.

use std::borrow::Cow;

use crate::{Error, Event, EventResult, Text};

/// The `seq`, `source` and `run_id` of a stream's events so far.
///
/// The run's `source` and `run_id` are the first ones seen (the run start
/// carries them; a nested run's events, tagged with their own source, do not
/// change whose run it is). `seq` is the highest seen, so an error stamped
/// with it never makes `seq` go backwards.
///
/// ```
/// use agentor_core::{Envelope, Error, Event, EventKind, Kind};
///
/// let mut start = Event::new(EventKind::RunStart { agent: "A1".into(), model: None });
/// start.origin.source = Some("A1".into());
/// start.origin.run_id = Some("run-1".into());
/// start.seq = 4;
///
/// let mut envelope = Envelope::new();
/// let first = envelope.event(Ok(start));
/// let error = envelope.event(Err(Error::provider("429 Too Many Requests")));
/// assert_eq!(error.kind(), Kind::Error);
/// assert_eq!((error.seq, error.origin.source.as_deref(), error.origin.run_id.as_deref()), (4, Some("A1"), Some("run-1")));
/// # assert_eq!(first.seq, 4);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Envelope {
    seq: u64,
    source: Option<Text>,
    run_id: Option<Text>,
}

impl Envelope {
    /// Nothing seen yet.
    pub fn new() -> Self {
        Envelope::default()
    }

    /// A run whose id is known up front (a server that made it): its events
    /// need not have carried it for a failure to be stamped with it.
    pub fn for_run(run_id: Option<Text>) -> Self {
        Envelope {
            run_id,
            ..Envelope::default()
        }
    }

    /// The run's source and id, as far as seen.
    pub fn source(&self) -> Option<&Text> {
        self.source.as_ref()
    }

    /// The run's id, as given or first seen.
    pub fn run_id(&self) -> Option<&Text> {
        self.run_id.as_ref()
    }

    /// Notes `event`'s envelope.
    pub fn observe(&mut self, event: &Event) {
        self.seq = self.seq.max(event.seq);
        if self.source.is_none() {
            self.source.clone_from(&event.origin.source);
        }
        if self.run_id.is_none() {
            self.run_id.clone_from(&event.origin.run_id);
        }
    }

    /// `event` with what its envelope lacks filled in: the run's `source` and
    /// `run_id` where it has none, and a `seq` no lower than the last seen.
    pub fn stamp(&self, mut event: Event) -> Event {
        event.seq = event.seq.max(self.seq);
        if event.origin.source.is_none() {
            event.origin.source.clone_from(&self.source);
        }
        if event.origin.run_id.is_none() {
            event.origin.run_id.clone_from(&self.run_id);
        }
        event
    }

    /// `error` as an `error` event of the run.
    pub fn error_event(&self, error: &Error) -> Event {
        self.stamp(error.to_event())
    }

    /// An item as the event a sink renders: an event is noted and passed as
    /// it is, a failure becomes a stamped `error` event.
    pub fn event(&mut self, item: EventResult) -> Event {
        match item {
            Ok(event) => {
                self.observe(&event);
                event
            }
            Err(error) => self.error_event(&error),
        }
    }

    /// Like [`Envelope::event`], for a borrowed item: an event is borrowed,
    /// a failure's event is made.
    pub fn event_ref<'a>(&mut self, item: &'a EventResult) -> Cow<'a, Event> {
        match item {
            Ok(event) => {
                self.observe(event);
                Cow::Borrowed(event)
            }
            Err(error) => Cow::Owned(self.error_event(error)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{EventKind, Kind, RunStatus};

    fn event(seq: u64, source: Option<&str>, run_id: Option<&str>) -> Event {
        let mut event = Event::run_end(RunStatus::Completed);
        event.seq = seq;
        event.origin.source = source.map(Text::from);
        event.origin.run_id = run_id.map(Text::from);
        event
    }

    #[test]
    fn an_error_before_any_event_is_left_bare() {
        let mut envelope = Envelope::new();
        let error = envelope.event(Err(Error::timeout("slow")));
        assert_eq!((error.seq, error.origin.is_empty()), (0, true));
    }

    #[test]
    fn the_run_is_the_first_seen_and_seq_the_highest() {
        let mut envelope = Envelope::new();
        envelope.observe(&event(0, Some("parent"), Some("r")));
        envelope.observe(&event(7, Some("nested"), Some("r")));
        envelope.observe(&event(3, None, None));
        let error = envelope.error_event(&Error::provider("boom"));
        assert_eq!(error.kind(), Kind::Error);
        assert_eq!(error.seq, 7);
        assert_eq!(error.origin.source.as_deref(), Some("parent"));
        assert_eq!(error.origin.run_id.as_deref(), Some("r"));
    }

    #[test]
    fn stamping_keeps_what_an_event_already_says() {
        let mut envelope = Envelope::new();
        envelope.observe(&event(5, Some("a"), Some("r")));
        let own = envelope.stamp(event(9, Some("b"), Some("s")));
        assert_eq!(
            (
                own.seq,
                own.origin.source.as_deref(),
                own.origin.run_id.as_deref()
            ),
            (9, Some("b"), Some("s"))
        );
        let bare = envelope.stamp(Event::new(EventKind::TextDelta {
            text: "x".into(),
            message_id: None,
        }));
        assert_eq!((bare.seq, bare.origin.source.as_deref()), (5, Some("a")));
    }

    #[test]
    fn borrowed_items_are_noted_too() {
        let mut envelope = Envelope::new();
        let ok: EventResult = Ok(event(2, Some("a"), Some("r")));
        assert!(matches!(envelope.event_ref(&ok), Cow::Borrowed(_)));
        let err: EventResult = Err(Error::internal("x"));
        let error = envelope.event_ref(&err);
        assert_eq!((error.seq, error.origin.run_id.as_deref()), (2, Some("r")));
    }
}
