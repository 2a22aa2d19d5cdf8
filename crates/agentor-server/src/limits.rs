//! The concurrency limit on runs.

use std::sync::Arc;

use axum::http::StatusCode;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::ApiError;

/// Counts the runs in progress; a permit is held until the run ends (for a
/// stream: until its body is dropped).
#[derive(Clone, Debug)]
pub(crate) struct RunLimit {
    permits: Arc<Semaphore>,
    max: usize,
}

impl RunLimit {
    pub(crate) fn new(max: usize) -> Self {
        RunLimit {
            permits: Arc::new(Semaphore::new(max)),
            max,
        }
    }

    /// A permit now, or `503` (with `Retry-After: 1`): waiting would hold
    /// the connection and hide overload from the client.
    pub(crate) fn acquire(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        self.permits.clone().try_acquire_owned().map_err(|_| {
            crate::metrics::load_shed();
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "too_many_runs",
                format!(
                    "{} runs are in progress (the limit); retry shortly",
                    self.max
                ),
            )
        })
    }
}
