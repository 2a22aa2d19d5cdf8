//! Delivering push notifications: one worker per task with configs follows
//! the task in the store and POSTs each state change to every webhook.
//!
//! What is sent: every change of the task's state, in order, and the final
//! state. A 0.3 config gets the [`Task`] as it is then (what the 0.3 SDKs
//! send); a 1.0 config gets a `StreamResponse`: `{"statusUpdate": …}` for
//! a state on the way, `{"task": …}` for the final one, so the artifacts
//! arrive with it. Artifact chunks are not sent on their own (an answer
//! streams many; the final task holds them whole).
//!
//! The worker never slows the run: it reads the task's fan-out like any
//! subscriber (one that falls behind gets the task's snapshot), and puts
//! what it reads in a queue bounded in notifications and bytes, dropping
//! the oldest waiting ones when full (logged and counted). A sender beside
//! it POSTs the queue in order to each webhook (with the config's token in
//! `X-A2A-Notification-Token` and its `authentication` as `Authorization`),
//! with a timeout per POST and retries with doubling backoff on connect
//! errors, timeouts, 408, 429 and 5xx; when it gives up it logs a warning.
//! After a shutdown starts it goes on for the grace period, then stops.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use agentor_a2a::store::Subscription;
use agentor_a2a::{Dialect, StreamResponse, TaskState};
use bytes::Bytes;
use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use tokio::sync::Notify;

use super::push::{Hook, PushRegistry};
use crate::push_settings::PushSettings;
use crate::state::AppState;

/// The header carrying a config's token (the Python SDK's spelling).
pub(crate) const TOKEN_HEADER: &str = "x-a2a-notification-token";
/// The longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Starts following task `task_id` for its configs, unless a worker already
/// does, it has none, or it is finished (a config set then is kept, and
/// nothing more is sent).
pub(crate) fn watch(state: &AppState, task_id: &str) {
    let store = &state.a2a.store;
    let finished = store
        .get(task_id, Some(0))
        .map_or(true, |task| task.status.state.is_terminal());
    let registry = state.a2a.push.clone();
    if finished || !registry.start_watching(task_id) {
        return;
    }
    let Ok(subscription) = store.subscribe(task_id) else {
        registry.stop_watching(task_id);
        return;
    };
    let worker = Worker {
        store: store.clone(),
        registry,
        task_id: task_id.to_owned(),
    };
    let shutdown = state.shutdown.clone();
    let delivery = state.shutdown.track(async move {
        let grace = worker.registry.settings.shutdown_grace;
        let task_id = worker.task_id.clone();
        let registry = worker.registry.clone();
        tokio::select! {
            () = worker.run(subscription) => {}
            () = async { shutdown.triggered().await; tokio::time::sleep(grace).await } => {
                tracing::warn!(task_id, "push notifications: gave up delivering at shutdown, {grace:?} after it started");
            }
        }
        registry.stop_watching(&task_id);
    });
    tokio::spawn(delivery);
}

/// One notification, rendered for each dialect.
struct Notice {
    state: TaskState,
    v03: Bytes,
    v10: Bytes,
}

impl Notice {
    fn bytes(&self) -> usize {
        self.v03.len() + self.v10.len()
    }

    fn body(&self, dialect: Dialect) -> Bytes {
        match dialect {
            Dialect::V0_3 => self.v03.clone(),
            Dialect::V1_0 => self.v10.clone(),
        }
    }
}

/// The notifications read and not yet delivered.
#[derive(Default)]
struct Queue {
    notices: VecDeque<Notice>,
    bytes: usize,
    /// The reader is done: nothing more will come.
    closed: bool,
}

impl Queue {
    /// Adds `notice`, then drops the oldest waiting ones until the queue is
    /// within its bounds again (the newest is always kept); how many went.
    fn push(&mut self, notice: Notice, settings: &PushSettings) -> u64 {
        self.bytes += notice.bytes();
        self.notices.push_back(notice);
        let mut dropped = 0;
        while self.notices.len() > 1
            && (self.notices.len() > settings.queue_events || self.bytes > settings.queue_bytes)
        {
            if let Some(old) = self.notices.pop_front() {
                self.bytes -= old.bytes();
                dropped += 1;
            }
        }
        dropped
    }
}

