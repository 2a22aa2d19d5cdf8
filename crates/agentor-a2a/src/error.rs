//! [`A2aError`]: a JSON-RPC error with the A2A spec's codes.

use agentor_core::error::excerpt;
use serde_json::{json, Map, Value};

use crate::Dialect;

/// The error codes of A2A's JSON-RPC binding (the set the official 1.3.0 SDKs use).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// `-32700`: the body is not JSON.
    ParseError,
    /// `-32600`: JSON, but not a JSON-RPC 2.0 request.
    InvalidRequest,
    /// `-32601`: no such method.
    MethodNotFound,
    /// `-32602`: the params are missing a field or have a wrong type.
    InvalidParams,
    /// `-32603`: the server failed.
    Internal,
    /// `-32001`: no task with that id.
    TaskNotFound,
    /// `-32002`: the task is finished and cannot be cancelled.
    TaskNotCancelable,
    /// `-32003`: push notifications are not supported.
    PushNotificationNotSupported,
    /// `-32004`: the operation is not supported.
    UnsupportedOperation,
    /// `-32005`: incompatible content types.
    ContentTypeNotSupported,
    /// `-32006`: the agent answered with something invalid.
    InvalidAgentResponse,
    /// `-32007`: no authenticated extended card.
    ExtendedCardNotConfigured,
    /// `-32008`: an extension the request needs is not supported.
    ExtensionSupportRequired,
    /// `-32009`: the `A2A-Version` is not supported.
    VersionNotSupported,
    /// Any other code, as received from a peer.
    Other(i32),
}

const CODES: &[(ErrorCode, i32, &str)] = &[
    (ErrorCode::ParseError, -32700, "PARSE_ERROR"),
    (ErrorCode::InvalidRequest, -32600, "INVALID_REQUEST"),
    (ErrorCode::MethodNotFound, -32601, "METHOD_NOT_FOUND"),
    (ErrorCode::InvalidParams, -32602, "INVALID_PARAMS"),
    (ErrorCode::Internal, -32603, "INTERNAL_ERROR"),
    (ErrorCode::TaskNotFound, -32001, "TASK_NOT_FOUND"),
    (ErrorCode::TaskNotCancelable, -32002, "TASK_NOT_CANCELABLE"),
    (
        ErrorCode::PushNotificationNotSupported,
        -32003,
        "PUSH_NOTIFICATION_NOT_SUPPORTED",
    ),
    (
        ErrorCode::UnsupportedOperation,
        -32004,
        "UNSUPPORTED_OPERATION",
    ),
    (
        ErrorCode::ContentTypeNotSupported,
        -32005,
        "CONTENT_TYPE_NOT_SUPPORTED",
    ),
    (
        ErrorCode::InvalidAgentResponse,
        -32006,
        "INVALID_AGENT_RESPONSE",
    ),
    (
        ErrorCode::ExtendedCardNotConfigured,
        -32007,
        "EXTENDED_AGENT_CARD_NOT_CONFIGURED",
    ),
    (
        ErrorCode::ExtensionSupportRequired,
        -32008,
        "EXTENSION_SUPPORT_REQUIRED",
    ),
    (
        ErrorCode::VersionNotSupported,
        -32009,
        "VERSION_NOT_SUPPORTED",
    ),
];

impl ErrorCode {
    /// The numeric JSON-RPC code.
    pub fn as_i32(self) -> i32 {
        match self {
            ErrorCode::Other(code) => code,
            known => CODES
                .iter()
                .find(|(c, _, _)| *c == known)
                .map_or(-32603, |(_, n, _)| *n),
        }
    }

    /// The code for a number; unknown numbers are [`ErrorCode::Other`].
    pub fn from_i32(code: i32) -> ErrorCode {
        CODES
            .iter()
            .find(|(_, n, _)| *n == code)
            .map_or(ErrorCode::Other(code), |(c, _, _)| *c)
    }

    /// The `reason` of the `google.rpc.ErrorInfo` 1.0 errors carry.
    pub fn reason(self) -> &'static str {
        CODES
            .iter()
            .find(|(c, _, _)| *c == self)
            .map_or("UNKNOWN_ERROR", |(_, _, r)| r)
    }
}

impl ErrorCode {
    /// The HTTP status and `google.rpc` status name this error answers with
    /// in the HTTP+JSON (REST) binding, as the official 1.3.0 SDK servers
    /// map them; a request body in a media type the server does not read is
    /// answered `415` by the server itself, before any method runs.
    pub fn rest_status(self) -> (u16, &'static str) {
        match self {
            ErrorCode::TaskNotFound | ErrorCode::MethodNotFound => (404, "NOT_FOUND"),
            ErrorCode::TaskNotCancelable
            | ErrorCode::PushNotificationNotSupported
            | ErrorCode::UnsupportedOperation
            | ErrorCode::ExtendedCardNotConfigured
            | ErrorCode::ExtensionSupportRequired
            | ErrorCode::VersionNotSupported => (400, "FAILED_PRECONDITION"),
            ErrorCode::ParseError
            | ErrorCode::InvalidRequest
            | ErrorCode::InvalidParams
            | ErrorCode::ContentTypeNotSupported => (400, "INVALID_ARGUMENT"),
            ErrorCode::Internal | ErrorCode::InvalidAgentResponse | ErrorCode::Other(_) => {
                (500, "INTERNAL")
            }
        }
    }
}

/// The `@type` of the error-info objects in a 1.0 error's `data`.
pub const ERROR_INFO_TYPE: &str = "type.googleapis.com/google.rpc.ErrorInfo";
/// The `domain` of A2A's error-info objects.
pub const ERROR_DOMAIN: &str = "a2a-protocol.org";

