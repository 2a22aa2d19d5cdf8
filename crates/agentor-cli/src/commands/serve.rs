//! `agentor serve`: the built-in server until Ctrl-C or SIGTERM.

use std::time::Duration;

use agentor::{Tool, ToolError};
use agentor_redis::{RedisLog, RedisLogConfig};
use agentor_server::{
    ConnectionLimits, Cors, PushSettings, Server, ServerConfig, DEFAULT_AG_UI_PATH,
    DEFAULT_AI_SDK_PATH,
};
use serde_json::json;

use crate::args::{ConnectionArgs, ServeArgs};
use crate::config::{Config, ServeConfig};
use crate::exit::Outcome;
use crate::provider::ProviderChoice;

use crate::logging::note;

/// The port `serve` listens on by default.
const DEFAULT_PORT: u16 = 8000;
/// Every interface, as `agent.serve(port)` does.
const DEFAULT_HOST: &str = "0.0.0.0";

pub(crate) async fn run(args: ServeArgs, config: Config) -> Outcome {
    let file = config.serve;
    let telemetry =
        match crate::logging::init(args.log_format.or(file.log_format).unwrap_or_default()) {
            Ok(telemetry) => telemetry,
            Err(err) => return Outcome::Failed(err),
        };
    // Before the router is built: it installs the Prometheus recorder alone.
    telemetry.install_metrics_recorder();
    let (limits, cors) = connection_settings(args.connections, &file);
    let routes = frontend_routes(ServerConfig::default(), &file);
    let host = args
        .host
        .or(file.host)
        .unwrap_or_else(|| DEFAULT_HOST.into());
    let port = args.port.or(file.port).unwrap_or(DEFAULT_PORT);
    let mut tools = Vec::new();
    if args.demo_tool {
        tools.push(demo_weather_tool());
    }
    // After the demo tool: the offline demo calls the first tool unless the
    // message names another ("please request input" picks this one).
    if args.request_input {
        tools.push(Tool::request_input());
    }
    let agent = ProviderChoice::resolve(args.provider, config.provider)
        .demo_delay(args.demo_delay_ms.map(Duration::from_millis))
        .agent_with_tools(args.name.or(file.name), tools);

    // `AGENTOR_TOKEN` reaches the flag through clap; the file comes last.
    let metrics = !args.no_metrics && file.metrics != Some(false);
    let mut server_config = routes.connection_limits(limits).cors(cors).metrics(metrics);
    if let Some(token) = args.token.or(file.token).filter(|t| !t.is_empty()) {
        server_config = server_config.token(token);
    }
    if let Some(url) = args.public_url.or(file.public_url) {
        server_config = server_config.public_url(url);
    }
    server_config = server_config.trust_proxy(args.trust_proxy || file.trust_proxy == Some(true));
    let push_allow = if args.a2a_push_allow.is_empty() {
        file.a2a_push_allow.unwrap_or_default()
    } else {
        args.a2a_push_allow
    };
    let push = push_allow
        .into_iter()
        .fold(PushSettings::default(), PushSettings::allow);
    server_config = server_config.a2a_push(push);
    if let Some(description) = args.description.or(file.description) {
        server_config = server_config.description(description);
    }
    if let Some(window) = args.resume_window {
        server_config = server_config.resume_window(window);
    }
    if let Some(url) = args.redis.or(file.redis).filter(|u| !u.is_empty()) {
        let mut redis = RedisLogConfig::default();
        if let Some(retention) = args.redis_retention.or(file.redis_retention) {
            redis = redis.retention(retention);
        }
        if let Some(lease) = args.redis_lease.or(file.redis_lease) {
            redis = redis.lease(lease);
        }
        // Unreachable at start: exit 1 with one line, rather than serve
        // runs nobody else can resume.
        match RedisLog::connect(&url, redis).await {
            Ok(log) => server_config = server_config.event_log(log),
            Err(err) => return Outcome::Failed(err.to_string()),
        }
    }
    let name = agent.name().to_owned();
    let derives_card_url = server_config.derives_card_url();
    let frontend_paths = (
        server_config.ai_sdk_route().map(str::to_owned),
        server_config.ag_ui_route().map(str::to_owned),
    );
    let bound = match Server::new(agent)
        .config(server_config)
        .bind((host.as_str(), port))
        .await
    {
        Ok(bound) => bound,
        Err(err) => return Outcome::Failed(format!("cannot listen on {host}:{port}: {err}")),
    };
    let addr = match bound.local_addr() {
        Ok(addr) => addr,
        Err(err) => return Outcome::Failed(format!("cannot read the listening address: {err}")),
    };
    // Every interface is not an address to browse: say which one works here.
    let local = if addr.ip().is_unspecified() {
        format!("; from this machine: http://127.0.0.1:{}", addr.port())
    } else {
        String::new()
    };
    let browse = if addr.ip().is_unspecified() {
        format!("http://127.0.0.1:{}/", addr.port())
    } else {
        format!("http://{addr}/")
    };
    let mut frontends = String::new();
    if let Some(path) = frontend_paths.0.as_deref() {
        frontends.push_str(&format!(", AI SDK at POST {path}"));
    }
    if let Some(path) = frontend_paths.1.as_deref() {
        frontends.push_str(&format!(", AG-UI at POST {path}"));
    }
    let metrics = if metrics { ", GET /metrics" } else { "" };
    note!(
        "agentor: serving {name} on http://{addr} (POST /chat, GET /ws, A2A at POST /{frontends}, \
         GET /health{metrics}){local}; Ctrl-C to stop"
    );
    if derives_card_url && !addr.ip().is_loopback() {
        note!(
            "agentor: warning: no --public-url: the A2A agent card announces the URL each \
             request's Host header names; set --public-url when clients reach this server \
             over a network"
        );
    }
    note!("agentor: playground: open {browse} in a browser");
    let served = bound.serve().await;
    // The spans and metrics of the last runs go out before the process does.
    telemetry.shutdown().await;
    match served {
        Ok(()) => {
            note!("agentor: server stopped");
            Outcome::Success
        }
        Err(err) => Outcome::Failed(format!("the server failed: {err}")),
    }
}

