//! [`ResponsesParser`]: the Responses API's streaming events as agentor events.

use agentor_core::{Error, ErrorKind, Event, EventKind, EventResult, RunStatus, Text};

use super::calls::Calls;
use super::wire::{Head, Item, ResponseBody, Str, StreamEvent, Usage};
use crate::TurnParser;

/// The event types the parser acts on; any other type is skipped.
const KNOWN: &[&str] = &[
    "response.output_text.delta",
    "response.refusal.delta",
    "response.output_item.added",
    "response.output_item.done",
    "response.function_call_arguments.delta",
    "response.function_call_arguments.done",
    "response.reasoning_summary_text.delta",
    "response.reasoning_summary_text.done",
    "response.reasoning_summary_part.done",
    "response.reasoning_text.delta",
    "response.completed",
    "response.failed",
    "response.incomplete",
    "error",
];

/// Turns the OpenAI **Responses API** streaming events of one turn into
/// agentor events. A [`TurnParser`]: no I/O, fed one SSE message at a time.
///
/// Each SSE message names its type twice, in `event:` and in the data's
/// `type`; the data wins, the SSE name is the fallback. The mapping:
///
/// | Responses event | agentor events |
/// |---|---|
/// | `response.output_text.delta` (and `response.refusal.delta`) | text delta, `message_id` = the item id |
/// | `response.reasoning_summary_text.delta`, `response.reasoning_text.delta` | reasoning delta |
/// | `response.reasoning_summary_text.done` (or `…_part.done` when no text done came) | reasoning summary |
/// | `response.output_item.added`/`.done` (function call), `response.function_call_arguments.delta`/`.done` | `tool_call_delta`s as the arguments stream (call id and name on the first), then one tool call per function-call item once its arguments are done |
/// | `response.completed` | the message (when there was text), usage, `run_end completed` |
/// | `error` | error event (`code: message`), `run_end failed` |
/// | `response.failed` | usage (when reported), error event with `response.error.message`, `run_end failed` |
/// | `response.incomplete` | usage (when reported), error event naming `incomplete_details.reason`, `run_end failed` |
/// | anything else (`response.created`, `response.in_progress`, `response.output_text.done`, …) | nothing |
///
/// Parallel function calls are told apart by `item_id` (or `output_index`
/// when a server omits the id). Arguments that are not valid JSON arrive as a
/// JSON string holding the raw text, as the [`Provider`](agentor_core::Provider)
/// contract says; empty arguments (a call without parameters, as some
/// compatible servers send it) are read as `{}`.
///
/// **`response.incomplete` ends the run `failed`**: the model stopped before
/// its answer was finished (`max_output_tokens`, `content_filter`), so the
/// text is cut off and a function call may be half-written. Calling that
/// `completed` would let an agent loop take a truncated answer for a final
/// one; the contract also says an error event is followed by a `failed` run
/// end. The text deltas already sent stay sent; no `message` event follows,
/// since there is no complete message.
///
/// Data that is not JSON, or a known event whose fields have the wrong
/// types, is a protocol failure: an `Err` and a `failed` run end. A data of
/// `[DONE]` (sent by some compatible servers) is skipped.
///
/// ```
/// use agentor_providers::{ResponsesParser, TurnParser};
///
/// let mut parser = ResponsesParser::new();
/// let mut out = Vec::new();
/// parser.message(
///     "response.output_text.delta",
///     r#"{"type":"response.output_text.delta","item_id":"msg_1","output_index":0,"content_index":0,"delta":"Hi"}"#,
///     &mut out,
/// );
/// parser.message(
///     "response.completed",
///     r#"{"type":"response.completed","response":{"usage":{"input_tokens":5,"output_tokens":1,"total_tokens":6}}}"#,
///     &mut out,
/// );
/// assert!(parser.is_done());
/// let kinds: Vec<&str> = out.iter().map(|e| e.as_ref().unwrap().kind().as_str()).collect();
/// assert_eq!(kinds, ["text_delta", "message", "usage", "run_end"]);
/// ```
#[derive(Debug, Default)]
pub struct ResponsesParser {
    /// The turn's text so far, for the closing `message`.
    text: String,
    /// The id of the first message item that produced text.
    message_id: Option<Text>,
    /// The item id of the last delta, so consecutive deltas of one item share
    /// one allocation.
    last_item: Option<Text>,
    calls: Calls,
    /// Summaries already pushed, by (item id, summary index): OpenAI sends
    /// each summary twice (`…_text.done`, then `…_part.done`).
    summaries: Vec<(Text, u64)>,
    done: bool,
}

impl ResponsesParser {
    /// A parser for one turn.
    pub fn new() -> Self {
        ResponsesParser::default()
    }

    /// The item id as shared text, reusing the previous one when it repeats.
    fn item_text(&mut self, id: Option<&Str<'_>>) -> Option<Text> {
        let id: &str = id?;
        match &self.last_item {
            Some(last) if last.as_str() == id => Some(last.clone()),
            _ => {
                let text = Text::from(id);
                self.last_item = Some(text.clone());
                Some(text)
            }
        }
    }

