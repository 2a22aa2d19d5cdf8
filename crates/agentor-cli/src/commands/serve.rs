//! `agentor serve`: the built-in server until Ctrl-C or SIGTERM.

use agentor_server::{Server, ServerConfig, DEFAULT_AG_UI_PATH, DEFAULT_AI_SDK_PATH};

use crate::args::ServeArgs;
use crate::config::{Config, ServeConfig};
use crate::exit::Outcome;
use crate::provider::ProviderChoice;

/// The port `serve` listens on by default.
const DEFAULT_PORT: u16 = 8000;
/// Every interface, as `agent.serve(port)` does.
const DEFAULT_HOST: &str = "0.0.0.0";

pub(crate) async fn run(args: ServeArgs, config: Config) -> Outcome {
    let file = config.serve;
    let routes = frontend_routes(ServerConfig::default(), &file);
    let host = args
        .host
        .or(file.host)
        .unwrap_or_else(|| DEFAULT_HOST.into());
    let port = args.port.or(file.port).unwrap_or(DEFAULT_PORT);
    let agent =
        ProviderChoice::resolve(args.provider, config.provider).agent(args.name.or(file.name));

    // `AGENTOR_TOKEN` reaches the flag through clap; the file comes last.
    let mut server_config = routes;
    if let Some(token) = args.token.or(file.token).filter(|t| !t.is_empty()) {
        server_config = server_config.token(token);
    }
    if let Some(url) = args.public_url.or(file.public_url) {
        server_config = server_config.public_url(url);
    }
    if let Some(description) = args.description.or(file.description) {
        server_config = server_config.description(description);
    }
    let name = agent.name().to_owned();
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
    let mut frontends = String::new();
    if let Some(path) = frontend_paths.0.as_deref() {
        frontends.push_str(&format!(", AI SDK at POST {path}"));
    }
    if let Some(path) = frontend_paths.1.as_deref() {
        frontends.push_str(&format!(", AG-UI at POST {path}"));
    }
    eprintln!(
        "agentor: serving {name} on http://{addr} (POST /chat, GET /ws, A2A at POST /{frontends}, \
         GET /health){local}; Ctrl-C to stop"
    );
    match bound.serve().await {
        Ok(()) => {
            eprintln!("agentor: server stopped");
            Outcome::Success
        }
        Err(err) => Outcome::Failed(format!("the server failed: {err}")),
    }
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
