//! The resume window: a run whose client went away keeps going for a while
//! in a task of its own, so a client that reconnects in time continues live.
//!
//! Off by default (`ServerConfig::resume_window` is zero): then a disconnect
//! drops the run at once, per the design's drop = cancel. On, a disconnect
//! no longer cancels the model request within milliseconds: the run goes on
//! for up to the window, holding its run permit.

use std::sync::Arc;
use std::time::Duration;

use agentor::{BoxEventStream, RunStatus};
use futures_util::StreamExt;
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::Instant;

use crate::event_log::RunWriter;
use crate::numbering::Numbering;

/// A disconnected run, to be pulled into its log by a task of its own.
pub(crate) struct Detached {
    pub(crate) events: BoxEventStream,
    pub(crate) numbering: Numbering,
    pub(crate) log: Arc<dyn RunWriter>,
    pub(crate) window: Duration,
    /// The run's concurrency permit: the run still counts against the limit.
    pub(crate) permit: OwnedSemaphorePermit,
}

impl Detached {
    /// Spawns the task on the current runtime; without one (the body dropped
    /// outside any runtime) the run is dropped and logged as cancelled.
    pub(crate) fn spawn(self) {
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                handle.spawn(self.run());
            }
            Err(_) => {
                let Detached {
                    events,
                    mut numbering,
                    log,
                    ..
                } = self;
                drop(events);
                log.append(vec![numbering.run_end(RunStatus::Cancelled)]);
            }
        }
    }

    /// Pulls the run into the log until it ends, is cancelled (or the server
    /// shuts down), or a whole
    /// window passes with no reader attached; then drops it (`cancelled`).
    async fn run(self) {
        let Detached {
            mut events,
            mut numbering,
            log,
            window,
            permit,
        } = self;
        let mut deadline = Instant::now() + window;
        loop {
            tokio::select! {
                biased;
                // A cancel of the run, or the server's shutdown.
                () = log.cancel_token().cancelled() => break,
                () = tokio::time::sleep_until(deadline) => {
                    if log.has_followers() {
                        // A reconnected reader is watching: the run is
                        // wanted again, give it another window.
                        deadline = Instant::now() + window;
                        continue;
                    }
                    break;
                }
                item = events.next() => {
                    let Some(item) = item else {
                        drop(events);
                        // A run that ended without a run end failed.
                        log.append(vec![numbering.run_end(RunStatus::Failed)]);
                        drop(permit);
                        return;
                    };
                    // One append per event: no client waits on this path,
                    // so batching would save little.
                    log.append(vec![numbering.number(item)]);
                    if numbering.ended() {
                        drop(permit);
                        return;
                    }
                }
            }
        }
        // Drop the run first: that cancels the model request and tools.
        drop(events);
        log.append(vec![numbering.run_end(RunStatus::Cancelled)]);
        drop(permit);
    }
}
