//! [`RedisSource`]: the events of many runs from Redis, merged as they come
//! — by run id, by key pattern, every new run (the runs index), or the new
//! runs shared out among the readers of a consumer group.

use std::fmt;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use agentor::Event;
use agentor_server::event_log::LogError;
use futures_core::Stream;
use futures_util::stream::{self, BoxStream, SelectAll};
use futures_util::StreamExt;
use redis::streams::{StreamAutoClaimReply, StreamReadReply};
use redis::AsyncConnectionConfig;
use tokio::sync::mpsc;
use tokio::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

use crate::keys::{runs_index, valid_run_id};
use crate::log::{unavailable, Inner, RedisLog};
use crate::reader;
use crate::writer::millis;

/// How many run ids wait between a discovering task and the merge.
const QUEUED_RUNS: usize = 64;
/// The most run ids a pattern selects.
pub const MAX_PATTERN_RUNS: usize = 10_000;

/// A failure about one run of a [`RedisSource`]: that run ends with it;
/// the others go on.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("run {run_id}: {error}")]
pub struct RunError {
    /// The run it is about.
    pub run_id: String,
    /// What went wrong (the run expired, a reader fell behind, Redis lost…).
    pub error: LogError,
}

/// One item of a [`RedisSource`].
pub type SourceItem = Result<Event, RunError>;

/// The events of many runs, merged with the merge layer's guarantees:
/// **tagged** (each event carries its run id, set by the producer, and its
/// source, the producing agent), **per-run order** (each run is read from
/// its first event in id order), **nothing lost** (a gap or a failure is an
/// [`RunError`] item for that run, never a silent skip; each run ends with
/// its run end). Fair across runs: runs are polled in turn.
///
/// Each run being read holds one of the log's blocking readers
/// ([`max_readers`](crate::RedisLogConfig::max_readers)); a run that finds
/// none free ends with a [`RunError`] (`Unavailable`). Memory: per run, one
/// `XREAD` of at most 256 entries; at most 64 run ids waiting.
#[must_use = "streams do nothing unless polled"]
pub struct RedisSource {
    inner: BoxStream<'static, SourceItem>,
}

impl fmt::Debug for RedisSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisSource").finish_non_exhaustive()
    }
}

impl Stream for RedisSource {
    type Item = SourceItem;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<SourceItem>> {
        self.inner.as_mut().poll_next(cx)
    }
}

/// A run to read, and what to do once its run end was read.
struct Run {
    id: String,
    /// The consumer group entry that handed it out, to keep alive while
    /// the run is read and to acknowledge at its end.
    ack: Option<Taken>,
}

/// A runs-index entry a consumer of a group holds.
#[derive(Clone)]
struct Taken {
    group: String,
    consumer: String,
    entry: String,
}

