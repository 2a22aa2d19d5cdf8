//! The task store: bounds, time to live, fan-out, cancel, list.
#![allow(clippy::unwrap_used)]

use std::future::pending;
use std::time::Duration;

use agentor_a2a::store::{StoreLimits, TaskStore};
use agentor_a2a::{ListTasksParams, Message, Part, PartContent, Role, StreamResponse, TaskState};
use agentor_core::{Event, EventResult, RunStatus};
use futures::StreamExt;

fn user(text: &str) -> Message {
    Message::new("m", Role::User, vec![Part::text(text)])
}

fn hello() -> Vec<EventResult> {
    vec![
        Ok(Event::text_delta("Hel")),
        Ok(Event::text_delta("lo")),
        Ok(Event::message("Hello")),
        Ok(Event::run_end(RunStatus::Completed)),
    ]
}

fn limits(max_tasks: usize) -> StoreLimits {
    StoreLimits {
        max_tasks,
        ttl: Duration::from_secs(60),
        subscriber_buffer: 4,
        ..StoreLimits::default()
    }
}

async fn finish(store: &TaskStore, context: Option<&str>) -> String {
    let (handle, mut subscription) = store
        .create(None, context.map(str::to_owned), user("hi"))
        .unwrap();
    let id = handle.id().to_owned();
    handle
        .drive(futures::stream::iter(hello()), pending())
        .await;
    subscription.wait_final().await;
    id
}

#[tokio::test]
async fn evicts_the_oldest_finished_task_and_refuses_when_all_run() {
    let store = TaskStore::new(limits(2));
    let first = finish(&store, None).await;
    let second = finish(&store, None).await;
    let third = finish(&store, None).await;
    assert_eq!(store.len(), 2);
    assert_eq!(store.get(&first, None).unwrap_err().code.as_i32(), -32001);
    assert!(store.get(&second, None).is_ok() && store.get(&third, None).is_ok());

    let store = TaskStore::new(limits(1));
    let (_running, _) = store.create(None, None, user("hi")).unwrap();
    let error = store.create(None, None, user("hi")).unwrap_err();
    assert_eq!(error.code.as_i32(), -32603);
    assert!(error.message.contains("task store is full"));
}

async fn finish_with(store: &TaskStore, text: &str) -> Result<String, agentor_a2a::A2aError> {
    let (handle, mut subscription) = store.create(None, None, user(text))?;
    let id = handle.id().to_owned();
    handle
        .drive(futures::stream::iter(hello()), pending())
        .await;
    subscription.wait_final().await;
    Ok(id)
}

#[tokio::test]
async fn bounded_by_bytes_evicts_the_oldest_finished_first_and_refuses_when_all_run() {
    const KB: usize = 1024;
    let store = TaskStore::new(StoreLimits {
        max_bytes: 100 * KB,
        ..limits(1000)
    });
    let big = "x".repeat(30 * KB);
    let mut ids = Vec::new();
    for _ in 0..10 {
        ids.push(finish_with(&store, &big).await.unwrap());
        assert!(
            store.retained_bytes() <= 100 * KB,
            "{}",
            store.retained_bytes()
        );
    }
    // 30 KB each: three fit, the newest three; the oldest went first.
    assert_eq!(store.len(), 3);
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(store.get(id, None).is_ok(), i >= 7, "task {i}");
    }
    // The estimate counts what the tasks hold, text first.
    let kept: usize = ids[7..]
        .iter()
        .map(|id| store.get(id, None).unwrap().retained_bytes())
        .sum();
    assert_eq!(store.retained_bytes(), kept);
    assert!((3 * 30 * KB..3 * 32 * KB).contains(&kept), "{kept}");

    // Running tasks are never evicted: when only they are left, refused.
    let (_a, _) = store.create(None, None, user(&big)).unwrap();
    let (_b, _) = store.create(None, None, user(&big)).unwrap();
    let (_c, _) = store.create(None, None, user(&big)).unwrap();
    assert_eq!(store.len(), 3, "the finished tasks made room");
    let error = store.create(None, None, user(&big)).unwrap_err();
    assert_eq!(error.code.as_i32(), -32603);
    assert!(
        error.message.contains("task store is full"),
        "{}",
        error.message
    );
    assert!(error.message.contains("bytes"), "{}", error.message);
    // A message larger than the whole bound: the client's error, at once.
    let error = store
        .create(None, None, user(&"y".repeat(101 * KB)))
        .unwrap_err();
    assert_eq!(error.code.as_i32(), -32602);
    assert!(
        error.message.contains("params.message"),
        "{}",
        error.message
    );
}