struct Worker {
    store: agentor_a2a::store::TaskStore,
    registry: PushRegistry,
    task_id: String,
}

impl Worker {
    async fn run(&self, subscription: Subscription) {
        let queue = &Mutex::new(Queue::default());
        let ready = &Notify::new();
        let settings = &*self.registry.settings;
        // Owns the subscription, so the finished task is let go (evictable)
        // as soon as its final event is read, not when delivery ends.
        let reader = async move {
            let mut subscription = subscription;
            let mut last = None;
            while let Some(event) = subscription.next().await {
                if let Some(notice) = self.notice(event, &mut last) {
                    self.enqueue(queue, notice, settings);
                    ready.notify_one();
                }
            }
            drop(subscription);
            lock(queue).closed = true;
            ready.notify_one();
        };
        let sender = async {
            loop {
                let next = {
                    let mut queue = lock(queue);
                    let notice = queue.notices.pop_front();
                    if let Some(notice) = &notice {
                        queue.bytes -= notice.bytes();
                    }
                    (notice, queue.closed)
                };
                match next {
                    (Some(notice), _) => self.deliver(&notice, settings).await,
                    (None, true) => break,
                    (None, false) => ready.notified().await,
                }
            }
        };
        futures_util::future::join(reader, sender).await;
    }

    /// What `event` becomes for the webhooks: a notification when the
    /// task's state changed since `last` (or the event is final).
    fn notice(&self, event: StreamResponse, last: &mut Option<TaskState>) -> Option<Notice> {
        let final_event = event.is_terminal();
        let state = match &event {
            StreamResponse::Task(task) => task.status.state,
            StreamResponse::StatusUpdate(update) => update.status.state,
            StreamResponse::ArtifactUpdate(_) | StreamResponse::Message(_) => return None,
        };
        // A snapshot repeating the state (the run's first `Task`, a catch-up
        // after falling behind) or a status update within a state is no change.
        if *last == Some(state) && !final_event {
            return None;
        }
        let (task, update) = match event {
            StreamResponse::Task(task) => (task, None),
            StreamResponse::StatusUpdate(update) => {
                // The task as the store has it now, at this status.
                let mut task = self.store.get(&self.task_id, None).ok()?;
                task.status = update.status.clone();
                (task, Some(update))
            }
            StreamResponse::ArtifactUpdate(_) | StreamResponse::Message(_) => return None,
        };
        *last = Some(task.status.state);
        let v10 = match update {
            Some(update) if !final_event => StreamResponse::StatusUpdate(update),
            _ => StreamResponse::Task(task.clone()),
        };
        Some(Notice {
            state: task.status.state,
            v03: json(&StreamResponse::Task(task), Dialect::V0_3),
            v10: json(&v10, Dialect::V1_0),
        })
    }

    /// Queues `notice`; logs and counts what the bounds dropped.
    fn enqueue(&self, queue: &Mutex<Queue>, notice: Notice, settings: &PushSettings) {
        let dropped = lock(queue).push(notice, settings);
        if dropped > 0 {
            metrics::counter!(crate::metrics::A2A_PUSH_DROPPED).increment(dropped);
            tracing::warn!(
                task_id = self.task_id,
                dropped,
                "push notifications: the queue is full (the webhooks are slower than the task); dropped the oldest waiting notifications"
            );
        }
    }

    /// Sends `notice` to every config of the task, each in its own retry loop.
    async fn deliver(&self, notice: &Notice, settings: &PushSettings) {
        let hooks = self.registry.hooks(&self.task_id);
        let sends = hooks
            .iter()
            .map(|hook| post(hook, notice.body(hook.dialect), notice.state, settings));
        futures_util::future::join_all(sends).await;
    }
}

fn lock(queue: &Mutex<Queue>) -> std::sync::MutexGuard<'_, Queue> {
    queue.lock().unwrap_or_else(PoisonError::into_inner)
}

fn json(event: &StreamResponse, dialect: Dialect) -> Bytes {
    // The wire types hold no map with non-string keys: this cannot fail.
    Bytes::from(serde_json::to_vec(&event.wire(dialect)).unwrap_or_default())
}

