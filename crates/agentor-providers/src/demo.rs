//! [`Demo`]: an offline stand-in for a model, for when none is configured.

mod arguments;
mod turn;

#[cfg(test)]
mod tests;

use std::time::Duration;

use agentor_core::source::Script;
use agentor_core::{
    BoxEventStream, ChatRequest, Event, EventKind, Origin, Provider, RunStatus, Text,
};

use turn::{Reply, Turn};

/// The offline default provider: what answers when no API key or base URL is
/// configured, so that `agentor chat`, the server and the examples run out of
/// the box and show a realistic stream.
///
/// **It never pretends to be a model.** The run start names the model
/// [`Demo::MODEL`] (`"demo (offline, no model)"`), and every text it writes
/// starts with `(demo)` and says it comes from agentor's offline demo
/// provider.
///
/// From the request it plays one turn, **deterministically** (the same
/// request gives the same stream, timing included; nothing is random):
///
/// 1. `run_start` (the request's agent, or `assistant`), then one reasoning
///    delta saying what the demo is doing;
/// 2. then either
///    - **a tool call**, when tools are offered and no tool result has come
///      since the last user message: it calls the first tool whose name the
///      last user message mentions — the whole name, or for a handoff's
///      transfer tool what follows `transfer_to_`, compared
///      case-insensitively with `_` read as a space (so "ask billing" picks
///      `transfer_to_billing`) — else the *first* tool, with
///      arguments built from its JSON Schema `parameters` — each *required*
///      property gets its `default`, else its first `enum` value, else by
///      type: a string the words of the prompt (the first string property
///      up to eight words of it, each further one a single word, from the
///      end of the prompt backwards), a number or integer `1`, a boolean
///      `true`, an array `[]`, an object `{}`. The arguments' JSON text
///      streams first as `tool_call_delta` fragments (the same pieces as
///      text, the tool's name on the first), then the complete `tool_call`.
///      The turn ends there, as a model's does: the agent runs the tool and
///      asks again;
///    - or **an answer**, as text deltas of one to eight characters (a word
///      and its following space, longer words cut), then the complete
///      `message`. After a tool result it reports that result (the last one,
///      clipped to 200 characters); otherwise it echoes the last user message;
/// 3. `usage`, estimated from word counts (4 tokens per 3 words, rounded
///    up): the input from every message's words, the output from the words
///    it wrote;
/// 4. `run_end completed`.
///
/// Events are numbered from 0 and carry the request's `run_id`. Each delta
/// and each tool-call fragment come [`Demo::DEFAULT_DELAY`] (15 ms) after the event
/// before, on tokio's clock, so the stream visibly streams;
/// [`Demo::with_delay`] changes the pace and [`Demo::instant`] removes it.
///
/// ```
/// use agentor_core::{ChatRequest, ChatMessage, Provider};
/// use agentor_providers::Demo;
/// use futures_util::StreamExt;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let request = ChatRequest::new("any", vec![ChatMessage::user("Hello there")]);
/// let events: Vec<_> = Demo::instant().stream(request).map(Result::unwrap).collect().await;
/// let message = events.iter().find(|e| e.kind().as_str() == "message").unwrap();
/// assert!(message.text().unwrap().starts_with("(demo) "));
/// assert!(message.text().unwrap().contains("Hello there"));
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Demo {
    delay: Duration,
}

impl Demo {
    /// The model named in the demo's run start.
    pub const MODEL: &'static str = "demo (offline, no model)";

    /// The pause before each delta and tool call, by default.
    pub const DEFAULT_DELAY: Duration = Duration::from_millis(15);

    /// A demo at the default pace ([`Demo::DEFAULT_DELAY`]).
    pub fn new() -> Self {
        Demo::with_delay(Demo::DEFAULT_DELAY)
    }

    /// A demo pausing `delay` before each delta and tool call.
    pub fn with_delay(delay: Duration) -> Self {
        Demo { delay }
    }

    /// A demo without pauses: every event is ready at once (for tests).
    pub fn instant() -> Self {
        Demo::with_delay(Duration::ZERO)
    }
}

impl Default for Demo {
    fn default() -> Self {
        Demo::new()
    }
}

impl Provider for Demo {
    fn stream(&self, request: ChatRequest) -> BoxEventStream {
        let turn = Turn::plan(&request);
        let origin = Origin::new(None, request.run_id, None);
        let stamp = |event: Event| event.with_origin(origin.clone());
        let agent = request.agent.unwrap_or(Text::from_static("assistant"));
        let mut script = Script::new()
            .then(stamp(Event::new(EventKind::RunStart {
                agent,
                model: Some(Text::from_static(Demo::MODEL)),
            })))
            .after(self.delay, stamp(Event::reasoning_delta(turn.reasoning)));
        match turn.reply {
            Reply::Call {
                call_id,
                name,
                arguments,
            } => {
                // The arguments stream as a model's do, then the call follows whole.
                let json = Text::from(arguments.to_string());
                for (i, piece) in turn::pieces(&json).into_iter().enumerate() {
                    let name = (i == 0).then_some(name.as_str());
                    let delta =
                        Event::tool_call_delta(call_id.as_str(), name, json.slice_ref(piece));
                    script = script.after(self.delay, stamp(delta));
                }
                let call = Event::tool_call(call_id, name, arguments);
                script = script.then(stamp(call));
            }
            Reply::Answer(text) => {
                let text = Text::from(text);
                for piece in turn::pieces(&text) {
                    script =
                        script.after(self.delay, stamp(Event::text_delta(text.slice_ref(piece))));
                }
                script = script.then(stamp(Event::message(text)));
            }
        }
        let usage = Event::new(EventKind::Usage {
            input_tokens: turn.input_tokens,
            output_tokens: turn.output_tokens,
            total_tokens: turn.input_tokens.saturating_add(turn.output_tokens),
            cache_read_input_tokens: 0,
            cache_creation_input_tokens: 0,
        });
        let script = script
            .then(stamp(usage))
            .then(stamp(Event::run_end(RunStatus::Completed)));
        Box::pin(script.into_stream())
    }

    fn name(&self) -> &str {
        "demo"
    }
}
