//! `POST /agui`: an AG-UI agent endpoint (what `@ag-ui/client`'s
//! `HttpAgent` calls), answering a `RunAgentInput` with AG-UI events
//! ([`agentor::wire::ag_ui`]).

use agentor::{Agentor, ChatMessage, Text, ToolCallRequest, ToolSpec};
use axum::extract::{FromRequest, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;

use crate::error::ApiError;
use crate::event_body::Resume;
use crate::extract::{query_options, read_json};
use crate::options::{BodyOptions, RunOptions};
use crate::response::EventStreamResponse;
use crate::state::AppState;

/// The most messages a `RunAgentInput` may carry (the body limit bounds the bytes).
pub const MAX_AGUI_MESSAGES: usize = 1000;
/// The most frontend tools a `RunAgentInput` may offer.
pub const MAX_AGUI_TOOLS: usize = 128;

/// AG-UI's `RunAgentInput`: the thread and run ids, the conversation, the
/// frontend's tools, the application state and context, and forwarded
/// properties (whose `events`, `rebuffer`, `batch_ms` and `timeout` are the
/// pipeline options, as in a `/chat` body).
///
/// ```
/// use agentor::ChatRole;
/// use agentor_server::RunAgentInput;
///
/// let input: RunAgentInput = serde_json::from_str(r#"{
///     "threadId": "t1", "runId": "r1",
///     "messages": [{"id": "m1", "role": "user", "content": "Hi"}],
///     "tools": [{"name": "confirm", "description": "Ask the user", "parameters": {"type": "object"}}],
///     "context": [{"description": "page", "value": "checkout"}]
/// }"#).unwrap();
/// let conversation = input.conversation();
/// assert_eq!(conversation[0].role, ChatRole::System); // the context
/// assert_eq!(conversation[1].content, "Hi");
/// assert_eq!(input.tool_specs()[0].name, "confirm");
/// ```
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunAgentInput {
    /// The conversation thread.
    pub thread_id: String,
    /// The run the client asked for (echoed in `RUN_STARTED`/`RUN_FINISHED`).
    pub run_id: String,
    /// The application state (given to the model as context when not empty).
    #[serde(default)]
    pub state: Value,
    /// The conversation so far.
    pub messages: Vec<AgUiMessage>,
    /// Tools the frontend runs.
    #[serde(default)]
    pub tools: Vec<AgUiTool>,
    /// Context the application gives the agent.
    #[serde(default)]
    pub context: Vec<AgUiContext>,
    /// Anything else the client forwards.
    #[serde(default)]
    pub forwarded_props: Value,
}

/// One AG-UI message.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgUiMessage {
    /// The message id.
    #[serde(default)]
    pub id: Option<String>,
    /// `user`, `assistant`, `system`, `developer`, `tool` (others —
    /// `reasoning`, `activity` — are not conversation and are left out).
    pub role: String,
    /// A string, or (for a user) content parts whose text parts are read.
    #[serde(default)]
    pub content: Value,
    /// An assistant message's tool calls.
    #[serde(default)]
    pub tool_calls: Vec<AgUiToolCall>,
    /// A tool message's call.
    #[serde(default)]
    pub tool_call_id: Option<String>,
}

/// A tool call of an AG-UI assistant message.
#[derive(Clone, Debug, Deserialize)]
pub struct AgUiToolCall {
    /// The call id.
    pub id: String,
    /// The function called.
    pub function: AgUiFunction,
}

/// The function of an [`AgUiToolCall`].
#[derive(Clone, Debug, Deserialize)]
pub struct AgUiFunction {
    /// The tool's name.
    pub name: String,
    /// The arguments, as JSON text.
    #[serde(default)]
    pub arguments: String,
}

/// A tool the frontend defines and runs.
#[derive(Clone, Debug, Deserialize)]
pub struct AgUiTool {
    /// Its name.
    pub name: String,
    /// What it does.
    #[serde(default)]
    pub description: String,
    /// JSON Schema of its arguments.
    #[serde(default)]
    pub parameters: Value,
}

/// A piece of context from the application.
#[derive(Clone, Debug, Deserialize)]
pub struct AgUiContext {
    /// What it is.
    pub description: String,
    /// Its value.
    pub value: String,
}