/// The connection limits and CORS origins: flags (and their variables) over
/// the file over the defaults.
fn connection_settings(args: ConnectionArgs, file: &ServeConfig) -> (ConnectionLimits, Cors) {
    let mut limits = ConnectionLimits::default();
    if let Some(n) = args.max_connections.or(file.max_connections) {
        limits = limits.max_connections(usize::try_from(n).unwrap_or(usize::MAX));
    }
    if let Some(t) = args.header_timeout.or(file.header_timeout) {
        limits = limits.header_read_timeout(t);
    }
    if let Some(t) = args.body_timeout.or(file.body_timeout) {
        limits = limits.body_read_timeout(t);
    }
    if let Some(t) = args.write_stall_timeout.or(file.write_stall_timeout) {
        limits = limits.write_stall_timeout(t);
    }
    if let Some(t) = args.shutdown_deadline.or(file.shutdown_deadline) {
        limits = limits.shutdown_deadline(t);
    }
    let origins = if args.cors_origins.is_empty() {
        file.cors_origins.clone().unwrap_or_default()
    } else {
        args.cors_origins
    };
    let origins: Vec<String> = origins
        .into_iter()
        .map(|o| o.trim().to_owned())
        .filter(|o| !o.is_empty())
        .collect();
    let cors = if origins.is_empty() {
        Cors::None
    } else if origins.iter().any(|o| o == "*") {
        Cors::Any
    } else {
        Cors::Origins(origins)
    };
    (limits, cors)
}

/// `--demo-tool`: a weather tool with a canned answer, so the offline demo
/// shows a whole tool round trip (the demo calls the first tool it is
/// offered, then reports its result).
fn demo_weather_tool() -> Tool {
    Tool::new(
        "get_weather",
        "The current weather in a city (a canned offline answer, for demos).",
        json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
        |args: serde_json::Value| async move {
            let city = args["city"].as_str().unwrap_or("somewhere").to_owned();
            Ok::<_, ToolError>(format!("18°C and sunny in {city} (a canned demo answer)"))
        },
    )
}

/// The frontends' routes as `[serve]` says: each on by default at its
/// default path, `ai_sdk = false` / `agui = false` turning one off.
fn frontend_routes(config: ServerConfig, file: &ServeConfig) -> ServerConfig {
    let ai_sdk = file
        .ai_sdk
        .unwrap_or(true)
        .then(|| file.ai_sdk_path.as_deref().unwrap_or(DEFAULT_AI_SDK_PATH));
    let agui = file
        .agui
        .unwrap_or(true)
        .then(|| file.agui_path.as_deref().unwrap_or(DEFAULT_AG_UI_PATH));
    config.ai_sdk_path(ai_sdk).ag_ui_path(agui)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_frontend_routes_are_on_unless_turned_off() {
        let on = frontend_routes(ServerConfig::default(), &ServeConfig::default());
        assert_eq!(on.ai_sdk_route(), Some("/api/chat"));
        assert_eq!(on.ag_ui_route(), Some("/agui"));
        let file = ServeConfig {
            ai_sdk: Some(false),
            agui_path: Some("/ag-ui".into()),
            ..ServeConfig::default()
        };
        let some = frontend_routes(ServerConfig::default(), &file);
        assert_eq!(some.ai_sdk_route(), None);
        assert_eq!(some.ag_ui_route(), Some("/ag-ui"));
    }
}
