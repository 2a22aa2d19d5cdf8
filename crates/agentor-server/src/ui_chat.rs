//! `POST /api/chat`: the Vercel AI SDK's `useChat` backend, answering with
//! the UI message stream ([`agentor::wire::ai_sdk`]); and
//! `GET /api/chat/{id}/stream`, which resumes the chat's active stream.

use agentor::{Agentor, ChatMessage, Text, ToolCallRequest};
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;

use crate::encoding::Encoding;
use crate::error::ApiError;
use crate::event_body::Resume;
use crate::extract::{query_options, read_json};
use crate::options::{BodyOptions, RunOptions};
use crate::response::EventStreamResponse;
use crate::state::AppState;

/// The most messages a chat request may carry (the body limit bounds the bytes).
pub const MAX_MESSAGES: usize = 1000;
/// The most parts one UI message may carry.
pub const MAX_PARTS: usize = 1000;

/// The body `useChat`'s default transport (`DefaultChatTransport`) sends:
/// the chat id, its messages with their parts, what triggered the request,
/// the message id to regenerate, and any extra fields the app adds (of
/// which the pipeline options `events`, `rebuffer`, `batch_ms` and
/// `timeout` are read; others are ignored).
///
/// ```
/// use agentor::ChatRole;
/// use agentor_server::UiChatRequest;
///
/// let request: UiChatRequest = serde_json::from_str(r#"{
///     "id": "chat_1", "trigger": "submit-message",
///     "messages": [{"id": "m1", "role": "user", "parts": [{"type": "text", "text": "Hi"}]}]
/// }"#).unwrap();
/// let conversation = request.conversation();
/// assert_eq!(conversation[0].role, ChatRole::User);
/// assert_eq!(conversation[0].content, "Hi");
/// ```
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UiChatRequest {
    /// The chat's id (resume looks the chat's run up by it).
    #[serde(default)]
    pub id: Option<String>,
    /// The conversation so far, the new user message last.
    pub messages: Vec<UiMessage>,
    /// `submit-message` or `regenerate-message`.
    #[serde(default)]
    pub trigger: Option<String>,
    /// The assistant message to regenerate (its id is reused for the answer).
    #[serde(default)]
    pub message_id: Option<String>,
    #[serde(flatten)]
    options: BodyOptions,
}

/// One `UIMessage`: a role and its parts (text, reasoning, tool parts,
/// step boundaries; other parts are ignored).
#[derive(Clone, Debug, Deserialize)]
pub struct UiMessage {
    /// The message id.
    #[serde(default)]
    pub id: Option<String>,
    /// `system`, `user` or `assistant`.
    pub role: UiRole,
    /// The parts, as the client sent them.
    #[serde(default)]
    pub parts: Vec<Value>,
}

/// The role of a [`UiMessage`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UiRole {
    /// Instructions.
    System,
    /// The person.
    User,
    /// The agent.
    Assistant,
}

impl UiChatRequest {
    /// The messages as a conversation for the agent: text parts joined; an
    /// assistant message split at its `step-start` parts into one assistant
    /// message per step, each with the tool calls it made followed by their
    /// results (`output-available` or `output-error`; a call without a
    /// result is left out, as a model API would refuse it); reasoning,
    /// files and data parts left out.
    pub fn conversation(&self) -> Vec<ChatMessage> {
        let mut out = Vec::with_capacity(self.messages.len());
        for message in &self.messages {
            match message.role {
                UiRole::System => out.push(ChatMessage::system(joined_text(&message.parts))),
                UiRole::User => out.push(ChatMessage::user(joined_text(&message.parts))),
                UiRole::Assistant => assistant_steps(&message.parts, &mut out),
            }
        }
        out
    }
}

fn text_of(part: &Value) -> Option<&str> {
    (part.get("type")?.as_str()? == "text")
        .then(|| part.get("text")?.as_str())
        .flatten()
}

fn joined_text(parts: &[Value]) -> String {
    let mut text = String::new();
    for piece in parts.iter().filter_map(text_of) {
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(piece);
    }
    text
}

/// One step of an assistant message: its text, calls and results.
#[derive(Default)]
struct Step {
    text: String,
    calls: Vec<ToolCallRequest>,
    results: Vec<ChatMessage>,
}

