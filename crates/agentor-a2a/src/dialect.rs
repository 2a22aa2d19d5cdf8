//! The two A2A protocol dialects and the JSON-RPC methods of each.

use crate::A2aError;

/// A dialect of the A2A protocol. Both are served on one endpoint; a request's
/// method name says which one it speaks, and every answer is rendered in it.
///
/// ```
/// use agentor_a2a::{Dialect, Method};
///
/// assert_eq!(Method::from_name("message/stream"), Some((Method::SendStreamingMessage, Dialect::V0_3)));
/// assert_eq!(Method::from_name("SendStreamingMessage"), Some((Method::SendStreamingMessage, Dialect::V1_0)));
/// assert_eq!(Dialect::from_version_header("1.0").unwrap(), Dialect::V1_0);
/// assert_eq!(Dialect::from_version_header("2.0").unwrap_err().code.as_i32(), -32009);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// Protocol 0.3: slash-named methods, `kind` discriminators, lowercase states.
    V0_3,
    /// Protocol 1.0: `PascalCase` methods, wrapped results, `TASK_STATE_*` enums.
    V1_0,
}

impl Dialect {
    /// The protocol version as cards and `A2A-Version` headers name it
    /// (`0.3.0` is what 0.3 cards carry; 1.0 uses `1.0`).
    pub const fn version(self) -> &'static str {
        match self {
            Dialect::V0_3 => "0.3.0",
            Dialect::V1_0 => "1.0",
        }
    }

    /// The dialect an `A2A-Version` header value names: any `0.3.x` or `1.x`
    /// (surrounding whitespace ignored). Anything else is the `-32009`
    /// version-not-supported error.
    pub fn from_version_header(value: &str) -> Result<Dialect, A2aError> {
        let value = value.trim();
        let mut parts = value.split('.');
        let major = parts.next().unwrap_or_default();
        let minor = parts.next();
        let numeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        let well_formed = numeric(major) && parts.all(numeric) && minor.is_none_or(numeric);
        match (well_formed, major, minor) {
            (true, "0", Some("3")) => Ok(Dialect::V0_3),
            (true, "1", _) => Ok(Dialect::V1_0),
            _ => Err(A2aError::version_not_supported(value)),
        }
    }
}

/// How A2A requests travel: the protocol binding an interface of a card
/// names (`protocolBinding`). agentor speaks JSON-RPC in both dialects and
/// HTTP+JSON (REST) in 1.0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Binding {
    /// JSON-RPC 2.0 requests `POST`ed to one endpoint (`JSONRPC`).
    JsonRpc,
    /// The HTTP+JSON binding of 1.0: a route per method under a base URL,
    /// bare results, `google.rpc.Status` errors (`HTTP+JSON`).
    Rest,
}

impl Binding {
    /// The binding as cards name it (`protocolBinding`).
    pub const fn name(self) -> &'static str {
        match self {
            Binding::JsonRpc => "JSONRPC",
            Binding::Rest => "HTTP+JSON",
        }
    }
}

/// A JSON-RPC method of the A2A protocol, named per dialect by [`Method::name`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    /// `message/send` / `SendMessage`.
    SendMessage,
    /// `message/stream` / `SendStreamingMessage`.
    SendStreamingMessage,
    /// `tasks/get` / `GetTask`.
    GetTask,
    /// `tasks/cancel` / `CancelTask`.
    CancelTask,
    /// `tasks/resubscribe` / `SubscribeToTask`.
    SubscribeToTask,
    /// `ListTasks` (1.0 only).
    ListTasks,
    /// `tasks/pushNotificationConfig/set` / `CreateTaskPushNotificationConfig`.
    CreatePushConfig,
    /// `tasks/pushNotificationConfig/get` / `GetTaskPushNotificationConfig`.
    GetPushConfig,
    /// `tasks/pushNotificationConfig/list` / `ListTaskPushNotificationConfigs`.
    ListPushConfigs,
    /// `tasks/pushNotificationConfig/delete` / `DeleteTaskPushNotificationConfig`.
    DeletePushConfig,
    /// `agent/getAuthenticatedExtendedCard` / `GetExtendedAgentCard`.
    GetExtendedCard,
}

const NAMES: &[(Method, Option<&str>, &str)] = &[
    (Method::SendMessage, Some("message/send"), "SendMessage"),
    (
        Method::SendStreamingMessage,
        Some("message/stream"),
        "SendStreamingMessage",
    ),
    (Method::GetTask, Some("tasks/get"), "GetTask"),
    (Method::CancelTask, Some("tasks/cancel"), "CancelTask"),
    (
        Method::SubscribeToTask,
        Some("tasks/resubscribe"),
        "SubscribeToTask",
    ),
    (Method::ListTasks, None, "ListTasks"),
    (
        Method::CreatePushConfig,
        Some("tasks/pushNotificationConfig/set"),
        "CreateTaskPushNotificationConfig",
    ),
    (
        Method::GetPushConfig,
        Some("tasks/pushNotificationConfig/get"),
        "GetTaskPushNotificationConfig",
    ),
    (
        Method::ListPushConfigs,
        Some("tasks/pushNotificationConfig/list"),
        "ListTaskPushNotificationConfigs",
    ),
    (
        Method::DeletePushConfig,
        Some("tasks/pushNotificationConfig/delete"),
        "DeleteTaskPushNotificationConfig",
    ),
    (
        Method::GetExtendedCard,
        Some("agent/getAuthenticatedExtendedCard"),
        "GetExtendedAgentCard",
    ),
];

impl Method {
    /// The method a JSON-RPC method name denotes, with the dialect that spells it so.
    pub fn from_name(name: &str) -> Option<(Method, Dialect)> {
        NAMES.iter().find_map(|&(method, v03, v10)| {
            if v03 == Some(name) {
                Some((method, Dialect::V0_3))
            } else if v10 == name {
                Some((method, Dialect::V1_0))
            } else {
                None
            }
        })
    }

    /// The method's name in `dialect`; `None` when the dialect lacks it
    /// (`ListTasks` in 0.3).
    pub fn name(self, dialect: Dialect) -> Option<&'static str> {
        let &(_, v03, v10) = NAMES.iter().find(|(m, _, _)| *m == self)?;
        match dialect {
            Dialect::V0_3 => v03,
            Dialect::V1_0 => Some(v10),
        }
    }

    /// Whether the answer is a stream of events (SSE) rather than one response.
    pub const fn is_streaming(self) -> bool {
        matches!(self, Method::SendStreamingMessage | Method::SubscribeToTask)
    }

    /// Whether the method manages a task's push-notification configs.
    pub const fn is_push_config(self) -> bool {
        matches!(
            self,
            Method::CreatePushConfig
                | Method::GetPushConfig
                | Method::ListPushConfigs
                | Method::DeletePushConfig
        )
    }
}
