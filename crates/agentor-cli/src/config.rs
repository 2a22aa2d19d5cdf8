//! `agentor.toml`: defaults for `chat`, `replay` and `serve`.
//!
//! ```toml
//! [provider]            # chat and serve
//! kind = "openai-chat"  # demo | openai-chat | openai-responses | anthropic
//! model = "gpt-4o-mini"
//! base_url = "http://127.0.0.1:11434/v1"
//! instructions = "You are a helpful assistant."
//! read_timeout = 60     # seconds without a complete event from the model
//!
//! [chat]                # chat, replay and a2a stream
//! format = "text"       # text | native | agentor
//! events = "text_delta,tool_call"
//! rebuffer = "words"    # words | lines | sentences
//! batch_ms = 20
//! timeout = 120         # seconds
//! idle_timeout = 30     # seconds
//!
//! [a2a]                 # a2a card and a2a stream
//! read_timeout = 120    # seconds
//!
//! [serve]
//! host = "127.0.0.1"
//! port = 8000
//! public_url = "https://agents.example.com"
//! name = "Assistant"
//! description = "Answers questions."
//! trust_proxy = false      # X-Forwarded-Host/-Proto for the card's URL
//! cors_origins = ["https://app.example.com"]  # or ["*"]
//! max_connections = 2000
//! header_timeout = 10       # seconds; also the idle keep-alive timeout
//! body_timeout = 30         # seconds
//! write_stall_timeout = 30  # seconds
//! shutdown_deadline = 10    # seconds
//! redis = "redis://127.0.0.1:6379/0"   # scale-out: see docs/scale-out.md
//! redis_retention = 300                # seconds
//! redis_lease = 5                      # seconds
//! a2a_push_allow = ["127.0.0.1"]       # webhooks the SSRF policy refuses otherwise
//! ai_sdk = true               # POST /api/chat for the AI SDK's useChat
//! ai_sdk_path = "/api/chat"
//! agui = true                 # POST /agui for AG-UI clients
//! agui_path = "/agui"
//! metrics = true
//! log_format = "json"
//! ```
//!
//! Flags override the environment (`AGENTOR_*`, read by clap), which
//! overrides the file. Unknown keys are errors, so a typo never passes
//! silently; values are checked as strictly as the flags'.

use std::path::{Path, PathBuf};

use std::time::Duration;

use agentor_core::{Boundary, KindSet, PipelineOptions};
use serde::{Deserialize, Deserializer};

use crate::args::{self, OutputFormat, ProviderKind};

/// The file read when `--config` is not given, if it exists.
pub const DEFAULT_FILE: &str = "agentor.toml";

/// The whole file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `[provider]`.
    #[serde(default)]
    pub provider: ProviderConfig,
    /// `[chat]`.
    #[serde(default)]
    pub chat: ChatConfig,
    /// `[serve]`.
    #[serde(default)]
    pub serve: ServeConfig,
    /// `[a2a]`.
    #[serde(default)]
    pub a2a: A2aConfig,
}

/// `[a2a]`: how `a2a card` and `a2a stream` reach a remote agent.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct A2aConfig {
    /// `--read-timeout`, in seconds.
    #[serde(default, deserialize_with = "duration")]
    pub read_timeout: Option<Duration>,
}

/// `[provider]`: which model answers `chat` and `serve`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// `--provider`.
    pub kind: Option<ProviderKind>,
    /// `--model`.
    pub model: Option<String>,
    /// `--base-url`.
    pub base_url: Option<String>,
    /// `--instructions`.
    pub instructions: Option<String>,
    /// `--provider-read-timeout`, in seconds.
    #[serde(default, deserialize_with = "duration")]
    pub read_timeout: Option<Duration>,
}