impl Step {
    fn flush(&mut self, out: &mut Vec<ChatMessage>) {
        let step = std::mem::take(self);
        if step.text.is_empty() && step.calls.is_empty() {
            return;
        }
        out.push(ChatMessage {
            tool_calls: step.calls,
            ..ChatMessage::assistant(step.text)
        });
        out.extend(step.results);
    }
}

fn assistant_steps(parts: &[Value], out: &mut Vec<ChatMessage>) {
    let mut step = Step::default();
    for part in parts {
        let ty = part.get("type").and_then(Value::as_str).unwrap_or("");
        if ty == "step-start" {
            step.flush(out);
        } else if let Some(text) = text_of(part) {
            step.text.push_str(text);
        } else if let Some((call, result)) = tool_part(ty, part) {
            step.calls.push(call);
            step.results.push(result);
        }
    }
    step.flush(out);
}

/// A tool part with its outcome: `tool-<name>` or `dynamic-tool`.
fn tool_part(ty: &str, part: &Value) -> Option<(ToolCallRequest, ChatMessage)> {
    let name = match ty.strip_prefix("tool-") {
        Some(name) => name,
        None if ty == "dynamic-tool" => part.get("toolName")?.as_str()?,
        None => return None,
    };
    let id = part.get("toolCallId")?.as_str()?;
    let output = match part.get("state")?.as_str()? {
        "output-available" => match part.get("output") {
            Some(Value::String(text)) => text.clone(),
            Some(value) => value.to_string(),
            None => String::new(),
        },
        "output-error" => part
            .get("errorText")
            .and_then(Value::as_str)
            .unwrap_or("the tool failed")
            .to_owned(),
        _ => return None,
    };
    let call = ToolCallRequest {
        id: Text::from(id),
        name: Text::from(name),
        arguments: part.get("input").cloned().unwrap_or(Value::Null),
    };
    Some((call, ChatMessage::tool(id, output)))
}

/// A parsed and validated `POST /api/chat` request.
pub(crate) struct ParsedUiChat {
    request: UiChatRequest,
    options: RunOptions,
}

impl<S: Send + Sync> FromRequest<S> for ParsedUiChat {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let query = query_options(&req)?;
        let request: UiChatRequest = read_json(req, state, "a JSON object with `messages`").await?;
        let invalid = |message: String| {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_request", message)
        };
        if request.messages.is_empty() {
            return Err(invalid("`messages` is empty: nothing to answer".into()));
        }
        if request.messages.len() > MAX_MESSAGES {
            return Err(invalid(format!(
                "{} messages: at most {MAX_MESSAGES} are accepted",
                request.messages.len()
            )));
        }
        if let Some(message) = request.messages.iter().find(|m| m.parts.len() > MAX_PARTS) {
            return Err(invalid(format!(
                "a message has {} parts: at most {MAX_PARTS} are accepted",
                message.parts.len()
            )));
        }
        match request.trigger.as_deref() {
            None | Some("submit-message" | "regenerate-message") => {}
            Some(other) => {
                return Err(invalid(format!(
                    "unknown trigger `{other}` (expected `submit-message` or `regenerate-message`)"
                )))
            }
        }
        // Always a stream: the UI message stream is the only answer.
        let options = RunOptions::resolve(Some(true), request.options.clone(), query)?;
        Ok(ParsedUiChat { request, options })
    }
}

pub(crate) async fn ui_chat(State(state): State<AppState>, parsed: ParsedUiChat) -> Response {
    let permit = match state.limit.acquire() {
        Ok(permit) => permit,
        Err(err) => return err.into_response(),
    };
    let ParsedUiChat { request, options } = parsed;
    let run_id = Agentor::new_run_id();
    let run = state
        .agent
        .stream_chat_with_run_id(request.conversation(), run_id.clone())
        .into_inner();
    let events = options.apply(run);
    let resume = Resume {
        log: state.runs.start(&run_id, state.shutdown.child()),
        window: state.resume_window,
    };
    // The chat's run is active until its stream is dropped: at its end, on
    // a disconnect without a resume window, or when the window closes.
    let events = match &request.id {
        Some(chat_id) => {
            let live = state.chats.insert(chat_id, run_id.clone());
            crate::chat_runs::while_live(events, live)
        }
        None => events,
    };
    let message_id = request.message_id.map(Text::from);
    EventStreamResponse::boxed(events)
        .encoding(ui_encoding(message_id))
        .run_id(run_id)
        .heartbeat(state.heartbeat)
        .coalesce(state.coalesce)
        .shutdown(&state.shutdown)
        .holding(permit)
        .with_resume(resume)
        .into_response()
}

