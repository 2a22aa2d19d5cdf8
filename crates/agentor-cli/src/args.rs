//! The command line's shape: clap types for every subcommand and flag.
//!
//! Value flags that have a configuration-file default are `Option`s: `None`
//! means "not given", so [`crate::config`] can fill it in. Each also reads an
//! `AGENTOR_*` environment variable (clap's `env`), which therefore sits
//! between the flag and the file: flag > environment > `agentor.toml` > default.

use std::path::PathBuf;
use std::time::Duration;

use agentor_core::{Boundary, KindSet, PipelineOptions};
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use serde::Deserialize;

use crate::exit::EXIT_CODES_HELP;

/// Stream AI-agent runs from a terminal: chat with an agent, serve one over
/// HTTP, talk to any A2A agent, replay a recording, measure the stream layers.
#[derive(Debug, Parser)]
#[command(name = "agentor", version, after_help = EXIT_CODES_HELP)]
pub struct Cli {
    /// The configuration file (default: `agentor.toml` in the current
    /// directory, when there is one).
    #[arg(long, global = true, value_name = "PATH", env = "AGENTOR_CONFIG")]
    pub config: Option<PathBuf>,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// Parses the process's arguments, exiting as clap does on bad usage (2)
    /// or `--help` (0). An `AGENTOR_*` variable set to the empty string
    /// counts as unset (`export AGENTOR_EVENTS=` is how a shell clears it),
    /// where clap would take `""` as the flag's value.
    pub fn parse_args() -> Cli {
        let matches = without_empty_env(Cli::command()).get_matches();
        Cli::from_arg_matches(&matches).unwrap_or_else(|err| err.exit())
    }
}

/// `command` with the environment variables that are set but empty
/// forgotten, in every subcommand.
fn without_empty_env(command: clap::Command) -> clap::Command {
    command
        .mut_args(|arg| {
            let empty = arg
                .get_env()
                .and_then(std::env::var_os)
                .is_some_and(|value| value.is_empty());
            if empty {
                arg.env(None::<&str>)
            } else {
                arg
            }
        })
        .mut_subcommands(without_empty_env)
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Streams one agent run on a prompt to stdout.
    #[command(after_help = EXIT_CODES_HELP)]
    Chat(ChatArgs),
    /// Serves an agent over HTTP (SSE, NDJSON, WebSocket, A2A) until Ctrl-C or SIGTERM.
    #[command(after_help = EXIT_CODES_HELP)]
    Serve(Box<ServeArgs>),
    /// Plays a recording (from `chat --record`) through the same layers and output.
    #[command(after_help = EXIT_CODES_HELP)]
    Replay(ReplayArgs),
    /// Talks to a remote A2A agent (protocol 0.3 or 1.0): its card, or a streamed message.
    #[command(subcommand, after_help = EXIT_CODES_HELP)]
    A2a(A2aCommand),
    /// Measures each stream layer and the full pipeline against a hand-written loop.
    #[command(after_help = EXIT_CODES_HELP)]
    Bench(BenchArgs),
    /// Prints a run from the shared Redis log (`serve --redis`), from its
    /// start or an id, then live to its end, with the output of `chat`.
    #[command(after_help = EXIT_CODES_HELP)]
    Tail(TailArgs),
}

/// `agentor tail`.
#[derive(Debug, Args)]
pub struct TailArgs {
    /// The Redis the servers log to (as `serve --redis`).
    #[arg(
        long,
        value_name = "URL",
        env = "AGENTOR_REDIS_URL",
        hide_env_values = true
    )]
    pub redis: String,

    /// The run to print (its `X-Run-Id`).
    #[arg(
        long,
        value_name = "ID",
        required_unless_present = "all",
        conflicts_with = "all"
    )]
    pub run: Option<String>,

    /// Prints every run that starts from now on, on any instance, merged
    /// as they come (best with --json: each event names its run), until Ctrl-C.
    #[arg(long)]
    pub all: bool,

    /// Starts after this event id (as `Last-Event-ID`) [default: from the start].
    #[arg(long, value_name = "ID", conflicts_with = "all")]
    pub after: Option<u64>,

    #[command(flatten)]
    #[allow(missing_docs)]
    pub show: ShowArgs,
}

