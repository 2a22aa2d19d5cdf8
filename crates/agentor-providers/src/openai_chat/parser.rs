//! [`ChatCompletionsParser`]: Chat Completions chunks into agentor events.

use agentor_core::{Error, ErrorKind, Event, EventKind, EventResult, RunStatus, Text};

use super::chunk::{Chunk, Delta, ToolCallDelta};
use super::hot::{self, Hot};
use crate::TurnParser;
use agentor_transport::status::truncate;
use agentor_transport::TurnState as State;

/// Parses the streamed body of `POST /chat/completions`.
///
/// Text (`delta.content`, and `delta.refusal`) and reasoning
/// (`delta.reasoning_content` or `delta.reasoning`) become deltas as they
/// come. Tool-call fragments are joined by `index`, and each becomes a
/// `tool_call_delta` as it comes (the call id and name on the first; a call
/// whose fragments carry no id gets `call_<index>`, the id its complete call
/// has too); the complete calls are emitted in index order when the choice's `finish_reason` arrives (or at `[DONE]`),
/// with their arguments parsed as JSON — text that does not parse arrives as
/// a JSON string, and empty arguments as `{}`. `[DONE]` ends the turn: the
/// complete message (when there was text), the usage (when the server sent
/// it) and a `completed` run end. An `error` payload becomes an `error` event
/// and a `failed` run end; a chunk that is not JSON, a protocol error; a body
/// that ends before `[DONE]`, a provider error — a cut stream is never taken
/// for a whole one. Only choice `0` is read; unknown fields are ignored.
///
/// ```
/// use agentor_core::Kind;
/// use agentor_providers::{ChatCompletionsParser, TurnParser};
///
/// let mut parser = ChatCompletionsParser::new();
/// let mut out = Vec::new();
/// parser.message("", r#"{"choices":[{"index":0,"delta":{"content":"Hi"}}]}"#, &mut out);
/// parser.message("", "[DONE]", &mut out);
/// assert!(parser.is_done());
/// parser.finish(&mut out);
/// let kinds: Vec<Kind> = out.iter().map(|e| e.as_ref().unwrap().kind()).collect();
/// assert_eq!(kinds, [Kind::TextDelta, Kind::Message, Kind::RunEnd]);
/// ```
#[derive(Debug, Default)]
pub struct ChatCompletionsParser {
    state: State,
    /// The completion's id (`chatcmpl-…`), set on deltas and the message.
    message_id: Option<Text>,
    text: String,
    /// Calls being assembled, in index order (a small sorted vector: turns
    /// make a handful of calls, and an index from the wire never sizes memory).
    calls: Vec<PendingCall>,
    usage: Option<EventKind>,
}

#[derive(Debug)]
struct PendingCall {
    index: u32,
    id: String,
    name: String,
    arguments: String,
    /// How many bytes of `arguments` went out as deltas; the first delta
    /// waits for the name (it must carry it).
    streamed: Option<usize>,
}

impl ChatCompletionsParser {
    /// A parser at the start of a turn.
    pub fn new() -> Self {
        ChatCompletionsParser::default()
    }

    fn chunk(&mut self, chunk: Chunk<'_>, out: &mut Vec<EventResult>) {
        if let Some(error) = &chunk.error {
            return self.fail(error.message(), out);
        }
        if chunk.object.as_deref() == Some("error") {
            let message = chunk
                .message
                .as_deref()
                .unwrap_or("the provider reported an error");
            return self.fail(message.to_owned(), out);
        }
        if self.message_id.is_none() {
            self.message_id = chunk
                .id
                .as_deref()
                .filter(|id| !id.is_empty())
                .map(Text::from);
        }
        for choice in chunk.choices.into_iter().flatten() {
            // Several choices (`n` > 1) would interleave; one turn is one answer.
            if choice.index != 0 {
                continue;
            }
            if let Some(delta) = choice.delta {
                self.delta(delta, out);
            }
            if choice.finish_reason.is_some() {
                self.flush_calls(out);
            }
        }
        if let Some(usage) = chunk.usage {
            self.usage = Some(EventKind::Usage {
                input_tokens: usage.prompt_tokens,
                output_tokens: usage.completion_tokens,
                total_tokens: usage
                    .total_tokens
                    .unwrap_or(usage.prompt_tokens.saturating_add(usage.completion_tokens)),
                cache_read_input_tokens: usage
                    .prompt_tokens_details
                    .map_or(0, |details| details.cached_tokens),
                cache_creation_input_tokens: 0,
            });
        }
    }

    /// What [`chunk`](Self::chunk) does with a chunk that holds only a
    /// content delta of choice 0.
    fn hot(&mut self, hot: Hot<'_>, out: &mut Vec<EventResult>) {
        if self.message_id.is_none() {
            self.message_id = hot.id.filter(|id| !id.is_empty()).map(Text::from);
        }
        if let Some(text) = hot.content.filter(|text| !text.is_empty()) {
            self.text.push_str(text);
            out.push(Ok(Event::new(EventKind::TextDelta {
                text: Text::from(text),
                message_id: self.message_id.clone(),
            })));
        }
    }

    fn delta(&mut self, delta: Delta<'_>, out: &mut Vec<EventResult>) {
        for text in [delta.content, delta.refusal].into_iter().flatten() {
            if !text.is_empty() {
                self.text.push_str(&text);
                out.push(Ok(Event::new(EventKind::TextDelta {
                    text: Text::from(&*text),
                    message_id: self.message_id.clone(),
                })));
            }
        }
        for text in [delta.reasoning_content, delta.reasoning]
            .into_iter()
            .flatten()
        {
            if !text.is_empty() {
                out.push(Ok(Event::reasoning_delta(&*text)));
            }
        }
        for fragment in delta.tool_calls.into_iter().flatten() {
            self.tool_fragment(fragment, out);
        }
    }

