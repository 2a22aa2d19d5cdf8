//! The `agentor` command line: stream an agent run in a terminal, serve an
//! agent over HTTP, talk to any A2A agent, replay a recording, measure the
//! stream layers.
//!
//! ```text
//! agentor chat "Explain quantum computing"          # text as it arrives
//! agentor chat --json --record run.jsonl "Hi"       # native JSON lines, recorded
//! agentor replay --speed 1 --rebuffer words run.jsonl
//! agentor serve --port 8000
//! agentor a2a stream http://127.0.0.1:8000 "What's the weather in Paris?"
//! agentor bench --events 100000
//! ```
//!
//! `docs/cli.md` documents every subcommand, flag, configuration key,
//! environment variable and exit code. This library holds the command line's
//! pieces so they can be tested; [`run`] is what the binary calls. The
//! benchmark workload `agentor bench` measures is the `agentor-workload`
//! crate, shared with the criterion benches.

pub mod args;
pub mod config;
pub mod exit;
pub mod logging;

mod commands;
mod interrupt;
#[cfg(feature = "otlp")]
mod otel_recorder;
#[cfg(feature = "otlp")]
mod otlp;
mod pipeline;
mod provider;
mod render;
mod status;

use std::process::ExitCode;

use args::{A2aCommand, Cli, Command};
use config::Config;
use exit::Outcome;

/// Runs the parsed command line to its end; writes the one-line cause of a
/// failure to stderr and returns the exit code (see [`exit`]).
pub fn run(cli: Cli) -> ExitCode {
    outcome(cli).report()
}

fn outcome(mut cli: Cli) -> Outcome {
    if let Some(output) = cli.command.output_mut() {
        let env = std::env::var("AGENTOR_FORMAT").ok();
        if let Err(message) = output.with_env_format(env.as_deref()) {
            return Outcome::Usage(message);
        }
    }
    let config = match Config::load(cli.config.as_deref()) {
        Ok(config) => config,
        Err(message) => return Outcome::Usage(message),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => return Outcome::Failed(format!("cannot start the runtime: {err}")),
    };
    let outcome = runtime.block_on(async move {
        // The server shuts down gracefully on Ctrl-C by itself (exit 0).
        let listens = !matches!(cli.command, Command::Serve(_));
        let command = command(cli.command, config);
        let outcome = if listens {
            tokio::select! {
                biased;
                () = interrupt::outside_a_run() => Outcome::Aborted,
                outcome = command => outcome,
            }
        } else {
            command.await
        };
        // Stopped before any run began: nothing was cut short.
        let cut_short = !matches!(outcome, Outcome::Success | Outcome::Aborted);
        if cut_short || interrupt::reader_went_away() {
            // A run cut short may have left work behind: let it finish.
            interrupt::settle().await;
        }
        outcome
    });
    // A blocked read of stdin (replay -) must not hold the exit.
    runtime.shutdown_background();
    outcome
}

async fn command(command: Command, config: Config) -> Outcome {
    match command {
        Command::Chat(args) => commands::chat::run(args, config).await,
        Command::Replay(args) => commands::replay::run(args, config).await,
        Command::Serve(args) => commands::serve::run(*args, config).await,
        Command::A2a(A2aCommand::Card(args)) => commands::a2a::card(args, config).await,
        Command::A2a(A2aCommand::Stream(args)) => commands::a2a::stream(args, config).await,
        Command::Bench(args) => commands::bench::run(args).await,
        Command::Tail(args) => commands::tail::run(args, config).await,
    }
}