/// `agentor a2a …`.
#[derive(Debug, Subcommand)]
pub enum A2aCommand {
    /// Prints the agent card (its JSON, as the agent serves it) to stdout.
    #[command(after_help = EXIT_CODES_HELP)]
    Card(A2aCardArgs),
    /// Sends a message and streams the remote task as it runs: text as it
    /// arrives, then the final state.
    #[command(after_help = EXIT_CODES_HELP)]
    Stream(A2aStreamArgs),
}

/// Which A2A protocol version to speak.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DialectArg {
    /// Protocol 0.3 (`message/stream`).
    #[value(name = "0.3")]
    V0_3,
    /// Protocol 1.0 (`SendStreamingMessage`).
    #[value(name = "1.0")]
    V1_0,
}

/// Which A2A binding to speak.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BindingArg {
    /// JSON-RPC (either protocol version).
    #[value(name = "jsonrpc")]
    JsonRpc,
    /// HTTP+JSON (protocol 1.0 only).
    #[value(name = "rest")]
    Rest,
}

/// Where a remote A2A agent is and how to reach it.
#[derive(Debug, Args)]
pub struct RemoteArgs {
    /// The agent's base URL (its card is at `/.well-known/agent-card.json`)
    /// or the card's own URL.
    pub url: String,

    /// Sends `Authorization: Bearer <TOKEN>` with every request.
    #[arg(long, env = "AGENTOR_A2A_TOKEN", hide_env_values = true)]
    pub token: Option<String>,

    /// Speaks this protocol version [default: the card's choice, 1.0 when it offers both].
    #[arg(long, value_enum)]
    pub dialect: Option<DialectArg>,

    /// Speaks this binding [default: the card's choice, HTTP+JSON when its
    /// first usable interface is HTTP+JSON, else JSON-RPC].
    #[arg(long, value_enum)]
    pub binding: Option<BindingArg>,

    /// Fails the run when the agent is silent this many seconds, waiting for
    /// an answer or between two chunks of its stream [default: 120].
    #[arg(long, value_name = "SECS", value_parser = parse_duration, env = "AGENTOR_A2A_READ_TIMEOUT")]
    pub read_timeout: Option<Duration>,
}

/// `agentor a2a card`.
#[derive(Debug, Args)]
pub struct A2aCardArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub remote: RemoteArgs,
}

/// `agentor a2a stream`.
#[derive(Debug, Args)]
pub struct A2aStreamArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub remote: RemoteArgs,

    /// The message to send.
    pub text: String,

    #[command(flatten)]
    #[allow(missing_docs)]
    pub show: ShowArgs,
}

/// `agentor chat`.
#[derive(Debug, Args)]
pub struct ChatArgs {
    /// The user message.
    pub prompt: String,

    /// Writes the run, as the provider produced it, to this file as native
    /// JSON lines with timings: what `agentor replay` plays.
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,

    #[command(flatten)]
    #[allow(missing_docs)]
    pub provider: ProviderArgs,

    #[command(flatten)]
    #[allow(missing_docs)]
    pub show: ShowArgs,
}

/// `agentor replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The recording (native JSON lines); `-` reads standard input.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// Playback speed: 0 as fast as possible, 1 the recorded pace, 2 twice as fast.
    #[arg(long, default_value_t = 0.0, value_parser = parse_speed)]
    pub speed: f64,

    #[command(flatten)]
    #[allow(missing_docs)]
    pub show: ShowArgs,
}

