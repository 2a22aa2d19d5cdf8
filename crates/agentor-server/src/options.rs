//! The `/chat` request: its body, its pipeline options (body or query
//! string), and the layers they become.

use agentor::wire::Format;
use agentor::{BoxEventStream, ChatMessage, Input, PipelineOptions};
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
    Messages(Vec<ChatMessage>),
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
    pub(crate) pipeline: PipelineOptions,
    pub(crate) format: Format,
}

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
                ApiError::invalid_option(
                    "stream",
                    format!("`{}` is not true or false", agentor::error::excerpt(&q)),
                )
            })?,
            (None, None) => false,
        };
        let events = body.events.map(|events| match events {
            EventsBody::List(list) => list,
            EventsBody::Names(names) => names.join(","),
        });
        let mut pipeline = PipelineOptions::default();
        for (name, value) in [
            ("events", events.or(query.events)),
            ("rebuffer", body.rebuffer.or(query.rebuffer)),
            (
                "batch_ms",
                body.batch_ms.map(|ms| ms.to_string()).or(query.batch_ms),
            ),
            (
                "timeout",
                body.timeout.map(|s| s.to_string()).or(query.timeout),
            ),
        ] {
            if let Some(value) = value {
                pipeline
                    .set(name, &value)
                    .map_err(|e| ApiError::invalid_option(e.option(), e.reason()))?;
            }
        }
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
            pipeline,
            format,
        })
    }

    /// Applies the options to a run, in [`PipelineOptions`]' order.
    pub(crate) fn apply(&self, run: BoxEventStream) -> BoxEventStream {
        if self.stream {
            self.pipeline.apply(run)
        } else {
            // A JSON answer needs the whole run: shaping the stream could
            // only lose the message it reads (a filter without `message`).
            self.pipeline.deadlines_only().apply(run)
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::time::Duration;

    use agentor::{Boundary, Kind};

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
        assert!(matches!(options.pipeline.rebuffer, Some(Boundary::Lines)));
        assert!(options.stream);
        assert_eq!(options.pipeline.batch, Some(Duration::from_millis(20)));
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
        let kinds = options.pipeline.events.unwrap();
        assert!(kinds.contains(Kind::TextDelta) && kinds.contains(Kind::ToolCall));
    }
}
