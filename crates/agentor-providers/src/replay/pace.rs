//! The recorded pace of a replay: when each event is due.

use std::time::Duration;

use agentor_core::{Event, EventKind};
use tokio::time::Instant;

use super::Replay;

/// When each event of a replay is due, per [the pace](Replay#pace).
#[derive(Debug)]
pub(super) struct Pace {
    /// `None`: as fast as possible.
    speed: Option<f64>,
    /// When the first event was played.
    start: Option<Instant>,
    /// Where the recording's own timeline has got to.
    recorded: Duration,
    /// The `t_ms` of the first timed line: time zero of the playback.
    origin: Option<Duration>,
}

impl Pace {
    pub(super) fn new(speed: f64) -> Self {
        Pace {
            // `!(speed > 0.0)` also catches NaN.
            speed: (speed > 0.0 && speed.is_finite()).then_some(speed),
            start: None,
            recorded: Duration::ZERO,
            origin: None,
        }
    }

    /// Where an untimed line falls on the recording's timeline.
    fn reconstructed(&self, kind: &EventKind) -> Duration {
        match kind {
            EventKind::TextDelta { .. } | EventKind::ReasoningDelta { .. } => {
                self.recorded.saturating_add(Replay::DELTA_GAP)
            }
            EventKind::Progress(progress) => self.recorded.max(progress.elapsed),
            _ => self.recorded,
        }
    }

    /// Waits until `event`, recorded at `at` (when the line says), is due.
    pub(super) async fn wait_for(&mut self, event: &Event, at: Option<Duration>) {
        let Some(speed) = self.speed else {
            return;
        };
        let start = *self.start.get_or_insert_with(Instant::now);
        self.recorded = match (&event.kind, at) {
            // The first line's offset is the recording's start.
            (_, Some(at)) => {
                let origin = *self.origin.get_or_insert(at);
                at.saturating_sub(origin)
            }
            (kind, None) => self.reconstructed(kind),
        };

        // Deadlines are absolute, so time spent between events does not add up.
        let offset = Duration::try_from_secs_f64(self.recorded.as_secs_f64() / speed);
        // An offset past what the clock can hold (a corrupt `elapsed`) is never due.
        if let Some(deadline) = offset.ok().and_then(|o| start.checked_add(o)) {
            tokio::time::sleep_until(deadline).await;
        }
    }
}
