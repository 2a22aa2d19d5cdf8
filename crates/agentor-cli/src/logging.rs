//! `agentor serve`'s logging: `tracing-subscriber` to stderr, filtered by
//! `RUST_LOG` (default `info`), as text or JSON lines (`--log-format`).
//!
//! Writes to a closed stderr are dropped, never a panic: a server whose log
//! pipe went away keeps serving. Built with the `otlp` feature, the same
//! subscriber also exports spans over OTLP when the environment names a
//! collector, and `Telemetry` holds the metrics exporter beside it (see
//! `otlp.rs` and docs/observability.md).

use std::sync::OnceLock;

use clap::ValueEnum;
use serde::Deserialize;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

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

/// What the subscriber exports besides the log; [`Telemetry::shutdown`]
/// flushes it when the server stops.
#[derive(Debug, Default)]
pub(crate) struct Telemetry {
    #[cfg(feature = "otlp")]
    otlp: Option<crate::otlp::Otlp>,
}

impl Telemetry {
    /// Installs the server's Prometheus recorder together with the OTLP
    /// metrics exporter, when the environment asks for metrics over OTLP;
    /// call it before the server builds its router. A process that has a
    /// recorder already keeps it (with a warning): nothing is exported.
    pub(crate) fn install_metrics_recorder(&self) {
        #[cfg(feature = "otlp")]
        if let Some(recorder) = self
            .otlp
            .as_ref()
            .and_then(crate::otlp::Otlp::metrics_recorder)
        {
            if let Err(err) = agentor_server::install_metrics_recorder(recorder) {
                note!("agentor: warning: OTLP: metrics are not exported: {err}");
            }
        }
    }

    /// Flushes and stops the exporters (a bounded wait); a failure is
    /// reported, never fatal.
    pub(crate) async fn shutdown(self) {
        #[cfg(feature = "otlp")]
        if let Some(otlp) = self.otlp {
            if let Err(err) = otlp.shutdown().await {
                note!("agentor: warning: {err}");
            }
        }
    }
}

/// Installs the subscriber (once per process; a later call changes nothing
/// and exports nothing). Fails only on an OTLP configuration that cannot
/// work, before anything is installed.
pub(crate) fn init(format: LogFormat) -> Result<Telemetry, String> {
    if FORMAT.get().is_some() {
        return Ok(Telemetry::default());
    }
    #[cfg(feature = "otlp")]
    let otlp = crate::otlp::Otlp::from_env()?;
    if FORMAT.set(format).is_err() {
        return Ok(Telemetry::default());
    }
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let log = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .log_internal_errors(false);
    let log = match format {
        LogFormat::Text => log.with_ansi(false).boxed(),
        LogFormat::Json => log.json().boxed(),
    };
    let registry = tracing_subscriber::registry().with(log.with_filter(filter));
    #[cfg(feature = "otlp")]
    let registry = registry.with(otlp.as_ref().and_then(crate::otlp::Otlp::layer));
    let _ = registry.try_init();
    Ok(Telemetry {
        #[cfg(feature = "otlp")]
        otlp,
    })
}

/// Whether status lines go out as JSON log events.
pub(crate) fn json() -> bool {
    FORMAT.get() == Some(&LogFormat::Json)
}
