//! What the demo says: a pure function of the request.

use agentor_core::{ChatMessage, ChatRequest, ChatRole, ToolSpec};
use serde_json::Value;

use super::arguments::arguments_for;

/// The longest text delta, in characters.
const MAX_PIECE_CHARS: usize = 8;

/// One planned turn.
#[derive(Debug, PartialEq)]
pub(super) struct Turn {
    pub(super) reasoning: String,
    pub(super) reply: Reply,
    pub(super) input_tokens: u64,
    pub(super) output_tokens: u64,
}

/// How the turn ends.
#[derive(Debug, PartialEq)]
pub(super) enum Reply {
    Call {
        call_id: String,
        name: String,
        arguments: Value,
    },
    Answer(String),
}

impl Turn {
    pub(super) fn plan(request: &ChatRequest) -> Turn {
        let messages = &request.messages;
        let last_user = messages.iter().rposition(|m| m.role == ChatRole::User);
        let prompt = last_user.map_or("", |i| messages[i].content.as_str());
        // Only results since the last question count: a new question in a
        // long conversation calls the tool again.
        let since_question = &messages[last_user.map_or(0, |i| i + 1)..];
        let tool_result = since_question
            .iter()
            .rev()
            .find(|m| m.role == ChatRole::Tool);

        let (reasoning, reply) = match (pick_tool(&request.tools, prompt), tool_result) {
            (Some(tool), None) => {
                let calls_so_far: usize = messages.iter().map(|m| m.tool_calls.len()).sum();
                let reasoning = format!(
                    "(demo) No model is thinking here: calling `{}` with arguments taken \
                     from the prompt.",
                    tool.name
                );
                let reply = Reply::Call {
                    call_id: format!("call_demo_{}", calls_so_far + 1),
                    name: tool.name.to_string(),
                    arguments: arguments_for(&tool.parameters, prompt),
                };
                (reasoning, reply)
            }
            (_, Some(result)) => (
                "(demo) No model is thinking here: reporting the tool's result.".to_owned(),
                Reply::Answer(report(result, messages)),
            ),
            (None, None) => (
                "(demo) No model is thinking here: echoing the question.".to_owned(),
                Reply::Answer(echo(prompt)),
            ),
        };
        let input_words: usize = messages.iter().map(|m| words(&m.content)).sum();
        let output_words = words(&reasoning)
            + match &reply {
                Reply::Call { arguments, .. } => words(&arguments.to_string()),
                Reply::Answer(text) => words(text),
            };
        Turn {
            reasoning,
            reply,
            input_tokens: tokens(input_words),
            output_tokens: tokens(output_words),
        }
    }
}

/// The tool the demo calls: the first whose name the prompt mentions —
/// the whole name, or what follows `transfer_to_` (a handoff's transfer
/// tool), compared case-insensitively with `_` read as a space — else the
/// first tool. So a triage prompt naming a specialist picks its transfer
/// tool, deterministically.
fn pick_tool<'a>(tools: &'a [ToolSpec], prompt: &str) -> Option<&'a ToolSpec> {
    let prompt = prompt.to_lowercase();
    let mentioned = |tool: &&ToolSpec| {
        let name = tool.name.to_lowercase();
        let target = name.strip_prefix("transfer_to_").unwrap_or(&name);
        [name.as_str(), target]
            .iter()
            .map(|n| n.replace('_', " "))
            .any(|n| !n.trim().is_empty() && prompt.contains(n.as_str()))
    };
    tools.iter().find(mentioned).or_else(|| tools.first())
}

fn echo(prompt: &str) -> String {
    if prompt.trim().is_empty() {
        return "(demo) This is agentor's offline demo provider: no API key or base URL \
                is configured, so no model is answering. Send a message and it is echoed \
                back."
            .to_owned();
    }
    format!(
        "(demo) This is agentor's offline demo provider, not a model: no API key or \
         base URL is configured. You said: \"{}\". Configure a model to get a real answer.",
        clip(prompt, 120)
    )
}

fn report(result: &ChatMessage, messages: &[ChatMessage]) -> String {
    let call_id = result.tool_call_id.as_deref();
    let name = messages
        .iter()
        .flat_map(|m| &m.tool_calls)
        .find(|call| Some(call.id.as_str()) == call_id)
        .map_or("the tool", |call| call.name.as_str());
    format!(
        "(demo) The tool `{name}` returned: {}. This is agentor's offline demo provider, \
         so no model read it; configure an API key or base URL for real answers.",
        clip(&result.content, 200)
    )
}

/// `text` on one line, at most `max` characters (an ellipsis marks a cut).
fn clip(text: &str, max: usize) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &one_line[..cut]),
        None => one_line,
    }
}

fn words(text: &str) -> usize {
    text.split_whitespace().count()
}

/// Roughly 4 tokens per 3 English words, rounded up.
fn tokens(words: usize) -> u64 {
    (words as u64).saturating_mul(4).div_ceil(3)
}

/// `text` cut into word-ish deltas: a word with the whitespace after it,
/// words longer than [`MAX_PIECE_CHARS`] cut into pieces of that many
/// characters.
pub(super) fn pieces(text: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let word_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let end = rest[word_end..]
            .find(|c: char| !c.is_whitespace())
            .map_or(rest.len(), |i| word_end + i);
        let (mut segment, tail) = rest.split_at(end);
        while !segment.is_empty() {
            let cut = segment
                .char_indices()
                .nth(MAX_PIECE_CHARS)
                .map_or(segment.len(), |(i, _)| i);
            let (piece, more) = segment.split_at(cut);
            pieces.push(piece);
            segment = more;
        }
        rest = tail;
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_are_words_of_one_to_eight_characters() {
        let text = "(demo) This is agentor's  offline\ndemo, héllo-wörld-länger ☕";
        let pieces = pieces(text);
        assert_eq!(pieces.concat(), text);
        assert!(pieces.iter().all(|p| (1..=8).contains(&p.chars().count())));
        assert_eq!(&pieces[..4], ["(demo) ", "This ", "is ", "agentor'"]);
    }

    #[test]
    fn clip_keeps_one_line_and_marks_the_cut() {
        assert_eq!(clip("a\n b", 10), "a b");
        assert_eq!(clip("héllo wörld", 4), "héll…");
    }

    #[test]
    fn the_tool_the_prompt_names_wins_else_the_first() {
        let spec = |name: &str| ToolSpec {
            name: name.into(),
            description: "".into(),
            parameters: serde_json::json!({"type": "object"}),
        };
        let tools = [
            spec("get_weather"),
            spec("transfer_to_billing"),
            spec("transfer_to_tech_support"),
        ];
        let name = |prompt| pick_tool(&tools, prompt).map(|t| t.name.to_string());
        assert_eq!(
            name("My BILLING is wrong").as_deref(),
            Some("transfer_to_billing")
        );
        assert_eq!(
            name("ask tech support").as_deref(),
            Some("transfer_to_tech_support")
        );
        assert_eq!(name("hello").as_deref(), Some("get_weather"));
        assert_eq!(pick_tool(&[], "billing"), None);
    }

    #[test]
    fn tokens_round_up() {
        assert_eq!([0, 1, 3, 4].map(tokens), [0, 2, 4, 6]);
    }
}