/// `agentor serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address to listen on [default: 0.0.0.0, every interface, like `agent.serve(port)`].
    #[arg(long, env = "AGENTOR_HOST")]
    pub host: Option<String>,

    /// The port to listen on; 0 picks a free one [default: 8000].
    #[arg(long, env = "AGENTOR_PORT")]
    pub port: Option<u16>,

    /// Requires `Authorization: Bearer <TOKEN>` on every route but `/health`
    /// and the agent card.
    #[arg(long, env = "AGENTOR_TOKEN", hide_env_values = true)]
    pub token: Option<String>,

    /// The URL clients reach the server at, as the A2A agent card announces
    /// it [default: derived from each request's `Host` header].
    #[arg(long, value_name = "URL", env = "AGENTOR_PUBLIC_URL", value_parser = parse_public_url)]
    pub public_url: Option<String>,

    /// The agent's name: the `source` of its events and the name on its
    /// agent card [default: Assistant].
    #[arg(long, env = "AGENTOR_NAME")]
    pub name: Option<String>,

    /// The description on the agent card [default: "NAME, an agentor agent"].
    #[arg(long, env = "AGENTOR_DESCRIPTION")]
    pub description: Option<String>,

    /// Trusts `X-Forwarded-Host` and `X-Forwarded-Proto` (set it only behind
    /// a proxy that sets them) for the agent card's derived URL.
    #[arg(long, env = "AGENTOR_TRUST_PROXY")]
    pub trust_proxy: bool,

    /// How long a streamed run whose client disconnected keeps going, so the
    /// client (the playground page, an SSE client) can reconnect with
    /// `Last-Event-ID` and continue live [default: off: a disconnect cancels
    /// the run at once].
    #[arg(long, value_name = "SECS", value_parser = parse_duration, env = "AGENTOR_RESUME_WINDOW")]
    pub resume_window: Option<Duration>,

    /// The demo provider's pause before each delta, in milliseconds (0 to
    /// 10000), to watch a run slowly or catch it with Cancel [default: 15].
    #[arg(long, value_name = "MS", value_parser = clap::value_parser!(u64).range(0..=10_000), env = "AGENTOR_DEMO_DELAY_MS")]
    pub demo_delay_ms: Option<u64>,

    /// Does not serve `GET /metrics` (Prometheus text) nor count streams.
    #[arg(long, env = "AGENTOR_NO_METRICS")]
    pub no_metrics: bool,

    /// How the server logs to stderr (`RUST_LOG` filters, default `info`)
    /// [default: text].
    #[arg(long, value_enum, value_name = "FORMAT", env = "AGENTOR_LOG_FORMAT")]
    pub log_format: Option<crate::logging::LogFormat>,

    /// Gives the agent an offline `get_weather` tool (a canned answer), so
    /// the demo provider shows a tool call and its result before answering.
    #[arg(long, env = "AGENTOR_DEMO_TOOL")]
    pub demo_tool: bool,

    /// Gives the agent the built-in `request_input` tool: the model may end
    /// its turn asking the user a question (A2A task `input-required`; the
    /// answer, sent with the task's id, continues the task).
    #[arg(long, env = "AGENTOR_REQUEST_INPUT")]
    pub request_input: bool,

    /// Logs streamed runs to Redis Streams at this URL
    /// (`redis://127.0.0.1:6379/0`), so every instance on it resumes, reads
    /// and cancels any run [default: in memory, this process only].
    #[arg(
        long,
        value_name = "URL",
        env = "AGENTOR_REDIS_URL",
        hide_env_values = true
    )]
    pub redis: Option<String>,

    /// With --redis: how long a finished run stays readable, in seconds [default: 300].
    #[arg(long, value_name = "SECS", value_parser = parse_duration, env = "AGENTOR_REDIS_RETENTION")]
    pub redis_retention: Option<Duration>,

    /// With --redis: the producer's lease, in seconds; a run whose producer
    /// died ends `failed` for its readers within it (and a fifth more) [default: 5].
    #[arg(long, value_name = "SECS", value_parser = parse_duration, env = "AGENTOR_REDIS_LEASE")]
    pub redis_lease: Option<Duration>,

    /// Lets A2A push notifications go to webhooks in this range, which the
    /// SSRF policy refuses otherwise (loopback, private, link-local,
    /// unique-local addresses): an IP (`127.0.0.1`), a CIDR range
    /// (`10.0.0.0/8`) or `loopback` (repeatable; comma-separated in the
    /// variable) [default: public addresses only].
    #[arg(long = "a2a-push-allow", value_name = "RANGE", env = "AGENTOR_A2A_PUSH_ALLOW", value_delimiter = ',', value_parser = parse_address_range)]
    pub a2a_push_allow: Vec<agentor_server::AddressRange>,

    #[command(flatten)]
    #[allow(missing_docs)]
    pub provider: ProviderArgs,

    #[command(flatten)]
    #[allow(missing_docs)]
    pub connections: ConnectionArgs,
}

/// `agentor serve`'s connection limits and CORS (see `docs/reliability.md`).
#[derive(Debug, Default, Args)]
pub struct ConnectionArgs {
    /// A browser origin allowed to call the server (repeatable;
    /// comma-separated in the variable); `*` allows any [default: none].
    #[arg(long = "cors-origin", value_name = "ORIGIN", env = "AGENTOR_CORS_ORIGINS", value_delimiter = ',', value_parser = parse_cors_origin)]
    pub cors_origins: Vec<String>,

