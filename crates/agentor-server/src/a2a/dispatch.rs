//! `POST /`: A2A JSON-RPC, both dialects, dispatched by method name.

use std::time::Duration;

use agentor_a2a::jsonrpc::{self, RequestId};
use agentor_a2a::store::wait_final_within;
use agentor_a2a::{
    A2aError, Dialect, ErrorCode, ListTasksParams, Method, SendMessageParams, SendMessageResult,
    TaskQuery,
};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;

use super::{shared, sse, tasks};
use crate::extract::is_json;
use crate::headers::A2A_VERSION_HEADER;
use crate::state::AppState;

/// How long `tasks/cancel` waits for the run to publish `canceled`.
const CANCEL_WAIT: Duration = Duration::from_secs(10);

/// What a method answers: one JSON result, or a stream of task events
/// (with the `historyLength` its Tasks are trimmed to).
enum Reply {
    Json(Value),
    Stream(agentor_a2a::store::Subscription, Option<u32>),
    /// The events of a task of another instance, from the shared log.
    Shared(shared::TaskEvents, Option<u32>),
}

pub(crate) async fn json_rpc(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let version = match headers.get(A2A_VERSION_HEADER) {
        None => Ok(None),
        Some(value) => match value.to_str() {
            // Both official servers read an empty header as none (0.3).
            Ok(value) if value.trim().is_empty() => Ok(None),
            Ok(value) => Dialect::from_version_header(value).map(Some),
            Err(_) => Err(A2aError::version_not_supported("(not text)")),
        },
    };
    // Before the method is known, errors speak the header's dialect.
    let fallback = version
        .as_ref()
        .ok()
        .copied()
        .flatten()
        .unwrap_or(Dialect::V0_3);
    let request = jsonrpc::parse_request(&body);
    if headers.contains_key(header::CONTENT_TYPE) && !is_json(&headers) {
        return content_type_error(request.ok().as_ref(), &headers, fallback);
    }
    let request = match request {
        Ok(request) => request,
        Err(error) => return json_error(&error.id, &error.error, fallback),
    };
    if request.notification {
        // JSON-RPC 2.0: "The Server MUST NOT reply to a Notification", not
        // even with an error. One we understand is still carried out (a
        // send starts its task, a cancel cancels; a stream has no reader,
        // so its task runs on its own).
        if let (Some((method, dialect)), Ok(_)) = (Method::from_name(&request.method), &version) {
            let _ = call(&state, method, dialect, request.params).await;
        }
        return StatusCode::NO_CONTENT.into_response();
    }
    let Some((method, dialect)) = Method::from_name(&request.method) else {
        return json_error(
            &request.id,
            &A2aError::method_not_found(&request.method),
            fallback,
        );
    };
    // The method names the dialect (the Python SDK sends `A2A-Version: 1.0`
    // on its 0.3 requests too); the header only has to name one we speak.
    if let Err(error) = version {
        return error_reply(method, dialect, &request.id, &error);
    }

    match call(&state, method, dialect, request.params).await {
        Ok(Reply::Json(result)) => Json(jsonrpc::response(&request.id, result)).into_response(),
        Ok(Reply::Shared(events, history_length)) => {
            shared::event_stream(events, request.id, dialect, history_length, state.heartbeat)
        }
        Ok(Reply::Stream(subscription, history_length)) => sse::event_stream(
            subscription,
            request.id,
            dialect,
            history_length,
            state.heartbeat,
            state.coalesce,
        ),
        Err(error) => error_reply(method, dialect, &request.id, &error),
    }
}