/// `[chat]`: output and pipeline defaults of `chat` and `replay`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatConfig {
    /// `--format`.
    pub format: Option<OutputFormat>,
    /// `--events`.
    #[serde(default, deserialize_with = "kinds")]
    pub events: Option<KindSet>,
    /// `--rebuffer`.
    #[serde(default, deserialize_with = "rebuffer")]
    pub rebuffer: Option<Boundary>,
    /// `--batch-ms`.
    #[serde(default, deserialize_with = "batch_ms")]
    pub batch_ms: Option<Duration>,
    /// `--timeout`, in seconds.
    #[serde(default, deserialize_with = "duration")]
    pub timeout: Option<Duration>,
    /// `--idle-timeout`, in seconds.
    #[serde(default, deserialize_with = "duration")]
    pub idle_timeout: Option<Duration>,
}

impl ChatConfig {
    /// The pipeline defaults of the file (`None` where not set).
    pub fn pipeline(&self) -> PipelineOptions {
        PipelineOptions {
            events: self.events,
            rebuffer: self.rebuffer.clone(),
            batch: self.batch_ms,
            timeout: self.timeout,
            idle_timeout: self.idle_timeout,
        }
    }
}

/// `[serve]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServeConfig {
    /// `--host`.
    pub host: Option<String>,
    /// `--port`.
    pub port: Option<u16>,
    /// `--token` (prefer `AGENTOR_TOKEN` over a token in a file).
    pub token: Option<String>,
    /// `--public-url`.
    #[serde(default, deserialize_with = "public_url")]
    pub public_url: Option<String>,
    /// `--name`.
    pub name: Option<String>,
    /// `--description`.
    pub description: Option<String>,
    /// `--trust-proxy`.
    pub trust_proxy: Option<bool>,
    /// `--cors-origin`, each origin (`"*"`: any).
    #[serde(default, deserialize_with = "cors_origins")]
    pub cors_origins: Option<Vec<String>>,
    /// `--max-connections`.
    pub max_connections: Option<u64>,
    /// `--header-timeout`, in seconds.
    #[serde(default, deserialize_with = "duration")]
    pub header_timeout: Option<Duration>,
    /// `--body-timeout`, in seconds.
    #[serde(default, deserialize_with = "duration")]
    pub body_timeout: Option<Duration>,
    /// `--write-stall-timeout`, in seconds.
    #[serde(default, deserialize_with = "duration")]
    pub write_stall_timeout: Option<Duration>,
    /// `--shutdown-deadline`, in seconds.
    #[serde(default, deserialize_with = "duration")]
    pub shutdown_deadline: Option<Duration>,
    /// `--redis`.
    pub redis: Option<String>,
    /// `--redis-retention`, in seconds.
    #[serde(default, deserialize_with = "duration")]
    pub redis_retention: Option<Duration>,
    /// `--redis-lease`, in seconds.
    #[serde(default, deserialize_with = "duration")]
    pub redis_lease: Option<Duration>,
    /// `--a2a-push-allow`, each range.
    #[serde(default, deserialize_with = "address_ranges")]
    pub a2a_push_allow: Option<Vec<agentor_server::AddressRange>>,
    /// Whether the AI SDK route (`POST /api/chat`) is on (default true).
    pub ai_sdk: Option<bool>,
    /// Where the AI SDK route is (default `/api/chat`).
    #[serde(default, deserialize_with = "route_path")]
    pub ai_sdk_path: Option<String>,
    /// Whether the AG-UI route (`POST /agui`) is on (default true).
    pub agui: Option<bool>,
    /// Where the AG-UI route is (default `/agui`).
    #[serde(default, deserialize_with = "route_path")]
    pub agui_path: Option<String>,
    /// Whether `GET /metrics` is served (default true); `--no-metrics`.
    pub metrics: Option<bool>,
    /// `--log-format`: `text` or `json`.
    pub log_format: Option<crate::logging::LogFormat>,
}

