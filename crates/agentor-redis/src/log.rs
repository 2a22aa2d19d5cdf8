//! [`RedisLog`]: the [`EventLog`] on Redis Streams, and the pub/sub
//! listener that brings cancels to the runs this instance produces.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use agentor::{ErrorKind, Event, RunStatus};
use agentor_server::event_log::{EventBatches, EventLog, LogError, RunWriter};
use futures_util::future::BoxFuture;
use futures_util::{FutureExt, StreamExt};
use redis::aio::ConnectionManager;
use redis::Client;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::config::RedisLogConfig;
use crate::keys::{cancel_channel, fence_counter, valid_run_id, RunKeys};
use crate::reader;
use crate::writer::{self, millis};

/// The Redis Streams [`EventLog`]: give every instance one (same URL, same
/// prefix) and any of them resumes, reads and cancels any run.
///
/// Cheap to clone: clones share the connections.
#[derive(Clone)]
pub struct RedisLog {
    pub(crate) inner: Arc<Inner>,
}

/// The message of the error event before the `cancelled` end of a run
/// cancelled after its producer was lost.
const ORPHAN_CANCELLED: &str =
    "cancelled: the instance producing this run was lost; the run was ended by the cancel";

/// What a log's clones, its writer tasks and its readers share.
pub(crate) struct Inner {
    pub(crate) client: Client,
    /// Appends, lease renewals and reads that do not block, multiplexed;
    /// it reconnects by itself after a loss.
    pub(crate) conn: ConnectionManager,
    pub(crate) config: RedisLogConfig,
    /// The runs produced here, by id: where a cancel from pub/sub lands.
    producers: Mutex<HashMap<String, CancellationToken>>,
    /// Bounds the blocking readers (each holds a connection).
    pub(crate) readers: Arc<Semaphore>,
    /// This instance's number (from Redis) for its fencing tokens.
    instance: u64,
    next_run: AtomicU64,
    /// Stops the cancel listener when the last clone goes.
    stop: CancellationToken,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Redis could not be reached (or refused us) when the log was opened.
#[derive(Debug, thiserror::Error)]
#[error("cannot reach Redis at {url}: {reason}")]
pub struct ConnectError {
    /// The URL, without its password.
    pub url: String,
    /// What went wrong.
    pub reason: String,
}

impl RedisLog {
    /// Connects to `url` (`redis://host:port/db`, `rediss://` for TLS where
    /// the redis crate supports it) within the configured timeout and starts
    /// listening for cancels. Must be called within a tokio runtime.
    pub async fn connect(url: &str, config: RedisLogConfig) -> Result<RedisLog, ConnectError> {
        let fail = |reason: String| ConnectError {
            url: redact(url),
            reason,
        };
        let client = Client::open(url).map_err(|e| fail(e.to_string()))?;
        let manager_config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(config.timeout)
            .set_response_timeout(config.timeout)
            .set_number_of_retries(2)
            .set_max_delay(500);
        let connect = ConnectionManager::new_with_config(client.clone(), manager_config);
        let mut conn = tokio::time::timeout(config.timeout * 2, connect)
            .await
            .map_err(|_| fail(format!("no answer within {:?}", config.timeout * 2)))?
            .map_err(|e| fail(e.to_string()))?;
        // Also proves the server answers commands (not just accepts TCP).
        let instance: u64 = redis::cmd("INCR")
            .arg(fence_counter(&config.prefix))
            .query_async(&mut conn)
            .await
            .map_err(|e| fail(e.to_string()))?;
        let inner = Arc::new(Inner {
            client,
            conn,
            readers: Arc::new(Semaphore::new(config.max_readers)),
            config,
            producers: Mutex::default(),
            instance,
            next_run: AtomicU64::new(0),
            stop: CancellationToken::new(),
        });
        tokio::spawn(listen_for_cancels(
            inner.client.clone(),
            cancel_channel(&inner.config.prefix),
            Arc::downgrade(&inner),
            inner.stop.clone(),
        ));
        Ok(RedisLog { inner })
    }

    /// The configuration the log runs with.
    pub fn config(&self) -> &RedisLogConfig {
        &self.inner.config
    }
}

impl fmt::Debug for RedisLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisLog")
            .field("config", &self.inner.config)
            .field("instance", &self.inner.instance)
            .finish_non_exhaustive()
    }
}

impl EventLog for RedisLog {
    fn start(&self, run_id: &str, cancel: CancellationToken) -> Arc<dyn RunWriter> {
        Arc::new(writer::start(&self.inner, run_id, cancel))
    }

    fn read(&self, run_id: &str, from: u64) -> BoxFuture<'_, Result<EventBatches, LogError>> {
        reader::open(self.inner.clone(), run_id.to_owned(), from).boxed()
    }

    fn cancel(&self, run_id: &str) -> BoxFuture<'_, Result<(), LogError>> {
        let run_id = run_id.to_owned();
        async move { self.inner.cancel(&run_id).await }.boxed()
    }

    fn is_shared(&self) -> bool {
        true
    }

    fn put_meta(
        &self,
        kind: &str,
        run_id: &str,
        meta: String,
    ) -> BoxFuture<'_, Result<(), LogError>> {
        let (kind, run_id) = (kind.to_owned(), run_id.to_owned());
        async move { self.inner.put_meta(&kind, &run_id, meta).await }.boxed()
    }

    fn meta(&self, run_id: &str) -> BoxFuture<'_, Result<Option<String>, LogError>> {
        let run_id = run_id.to_owned();
        async move { self.inner.meta(&run_id).await }.boxed()
    }

    fn recent(&self, kind: &str, limit: usize) -> BoxFuture<'_, Result<Vec<String>, LogError>> {
        let kind = kind.to_owned();
        async move { self.inner.recent(&kind, limit).await }.boxed()
    }

    fn snapshot(&self, run_id: &str) -> BoxFuture<'_, Result<Vec<Event>, LogError>> {
        let run_id = run_id.to_owned();
        async move { self.inner.snapshot(&run_id).await }.boxed()
    }

    /// Waits until every run produced here has written its run end (or its
    /// writer gave up), polling every 10 ms; the server bounds the wait.
    fn close(&self) -> BoxFuture<'_, ()> {
        async move {
            while !self.inner.producers().is_empty() {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
        .boxed()
    }
}