async fn call(
    state: &AppState,
    method: Method,
    dialect: Dialect,
    params: Value,
) -> Result<Reply, A2aError> {
    let store = &state.a2a.store;
    match method {
        Method::SendMessage => {
            let params = SendMessageParams::parse_at(dialect, &params, "params")?;
            let blocking = params.configuration.is_blocking();
            let history_length = params.configuration.history_length;
            let (task_id, mut subscription) = tasks::start(state, params).await?;
            shared::announce(state, &task_id).await;
            if blocking {
                // Detached from this request: if the client goes away while
                // waiting, the task still finishes.
                subscription.wait_final().await;
            }
            let task = store.get(&task_id, history_length)?;
            Ok(Reply::Json(SendMessageResult::Task(task).render(dialect)))
        }
        Method::SendStreamingMessage => {
            let params = SendMessageParams::parse_at(dialect, &params, "params")?;
            let history_length = params.configuration.history_length;
            let (task_id, subscription) = tasks::start(state, params).await?;
            shared::announce(state, &task_id).await;
            Ok(Reply::Stream(subscription, history_length))
        }
        Method::GetTask => {
            let query = TaskQuery::parse_at(dialect, &params, "params")?;
            let task = match store.get(&query.id, query.history_length) {
                Err(e) if shared::falls_back(state, &e) => {
                    shared::get(state, &query.id, query.history_length).await?
                }
                found => found?,
            };
            Ok(Reply::Json(task.render(dialect)))
        }
        Method::CancelTask => {
            let query = TaskQuery::parse_at(dialect, &params, "params")?;
            // Subscribe first, so the final `canceled` event cannot slip by.
            let mut subscription = match store.subscribe(&query.id) {
                Err(e) if shared::falls_back(state, &e) => {
                    let task = shared::cancel(state, &query.id, query.history_length, CANCEL_WAIT);
                    return Ok(Reply::Json(task.await?.render(dialect)));
                }
                found => found?,
            };
            store.cancel(&query.id)?;
            wait_final_within(&mut subscription, CANCEL_WAIT).await;
            let task = match store.get(&query.id, query.history_length) {
                Err(e) if shared::falls_back(state, &e) => {
                    shared::get(state, &query.id, query.history_length).await?
                }
                found => found?,
            };
            Ok(Reply::Json(task.render(dialect)))
        }
        Method::SubscribeToTask => {
            let query = TaskQuery::parse_at(dialect, &params, "params")?;
            match store.resubscribe(&query.id) {
                Err(e) if shared::falls_back(state, &e) => Ok(Reply::Shared(
                    shared::subscribe(state, &query.id).await?,
                    query.history_length,
                )),
                found => Ok(Reply::Stream(found?, query.history_length)),
            }
        }
        Method::ListTasks => {
            let params = ListTasksParams::parse_at(dialect, &params, "params")?;
            let list = if shared::enabled(state) {
                shared::list(state, &params).await?
            } else {
                store.list(&params)?
            };
            Ok(Reply::Json(list.render(dialect)))
        }
        Method::CreatePushConfig
        | Method::GetPushConfig
        | Method::ListPushConfigs
        | Method::DeletePushConfig => Err(A2aError::push_not_supported()),
        Method::GetExtendedCard => Err(A2aError::new(
            ErrorCode::ExtendedCardNotConfigured,
            "Authenticated Extended Card is not configured",
        )),
    }
}

/// An error answer: a one-event SSE stream for 0.3 streaming methods (what
/// 0.3 clients read), plain JSON otherwise.
fn error_reply(method: Method, dialect: Dialect, id: &RequestId, error: &A2aError) -> Response {
    if method.is_streaming() && dialect == Dialect::V0_3 {
        sse::error_event(id, error, dialect)
    } else {
        json_error(id, error, dialect)
    }
}

/// A JSON-RPC error with HTTP 200, as JSON-RPC over HTTP answers.
fn json_error(id: &RequestId, error: &A2aError, dialect: Dialect) -> Response {
    Json(jsonrpc::error_response(id, error, dialect)).into_response()
}

/// A body sent as something other than JSON (`Content-Type: text/xml`):
/// `-32005` (ContentTypeNotSupportedError) in the method's dialect, with
/// HTTP 415. JSON-RPC over HTTP carries `application/json`; a request with
/// no `Content-Type` at all is read as JSON, as before. When the body still
/// parses, the error answers with its id and in its method's dialect.
fn content_type_error(
    request: Option<&jsonrpc::Request>,
    headers: &HeaderMap,
    fallback: Dialect,
) -> Response {
    let sent = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("(not text)");
    let error = A2aError::new(
        ErrorCode::ContentTypeNotSupported,
        format!(
            "Content-Type {} is not supported: send the JSON-RPC request as application/json",
            agentor::error::excerpt(sent)
        ),
    );
    let dialect = request
        .and_then(|r| Method::from_name(&r.method))
        .map_or(fallback, |(_, dialect)| dialect);
    let id = request.map_or(RequestId::Null, |r| r.id.clone());
    let mut response = json_error(&id, &error, dialect);
    *response.status_mut() = StatusCode::UNSUPPORTED_MEDIA_TYPE;
    response
}
