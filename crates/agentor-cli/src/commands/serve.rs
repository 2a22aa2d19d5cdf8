//! `agentor serve`: the built-in server until Ctrl-C or SIGTERM.

use agentor_redis::{RedisLog, RedisLogConfig};
use agentor_server::{Server, ServerConfig};

use crate::args::ServeArgs;
use crate::config::Config;
use crate::exit::Outcome;
use crate::provider::ProviderChoice;

/// The port `serve` listens on by default.
const DEFAULT_PORT: u16 = 8000;
/// Every interface, as `agent.serve(port)` does.
const DEFAULT_HOST: &str = "0.0.0.0";

pub(crate) async fn run(args: ServeArgs, config: Config) -> Outcome {
    let file = config.serve;
    let host = args
        .host
        .or(file.host)
        .unwrap_or_else(|| DEFAULT_HOST.into());
    let port = args.port.or(file.port).unwrap_or(DEFAULT_PORT);
    let agent =
        ProviderChoice::resolve(args.provider, config.provider).agent(args.name.or(file.name));

    // `AGENTOR_TOKEN` reaches the flag through clap; the file comes last.
    let mut server_config = ServerConfig::default();
    if let Some(token) = args.token.or(file.token).filter(|t| !t.is_empty()) {
        server_config = server_config.token(token);
    }
    if let Some(url) = args.public_url.or(file.public_url) {
        server_config = server_config.public_url(url);
    }
    if let Some(description) = args.description.or(file.description) {
        server_config = server_config.description(description);
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
    eprintln!(
        "agentor: serving {name} on http://{addr} (POST /chat, GET /ws, A2A at POST /, \
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
