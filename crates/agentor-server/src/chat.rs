//! `POST /chat`: one agent run, answered as JSON or streamed.

use agentor::{Agentor, EventKind, RunStatus};
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde_json::json;

use crate::error::ApiError;
use crate::event_body::Resume;
use crate::extract::ParsedChat;
use crate::headers::RUN_ID_HEADER;
use crate::response::EventStreamResponse;
use crate::state::AppState;

pub(crate) async fn chat(State(state): State<AppState>, request: ParsedChat) -> Response {
    let permit = match state.limit.acquire() {
        Ok(permit) => permit,
        Err(err) => return err.into_response(),
    };
    let run_id = Agentor::new_run_id();
    let run = state
        .agent
        .stream_chat_with_run_id(request.input, run_id.clone())
        .into_inner();
    let events = request.options.apply(run);
    let run_id_value = HeaderValue::from_str(&run_id).ok();

    if !request.options.stream {
        // The permit lives until the run is answered.
        let result = tokio::select! {
            result = final_answer(events) => result,
            () = state.shutdown.triggered() => Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "shutting_down",
                "the server is shutting down; the run was cancelled",
            )),
        };
        drop(permit);
        let mut response = match result {
            Ok((output, RunStatus::Completed)) => {
                axum::Json(json!({"output": output, "run_id": &*run_id})).into_response()
            }
            // The output is the agent's question; the status says so.
            Ok((output, status)) => {
                axum::Json(json!({"output": output, "run_id": &*run_id, "status": status.as_str()}))
                    .into_response()
            }
            Err(err) => err.into_response(),
        };
        if let Some(value) = run_id_value {
            response.headers_mut().insert(RUN_ID_HEADER, value);
        }
        return response;
    }

    let resume = Resume {
        log: state.runs.start(&run_id, state.shutdown.child()),
        window: state.resume_window,
    };
    EventStreamResponse::boxed(events)
        .framing(request.framing)
        .format(request.options.format)
        .run_id(run_id)
        .heartbeat(state.heartbeat)
        .coalesce(state.coalesce)
        .shutdown(&state.shutdown)
        .holding(permit)
        .with_resume(resume)
        .into_response()
}

/// Runs to the end and returns the last message's text — with `completed`,
/// or the status of a run that ended asking the user (the text is then the
/// question) — or the error that describes how the run ended otherwise.
async fn final_answer(
    mut events: agentor::BoxEventStream,
) -> Result<(String, RunStatus), ApiError> {
    let mut answer = String::new();
    let mut failure: Option<String> = None;
    while let Some(item) = events.next().await {
        let event = match item {
            Ok(event) => event,
            Err(err) => {
                failure.get_or_insert_with(|| err.to_string());
                continue;
            }
        };
        match &event.kind {
            EventKind::Message { text, .. } => answer = text.to_string(),
            EventKind::Error { message, .. } => {
                failure.get_or_insert_with(|| message.to_string());
            }
            EventKind::RunEnd { status } => return outcome(*status, answer, failure),
            _ => {}
        }
    }
    Err(ApiError::new(
        StatusCode::BAD_GATEWAY,
        "run_failed",
        failure.unwrap_or_else(|| "the run ended without a run end".into()),
    ))
}

fn outcome(
    status: RunStatus,
    answer: String,
    failure: Option<String>,
) -> Result<(String, RunStatus), ApiError> {
    let (code, http) = match status {
        RunStatus::Completed => return Ok((answer, status)),
        _ if status.awaits_user() => return Ok((answer, status)),
        RunStatus::TimedOut => ("run_timed_out", StatusCode::GATEWAY_TIMEOUT),
        RunStatus::MaxTurns => ("max_turns", StatusCode::BAD_GATEWAY),
        RunStatus::Cancelled => ("run_cancelled", StatusCode::SERVICE_UNAVAILABLE),
        _ => ("run_failed", StatusCode::BAD_GATEWAY),
    };
    Err(ApiError::new(
        http,
        code,
        failure.unwrap_or_else(|| format!("the run ended: {status}")),
    ))
}
