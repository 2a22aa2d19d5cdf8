//! Push-notification configs: a webhook that a task's updates are POSTed to,
//! and the params and results of the methods that manage them.
//!
//! The dialects shape a config differently. 0.3 wraps it:
//! `{"taskId", "pushNotificationConfig": {"id", "url", "token",
//! "authentication": {"schemes": [..], "credentials"}}}`; 1.0 has it flat:
//! `{"id", "taskId", "url", "token", "authentication": {"scheme",
//! "credentials"}}`. Parsing accepts either shape and either spelling of the
//! authentication scheme; rendering follows the dialect asked for.

use serde_json::Value;

use super::fields::{required, wrong_type, Fields, ObjectBuilder};
use crate::{A2aError, Dialect};

/// The longest webhook URL accepted, in bytes.
pub const MAX_PUSH_URL_BYTES: usize = 2048;
/// The longest notification token accepted, in bytes.
pub const MAX_PUSH_TOKEN_BYTES: usize = 1024;
/// The longest authentication credentials accepted, in bytes.
pub const MAX_PUSH_CREDENTIALS_BYTES: usize = 4096;
/// How many authentication schemes a config may name.
const MAX_SCHEMES: usize = 8;
/// The longest scheme name accepted, in bytes.
const MAX_SCHEME_BYTES: usize = 64;

/// How the agent authenticates itself to the webhook (`authentication`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PushAuthentication {
    /// HTTP authentication schemes (`Bearer`, `Basic`); 1.0 names one.
    pub schemes: Vec<String>,
    /// The credentials for the first scheme (a token for `Bearer`).
    pub credentials: Option<String>,
}

impl PushAuthentication {
    /// The `Authorization` header value this asks for: the first scheme and
    /// the credentials; `None` without either.
    pub fn authorization(&self) -> Option<String> {
        let scheme = self.schemes.first()?;
        let credentials = self.credentials.as_deref()?;
        Some(format!("{scheme} {credentials}"))
    }

    fn render(&self, dialect: Dialect) -> Value {
        let builder = match dialect {
            Dialect::V0_3 => ObjectBuilder::new().field(
                "schemes",
                Value::Array(self.schemes.iter().map(|s| s.as_str().into()).collect()),
            ),
            Dialect::V1_0 => ObjectBuilder::new()
                .field("scheme", self.schemes.first().map_or("", String::as_str)),
        };
        builder.opt("credentials", self.credentials.clone()).build()
    }

    fn parse_at(value: &Value, path: &str) -> Result<Self, A2aError> {
        let fields = Fields::of(value, path)?;
        let mut schemes = fields.strings("schemes")?;
        if let Some(scheme) = fields.str_opt("scheme")?.filter(|s| !s.is_empty()) {
            schemes.insert(0, scheme);
        }
        if schemes.len() > MAX_SCHEMES {
            return Err(A2aError::invalid_params(format!(
                "{} names more than {MAX_SCHEMES} schemes",
                fields.path("schemes")
            )));
        }
        for scheme in &schemes {
            let token_chars = !scheme.is_empty()
                && scheme.len() <= MAX_SCHEME_BYTES
                && scheme
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
            if !token_chars {
                return Err(A2aError::invalid_params(format!(
                    "{} must hold HTTP authentication scheme names (such as Bearer), at most {MAX_SCHEME_BYTES} bytes each",
                    fields.path("schemes")
                )));
            }
        }
        let credentials = bounded(&fields, "credentials", MAX_PUSH_CREDENTIALS_BYTES)?;
        Ok(PushAuthentication {
            schemes,
            credentials,
        })
    }
}