    /// How many connections may be open at once; one more gets `503`
    /// [default: 3/4 of the open-file limit, at most 10000].
    #[arg(long, env = "AGENTOR_MAX_CONNECTIONS", value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_connections: Option<u64>,

    /// Seconds a client may take to send a request's headers; also how long
    /// an idle keep-alive connection stays open [default: 10].
    #[arg(long, value_name = "SECONDS", value_parser = parse_duration)]
    pub header_timeout: Option<Duration>,

    /// Seconds a client may take to send a whole request body [default: 30].
    #[arg(long, value_name = "SECONDS", value_parser = parse_duration)]
    pub body_timeout: Option<Duration>,

    /// Seconds a client may read nothing while frames wait before it is cut
    /// [default: 30].
    #[arg(long, value_name = "SECONDS", value_parser = parse_duration)]
    pub write_stall_timeout: Option<Duration>,

    /// Seconds a graceful shutdown may take before open connections are
    /// dropped [default: 10].
    #[arg(long, value_name = "SECONDS", value_parser = parse_duration)]
    pub shutdown_deadline: Option<Duration>,
}

/// `agentor bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Events in the synthetic run each measurement streams (100 to 5,000,000).
    // The run is held in memory (twice, ~300 bytes an event): the cap keeps
    // it near 1.5 GB.
    #[arg(long, default_value_t = 200_000, value_parser = clap::value_parser!(u64).range(100..=5_000_000))]
    pub events: u64,

    /// Repetitions of each measurement; the table shows their median.
    #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u64).range(1..=101))]
    pub repetitions: u64,
}

/// Which model provider answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProviderKind {
    /// The offline demo: a deterministic, visibly streaming answer, no model.
    Demo,
    /// An OpenAI-compatible Chat Completions API (OpenAI, Ollama, vLLM, …).
    OpenaiChat,
    /// The OpenAI Responses API.
    OpenaiResponses,
    /// The Anthropic Messages API (`ANTHROPIC_API_KEY`, `ANTHROPIC_BASE_URL`,
    /// `ANTHROPIC_MODEL`).
    Anthropic,
}

/// The provider flags of `chat` and `serve`.
#[derive(Debug, Args, Default)]
pub struct ProviderArgs {
    /// The provider [default: openai-chat when OPENAI_API_KEY, OPENAI_BASE_URL
    /// or --base-url is set, else anthropic when ANTHROPIC_API_KEY is set,
    /// else demo].
    #[arg(long, value_enum, env = "AGENTOR_PROVIDER")]
    pub provider: Option<ProviderKind>,

    /// The model to ask for [default: OPENAI_MODEL, else gpt-4o-mini; for
    /// anthropic: ANTHROPIC_MODEL, else claude-sonnet-4-5].
    #[arg(long, env = "AGENTOR_MODEL")]
    pub model: Option<String>,

    /// The API root of an OpenAI-compatible server [default: OPENAI_BASE_URL,
    /// else the OpenAI API], or for anthropic of the Messages API
    /// [default: ANTHROPIC_BASE_URL, else Anthropic's].
    #[arg(long, value_name = "URL", env = "AGENTOR_BASE_URL")]
    pub base_url: Option<String>,

    /// The agent's system instructions.
    #[arg(long, env = "AGENTOR_INSTRUCTIONS")]
    pub instructions: Option<String>,

    /// Seconds the model's server may go without sending a complete event
    /// (SSE comments do not count) before the turn fails with a timeout
    /// [default: 60].
    #[arg(long = "provider-read-timeout", value_name = "SECONDS", value_parser = parse_duration, env = "AGENTOR_PROVIDER_READ_TIMEOUT")]
    pub read_timeout: Option<Duration>,
}

/// The pipeline and output flags of `chat`, `replay` and `a2a stream`.
#[derive(Debug, Args, Default)]
pub struct ShowArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub pipeline: PipelineArgs,

    #[command(flatten)]
    #[allow(missing_docs)]
    pub output: OutputArgs,
}

/// The pipeline flags: each is an option of [`PipelineOptions`], parsed and
/// checked by it.
#[derive(Debug, Args, Default)]
pub struct PipelineArgs {
    /// Keeps only these event kinds (comma-separated; native names or the
    /// agentor compatibility names such as `raw_response_event`). The run end
    /// and errors always pass.
    #[arg(long, value_name = "KINDS", value_parser = parse_kinds, env = "AGENTOR_EVENTS")]
    pub events: Option<KindSet>,

