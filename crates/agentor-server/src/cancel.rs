//! `POST /runs/{run_id}/cancel`: stops a streamed run from another request.
//!
//! The run's producer (its response body, or its task in the resume window)
//! drops the run, which cancels the model request and tools, and sends a
//! `cancelled` run end: the client streaming it and every reader of its log
//! see the run end the same way. With a shared log (Redis) the cancel
//! reaches the producer on whichever instance it runs.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::state::AppState;

pub(crate) async fn cancel_run(
    State(state): State<AppState>,
    Path(run_id): Path<String>,
) -> Response {
    if let Err(err) = state.runs.cancel(&run_id).await {
        return err.to_api(&run_id, None).into_response();
    }
    (
        StatusCode::ACCEPTED,
        Json(json!({"run_id": run_id, "status": "cancelling"})),
    )
        .into_response()
}
