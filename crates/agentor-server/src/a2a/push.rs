//! A2A push notifications: the config methods of both dialects
//! (`tasks/pushNotificationConfig/{set,get,list,delete}`,
//! `{Create,Get,List,Delete}TaskPushNotificationConfig(s)`) and the configs
//! they keep, per task and bounded. Delivery is in [`super::push_delivery`].
//!
//! Configs live beside the task on the instance that runs it; they go when
//! their task leaves the store. A config set with no id gets the task's id
//! (as the Python SDK does), so setting one again replaces it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use agentor_a2a::store::TaskStore;
use agentor_a2a::{
    A2aError, Dialect, ListPushConfigsParams, ListPushConfigsResult, Method, PushConfig,
    PushConfigQuery,
};
use serde_json::Value;

use super::webhook::{Webhook, Webhooks};
use crate::push_settings::PushSettings;
use crate::state::AppState;

/// A config and what delivering to it needs.
#[derive(Debug)]
pub(crate) struct Hook {
    pub(crate) config: PushConfig,
    /// The dialect it was set in: its notifications are rendered in it.
    pub(crate) dialect: Dialect,
    pub(crate) webhook: Webhook,
}

#[derive(Default)]
struct TaskHooks {
    hooks: Vec<Arc<Hook>>,
    /// Whether a delivery worker follows the task now.
    watching: bool,
}

#[derive(Default)]
struct Inner {
    tasks: HashMap<String, TaskHooks>,
    /// What the configs hold, as [`PushConfig::retained_bytes`] counts it.
    bytes: usize,
}

impl Inner {
    fn forget(&mut self, task_id: &str) {
        if let Some(entry) = self.tasks.remove(task_id) {
            let freed: usize = entry.hooks.iter().map(|h| h.config.retained_bytes()).sum();
            self.bytes = self.bytes.saturating_sub(freed);
        }
    }
}

/// The push configs of every task; cheap to clone (shared).
#[derive(Clone)]
pub(crate) struct PushRegistry {
    inner: Arc<Mutex<Inner>>,
    pub(crate) settings: Arc<PushSettings>,
    webhooks: Arc<Webhooks>,
}

