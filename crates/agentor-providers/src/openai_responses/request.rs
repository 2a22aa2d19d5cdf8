//! The Responses API request body for a [`ChatRequest`].

use agentor_core::{ChatMessage, ChatRequest, ChatRole, ToolCallRequest};
use serde_json::{json, Map, Value};

/// The JSON body of a streaming `POST /v1/responses` for `request`.
///
/// - `model`, `stream: true`;
/// - `input`: the conversation as a list of items, in order:
///   - system, user and assistant text as `{"role", "content"}` messages
///     (an assistant message that only calls tools adds no message item).
///     **System messages stay `{"role": "system"}` items in place** rather
///     than becoming `instructions`: the conversation goes over exactly as
///     given, a system message in the middle keeps its position, and nothing
///     is merged;
///   - each tool call of an assistant message as
///     `{"type": "function_call", "call_id", "name", "arguments"}`, the
///     arguments as a JSON string (arguments that are already a JSON string
///     are the raw text the model wrote, per the `Provider` contract, and
///     go back unchanged);
///   - each tool message as `{"type": "function_call_output", "call_id",
///     "output"}` (`call_id` empty when the message names none; the API
///     will say so);
/// - `tools` (when any) as `{"type": "function", "name", "description",
///   "parameters"}`;
/// - settings when set (a temperature or `top_p` that is not a finite number
///   is left out): `temperature`, `top_p`, `max_output_tokens` (from
///   `max_tokens`), `reasoning: {"effort"}`.
///
/// ```
/// use agentor_core::{ChatRequest, ChatMessage};
/// use agentor_providers::openai_responses::request_body;
///
/// let body = request_body(&ChatRequest::new("gpt-4.1", vec![ChatMessage::user("Hi")]));
/// assert_eq!(
///     body,
///     serde_json::json!({
///         "model": "gpt-4.1",
///         "input": [{"role": "user", "content": "Hi"}],
///         "stream": true,
///     })
/// );
/// ```
pub fn request_body(request: &ChatRequest) -> Value {
    let mut body = Map::new();
    body.insert("model".into(), json!(request.model.as_str()));
    let mut input = Vec::with_capacity(request.messages.len());
    for message in &request.messages {
        push_items(message, &mut input);
    }
    body.insert("input".into(), Value::Array(input));
    if !request.tools.is_empty() {
        let tools = request
            .tools
            .iter()
            .map(|tool| {
                json!({
                    "type": "function",
                    "name": tool.name.as_str(),
                    "description": tool.description.as_str(),
                    "parameters": tool.parameters,
                })
            })
            .collect();
        body.insert("tools".into(), Value::Array(tools));
    }
    body.insert("stream".into(), Value::Bool(true));
    let settings = &request.settings;
    if let Some(temperature) = settings.temperature.and_then(decimal) {
        body.insert("temperature".into(), temperature);
    }
    if let Some(top_p) = settings.top_p.and_then(decimal) {
        body.insert("top_p".into(), top_p);
    }
    if let Some(max_tokens) = settings.max_tokens {
        body.insert("max_output_tokens".into(), json!(max_tokens));
    }
    if let Some(effort) = &settings.reasoning_effort {
        body.insert("reasoning".into(), json!({ "effort": effort.as_str() }));
    }
    Value::Object(body)
}

/// `x` as the decimal it was written as: `0.7_f32` is `0.7`, not the
/// `0.699999988079071` a plain widening to `f64` gives.
/// `None` when not finite: JSON has no such number, and leaving the setting
/// out keeps the API's default.
fn decimal(x: f32) -> Option<Value> {
    let widened = x.to_string().parse::<f64>().unwrap_or(f64::from(x));
    serde_json::Number::from_f64(widened).map(Value::Number)
}

fn push_items(message: &ChatMessage, input: &mut Vec<Value>) {
    let role = match message.role {
        ChatRole::System => "system",
        ChatRole::User => "user",
        ChatRole::Assistant => "assistant",
        ChatRole::Tool => {
            input.push(json!({
                "type": "function_call_output",
                "call_id": message.tool_call_id.as_deref().unwrap_or(""),
                "output": message.content.as_str(),
            }));
            return;
        }
    };
    // An assistant turn that only called tools has no text to send.
    if !message.content.is_empty() || message.tool_calls.is_empty() {
        input.push(json!({ "role": role, "content": message.content.as_str() }));
    }
    for call in &message.tool_calls {
        input.push(function_call(call));
    }
}

fn function_call(call: &ToolCallRequest) -> Value {
    let arguments = match &call.arguments {
        Value::String(raw) => raw.clone(),
        other => other.to_string(),
    };
    json!({
        "type": "function_call",
        "call_id": call.id.as_str(),
        "name": call.name.as_str(),
        "arguments": arguments,
    })
}

#[cfg(test)]
mod tests {
    use agentor_core::{ModelSettings, ToolSpec};

    use super::*;

    #[test]
    fn a_full_request_has_the_responses_shape() {
        let mut assistant = ChatMessage::assistant("");
        assistant.tool_calls.push(ToolCallRequest {
            id: "call_1".into(),
            name: "get_weather".into(),
            arguments: json!({"city": "Paris"}),
        });
        let mut settings = ModelSettings::default();
        settings.temperature = Some(0.5);
        settings.top_p = Some(0.25);
        settings.max_tokens = Some(256);
        settings.reasoning_effort = Some("low".into());
        let request = ChatRequest::new(
            "o4-mini",
            vec![
                ChatMessage::system("Be brief."),
                ChatMessage::user("Weather in Paris?"),
                assistant,
                ChatMessage::tool("call_1", "18°C, sunny"),
            ],
        )
        .with_tools(vec![ToolSpec {
            name: "get_weather".into(),
            description: "Current weather".into(),
            parameters: json!({"type": "object", "properties": {"city": {"type": "string"}}}),
        }])
        .with_settings(settings);

        assert_eq!(
            request_body(&request),
            json!({
                "model": "o4-mini",
                "input": [
                    {"role": "system", "content": "Be brief."},
                    {"role": "user", "content": "Weather in Paris?"},
                    {"type": "function_call", "call_id": "call_1", "name": "get_weather",
                     "arguments": "{\"city\":\"Paris\"}"},
                    {"type": "function_call_output", "call_id": "call_1", "output": "18°C, sunny"},
                ],
                "tools": [{
                    "type": "function",
                    "name": "get_weather",
                    "description": "Current weather",
                    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
                }],
                "stream": true,
                "temperature": 0.5,
                "top_p": 0.25,
                "max_output_tokens": 256,
                "reasoning": {"effort": "low"},
            })
        );
    }

    #[test]
    fn settings_keep_their_decimal_value() {
        let mut settings = ModelSettings::default();
        settings.temperature = Some(0.7);
        settings.top_p = Some(f32::NAN);
        let body = request_body(&ChatRequest::new("m", vec![]).with_settings(settings));
        assert_eq!(body["temperature"].to_string(), "0.7");
        assert!(body.get("top_p").is_none());
    }

    #[test]
    fn raw_arguments_and_text_beside_calls_go_back_unchanged() {
        let mut assistant = ChatMessage::assistant("Let me look.");
        assistant.tool_calls.push(ToolCallRequest {
            id: "call_2".into(),
            name: "search".into(),
            arguments: json!("{not json"),
        });
        let body = request_body(&ChatRequest::new("m", vec![assistant]));
        assert_eq!(
            body["input"],
            json!([
                {"role": "assistant", "content": "Let me look."},
                {"type": "function_call", "call_id": "call_2", "name": "search", "arguments": "{not json"},
            ])
        );
    }
}
