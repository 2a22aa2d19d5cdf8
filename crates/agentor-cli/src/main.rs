//! The `agentor` binary; see the `agentor_cli` library and `docs/cli.md`.

use std::process::ExitCode;

fn main() -> ExitCode {
    // clap prints its own message and exits with 2 on bad usage (0 for --help).
    let cli = agentor_cli::args::Cli::parse_args();
    agentor_cli::run(cli)
}
