//! The keys of one run and how SSE ids map to stream entry ids.
//!
//! Entry ids are explicit, `0-{id + 1}` for the SSE id `id` (Redis refuses
//! `0-0`): every instance serves the same ids, `XREAD` from a
//! `Last-Event-ID` needs no lookup, and an `XADD` at an id already taken
//! fails, which fences a producer that lost its run to a reader.

/// The keys of one run.
#[derive(Clone, Debug)]
pub(crate) struct RunKeys {
    /// The stream of the run's events.
    pub(crate) stream: String,
    /// The producer's lease: its fencing token, with a TTL it renews.
    pub(crate) lease: String,
    /// Set by a cancel; the producer checks it as it renews its lease
    /// (pub/sub is the fast path, this the one that cannot be missed).
    pub(crate) cancel: String,
    /// Set by readers while they wait: the run is still wanted (the
    /// resume window).
    pub(crate) watch: String,
    /// What the run's producer keeps beside it (an A2A task's context id
    /// and first message); expires with the stream.
    pub(crate) meta: String,
}

impl RunKeys {
    pub(crate) fn new(prefix: &str, run_id: &str) -> Self {
        let stream = format!("{prefix}:run:{run_id}");
        RunKeys {
            lease: format!("{stream}:lease"),
            cancel: format!("{stream}:cancel"),
            watch: format!("{stream}:watch"),
            meta: format!("{stream}:meta"),
            stream,
        }
    }
}

/// The channel cancels are published on (the payload is the run id).
pub(crate) fn cancel_channel(prefix: &str) -> String {
    format!("{prefix}:cancel")
}

/// The stream every run is announced on as it starts (field `run`), for
/// readers of all runs.
pub(crate) fn runs_index(prefix: &str) -> String {
    format!("{prefix}:runs")
}

/// The sorted set of the runs with metadata of `kind`, by creation time.
pub(crate) fn meta_index(prefix: &str, kind: &str) -> String {
    format!("{prefix}:index:{kind}")
}

/// The counter fencing tokens come from.
pub(crate) fn fence_counter(prefix: &str) -> String {
    format!("{prefix}:fence")
}

/// Whether `run_id` can name keys: no `:` (which would let a run id reach
/// another run's lease), nothing unprintable, at most 200 bytes.
pub(crate) fn valid_run_id(run_id: &str) -> bool {
    !run_id.is_empty()
        && run_id.len() <= 200
        && run_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
}

/// The entry id of the event with SSE id `id`.
pub(crate) fn entry_id(id: u64) -> String {
    format!("0-{}", id.saturating_add(1))
}

/// The SSE id of an entry id written by [`entry_id`]; `None` for another.
pub(crate) fn event_id(entry: &str) -> Option<u64> {
    let (ms, seq) = entry.split_once('-')?;
    if ms != "0" {
        return None;
    }
    seq.parse::<u64>().ok()?.checked_sub(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_foreign_ids_are_refused() {
        for id in [0, 1, 41, u64::MAX - 1] {
            assert_eq!(event_id(&entry_id(id)), Some(id));
        }
        assert_eq!(event_id("1700000000000-0"), None);
        assert_eq!(event_id("0-0"), None);
        assert_eq!(event_id("junk"), None);
    }

    #[test]
    fn run_ids_that_could_reach_other_keys_are_refused() {
        assert!(valid_run_id("run_01HZX-a.b"));
        assert!(!valid_run_id("run:lease"));
        assert!(!valid_run_id(""));
        assert!(!valid_run_id("a b"));
        assert!(!valid_run_id(&"x".repeat(201)));
    }
}
