//! What a producer keeps beside a run (an A2A task's context id and first
//! message), the index that lists such runs by kind, and a run's events
//! read without waiting: what another instance needs to rebuild an A2A
//! task it did not create.
//!
//! Keys: `{prefix}:run:{id}:meta` (a string, expiring with the run's
//! stream: the writer renews both) and `{prefix}:index:{kind}` (a sorted
//! set of run ids by creation time in ms, at most [`INDEX_LEN`], renewed
//! by each run put in it).

use std::time::{SystemTime, UNIX_EPOCH};

use agentor::Event;
use agentor_server::event_log::LogError;
use redis::streams::StreamRangeReply;

use crate::entry::decode_entry;
use crate::keys::{event_id, meta_index, valid_run_id, RunKeys};
use crate::log::{unavailable, Inner};
use crate::writer::millis;

/// How many runs an index keeps (the newest).
const INDEX_LEN: usize = 10_000;
/// The largest metadata kept for one run.
const MAX_META: usize = 1024 * 1024;

fn valid_kind(kind: &str) -> bool {
    !kind.is_empty() && kind.len() <= 64 && kind.bytes().all(|b| b.is_ascii_alphanumeric())
}

impl Inner {
    pub(crate) async fn put_meta(
        &self,
        kind: &str,
        run_id: &str,
        meta: String,
    ) -> Result<(), LogError> {
        if !valid_run_id(run_id) {
            return Err(LogError::UnknownRun);
        }
        if !valid_kind(kind) || meta.len() > MAX_META {
            return Err(LogError::Unavailable(format!(
                "metadata of kind `{}` and {} bytes is not kept (a kind is 1 to 64 letters or digits, metadata at most {MAX_META} bytes)",
                agentor::error::excerpt(kind),
                meta.len()
            )));
        }
        let keys = RunKeys::new(&self.config.prefix, run_id);
        let index = meta_index(&self.config.prefix, kind);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let retention = millis(self.config.retention);
        let mut conn = self.conn.clone();
        redis::pipe()
            .cmd("SET")
            .arg(&keys.meta)
            .arg(meta)
            .arg("PX")
            .arg(retention)
            .ignore()
            .cmd("ZADD")
            .arg(&index)
            .arg(now)
            .arg(run_id)
            .ignore()
            .cmd("ZREMRANGEBYRANK")
            .arg(&index)
            .arg(0)
            .arg(-(i64::try_from(INDEX_LEN).unwrap_or(i64::MAX)) - 1)
            .ignore()
            .cmd("PEXPIRE")
            .arg(&index)
            .arg(retention)
            .ignore()
            .query_async::<()>(&mut conn)
            .await
            .map_err(unavailable)
    }

    pub(crate) async fn meta(&self, run_id: &str) -> Result<Option<String>, LogError> {
        if !valid_run_id(run_id) {
            return Ok(None);
        }
        let keys = RunKeys::new(&self.config.prefix, run_id);
        let mut conn = self.conn.clone();
        redis::cmd("GET")
            .arg(&keys.meta)
            .query_async(&mut conn)
            .await
            .map_err(unavailable)
    }

    pub(crate) async fn recent(&self, kind: &str, limit: usize) -> Result<Vec<String>, LogError> {
        if !valid_kind(kind) || limit == 0 {
            return Ok(Vec::new());
        }
        let mut conn = self.conn.clone();
        redis::cmd("ZREVRANGE")
            .arg(meta_index(&self.config.prefix, kind))
            .arg(0)
            .arg(i64::try_from(limit).unwrap_or(i64::MAX) - 1)
            .query_async(&mut conn)
            .await
            .map_err(unavailable)
    }

    /// The run's entries from the first, at most about what `MAXLEN ~`
    /// keeps; a trimmed start is [`LogError::Gone`], a hole (events the
    /// producer could not log) [`LogError::FellBehind`]: never a silent skip.
    pub(crate) async fn snapshot(&self, run_id: &str) -> Result<Vec<Event>, LogError> {
        if !valid_run_id(run_id) {
            return Err(LogError::UnknownRun);
        }
        let keys = RunKeys::new(&self.config.prefix, run_id);
        let mut conn = self.conn.clone();
        // `MAXLEN ~` trims whole nodes (100 entries by default): a stream
        // may hold a little more than `max_len`.
        let count = self.config.max_len.saturating_mul(2).saturating_add(1024);
        let reply: StreamRangeReply = redis::cmd("XRANGE")
            .arg(&keys.stream)
            .arg("-")
            .arg("+")
            .arg("COUNT")
            .arg(count)
            .query_async(&mut conn)
            .await
            .map_err(unavailable)?;
        let mut events = Vec::with_capacity(reply.ids.len());
        for (expected, entry) in (0u64..).zip(&reply.ids) {
            let id = event_id(&entry.id);
            if id != Some(expected) {
                let found = id.unwrap_or(expected);
                return Err(if expected == 0 {
                    LogError::Gone { oldest: found }
                } else {
                    LogError::FellBehind {
                        from: expected,
                        oldest: found,
                    }
                });
            }
            events.push(decode_entry(entry).map_err(LogError::Unavailable)?);
        }
        Ok(events)
    }
}