/// How one POST ended.
enum Outcome {
    Delivered,
    /// Worth another try: a connect error, a timeout, 408, 429, 5xx.
    Retry(String),
    /// Not worth another: any other answer.
    Refused(String),
}

async fn post(hook: &Hook, body: Bytes, state: TaskState, settings: &PushSettings) {
    let url = hook.webhook.shown();
    let task_id = hook.config.task_id.as_str();
    let mut backoff = settings.backoff;
    for attempt in 1..=settings.attempts {
        let outcome = send(hook, body.clone()).await;
        let why = match outcome {
            Outcome::Delivered => {
                metrics::counter!(crate::metrics::A2A_PUSH_SENT, "outcome" => "delivered")
                    .increment(1);
                tracing::debug!(
                    task_id,
                    url,
                    state = state.as_str(Dialect::V0_3),
                    attempt,
                    "push notification delivered"
                );
                return;
            }
            Outcome::Refused(why) => {
                metrics::counter!(crate::metrics::A2A_PUSH_SENT, "outcome" => "refused")
                    .increment(1);
                tracing::warn!(
                    task_id,
                    url,
                    state = state.as_str(Dialect::V0_3),
                    "push notification refused by the webhook ({why}); not retried"
                );
                return;
            }
            Outcome::Retry(why) => why,
        };
        if attempt == settings.attempts {
            metrics::counter!(crate::metrics::A2A_PUSH_SENT, "outcome" => "gave_up").increment(1);
            tracing::warn!(
                task_id,
                url,
                state = state.as_str(Dialect::V0_3),
                attempts = attempt,
                "push notification: gave up after {attempt} attempts (last: {why})"
            );
            return;
        }
        metrics::counter!(crate::metrics::A2A_PUSH_RETRIES).increment(1);
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

async fn send(hook: &Hook, body: Bytes) -> Outcome {
    let mut request = hook
        .webhook
        .client
        .post(hook.webhook.url.clone())
        .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
        .body(body);
    if let Some(token) = &hook.config.token {
        request = request.header(TOKEN_HEADER, token.as_str());
    }
    if let Some(authorization) = hook
        .config
        .authentication
        .as_ref()
        .and_then(agentor_a2a::PushAuthentication::authorization)
    {
        request = request.header(AUTHORIZATION, authorization);
    }
    match request.send().await {
        Ok(response) => {
            let status = response.status();
            if status.is_success() {
                Outcome::Delivered
            } else if status.is_server_error() || matches!(status.as_u16(), 408 | 429) {
                Outcome::Retry(format!("HTTP {status}"))
            } else {
                Outcome::Refused(format!("HTTP {status}"))
            }
        }
        // A header value that cannot be sent (a token with a newline) is
        // the config's fault: no retry fixes it.
        Err(error) if error.is_builder() => Outcome::Refused(error.to_string()),
        Err(error) => Outcome::Retry(error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice(state: TaskState, bytes: usize) -> Notice {
        Notice {
            state,
            v03: Bytes::from(vec![b'x'; bytes]),
            v10: Bytes::new(),
        }
    }

    #[test]
    fn a_full_queue_drops_the_oldest_and_keeps_the_newest() {
        let settings = PushSettings::default().queue(2, 100);
        let mut queue = Queue::default();
        assert_eq!(queue.push(notice(TaskState::Submitted, 10), &settings), 0);
        assert_eq!(queue.push(notice(TaskState::Working, 10), &settings), 0);
        // Over the count: the oldest goes.
        assert_eq!(queue.push(notice(TaskState::Completed, 10), &settings), 1);
        let states: Vec<TaskState> = queue.notices.iter().map(|n| n.state).collect();
        assert_eq!(states, [TaskState::Working, TaskState::Completed]);
        assert_eq!(queue.bytes, 20);
        // Over the bytes: everything older goes, the newest stays even alone
        // above the bound.
        assert_eq!(queue.push(notice(TaskState::Failed, 150), &settings), 2);
        assert_eq!(queue.notices.len(), 1);
        assert_eq!(queue.bytes, 150);
    }
}
