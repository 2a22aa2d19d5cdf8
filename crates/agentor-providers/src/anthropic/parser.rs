//! [`MessagesParser`]: the Messages API's stream events as agentor events.

use std::borrow::Cow;

use agentor_core::{Error, ErrorKind, Event, EventKind, EventResult, RunStatus, Text};
use agentor_transport::status::truncate;

use super::thinking::{ThinkingBlock, ThinkingMemory};
use super::wire::{Block, Delta, StreamEvent, Usage};
use crate::TurnParser;
use agentor_transport::TurnState as State;

/// Turns the events of one streamed Messages answer into agentor events.
///
/// | Anthropic | agentor |
/// |---|---|
/// | `message_start` | the message id (on text deltas and the message), the input usage |
/// | `text` block, `text_delta` | `text_delta` |
/// | `tool_use` block | a `tool_call_delta` naming the tool (empty arguments), then one per `input_json_delta`, then at `content_block_stop` the complete `tool_call` |
/// | `thinking` block, `thinking_delta` | `reasoning_delta`; the `signature_delta`s are kept with the text (see below) |
/// | `redacted_thinking` block | nothing shown; kept like thinking |
/// | `message_delta` | the stop reason and the cumulative usage |
/// | `message_stop` | the end: `message` (when there was text), `usage`, `run_end` |
/// | `ping`, unknown event, block or delta types | nothing |
/// | `error` (e.g. `overloaded_error`) | `error` event (kind `provider`, `"<type>: <message>"`), `run_end failed` |
///
/// `stop_reason` `max_tokens`, `refusal` and `model_context_window_exceeded`
/// end the turn with the message so far, the usage, an `error` event saying
/// why, and `run_end failed`: a cut-off or refused answer is not a final one.
/// Any other stop reason (`end_turn`, `tool_use`, `stop_sequence`,
/// `pause_turn`) completes the turn.
///
/// `usage.input_tokens` counts every prompt token: the API's
/// `input_tokens` plus `cache_creation_input_tokens` plus
/// `cache_read_input_tokens` (the API counts cached tokens apart; OpenAI
/// includes them, and agentor's usage means the same across providers). The
/// two cache counts are also kept apart, as `cache_read_input_tokens` and
/// `cache_creation_input_tokens` of the usage event.
///
/// Inside the [`Anthropic`](crate::Anthropic) provider, a turn that called
/// tools leaves its thinking blocks and signatures in the provider's memory,
/// for the request of the next turn to send back as the API requires (a
/// parser made with [`MessagesParser::new`] keeps none).
///
/// ```
/// use agentor_core::{EventKind, Kind};
/// use agentor_providers::{MessagesParser, TurnParser};
///
/// let mut parser = MessagesParser::new();
/// let mut out = Vec::new();
/// for data in [
///     r#"{"type":"message_start","message":{"id":"msg_1","usage":{"input_tokens":10,"cache_read_input_tokens":5,"output_tokens":1}}}"#,
///     r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
///     r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}"#,
///     r#"{"type":"content_block_stop","index":0}"#,
///     r#"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":2}}"#,
///     r#"{"type":"message_stop"}"#,
/// ] {
///     parser.message("", data, &mut out);
/// }
/// assert!(parser.is_done());
/// parser.finish(&mut out);
/// let kinds: Vec<Kind> = out.iter().map(|e| e.as_ref().unwrap().kind()).collect();
/// assert_eq!(kinds, [Kind::TextDelta, Kind::Message, Kind::Usage, Kind::RunEnd]);
/// assert_eq!(
///     out[2].as_ref().unwrap().kind,
///     EventKind::Usage {
///         input_tokens: 15,
///         output_tokens: 2,
///         total_tokens: 17,
///         cache_read_input_tokens: 5,
///         cache_creation_input_tokens: 0,
///     }
/// );
/// ```
#[derive(Debug, Default)]
pub struct MessagesParser {
    state: State,
    message_id: Option<Text>,
    /// The turn's text, for the complete message.
    text: String,
    /// Blocks started and not yet stopped (a handful at most).
    open: Vec<OpenBlock>,
    /// Finished thinking blocks, in order.
    thinking: Vec<ThinkingBlock>,
    /// The id of the turn's first tool call: the key its thinking is kept under.
    first_call: Option<Text>,
    usage: Option<Usage>,
    stop_reason: Option<String>,
    memory: Option<ThinkingMemory>,
}

#[derive(Debug)]
struct OpenBlock {
    index: u32,
    kind: BlockKind,
}

#[derive(Debug)]
enum BlockKind {
    Text,
    Tool {
        id: Text,
        name: Text,
        json: String,
    },
    Thinking {
        thinking: String,
        signature: String,
    },
    /// A block type this parser does not map (server tools, citations…).
    Other,
}

