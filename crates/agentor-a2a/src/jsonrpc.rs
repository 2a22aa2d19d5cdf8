//! JSON-RPC 2.0 envelopes: parsing requests, building responses and errors.

use agentor_core::wire::sse;
use bytes::{BufMut, BytesMut};
use serde::ser::{Serialize, Serializer};
use serde_json::{Map, Value};

use crate::{A2aError, Dialect};

/// A request id: a string, a number, or null (absent ids count as null).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RequestId {
    /// A string id.
    String(String),
    /// A number id.
    Number(serde_json::Number),
    /// `null`, or no id at all.
    Null,
}

impl RequestId {
    /// The id as JSON.
    pub fn to_value(&self) -> Value {
        match self {
            RequestId::String(s) => Value::String(s.clone()),
            RequestId::Number(n) => Value::Number(n.clone()),
            RequestId::Null => Value::Null,
        }
    }

    /// The id of a JSON value, when it is a valid id.
    pub fn from_value(value: &Value) -> Option<RequestId> {
        match value {
            Value::String(s) => Some(RequestId::String(s.clone())),
            Value::Number(n) => Some(RequestId::Number(n.clone())),
            Value::Null => Some(RequestId::Null),
            _ => None,
        }
    }
}

impl Serialize for RequestId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            RequestId::String(s) => serializer.serialize_str(s),
            RequestId::Number(n) => n.serialize(serializer),
            RequestId::Null => serializer.serialize_unit(),
        }
    }
}

impl From<&str> for RequestId {
    fn from(id: &str) -> Self {
        RequestId::String(id.to_owned())
    }
}

impl From<i64> for RequestId {
    fn from(id: i64) -> Self {
        RequestId::Number(id.into())
    }
}

/// A parsed JSON-RPC request.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    /// The id to answer with.
    pub id: RequestId,
    /// The method name, not yet resolved (see [`crate::Method::from_name`]).
    pub method: String,
    /// The params; `null` when absent.
    pub params: Value,
    /// No `id` member at all: a notification, which JSON-RPC 2.0 says the
    /// server must not answer (an explicit `"id": null` is not one).
    pub notification: bool,
}

/// A request that could not be parsed, with the id to answer the error with
/// (null when the id itself could not be read).
#[derive(Clone, Debug, PartialEq)]
pub struct RequestError {
    /// The request's id, when it could be read.
    pub id: RequestId,
    /// What is wrong: `-32700` or `-32600`.
    pub error: A2aError,
}

/// Parses a request body.
///
/// Not JSON → `-32700`; JSON but not an object, `jsonrpc` other than
/// `"2.0"`, an id that is not a string, number or null, a missing or
/// non-string `method`, or `params` neither object nor array → `-32600`.
///
/// ```
/// use agentor_a2a::jsonrpc::{parse_request, RequestId};
///
/// let request = parse_request(br#"{"jsonrpc":"2.0","id":7,"method":"tasks/get","params":{"id":"t"}}"#).unwrap();
/// assert_eq!(request.id, RequestId::from(7));
/// assert!(!request.notification);
/// let notification = parse_request(br#"{"jsonrpc":"2.0","method":"tasks/cancel","params":{"id":"t"}}"#).unwrap();
/// assert!(notification.notification);
/// assert_eq!(parse_request(b"{oops").unwrap_err().error.code.as_i32(), -32700);
/// assert_eq!(parse_request(br#"{"jsonrpc":"1.0","id":1,"method":"x"}"#).unwrap_err().error.code.as_i32(), -32600);
/// ```
pub fn parse_request(body: &[u8]) -> Result<Request, RequestError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| RequestError {
        id: RequestId::Null,
        error: A2aError::parse_error(format!("Invalid JSON payload: {e}")),
    })?;
    parse_request_value(value)
}