    fn handle(&mut self, ty: &str, ev: StreamEvent<'_>, out: &mut Vec<EventResult>) {
        match ty {
            "response.output_text.delta" | "response.refusal.delta" => {
                let Some(delta) = ev.delta.filter(|d| !d.is_empty()) else {
                    return;
                };
                let message_id = self.item_text(ev.item_id.as_ref());
                if self.message_id.is_none() {
                    self.message_id.clone_from(&message_id);
                }
                self.text.push_str(&delta);
                out.push(Ok(Event::new(EventKind::TextDelta {
                    text: Text::from(&*delta),
                    message_id,
                })));
            }
            "response.reasoning_summary_text.delta" | "response.reasoning_text.delta" => {
                let Some(delta) = ev.delta.filter(|d| !d.is_empty()) else {
                    return;
                };
                let message_id = self.item_text(ev.item_id.as_ref());
                out.push(Ok(Event::new(EventKind::ReasoningDelta {
                    text: Text::from(&*delta),
                    message_id,
                })));
            }
            "response.reasoning_summary_text.done" => {
                self.summary(ev.item_id.as_ref(), ev.summary_index, ev.text, out);
            }
            "response.reasoning_summary_part.done" => {
                let text = ev.part.and_then(|p| p.text);
                self.summary(ev.item_id.as_ref(), ev.summary_index, text, out);
            }
            "response.output_item.added" | "response.output_item.done" => {
                let done = ty == "response.output_item.done";
                if let Some(item) = ev.item.filter(is_function_call) {
                    self.function_item(&item, ev.output_index, done, out);
                }
            }
            "response.function_call_arguments.delta" => {
                if let Some(delta) = ev.delta {
                    let call = self
                        .calls
                        .find_or_add(ev.item_id.as_deref(), ev.output_index);
                    call.arguments.push_str(&delta);
                    call.stream_delta(out);
                }
            }
            "response.function_call_arguments.done" => {
                let call = self
                    .calls
                    .find_or_add(ev.item_id.as_deref(), ev.output_index);
                if let Some(arguments) = ev.arguments {
                    // The whole text is authoritative over the deltas.
                    call.replace_arguments(&arguments);
                }
                if call.name.is_none() {
                    call.name = ev.name.map(|n| Text::from(&*n));
                }
                call.stream_delta(out);
                call.arguments_done = true;
                if let Some(event) = call.take_event() {
                    out.push(Ok(event));
                }
            }
            "response.completed" => self.completed(ev.response, out),
            "response.failed" => {
                let response = ev.response;
                let usage = response.as_ref().and_then(|r| r.usage.as_ref());
                let error = response.as_ref().and_then(|r| r.error.as_ref());
                let message = describe(
                    error.and_then(|e| e.code.as_ref()),
                    error.and_then(|e| e.message.as_deref()),
                    "the response failed",
                );
                self.fail(usage, message, out);
            }
            "response.incomplete" => {
                let response = ev.response;
                let usage = response.as_ref().and_then(|r| r.usage.as_ref());
                let reason = response
                    .as_ref()
                    .and_then(|r| r.incomplete_details.as_ref())
                    .and_then(|d| d.reason.as_deref())
                    .unwrap_or("unknown reason");
                let message = format!(
                    "response incomplete ({reason}): the model stopped before finishing its answer"
                );
                self.fail(usage, message, out);
            }
            "error" => {
                let (code, message) = match &ev.error {
                    Some(body) => (body.code.as_ref(), body.message.as_deref()),
                    None => (ev.code.as_ref(), ev.message.as_deref()),
                };
                let message = describe(code, message, "the API reported an error");
                self.fail(None, message, out);
            }
            _ => {}
        }
    }

    fn summary(
        &mut self,
        item_id: Option<&Str<'_>>,
        index: Option<u64>,
        text: Option<Str<'_>>,
        out: &mut Vec<EventResult>,
    ) {
        let Some(text) = text.filter(|t| !t.is_empty()) else {
            return;
        };
        let key = (
            item_id.map(|id| Text::from(&**id)).unwrap_or_default(),
            index.unwrap_or(0),
        );
        if self.summaries.contains(&key) {
            return;
        }
        self.summaries.push(key);
        out.push(Ok(Event::new(EventKind::ReasoningSummary {
            text: Text::from(&*text),
        })));
    }