/// A push-notification config of one task.
///
/// ```
/// use agentor_a2a::{Dialect, PushConfig};
/// use serde_json::json;
///
/// let v03 = json!({"taskId": "t1", "pushNotificationConfig": {
///     "url": "https://hooks.example.com/a2a", "token": "abc",
///     "authentication": {"schemes": ["Bearer"], "credentials": "s3cret"}}});
/// let config = PushConfig::parse_at(Dialect::V0_3, &v03, "params").unwrap();
/// assert_eq!(config.task_id, "t1");
/// assert_eq!(config.authentication.as_ref().unwrap().authorization().unwrap(), "Bearer s3cret");
/// let v10 = config.render(Dialect::V1_0);
/// assert_eq!(v10["url"], "https://hooks.example.com/a2a");
/// assert_eq!(v10["authentication"]["scheme"], "Bearer");
///
/// let no_url = json!({"taskId": "t1", "token": "abc"});
/// let error = PushConfig::parse_at(Dialect::V1_0, &no_url, "params").unwrap_err();
/// assert_eq!(error.message, "params.url is required");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PushConfig {
    /// The config's id within its task; empty until the server assigns one.
    pub id: String,
    /// The task whose updates are sent; empty in a send's configuration.
    pub task_id: String,
    /// Where the updates are POSTed.
    pub url: String,
    /// Sent back with every notification (`X-A2A-Notification-Token`), so
    /// the receiver can tell the notification is for a task it knows.
    pub token: Option<String>,
    /// How the agent authenticates itself to the webhook.
    pub authentication: Option<PushAuthentication>,
}

impl PushConfig {
    /// What the config holds, in bytes (its bound in the server's store).
    pub fn retained_bytes(&self) -> usize {
        let auth = self.authentication.as_ref().map_or(0, |a| {
            a.schemes.iter().map(String::len).sum::<usize>()
                + a.credentials.as_ref().map_or(0, String::len)
        });
        64 + self.id.len()
            + self.task_id.len()
            + self.url.len()
            + self.token.as_ref().map_or(0, String::len)
            + auth
    }

    /// The config in `dialect`, as `tasks/pushNotificationConfig/set` and
    /// `CreateTaskPushNotificationConfig` answer it.
    pub fn render(&self, dialect: Dialect) -> Value {
        match dialect {
            Dialect::V0_3 => ObjectBuilder::new()
                .field("taskId", self.task_id.as_str())
                .field("pushNotificationConfig", self.render_inline(dialect))
                .build(),
            Dialect::V1_0 => {
                let mut value = self.render_inline(dialect);
                if let Value::Object(map) = &mut value {
                    map.insert("taskId".into(), self.task_id.as_str().into());
                }
                value
            }
        }
    }

    /// The config as a send's `configuration` carries it: 0.3
    /// `pushNotificationConfig` (no task id), 1.0 `taskPushNotificationConfig`.
    pub fn render_inline(&self, dialect: Dialect) -> Value {
        ObjectBuilder::new()
            .opt("id", (!self.id.is_empty()).then(|| self.id.clone()))
            .field("url", self.url.as_str())
            .opt("token", self.token.clone())
            .opt(
                "authentication",
                self.authentication.as_ref().map(|a| a.render(dialect)),
            )
            .build()
    }

    /// Parses a config at `path`: the params of
    /// `tasks/pushNotificationConfig/set` / `CreateTaskPushNotificationConfig`,
    /// or their result. `taskId` and `url` are required.
    pub fn parse_at(_dialect: Dialect, value: &Value, path: &str) -> Result<Self, A2aError> {
        let fields = Fields::of(value, path)?;
        let task_id = fields.id_req("taskId")?;
        let config = match nested(&fields) {
            Some((key, inner)) => Self::parse_any_at(inner, &fields.path(key))?,
            None => Self::parse_any_at(value, path)?,
        };
        Ok(PushConfig { task_id, ..config })
    }

    /// Parses a config without its task, as a send's `configuration`
    /// carries it; `url` is required, a `taskId` given is kept. Both
    /// dialects' shapes are read alike.
    pub fn parse_inline_at(_dialect: Dialect, value: &Value, path: &str) -> Result<Self, A2aError> {
        Self::parse_any_at(value, path)
    }

