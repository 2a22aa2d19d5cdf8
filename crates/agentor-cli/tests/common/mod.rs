//! Shared helpers of the CLI tests: the `agentor` binary as a separate
//! process, in a directory of the test's, with none of the caller's
//! settings.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStderr, Command, Stdio};

/// `agentor` run in `dir`, without the caller's `OPENAI_*`, `AGENTOR_*`
/// and `OTEL_*` variables (a developer's key or collector must not leak in).
pub fn agentor(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_agentor"));
    command.current_dir(dir);
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy().into_owned();
        if name.starts_with("OPENAI_") || name.starts_with("AGENTOR_") || name.starts_with("OTEL_")
        {
            command.env_remove(name);
        }
    }
    command
}

/// A spawned `agentor serve`: the process, its stderr past the first line
/// (kept open, so the server's later lines go somewhere), the URL that line
/// names, and the line.
pub struct Spawned {
    pub child: Child,
    pub stderr: BufReader<ChildStderr>,
    pub url: String,
    pub first_line: String,
}

/// Spawns `command` (an `agentor serve …`, stdin and stdout closed) and
/// reads the first line of its stderr, which names the URL it serves.
pub fn spawn_serving(command: &mut Command) -> Spawned {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut first_line = String::new();
    stderr.read_line(&mut first_line).unwrap();
    let url = first_line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {first_line:?}"))
        .to_owned();
    Spawned {
        child,
        stderr,
        url,
        first_line,
    }
}