impl RunAgentInput {
    /// The conversation for the agent: a system message with the context
    /// and the state (when there are any), then the messages in order
    /// (`developer` as `system`; tool-call arguments parsed, or kept as a
    /// JSON string when they are not JSON).
    pub fn conversation(&self) -> Vec<ChatMessage> {
        let mut out = Vec::with_capacity(self.messages.len() + 1);
        let mut context = String::new();
        for item in &self.context {
            context.push_str(&format!("- {}: {}\n", item.description, item.value));
        }
        let has_state = match &self.state {
            Value::Null => false,
            Value::Object(map) => !map.is_empty(),
            _ => true,
        };
        if has_state {
            context.push_str(&format!("- application state (JSON): {}\n", self.state));
        }
        if !context.is_empty() {
            out.push(ChatMessage::system(format!(
                "Context from the application:\n{context}"
            )));
        }
        for message in &self.messages {
            let content = content_text(&message.content);
            match message.role.as_str() {
                "system" | "developer" => out.push(ChatMessage::system(content)),
                "user" => out.push(ChatMessage::user(content)),
                "assistant" => out.push(ChatMessage {
                    tool_calls: message
                        .tool_calls
                        .iter()
                        .map(|call| ToolCallRequest {
                            id: Text::from(call.id.as_str()),
                            name: Text::from(call.function.name.as_str()),
                            arguments: parse_arguments(&call.function.arguments),
                        })
                        .collect(),
                    ..ChatMessage::assistant(content)
                }),
                "tool" => {
                    if let Some(call_id) = &message.tool_call_id {
                        out.push(ChatMessage::tool(call_id.as_str(), content));
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// The frontend's tools, as the model is offered them.
    pub fn tool_specs(&self) -> Vec<ToolSpec> {
        self.tools
            .iter()
            .map(|tool| ToolSpec {
                name: Text::from(tool.name.as_str()),
                description: Text::from(tool.description.as_str()),
                parameters: match &tool.parameters {
                    Value::Null => serde_json::json!({"type": "object", "properties": {}}),
                    schema => schema.clone(),
                },
            })
            .collect()
    }
}

fn content_text(content: &Value) -> String {
    match content {
        Value::String(text) => text.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter(|p| p.get("type").and_then(Value::as_str) == Some("text"))
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

fn parse_arguments(text: &str) -> Value {
    if text.trim().is_empty() {
        return Value::Object(serde_json::Map::new());
    }
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
}

/// A parsed and validated `POST /agui` request.
pub(crate) struct ParsedRunAgentInput {
    input: RunAgentInput,
    options: RunOptions,
}

impl<S: Send + Sync> FromRequest<S> for ParsedRunAgentInput {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let query = query_options(&req)?;
        let input: RunAgentInput = read_json(req, state, "a RunAgentInput JSON object").await?;
        let invalid = |message: String| {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_request", message)
        };
        if input.messages.len() > MAX_AGUI_MESSAGES {
            return Err(invalid(format!(
                "{} messages: at most {MAX_AGUI_MESSAGES} are accepted",
                input.messages.len()
            )));
        }
        if input.tools.len() > MAX_AGUI_TOOLS {
            return Err(invalid(format!(
                "{} tools: at most {MAX_AGUI_TOOLS} are accepted",
                input.tools.len()
            )));
        }
        if let Some(tool) = input.tools.iter().find(|t| t.name.is_empty()) {
            return Err(invalid(format!("a tool has an empty name ({tool:?})")));
        }
        if input.conversation().is_empty() {
            return Err(invalid("`messages` is empty: nothing to answer".into()));
        }
        let props: BodyOptions = match &input.forwarded_props {
            Value::Object(_) => serde_json::from_value(input.forwarded_props.clone())
                .map_err(|e| ApiError::invalid_option("forwardedProps", e))?,
            _ => BodyOptions::default(),
        };
        let options = RunOptions::resolve(Some(true), props, query)?;
        Ok(ParsedRunAgentInput { input, options })
    }
}

pub(crate) async fn agui(State(state): State<AppState>, parsed: ParsedRunAgentInput) -> Response {
    let permit = match state.limit.acquire() {
        Ok(permit) => permit,
        Err(err) => return err.into_response(),
    };
    let ParsedRunAgentInput { input, options } = parsed;
    let run_id = Agentor::new_run_id();
    let agent = if input.tools.is_empty() {
        state.agent.clone()
    } else {
        state.agent.with_client_tools(input.tool_specs())
    };
    let run = agent
        .stream_chat_with_run_id(input.conversation(), run_id.clone())
        .into_inner();
    let events = options.apply(run);
    // Logged like every streamed run, so `POST /runs/{id}/cancel` and
    // `GET /runs/{id}/events` reach it too.
    let resume = Resume {
        log: state.runs.start(&run_id, state.shutdown.child()),
        window: state.resume_window,
    };
    EventStreamResponse::boxed(events)
        .ag_ui(input.thread_id, input.run_id)
        .run_id(run_id)
        .heartbeat(state.heartbeat)
        .coalesce(state.coalesce)
        .shutdown(&state.shutdown)
        .holding(permit)
        .with_resume(resume)
        .into_response()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use agentor::ChatRole;
    use serde_json::json;

    use super::*;

    #[test]
    fn messages_tools_state_and_context_become_the_conversation() {
        let input: RunAgentInput = serde_json::from_value(json!({
            "threadId": "t", "runId": "r", "state": {"cart": 2},
            "messages": [
                {"id": "1", "role": "developer", "content": "Be brief."},
                {"id": "2", "role": "user", "content": [{"type": "text", "text": "Buy"}, {"type": "binary", "mimeType": "x"}]},
                {"id": "3", "role": "assistant", "toolCalls": [
                    {"id": "c1", "type": "function", "function": {"name": "confirm", "arguments": "{\"q\":1}"}},
                    {"id": "c2", "type": "function", "function": {"name": "broken", "arguments": "{\"q\""}}
                ]},
                {"id": "4", "role": "tool", "toolCallId": "c1", "content": "yes"},
                {"id": "5", "role": "reasoning", "content": "hm"}
            ],
            "tools": [{"name": "confirm", "description": "Ask"}],
            "context": [{"description": "page", "value": "cart"}],
            "forwardedProps": {"rebuffer": "words"}
        }))
        .unwrap();
        let conversation = input.conversation();
        let roles: Vec<ChatRole> = conversation.iter().map(|m| m.role).collect();
        assert_eq!(
            roles,
            [
                ChatRole::System,
                ChatRole::System,
                ChatRole::User,
                ChatRole::Assistant,
                ChatRole::Tool
            ]
        );
        assert!(conversation[0].content.contains("- page: cart"));
        assert!(conversation[0].content.contains("{\"cart\":2}"));
        assert_eq!(conversation[2].content, "Buy");
        assert_eq!(conversation[3].tool_calls[0].arguments, json!({"q": 1}));
        assert_eq!(conversation[3].tool_calls[1].arguments, json!("{\"q\""));
        assert_eq!(conversation[4].tool_call_id.as_deref(), Some("c1"));
        let specs = input.tool_specs();
        assert_eq!(specs[0].parameters["type"], "object");
    }
}
