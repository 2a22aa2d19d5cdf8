//! Handoffs: an agent passing the conversation to another agent.
//!
//! Each handoff target is offered to the model as a transfer tool,
//! `transfer_to_<name>` (the target's name in snake case). When the model
//! calls one, the run loop answers the call with `{"assistant": "<name>"}`
//! (what the Python SDK answers), emits `handoff {from, to}` and
//! `agent_updated`, and goes on with the target's instructions, tools,
//! provider, model and settings; later events carry the target as `source`.

use std::sync::Arc;

use agentor_core::{ChatMessage, ChatRole, Text, ToolSpec};

use crate::config::Config;

/// The transfer tool's name for an agent called `agent`: `transfer_to_`
/// and the name in snake case (letters and digits kept, lowercased, every
/// other run of characters one `_`).
///
/// ```
/// assert_eq!(agentor::transfer_tool_name("Billing Agent"), "transfer_to_billing_agent");
/// assert_eq!(agentor::transfer_tool_name("Tech-Support 2"), "transfer_to_tech_support_2");
/// ```
pub fn transfer_tool_name(agent: &str) -> String {
    format!("transfer_to_{}", snake_case(agent))
}

/// `name` lowercased, every run of other characters than letters and digits
/// one `_`, none at either end; `agent` for a name with no letter or digit.
pub(crate) fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    while out.ends_with('_') {
        out.pop();
    }
    if out.is_empty() {
        out.push_str("agent");
    }
    out
}

/// The transfer tool offered for `target`.
pub(crate) fn transfer_spec(target: &Config) -> ToolSpec {
    let mut description = format!(
        "Hand the conversation over to the agent `{}`, which takes it from here.",
        target.name
    );
    if let Some(instructions) = &target.instructions {
        let brief: String = instructions.chars().take(200).collect();
        description.push_str(" Its instructions: ");
        description.push_str(&brief);
    }
    ToolSpec {
        name: transfer_tool_name(&target.name).into(),
        description: description.into(),
        parameters: serde_json::json!({"type": "object", "properties": {}}),
    }
}

/// The handoff target that tool `name` transfers to, if it is a transfer tool of `agent`.
pub(crate) fn target<'a>(agent: &'a Config, name: &str) -> Option<&'a Arc<Config>> {
    agent
        .handoffs
        .iter()
        .find(|target| transfer_tool_name(&target.name) == name)
}

/// The transfer tool's answer, as the Python SDK gives it.
pub(crate) fn transfer_output(target: &Config) -> String {
    serde_json::json!({ "assistant": target.name.as_str() }).to_string()
}

/// The conversation as `to` sees it: `from`'s instructions (the first
/// message, when it has some) replaced by `to`'s.
pub(crate) fn swap_instructions(messages: &mut Vec<ChatMessage>, from: &Config, to: &Config) {
    let has_ours = from.instructions.as_ref().is_some_and(|instructions| {
        messages
            .first()
            .is_some_and(|m| m.role == ChatRole::System && &m.content == instructions)
    });
    if has_ours {
        messages.remove(0);
    }
    if let Some(instructions) = &to.instructions {
        messages.insert(0, ChatMessage::system(Text::clone(instructions)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_snake_case() {
        assert_eq!(snake_case("  Billing  Agent! "), "billing_agent");
        assert_eq!(snake_case("Été"), "été");
        assert_eq!(snake_case("--"), "agent");
    }
}
