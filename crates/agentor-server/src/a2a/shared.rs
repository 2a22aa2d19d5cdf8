//! A2A tasks on any instance: with a shared [`EventLog`] (Redis), a task's
//! run is logged like a `/chat` run (run id = task id) and its context id
//! and first message are kept beside it ([`EventLog::put_meta`]). Where the
//! local [`TaskStore`](agentor_a2a::store::TaskStore) does not know a task
//! — it was created on another instance — the task is rebuilt from the log
//! by the same [`TaskProjector`] that built it where it runs.
//!
//! What differs on the other instance: status timestamps are the reading
//! instance's clock at projection, not the producer's; `ListTasks` orders
//! by creation (newest first) and looks at the newest [`LIST_SCAN`] tasks
//! of the log. A task whose id cannot name a log key (see [`loggable`])
//! stays on its own instance.

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use agentor::wire::sse::encode_heartbeat;
use agentor::{BoxEventStream, Event, EventResult, RunStatus};
use agentor_a2a::frames::StreamFrames;
use agentor_a2a::{
    A2aError, Dialect, ErrorCode, ListTasksParams, ListTasksResult, Message, StreamResponse, Task,
    TaskProjector,
};
use axum::response::Response;
use bytes::BytesMut;
use futures_core::Stream;
use futures_util::stream::{self, BoxStream, StreamExt};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use crate::event_log::{EventLog, LogError, RunWriter};
use crate::numbering::Numbering;
use crate::state::AppState;

/// The kind A2A tasks are listed under in the log.
const KIND: &str = "a2a";
/// How many of the log's newest tasks `ListTasks` looks at.
pub(crate) const LIST_SCAN: usize = 200;
/// How many tasks `ListTasks` rebuilds at once.
const LIST_CONCURRENCY: usize = 8;
/// How long a lookup waits for a task announced a moment ago elsewhere.
const CATCH_UP: Duration = Duration::from_millis(500);
const CATCH_UP_POLL: Duration = Duration::from_millis(20);

/// Whether the log is shared, so tasks unknown here are looked up in it.
pub(crate) fn enabled(state: &AppState) -> bool {
    state.runs.is_shared()
}

/// Whether `error` is a local miss that the shared log may answer.
pub(crate) fn falls_back(state: &AppState, error: &A2aError) -> bool {
    enabled(state) && error.code == ErrorCode::TaskNotFound
}

/// Whether the shared log holds task `id` now: one lookup, no waiting for
/// a task announced a moment ago (a send naming an unknown id must not wait).
pub(crate) async fn holds(state: &AppState, id: &str) -> bool {
    enabled(state) && loggable(id) && matches!(state.runs.meta(id).await, Ok(Some(_)))
}

/// Whether `id` can name a run of the log: the characters a run id may
/// have (no `:`, which would reach another key), at most 200 bytes.
fn loggable(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 200
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// Task `task_id`'s run, also appended to the shared log (unchanged when
/// the log is not shared). A cancel sent to any instance reaches the task
/// here through the log.
pub(crate) fn logged(state: &AppState, task_id: &str, run: BoxEventStream) -> BoxEventStream {
    if !enabled(state) || !loggable(task_id) {
        return run;
    }
    // A token of its own: the writer fires it only for a cancel from
    // elsewhere; a shutdown reaches the task through its driver.
    let remote_cancel = CancellationToken::new();
    let writer = state.runs.start(task_id, remote_cancel.clone());
    let done = CancellationToken::new();
    let store = state.a2a.store.clone();
    let id = task_id.to_owned();
    let watching = done.clone();
    tokio::spawn(async move {
        tokio::select! {
            () = remote_cancel.cancelled() => {
                // The driver publishes `canceled` and drops the run, whose
                // drop logs the run end.
                let _ = store.cancel(&id);
            }
            () = watching.cancelled() => {}
        }
    });
    Box::pin(LoggedRun {
        run,
        writer,
        numbering: Numbering::new(Some(task_id.into())),
        ended: false,
        done,
    })
}

/// Keeps task `task_id`'s context id and first message beside its log, so
/// another instance can rebuild it; awaited before the task's id is
/// answered, so whoever learns the id finds the task anywhere. A failure
/// leaves the task on this instance only.
pub(crate) async fn announce(state: &AppState, task_id: &str) {
    if !enabled(state) || !loggable(task_id) {
        return;
    }
    let Ok(task) = state.a2a.store.get(task_id, None) else {
        return;
    };
    let Some(first) = task.history.first() else {
        return;
    };
    let meta = json!({
        "contextId": task.context_id,
        "message": first.render(Dialect::V1_0),
    });
    let _ = state.runs.put_meta(KIND, task_id, meta.to_string()).await;
}

/// Appends each item of a task's run to the log as it passes to the
/// task's driver; a run dropped before its end (a cancel, a shutdown) is
/// logged `cancelled`.
struct LoggedRun {
    run: BoxEventStream,
    writer: Arc<dyn RunWriter>,
    numbering: Numbering,
    ended: bool,
    /// Stops the cancel watcher.
    done: CancellationToken,
}

impl Stream for LoggedRun {
    type Item = EventResult;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let item = std::task::ready!(this.run.as_mut().poll_next(cx));
        if this.ended {
            return Poll::Ready(item);
        }
        match &item {
            Some(Ok(event)) => {
                let logged = this.numbering.number(Ok(event.clone()));
                this.ended = this.numbering.ended();
                this.writer.append(vec![logged]);
            }
            Some(Err(error)) => {
                // The task fails at once on an `Err` item: so does its log.
                let logged = this.numbering.number(Err(error.clone()));
                let end = this.numbering.run_end(RunStatus::Failed);
                this.ended = true;
                this.writer.append(vec![logged, end]);
            }
            None => {
                let error = this.numbering.number(Err(agentor::Error::internal(
                    "the run ended without a run end",
                )));
                let end = this.numbering.run_end(RunStatus::Failed);
                this.ended = true;
                this.writer.append(vec![error, end]);
            }
        }
        Poll::Ready(item)
    }
}