impl Inner {
    fn producers(&self) -> MutexGuard<'_, HashMap<String, CancellationToken>> {
        // Inserts and removes leave the map consistent.
        self.producers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn producers_insert(&self, run_id: &str, cancel: CancellationToken) {
        self.producers().insert(run_id.to_owned(), cancel);
    }

    pub(crate) fn producers_remove(&self, run_id: &str) {
        self.producers().remove(run_id);
    }

    fn cancel_local(&self, run_id: &str) -> bool {
        match self.producers().get(run_id) {
            Some(token) => {
                token.cancel();
                true
            }
            None => false,
        }
    }

    /// A fencing token unique across instances: this instance's number
    /// from Redis, and a counter.
    pub(crate) fn next_fence(&self) -> String {
        let run = self.next_run.fetch_add(1, Ordering::Relaxed);
        format!("{}-{run}", self.instance)
    }

    /// A cancel: refused for an unknown or ended run; otherwise the run's
    /// cancel key is set (the producer reads it as it renews its lease) and
    /// the run id published (the producer's listener cancels at once).
    async fn cancel(&self, run_id: &str) -> Result<(), LogError> {
        if !valid_run_id(run_id) {
            return Err(LogError::UnknownRun);
        }
        let keys = RunKeys::new(&self.config.prefix, run_id);
        let last = match reader::bounds(self, &keys).await? {
            Some((_, (_, last))) if crate::entry::is_run_end(&last) => {
                return Err(LogError::RunEnded)
            }
            Some((_, last)) => Some(last),
            // Started, nothing written yet: the lease is there.
            None if reader::leased(self, &keys).await? => None,
            None => return Err(LogError::UnknownRun),
        };
        if self.cancel_local(run_id) {
            return Ok(());
        }
        if let Some((id, event)) = last {
            if !reader::leased(self, &keys).await? {
                // No producer holds the run (it died): nobody would act on
                // the cancel, so end the run here, `cancelled`, unless a
                // reader or a returning producer ended it first.
                let error = Event::error(ErrorKind::Cancelled, ORPHAN_CANCELLED);
                reader::end_orphan(self, &keys, id, &event, error, RunStatus::Cancelled).await?;
                return Ok(());
            }
        }
        let mut conn = self.conn.clone();
        redis::pipe()
            .cmd("SET")
            .arg(&keys.cancel)
            .arg(1)
            .arg("PX")
            .arg(millis(self.config.retention))
            .ignore()
            .cmd("PUBLISH")
            .arg(cancel_channel(&self.config.prefix))
            .arg(run_id)
            .ignore()
            .query_async::<()>(&mut conn)
            .await
            .map_err(unavailable)
    }
}

/// Subscribes to the cancel channel and cancels the runs produced here that
/// it names; resubscribes after a loss (a cancel published meanwhile is
/// still found in the run's cancel key at the next lease renewal).
async fn listen_for_cancels(
    client: Client,
    channel: String,
    inner: std::sync::Weak<Inner>,
    stop: CancellationToken,
) {
    const RETRY: Duration = Duration::from_millis(500);
    let connect_timeout = inner
        .upgrade()
        .map_or(Duration::from_secs(2), |i| i.config.timeout);
    while !stop.is_cancelled() {
        let subscribed = async {
            let mut pubsub = client.get_async_pubsub().await?;
            pubsub.subscribe(&channel).await?;
            Ok::<_, redis::RedisError>(pubsub)
        };
        let pubsub = tokio::select! {
            () = stop.cancelled() => return,
            result = tokio::time::timeout(connect_timeout * 2, subscribed) => result,
        };
        let Ok(Ok(pubsub)) = pubsub else {
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(RETRY) => continue,
            }
        };
        let mut messages = pubsub.into_on_message();
        loop {
            let message = tokio::select! {
                () = stop.cancelled() => return,
                message = messages.next() => message,
            };
            // `None`: the connection was lost; subscribe again.
            let Some(message) = message else { break };
            let Some(inner) = inner.upgrade() else { return };
            if let Ok(run_id) = std::str::from_utf8(message.get_payload_bytes()) {
                inner.cancel_local(run_id);
            }
        }
    }
}

/// The error of a Redis command, as the routes answer it (`503`).
pub(crate) fn unavailable(err: redis::RedisError) -> LogError {
    LogError::Unavailable(err.to_string())
}

/// `url` without a password (`redis://:secret@host` → `redis://:***@host`).
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_are_not_printed() {
        assert_eq!(redact("redis://:pw@h:1/0"), "redis://:***@h:1/0");
        assert_eq!(redact("redis://u:pw@h"), "redis://u:***@h");
        assert_eq!(redact("redis://h:6379"), "redis://h:6379");
    }
}
