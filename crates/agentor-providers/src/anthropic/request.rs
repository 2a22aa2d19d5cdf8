//! The JSON body of `POST /v1/messages`, built from a [`ChatRequest`].

use agentor_core::{ChatMessage, ChatRequest, ChatRole};
use serde::Serialize;

use super::thinking::{ThinkingBlock, ThinkingMemory};
use super::AnthropicConfig;

#[derive(Serialize)]
struct Body<'a> {
    model: &'a str,
    max_tokens: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    system: Option<String>,
    messages: Vec<WireMessage<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<WireTool<'a>>,
    stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_p: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    thinking: Option<Thinking>,
}

#[derive(Serialize)]
struct Thinking {
    #[serde(rename = "type")]
    kind: &'static str,
    budget_tokens: u32,
}

#[derive(Serialize)]
struct WireMessage<'a> {
    role: &'static str,
    content: Vec<Content<'a>>,
}

/// A content block sent: one of ours, or a kept thinking block as it came.
#[derive(Serialize)]
#[serde(untagged)]
enum Content<'a> {
    Block(Block<'a>),
    Kept(ThinkingBlock),
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Block<'a> {
    Text {
        text: &'a str,
    },
    ToolUse {
        id: &'a str,
        name: &'a str,
        input: serde_json::Value,
    },
    ToolResult {
        tool_use_id: &'a str,
        content: &'a str,
    },
}

#[derive(Serialize)]
struct WireTool<'a> {
    name: &'a str,
    description: &'a str,
    input_schema: &'a serde_json::Value,
}

/// The thinking budget a `reasoning_effort` asks for, when the configuration
/// sets none: `low` 1024 (the API's minimum), `medium` 4096, `high` 16384,
/// or a number of tokens.
fn budget_for(effort: &str) -> Option<u32> {
    match effort {
        "low" | "minimal" => Some(1024),
        "medium" => Some(4096),
        "high" => Some(16_384),
        other => other.parse().ok(),
    }
}

/// The body for `request`, asking `model`; kept thinking comes from `memory`.
pub(super) fn body(
    request: &ChatRequest,
    model: &str,
    config: &AnthropicConfig,
    memory: &ThinkingMemory,
) -> Result<Vec<u8>, serde_json::Error> {
    let settings = &request.settings;
    let budget = config
        .thinking_budget
        .or_else(|| settings.reasoning_effort.as_deref().and_then(budget_for));
    let mut max_tokens = settings.max_tokens.unwrap_or(config.max_tokens);
    if let Some(budget) = budget {
        // The API wants room to answer after thinking: max_tokens > budget.
        if max_tokens <= budget {
            max_tokens = budget.saturating_add(config.max_tokens);
        }
    }
    let system: Vec<&str> = request
        .messages
        .iter()
        .filter(|m| m.role == ChatRole::System && !m.content.is_empty())
        .map(|m| m.content.as_str())
        .collect();
    let body = Body {
        model,
        max_tokens,
        system: (!system.is_empty()).then(|| system.join("\n\n")),
        messages: messages(&request.messages, memory),
        tools: request
            .tools
            .iter()
            .map(|tool| WireTool {
                name: &tool.name,
                description: &tool.description,
                input_schema: &tool.parameters,
            })
            .collect(),
        stream: true,
        // With thinking on, the API accepts only the default sampling.
        temperature: settings.temperature.filter(|_| budget.is_none()),
        top_p: settings.top_p.filter(|_| budget.is_none()),
        thinking: budget.map(|budget_tokens| Thinking {
            kind: "enabled",
            budget_tokens,
        }),
    };
    serde_json::to_vec(&body)
}

/// The conversation in the API's shape: system messages left out (they are
/// the `system` field), tool results as `tool_result` blocks of a user
/// message, and consecutive messages of one role merged (the API wants
/// turns to alternate, with a turn's tool results together).
fn messages<'a>(conversation: &'a [ChatMessage], memory: &ThinkingMemory) -> Vec<WireMessage<'a>> {
    let mut wire: Vec<WireMessage<'a>> = Vec::new();
    for message in conversation {
        let (role, content) = match message.role {
            ChatRole::System => continue,
            ChatRole::User => ("user", text(&message.content)),
            ChatRole::Tool => {
                let block = Block::ToolResult {
                    tool_use_id: message.tool_call_id.as_deref().unwrap_or_default(),
                    content: &message.content,
                };
                ("user", vec![Content::Block(block)])
            }
            ChatRole::Assistant => ("assistant", assistant(message, memory)),
        };
        if content.is_empty() {
            continue;
        }
        match wire.last_mut() {
            Some(last) if last.role == role => last.content.extend(content),
            _ => wire.push(WireMessage { role, content }),
        }
    }
    wire
}

/// A text block, or none for empty text (the API rejects empty blocks).
fn text(text: &str) -> Vec<Content<'_>> {
    if text.is_empty() {
        Vec::new()
    } else {
        vec![Content::Block(Block::Text { text })]
    }
}

