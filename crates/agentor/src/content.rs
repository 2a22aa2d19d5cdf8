//! Message contents on spans, for those who opt in (the GenAI conventions
//! record none by default): the JSON values of `gen_ai.system_instructions`,
//! `gen_ai.input.messages` and `gen_ai.output.messages` in the conventions'
//! schemas (semconv v1.41.0), and clipped tool arguments and results.
//!
//! Contents are large and unbounded, so each string in them is clipped to
//! [`MAX_PART_BYTES`] and the input keeps the last [`MAX_MESSAGES`]
//! messages; the JSON stays well formed.

use agentor_core::telemetry::CAPTURE_CONTENT_ENV;
use agentor_core::{ChatMessage, ChatRole, ToolCall};
use serde_json::{json, Value};
/// The most bytes of one text, argument or result recorded.
pub(crate) const MAX_PART_BYTES: usize = 16 * 1024;
/// The most messages of a model call's input recorded: the last ones.
pub(crate) const MAX_MESSAGES: usize = 64;
/// What marks a clipped string.
const CLIPPED: &str = "…";

/// Whether [`CAPTURE_CONTENT_ENV`] says `true`.
pub(crate) fn wanted_by_env() -> bool {
    std::env::var(CAPTURE_CONTENT_ENV).is_ok_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

/// `text`, cut at a character boundary to [`MAX_PART_BYTES`] at most.
pub(crate) fn clip(text: &str) -> String {
    if text.len() <= MAX_PART_BYTES {
        return text.to_owned();
    }
    let mut end = MAX_PART_BYTES - CLIPPED.len();
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{CLIPPED}", &text[..end])
}

/// A JSON value as a clipped string (tool arguments).
pub(crate) fn clip_json(value: &Value) -> String {
    clip(&value.to_string())
}

/// A model call's input: the system instructions (when there are any) and
/// the other messages, each a JSON string.
pub(crate) fn input(messages: &[ChatMessage]) -> (Option<String>, String) {
    let instructions: Vec<Value> = messages
        .iter()
        .filter(|m| m.role == ChatRole::System)
        .map(|m| text_part(&m.content))
        .collect();
    let rest: Vec<&ChatMessage> = messages
        .iter()
        .filter(|m| m.role != ChatRole::System)
        .collect();
    let recent = &rest[rest.len().saturating_sub(MAX_MESSAGES)..];
    let input: Vec<Value> = recent.iter().map(|m| input_message(m)).collect();
    let instructions = (!instructions.is_empty()).then(|| Value::from(instructions).to_string());
    (instructions, Value::from(input).to_string())
}

/// A model call's output: one assistant message with its text and tool
/// calls, and why the turn ended (`stop`, `tool_call` or `error`).
pub(crate) fn output(text: &str, calls: &[ToolCall], finish_reason: &str) -> String {
    let mut parts: Vec<Value> = Vec::new();
    if !text.is_empty() {
        parts.push(text_part(text));
    }
    parts.extend(
        calls
            .iter()
            .map(|c| call_part(&c.call_id, &c.name, &c.arguments)),
    );
    json!([{"role": "assistant", "parts": parts, "finish_reason": finish_reason}]).to_string()
}

fn input_message(message: &ChatMessage) -> Value {
    let role = match message.role {
        ChatRole::System => "system",
        ChatRole::User => "user",
        ChatRole::Assistant => "assistant",
        ChatRole::Tool => "tool",
    };
    let mut parts: Vec<Value> = Vec::new();
    match (&message.role, &message.tool_call_id) {
        (ChatRole::Tool, Some(id)) => parts.push(json!({
            "type": "tool_call_response",
            "id": id.as_str(),
            "result": clip(&message.content),
        })),
        _ if !message.content.is_empty() => parts.push(text_part(&message.content)),
        _ => {}
    }
    parts.extend(
        message
            .tool_calls
            .iter()
            .map(|c| call_part(&c.id, &c.name, &c.arguments)),
    );
    json!({"role": role, "parts": parts})
}

fn text_part(text: &str) -> Value {
    json!({"type": "text", "content": clip(text)})
}

fn call_part(id: &str, name: &str, arguments: &Value) -> Value {
    // Clipped arguments are no longer JSON: they go in as a string then.
    let arguments = if arguments.to_string().len() <= MAX_PART_BYTES {
        arguments.clone()
    } else {
        Value::String(clip_json(arguments))
    };
    json!({"type": "tool_call", "id": id, "name": name, "arguments": arguments})
}

#[cfg(test)]
mod tests {
    use agentor_core::ToolCallRequest;

    use super::*;

    #[test]
    fn clipping_keeps_characters_whole_and_marks_the_cut() {
        assert_eq!(clip("short"), "short");
        let long = "é".repeat(MAX_PART_BYTES);
        let clipped = clip(&long);
        assert!(clipped.len() <= MAX_PART_BYTES, "{}", clipped.len());
        assert!(clipped.ends_with(CLIPPED));
        assert!(clipped.trim_end_matches(CLIPPED).chars().all(|c| c == 'é'));
    }

    #[test]
    fn input_follows_the_conventions_schema() {
        let mut assistant = ChatMessage::assistant("");
        assistant.tool_calls.push(ToolCallRequest {
            id: "call_1".into(),
            name: "get_weather".into(),
            arguments: json!({"city": "Oslo"}),
        });
        let messages = [
            ChatMessage::system("Be brief."),
            ChatMessage::user("Weather in Oslo?"),
            assistant,
            ChatMessage::tool("call_1", "sunny"),
        ];
        let (instructions, input) = input(&messages);
        let instructions: Value = serde_json::from_str(&instructions.unwrap()).unwrap();
        assert_eq!(
            instructions,
            json!([{"type": "text", "content": "Be brief."}])
        );
        let input: Value = serde_json::from_str(&input).unwrap();
        assert_eq!(
            input,
            json!([
                {"role": "user", "parts": [{"type": "text", "content": "Weather in Oslo?"}]},
                {"role": "assistant", "parts": [
                    {"type": "tool_call", "id": "call_1", "name": "get_weather", "arguments": {"city": "Oslo"}}
                ]},
                {"role": "tool", "parts": [
                    {"type": "tool_call_response", "id": "call_1", "result": "sunny"}
                ]},
            ])
        );
    }

    #[test]
    fn input_keeps_the_last_messages_and_output_names_the_reason() {
        let messages: Vec<ChatMessage> = (0..MAX_MESSAGES + 5)
            .map(|i| ChatMessage::user(format!("m{i}")))
            .collect();
        let (instructions, input) = input(&messages);
        assert!(instructions.is_none());
        let input: Vec<Value> = serde_json::from_str(&input).unwrap();
        assert_eq!(input.len(), MAX_MESSAGES);
        assert_eq!(input[0]["parts"][0]["content"], "m5");

        let call = ToolCall {
            call_id: "c".into(),
            name: "t".into(),
            arguments: json!({"x": "y".repeat(MAX_PART_BYTES)}),
        };
        let output: Value = serde_json::from_str(&output("", &[call], "tool_call")).unwrap();
        assert_eq!(output[0]["finish_reason"], "tool_call");
        let arguments = &output[0]["parts"][0]["arguments"];
        assert!(arguments.as_str().unwrap().len() <= MAX_PART_BYTES);
    }
}