impl MessagesParser {
    /// A parser at the start of a turn, keeping no thinking.
    pub fn new() -> Self {
        MessagesParser::default()
    }

    /// A parser that leaves the turn's thinking in `memory`.
    pub(crate) fn with_memory(memory: ThinkingMemory) -> Self {
        MessagesParser {
            memory: Some(memory),
            ..MessagesParser::default()
        }
    }

    fn event(&mut self, event: StreamEvent<'_>, out: &mut Vec<EventResult>) {
        match &*event.kind {
            "message_start" => {
                if let Some(message) = event.message {
                    if let Some(id) = message.id.as_deref().filter(|id| !id.is_empty()) {
                        self.message_id = Some(Text::from(id));
                    }
                    if let Some(usage) = message.usage {
                        self.usage.get_or_insert_with(Usage::default).update(usage);
                    }
                }
            }
            "content_block_start" => match (event.index, event.content_block) {
                (Some(index), Some(block)) => self.start(index, block, out),
                _ => self.malformed("content_block_start without index or block", out),
            },
            "content_block_delta" => match (event.index, event.delta) {
                (Some(index), Some(delta)) => self.delta(index, delta, out),
                _ => self.malformed("content_block_delta without index or delta", out),
            },
            "content_block_stop" => match event.index {
                Some(index) => self.stop(index, out),
                None => self.malformed("content_block_stop without index", out),
            },
            "message_delta" => {
                if let Some(reason) = event.delta.and_then(|d| d.stop_reason) {
                    self.stop_reason = Some(reason.into_owned());
                }
                if let Some(usage) = event.usage {
                    self.usage.get_or_insert_with(Usage::default).update(usage);
                }
            }
            "message_stop" => self.state = State::Ended,
            "error" => {
                let error = event.error;
                let kind = error.as_ref().and_then(|e| e.kind.as_deref());
                let message = error.as_ref().and_then(|e| e.message.as_deref());
                let text = match (kind, message) {
                    (Some(kind), Some(message)) => format!("{kind}: {message}"),
                    (Some(only), None) | (None, Some(only)) => only.to_owned(),
                    (None, None) => "the API reported an error".to_owned(),
                };
                self.fail(text, out);
            }
            // `ping` and event types added after this parser was written.
            _ => {}
        }
    }

    fn start(&mut self, index: u32, block: Block<'_>, out: &mut Vec<EventResult>) {
        let kind = match &*block.kind {
            "text" => {
                let text = block.text.unwrap_or_default();
                self.text_delta(&text, out);
                BlockKind::Text
            }
            "tool_use" => {
                let (Some(id), Some(name)) = (block.id, block.name) else {
                    return self.malformed("a tool_use block without id or name", out);
                };
                let (id, name) = (Text::from(&*id), Text::from(&*name));
                // Announces the call as soon as it starts: a UI can show the
                // tool's name before any argument arrives.
                out.push(Ok(Event::tool_call_delta(id.clone(), Some(&name), "")));
                BlockKind::Tool {
                    id,
                    name,
                    json: String::new(),
                }
            }
            "thinking" => {
                let thinking = block.thinking.unwrap_or_default();
                if !thinking.is_empty() {
                    out.push(Ok(Event::reasoning_delta(&*thinking)));
                }
                BlockKind::Thinking {
                    thinking: thinking.into_owned(),
                    signature: block.signature.map(Cow::into_owned).unwrap_or_default(),
                }
            }
            "redacted_thinking" => {
                if let Some(data) = block.data {
                    self.thinking.push(ThinkingBlock::RedactedThinking {
                        data: data.into_owned(),
                    });
                }
                BlockKind::Other
            }
            _ => BlockKind::Other,
        };
        self.open.push(OpenBlock { index, kind });
    }

    fn delta(&mut self, index: u32, delta: Delta<'_>, out: &mut Vec<EventResult>) {
        let Some(position) = self.open.iter().position(|b| b.index == index) else {
            return self.malformed(
                &format!("a delta for block {index}, which never started"),
                out,
            );
        };
        let kind = delta.kind.as_deref().unwrap_or_default();
        match (&mut self.open[position].kind, kind) {
            (BlockKind::Text, "text_delta") => {
                let text = delta.text.unwrap_or_default();
                self.text_delta(&text, out);
            }
            (BlockKind::Tool { id, json, .. }, "input_json_delta") => {
                let piece = delta.partial_json.unwrap_or_default();
                if !piece.is_empty() {
                    json.push_str(&piece);
                    out.push(Ok(Event::tool_call_delta(id.clone(), None, &*piece)));
                }
            }
            (BlockKind::Thinking { thinking, .. }, "thinking_delta") => {
                let piece = delta.thinking.unwrap_or_default();
                if !piece.is_empty() {
                    thinking.push_str(&piece);
                    out.push(Ok(Event::reasoning_delta(&*piece)));
                }
            }
            (BlockKind::Thinking { signature, .. }, "signature_delta") => {
                signature.push_str(&delta.signature.unwrap_or_default());
            }
            // Citations and delta types added later: nothing to show.
            _ => {}
        }
    }

