//! The HTTP+JSON (REST) binding of A2A 1.0 under `/v1`, beside JSON-RPC at
//! `POST /`. Each route names a method and carries its params in the path,
//! the query and the body; the method runs through the same dispatch as
//! JSON-RPC ([`dispatch::call`]) and answers the same 1.0 result without
//! the JSON-RPC envelope: JSON for one result, SSE with one bare
//! `StreamResponse` per frame for a stream. An error is a `google.rpc.Status`
//! (`{"error": {code, status, message, details}}`) with the HTTP status of
//! [`ErrorCode::rest_status`](agentor_a2a::ErrorCode::rest_status).
//!
//! | route | method |
//! |---|---|
//! | `POST /v1/message:send` | `SendMessage` |
//! | `POST /v1/message:stream` | `SendStreamingMessage` (SSE) |
//! | `GET /v1/tasks/{id}` | `GetTask` (`?historyLength=`) |
//! | `GET /v1/tasks` | `ListTasks` (its params as query parameters) |
//! | `POST /v1/tasks/{id}:cancel` | `CancelTask` |
//! | `GET` or `POST /v1/tasks/{id}:subscribe` | `SubscribeToTask` (SSE) |
//! | `POST /v1/tasks/{id}/pushNotificationConfigs` | `CreateTaskPushNotificationConfig` |
//! | `GET /v1/tasks/{id}/pushNotificationConfigs` | `ListTaskPushNotificationConfigs` |
//! | `GET /v1/tasks/{id}/pushNotificationConfigs/{configId}` | `GetTaskPushNotificationConfig` |
//! | `DELETE /v1/tasks/{id}/pushNotificationConfigs/{configId}` | `DeleteTaskPushNotificationConfig` |

