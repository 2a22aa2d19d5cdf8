//! `agentor serve`'s logging: `tracing-subscriber` to stderr, filtered by
//! `RUST_LOG` (default `info`), as text or JSON lines (`--log-format`).
//!
//! Writes to a closed stderr are dropped, never a panic: a server whose log
//! pipe went away keeps serving.

use std::sync::OnceLock;

use clap::ValueEnum;
use serde::Deserialize;
use tracing_subscriber::EnvFilter;

/// How `serve` writes its log.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Plain lines, for a terminal.
    #[default]
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

static FORMAT: OnceLock<LogFormat> = OnceLock::new();

/// Installs the subscriber (once per process; a later call changes nothing).
pub(crate) fn init(format: LogFormat) {
    if FORMAT.set(format).is_err() {
        return;
    }
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .log_internal_errors(false);
    let _ = match format {
        LogFormat::Text => builder.with_ansi(false).try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// Whether status lines go out as JSON log events.
pub(crate) fn json() -> bool {
    FORMAT.get() == Some(&LogFormat::Json)
}

/// A status line: plain on stderr (as before the subscriber existed), or a
/// JSON log event with `--log-format json`. Never panics on a closed stderr.
macro_rules! note {
    ($($arg:tt)*) => {{
        if $crate::logging::json() {
            tracing::info!(target: "agentor", "{}", format_args!($($arg)*));
        } else {
            use std::io::Write as _;
            let _ = writeln!(std::io::stderr(), $($arg)*);
        }
    }};
}
pub(crate) use note;