    fn parse_any_at(value: &Value, path: &str) -> Result<Self, A2aError> {
        let fields = Fields::of(value, path)?;
        if let Some((key, inner)) = nested(&fields) {
            let task_id = fields.id_opt("taskId")?.unwrap_or_default();
            let config = Self::parse_any_at(inner, &fields.path(key))?;
            return Ok(PushConfig { task_id, ..config });
        }
        let url = bounded(&fields, "url", MAX_PUSH_URL_BYTES)?
            .filter(|url| !url.is_empty())
            .ok_or_else(|| required(&fields.path("url")))?;
        let authentication = match fields.get("authentication") {
            None => None,
            Some(auth) => Some(PushAuthentication::parse_at(
                auth,
                &fields.path("authentication"),
            )?),
        };
        Ok(PushConfig {
            id: fields.id_opt("id")?.unwrap_or_default(),
            task_id: fields.id_opt("taskId")?.unwrap_or_default(),
            url,
            token: bounded(&fields, "token", MAX_PUSH_TOKEN_BYTES)?.filter(|t| !t.is_empty()),
            authentication,
        })
    }
}

/// The config object inside a wrapped config (0.3 `pushNotificationConfig`,
/// an early 1.0 draft's `config`), when the object has no `url` of its own.
fn nested<'a>(fields: &Fields<'a>) -> Option<(&'static str, &'a Value)> {
    if fields.has("url") {
        return None;
    }
    ["pushNotificationConfig", "config"]
        .into_iter()
        .find_map(|key| fields.get(key).map(|inner| (key, inner)))
}

/// An optional string of at most `max` bytes.
fn bounded(fields: &Fields<'_>, key: &str, max: usize) -> Result<Option<String>, A2aError> {
    let value = fields.str_opt(key)?;
    if value.as_ref().is_some_and(|v| v.len() > max) {
        return Err(A2aError::invalid_params(format!(
            "{} is longer than {max} bytes",
            fields.path(key)
        )));
    }
    Ok(value)
}

/// The params of `tasks/pushNotificationConfig/{get,delete}` /
/// `{Get,Delete}TaskPushNotificationConfig`: a task, and one of its configs.
///
/// 0.3 names the task `id` and the config `pushNotificationConfigId`; 1.0
/// names them `taskId` and `id`.
///
/// ```
/// use agentor_a2a::{Dialect, PushConfigQuery};
/// use serde_json::json;
///
/// let v03 = PushConfigQuery::parse_at(Dialect::V0_3, &json!({"id": "t1", "pushNotificationConfigId": "c1"}), "params").unwrap();
/// let v10 = PushConfigQuery::parse_at(Dialect::V1_0, &json!({"taskId": "t1", "id": "c1"}), "params").unwrap();
/// assert_eq!(v03, v10);
/// assert_eq!(v10.config_id.as_deref(), Some("c1"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushConfigQuery {
    /// The task's id.
    pub task_id: String,
    /// The config's id; 0.3's `get` may leave it out (the task's first config).
    pub config_id: Option<String>,
}

impl PushConfigQuery {
    /// The params in `dialect`.
    pub fn render(&self, dialect: Dialect) -> Value {
        match dialect {
            Dialect::V0_3 => ObjectBuilder::new()
                .field("id", self.task_id.as_str())
                .opt("pushNotificationConfigId", self.config_id.clone()),
            Dialect::V1_0 => ObjectBuilder::new()
                .field("taskId", self.task_id.as_str())
                .opt("id", self.config_id.clone()),
        }
        .build()
    }

    /// Parses the params at `path`; the task id is required.
    pub fn parse_at(dialect: Dialect, value: &Value, path: &str) -> Result<Self, A2aError> {
        let fields = Fields::of(value, path)?;
        let (task_key, config_key) = match dialect {
            Dialect::V0_3 => ("id", "pushNotificationConfigId"),
            Dialect::V1_0 => ("taskId", "id"),
        };
        Ok(PushConfigQuery {
            task_id: fields.id_req(task_key)?,
            config_id: fields.id_opt(config_key)?.filter(|id| !id.is_empty()),
        })
    }

    /// The config id, which deleting one needs.
    pub fn config_id_required(&self, dialect: Dialect) -> Result<&str, A2aError> {
        let key = match dialect {
            Dialect::V0_3 => "params.pushNotificationConfigId",
            Dialect::V1_0 => "params.id",
        };
        self.config_id.as_deref().ok_or_else(|| required(key))
    }
}

