//! [`PipelineOptions`]: the stream options a user names in a request, on a
//! command line or in a configuration file, applied in one fixed order.

use std::fmt;
use std::time::Duration;

use futures_core::Stream;

use crate::{
    BatchLayer, Boundary, BoxEventStream, EventResult, EventStreamExt, FilterLayer, Kind, KindSet,
    TimeoutLayer,
};

/// The options every front end offers over a run — `/chat` and `/ws` (body
/// or query string), `agentor chat`/`replay`/`a2a stream` flags, and the
/// `[chat]` table of `agentor.toml` — as one value, so they parse, check and
/// apply the same way everywhere.
///
/// Each field is off when `None`. [`apply`](Self::apply) adds the layers in
/// this order, whatever order the options were given in:
///
/// 1. **deadlines** ([`timeout`](Self::timeout) in all, [`idle_timeout`](Self::idle_timeout)
///    between events): first, so "idle" means the source is silent, not
///    that the filter dropped what it sent, and so events held further down
///    (rebuffer, batch) are still sent before the `timed_out` run end;
/// 2. **filter** ([`events`](Self::events)): keeps these kinds and always the
///    run end and errors (without them a client could not tell a completed
///    run from a failed or cut-off one); before rebuffer and batch, so they
///    see only what is sent;
/// 3. **rebuffer** ([`rebuffer`](Self::rebuffer)) at word, line or sentence
///    boundaries;
/// 4. **batch** ([`batch`](Self::batch)): events grouped for up to this long,
///    adjacent text deltas coalesced.
///
/// From strings, by the names the server and the configuration file use
/// (the command line's flags are the same names with dashes):
///
/// ```
/// use std::time::Duration;
/// use agentor_core::{source, Kind, PipelineOptions};
/// use futures_util::StreamExt;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), agentor_core::OptionError> {
/// let mut options = PipelineOptions::default();
/// options.set("events", "text_delta")?;
/// options.set("rebuffer", "words")?;
/// options.set("batch_ms", "20")?;
/// assert_eq!(options.batch, Some(Duration::from_millis(20)));
///
/// let err = options.set("rebuffer", "pages").unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "invalid value for option `rebuffer`: unknown boundary `pages` (expected words, lines or sentences)"
/// );
///
/// let kinds: Vec<Kind> = options
///     .apply(source::demo_text(["Hel", "lo wor", "ld"]))
///     .map(|e| e.unwrap().kind())
///     .collect()
///     .await;
/// // The message is filtered out; the run end always passes.
/// assert_eq!(kinds, [Kind::TextDelta, Kind::RunEnd]);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, Default)]
pub struct PipelineOptions {
    /// `events`: the kinds to keep (the run end and errors are always kept).
    pub events: Option<KindSet>,
    /// `rebuffer`: where text deltas are re-cut.
    pub rebuffer: Option<Boundary>,
    /// `batch_ms`: how long events are grouped at most.
    pub batch: Option<Duration>,
    /// `timeout`: the deadline of the whole run.
    pub timeout: Option<Duration>,
    /// `idle_timeout`: how long the source may stay silent.
    pub idle_timeout: Option<Duration>,
}

/// The longest batch wait accepted from a string: a batch held longer looks
/// like a stall.
const MAX_BATCH_MS: u64 = 10_000;
/// The longest timeout accepted from a string, in seconds (one day).
const MAX_SECONDS: f64 = 86_400.0;