impl Drop for LoggedRun {
    fn drop(&mut self) {
        self.done.cancel();
        if !self.ended {
            let end = self.numbering.run_end(RunStatus::Cancelled);
            self.writer.append(vec![end]);
        }
    }
}

/// What [`announce`] kept.
struct Meta {
    context_id: String,
    message: Message,
}

async fn meta(log: &dyn EventLog, task_id: &str) -> Result<Meta, A2aError> {
    if !loggable(task_id) {
        return Err(A2aError::task_not_found(task_id));
    }
    let deadline = tokio::time::Instant::now() + CATCH_UP;
    let text = loop {
        match log.meta(task_id).await.map_err(unavailable)? {
            Some(text) => break text,
            None if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(CATCH_UP_POLL).await;
            }
            None => return Err(A2aError::task_not_found(task_id)),
        }
    };
    let corrupt = |why: String| {
        A2aError::internal(format!(
            "task {task_id}'s record in the shared log is unreadable: {why}"
        ))
    };
    let value: Value = serde_json::from_str(&text).map_err(|e| corrupt(e.to_string()))?;
    let context_id = value
        .get("contextId")
        .and_then(Value::as_str)
        .ok_or_else(|| corrupt("no contextId".into()))?
        .to_owned();
    let message = Message::parse_at(
        Dialect::V1_0,
        value.get("message").unwrap_or(&Value::Null),
        "message",
    )
    .map_err(|e| corrupt(e.message))?;
    Ok(Meta {
        context_id,
        message,
    })
}

fn unavailable(error: LogError) -> A2aError {
    A2aError::internal(format!("the shared task log cannot answer: {error}"))
}

fn projector(task_id: &str, meta: Meta) -> TaskProjector {
    TaskProjector::new(task_id, meta.context_id, meta.message)
}

/// Task `task_id` as the log has it now, and the id of the next event.
async fn rebuild(log: &dyn EventLog, task_id: &str) -> Result<(TaskProjector, u64), A2aError> {
    let mut projector = projector(task_id, meta(log, task_id).await?);
    let events = match log.snapshot(task_id).await {
        Ok(events) => events,
        // Announced, not written yet (or expired since): only the start.
        Err(LogError::UnknownRun) => Vec::new(),
        Err(error) => return Err(unreadable(task_id, &error)),
    };
    let next = events.len() as u64;
    let _ = projector.start();
    for event in events {
        let _ = projector.on_item(Ok(event));
    }
    Ok((projector, next))
}

fn unreadable(task_id: &str, error: &LogError) -> A2aError {
    match error {
        LogError::UnknownRun => A2aError::task_not_found(task_id),
        LogError::Gone { .. } | LogError::FellBehind { .. } => A2aError::internal(format!(
            "task {task_id} cannot be rebuilt from the shared log: {error}"
        )),
        error => unavailable(error.clone()),
    }
}

/// `tasks/get` / `GetTask` for a task of another instance.
pub(crate) async fn get(
    state: &AppState,
    task_id: &str,
    history_length: Option<u32>,
) -> Result<Task, A2aError> {
    let (projector, _) = rebuild(&*state.runs, task_id).await?;
    Ok(projector.task().with_history_length(history_length))
}

