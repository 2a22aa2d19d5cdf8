//! [`router`]: the routes, their shared state and the layers around them.

use std::sync::Arc;
use std::time::Duration;

use agentor::Agentor;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Method, StatusCode};
use axum::routing::{any, get, post};
use axum::{middleware, Json, Router};
use serde_json::json;
use tower::util::MapRequestLayer;
use tower_http::cors::{AllowOrigin, Any, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;

use crate::config::{Cors, ServerConfig};
use crate::error::ApiError;
use crate::headers::{A2A_VERSION_HEADER, LAST_EVENT_ID_HEADER, RUN_ID_HEADER};
use crate::state::AppState;

/// The agentor app: `POST /chat`, `GET /ws`, `GET /health`, A2A JSON-RPC at
/// `POST /` (and its HTTP+JSON binding under `/v1`) and the agent card at `GET /.well-known/agent-card.json`, the
/// playground page at `GET /` (a JSON list of the routes for `Accept:
/// application/json`), the
/// frontends' routes (`POST /api/chat` and `GET /api/chat/{id}/stream` for
/// the AI SDK's `useChat`, `POST /agui` for AG-UI; see
/// [`ServerConfig::ai_sdk_path`] and [`ServerConfig::ag_ui_path`]), with the limits, auth and
/// CORS of `config`. Mount it in a larger app with [`Router::nest`] or
/// [`Router::merge`]; trigger `config`'s [`Shutdown`](crate::Shutdown) when that app shuts
/// down so open streams end with a `cancelled` run end.
pub fn router(agent: Agentor, config: ServerConfig) -> Router {
    let state = AppState::new(agent, &config);
    let body_read_timeout = config.connections.body_read_timeout;
    // The agent cards are public, like /health: clients read them to learn
    // how to authenticate.
    let cards = Router::new()
        .route("/.well-known/agent-card.json", get(crate::a2a::agent_card))
        .route("/.well-known/agent.json", get(crate::a2a::agent_card))
        .with_state(state.clone());
    let mut routes = Router::new()
        .route("/", post(crate::a2a::json_rpc))
        .route("/v1/{*route}", any(crate::a2a::rest))
        .route("/chat", post(crate::chat::chat))
        .route("/runs/{run_id}/events", get(crate::resume::run_events))
        .route("/runs/{run_id}/cancel", post(crate::cancel::cancel_run))
        .route("/ws", get(crate::ws::ws));
    if let Some(path) = &config.ai_sdk_path {
        routes = routes.route(path, post(crate::ui_chat::ui_chat)).route(
            &format!("{path}/{{chat_id}}/stream"),
            get(crate::ui_chat::resume_ui_chat),
        );
    }
    if let Some(path) = &config.ag_ui_path {
        routes = routes.route(path, post(crate::agui::agui));
    }
    if config.metrics && crate::metrics::prometheus().is_some() {
        routes = routes.route("/metrics", get(crate::metrics::render));
    }
    let mut protected = routes.with_state(state);
    if let Some(token) = &config.token {
        let token: Arc<str> = Arc::from(token.as_str());
        protected = protected.route_layer(middleware::from_fn_with_state(
            token,
            crate::auth::require_token,
        ));
    }
    let mut app = Router::new()
        .route("/health", get(health))
        .merge(cards)
        // `GET /` merges with the A2A `POST /` (auth stays on the POST only).
        .merge(crate::playground::routes(config.token.is_some()))
        .merge(protected)
        .fallback(not_found)
        // tower-http's limit rejects a too-long Content-Length before reading
        // and stops a chunked body at the limit; axum's own default (2 MB)
        // would otherwise override a larger configured limit.
        .layer(DefaultBodyLimit::disable())
        .layer(RequestBodyLimitLayer::new(config.body_limit))
        .layer(MapRequestLayer::new(move |request| {
            crate::body_deadline::with_deadline(request, body_read_timeout)
        }))
        .layer(middleware::from_fn(crate::error::json_errors))
        .layer(middleware::from_fn(crate::trace::request));
    if let Some(cors) = cors_layer(&config.cors) {
        // Outermost, so a preflight is answered before auth asks for a token.
        app = app.layer(cors);
    }
    app
}

async fn health() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route")
}

fn cors_layer(cors: &Cors) -> Option<CorsLayer> {
    let origin = match cors {
        Cors::None => return None,
        Cors::Any => AllowOrigin::from(Any),
        Cors::Origins(origins) => AllowOrigin::list(
            origins
                .iter()
                .filter_map(|o| o.parse().ok())
                .collect::<Vec<_>>(),
        ),
    };
    Some(
        CorsLayer::new()
            .allow_origin(origin)
            .allow_methods([Method::GET, Method::POST, Method::DELETE])
            .allow_headers([
                axum::http::header::CONTENT_TYPE,
                axum::http::header::AUTHORIZATION,
                axum::http::header::ACCEPT,
                HeaderName::from_static(LAST_EVENT_ID_HEADER),
                HeaderName::from_static(A2A_VERSION_HEADER),
            ])
            .expose_headers([HeaderName::from_static(RUN_ID_HEADER)])
            .max_age(Duration::from_secs(600)),
    )
}