/// A JSON-RPC error of the A2A protocol: a code, a message, and (when
/// received from a peer) its `data`.
///
/// ```
/// use agentor_a2a::{A2aError, Dialect};
///
/// let error = A2aError::invalid_params("params.message.messageId is required");
/// let v10 = error.render(Dialect::V1_0);
/// assert_eq!(v10["code"], -32602);
/// assert_eq!(v10["data"][0]["reason"], "INVALID_PARAMS");
/// assert!(error.render(Dialect::V0_3).get("data").is_none());
/// ```
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{message} ({})", code.as_i32())]
pub struct A2aError {
    /// The code.
    pub code: ErrorCode,
    /// A human-readable explanation.
    pub message: String,
    /// The `data` a peer sent with the error; rendering ignores it and
    /// builds the dialect's own.
    pub data: Option<Value>,
}

impl A2aError {
    /// An error with `code` and `message`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        A2aError {
            code,
            // The last bound on what an answer echoes of a request.
            message: agentor_core::error::bounded_message(message.into()),
            data: None,
        }
    }

    /// `-32700`.
    pub fn parse_error(message: impl Into<String>) -> Self {
        A2aError::new(ErrorCode::ParseError, message)
    }

    /// `-32600`.
    pub fn invalid_request(message: impl Into<String>) -> Self {
        A2aError::new(ErrorCode::InvalidRequest, message)
    }

    /// `-32601` for `method`.
    pub fn method_not_found(method: &str) -> Self {
        A2aError::new(
            ErrorCode::MethodNotFound,
            format!("Method not found: {}", excerpt(method)),
        )
    }

    /// `-32602`; the message names the field (`params.message.messageId is required`).
    pub fn invalid_params(message: impl Into<String>) -> Self {
        A2aError::new(ErrorCode::InvalidParams, message)
    }

    /// `-32603`.
    pub fn internal(message: impl Into<String>) -> Self {
        A2aError::new(ErrorCode::Internal, message)
    }

    /// `-32001` for task `id`.
    pub fn task_not_found(id: &str) -> Self {
        A2aError::new(
            ErrorCode::TaskNotFound,
            format!("Task not found: {}", excerpt(id)),
        )
    }

    /// `-32002` for task `id`, finished in `state`.
    pub fn task_not_cancelable(id: &str, state: &str) -> Self {
        A2aError::new(
            ErrorCode::TaskNotCancelable,
            format!(
                "Task cannot be canceled: {} is already {state}",
                excerpt(id)
            ),
        )
    }

    /// `-32003`.
    pub fn push_not_supported() -> Self {
        A2aError::new(
            ErrorCode::PushNotificationNotSupported,
            "Push Notification is not supported",
        )
    }

    /// `-32004`.
    pub fn unsupported_operation(message: impl Into<String>) -> Self {
        A2aError::new(ErrorCode::UnsupportedOperation, message)
    }

    /// `-32009` for the version a request asked for.
    pub fn version_not_supported(version: &str) -> Self {
        A2aError::new(
            ErrorCode::VersionNotSupported,
            format!(
                "A2A version '{}' is not supported; supported: 0.3, 1.0",
                excerpt(version)
            ),
        )
    }

    /// The JSON-RPC `error` object in `dialect`: `{code, message}` in 0.3;
    /// 1.0 adds `data`, a list holding one `google.rpc.ErrorInfo` object
    /// (`@type`, `reason`, `domain`, `metadata`) as the 1.3.0 SDKs send.
    pub fn render(&self, dialect: Dialect) -> Value {
        let mut error = Map::new();
        error.insert("code".into(), self.code.as_i32().into());
        error.insert("message".into(), self.message.clone().into());
        if dialect == Dialect::V1_0 {
            error.insert(
                "data".into(),
                json!([{
                    "@type": ERROR_INFO_TYPE,
                    "reason": self.code.reason(),
                    "domain": ERROR_DOMAIN,
                    "metadata": {},
                }]),
            );
        }
        Value::Object(error)
    }

    /// The body of an HTTP+JSON (REST) error answer, a `google.rpc.Status`
    /// in JSON: `{"error": {code, status, message, details}}`, where `code`
    /// is the HTTP status ([`ErrorCode::rest_status`]) and `details` holds
    /// the same `ErrorInfo` as the 1.0 JSON-RPC error's `data`.
    ///
    /// ```
    /// use agentor_a2a::A2aError;
    ///
    /// let body = A2aError::task_not_found("t-1").rest_body();
    /// assert_eq!(body["error"]["code"], 404);
    /// assert_eq!(body["error"]["status"], "NOT_FOUND");
    /// assert_eq!(body["error"]["details"][0]["reason"], "TASK_NOT_FOUND");
    /// ```
    pub fn rest_body(&self) -> Value {
        let (http, status) = self.code.rest_status();
        json!({"error": {
            "code": http,
            "status": status,
            "message": self.message,
            "details": [{
                "@type": ERROR_INFO_TYPE,
                "reason": self.code.reason(),
                "domain": ERROR_DOMAIN,
                "metadata": {},
            }],
        }})
    }

    /// An error from a JSON-RPC `error` object received from a peer.
    pub fn from_error_object(error: &Value) -> Self {
        let code = error
            .get("code")
            .and_then(Value::as_i64)
            .and_then(|c| i32::try_from(c).ok())
            .map_or(ErrorCode::Internal, ErrorCode::from_i32);
        let message = error
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("error without a message");
        A2aError {
            code,
            message: message.to_owned(),
            data: error.get("data").cloned(),
        }
    }
}