    /// Re-cuts text deltas at word, line or sentence boundaries.
    #[arg(long, value_name = "BOUNDARY", value_parser = rebuffer_parser(), env = "AGENTOR_REBUFFER")]
    pub rebuffer: Option<Boundary>,

    /// Groups events for up to this many milliseconds (adjacent text deltas
    /// merged).
    #[arg(long, value_name = "MS", value_parser = parse_batch_ms, env = "AGENTOR_BATCH_MS")]
    pub batch_ms: Option<Duration>,

    /// Ends the run as `timed_out` after this many seconds in all.
    #[arg(long, value_name = "SECS", value_parser = parse_duration, env = "AGENTOR_TIMEOUT")]
    pub timeout: Option<Duration>,

    /// Ends the run as `timed_out` when the provider is silent this many seconds.
    #[arg(long, value_name = "SECS", value_parser = parse_duration, env = "AGENTOR_IDLE_TIMEOUT")]
    pub idle_timeout: Option<Duration>,
}

impl PipelineArgs {
    /// The flags as options (`None` where not given).
    pub fn options(&self) -> PipelineOptions {
        PipelineOptions {
            events: self.events,
            rebuffer: self.rebuffer.clone(),
            batch: self.batch_ms,
            timeout: self.timeout,
            idle_timeout: self.idle_timeout,
        }
    }
}

/// How events are written to stdout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OutputFormat {
    /// For people: text as it arrives, other events on short lines of their own.
    Text,
    /// Native JSON lines: lossless, one event per line (the recording format).
    Native,
    /// The agentor JSON shape of Python Agentor (`serialize=True`), one event per line.
    Agentor,
}

/// The output flags.
#[derive(Debug, Args, Default)]
pub struct OutputArgs {
    /// Native JSON lines (the same as `--format native`).
    #[arg(long, conflicts_with = "format")]
    pub json: bool,

    /// The output format [default: text] [env: AGENTOR_FORMAT=]
    // `AGENTOR_FORMAT` is read by `with_env_format`, not by clap: clap would
    // count it as a `--format` given, which `--json` conflicts with.
    #[arg(long, value_enum)]
    pub format: Option<OutputFormat>,
}

impl OutputArgs {
    /// Takes the format from `AGENTOR_FORMAT` (its `value`) when neither
    /// `--json` nor `--format` was given: a flag wins over the environment.
    pub fn with_env_format(&mut self, value: Option<&str>) -> Result<(), String> {
        let Some(value) = value.filter(|v| !v.is_empty()) else {
            return Ok(());
        };
        if self.json || self.format.is_some() {
            return Ok(());
        }
        let format = OutputFormat::from_str(value, false).map_err(|_| {
            format!("invalid value `{value}` for AGENTOR_FORMAT: expected text, native or agentor")
        })?;
        self.format = Some(format);
        Ok(())
    }
}

impl Command {
    /// The output flags of the subcommands that print a run.
    pub fn output_mut(&mut self) -> Option<&mut OutputArgs> {
        match self {
            Command::Chat(args) => Some(&mut args.show.output),
            Command::Replay(args) => Some(&mut args.show.output),
            Command::A2a(A2aCommand::Stream(args)) => Some(&mut args.show.output),
            Command::Tail(args) => Some(&mut args.show.output),
            Command::Serve(_) | Command::A2a(A2aCommand::Card(_)) | Command::Bench(_) => None,
        }
    }
}

// The pipeline values are checked by the core's `PipelineOptions`, as the
// server checks them; clap already names the flag, so only the reason is kept.

/// Parses a `--events` list; an empty list is a mistake, not "everything".
pub(crate) fn parse_kinds(list: &str) -> Result<KindSet, String> {
    PipelineOptions::parse_events(list).map_err(|e| e.reason().to_owned())
}

/// `--rebuffer`: the boundary names, listed in `--help` and on a mistake.
fn rebuffer_parser() -> impl TypedValueParser<Value = Boundary> {
    PossibleValuesParser::new(Boundary::NAMES)
        .try_map(|name| PipelineOptions::parse_rebuffer(&name).map_err(|e| e.reason().to_owned()))
}

fn parse_batch_ms(ms: &str) -> Result<Duration, String> {
    PipelineOptions::parse_batch_ms(ms).map_err(|e| e.reason().to_owned())
}

