//! `agentor a2a card <url>` and `agentor a2a stream <url> "<text>"`: any A2A
//! agent (protocol 0.3 or 1.0) from the terminal, through
//! [`agentor_a2a::client::A2aClient`].

use std::io::Write;

use agentor_a2a::client::A2aClient;
use agentor_a2a::{Binding, Dialect};

use crate::args::{A2aCardArgs, A2aStreamArgs, BindingArg, DialectArg, RemoteArgs};
use crate::config::Config;
use crate::exit::Outcome;
use crate::interrupt::{stop, Interruptible};
use crate::render;

/// Fetches the card and picks the binding, endpoint and dialect. The read timeout
/// is the flag's, else the config file's, else the client's default.
async fn connect(remote: RemoteArgs, config: &Config) -> Result<A2aClient, Outcome> {
    let mut builder = A2aClient::builder();
    if let Some(timeout) = remote.read_timeout.or(config.a2a.read_timeout) {
        builder = builder.read_timeout(timeout);
    }
    if let Some(token) = remote.token.filter(|t| !t.is_empty()) {
        builder = builder.bearer_token(token);
    }
    if let Some(dialect) = remote.dialect {
        builder = builder.dialect(match dialect {
            DialectArg::V0_3 => Dialect::V0_3,
            DialectArg::V1_0 => Dialect::V1_0,
        });
    }
    if let Some(binding) = remote.binding {
        builder = builder.binding(match binding {
            BindingArg::JsonRpc => Binding::JsonRpc,
            BindingArg::Rest => Binding::Rest,
        });
    }
    // The client's errors name the URL they could not use.
    builder
        .connect(&remote.url)
        .await
        .map_err(|err| Outcome::Failed(err.to_string()))
}

/// Prints the card's JSON (pretty) on stdout; which endpoint and dialect
/// the client would use go to stderr.
pub(crate) async fn card(args: A2aCardArgs, config: Config) -> Outcome {
    let client = match connect(args.remote, &config).await {
        Ok(client) => client,
        Err(outcome) => return outcome,
    };
    let card = client.card();
    eprintln!(
        "agentor: {} speaks A2A {} over {} at {}",
        card.name(),
        card.dialect().version(),
        card.binding().name(),
        card.endpoint()
    );
    let json = match serde_json::to_string_pretty(card.json()) {
        Ok(json) => json,
        Err(err) => return Outcome::Failed(format!("cannot print the card: {err}")),
    };
    Outcome::of_output(writeln!(std::io::stdout().lock(), "{json}"))
}

/// Streams the remote task through the layers and output of `chat`.
pub(crate) async fn stream(args: A2aStreamArgs, config: Config) -> Outcome {
    let client = match connect(args.remote, &config).await {
        Ok(client) => client,
        Err(outcome) => return outcome,
    };
    let run = Interruptible::new(client.stream(args.text), stop());
    render::show(Box::pin(run), args.show, &config.chat).await
}