impl RedisSource {
    /// The runs `run_ids`, each from its first event to its run end; ends
    /// when all have ended.
    pub fn runs<I>(log: &RedisLog, run_ids: I) -> RedisSource
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        let runs: Vec<Run> = run_ids
            .into_iter()
            .map(|id| Run {
                id: id.into(),
                ack: None,
            })
            .collect();
        merged(log.inner.clone(), stream::iter(runs).boxed())
    }

    /// The runs whose id matches `pattern` (Redis glob syntax: `*`, `?`,
    /// `[…]`) now, at most [`MAX_PATTERN_RUNS`], found with `SCAN` (which
    /// never blocks Redis); then as [`RedisSource::runs`].
    pub async fn pattern(log: &RedisLog, pattern: &str) -> Result<RedisSource, LogError> {
        let prefix = format!("{}:run:", log.inner.config.prefix);
        let mut conn = log.inner.conn.clone();
        let mut cursor = 0u64;
        let mut ids = Vec::new();
        loop {
            let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(format!("{prefix}{pattern}"))
                .arg("COUNT")
                .arg(1000)
                .arg("TYPE")
                .arg("stream")
                .query_async(&mut conn)
                .await
                .map_err(unavailable)?;
            ids.extend(
                keys.into_iter()
                    .filter_map(|key| key.strip_prefix(&prefix).map(str::to_owned))
                    .filter(|id| valid_run_id(id)),
            );
            cursor = next;
            if cursor == 0 || ids.len() >= MAX_PATTERN_RUNS {
                break;
            }
        }
        ids.sort();
        ids.dedup();
        ids.truncate(MAX_PATTERN_RUNS);
        Ok(RedisSource::runs(log, ids))
    }

    /// Every run announced on the runs index from now on, on any instance
    /// (as [`RedisLog::all_runs`]); goes on until dropped.
    pub fn all(log: &RedisLog) -> RedisSource {
        let (tx, rx) = mpsc::channel(QUEUED_RUNS);
        tokio::spawn(discover(log.inner.clone(), None, tx));
        merged(log.inner.clone(), receiver_stream(rx))
    }

    /// The new runs shared out among the readers of consumer group `group`
    /// (created on the runs index at its end if missing): each run goes to
    /// one reader of the group, which reads it whole and then acknowledges
    /// it (`XACK`). A reader that comes back under the same `consumer` name
    /// first reads again the runs it had not acknowledged; a reader that
    /// does not come back has its runs claimed (`XAUTOCLAIM`) by another
    /// reader of the group once they went
    /// [`claim_after`](crate::RedisLogConfig::claim_after) without its
    /// keepalive, and read whole again. So a run is never lost to a
    /// reader's crash; it may be read twice. Goes on until dropped.
    pub fn group(log: &RedisLog, group: &str, consumer: &str) -> RedisSource {
        let (tx, rx) = mpsc::channel(QUEUED_RUNS);
        let membership = Some((group.to_owned(), consumer.to_owned()));
        tokio::spawn(discover(log.inner.clone(), membership, tx));
        merged(log.inner.clone(), receiver_stream(rx))
    }
}

fn receiver_stream(rx: mpsc::Receiver<Run>) -> BoxStream<'static, Run> {
    stream::unfold(rx, |mut rx| async move {
        let run = rx.recv().await?;
        Some((run, rx))
    })
    .boxed()
}

/// Reads each run of `runs` as it comes, all of them merged.
fn merged(inner: Arc<Inner>, runs: BoxStream<'static, Run>) -> RedisSource {
    struct State {
        inner: Arc<Inner>,
        runs: Option<BoxStream<'static, Run>>,
        reading: SelectAll<BoxStream<'static, SourceItem>>,
    }
    let state = State {
        inner,
        runs: Some(runs),
        reading: SelectAll::new(),
    };
    let merged = stream::unfold(state, |mut state| async move {
        loop {
            let more_runs = state.runs.is_some();
            if !more_runs && state.reading.is_empty() {
                return None;
            }
            tokio::select! {
                item = state.reading.next(), if !state.reading.is_empty() => {
                    if let Some(item) = item {
                        return Some((item, state));
                    }
                }
                run = async { state.runs.as_mut()?.next().await }, if more_runs => match run {
                    Some(run) => state.reading.push(read_run(state.inner.clone(), run)),
                    None => state.runs = None,
                },
            }
        }
    });
    RedisSource {
        inner: merged.boxed(),
    }
}