impl PipelineOptions {
    /// The option names [`set`](Self::set) takes.
    pub const NAMES: &'static [&'static str] =
        &["events", "rebuffer", "batch_ms", "timeout", "idle_timeout"];

    /// Sets the option `name` from its text, checked as
    /// [`parse_events`](Self::parse_events), [`parse_rebuffer`](Self::parse_rebuffer),
    /// [`parse_batch_ms`](Self::parse_batch_ms) and
    /// [`parse_seconds`](Self::parse_seconds) check it; an unknown `name` is
    /// an error too.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), OptionError> {
        match name {
            "events" => self.events = Some(Self::parse_events(value)?),
            "rebuffer" => self.rebuffer = Some(Self::parse_rebuffer(value)?),
            "batch_ms" => self.batch = Some(Self::parse_batch_ms(value)?),
            "timeout" => self.timeout = Some(Self::parse_seconds("timeout", value)?),
            "idle_timeout" => {
                self.idle_timeout = Some(Self::parse_seconds("idle_timeout", value)?);
            }
            _ => {
                return Err(OptionError::new(
                    "",
                    format!(
                        "unknown option `{}` (expected one of {})",
                        crate::error::excerpt(name),
                        Self::NAMES.join(", ")
                    ),
                ))
            }
        }
        Ok(())
    }

    /// `events`: a comma-separated list of kind names, native or the agentor
    /// compatibility names ([`KindSet`]'s parser); naming none is an error,
    /// not "everything".
    pub fn parse_events(value: &str) -> Result<KindSet, OptionError> {
        let kinds = value
            .parse::<KindSet>()
            .map_err(|e| OptionError::new("events", e))?;
        if kinds.is_empty() {
            return Err(OptionError::new("events", "no event kind named"));
        }
        Ok(kinds)
    }

    /// `rebuffer`: `words`, `lines` or `sentences` (any case).
    pub fn parse_rebuffer(value: &str) -> Result<Boundary, OptionError> {
        value
            .parse::<Boundary>()
            .map_err(|e| OptionError::new("rebuffer", e))
    }

    /// `batch_ms`: whole milliseconds, 1 to 10,000.
    pub fn parse_batch_ms(value: &str) -> Result<Duration, OptionError> {
        match value.trim().parse::<u64>() {
            Ok(ms @ 1..=MAX_BATCH_MS) => Ok(Duration::from_millis(ms)),
            Ok(ms) => Err(OptionError::new(
                "batch_ms",
                format!("{ms} (expected 1 to {MAX_BATCH_MS} milliseconds)"),
            )),
            Err(_) => Err(OptionError::new(
                "batch_ms",
                format!(
                    "`{}` is not a whole number of milliseconds",
                    crate::error::excerpt(value)
                ),
            )),
        }
    }

    /// A number of seconds for the option `name` (`timeout`,
    /// `idle_timeout`): more than 0, at most one day, fractions allowed.
    pub fn parse_seconds(name: &'static str, value: &str) -> Result<Duration, OptionError> {
        match value.trim().parse::<f64>() {
            Ok(secs) if secs.is_finite() && secs > 0.0 && secs <= MAX_SECONDS => {
                Ok(Duration::from_secs_f64(secs))
            }
            _ => Err(OptionError::new(
                name,
                format!(
                    "`{}` is not a number of seconds above 0 and at most {MAX_SECONDS}",
                    crate::error::excerpt(value)
                ),
            )),
        }
    }

    /// These options, with the ones not set here taken from `fallback` (a
    /// flag over the configuration file, a request body over its query
    /// string).
    #[must_use]
    pub fn or(self, fallback: PipelineOptions) -> PipelineOptions {
        PipelineOptions {
            events: self.events.or(fallback.events),
            rebuffer: self.rebuffer.or(fallback.rebuffer),
            batch: self.batch.or(fallback.batch),
            timeout: self.timeout.or(fallback.timeout),
            idle_timeout: self.idle_timeout.or(fallback.idle_timeout),
        }
    }

    /// Only the deadlines: for a caller that needs the whole run (a JSON
    /// answer read from the final message), where shaping the stream could
    /// only lose what it reads.
    #[must_use]
    pub fn deadlines_only(&self) -> PipelineOptions {
        PipelineOptions {
            timeout: self.timeout,
            idle_timeout: self.idle_timeout,
            ..PipelineOptions::default()
        }
    }

    /// Applies the options to `events`, in the order documented on
    /// [`PipelineOptions`]; with none set, `events` comes back as it was
    /// (boxed).
    pub fn apply<S>(&self, events: S) -> BoxEventStream
    where
        S: Stream<Item = EventResult> + Send + 'static,
    {
        let mut events: BoxEventStream = Box::pin(events);
        if self.timeout.is_some() || self.idle_timeout.is_some() {
            let mut deadlines = TimeoutLayer::new();
            if let Some(total) = self.timeout {
                deadlines = deadlines.total(total);
            }
            if let Some(idle) = self.idle_timeout {
                deadlines = deadlines.idle(idle);
            }
            events = Box::pin(events.timeouts(deadlines));
        }
        if let Some(kinds) = self.events {
            let kinds = kinds.with(Kind::RunEnd).with(Kind::Error);
            events = Box::pin(events.filter_events(FilterLayer::new().include_kinds(kinds)));
        }
        if let Some(boundary) = &self.rebuffer {
            events = Box::pin(events.rebuffer(boundary.clone()));
        }
        if let Some(wait) = self.batch {
            events = Box::pin(events.batch(BatchLayer::new().max_wait(Some(wait)).coalesce(true)));
        }
        events
    }
}

/// A pipeline option whose value (or name) is not valid; it names the
/// option and says what was expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OptionError {
    option: &'static str,
    reason: String,
}

impl OptionError {
    fn new(option: &'static str, reason: impl fmt::Display) -> Self {
        OptionError {
            option,
            reason: reason.to_string(),
        }
    }

    /// The option's name (`batch_ms`), or `""` for an unknown name.
    pub fn option(&self) -> &str {
        self.option
    }

    /// What is wrong, without the option's name (for a front end that names
    /// the option its own way, as `--batch-ms` or a JSON key).
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Display for OptionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.option.is_empty() {
            f.write_str(&self.reason)
        } else {
            write!(
                f,
                "invalid value for option `{}`: {}",
                self.option, self.reason
            )
        }
    }
}

