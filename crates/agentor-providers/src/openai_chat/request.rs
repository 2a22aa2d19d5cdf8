//! The JSON body of `POST /chat/completions`, borrowed from a [`ChatRequest`].

use agentor_core::{ChatMessage, ChatRequest, ChatRole, ToolCallRequest, ToolSpec};
use serde::Serialize;

#[derive(Serialize)]
struct Body<'a> {
    model: &'a str,
    messages: Vec<WireMessage<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<WireTool<'a>>,
    stream: bool,
    stream_options: StreamOptions,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_p: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning_effort: Option<&'a str>,
}

#[derive(Serialize)]
struct StreamOptions {
    /// Asks for the final usage chunk.
    include_usage: bool,
}

#[derive(Serialize)]
struct WireMessage<'a> {
    role: ChatRole,
    /// `null` for an assistant message that only calls tools, as OpenAI sends it.
    content: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_calls: Vec<WireToolCall<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_call_id: Option<&'a str>,
}

#[derive(Serialize)]
struct WireToolCall<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    function: WireFunctionCall<'a>,
}

#[derive(Serialize)]
struct WireFunctionCall<'a> {
    name: &'a str,
    /// A JSON string, as the API wants it.
    arguments: String,
}

#[derive(Serialize)]
struct WireTool<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    function: WireFunction<'a>,
}

#[derive(Serialize)]
struct WireFunction<'a> {
    name: &'a str,
    description: &'a str,
    parameters: &'a serde_json::Value,
}

/// The body for `request`, asking `model`.
pub(super) fn body(request: &ChatRequest, model: &str) -> Result<Vec<u8>, serde_json::Error> {
    let settings = &request.settings;
    let body = Body {
        model,
        messages: request.messages.iter().map(wire_message).collect(),
        tools: request.tools.iter().map(wire_tool).collect(),
        stream: true,
        stream_options: StreamOptions {
            include_usage: true,
        },
        temperature: settings.temperature,
        top_p: settings.top_p,
        max_tokens: settings.max_tokens,
        reasoning_effort: settings.reasoning_effort.as_deref(),
    };
    serde_json::to_vec(&body)
}

fn wire_message(message: &ChatMessage) -> WireMessage<'_> {
    let calls_only = message.role == ChatRole::Assistant
        && message.content.is_empty()
        && !message.tool_calls.is_empty();
    WireMessage {
        role: message.role,
        content: (!calls_only).then_some(&*message.content),
        tool_calls: message.tool_calls.iter().map(wire_tool_call).collect(),
        tool_call_id: message.tool_call_id.as_deref(),
    }
}

fn wire_tool_call(call: &ToolCallRequest) -> WireToolCall<'_> {
    // Arguments that were not valid JSON came back as a string holding the
    // model's raw text: send that text again, not a JSON-quoted copy of it.
    let arguments = match &call.arguments {
        serde_json::Value::String(raw) => raw.clone(),
        value => value.to_string(),
    };
    WireToolCall {
        id: &call.id,
        kind: "function",
        function: WireFunctionCall {
            name: &call.name,
            arguments,
        },
    }
}

fn wire_tool(tool: &ToolSpec) -> WireTool<'_> {
    WireTool {
        kind: "function",
        function: WireFunction {
            name: &tool.name,
            description: &tool.description,
            parameters: &tool.parameters,
        },
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use agentor_core::{ModelSettings, ToolSpec};
    use serde_json::json;

    #[test]
    fn a_tool_conversation_has_the_openai_shape() {
        let mut assistant = ChatMessage::assistant("");
        assistant.tool_calls.push(ToolCallRequest {
            id: "call_1".into(),
            name: "weather".into(),
            arguments: json!({"city": "Paris"}),
        });
        let mut settings = ModelSettings::default();
        settings.temperature = Some(0.5);
        settings.max_tokens = Some(100);
        let request = ChatRequest::new(
            "gpt-4o-mini",
            vec![
                ChatMessage::system("Be brief."),
                ChatMessage::user("Weather in Paris?"),
                assistant,
                ChatMessage::tool("call_1", "18°C"),
            ],
        )
        .with_tools(vec![ToolSpec {
            name: "weather".into(),
            description: "Current weather".into(),
            parameters: json!({"type": "object"}),
        }])
        .with_settings(settings);
        let body: serde_json::Value =
            serde_json::from_slice(&body(&request, "gpt-4o-mini").unwrap()).unwrap();
        assert_eq!(
            body,
            json!({
                "model": "gpt-4o-mini",
                "messages": [
                    {"role": "system", "content": "Be brief."},
                    {"role": "user", "content": "Weather in Paris?"},
                    {"role": "assistant", "content": null, "tool_calls": [
                        {"id": "call_1", "type": "function",
                         "function": {"name": "weather", "arguments": "{\"city\":\"Paris\"}"}}
                    ]},
                    {"role": "tool", "content": "18°C", "tool_call_id": "call_1"}
                ],
                "tools": [{"type": "function", "function": {
                    "name": "weather", "description": "Current weather",
                    "parameters": {"type": "object"}}}],
                "stream": true,
                "stream_options": {"include_usage": true},
                "temperature": 0.5,
                "max_tokens": 100
            })
        );
    }

    #[test]
    fn raw_arguments_go_back_verbatim_and_no_tools_means_no_key() {
        let mut assistant = ChatMessage::assistant("Let me check.");
        assistant.tool_calls.push(ToolCallRequest {
            id: "c".into(),
            name: "t".into(),
            arguments: json!("{not json"),
        });
        let request = ChatRequest::new("m", vec![assistant]);
        let body: serde_json::Value =
            serde_json::from_slice(&body(&request, "m").unwrap()).unwrap();
        assert_eq!(body["messages"][0]["content"], "Let me check.");
        assert_eq!(
            body["messages"][0]["tool_calls"][0]["function"]["arguments"],
            "{not json"
        );
        assert!(body.get("tools").is_none());
        assert!(body.get("temperature").is_none());
    }
}