    fn function_item(
        &mut self,
        item: &Item<'_>,
        output_index: Option<u64>,
        done: bool,
        out: &mut Vec<EventResult>,
    ) {
        let call = self.calls.find_or_add(item.id.as_deref(), output_index);
        if call.call_id.is_none() {
            call.call_id = item.call_id.as_deref().map(Text::from);
        }
        if call.name.is_none() {
            call.name = item.name.as_deref().map(Text::from);
        }
        if let Some(arguments) = item.arguments.as_deref().filter(|_| !call.emitted) {
            // `added` carries the arguments so far (normally none), `done`
            // all of them; either way more text is better than less.
            if arguments.len() >= call.arguments.len() {
                call.replace_arguments(arguments);
            }
        }
        if !done {
            call.stream_delta(out);
            return;
        }
        call.arguments_done = true;
        if call.call_id.is_none() {
            // Without a `call_id` the item id still pairs call and result.
            call.call_id = item.id.as_deref().map(Text::from);
        }
        if call.name.is_none() && !call.emitted {
            let id = call.call_id.as_deref().unwrap_or("?").to_owned();
            self.abort(
                Error::protocol(format!("function call `{id}` has no name")),
                out,
            );
            return;
        }
        call.stream_delta(out);
        if let Some(event) = call.take_event() {
            out.push(Ok(event));
        }
    }

    fn completed(&mut self, response: Option<ResponseBody<'_>>, out: &mut Vec<EventResult>) {
        // A finished response has finished every call, even one whose `done`
        // events a server left out.
        self.calls.take_remaining(out);
        if !self.text.is_empty() {
            out.push(Ok(Event::new(EventKind::Message {
                text: Text::from(std::mem::take(&mut self.text)),
                message_id: self.message_id.take(),
            })));
        }
        if let Some(usage) = response.as_ref().and_then(|r| r.usage.as_ref()) {
            out.push(Ok(usage_event(usage)));
        }
        out.push(Ok(Event::run_end(RunStatus::Completed)));
        self.done = true;
    }

    /// An error event reported by the API, then the `failed` run end.
    fn fail(&mut self, usage: Option<&Usage>, message: String, out: &mut Vec<EventResult>) {
        if let Some(usage) = usage {
            out.push(Ok(usage_event(usage)));
        }
        out.push(Ok(Event::error(ErrorKind::Provider, message)));
        out.push(Ok(Event::run_end(RunStatus::Failed)));
        self.done = true;
    }

    /// A failure of the stream itself (`Err`), then the `failed` run end.
    fn abort(&mut self, error: Error, out: &mut Vec<EventResult>) {
        out.push(Err(error));
        out.push(Ok(Event::run_end(RunStatus::Failed)));
        self.done = true;
    }
}

impl TurnParser for ResponsesParser {
    fn message(&mut self, event: &str, data: &str, out: &mut Vec<EventResult>) {
        if self.done {
            return;
        }
        let trimmed = data.trim();
        if trimmed.is_empty() || trimmed == "[DONE]" {
            return;
        }
        match serde_json::from_str::<StreamEvent<'_>>(data) {
            Ok(mut ev) => {
                let ty = ev.ty.take();
                let ty = ty.as_deref().unwrap_or(event);
                self.handle(ty, ev, out);
            }
            Err(err) => {
                // The full parse reads fields an unknown event may use
                // differently; only a known event is broken by a mismatch.
                let head = serde_json::from_str::<Head<'_>>(data);
                let ty = match &head {
                    Ok(Head { ty: Some(ty) }) => &**ty,
                    Ok(Head { ty: None }) => event,
                    Err(_) => {
                        let message = format!("Responses event `{event}` is not JSON: {err}");
                        return self.abort(Error::protocol(message), out);
                    }
                };
                if KNOWN.contains(&ty) {
                    let message = format!("malformed Responses event `{ty}`: {err}");
                    self.abort(Error::protocol(message), out);
                }
            }
        }
    }

    fn finish(&mut self, out: &mut Vec<EventResult>) {
        if self.done {
            return;
        }
        let error = Error::provider(format!(
            "stream ended before response.completed: the response is truncated \
             ({} bytes of text received)",
            self.text.len()
        ));
        self.abort(error, out);
    }

    fn is_done(&self) -> bool {
        self.done
    }
}

fn is_function_call(item: &Item<'_>) -> bool {
    item.ty.as_deref() == Some("function_call")
}

fn usage_event(usage: &Usage) -> Event {
    Event::new(EventKind::Usage {
        input_tokens: usage.input_tokens,
        output_tokens: usage.output_tokens,
        total_tokens: usage
            .total_tokens
            .unwrap_or(usage.input_tokens.saturating_add(usage.output_tokens)),
        cache_read_input_tokens: usage
            .input_tokens_details
            .as_ref()
            .map_or(0, |details| details.cached_tokens),
        cache_creation_input_tokens: 0,
    })
}

/// `code: message`, or whichever of the two is present.
fn describe(code: Option<&serde_json::Value>, message: Option<&str>, fallback: &str) -> String {
    let code = match code {
        Some(serde_json::Value::String(code)) => Some(code.clone()),
        Some(serde_json::Value::Null) | None => None,
        Some(other) => Some(other.to_string()),
    };
    let message = message.filter(|m| !m.is_empty()).unwrap_or(fallback);
    match code {
        Some(code) => format!("{code}: {message}"),
        None => message.to_owned(),
    }
}