/// One run, from its first event to its run end (then acknowledged, if it
/// came from a group), or to the error that ended it.
fn read_run(inner: Arc<Inner>, run: Run) -> BoxStream<'static, SourceItem> {
    let Run { id, ack } = run;
    let ended = Arc::new(AtomicBool::new(false));
    // Stops the keepalive when the run's stream ends or is dropped.
    let keeping = ack.as_ref().map(|taken| {
        let stop = CancellationToken::new();
        tokio::spawn(keep_alive(inner.clone(), taken.clone(), stop.clone()));
        stop.drop_guard()
    });
    let failed = |id: &str, error| RunError {
        run_id: id.to_owned(),
        error,
    };
    let events = {
        let (inner, id, ended) = (inner.clone(), id.clone(), ended.clone());
        let opening = id.clone();
        stream::once(async move {
            reader::open(inner, opening.clone(), 0)
                .await
                .map_err(|e| failed(&opening, e))
        })
        .flat_map(move |opened| {
            let (id, ended) = (id.clone(), ended.clone());
            match opened {
                Err(error) => stream::iter(vec![Err(error)]).boxed(),
                Ok(batches) => batches
                    .flat_map(move |batch| {
                        let items: Vec<SourceItem> = match batch {
                            Ok(events) => {
                                if events.last().is_some_and(crate::entry::is_run_end) {
                                    ended.store(true, Ordering::Release);
                                }
                                events.into_iter().map(Ok).collect()
                            }
                            Err(error) => vec![Err(failed(&id, error))],
                        };
                        stream::iter(items)
                    })
                    .boxed(),
            }
        })
    };
    let acknowledge = stream::once(async move {
        drop(keeping);
        if let (Some(taken), true) = (ack, ended.load(Ordering::Acquire)) {
            let mut conn = inner.conn.clone();
            // Not acknowledged (Redis lost): the run is read again when
            // this consumer comes back, or by another once it is claimed;
            // a duplicate, never a loss.
            let _ = redis::cmd("XACK")
                .arg(runs_index(&inner.config.prefix))
                .arg(taken.group)
                .arg(taken.entry)
                .query_async::<()>(&mut conn)
                .await;
        }
    })
    .filter_map(|()| async { None });
    events.chain(acknowledge).boxed()
}

/// Passes on the run ids announced on the runs index: from now on (no
/// group), or as a consumer of `group` (its own unacknowledged runs first,
/// then new ones). Reconnects after a loss; ends when the source is
/// dropped.
async fn discover(inner: Arc<Inner>, membership: Option<(String, String)>, tx: mpsc::Sender<Run>) {
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(inner.config.timeout)
        .set_response_timeout(inner.config.block() + inner.config.timeout);
    let index = runs_index(&inner.config.prefix);
    let mut cursor = match membership {
        Some(_) => "0".to_owned(),
        None => "$".to_owned(),
    };
    let mut conn = None;
    let mut last_claim = Instant::now();
    while !tx.is_closed() {
        let Some(c) = conn.as_mut() else {
            conn = match inner
                .client
                .get_multiplexed_async_connection_with_config(&config)
                .await
            {
                Ok(mut c) => {
                    if let Some((group, _)) = &membership {
                        let created: redis::RedisResult<()> = redis::cmd("XGROUP")
                            .arg("CREATE")
                            .arg(&index)
                            .arg(group)
                            .arg("$")
                            .arg("MKSTREAM")
                            .query_async(&mut c)
                            .await;
                        // BUSYGROUP: it exists, which is what we want.
                        if created
                            .as_ref()
                            .is_err_and(|e| e.code() != Some("BUSYGROUP"))
                        {
                            tokio::time::sleep(inner.config.block()).await;
                            continue;
                        }
                        // After a loss, our pending runs first again.
                        cursor = "0".to_owned();
                    }
                    Some(c)
                }
                Err(_) => {
                    tokio::time::sleep(inner.config.block()).await;
                    None
                }
            };
            continue;
        };
        let mut read = match &membership {
            Some((group, consumer)) => {
                let mut cmd = redis::cmd("XREADGROUP");
                cmd.arg("GROUP")
                    .arg(group)
                    .arg(consumer)
                    .arg("COUNT")
                    .arg(QUEUED_RUNS);
                if cursor == ">" {
                    cmd.arg("BLOCK").arg(millis(inner.config.block()));
                }
                cmd
            }
            None => {
                let mut cmd = redis::cmd("XREAD");
                cmd.arg("COUNT")
                    .arg(QUEUED_RUNS)
                    .arg("BLOCK")
                    .arg(millis(inner.config.block()));
                cmd
            }
        };
        read.arg("STREAMS").arg(&index).arg(&cursor);
        // Dropped source: stop at once, so a blocked read of a group is
        // not left to take runs for nobody.
        let reply: Result<Option<StreamReadReply>, redis::RedisError> = tokio::select! {
            () = tx.closed() => return,
            reply = read.query_async(c) => reply,
        };
        let Ok(reply) = reply else {
            conn = None;
            continue;
        };
        let entries: Vec<_> = reply
            .into_iter()
            .flat_map(|r| r.keys)
            .flat_map(|k| k.ids)
            .collect();
        if membership.is_some() && cursor != ">" && entries.is_empty() {
            // Our pending runs are all passed on: new ones now.
            cursor = ">".to_owned();
            continue;
        }
        for entry in entries {
            if membership.is_none() || cursor != ">" {
                cursor = entry.id.clone();
            }
            let Some(id) = entry.get::<String>("run") else {
                continue;
            };
            let ack = membership.as_ref().map(|(group, consumer)| Taken {
                group: group.clone(),
                consumer: consumer.clone(),
                entry: entry.id.clone(),
            });
            if tx.send(Run { id, ack }).await.is_err() {
                return;
            }
        }
        if let Some((group, consumer)) = &membership {
            if cursor == ">" && last_claim.elapsed() >= inner.config.claim_after / 3 {
                last_claim = Instant::now();
                let Ok(claimed) = claim(c, &index, group, consumer, inner.config.claim_after).await
                else {
                    conn = None;
                    continue;
                };
                for run in claimed {
                    if tx.send(run).await.is_err() {
                        return;
                    }
                }
            }
        }
    }
}