use agentor_a2a::frames::StreamFrames;
use agentor_a2a::{A2aError, Dialect, ErrorCode, Method};
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{self, header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use super::dispatch;
use crate::extract::is_json;
use crate::headers::A2A_VERSION_HEADER;
use crate::state::AppState;

/// Where the binding's routes sit, relative to the JSON-RPC endpoint.
pub(crate) const PREFIX: &str = "/v1";

/// `/v1/{*route}`: every route of the binding.
pub(crate) async fn rest(
    State(state): State<AppState>,
    method: http::Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match request(&method, &uri, &headers, &body) {
        Ok((method, params)) => match dispatch::call(&state, method, Dialect::V1_0, params).await {
            Ok(reply) => reply.respond(&state, StreamFrames::bare(Dialect::V1_0), json_ok),
            Err(error) => error_response(&Refusal::from(error)),
        },
        Err(refusal) => error_response(&refusal),
    }
}

/// An error and the HTTP status it is answered with.
#[derive(Debug)]
struct Refusal {
    status: StatusCode,
    error: A2aError,
}

impl From<A2aError> for Refusal {
    /// With the error's own status ([`ErrorCode::rest_status`]).
    fn from(error: A2aError) -> Self {
        let (status, _) = error.code.rest_status();
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        Refusal { status, error }
    }
}

/// The method a request names and its params in the shape of the 1.0
/// JSON-RPC params, or the error answer.
fn request(
    method: &http::Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(Method, Value), Refusal> {
    check_version(headers)?;
    // Still percent-encoded, so an id holding `/` stays one segment.
    let route = uri
        .path()
        .strip_prefix(PREFIX)
        .and_then(|route| route.strip_prefix('/'))
        .unwrap_or_default();
    let route = Route::parse(method, route)?;
    if !body.is_empty() && headers.contains_key(header::CONTENT_TYPE) && !is_json(headers) {
        let error = A2aError::new(
            ErrorCode::ContentTypeNotSupported,
            "send the request body as application/json (or application/a2a+json)",
        );
        return Err(Refusal {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            error,
        });
    }
    let query = query(uri, route.query_keys())?;
    let body = body_object(body, route.method)?;
    Ok((route.method, route.params(query, body)))
}

/// The binding speaks 1.0 only; a request may leave the version out.
fn check_version(headers: &HeaderMap) -> Result<(), A2aError> {
    let Some(value) = headers.get(A2A_VERSION_HEADER) else {
        return Ok(());
    };
    let text = value
        .to_str()
        .map_err(|_| A2aError::version_not_supported("(not text)"))?;
    if text.trim().is_empty() {
        return Ok(());
    }
    match Dialect::from_version_header(text)? {
        Dialect::V1_0 => Ok(()),
        Dialect::V0_3 => Err(A2aError::new(
            ErrorCode::VersionNotSupported,
            "the HTTP+JSON binding speaks A2A 1.0; use JSON-RPC at the card's URL for 0.3",
        )),
    }
}

/// A route of the binding: the method and the ids its path names.
#[derive(Debug, PartialEq)]
struct Route {
    method: Method,
    task_id: Option<String>,
    config_id: Option<String>,
}

impl Route {
    /// Reads `route` (the path after `/v1/`, percent-encoded) requested
    /// with `verb`.
    fn parse(verb: &http::Method, route: &str) -> Result<Route, Refusal> {
        let segments: Vec<&str> = route.split('/').collect();
        let get = *verb == http::Method::GET;
        let post = *verb == http::Method::POST;
        let delete = *verb == http::Method::DELETE;
        let method = |method| Route {
            method,
            task_id: None,
            config_id: None,
        };
        let found = match segments.as_slice() {
            ["message:send"] => post.then(|| method(Method::SendMessage)),
            ["message:stream"] => post.then(|| method(Method::SendStreamingMessage)),
            ["tasks"] => get.then(|| method(Method::ListTasks)),
            ["tasks", task] => {
                let (id, action) = match task.rsplit_once(':') {
                    Some((id, "cancel")) => (id, Some(Method::CancelTask)),
                    Some((id, "subscribe")) => (id, Some(Method::SubscribeToTask)),
                    _ => (*task, None),
                };
                let method = match action {
                    None => get.then_some(Method::GetTask),
                    Some(Method::CancelTask) => post.then_some(Method::CancelTask),
                    Some(subscribe) => (get || post).then_some(subscribe),
                };
                return match method {
                    Some(method) => Ok(Route {
                        method,
                        task_id: Some(decode(id)?),
                        config_id: None,
                    }),
                    None => Err(not_allowed(verb, route)),
                };
            }
            ["tasks", task, "pushNotificationConfigs", rest @ ..] if rest.len() <= 1 => {
                let method = match (rest.first(), get, post, delete) {
                    (None, _, true, _) => Method::CreatePushConfig,
                    (None, true, _, _) => Method::ListPushConfigs,
                    (Some(_), true, _, _) => Method::GetPushConfig,
                    (Some(_), _, _, true) => Method::DeletePushConfig,
                    _ => return Err(not_allowed(verb, route)),
                };
                return Ok(Route {
                    method,
                    task_id: Some(decode(task)?),
                    config_id: rest.first().map(|id| decode(id)).transpose()?,
                });
            }
            _ => {
                return Err(Refusal::from(A2aError::new(
                    ErrorCode::MethodNotFound,
                    format!(
                        "{PREFIX}/{} is not a route of the A2A HTTP+JSON binding",
                        agentor::error::excerpt(route)
                    ),
                )))
            }
        };
        found.ok_or_else(|| not_allowed(verb, route))
    }

    /// The query parameters the route's method reads, with their types.
    fn query_keys(&self) -> &'static [(&'static str, QueryType)] {
        use QueryType::{Bool, Number, Text};
        match self.method {
            Method::GetTask => &[("historyLength", Number)],
            Method::ListTasks => &[
                ("contextId", Text),
                ("status", Text),
                ("pageSize", Number),
                ("pageToken", Text),
                ("historyLength", Number),
                ("statusTimestampAfter", Text),
                ("includeArtifacts", Bool),
            ],
            Method::ListPushConfigs => &[("pageSize", Number), ("pageToken", Text)],
            _ => &[],
        }
    }

    /// The 1.0 JSON-RPC params: the body, with the query and the path's
    /// ids over it (the path names the task; a body cannot redirect it).
    fn params(self, query: Map<String, Value>, mut body: Map<String, Value>) -> Value {
        body.extend(query);
        let task_key = match self.method {
            Method::CreatePushConfig
            | Method::GetPushConfig
            | Method::ListPushConfigs
            | Method::DeletePushConfig => "taskId",
            _ => "id",
        };
        if let Some(task_id) = self.task_id {
            body.insert(task_key.into(), task_id.into());
        }
        if let Some(config_id) = self.config_id {
            body.insert("id".into(), config_id.into());
        }
        Value::Object(body)
    }
}

#[derive(Clone, Copy, Debug)]
enum QueryType {
    Text,
    Number,
    Bool,
}

/// The query parameters as typed JSON fields; one the route does not read,
/// a repeated one, or one of the wrong type is `-32602`.
fn query(uri: &Uri, keys: &[(&str, QueryType)]) -> Result<Map<String, Value>, A2aError> {
    let Query(pairs) = Query::<Vec<(String, String)>>::try_from_uri(uri)
        .map_err(|e| A2aError::invalid_params(format!("the query string is malformed: {e}")))?;
    let mut fields = Map::new();
    for (key, text) in pairs {
        let Some((_, kind)) = keys.iter().find(|(k, _)| *k == key) else {
            let known: Vec<&str> = keys.iter().map(|(k, _)| *k).collect();
            return Err(A2aError::invalid_params(format!(
                "query parameter {:?} is not read by this route (it reads: {})",
                agentor::error::excerpt(&key),
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            )));
        };
        let value = match kind {
            QueryType::Text => Value::String(text),
            QueryType::Number => text.parse::<u32>().map(Value::from).map_err(|_| {
                A2aError::invalid_params(format!(
                    "query parameter {key} must be a non-negative integer"
                ))
            })?,
            QueryType::Bool => match text.as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => {
                    return Err(A2aError::invalid_params(format!(
                        "query parameter {key} must be true or false"
                    )))
                }
            },
        };
        if fields.insert(key.clone(), value).is_some() {
            return Err(A2aError::invalid_params(format!(
                "query parameter {key} is given twice"
            )));
        }
    }
    Ok(fields)
}