    fn tool_fragment(&mut self, fragment: ToolCallDelta<'_>, out: &mut Vec<EventResult>) {
        let id = fragment.id.as_deref().filter(|id| !id.is_empty());
        let index = fragment.index.unwrap_or_else(|| self.guess_index(id));
        let position = match self.calls.binary_search_by_key(&index, |call| call.index) {
            Ok(position) => position,
            Err(position) => {
                let call = PendingCall {
                    index,
                    id: String::new(),
                    name: String::new(),
                    arguments: String::new(),
                    streamed: None,
                };
                self.calls.insert(position, call);
                position
            }
        };
        let call = &mut self.calls[position];
        if let (true, Some(id)) = (call.id.is_empty(), id) {
            call.id = id.to_owned();
        }
        if let Some(function) = fragment.function {
            if let Some(name) = function.name.filter(|_| call.name.is_empty()) {
                call.name = name.into_owned();
            }
            if let Some(arguments) = function.arguments {
                call.arguments.push_str(&arguments);
            }
        }
        call.stream_delta(out);
    }

    /// The index of a fragment that has none (some compatible servers omit
    /// it): a new id starts a new call, anything else continues the last.
    fn guess_index(&self, id: Option<&str>) -> u32 {
        let last = self.calls.last();
        match (id, last) {
            (Some(id), Some(last)) if last.id != id && !last.id.is_empty() => last.index + 1,
            (_, Some(last)) => last.index,
            (_, None) => 0,
        }
    }

    fn flush_calls(&mut self, out: &mut Vec<EventResult>) {
        for call in self.calls.drain(..) {
            let arguments = if call.arguments.trim().is_empty() {
                serde_json::Value::Object(serde_json::Map::new())
            } else {
                serde_json::from_str(&call.arguments)
                    .unwrap_or(serde_json::Value::String(call.arguments))
            };
            let id = if call.id.is_empty() {
                call_id_for(call.index)
            } else {
                call.id
            };
            out.push(Ok(Event::tool_call(id, call.name, arguments)));
        }
    }

    fn fail(&mut self, message: String, out: &mut Vec<EventResult>) {
        out.push(Ok(Event::error(ErrorKind::Provider, message)));
        self.state = State::Failed;
    }
}

/// The id of a call whose fragments carried none.
fn call_id_for(index: u32) -> String {
    format!("call_{index}")
}

impl PendingCall {
    /// Emits what arrived of the arguments since the last delta, once the
    /// name is known: the first delta carries the name (and everything so
    /// far), later ones only new text. A call without an id by then is
    /// given the one its complete call will have, so the two match.
    fn stream_delta(&mut self, out: &mut Vec<EventResult>) {
        if self.name.is_empty() {
            return;
        }
        let name = match self.streamed {
            Some(done) if done == self.arguments.len() => return,
            Some(_) => None,
            None => {
                if self.id.is_empty() {
                    self.id = call_id_for(self.index);
                }
                Some(self.name.as_str())
            }
        };
        let from = self.streamed.unwrap_or(0);
        out.push(Ok(Event::tool_call_delta(
            self.id.as_str(),
            name,
            &self.arguments[from..],
        )));
        self.streamed = Some(self.arguments.len());
    }
}

impl ChatCompletionsParser {
    /// [`TurnParser::message`], with the scanner for hot chunks tried first
    /// when `scan` is set (tests compare both ways).
    fn parse(&mut self, event: &str, data: &str, scan: bool, out: &mut Vec<EventResult>) {
        if self.state != State::Streaming {
            return;
        }
        // `trim_start` looks at one character of a JSON chunk; only `[DONE]`
        // pays for the whole check.
        if data.trim_start().starts_with("[DONE]") && data.trim() == "[DONE]" {
            self.flush_calls(out);
            self.state = State::Ended;
            return;
        }
        if let Some(hot) = hot::scan(data).filter(|_| scan) {
            self.hot(hot, out);
        } else {
            self.serde(event, data, out);
        }
        // An `error` event whose JSON has no recognised error field.
        if event == "error" && self.state == State::Streaming {
            self.fail(truncate(data.trim(), 500), out);
        }
    }

    fn serde(&mut self, event: &str, data: &str, out: &mut Vec<EventResult>) {
        match serde_json::from_str::<Chunk<'_>>(data) {
            Ok(chunk) => self.chunk(chunk, out),
            // `event: error` with a body that is not JSON: its text is the message.
            Err(_) if event == "error" => self.fail(truncate(data.trim(), 500), out),
            Err(error) => {
                out.push(Err(Error::protocol(format!(
                    "a Chat Completions chunk is not valid JSON ({error}): {}",
                    truncate(data, 200)
                ))));
                self.state = State::Failed;
            }
        }
    }
}

impl TurnParser for ChatCompletionsParser {
    fn message(&mut self, event: &str, data: &str, out: &mut Vec<EventResult>) {
        self.parse(event, data, true, out);
    }

    fn finish(&mut self, out: &mut Vec<EventResult>) {
        let mut state = self.state;
        state.finish("stream ended before [DONE]", out, |out| {
            if !self.text.is_empty() {
                out.push(Ok(Event::new(EventKind::Message {
                    text: Text::from(std::mem::take(&mut self.text)),
                    message_id: self.message_id.clone(),
                })));
            }
            if let Some(usage) = self.usage.take() {
                out.push(Ok(Event::new(usage)));
            }
            out.push(Ok(Event::run_end(RunStatus::Completed)));
        });
        self.state = state;
    }

    fn is_done(&self) -> bool {
        self.state.is_done()
    }
}

#[cfg(test)]
#[path = "parser_tests.rs"]
mod tests;