/// Parses a request already read as JSON; see [`parse_request`].
pub fn parse_request_value(value: Value) -> Result<Request, RequestError> {
    let invalid = |id: RequestId, message: &str| RequestError {
        id,
        error: A2aError::invalid_request(format!("Invalid request: {message}")),
    };
    let mut object = match value {
        Value::Object(object) => object,
        Value::Array(_) => {
            return Err(invalid(RequestId::Null, "batch requests are not supported"))
        }
        _ => return Err(invalid(RequestId::Null, "a request must be a JSON object")),
    };
    let notification = !object.contains_key("id");
    let id = match object.get("id") {
        None => RequestId::Null,
        Some(id) => RequestId::from_value(id)
            .ok_or_else(|| invalid(RequestId::Null, "id must be a string, a number or null"))?,
    };
    if object.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return Err(invalid(id, "'jsonrpc' must be exactly '2.0'"));
    }
    let method = match object.remove("method") {
        Some(Value::String(method)) if !method.is_empty() => method,
        None | Some(Value::Null) => return Err(invalid(id, "method is required")),
        Some(_) => return Err(invalid(id, "method must be a non-empty string")),
    };
    let params = object.remove("params").unwrap_or(Value::Null);
    if !matches!(params, Value::Object(_) | Value::Array(_) | Value::Null) {
        return Err(invalid(id, "params must be an object or an array"));
    }
    Ok(Request {
        id,
        method,
        params,
        notification,
    })
}

/// A success response: `{"jsonrpc":"2.0","id":…,"result":…}`.
pub fn response(id: &RequestId, result: Value) -> Value {
    envelope(id, "result", result)
}

/// Appends `message` to `dst` as one SSE frame, `data: <json>\n\n`
/// ([`sse::write_frame`]): how
/// streaming methods send each response (JSON escapes newlines, so one
/// `data:` line carries it all).
///
/// ```
/// use agentor_a2a::jsonrpc::{push_sse_frame, response, RequestId};
///
/// let mut frames = bytes::BytesMut::new();
/// push_sse_frame(&mut frames, &response(&RequestId::Number(1.into()), serde_json::json!({"ok": true})));
/// assert_eq!(&frames[..], &b"data: {\"id\":1,\"jsonrpc\":\"2.0\",\"result\":{\"ok\":true}}\n\n"[..]);
/// ```
pub fn push_sse_frame(dst: &mut BytesMut, message: &Value) {
    // No `id:` or `event:`: A2A clients read every frame as a JSON-RPC
    // response and resume by `tasks/resubscribe`, not `Last-Event-ID`.
    sse::write_frame(dst, None, None, |dst| {
        // Straight into the buffer (`to_string` goes through `fmt` and a
        // copy). Writing a `Value` to memory cannot fail: its keys are
        // strings and a `BytesMut` takes every byte.
        let _ = serde_json::to_writer(dst.writer(), message);
    });
}

/// An error response in `dialect` (see [`A2aError::render`]).
pub fn error_response(id: &RequestId, error: &A2aError, dialect: Dialect) -> Value {
    envelope(id, "error", error.render(dialect))
}

/// A request envelope, for clients.
pub fn request(id: &RequestId, method: &str, params: Value) -> Value {
    let mut object = Map::new();
    object.insert("jsonrpc".into(), "2.0".into());
    object.insert("id".into(), id.to_value());
    object.insert("method".into(), method.into());
    object.insert("params".into(), params);
    Value::Object(object)
}

/// Reads a response envelope, for clients: the `result`, or the `error` as
/// an [`A2aError`]. Something that is neither is `-32603`.
pub fn parse_response(value: &Value) -> Result<Value, A2aError> {
    if let Some(error) = value.get("error").filter(|e| !e.is_null()) {
        return Err(A2aError::from_error_object(error));
    }
    value
        .get("result")
        .cloned()
        .ok_or_else(|| A2aError::internal("JSON-RPC response without result or error"))
}

fn envelope(id: &RequestId, key: &str, body: Value) -> Value {
    let mut object = Map::new();
    object.insert("jsonrpc".into(), "2.0".into());
    object.insert("id".into(), id.to_value());
    object.insert(key.into(), body);
    Value::Object(object)
}