    fn text_delta(&mut self, text: &str, out: &mut Vec<EventResult>) {
        if text.is_empty() {
            return;
        }
        self.text.push_str(text);
        out.push(Ok(Event::new(EventKind::TextDelta {
            text: Text::from(text),
            message_id: self.message_id.clone(),
        })));
    }

    fn stop(&mut self, index: u32, out: &mut Vec<EventResult>) {
        let Some(position) = self.open.iter().position(|b| b.index == index) else {
            return self.malformed(&format!("block {index} stopped but never started"), out);
        };
        match self.open.remove(position).kind {
            BlockKind::Tool { id, name, json } => {
                let arguments = if json.trim().is_empty() {
                    serde_json::Value::Object(serde_json::Map::new())
                } else {
                    serde_json::from_str(&json).unwrap_or(serde_json::Value::String(json))
                };
                self.first_call.get_or_insert_with(|| id.clone());
                out.push(Ok(Event::tool_call(id, name, arguments)));
            }
            BlockKind::Thinking {
                thinking,
                signature,
            } => self.thinking.push(ThinkingBlock::Thinking {
                thinking,
                signature,
            }),
            BlockKind::Text | BlockKind::Other => {}
        }
    }

    /// An event that breaks the grammar: a protocol error ends the turn.
    fn malformed(&mut self, what: &str, out: &mut Vec<EventResult>) {
        out.push(Err(Error::protocol(format!(
            "malformed Anthropic stream: {what}"
        ))));
        self.state = State::Failed;
    }

    fn fail(&mut self, message: String, out: &mut Vec<EventResult>) {
        out.push(Ok(Event::error(ErrorKind::Provider, message)));
        self.state = State::Failed;
    }

    /// Why a stop reason is not a final answer, if it is not.
    fn unfinished(reason: &str) -> Option<&'static str> {
        match reason {
            "max_tokens" => Some("the answer was cut off: it reached max_tokens"),
            "refusal" => Some("the model refused to answer (stop_reason refusal)"),
            "model_context_window_exceeded" => {
                Some("the answer was cut off: the model's context window is full")
            }
            _ => None,
        }
    }

    fn ended(&mut self, out: &mut Vec<EventResult>) {
        if let (Some(memory), Some(call)) = (&self.memory, &self.first_call) {
            memory.keep(call, std::mem::take(&mut self.thinking));
        }
        if !self.text.is_empty() {
            out.push(Ok(Event::new(EventKind::Message {
                text: Text::from(std::mem::take(&mut self.text)),
                message_id: self.message_id.clone(),
            })));
        }
        if let Some(usage) = self.usage.take() {
            let input = [
                usage.input_tokens,
                usage.cache_creation_input_tokens,
                usage.cache_read_input_tokens,
            ]
            .into_iter()
            .flatten()
            .fold(0u64, u64::saturating_add);
            let output = usage.output_tokens.unwrap_or(0);
            out.push(Ok(Event::new(EventKind::Usage {
                input_tokens: input,
                output_tokens: output,
                total_tokens: input.saturating_add(output),
                cache_read_input_tokens: usage.cache_read_input_tokens.unwrap_or(0),
                cache_creation_input_tokens: usage.cache_creation_input_tokens.unwrap_or(0),
            })));
        }
        match self.stop_reason.as_deref().and_then(Self::unfinished) {
            Some(why) => {
                out.push(Ok(Event::error(ErrorKind::Provider, why)));
                out.push(Ok(Event::run_end(RunStatus::Failed)));
            }
            None => out.push(Ok(Event::run_end(RunStatus::Completed))),
        }
    }
}

impl TurnParser for MessagesParser {
    fn message(&mut self, event: &str, data: &str, out: &mut Vec<EventResult>) {
        if self.state != State::Streaming {
            return;
        }
        match serde_json::from_str::<StreamEvent<'_>>(data) {
            Ok(parsed) => self.event(parsed, out),
            // `event: error` whose body is not JSON: its text is the message.
            Err(_) if event == "error" => self.fail(truncate(data.trim(), 500), out),
            Err(error) => {
                out.push(Err(Error::protocol(format!(
                    "an Anthropic stream event is not valid JSON ({error}): {}",
                    truncate(data, 200)
                ))));
                self.state = State::Failed;
            }
        }
    }

    fn finish(&mut self, out: &mut Vec<EventResult>) {
        let mut state = self.state;
        state.finish("stream ended before message_stop", out, |out| {
            self.ended(out)
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