impl std::fmt::Debug for PushRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushRegistry")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl PushRegistry {
    pub(crate) fn new(settings: PushSettings) -> Self {
        let settings = Arc::new(settings);
        PushRegistry {
            inner: Arc::default(),
            webhooks: Arc::new(Webhooks::new(settings.clone())),
            settings,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds `hook` to its task, or replaces the config with its id.
    fn set(&self, store: &TaskStore, hook: Hook) -> Result<PushConfig, A2aError> {
        let settings = &self.settings;
        let bytes = hook.config.retained_bytes();
        let mut inner = self.lock();
        if inner.bytes.saturating_add(bytes) > settings.config_bytes {
            // Configs of tasks the store has let go are only freed here.
            let gone: Vec<String> = inner
                .tasks
                .keys()
                .filter(|id| !store.contains(id))
                .cloned()
                .collect();
            for id in gone {
                inner.forget(&id);
            }
        }
        let entry = inner.tasks.entry(hook.config.task_id.clone()).or_default();
        let replaced = entry
            .hooks
            .iter()
            .position(|h| h.config.id == hook.config.id);
        let freed = replaced.map_or(0, |i| entry.hooks[i].config.retained_bytes());
        if replaced.is_none() && entry.hooks.len() >= settings.configs_per_task {
            return Err(A2aError::invalid_params(format!(
                "task {} already has {} push notification configs, the most this server keeps per task; delete one first",
                agentor::error::excerpt(&hook.config.task_id),
                entry.hooks.len()
            )));
        }
        let total = inner.bytes.saturating_sub(freed).saturating_add(bytes);
        if total > settings.config_bytes {
            return Err(A2aError::internal(format!(
                "the push notification configs of this server's tasks hold {} of {} bytes (the limit); retry when tasks finish",
                inner.bytes, settings.config_bytes
            )));
        }
        inner.bytes = total;
        let config = hook.config.clone();
        let entry = inner.tasks.entry(config.task_id.clone()).or_default();
        match replaced {
            Some(i) => entry.hooks[i] = Arc::new(hook),
            None => entry.hooks.push(Arc::new(hook)),
        }
        Ok(config)
    }

    /// Task `task_id`'s configs now, in the order they were set.
    pub(crate) fn hooks(&self, task_id: &str) -> Vec<Arc<Hook>> {
        self.lock()
            .tasks
            .get(task_id)
            .map(|entry| entry.hooks.clone())
            .unwrap_or_default()
    }

    fn delete(&self, task_id: &str, config_id: &str) -> Result<(), A2aError> {
        let mut inner = self.lock();
        let entry = inner.tasks.get_mut(task_id);
        let Some((entry, i)) = entry.and_then(|entry| {
            let i = entry.hooks.iter().position(|h| h.config.id == config_id)?;
            Some((entry, i))
        }) else {
            return Err(config_not_found(task_id, config_id));
        };
        let removed = entry.hooks.remove(i);
        inner.bytes = inner.bytes.saturating_sub(removed.config.retained_bytes());
        Ok(())
    }

    /// Marks task `task_id` as followed by a worker; false when one already
    /// follows it or it has no config.
    pub(crate) fn start_watching(&self, task_id: &str) -> bool {
        let mut inner = self.lock();
        match inner.tasks.get_mut(task_id) {
            Some(entry) if !entry.watching && !entry.hooks.is_empty() => {
                entry.watching = true;
                true
            }
            _ => false,
        }
    }

    /// The worker following task `task_id` has ended.
    pub(crate) fn stop_watching(&self, task_id: &str) {
        if let Some(entry) = self.lock().tasks.get_mut(task_id) {
            entry.watching = false;
        }
    }
}

fn config_not_found(task_id: &str, config_id: &str) -> A2aError {
    // Both SDKs answer a missing config with -32001 (TaskNotFoundError)
    // naming the config.
    A2aError::new(
        agentor_a2a::ErrorCode::TaskNotFound,
        format!(
            "Push notification config {} not found for task {}",
            agentor::error::excerpt(config_id),
            agentor::error::excerpt(task_id)
        ),
    )
}

/// Answers one of the four config methods.
pub(crate) async fn call(
    state: &AppState,
    method: Method,
    dialect: Dialect,
    params: &Value,
) -> Result<Value, A2aError> {
    let registry = &state.a2a.push;
    match method {
        Method::CreatePushConfig => {
            let config = PushConfig::parse_at(dialect, params, "params")?;
            known(state, &config.task_id).await?;
            let url_path = match dialect {
                Dialect::V0_3 => "params.pushNotificationConfig.url",
                Dialect::V1_0 => "params.url",
            };
            let hook = hook(registry, config, dialect, url_path).await?;
            let config = registry.set(&state.a2a.store, hook)?;
            super::push_delivery::watch(state, &config.task_id);
            Ok(config.render(dialect))
        }
        Method::GetPushConfig => {
            let query = PushConfigQuery::parse_at(dialect, params, "params")?;
            known(state, &query.task_id).await?;
            let hooks = registry.hooks(&query.task_id);
            let found = match &query.config_id {
                Some(id) => hooks.iter().find(|h| h.config.id == *id),
                None => hooks.first(),
            };
            found
                .map(|hook| hook.config.render(dialect))
                .ok_or_else(|| {
                    config_not_found(
                        &query.task_id,
                        query.config_id.as_deref().unwrap_or("(any)"),
                    )
                })
        }
        Method::ListPushConfigs => {
            let params = ListPushConfigsParams::parse_at(dialect, params, "params")?;
            known(state, &params.task_id).await?;
            // At most `configs_per_task` configs: one page holds them all.
            let configs = registry
                .hooks(&params.task_id)
                .iter()
                .map(|hook| hook.config.clone())
                .collect();
            Ok(ListPushConfigsResult {
                configs,
                next_page_token: String::new(),
            }
            .render(dialect))
        }
        Method::DeletePushConfig => {
            let query = PushConfigQuery::parse_at(dialect, params, "params")?;
            known(state, &query.task_id).await?;
            registry.delete(&query.task_id, query.config_id_required(dialect)?)?;
            // 0.3 answers `null`; 1.0 `google.protobuf.Empty`, `{}`.
            Ok(match dialect {
                Dialect::V0_3 => Value::Null,
                Dialect::V1_0 => Value::Object(serde_json::Map::new()),
            })
        }
        _ => Err(A2aError::internal(format!(
            "{method:?} is not a push notification method"
        ))),
    }
}

/// `-32001` unless the store keeps task `task_id`. A task of another
/// instance (a shared log) is `-32004`: its configs live where it runs.
async fn known(state: &AppState, task_id: &str) -> Result<(), A2aError> {
    if state.a2a.store.contains(task_id) {
        return Ok(());
    }
    let missing = A2aError::task_not_found(task_id);
    if !super::shared::falls_back(state, &missing) {
        return Err(missing);
    }
    super::shared::get(state, task_id, Some(0)).await?;
    Err(A2aError::unsupported_operation(format!(
        "task {} runs on another instance, which keeps its push notification configs: set them with the send, or on that instance",
        agentor::error::excerpt(task_id)
    )))
}

/// Checks `config`'s webhook and gives it an id.
async fn hook(
    registry: &PushRegistry,
    mut config: PushConfig,
    dialect: Dialect,
    url_path: &str,
) -> Result<Hook, A2aError> {
    sendable(&config, url_path)?;
    let webhook = registry.webhooks.check(&config.url, url_path).await?;
    if config.id.is_empty() {
        config.id.clone_from(&config.task_id);
    }
    Ok(Hook {
        config,
        dialect,
        webhook,
    })
}

/// `-32602` unless the token and the authentication fit in HTTP headers
/// (no control characters), so no POST can fail on them later. `url_path`
/// names the config's `url`; the fields beside it are named from it.
fn sendable(config: &PushConfig, url_path: &str) -> Result<(), A2aError> {
    let beside = |field: &str| {
        let parent = url_path.strip_suffix(".url").unwrap_or(url_path);
        format!("{parent}.{field}")
    };
    let fits = |value: &str| reqwest::header::HeaderValue::from_str(value).is_ok();
    if config.token.as_deref().is_some_and(|token| !fits(token)) {
        return Err(A2aError::invalid_params(format!(
            "{} cannot be sent in an HTTP header (it holds control characters)",
            beside("token")
        )));
    }
    let authorization = config
        .authentication
        .as_ref()
        .and_then(agentor_a2a::PushAuthentication::authorization);
    if authorization.as_deref().is_some_and(|value| !fits(value)) {
        return Err(A2aError::invalid_params(format!(
            "{} cannot be sent in an HTTP header (it holds control characters)",
            beside("authentication.credentials")
        )));
    }
    Ok(())
}

/// A webhook set with a send (`configuration.pushNotificationConfig` /
/// `taskPushNotificationConfig`), checked before the task is created; the
/// task's id is filled in by [`attach`].
pub(crate) struct InlineHook(Option<(PushConfig, Dialect, Webhook)>);

/// Checks the webhook a send's configuration carries, if any.
pub(crate) async fn inline(
    state: &AppState,
    dialect: Dialect,
    config: Option<&PushConfig>,
) -> Result<InlineHook, A2aError> {
    let Some(config) = config else {
        return Ok(InlineHook(None));
    };
    let path = match dialect {
        Dialect::V0_3 => "params.configuration.pushNotificationConfig.url",
        Dialect::V1_0 => "params.configuration.taskPushNotificationConfig.url",
    };
    sendable(config, path)?;
    let webhook = state.a2a.push.webhooks.check(&config.url, path).await?;
    Ok(InlineHook(Some((config.clone(), dialect, webhook))))
}

/// Sets the send's webhook on the task just created, and starts following
/// it before its run publishes anything, so every state is delivered.
pub(crate) fn attach(state: &AppState, task_id: &str, inline: InlineHook) -> Result<(), A2aError> {
    let Some((mut config, dialect, webhook)) = inline.0 else {
        return Ok(());
    };
    task_id.clone_into(&mut config.task_id);
    if config.id.is_empty() {
        task_id.clone_into(&mut config.id);
    }
    state.a2a.push.set(
        &state.a2a.store,
        Hook {
            config,
            dialect,
            webhook,
        },
    )?;
    super::push_delivery::watch(state, task_id);
    Ok(())
}