/// The runs of the group's readers that went `idle` without a keepalive
/// (their reader is gone), now this `consumer`'s.
async fn claim(
    conn: &mut redis::aio::MultiplexedConnection,
    index: &str,
    group: &str,
    consumer: &str,
    idle: Duration,
) -> redis::RedisResult<Vec<Run>> {
    let reply: StreamAutoClaimReply = redis::cmd("XAUTOCLAIM")
        .arg(index)
        .arg(group)
        .arg(consumer)
        .arg(millis(idle))
        .arg("0-0")
        .arg("COUNT")
        .arg(QUEUED_RUNS)
        .query_async(conn)
        .await?;
    Ok(reply
        .claimed
        .into_iter()
        .filter_map(|entry| {
            let id = entry.get::<String>("run")?;
            Some(Run {
                id,
                ack: Some(Taken {
                    group: group.to_owned(),
                    consumer: consumer.to_owned(),
                    entry: entry.id,
                }),
            })
        })
        .collect())
}

/// Resets the idle time of the entry `taken` every third of
/// [`claim_after`](crate::RedisLogConfig::claim_after) (`XCLAIM` to its own
/// consumer, `JUSTID`), so no other reader claims a run being read; until
/// `stop`.
async fn keep_alive(inner: Arc<Inner>, taken: Taken, stop: CancellationToken) {
    let index = runs_index(&inner.config.prefix);
    let every = inner.config.claim_after / 3;
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(every) => {}
        }
        let mut conn = inner.conn.clone();
        let mut touch = redis::cmd("XCLAIM");
        touch
            .arg(&index)
            .arg(&taken.group)
            .arg(&taken.consumer)
            .arg(0)
            .arg(&taken.entry)
            .arg("JUSTID");
        // A failure (Redis lost) is tried again next time; a run claimed
        // meanwhile by another reader is read twice, never lost.
        let _ =
            tokio::time::timeout(inner.config.timeout, touch.query_async::<()>(&mut conn)).await;
    }
}