#[tokio::test]
async fn the_running_byte_count_matches_a_recount_after_every_step() {
    // The projector keeps its count incrementally; a recount of the
    // snapshot must agree after text, tool events, usage and the final status.
    let store = TaskStore::new(limits(10));
    let (handle, mut subscription) = store.create(None, None, user("question")).unwrap();
    let id = handle.id().to_owned();
    let run = futures::stream::iter(vec![
        Ok(Event::text_delta("Let me look")),
        Ok(Event::message("Let me look")),
        Ok(Event::text_delta("The answer")),
        Ok(Event::text_delta(" is 42.")),
        Ok(Event::message("The answer is 42.")),
        Ok(Event::run_end(RunStatus::Completed)),
    ]);
    handle.drive(run, pending()).await;
    subscription.wait_final().await;
    let task = store.get(&id, None).unwrap();
    assert_eq!(store.retained_bytes(), task.retained_bytes());
}

#[tokio::test(start_paused = true)]
async fn finished_tasks_expire_after_their_ttl() {
    let store = TaskStore::new(limits(10));
    let id = finish(&store, None).await;
    tokio::time::advance(Duration::from_secs(59)).await;
    assert!(store.get(&id, None).is_ok());
    tokio::time::advance(Duration::from_secs(2)).await;
    assert_eq!(store.get(&id, None).unwrap_err().code.as_i32(), -32001);
    // A running task never expires.
    let (running, _) = store.create(None, None, user("hi")).unwrap();
    tokio::time::advance(Duration::from_secs(3600)).await;
    assert!(store.get(running.id(), None).is_ok());
}

/// Rebuilds the answer text as a client would: a Task replaces, appends extend.
fn client_text(events: &[StreamResponse]) -> String {
    let mut text = String::new();
    for event in events {
        match event {
            StreamResponse::Task(task) => text = task.artifacts.iter().map(|a| a.text()).collect(),
            StreamResponse::ArtifactUpdate(update) => {
                if !update.append {
                    text.clear();
                }
                text.push_str(&update.artifact.text());
            }
            _ => {}
        }
    }
    text
}

#[tokio::test]
async fn a_lagging_subscriber_gets_the_snapshot_and_loses_nothing() {
    let store = TaskStore::new(limits(10));
    let (handle, mut slow) = store.create(None, None, user("hi")).unwrap();
    let mut run: Vec<EventResult> = (0..50)
        .map(|i| Ok(Event::text_delta(format!("w{i} "))))
        .collect();
    let whole: String = (0..50).map(|i| format!("w{i} ")).collect();
    run.push(Ok(Event::message(whole.clone())));
    run.push(Ok(Event::run_end(RunStatus::Completed)));
    // The whole run is published before the subscriber reads anything:
    // 50+ events through a buffer of 4.
    handle.drive(futures::stream::iter(run), pending()).await;
    let mut seen = Vec::new();
    while let Some(event) = slow.next().await {
        seen.push(event);
    }
    assert!(
        seen.len() < 10,
        "skipped ahead with a snapshot: {}",
        seen.len()
    );
    assert!(matches!(seen[0], StreamResponse::Task(_)));
    assert_eq!(client_text(&seen), whole);
    assert!(seen.last().unwrap().is_terminal());
}