/// The params of `tasks/pushNotificationConfig/list` (`{"id"}`) /
/// `ListTaskPushNotificationConfigs` (`{"taskId", "pageSize", "pageToken"}`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListPushConfigsParams {
    /// The task's id.
    pub task_id: String,
    /// At most this many configs (1.0).
    pub page_size: Option<u32>,
    /// Where to continue: a previous result's `nextPageToken` (1.0).
    pub page_token: Option<String>,
}

impl ListPushConfigsParams {
    /// The params in `dialect`.
    pub fn render(&self, dialect: Dialect) -> Value {
        match dialect {
            Dialect::V0_3 => ObjectBuilder::new().field("id", self.task_id.as_str()),
            Dialect::V1_0 => ObjectBuilder::new()
                .field("taskId", self.task_id.as_str())
                .opt("pageSize", self.page_size)
                .opt("pageToken", self.page_token.clone()),
        }
        .build()
    }

    /// Parses the params at `path`; the task id is required.
    pub fn parse_at(dialect: Dialect, value: &Value, path: &str) -> Result<Self, A2aError> {
        let fields = Fields::of(value, path)?;
        Ok(match dialect {
            Dialect::V0_3 => ListPushConfigsParams {
                task_id: fields.id_req("id")?,
                ..ListPushConfigsParams::default()
            },
            Dialect::V1_0 => ListPushConfigsParams {
                task_id: fields.id_req("taskId")?,
                page_size: fields.u32_opt("pageSize")?,
                page_token: fields.str_opt("pageToken")?.filter(|t| !t.is_empty()),
            },
        })
    }
}

/// The result of listing a task's push configs: 0.3 answers the array,
/// 1.0 `{"configs": [..], "nextPageToken"}`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListPushConfigsResult {
    /// The configs of this page.
    pub configs: Vec<PushConfig>,
    /// The next page's token; empty on the last page.
    pub next_page_token: String,
}

impl ListPushConfigsResult {
    /// The result in `dialect`.
    pub fn render(&self, dialect: Dialect) -> Value {
        let configs = Value::Array(self.configs.iter().map(|c| c.render(dialect)).collect());
        match dialect {
            Dialect::V0_3 => configs,
            Dialect::V1_0 => ObjectBuilder::new()
                .field("configs", configs)
                .field("nextPageToken", self.next_page_token.as_str())
                .build(),
        }
    }

    /// Parses a result at `path` (either shape).
    pub fn parse_at(dialect: Dialect, value: &Value, path: &str) -> Result<Self, A2aError> {
        let (items, path) = match value {
            Value::Array(items) => (items.as_slice(), path.to_owned()),
            Value::Object(_) => {
                let fields = Fields::of(value, path)?;
                let items = fields.array_opt("configs")?.map_or(&[][..], Vec::as_slice);
                let token = fields.str_opt("nextPageToken")?.unwrap_or_default();
                let configs = parse_all(dialect, items, &fields.path("configs"))?;
                return Ok(ListPushConfigsResult {
                    configs,
                    next_page_token: token,
                });
            }
            other => return Err(wrong_type(path, "an array or an object", other)),
        };
        Ok(ListPushConfigsResult {
            configs: parse_all(dialect, items, &path)?,
            next_page_token: String::new(),
        })
    }
}