fn ui_encoding(message_id: Option<Text>) -> Encoding {
    let mut encoder = agentor::wire::ai_sdk::Encoder::new();
    if let Some(id) = message_id {
        encoder = encoder.message_id(id);
    }
    Encoding::AiSdk(Box::new(encoder))
}

/// `GET /api/chat/{id}/stream`: the chat's run while it is going on, from
/// its first event kept (the client rebuilds the message from the start),
/// then live; `204 No Content` when the chat has no active run.
pub(crate) async fn resume_ui_chat(
    State(state): State<AppState>,
    Path(chat_id): Path<String>,
) -> Response {
    let Some(run_id) = state.chats.active(&chat_id) else {
        return StatusCode::NO_CONTENT.into_response();
    };
    // From the start: the client rebuilds the message whole. A log that
    // lost its start (or the run) has nothing to resume from.
    match state.runs.read(&run_id, 0).await {
        Ok(batches) => crate::resume::follow(&state, batches, 0, ui_encoding(None), &run_id),
        Err(_) => StatusCode::NO_CONTENT.into_response(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use agentor::ChatRole;
    use serde_json::json;

    use super::*;

    #[test]
    fn assistant_steps_become_calls_then_results() {
        let request: UiChatRequest = serde_json::from_value(json!({
            "id": "c", "trigger": "submit-message", "rebuffer": "words", "someAppField": 1,
            "messages": [
                {"id": "s", "role": "system", "parts": [{"type": "text", "text": "Be brief."}]},
                {"id": "u1", "role": "user", "parts": [{"type": "text", "text": "Weather"}, {"type": "text", "text": "in Paris?"}]},
                {"id": "a1", "role": "assistant", "parts": [
                    {"type": "step-start"},
                    {"type": "reasoning", "text": "hm"},
                    {"type": "text", "text": "Checking."},
                    {"type": "tool-get_weather", "toolCallId": "c1", "state": "output-available",
                     "input": {"city": "Paris"}, "output": "18°C"},
                    {"type": "dynamic-tool", "toolName": "lookup", "toolCallId": "c2", "state": "output-error",
                     "input": {}, "errorText": "down"},
                    {"type": "tool-confirm", "toolCallId": "c3", "state": "input-available", "input": {}},
                    {"type": "step-start"},
                    {"type": "text", "text": "18°C."},
                    {"type": "file", "url": "x", "mediaType": "image/png"}
                ]},
                {"id": "u2", "role": "user", "parts": [{"type": "text", "text": "Thanks"}]}
            ]
        }))
        .unwrap();
        let conversation = request.conversation();
        let roles: Vec<ChatRole> = conversation.iter().map(|m| m.role).collect();
        assert_eq!(
            roles,
            [
                ChatRole::System,
                ChatRole::User,
                ChatRole::Assistant,
                ChatRole::Tool,
                ChatRole::Tool,
                ChatRole::Assistant,
                ChatRole::User
            ]
        );
        assert_eq!(conversation[1].content, "Weather\nin Paris?");
        assert_eq!(conversation[2].content, "Checking.");
        let calls: Vec<(&str, &str)> = conversation[2]
            .tool_calls
            .iter()
            .map(|c| (&*c.id, &*c.name))
            .collect();
        assert_eq!(calls, [("c1", "get_weather"), ("c2", "lookup")]);
        assert_eq!(
            conversation[2].tool_calls[0].arguments,
            json!({"city": "Paris"})
        );
        assert_eq!(conversation[3].content, "18°C");
        assert_eq!(conversation[4].tool_call_id.as_deref(), Some("c2"));
        assert_eq!(conversation[4].content, "down");
        assert_eq!(conversation[5].content, "18°C.");
    }
}
