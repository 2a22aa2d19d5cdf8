//! One playback of a recording: the state behind a [`Replay`](super::Replay) stream.

use std::collections::VecDeque;

use agentor_core::wire::native::{read_timed_json_lines, TimedJsonLines};
use agentor_core::{Error, Event, EventResult, Restamp, RunStatus, Text};
use futures_util::StreamExt;

use super::pace::Pace;
use super::{Reader, Source};

/// The state of one playback, stepped by `stream::unfold`.
pub(super) struct Playback {
    /// The recording, until it is opened.
    source: Option<Source>,
    lines: Option<TimedJsonLines<Reader>>,
    run_id: Option<Text>,
    /// Keeps the recording's events sharing one origin with `run_id` in it.
    restamp: Restamp,
    pace: Pace,
    /// Items owed after the recording ended (a closing run end).
    tail: VecDeque<EventResult>,
    /// Whether the last event played was a run end.
    ended: bool,
    next_seq: u64,
    finished: bool,
}

impl Playback {
    pub(super) fn new(source: Source, run_id: Option<Text>, pace: Pace) -> Self {
        Playback {
            source: Some(source),
            lines: None,
            run_id,
            restamp: Restamp::new(),
            pace,
            tail: VecDeque::new(),
            ended: false,
            next_seq: 0,
            finished: false,
        }
    }

    /// The next item and the state after it.
    pub(super) async fn next(mut self) -> Option<(EventResult, Self)> {
        if let Some(item) = self.tail.pop_front() {
            return Some((item, self));
        }
        if self.finished {
            return None;
        }
        if let Some(source) = self.source.take() {
            match source.open().await {
                Ok(reader) => self.lines = Some(read_timed_json_lines(reader)),
                Err(err) => return Some((self.fail(err), self)),
            }
        }
        let item = match self.lines.as_mut()?.next().await {
            Some(Ok((mut event, at))) => {
                self.pace.wait_for(&event, at).await;
                if let Some(run_id) = &self.run_id {
                    self.restamp
                        .apply(&mut event.origin, |o| o.run_id = Some(run_id.clone()));
                }
                self.ended = event.run_status().is_some();
                self.next_seq = event.seq.saturating_add(1);
                Ok(event)
            }
            // A bad line passes through; it does not change how the run ended.
            Some(Err(err)) => Err(err),
            None if self.ended => return None,
            None => self.fail(Error::protocol(
                "the recording ended without a run_end: it is incomplete",
            )),
        };
        Some((item, self))
    }

    /// `error` now, then a `failed` run end, then the end of the stream.
    fn fail(&mut self, error: Error) -> EventResult {
        self.finished = true;
        let mut end = Event::run_end(RunStatus::Failed).with_seq(self.next_seq);
        end.origin.run_id.clone_from(&self.run_id);
        self.tail.push_back(Ok(end));
        Err(error)
    }
}