impl Config {
    /// Reads `explicit`, or `agentor.toml` in the current directory when it
    /// exists, or returns the empty configuration. A missing explicit file,
    /// an unreadable or malformed one is an error naming the file and, from
    /// the TOML parser, the line and the field.
    pub fn load(explicit: Option<&Path>) -> Result<Config, String> {
        let path = match explicit {
            Some(path) => path.to_path_buf(),
            None => {
                let path = PathBuf::from(DEFAULT_FILE);
                if !path.exists() {
                    return Ok(Config::default());
                }
                path
            }
        };
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read config file {}: {e}", path.display()))?;
        Config::parse(&text).map_err(|e| format!("config file {}: {e}", path.display()))
    }

    /// Parses the text of a configuration file.
    pub fn parse(text: &str) -> Result<Config, String> {
        toml::from_str(text).map_err(|e: toml::de::Error| {
            // toml's own rendering spans lines (a caret under the source);
            // one line says where and what.
            let at = e
                .span()
                .map(|span| {
                    let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
                    format!("line {line}: ")
                })
                .unwrap_or_default();
            format!("{at}{}", e.message().trim())
        })
    }
}

fn kinds<'de, D: Deserializer<'de>>(d: D) -> Result<Option<KindSet>, D::Error> {
    let list = String::deserialize(d)?;
    args::parse_kinds(&list)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    let secs = f64::deserialize(d)?;
    args::parse_duration(&secs.to_string())
        .map(Some)
        .map_err(serde::de::Error::custom)
}

fn cors_origins<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    let origins = Vec::<String>::deserialize(d)?;
    origins
        .iter()
        .map(|o| args::parse_cors_origin(o))
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
        .map_err(serde::de::Error::custom)
}

fn address_ranges<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Vec<agentor_server::AddressRange>>, D::Error> {
    let ranges = Vec::<String>::deserialize(d)?;
    ranges
        .iter()
        .map(|range| args::parse_address_range(range))
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
        .map_err(serde::de::Error::custom)
}

fn rebuffer<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Boundary>, D::Error> {
    let name = String::deserialize(d)?;
    PipelineOptions::parse_rebuffer(&name)
        .map(Some)
        .map_err(|e| serde::de::Error::custom(e.reason()))
}

fn public_url<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let url = String::deserialize(d)?;
    args::parse_public_url(&url)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

/// A route path: starts with `/`, and holds no `{`, `}` or `*` (which
/// axum would read as parameters).
fn route_path<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let path = String::deserialize(d)?;
    if !path.starts_with('/')
        || path.trim_matches('/').is_empty()
        || path.contains(['{', '}', '*', ' '])
    {
        return Err(serde::de::Error::custom(format!(
            "`{path}` is not a route path (expected one like `/api/chat`: a leading `/`, no spaces, `{{`, `}}` or `*`)"
        )));
    }
    Ok(Some(path))
}

