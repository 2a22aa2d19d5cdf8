//! The `/chat` request: its body, its pipeline options (body or query
//! string), and the layers they become.

use std::time::Duration;

use agentor::wire::Format;
use agentor::{
    BatchLayer, Boundary, BoxEventStream, EventStreamExt, FilterLayer, Input, Kind, KindSet,
    Message, TimeoutLayer,
};
use serde::Deserialize;

use crate::error::ApiError;

/// What a run starts from: a text, or a conversation of `{"role", "content"}`.
#[derive(Clone, Debug, Deserialize)]
#[serde(
    untagged,
    expecting = "a string or an array of {\"role\", \"content\"} messages"
)]
pub(crate) enum InputBody {
    Text(String),
    Messages(Vec<Message>),
}

impl From<InputBody> for Input {
    fn from(input: InputBody) -> Self {
        match input {
            InputBody::Text(text) => Input::from(text),
            InputBody::Messages(messages) => Input::from(messages),
        }
    }
}

/// `events` in a body: `"text_delta,run_end"` or `["text_delta", "run_end"]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(
    untagged,
    expecting = "a comma-separated string or an array of event kind names"
)]
pub(crate) enum EventsBody {
    List(String),
    Names(Vec<String>),
}

/// The JSON body of `POST /chat`.
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct ChatBody {
    pub(crate) input: InputBody,
    pub(crate) stream: Option<bool>,
    #[serde(flatten)]
    pub(crate) options: BodyOptions,
}

/// Pipeline options as they may appear in the body (typed JSON values).
#[derive(Clone, Debug, Default, Deserialize)]
pub(crate) struct BodyOptions {
    events: Option<EventsBody>,
    rebuffer: Option<String>,
    batch_ms: Option<u64>,
    timeout: Option<f64>,
    format: Option<String>,
}

/// Options as they may appear in the query string (all text, parsed here so
/// a bad value names its option).
#[derive(Clone, Debug, Default, Deserialize)]
pub(crate) struct QueryOptions {
    stream: Option<String>,
    events: Option<String>,
    rebuffer: Option<String>,
    batch_ms: Option<String>,
    timeout: Option<String>,
    format: Option<String>,
}

/// The validated options of one run.
#[derive(Clone, Debug, Default)]
pub(crate) struct RunOptions {
    pub(crate) stream: bool,
    pub(crate) events: Option<KindSet>,
    pub(crate) rebuffer: Option<Boundary>,
    pub(crate) batch: Option<Duration>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) format: Format,
}

/// The longest `batch_ms` accepted: a batch held longer looks like a stall.
const MAX_BATCH_MS: u64 = 10_000;
/// The longest `timeout` accepted, in seconds (one day).
const MAX_TIMEOUT_S: f64 = 86_400.0;

impl RunOptions {
    /// Merges the query string and the body (the body wins) and validates.
    pub(crate) fn resolve(
        stream: Option<bool>,
        body: BodyOptions,
        query: QueryOptions,
    ) -> Result<RunOptions, ApiError> {
        let stream = match (stream, query.stream) {
            (Some(s), _) => s,
            (None, Some(q)) => parse_bool(&q).ok_or_else(|| {
                ApiError::invalid_option("stream", format!("`{q}` is not true or false"))
            })?,
            (None, None) => false,
        };
        let events = match (body.events, query.events) {
            (Some(EventsBody::List(list)), _) | (None, Some(list)) => Some(parse_events(&list)?),
            (Some(EventsBody::Names(names)), _) => Some(parse_events(&names.join(","))?),
            (None, None) => None,
        };
        let rebuffer = body
            .rebuffer
            .or(query.rebuffer)
            .map(|name| match name.to_ascii_lowercase().as_str() {
                "words" => Ok(Boundary::Words),
                "lines" => Ok(Boundary::Lines),
                "sentences" => Ok(Boundary::Sentences),
                _ => Err(ApiError::invalid_option(
                    "rebuffer",
                    format!("`{name}` (expected words, lines or sentences)"),
                )),
            })
            .transpose()?;
        let batch_ms = match (body.batch_ms, query.batch_ms) {
            (Some(ms), _) => Some(ms),
            (None, Some(q)) => Some(q.trim().parse::<u64>().map_err(|_| {
                ApiError::invalid_option("batch_ms", format!("`{q}` is not a whole number"))
            })?),
            (None, None) => None,
        };
        let batch = batch_ms
            .map(|ms| {
                if (1..=MAX_BATCH_MS).contains(&ms) {
                    Ok(Duration::from_millis(ms))
                } else {
                    Err(ApiError::invalid_option(
                        "batch_ms",
                        format!("{ms} (expected 1 to {MAX_BATCH_MS})"),
                    ))
                }
            })
            .transpose()?;
        let timeout_s = match (body.timeout, query.timeout) {
            (Some(s), _) => Some(s),
            (None, Some(q)) => Some(q.trim().parse::<f64>().map_err(|_| {
                ApiError::invalid_option("timeout", format!("`{q}` is not a number of seconds"))
            })?),
            (None, None) => None,
        };
        let timeout = timeout_s
            .map(|s| {
                if s.is_finite() && s > 0.0 && s <= MAX_TIMEOUT_S {
                    Ok(Duration::from_secs_f64(s))
                } else {
                    Err(ApiError::invalid_option(
                        "timeout",
                        format!("{s} (expected seconds, more than 0 and at most {MAX_TIMEOUT_S})"),
                    ))
                }
            })
            .transpose()?;
        let format = body
            .format
            .or(query.format)
            .map(|name| {
                name.parse::<Format>()
                    .map_err(|e| ApiError::invalid_option("format", e))
            })
            .transpose()?
            .unwrap_or_default();
        Ok(RunOptions {
            stream,
            events,
            rebuffer,
            batch,
            timeout,
            format,
        })
    }