#[tokio::test]
async fn subscribe_sends_the_snapshot_then_live_events() {
    let store = TaskStore::new(limits(10));
    let (handle, _first) = store
        .create(Some("t1".into()), Some("c1".into()), user("hi"))
        .unwrap();
    let (sender, receiver) = futures::channel::mpsc::unbounded::<EventResult>();
    let driver = tokio::spawn(handle.drive(receiver, pending()));
    sender.unbounded_send(Ok(Event::text_delta("Hel"))).unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let late = store.subscribe("t1").unwrap();
    for item in hello().into_iter().skip(1) {
        sender.unbounded_send(item).unwrap();
    }
    let events: Vec<_> = late.into_stream().collect().await;
    driver.await.unwrap();
    let StreamResponse::Task(snapshot) = &events[0] else {
        panic!("{:?}", events[0])
    };
    assert_eq!(snapshot.status.state, TaskState::Working);
    assert_eq!(snapshot.artifacts[0].text(), "Hel");
    assert_eq!(client_text(&events), "Hello");
    // A finished task: the snapshot, then the end.
    let events: Vec<_> = store.subscribe("t1").unwrap().into_stream().collect().await;
    assert_eq!(events.len(), 1);
    assert_eq!(store.subscribe("nope").unwrap_err().code.as_i32(), -32001);
    // Its id is taken.
    assert_eq!(
        store
            .create(Some("t1".into()), None, user("again"))
            .unwrap_err()
            .code
            .as_i32(),
        -32004
    );
}

#[tokio::test]
async fn cancel_stops_the_run_and_publishes_canceled() {
    let store = TaskStore::new(limits(10));
    let (handle, mut subscription) = store.create(None, None, user("hi")).unwrap();
    let id = handle.id().to_owned();
    let driver = tokio::spawn(handle.drive(futures::stream::pending::<EventResult>(), pending()));
    store.cancel(&id).unwrap();
    let mut last = None;
    while let Some(event) = subscription.next().await {
        last = Some(event);
    }
    driver.await.unwrap();
    let Some(StreamResponse::StatusUpdate(update)) = last else {
        panic!()
    };
    assert_eq!(update.status.state, TaskState::Canceled);
    assert_eq!(store.cancel(&id).unwrap_err().code.as_i32(), -32002);
    assert_eq!(store.cancel("nope").unwrap_err().code.as_i32(), -32001);

    // A stop (shutdown) also ends it canceled.
    let (handle, mut subscription) = store.create(None, None, user("hi")).unwrap();
    handle
        .drive(futures::stream::pending::<EventResult>(), async {})
        .await;
    subscription.wait_final().await;
    let task = store.get(subscription.task_id(), None).unwrap();
    assert_eq!(task.status.state, TaskState::Canceled);
    assert!(
        matches!(&task.status.message.unwrap().parts[0].content, PartContent::Text(t) if t.contains("shutting down"))
    );
}

