//! `POST /runs/{run_id}/cancel`: stops a streamed run from another request.
//!
//! The run's producer (its response body, or its task in the resume window)
//! drops the run, which cancels the model request and tools, and sends a
//! `cancelled` run end: the client streaming it and every reader of its log
//! see the run end the same way.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::error::ApiError;
use crate::state::AppState;

pub(crate) async fn cancel_run(
    State(state): State<AppState>,
    Path(run_id): Path<String>,
) -> Response {
    let Some(log) = state.runs.get(&run_id) else {
        return ApiError::unknown_run(&run_id).into_response();
    };
    if !log.cancel() {
        return ApiError::new(
            StatusCode::CONFLICT,
            "run_ended",
            format!(
                "run `{}` has already ended",
                agentor::error::excerpt(&run_id)
            ),
        )
        .into_response();
    }
    (
        StatusCode::ACCEPTED,
        Json(json!({"run_id": run_id, "status": "cancelling"})),
    )
        .into_response()
}