fn parse_all(dialect: Dialect, items: &[Value], path: &str) -> Result<Vec<PushConfig>, A2aError> {
    items
        .iter()
        .enumerate()
        .map(|(i, item)| PushConfig::parse_at(dialect, item, &format!("{path}[{i}]")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_config_round_trips_through_both_dialects() {
        let config = PushConfig {
            id: "c1".into(),
            task_id: "t1".into(),
            url: "https://hooks.example.com/a2a".into(),
            token: Some("tok".into()),
            authentication: Some(PushAuthentication {
                schemes: vec!["Bearer".into()],
                credentials: Some("s3cret".into()),
            }),
        };
        for dialect in [Dialect::V0_3, Dialect::V1_0] {
            let rendered = config.render(dialect);
            assert_eq!(
                PushConfig::parse_at(dialect, &rendered, "result").unwrap(),
                config
            );
        }
        assert_eq!(
            config.render(Dialect::V0_3),
            json!({"taskId": "t1", "pushNotificationConfig": {"id": "c1",
                "url": "https://hooks.example.com/a2a", "token": "tok",
                "authentication": {"schemes": ["Bearer"], "credentials": "s3cret"}}})
        );
        assert_eq!(
            config.render(Dialect::V1_0),
            json!({"id": "c1", "taskId": "t1", "url": "https://hooks.example.com/a2a",
                "token": "tok", "authentication": {"scheme": "Bearer", "credentials": "s3cret"}})
        );
    }

    #[test]
    fn bad_configs_name_the_field() {
        let cases = [
            (json!({"url": "https://x"}), "params.taskId is required"),
            (
                json!({"taskId": "t", "pushNotificationConfig": {"token": "x"}}),
                "params.pushNotificationConfig.url is required",
            ),
            (
                json!({"taskId": "t", "url": 7}),
                "params.url must be a string, not a number",
            ),
            (
                json!({"taskId": "t", "url": "x".repeat(MAX_PUSH_URL_BYTES + 1)}),
                "params.url is longer than 2048 bytes",
            ),
            (
                json!({"taskId": "t", "url": "https://x", "authentication": {"schemes": ["Bear er"]}}),
                "params.authentication.schemes must hold HTTP authentication scheme names (such as Bearer), at most 64 bytes each",
            ),
            (
                json!({"taskId": "t", "url": "https://x", "token": "x".repeat(MAX_PUSH_TOKEN_BYTES + 1)}),
                "params.token is longer than 1024 bytes",
            ),
        ];
        for (params, message) in cases {
            let error = PushConfig::parse_at(Dialect::V1_0, &params, "params").unwrap_err();
            assert_eq!(error.code.as_i32(), -32602);
            assert_eq!(error.message, message);
        }
    }

    #[test]
    fn queries_and_lists_follow_the_dialect() {
        let query =
            PushConfigQuery::parse_at(Dialect::V0_3, &json!({"id": "t1"}), "params").unwrap();
        assert_eq!(query.config_id, None);
        let error = query.config_id_required(Dialect::V0_3).unwrap_err();
        assert_eq!(error.message, "params.pushNotificationConfigId is required");
        let error =
            PushConfigQuery::parse_at(Dialect::V1_0, &json!({"id": "c1"}), "params").unwrap_err();
        assert_eq!(error.message, "params.taskId is required");

        let list = ListPushConfigsParams::parse_at(
            Dialect::V1_0,
            &json!({"taskId": "t1", "pageSize": 5}),
            "params",
        )
        .unwrap();
        assert_eq!(list.page_size, Some(5));
        assert_eq!(
            ListPushConfigsParams::parse_at(Dialect::V0_3, &list.render(Dialect::V0_3), "params")
                .unwrap()
                .task_id,
            "t1"
        );

        let result = ListPushConfigsResult {
            configs: vec![PushConfig {
                id: "c1".into(),
                task_id: "t1".into(),
                url: "https://x".into(),
                ..PushConfig::default()
            }],
            next_page_token: String::new(),
        };
        assert!(result.render(Dialect::V0_3).is_array());
        assert_eq!(
            result.render(Dialect::V1_0)["configs"][0]["url"],
            "https://x"
        );
        for dialect in [Dialect::V0_3, Dialect::V1_0] {
            let parsed =
                ListPushConfigsResult::parse_at(dialect, &result.render(dialect), "result")
                    .unwrap();
            assert_eq!(parsed, result);
        }
    }

    #[test]
    fn an_inline_config_needs_no_task() {
        let inline = json!({"url": "https://x", "token": "t",
            "authentication": {"scheme": "Basic", "credentials": "dTpw"}});
        let config = PushConfig::parse_inline_at(Dialect::V1_0, &inline, "c").unwrap();
        assert_eq!(config.task_id, "");
        assert_eq!(
            config.authentication.unwrap().authorization().as_deref(),
            Some("Basic dTpw")
        );
    }
}