/// Parses a number of seconds: more than 0, at most one day.
pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
    PipelineOptions::parse_seconds("timeout", s).map_err(|e| e.reason().to_owned())
}

/// Checks a `--public-url`: an `http` or `https` URL with a host, since the
/// agent card hands it to every client as the endpoint to call.
pub(crate) fn parse_public_url(url: &str) -> Result<String, String> {
    let rest = ["http://", "https://"]
        .iter()
        .find_map(|scheme| {
            url.get(..scheme.len())
                .filter(|head| head.eq_ignore_ascii_case(scheme))
                .map(|_| &url[scheme.len()..])
        })
        .unwrap_or_default();
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if host.is_empty() || url.chars().any(char::is_whitespace) {
        return Err(format!(
            "`{url}` is not an http(s) URL such as https://agents.example.com/"
        ));
    }
    Ok(url.to_owned())
}

/// Checks a `--cors-origin`: `*`, or an http(s) origin — scheme and host,
/// no path — as browsers send it in `Origin`.
pub(crate) fn parse_address_range(range: &str) -> Result<agentor_server::AddressRange, String> {
    range.parse()
}

pub(crate) fn parse_cors_origin(origin: &str) -> Result<String, String> {
    let origin = origin.trim();
    if origin == "*" {
        return Ok(origin.to_owned());
    }
    let url = parse_public_url(origin)
        .map_err(|_| format!("`{origin}` is not an origin such as https://app.example.com"))?;
    let after_scheme = url.split_once("://").map_or("", |(_, rest)| rest);
    if after_scheme.contains(['/', '?', '#']) {
        return Err(format!(
            "`{origin}` is not an origin: an origin has no path (https://app.example.com)"
        ));
    }
    Ok(url)
}

fn parse_speed(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(speed) if speed.is_finite() && speed >= 0.0 => Ok(speed),
        _ => Err(format!("`{s}` is not a speed factor (0 or more)")),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn values_are_checked_where_they_are_parsed() {
        assert!(parse_kinds("text_delta, run_item_stream_event").is_ok());
        assert_eq!(parse_kinds(" , ").unwrap_err(), "no event kind named");
        assert!(parse_kinds("text").unwrap_err().contains("text"));
        assert_eq!(parse_duration("1.5").unwrap(), Duration::from_millis(1500));
        for bad in ["0", "-1", "NaN", "inf", "x", "100000"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert!(parse_batch_ms("0")
            .unwrap_err()
            .contains("expected 1 to 10000"));
        assert!(parse_public_url("HTTPS://agents.example.com/a2a").is_ok());
        assert!(parse_public_url("http://127.0.0.1:8000").is_ok());
        for bad in [
            "example.com",
            "https://",
            "https:///x",
            "ftp://e.com",
            "http://a b",
        ] {
            assert!(parse_public_url(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_speed("0").unwrap(), 0.0);
        assert!(parse_speed("-2").is_err());
    }

    #[test]
    fn agentor_format_yields_to_the_flags() {
        let output = |args: &[&str], env: &str| {
            let mut cli =
                Cli::try_parse_from([&["agentor", "chat", "hi"][..], args].concat()).unwrap();
            let output = cli.command.output_mut().unwrap();
            output
                .with_env_format(Some(env))
                .map(|()| (output.json, output.format))
        };
        assert_eq!(output(&["--json"], "agentor"), Ok((true, None)));
        assert_eq!(
            output(&["--format", "text"], "agentor"),
            Ok((false, Some(OutputFormat::Text)))
        );
        assert_eq!(
            output(&[], "agentor"),
            Ok((false, Some(OutputFormat::Agentor)))
        );
        assert_eq!(output(&[], ""), Ok((false, None)));
        assert!(output(&[], "yaml").unwrap_err().contains("AGENTOR_FORMAT"));
    }

    #[test]
    fn bench_events_stay_within_memory() {
        // The synthetic run is held in memory twice, about 300 bytes an event:
        // 50 million events would ask for some 15 GB.
        let bench = |n: &str| Cli::try_parse_from(["agentor", "bench", "--events", n]);
        assert!(bench("5000000").is_ok());
        assert_eq!(bench("50000000").unwrap_err().exit_code(), 2);
    }

    #[test]
    fn json_and_format_exclude_each_other() {
        let err = Cli::try_parse_from(["agentor", "chat", "hi", "--json", "--format", "text"])
            .unwrap_err();
        assert_eq!(err.exit_code(), 2);
    }
}
