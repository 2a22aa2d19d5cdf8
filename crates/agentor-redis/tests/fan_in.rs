//! Fan-in across processes' worth of producers: `RedisSink` appends any
//! stream to Redis, `RedisSource` merges many runs back (by id, by pattern,
//! every new run, or shared out in a consumer group), against a real
//! `redis-server`: tagged, each run in order, nothing lost.
#![allow(clippy::unwrap_used, missing_docs)]

#[path = "support/redis_server.rs"]
mod redis_server;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use agentor::{Event, EventKind, RunStatus};
use agentor_redis::{RedisLog, RedisLogConfig, RedisSource, SourceItem};
use futures::StreamExt;
use redis_server::RedisServer;

/// `n` deltas `{tag}{i} ` from source `tag`, then a completed run end,
/// `every` apart.
fn producer(
    tag: &'static str,
    n: usize,
    every: Duration,
) -> impl futures::Stream<Item = agentor::EventResult> {
    let deltas = futures::stream::iter(0..n).then(move |i| async move {
        if !every.is_zero() {
            tokio::time::sleep(every).await;
        }
        Ok(Event::text_delta(format!("{tag}{i} ")).with_source(tag))
    });
    deltas.chain(futures::stream::iter([Ok(Event::run_end(
        RunStatus::Completed,
    )
    .with_source(tag))]))
}

/// Collects a source until `runs` run ends came; per run, its events.
async fn collect(source: RedisSource, runs: usize) -> BTreeMap<String, Vec<Event>> {
    let mut by_run: BTreeMap<String, Vec<Event>> = BTreeMap::new();
    let mut ended = 0;
    let mut source = Box::pin(source);
    let read = async {
        while ended < runs {
            let item: SourceItem = source.next().await.expect("the source ended early");
            let event = item.unwrap();
            let run = event.origin.run_id.as_deref().unwrap().to_owned();
            if matches!(event.kind, EventKind::RunEnd { .. }) {
                ended += 1;
            }
            by_run.entry(run).or_default().push(event);
        }
    };
    tokio::time::timeout(Duration::from_secs(20), read)
        .await
        .unwrap();
    by_run
}

/// Collects readers' items, each tagged with its reader's number, until
/// `runs` run ends came: per run, its events and who read them.
async fn collect_readers(
    merged: &mut (impl futures::Stream<Item = (u8, SourceItem)> + Unpin),
    runs: usize,
) -> (BTreeMap<String, Vec<Event>>, BTreeMap<String, BTreeSet<u8>>) {
    let mut by_run: BTreeMap<String, Vec<Event>> = BTreeMap::new();
    let mut reader_of: BTreeMap<String, BTreeSet<u8>> = BTreeMap::new();
    let mut ended = 0;
    let read = async {
        while ended < runs {
            let (reader, item) = merged.next().await.unwrap();
            let event = item.unwrap();
            let run = event.origin.run_id.as_deref().unwrap().to_owned();
            ended += usize::from(matches!(event.kind, EventKind::RunEnd { .. }));
            reader_of.entry(run.clone()).or_default().insert(reader);
            by_run.entry(run).or_default().push(event);
        }
    };
    tokio::time::timeout(Duration::from_secs(20), read)
        .await
        .unwrap();
    (by_run, reader_of)
}

