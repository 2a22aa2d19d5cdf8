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
}

impl Pace {
    pub(super) fn new(speed: f64) -> Self {
        Pace {
            // `!(speed > 0.0)` also catches NaN.
            speed: (speed > 0.0 && speed.is_finite()).then_some(speed),
            start: None,
            recorded: Duration::ZERO,
        }
    }

    /// Waits until `event` is due.
    pub(super) async fn wait_for(&mut self, event: &Event) {
        let Some(speed) = self.speed else {
            return;
        };
        let start = *self.start.get_or_insert_with(Instant::now);
        self.recorded = match &event.kind {
            EventKind::TextDelta { .. } | EventKind::ReasoningDelta { .. } => {
                self.recorded.saturating_add(Replay::DELTA_GAP)
            }
            EventKind::Progress(progress) => self.recorded.max(progress.elapsed),
            _ => self.recorded,
        };
        // Deadlines are absolute, so time spent between events does not add up.
        let offset = Duration::try_from_secs_f64(self.recorded.as_secs_f64() / speed);
        // An offset past what the clock can hold (a corrupt `elapsed`) is never due.
        if let Some(deadline) = offset.ok().and_then(|o| start.checked_add(o)) {
            tokio::time::sleep_until(deadline).await;
        }
    }
}