impl std::error::Error for OptionError {}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::time::Duration;

    use futures_util::StreamExt;

    use super::*;
    use crate::source::Script;
    use crate::{ErrorKind, Event, RunStatus};

    #[test]
    fn every_name_parses_and_bad_values_name_their_option() {
        let mut options = PipelineOptions::default();
        for (name, value) in [
            ("events", "raw_response_event, run_end"),
            ("rebuffer", "LINES"),
            ("batch_ms", " 20 "),
            ("timeout", "1.5"),
            ("idle_timeout", "30"),
        ] {
            options.set(name, value).unwrap();
        }
        assert!(options.events.unwrap().contains(Kind::ReasoningDelta));
        assert!(matches!(options.rebuffer, Some(Boundary::Lines)));
        assert_eq!(options.batch, Some(Duration::from_millis(20)));
        assert_eq!(options.timeout, Some(Duration::from_millis(1500)));
        assert_eq!(options.idle_timeout, Some(Duration::from_secs(30)));

        for (name, value, reason) in [
            ("events", "nonsense", "nonsense"),
            ("events", " , ", "no event kind named"),
            (
                "rebuffer",
                "paragraphs",
                "expected words, lines or sentences",
            ),
            ("batch_ms", "0", "expected 1 to 10000"),
            ("batch_ms", "10001", "expected 1 to 10000"),
            ("batch_ms", "soon", "not a whole number"),
            ("timeout", "-1", "above 0"),
            ("timeout", "NaN", "above 0"),
            ("idle_timeout", "86401", "at most 86400"),
        ] {
            let err = options.clone().set(name, value).unwrap_err();
            assert_eq!(err.option(), name);
            assert!(err.reason().contains(reason), "{name}={value}: {err}");
            assert!(
                err.to_string()
                    .starts_with(&format!("invalid value for option `{name}`: ")),
                "{err}"
            );
        }
        let unknown = options.set("rebufer", "words").unwrap_err();
        assert_eq!(unknown.option(), "");
        assert!(unknown.to_string().contains("unknown option `rebufer`"));
    }

    #[test]
    fn or_fills_only_what_is_unset() {
        let flags = PipelineOptions {
            rebuffer: Some(Boundary::Words),
            ..PipelineOptions::default()
        };
        let file = PipelineOptions {
            rebuffer: Some(Boundary::Sentences),
            timeout: Some(Duration::from_secs(9)),
            ..PipelineOptions::default()
        };
        let merged = flags.or(file);
        assert!(matches!(merged.rebuffer, Some(Boundary::Words)));
        assert_eq!(merged.timeout, Some(Duration::from_secs(9)));
        let deadlines = merged.deadlines_only();
        assert!(deadlines.rebuffer.is_none());
        assert_eq!(deadlines.timeout, Some(Duration::from_secs(9)));
    }

    async fn kinds(options: &PipelineOptions, script: Script) -> Vec<Kind> {
        options
            .apply(script.into_stream())
            .map(|e| e.unwrap().kind())
            .collect()
            .await
    }

    #[tokio::test]
    async fn the_filter_keeps_the_run_end_and_errors() {
        let options = PipelineOptions {
            events: Some(KindSet::of(Kind::Message)),
            ..PipelineOptions::default()
        };
        let script = Script::new()
            .then(Event::text_delta("a"))
            .then(Event::message("a"))
            .then(Event::error(ErrorKind::Provider, "x"))
            .end(RunStatus::Failed);
        assert_eq!(
            kinds(&options, script).await,
            [Kind::Message, Kind::Error, Kind::RunEnd]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_idle_deadline_watches_the_source_not_the_filter() {
        // Reasoning keeps the source busy though the filter shows none of it.
        let options = PipelineOptions {
            events: Some(KindSet::of(Kind::TextDelta)),
            idle_timeout: Some(Duration::from_secs(1)),
            ..PipelineOptions::default()
        };
        let mut busy = Script::new();
        for _ in 0..5 {
            busy = busy.after(Duration::from_millis(600), Event::reasoning_delta("."));
        }
        let busy = busy
            .then(Event::text_delta("done"))
            .end(RunStatus::Completed);
        assert_eq!(kinds(&options, busy).await, [Kind::TextDelta, Kind::RunEnd]);

        let stalled = Script::new().after(Duration::from_secs(5), Event::text_delta("late"));
        assert_eq!(kinds(&options, stalled).await, [Kind::Error, Kind::RunEnd]);
    }

    #[tokio::test(start_paused = true)]
    async fn text_held_by_rebuffer_and_batch_is_sent_before_the_deadline_ends_the_run() {
        let options = PipelineOptions {
            rebuffer: Some(Boundary::Sentences),
            batch: Some(Duration::from_secs(5)),
            timeout: Some(Duration::from_secs(1)),
            ..PipelineOptions::default()
        };
        let script = Script::new()
            .then(Event::text_delta("no sentence end yet"))
            .after(Duration::from_secs(10), Event::text_delta("."));
        let events: Vec<Event> = options
            .apply(script.into_stream())
            .map(Result::unwrap)
            .collect()
            .await;
        let text: String = events
            .iter()
            .filter(|e| e.kind() == Kind::TextDelta)
            .filter_map(Event::text)
            .collect();
        assert_eq!(text, "no sentence end yet");
        assert_eq!(
            events.last().and_then(Event::run_status),
            Some(RunStatus::TimedOut)
        );
    }
}
