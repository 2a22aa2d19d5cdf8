//! [`RetryPolicy`]: when a request that failed before its stream began is
//! sent again, and how long to wait in between.

use std::time::Duration;

/// When to retry a request, and how long to wait in between.
///
/// Only failures before the stream begins are retried — a connection that
/// could not be made, `429 Too Many Requests`, a `5xx` — never after a chunk of
/// the answer was read, since the model may already have said things.
///
/// ```
/// use std::time::Duration;
/// use agentor_transport::RetryPolicy;
///
/// let policy = RetryPolicy::default();
/// assert_eq!(policy.backoff(0), Duration::from_millis(500));
/// assert_eq!(policy.backoff(1), Duration::from_secs(1));
/// assert_eq!(policy.backoff(10), policy.max_backoff);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Retries after the first attempt (so `2` means at most 3 requests).
    pub max_retries: u32,
    /// The wait before the first retry; each later one doubles it.
    pub initial_backoff: Duration,
    /// The longest wait between two attempts. A `Retry-After` longer than
    /// this ends the retries at once: the caller hears of the failure now
    /// instead of waiting silently.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 2,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn none() -> Self {
        RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::default()
        }
    }

    /// Sets the number of retries.
    #[must_use]
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.max_retries = retries;
        self
    }

    /// Sets the first wait.
    #[must_use]
    pub fn initial_backoff(mut self, backoff: Duration) -> Self {
        self.initial_backoff = backoff;
        self
    }

    /// Sets the longest wait.
    #[must_use]
    pub fn max_backoff(mut self, backoff: Duration) -> Self {
        self.max_backoff = backoff;
        self
    }

    /// The wait before retry number `retry` (0 for the first), when the
    /// server gave no `Retry-After`: the initial backoff doubled `retry`
    /// times, capped.
    pub fn backoff(&self, retry: u32) -> Duration {
        let factor = 1u32.checked_shl(retry).unwrap_or(u32::MAX);
        self.initial_backoff
            .checked_mul(factor)
            .map_or(self.max_backoff, |wait| wait.min(self.max_backoff))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let policy = RetryPolicy::default().max_backoff(Duration::from_secs(3));
        let waits: Vec<_> = (0..4).map(|n| policy.backoff(n).as_millis()).collect();
        assert_eq!(waits, [500, 1000, 2000, 3000]);
        assert_eq!(policy.backoff(u32::MAX), Duration::from_secs(3));
    }
}