/// `tasks/cancel` / `CancelTask` for a task of another instance: the cancel
/// goes through the log to the producer; the answer is the task once its
/// final status is logged (or after `wait`).
pub(crate) async fn cancel(
    state: &AppState,
    task_id: &str,
    history_length: Option<u32>,
    wait: Duration,
) -> Result<Task, A2aError> {
    let log = &*state.runs;
    meta(log, task_id).await?;
    match log.cancel(task_id).await {
        Ok(()) => {}
        Err(LogError::RunEnded) => {
            let (projector, _) = rebuild(log, task_id).await?;
            let state = projector.task().status.state;
            return Err(A2aError::task_not_cancelable(
                task_id,
                state.as_str(Dialect::V0_3),
            ));
        }
        Err(error) => return Err(unreadable(task_id, &error)),
    }
    if let Ok(mut batches) = log.read(task_id, 0).await {
        let _ = tokio::time::timeout(wait, async {
            while let Some(Ok(_)) = batches.next().await {}
        })
        .await;
    }
    get(state, task_id, history_length).await
}

/// A task's events as [`subscribe`] reads them from the log.
pub(crate) type TaskEvents = BoxStream<'static, StreamResponse>;

/// `tasks/resubscribe` / `SubscribeToTask` for a task of another instance,
/// as the local store answers it: the task as it is now, then its live
/// events until the final status (a finished task: the task, then the
/// end). Render them with [`event_stream`].
pub(crate) async fn subscribe(state: &AppState, task_id: &str) -> Result<TaskEvents, A2aError> {
    let log = &*state.runs;
    let (projector, next) = rebuild(log, task_id).await?;
    let snapshot = stream::iter([StreamResponse::Task(projector.task().clone())]);
    if projector.is_finished() {
        return Ok(snapshot.boxed());
    }
    let batches = log
        .read(task_id, next)
        .await
        .map_err(|error| unreadable(task_id, &error))?;
    let live = stream::unfold(
        (batches, projector, false),
        |(mut batches, mut projector, over)| async move {
            if over {
                return None;
            }
            let (out, over) = match batches.next().await {
                Some(Ok(events)) => {
                    let out: Vec<StreamResponse> = events
                        .into_iter()
                        .flat_map(|event: Event| projector.on_item(Ok(event)))
                        .collect();
                    (out, projector.is_finished())
                }
                Some(Err(error)) => (
                    projector.on_item(Err(agentor::Error::internal(error.to_string()))),
                    true,
                ),
                None => (projector.on_end_of_stream(), true),
            };
            Some((stream::iter(out), (batches, projector, over)))
        },
    )
    .flatten();
    Ok(snapshot.chain(live).boxed())
}

/// The task events as SSE frames, one JSON-RPC response each, with a
/// heartbeat comment after `heartbeat` of silence; ends after the final.
pub(crate) fn event_stream(
    events: TaskEvents,
    frames: StreamFrames,
    history_length: Option<u32>,
    heartbeat: Duration,
) -> Response {
    // The framing travels in the state: no copy of it per chunk.
    let chunks = stream::unfold(Some((events, frames)), move |state| async move {
        let (mut events, frames) = state?;
        let mut chunk = BytesMut::with_capacity(256);
        tokio::select! {
            event = events.next() => {
                let event = event?;
                super::sse::push_event(&mut chunk, &frames, &event, history_length);
                let next = (!event.is_terminal()).then_some((events, frames));
                return Some((Ok::<_, Infallible>(chunk.freeze()), next));
            }
            () = tokio::time::sleep(heartbeat) => encode_heartbeat(&mut chunk),
        }
        Some((Ok(chunk.freeze()), Some((events, frames))))
    });
    super::sse::sse_response(crate::metrics::body(chunks, crate::metrics::Wire::A2a))
}

/// `ListTasks` with a shared log: the newest [`LIST_SCAN`] tasks of every
/// instance, rebuilt, filtered and paged as the local store does (newest
/// created first).
pub(crate) async fn list(
    state: &AppState,
    params: &ListTasksParams,
) -> Result<ListTasksResult, A2aError> {
    let log = &*state.runs;
    let ids = log.recent(KIND, LIST_SCAN).await.map_err(unavailable)?;
    let tasks: Vec<Task> = stream::iter(ids)
        .map(|id| async move { rebuild(log, &id).await.ok() })
        .buffered(LIST_CONCURRENCY)
        .filter_map(|rebuilt| async move { rebuilt.map(|(p, _)| p.task().clone()) })
        .collect()
        .await;
    params.page(&tasks)
}

#[cfg(test)]
mod tests {
    use super::loggable;

    #[test]
    fn task_ids_that_could_reach_other_keys_stay_local() {
        assert!(loggable("0b7e-4c1a.task_1"));
        assert!(!loggable("task:lease"));
        assert!(!loggable(""));
        assert!(!loggable(&"x".repeat(201)));
    }
}