    /// Applies the options to a run, in a fixed order: the filter first (so
    /// rebuffering and batching see only what is sent), then rebuffer, batch,
    /// and the total timeout last (so its deadline covers everything, and its
    /// `timed_out` run end is never filtered out).
    pub(crate) fn apply(&self, run: BoxEventStream) -> BoxEventStream {
        if !self.stream {
            // A JSON answer needs the whole run: shaping the stream could
            // only lose the message it reads (a filter without `message`).
            return self.apply_timeout(run);
        }
        let mut events = run;
        if let Some(kinds) = self.events {
            // The run end and errors always pass: without them a client could
            // not tell a completed run from a failed or cut-off one.
            let kinds = kinds.with(Kind::RunEnd).with(Kind::Error);
            events = Box::pin(events.filter_events(FilterLayer::new().include_kinds(kinds)));
        }
        if let Some(boundary) = &self.rebuffer {
            events = Box::pin(events.rebuffer(boundary.clone()));
        }
        if let Some(wait) = self.batch {
            events = Box::pin(events.batch(BatchLayer::new().max_wait(Some(wait)).coalesce(true)));
        }
        self.apply_timeout(events)
    }

    fn apply_timeout(&self, events: BoxEventStream) -> BoxEventStream {
        match self.timeout {
            Some(total) => Box::pin(events.timeouts(TimeoutLayer::new().total(total))),
            None => events,
        }
    }
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Some(true),
        "false" | "0" | "no" => Some(false),
        _ => None,
    }
}

fn parse_events(list: &str) -> Result<KindSet, ApiError> {
    let kinds = list
        .parse::<KindSet>()
        .map_err(|e| ApiError::invalid_option("events", e))?;
    if kinds.is_empty() {
        return Err(ApiError::invalid_option("events", "no event kind named"));
    }
    Ok(kinds)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn query(pairs: &str) -> QueryOptions {
        serde_json::from_str(pairs).unwrap()
    }

    #[test]
    fn body_wins_over_query() {
        let body: BodyOptions = serde_json::from_str(r#"{"rebuffer": "lines"}"#).unwrap();
        let options = RunOptions::resolve(
            None,
            body,
            query(r#"{"rebuffer": "words", "stream": "true", "batch_ms": "20"}"#),
        )
        .unwrap();
        assert!(matches!(options.rebuffer, Some(Boundary::Lines)));
        assert!(options.stream);
        assert_eq!(options.batch, Some(Duration::from_millis(20)));
    }

    #[test]
    fn bad_values_name_their_option() {
        for (q, option) in [
            (r#"{"events": "nonsense"}"#, "events"),
            (r#"{"rebuffer": "paragraphs"}"#, "rebuffer"),
            (r#"{"batch_ms": "0"}"#, "batch_ms"),
            (r#"{"batch_ms": "x"}"#, "batch_ms"),
            (r#"{"timeout": "-1"}"#, "timeout"),
            (r#"{"timeout": "NaN"}"#, "timeout"),
            (r#"{"format": "xml"}"#, "format"),
            (r#"{"stream": "maybe"}"#, "stream"),
        ] {
            let err = RunOptions::resolve(None, BodyOptions::default(), query(q)).unwrap_err();
            assert_eq!(err.code, "invalid_option");
            assert!(err.message.contains(&format!("`{option}`")), "{err}");
        }
    }

    #[test]
    fn events_accept_compat_names_and_lists() {
        let body: BodyOptions =
            serde_json::from_str(r#"{"events": ["raw_response_event", "tool_call"]}"#).unwrap();
        let options = RunOptions::resolve(None, body, QueryOptions::default()).unwrap();
        let kinds = options.events.unwrap();
        assert!(kinds.contains(Kind::TextDelta) && kinds.contains(Kind::ToolCall));
    }
}