/// Each run whole: ids 0, 1, … in order, the producer's deltas in order,
/// all tagged with the run's source, ending completed.
fn assert_whole(events: &[Event], tag: &str, n: usize) {
    assert_eq!(events.len(), n + 1, "{tag}: {events:?}");
    for (i, event) in events.iter().enumerate() {
        assert_eq!(event.seq, i as u64);
        assert_eq!(event.origin.source.as_deref(), Some(tag));
        match &event.kind {
            EventKind::TextDelta { text, .. } => assert_eq!(&**text, format!("{tag}{i} ")),
            EventKind::RunEnd { status } => {
                assert_eq!(i, n);
                assert_eq!(*status, RunStatus::Completed);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}

async fn log(redis: &RedisServer, config: RedisLogConfig) -> RedisLog {
    RedisLog::connect(&redis.url(), config).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sinks_merged_by_id_and_by_pattern_lose_nothing() {
    let redis = RedisServer::start();
    // A queue of 8 events: the sink waits for Redis rather than dropping.
    let producer_log = log(&redis, RedisLogConfig::default().max_queued(8, 1 << 20)).await;
    let reader_log = log(&redis, RedisLogConfig::default()).await;
    let sizes = [("A", 700), ("B", 1), ("C", 250)];
    let source = RedisSource::runs(&reader_log, ["job_A", "job_B", "job_C"]);
    let reading = tokio::spawn(collect(source, 3));
    let mut sending = Vec::new();
    for (tag, n) in sizes {
        let sink = producer_log.sink(format!("job_{tag}")).unwrap();
        sending.push(tokio::spawn(sink.send_all(producer(
            tag,
            n,
            Duration::ZERO,
        ))));
    }
    for (sent, (_, n)) in sending.into_iter().zip(sizes) {
        assert_eq!(sent.await.unwrap().unwrap(), n as u64 + 1);
    }
    let by_run = reading.await.unwrap();
    for (tag, n) in sizes {
        assert_whole(&by_run[&format!("job_{tag}")], tag, n);
    }

    // A run of another name is not matched; the pattern's are, whole.
    producer_log
        .sink("other_1")
        .unwrap()
        .send_all(producer("O", 3, Duration::ZERO))
        .await
        .unwrap();
    let matched = RedisSource::pattern(&reader_log, "job_*").await.unwrap();
    let by_run = collect(matched, 3).await;
    assert_eq!(
        by_run.keys().cloned().collect::<Vec<_>>(),
        ["job_A", "job_B", "job_C"]
    );
    for (tag, n) in sizes {
        assert_whole(&by_run[&format!("job_{tag}")], tag, n);
    }
    // A finite source ends once its runs have.
    let mut ended = RedisSource::runs(&reader_log, ["other_1"]);
    let mut count = 0;
    while let Some(item) = ended.next().await {
        item.unwrap();
        count += 1;
    }
    assert_eq!(count, 4);
    // An unknown run is an error about that run, not a hang.
    let mut unknown = RedisSource::runs(&reader_log, ["nope"]);
    let error = unknown.next().await.unwrap().unwrap_err();
    assert_eq!(error.run_id, "nope");
    assert!(unknown.next().await.is_none());
    assert!(producer_log.sink("bad:id").is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_new_run_is_followed_live() {
    let redis = RedisServer::start();
    let producer_log = log(&redis, RedisLogConfig::default()).await;
    let reader_log = log(&redis, RedisLogConfig::default()).await;
    let reading = tokio::spawn(collect(RedisSource::all(&reader_log), 2));
    // Let the source reach the index before the runs start.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let a = tokio::spawn(producer_log.sink("live_a").unwrap().send_all(producer(
        "A",
        40,
        Duration::from_millis(2),
    )));
    let b = tokio::spawn(producer_log.sink("live_b").unwrap().send_all(producer(
        "B",
        40,
        Duration::from_millis(2),
    )));
    a.await.unwrap().unwrap();
    b.await.unwrap().unwrap();
    let by_run = reading.await.unwrap();
    assert_whole(&by_run["live_a"], "A", 40);
    assert_whole(&by_run["live_b"], "B", 40);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_group_shares_the_runs_and_a_returning_reader_gets_its_own_back() {
    let redis = RedisServer::start();
    let producer_log = log(&redis, RedisLogConfig::default()).await;
    let reader_log = log(&redis, RedisLogConfig::default()).await;
    // A slow run taken by `c1`, which is dropped before its end.
    let first = RedisSource::group(&reader_log, "workers", "c1");
    let mut first = Box::pin(first);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let slow = tokio::spawn(producer_log.sink("slow_run").unwrap().send_all(producer(
        "S",
        30,
        Duration::from_millis(20),
    )));
    let item = tokio::time::timeout(Duration::from_secs(5), first.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(item.origin.run_id.as_deref(), Some("slow_run"));
    drop(first);

    // Two readers of the group share six runs: each run to one, whole.
    let c1 = RedisSource::group(&reader_log, "workers", "c1");
    let c2 = RedisSource::group(&reader_log, "workers", "c2");
    let tags = ["R0", "R1", "R2", "R3", "R4", "R5"];
    let mut merged = futures::stream::select(c1.map(|i| (1u8, i)), c2.map(|i| (2u8, i)));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut sending = Vec::new();
    for tag in tags {
        let sink = producer_log.sink(format!("run_{tag}")).unwrap();
        sending.push(tokio::spawn(sink.send_all(producer(
            tag,
            20,
            Duration::from_millis(1),
        ))));
    }
    let (by_run, reader_of) = collect_readers(&mut merged, tags.len() + 1).await;
    for sent in sending {
        sent.await.unwrap().unwrap();
    }
    slow.await.unwrap().unwrap();
    // c1 came back: it read its unacknowledged run again, from the first.
    assert_whole(&by_run["slow_run"], "S", 30);
    assert_eq!(reader_of["slow_run"], BTreeSet::from([1]));
    for tag in tags {
        let run = format!("run_{tag}");
        assert_whole(&by_run[&run], tag, 20);
        assert_eq!(reader_of[&run].len(), 1, "{run} went to one reader");
    }
    assert_eq!(by_run.len(), tags.len() + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gone_readers_runs_are_claimed_by_another_but_a_live_readers_are_not() {
    let redis = RedisServer::start();
    let producer_log = log(&redis, RedisLogConfig::default()).await;
    let claim_after = Duration::from_millis(300);
    // A short lease: the group's blocking reads return every 100 ms.
    let config = RedisLogConfig::default()
        .claim_after(claim_after)
        .lease(Duration::from_millis(500));
    let reader_log = log(&redis, config).await;

    // `gone` takes a run, reads one event, and never comes back.
    let gone = RedisSource::group(&reader_log, "crew", "gone");
    let mut gone = Box::pin(gone);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let orphan = tokio::spawn(producer_log.sink("orphan_run").unwrap().send_all(producer(
        "O",
        10,
        Duration::from_millis(10),
    )));
    let first = tokio::time::timeout(Duration::from_secs(5), gone.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(first.origin.run_id.as_deref(), Some("orphan_run"));
    drop(gone);
    orphan.await.unwrap().unwrap();

    // `live` reads a run that lasts four times `claim_after`, while
    // `other` watches the same group: the live run stays with `live`; the
    // orphan is claimed by one of them and read whole.
    let live = RedisSource::group(&reader_log, "crew", "live");
    let other = RedisSource::group(&reader_log, "crew", "other");
    let mut merged = futures::stream::select(live.map(|i| (1u8, i)), other.map(|i| (2u8, i)));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let long = tokio::spawn(producer_log.sink("long_run").unwrap().send_all(producer(
        "L",
        60,
        Duration::from_millis(20),
    )));
    let (by_run, reader_of) = collect_readers(&mut merged, 2).await;
    long.await.unwrap().unwrap();
    assert_whole(&by_run["orphan_run"], "O", 10);
    assert_eq!(reader_of["orphan_run"].len(), 1, "claimed by one reader");
    assert_whole(&by_run["long_run"], "L", 60);
    assert_eq!(
        reader_of["long_run"].len(),
        1,
        "a run being read is kept alive, never claimed"
    );
}
