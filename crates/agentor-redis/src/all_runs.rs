//! [`RedisLog::all_runs`]: the events of every run that starts from now on,
//! on any instance, merged as they come (each run's order kept; each event
//! carries its run id and source).

use std::collections::HashSet;
use std::sync::Arc;

use agentor::Event;
use agentor_server::event_log::{EventBatches, LogError};
use futures_util::stream::{BoxStream, SelectAll};
use futures_util::StreamExt;
use redis::streams::StreamReadReply;
use redis::AsyncConnectionConfig;
use tokio::sync::mpsc;

use crate::keys::runs_index;
use crate::log::{unavailable, Inner, RedisLog};
use crate::reader;
use crate::writer::millis;

/// Run ids waiting between the index task and the merged stream.
const ANNOUNCED: usize = 64;
/// Run ids remembered to ignore an announcement written twice (a retried
/// pipeline); the oldest are forgotten past this.
const REMEMBERED: usize = 4096;

impl RedisLog {
    /// The events of every run that starts from now on, whichever instance
    /// produces it, merged as they arrive: fair across runs, each run's
    /// events in order and whole (the run start to the run end), each event
    /// tagged with its run id and source. An error item ends nothing but
    /// the run it is about (a reader that fell behind, Redis lost); the
    /// stream itself goes on until dropped. Each followed run holds one of
    /// the instance's readers (`max_readers`) while it runs.
    pub fn all_runs(&self) -> BoxStream<'static, Result<Event, LogError>> {
        let (tx, rx) = mpsc::channel(ANNOUNCED);
        tokio::spawn(announce(self.inner.clone(), tx));
        let merged = Merged {
            inner: self.inner.clone(),
            announced: rx,
            runs: SelectAll::new(),
        };
        futures_util::stream::unfold(merged, |mut merged| async move {
            let item = merged.next().await?;
            Some((item, merged))
        })
        .flat_map(|batch: Result<Vec<Event>, LogError>| {
            let items: Vec<_> = match batch {
                Ok(events) => events.into_iter().map(Ok).collect(),
                Err(err) => vec![Err(err)],
            };
            futures_util::stream::iter(items)
        })
        .boxed()
    }
}

struct Merged {
    inner: Arc<Inner>,
    announced: mpsc::Receiver<String>,
    runs: SelectAll<EventBatches>,
}

impl Merged {
    async fn next(&mut self) -> Option<Result<Vec<Event>, LogError>> {
        loop {
            tokio::select! {
                Some(batch) = self.runs.next(), if !self.runs.is_empty() => return Some(batch),
                run_id = self.announced.recv() => {
                    // The index task ended: Redis refused the index read.
                    let run_id = run_id?;
                    match reader::open(self.inner.clone(), run_id, 0).await {
                        Ok(batches) => self.runs.push(batches),
                        Err(err) => return Some(Err(err)),
                    }
                }
            }
        }
    }
}

/// Reads the runs index from now on (on a connection of its own, blocking
/// a fifth of the lease at a time) and passes each new run id on; ends when
/// the merged stream is dropped.
async fn announce(inner: Arc<Inner>, tx: mpsc::Sender<String>) {
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(inner.config.timeout)
        .set_response_timeout(inner.config.block() + inner.config.timeout);
    let index = runs_index(&inner.config.prefix);
    let mut seen = std::collections::VecDeque::new();
    let mut known = HashSet::new();
    let mut cursor = "$".to_owned();
    let mut conn = None;
    while !tx.is_closed() {
        if conn.is_none() {
            conn = inner
                .client
                .get_multiplexed_async_connection_with_config(&config)
                .await
                .ok();
            if conn.is_none() {
                tokio::time::sleep(inner.config.block()).await;
                continue;
            }
        }
        let Some(c) = conn.as_mut() else { continue };
        let reply: Result<Option<StreamReadReply>, LogError> = redis::cmd("XREAD")
            .arg("BLOCK")
            .arg(millis(inner.config.block()))
            .arg("STREAMS")
            .arg(&index)
            .arg(&cursor)
            .query_async(c)
            .await
            .map_err(unavailable);
        let Ok(reply) = reply else {
            // Lost: connect again (announcements meanwhile are missed).
            conn = None;
            continue;
        };
        for entry in reply.into_iter().flat_map(|r| r.keys).flat_map(|k| k.ids) {
            cursor = entry.id.clone();
            let Some(run_id) = entry.get::<String>("run") else {
                continue;
            };
            if !known.insert(run_id.clone()) {
                continue;
            }
            seen.push_back(run_id.clone());
            if seen.len() > REMEMBERED {
                if let Some(old) = seen.pop_front() {
                    known.remove(&old);
                }
            }
            if tx.send(run_id).await.is_err() {
                return;
            }
        }
    }
}