fn assistant<'a>(message: &'a ChatMessage, memory: &ThinkingMemory) -> Vec<Content<'a>> {
    let mut content = Vec::new();
    if let Some(kept) = message
        .tool_calls
        .first()
        .and_then(|call| memory.recall(&call.id))
    {
        content.extend(kept.iter().cloned().map(Content::Kept));
    }
    content.extend(text(&message.content));
    for call in &message.tool_calls {
        // `input` must be an object: arguments that were not valid JSON (the
        // agent answered them with an error) go back as an empty one.
        let input = if call.arguments.is_object() {
            call.arguments.clone()
        } else {
            serde_json::Value::Object(serde_json::Map::new())
        };
        content.push(Content::Block(Block::ToolUse {
            id: &call.id,
            name: &call.name,
            input,
        }));
    }
    content
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use agentor_core::{ModelSettings, ToolCallRequest, ToolSpec};
    use serde_json::json;

    fn json_body(
        request: &ChatRequest,
        config: &AnthropicConfig,
        memory: &ThinkingMemory,
    ) -> serde_json::Value {
        serde_json::from_slice(&body(request, "claude-test", config, memory).unwrap()).unwrap()
    }

    #[test]
    fn a_tool_conversation_has_the_messages_shape() {
        let mut assistant = ChatMessage::assistant("Checking both.");
        for (id, city) in [("toolu_1", "Paris"), ("toolu_2", "Rome")] {
            assistant.tool_calls.push(ToolCallRequest {
                id: id.into(),
                name: "weather".into(),
                arguments: json!({"city": city}),
            });
        }
        let mut settings = ModelSettings::default();
        settings.temperature = Some(0.3);
        let request = ChatRequest::new(
            "claude-test",
            vec![
                ChatMessage::system("Be brief."),
                ChatMessage::user("Weather?"),
                assistant,
                ChatMessage::tool("toolu_1", "18°C"),
                ChatMessage::tool("toolu_2", "21°C"),
            ],
        )
        .with_tools(vec![ToolSpec {
            name: "weather".into(),
            description: "Current weather".into(),
            parameters: json!({"type": "object"}),
        }])
        .with_settings(settings);
        let body = json_body(
            &request,
            &AnthropicConfig::new(),
            &ThinkingMemory::default(),
        );
        assert_eq!(
            body,
            json!({
                "model": "claude-test",
                "max_tokens": 4096,
                "system": "Be brief.",
                "messages": [
                    {"role": "user", "content": [{"type": "text", "text": "Weather?"}]},
                    {"role": "assistant", "content": [
                        {"type": "text", "text": "Checking both."},
                        {"type": "tool_use", "id": "toolu_1", "name": "weather", "input": {"city": "Paris"}},
                        {"type": "tool_use", "id": "toolu_2", "name": "weather", "input": {"city": "Rome"}}
                    ]},
                    {"role": "user", "content": [
                        {"type": "tool_result", "tool_use_id": "toolu_1", "content": "18°C"},
                        {"type": "tool_result", "tool_use_id": "toolu_2", "content": "21°C"}
                    ]}
                ],
                "tools": [{"name": "weather", "description": "Current weather", "input_schema": {"type": "object"}}],
                "stream": true,
                "temperature": 0.3
            })
        );
    }

    #[test]
    fn thinking_sets_a_budget_drops_sampling_and_sends_kept_blocks_back() {
        let memory = ThinkingMemory::default();
        memory.keep(
            "toolu_9",
            vec![
                ThinkingBlock::Thinking {
                    thinking: "Let me call it.".into(),
                    signature: "sig==".into(),
                },
                ThinkingBlock::RedactedThinking {
                    data: "opaque".into(),
                },
            ],
        );
        let mut assistant = ChatMessage::assistant("");
        assistant.tool_calls.push(ToolCallRequest {
            id: "toolu_9".into(),
            name: "t".into(),
            arguments: json!("{not json"),
        });
        let mut settings = ModelSettings::default();
        settings.temperature = Some(0.5);
        settings.max_tokens = Some(1000);
        settings.reasoning_effort = Some("medium".into());
        let request =
            ChatRequest::new("m", vec![ChatMessage::user("q"), assistant]).with_settings(settings);
        let body = json_body(&request, &AnthropicConfig::new(), &memory);
        assert_eq!(
            body["thinking"],
            json!({"type": "enabled", "budget_tokens": 4096})
        );
        assert_eq!(body["max_tokens"], 4096 + 4096);
        assert!(body.get("temperature").is_none());
        assert!(body.get("system").is_none() && body.get("tools").is_none());
        assert_eq!(
            body["messages"][1]["content"],
            json!([
                {"type": "thinking", "thinking": "Let me call it.", "signature": "sig=="},
                {"type": "redacted_thinking", "data": "opaque"},
                {"type": "tool_use", "id": "toolu_9", "name": "t", "input": {}}
            ])
        );
    }
}