/// The body as a JSON object; empty is an empty object, except where the
/// method's params live in the body.
fn body_object(body: &Bytes, method: Method) -> Result<Map<String, Value>, A2aError> {
    if body.is_empty() {
        return match method {
            Method::SendMessage | Method::SendStreamingMessage | Method::CreatePushConfig => Err(
                A2aError::invalid_params("the request body is empty: it must be a JSON object"),
            ),
            _ => Ok(Map::new()),
        };
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(A2aError::invalid_params(
            "the request body must be a JSON object",
        )),
        Err(e) => Err(A2aError::new(
            ErrorCode::ParseError,
            format!("the request body is not JSON: {e}"),
        )),
    }
}

fn decode(segment: &str) -> Result<String, Refusal> {
    let decoded = percent_decode(segment)
        .ok_or_else(|| A2aError::invalid_params("a path segment is not percent-encoded UTF-8"))?;
    if decoded.is_empty() {
        return Err(A2aError::invalid_params("the path names an empty id").into());
    }
    Ok(decoded)
}

/// `%XX` escapes decoded; `None` when they are malformed or not UTF-8.
fn percent_decode(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn not_allowed(verb: &http::Method, route: &str) -> Refusal {
    let error = A2aError::new(
        ErrorCode::MethodNotFound,
        format!(
            "{PREFIX}/{} does not answer {verb}",
            agentor::error::excerpt(route)
        ),
    );
    Refusal {
        status: StatusCode::METHOD_NOT_ALLOWED,
        error,
    }
}

fn json_ok(result: Value) -> Response {
    // A method with nothing to answer (deleting a push config) answers `{}`.
    let result = if result.is_null() {
        Value::Object(Map::new())
    } else {
        result
    };
    json_response(StatusCode::OK, &result)
}

/// The refusal's body, answered with its status (the body's `code` says the same).
fn error_response(refusal: &Refusal) -> Response {
    let mut body = refusal.error.rest_body();
    body["error"]["code"] = refusal.status.as_u16().into();
    json_response(refusal.status, &body)
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(verb: http::Method, path: &str) -> Option<Route> {
        Route::parse(&verb, path).ok()
    }

    #[test]
    fn routes_name_their_methods_and_ids() {
        let get = http::Method::GET;
        let post = http::Method::POST;
        let delete = http::Method::DELETE;
        assert_eq!(
            route(post.clone(), "message:send").map(|r| r.method),
            Some(Method::SendMessage)
        );
        assert_eq!(
            route(post.clone(), "message:stream").map(|r| r.method),
            Some(Method::SendStreamingMessage)
        );
        let cancel = route(post.clone(), "tasks/t%3A1:cancel").unwrap();
        assert_eq!(
            (cancel.method, cancel.task_id.as_deref()),
            (Method::CancelTask, Some("t:1"))
        );
        let get_task = route(get.clone(), "tasks/a:b").unwrap();
        assert_eq!(
            (get_task.method, get_task.task_id.as_deref()),
            (Method::GetTask, Some("a:b"))
        );
        for verb in [get.clone(), post.clone()] {
            assert_eq!(
                route(verb, "tasks/t:subscribe").map(|r| r.method),
                Some(Method::SubscribeToTask)
            );
        }
        let config = route(delete.clone(), "tasks/t/pushNotificationConfigs/c").unwrap();
        assert_eq!(
            (config.method, config.config_id.as_deref()),
            (Method::DeletePushConfig, Some("c"))
        );
        assert!(route(get.clone(), "message:send").is_none());
        assert!(route(delete, "tasks/t").is_none());
        assert!(route(post, "tasks/%FF").is_none());
        assert!(route(get, "tasks/t/other").is_none());
    }

    #[test]
    fn the_path_names_the_task_whatever_the_body_says() {
        let route = Route {
            method: Method::CancelTask,
            task_id: Some("from-path".into()),
            config_id: None,
        };
        let mut body = Map::new();
        body.insert("id".into(), "from-body".into());
        assert_eq!(route.params(Map::new(), body)["id"], "from-path");
    }

    #[test]
    fn query_parameters_are_typed_and_checked() {
        let keys = Route {
            method: Method::ListTasks,
            task_id: None,
            config_id: None,
        }
        .query_keys();
        let uri: Uri = "/v1/tasks?pageSize=2&includeArtifacts=true&status=TASK_STATE_WORKING"
            .parse()
            .unwrap();
        let fields = query(&uri, keys).unwrap();
        assert_eq!(fields["pageSize"], 2);
        assert_eq!(fields["includeArtifacts"], true);
        assert_eq!(fields["status"], "TASK_STATE_WORKING");
        for bad in [
            "pageSize=-1",
            "includeArtifacts=yes",
            "colour=red",
            "pageSize=1&pageSize=2",
        ] {
            let uri: Uri = format!("/v1/tasks?{bad}").parse().unwrap();
            let error = query(&uri, keys).unwrap_err();
            assert_eq!(error.code, ErrorCode::InvalidParams, "{bad}");
        }
    }
}