#[tokio::test]
async fn list_filters_and_pages_newest_first() {
    let store = TaskStore::new(limits(10));
    let a1 = finish(&store, Some("a")).await;
    let b1 = finish(&store, Some("b")).await;
    let a2 = finish(&store, Some("a")).await;
    let all = store.list(&ListTasksParams::default()).unwrap();
    let ids: Vec<_> = all.tasks.iter().map(|t| t.id.clone()).collect();
    assert_eq!(ids, [a2.clone(), b1, a1.clone()]);
    assert_eq!(all.total_size, 3);
    assert!(all.tasks.iter().all(|t| t.artifacts.is_empty()));

    let page = store
        .list(&ListTasksParams {
            context_id: Some("a".into()),
            page_size: Some(1),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(page.tasks[0].id, a2);
    assert_eq!(page.total_size, 2);
    let next = store
        .list(&ListTasksParams {
            context_id: Some("a".into()),
            page_size: Some(1),
            page_token: Some(page.next_page_token.clone()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(next.tasks[0].id, a1);
    assert!(next.next_page_token.is_empty());

    let later = store
        .list(&ListTasksParams {
            status_timestamp_after: Some("2999-01-01T00:00:00Z".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(later.total_size, 0);
    let earlier = store
        .list(&ListTasksParams {
            status_timestamp_after: Some("2000-01-01T00:00:00Z".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(earlier.total_size, 3);
}

/// The final state a subscription ends on, or `None` if it did not end in time.
async fn final_state(subscription: &mut agentor_a2a::store::Subscription) -> Option<TaskState> {
    let mut last = None;
    let read = async {
        while let Some(event) = subscription.next().await {
            last = Some(match event {
                StreamResponse::Task(task) => task.status.state,
                StreamResponse::StatusUpdate(update) => update.status.state,
                _ => continue,
            });
        }
    };
    tokio::time::timeout(Duration::from_secs(5), read)
        .await
        .ok()?;
    last
}

#[tokio::test]
async fn a_task_whose_driver_is_dropped_ends_failed_not_working_forever() {
    let store = TaskStore::new(limits(1));
    let (handle, mut subscription) = store.create(None, None, user("hi")).unwrap();
    let id = handle.id().to_owned();
    drop(handle);
    assert_eq!(
        final_state(&mut subscription).await,
        Some(TaskState::Failed)
    );
    let task = store.get(&id, None).unwrap();
    assert_eq!(task.status.state, TaskState::Failed);
    assert!(store.subscribe(&id).is_ok());
    // Finished and read, so it no longer holds the store's only slot.
    drop(subscription);
    assert!(store.create(None, None, user("next")).is_ok());
}

#[tokio::test]
async fn a_run_that_panics_ends_its_task_failed_and_its_subscribers_end() {
    let store = TaskStore::new(limits(4));
    let (handle, mut subscription) = store.create(None, None, user("hi")).unwrap();
    let id = handle.id().to_owned();
    let run = futures::stream::iter(hello()).map(|item| {
        if matches!(&item, Ok(event) if event.kind().as_str() == "message") {
            panic!("a tool or provider bug");
        }
        item
    });
    let driver = tokio::spawn(handle.drive(run, pending()));
    assert!(driver.await.unwrap_err().is_panic());
    assert_eq!(
        final_state(&mut subscription).await,
        Some(TaskState::Failed)
    );
    // A late subscriber gets the finished snapshot and ends, too.
    let mut late = store.subscribe(&id).unwrap();
    assert_eq!(final_state(&mut late).await, Some(TaskState::Failed));
}

#[tokio::test]
async fn list_compares_status_timestamps_of_any_fraction_digits_as_times() {
    let store = TaskStore::new(limits(10));
    let id = finish(&store, None).await;
    // Ours: `…:05.123Z`, milliseconds. Protobuf JSON sends 0, 3, 6 or 9 digits.
    let at = store.get(&id, None).unwrap().status.timestamp.unwrap();
    let base = at.strip_suffix('Z').unwrap();
    let count = |after: String| {
        store
            .list(&ListTasksParams {
                status_timestamp_after: Some(after),
                ..Default::default()
            })
            .unwrap()
            .total_size
    };
    assert_eq!(
        count(format!("{base}000Z")),
        1,
        "the same instant, in micros"
    );
    assert_eq!(
        count(format!("{base}000000Z")),
        1,
        "the same instant, in nanos"
    );
    assert_eq!(count(format!("{base}500Z")), 0, "half a millisecond later");
    assert_eq!(count(format!("{base}000001Z")), 0, "a nanosecond later");
    let second = base.split('.').next().unwrap();
    assert_eq!(count(format!("{second}Z")), 1, "the start of that second");
}

#[tokio::test]
async fn a_finished_task_is_not_evicted_while_a_subscriber_still_reads_it() {
    // A blocking send reads to the final event, then gets the task: evicting
    // it in between answered the client's own send with -32001.
    let store = TaskStore::new(limits(1));
    let (handle, mut reading) = store.create(None, None, user("hi")).unwrap();
    let id = handle.id().to_owned();
    handle
        .drive(futures::stream::iter(hello()), pending())
        .await;
    let refused = store.create(None, None, user("next")).unwrap_err();
    assert!(
        refused.message.contains("task store is full"),
        "{refused:?}"
    );
    assert_eq!(final_state(&mut reading).await, Some(TaskState::Completed));
    assert_eq!(
        store.get(&id, None).unwrap().status.state,
        TaskState::Completed
    );
    drop(reading);
    // Nobody reads it any more: it makes room.
    assert!(store.create(None, None, user("next")).is_ok());
    assert_eq!(store.get(&id, None).unwrap_err().code.as_i32(), -32001);
}

fn asks(question: &str) -> Vec<EventResult> {
    vec![
        Ok(Event::message(question)),
        Ok(Event::run_end(RunStatus::InputRequired)),
    ]
}

/// Drives one turn of `handle` and collects what `subscription` saw.
async fn turn(
    handle: agentor_a2a::store::TaskHandle,
    mut subscription: agentor_a2a::store::Subscription,
    run: Vec<EventResult>,
) -> Vec<StreamResponse> {
    handle.drive(futures::stream::iter(run), pending()).await;
    let mut seen = Vec::new();
    while let Some(event) = subscription.next().await {
        seen.push(event);
    }
    seen
}

#[tokio::test]
async fn a_task_that_asks_takes_the_answer_as_its_next_turn() {
    let store = TaskStore::new(StoreLimits {
        subscriber_buffer: 64,
        ..limits(10)
    });
    let (handle, subscription) = store.create(None, None, user("Weather?")).unwrap();
    let id = handle.id().to_owned();
    let first = turn(handle, subscription, asks("Which city?")).await;
    let Some(StreamResponse::StatusUpdate(last)) = first.last() else {
        panic!("{first:?}")
    };
    assert!(last.is_final);
    assert_eq!(last.status.state, TaskState::InputRequired);
    assert_eq!(last.status.message.as_ref().unwrap().text(), "Which city?");
    // The question is the status message, not an answer artifact.
    assert!(!first
        .iter()
        .any(|e| matches!(e, StreamResponse::ArtifactUpdate(_))));
    let context = store.get(&id, None).unwrap().context_id;

    // Another context: refused, the task still waits.
    let error = store
        .create(Some(id.clone()), Some("other".into()), user("Paris"))
        .unwrap_err();
    assert_eq!(error.code.as_i32(), -32602, "{error:?}");

    let (handle, subscription) = store
        .create(Some(id.clone()), Some(context), user("Paris"))
        .unwrap();
    // While it works, another message is refused.
    let error = store
        .create(Some(id.clone()), None, user("Rome?"))
        .unwrap_err();
    assert_eq!(error.code.as_i32(), -32004);
    assert!(error.message.contains("working"), "{}", error.message);
    let second = turn(handle, subscription, hello()).await;
    let StreamResponse::Task(snapshot) = &second[0] else {
        panic!("{second:?}")
    };
    assert_eq!(snapshot.status.state, TaskState::Working);
    let states: Vec<TaskState> = second
        .iter()
        .filter_map(|e| match e {
            StreamResponse::StatusUpdate(u) => Some(u.status.state),
            _ => None,
        })
        .collect();
    assert_eq!(states, [TaskState::Working, TaskState::Completed]);

    let task = store.get(&id, None).unwrap();
    let history: Vec<(Role, String)> = task.history.iter().map(|m| (m.role, m.text())).collect();
    assert_eq!(
        history,
        [
            (Role::User, "Weather?".to_owned()),
            (Role::Agent, "Which city?".to_owned()),
            (Role::User, "Paris".to_owned()),
            (Role::Agent, "Hello".to_owned()),
        ]
    );
    assert_eq!(task.artifacts.len(), 1, "{:?}", task.artifacts);
    // Completed is terminal: no more messages.
    let error = store.create(Some(id), None, user("More?")).unwrap_err();
    assert_eq!(error.code.as_i32(), -32004);
    assert!(
        error.message.contains("terminal state"),
        "{}",
        error.message
    );
}

#[tokio::test]
async fn an_answer_counts_against_the_byte_bound_and_a_waiting_task_can_be_canceled() {
    let store = TaskStore::new(StoreLimits {
        max_bytes: 4096,
        ..limits(10)
    });
    let (handle, subscription) = store.create(None, None, user("Weather?")).unwrap();
    let id = handle.id().to_owned();
    turn(handle, subscription, asks("Which city?")).await;
    let error = store
        .create(Some(id.clone()), None, user(&"x".repeat(8192)))
        .unwrap_err();
    assert_eq!(error.code.as_i32(), -32602, "{error:?}");
    assert_eq!(
        store.get(&id, None).unwrap().status.state,
        TaskState::InputRequired
    );
    store.cancel(&id).unwrap();
    assert_eq!(
        store.get(&id, None).unwrap().status.state,
        TaskState::Canceled
    );
    assert_eq!(
        store.retained_bytes(),
        store.get(&id, None).unwrap().retained_bytes()
    );
}