fn batch_ms<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    let ms = u64::deserialize(d)?;
    PipelineOptions::parse_batch_ms(&ms.to_string())
        .map(Some)
        .map_err(|e| serde::de::Error::custom(e.reason()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use agentor_core::Kind;

    #[test]
    fn a_full_file_parses() {
        let config = Config::parse(
            r#"
            [provider]
            kind = "openai-responses"
            model = "m"

            [chat]
            format = "native"
            events = "raw_response_event"
            rebuffer = "sentences"
            batch_ms = 20
            timeout = 1.5
            idle_timeout = 3

            [serve]
            port = 9000
            "#,
        )
        .unwrap();
        assert_eq!(config.provider.kind, Some(ProviderKind::OpenaiResponses));
        assert_eq!(config.chat.format, Some(OutputFormat::Native));
        assert!(config.chat.events.unwrap().contains(Kind::ReasoningDelta));
        assert!(matches!(config.chat.rebuffer, Some(Boundary::Sentences)));
        assert_eq!(config.chat.batch_ms, Some(Duration::from_millis(20)));
        assert_eq!(
            (config.chat.timeout, config.chat.idle_timeout),
            (
                Some(Duration::from_millis(1500)),
                Some(Duration::from_secs(3))
            )
        );
        assert_eq!(config.serve.port, Some(9000));
        assert!(Config::parse("").is_ok());
    }

    #[test]
    fn mistakes_name_their_line_and_field() {
        let typo = Config::parse("[chat]\nformat = \"text\"\nrebufer = \"words\"\n").unwrap_err();
        assert!(typo.starts_with("line 3:"), "{typo}");
        assert!(typo.contains("rebufer"), "{typo}");
        let bad = Config::parse("[chat]\n\nevents = \"text\"\n").unwrap_err();
        assert!(
            bad.starts_with("line 3:") && bad.contains("unknown Kind `text`"),
            "{bad}"
        );
        let range = Config::parse("[serve]\nport = 70000\n").unwrap_err();
        assert!(range.starts_with("line 2:"), "{range}");
        assert!(Config::parse("[chat]\ntimeout = -1\n").is_err());
        let batch = Config::parse("[chat]\nbatch_ms = 0\n").unwrap_err();
        assert!(
            batch.contains("expected 1 to 10000 milliseconds"),
            "{batch}"
        );
        let rebuffer = Config::parse("[chat]\nrebuffer = \"pages\"\n").unwrap_err();
        assert!(
            rebuffer.contains("expected words, lines or sentences"),
            "{rebuffer}"
        );
        let a2a = Config::parse("[a2a]\nread_timeout = 2.5\n").unwrap();
        assert_eq!(a2a.a2a.read_timeout, Some(Duration::from_millis(2500)));
        assert!(Config::parse("[a2a]\nread_timeout = 0\n").is_err());
        assert!(Config::parse("[a2a]\nread_timout = 3\n").is_err());
        assert!(Config::parse("[provider]\nkind = \"gpt\"\n").is_err());
        assert!(Config::parse("[nonsense]\n").is_err());
        let url = Config::parse("[serve]\npublic_url = \"example.com\"\n").unwrap_err();
        assert!(url.starts_with("line 2:"), "{url}");
        assert!(Config::parse("[serve]\npublic_url = \"https://example.com/a2a\"\n").is_ok());
        let push =
            Config::parse("[serve]\na2a_push_allow = [\"127.0.0.1\", \"10.0.0.0/8\"]\n").unwrap();
        assert_eq!(push.serve.a2a_push_allow.unwrap().len(), 2);
        assert!(Config::parse("[serve]\na2a_push_allow = [\"example.com\"]\n").is_err());
        let path = Config::parse("[serve]\nai_sdk_path = \"api/{x}\"\n").unwrap_err();
        assert!(
            path.starts_with("line 2:") && path.contains("not a route path"),
            "{path}"
        );
        assert!(Config::parse("[serve]\nagui_path = \"/\"\n").is_err());
        assert!(Config::parse("[serve]\nagui = \"yes\"\n").is_err());
        let frontends = Config::parse("[serve]\nai_sdk = false\nagui_path = \"/ag-ui\"\n").unwrap();
        assert_eq!(frontends.serve.ai_sdk, Some(false));
        assert_eq!(frontends.serve.agui_path.as_deref(), Some("/ag-ui"));
        let observability =
            Config::parse("[serve]\nmetrics = false\nlog_format = \"json\"\n").unwrap();
        assert_eq!(observability.serve.metrics, Some(false));
        assert_eq!(
            observability.serve.log_format,
            Some(crate::logging::LogFormat::Json)
        );
        assert!(Config::parse("[serve]\nlog_format = \"xml\"\n").is_err());
    }

    #[test]
    fn a_missing_explicit_file_is_an_error() {
        let err = Config::load(Some(Path::new("/nonexistent/agentor.toml"))).unwrap_err();
        assert!(err.contains("cannot read config file"), "{err}");
    }
}
