//! Function calls being streamed, kept apart until each is complete.

use agentor_core::{Event, EventResult, Text};

/// The function calls of one turn, in the order they began.
#[derive(Debug, Default)]
pub(super) struct Calls {
    calls: Vec<PendingCall>,
}

/// One function-call item as it streams in.
#[derive(Debug, Default)]
pub(super) struct PendingCall {
    item_id: Option<String>,
    output_index: Option<u64>,
    pub(super) call_id: Option<Text>,
    pub(super) name: Option<Text>,
    pub(super) arguments: String,
    pub(super) arguments_done: bool,
    pub(super) emitted: bool,
    /// How many bytes of `arguments` went out as `tool_call_delta`s (`None`:
    /// none yet; the first waits for the call id and name, which it carries).
    streamed: Option<usize>,
    /// The arguments were replaced by a text that does not continue what was
    /// streamed: no more deltas (they cannot be taken back); the complete
    /// call still carries the authoritative arguments.
    diverged: bool,
}

impl Calls {
    /// The call an event names by `item_id` (or, failing that, by
    /// `output_index`); a new one if none matches.
    pub(super) fn find_or_add(
        &mut self,
        item_id: Option<&str>,
        output_index: Option<u64>,
    ) -> &mut PendingCall {
        let found = if item_id.is_none() && output_index.is_none() {
            // A server naming neither can only mean the call in progress.
            self.calls.iter().rposition(|c| !c.emitted)
        } else {
            self.calls
                .iter()
                .position(|c| c.matches(item_id, output_index))
        };
        let index = found.unwrap_or_else(|| {
            self.calls.push(PendingCall::default());
            self.calls.len() - 1
        });
        let call = &mut self.calls[index];
        if call.item_id.is_none() {
            call.item_id = item_id.map(str::to_owned);
        }
        if call.output_index.is_none() {
            call.output_index = output_index;
        }
        call
    }

    /// Pushes every call not yet pushed whose id and name are known.
    pub(super) fn take_remaining(&mut self, out: &mut Vec<EventResult>) {
        for call in &mut self.calls {
            call.arguments_done = true;
            call.stream_delta(out);
            if let Some(event) = call.take_event() {
                out.push(Ok(event));
            }
        }
    }
}

impl PendingCall {
    fn matches(&self, item_id: Option<&str>, output_index: Option<u64>) -> bool {
        match (item_id, self.item_id.as_deref()) {
            (Some(a), Some(b)) => a == b,
            _ => output_index.is_some() && output_index == self.output_index,
        }
    }

    /// Replaces the arguments with a whole text the server sent (which is
    /// authoritative over the deltas).
    pub(super) fn replace_arguments(&mut self, arguments: &str) {
        if let Some(n) = self.streamed {
            // What went out is the first `n` bytes of the arguments as they
            // were: unless the new text continues it, no delta follows. A
            // second replacement may be shorter than what was streamed.
            let sent = self.arguments.as_bytes().get(..n);
            if sent.is_none_or(|sent| !arguments.as_bytes().starts_with(sent)) {
                self.diverged = true;
            }
        }
        self.arguments.clear();
        self.arguments.push_str(arguments);
    }

    /// Pushes a `tool_call_delta` with the arguments that arrived since the
    /// last one, once the call id and name are known: the first carries
    /// the name (and may be empty), later ones only new text.
    pub(super) fn stream_delta(&mut self, out: &mut Vec<EventResult>) {
        if self.emitted || self.diverged {
            return;
        }
        let (Some(call_id), Some(name)) = (&self.call_id, &self.name) else {
            return;
        };
        let from = match self.streamed {
            Some(n) if n == self.arguments.len() => return,
            Some(n) => n,
            None => 0,
        };
        let Some(delta) = self.arguments.get(from..) else {
            return;
        };
        let name = self.streamed.is_none().then_some(name.as_str());
        out.push(Ok(Event::tool_call_delta(call_id.clone(), name, delta)));
        self.streamed = Some(self.arguments.len());
    }

    /// The tool call event, once: when the arguments are done and the call
    /// has an id and a name.
    pub(super) fn take_event(&mut self) -> Option<Event> {
        if self.emitted || !self.arguments_done {
            return None;
        }
        let (Some(call_id), Some(name)) = (&self.call_id, &self.name) else {
            return None;
        };
        self.emitted = true;
        let arguments = parse_arguments(std::mem::take(&mut self.arguments));
        Some(Event::tool_call(call_id.clone(), name.clone(), arguments))
    }
}

/// The arguments as JSON; text that is not JSON stays a JSON string holding
/// the raw text (the `Provider` contract), and empty text means no arguments.
pub(super) fn parse_arguments(raw: String) -> serde_json::Value {
    if raw.trim().is_empty() {
        return serde_json::Value::Object(serde_json::Map::new());
    }
    match serde_json::from_str(&raw) {
        Ok(value) => value,
        Err(_) => serde_json::Value::String(raw),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn arguments_parse_or_stay_raw() {
        assert_eq!(parse_arguments(r#"{"a":1}"#.into()), json!({"a": 1}));
        assert_eq!(parse_arguments(r#"{"a":"#.into()), json!(r#"{"a":"#));
        assert_eq!(parse_arguments(" ".into()), json!({}));
    }

    #[test]
    fn calls_are_told_apart_by_item_id_then_output_index() {
        let mut calls = Calls::default();
        calls.find_or_add(Some("fc_1"), Some(0)).arguments.push('a');
        calls.find_or_add(Some("fc_2"), Some(1)).arguments.push('b');
        calls.find_or_add(None, Some(1)).arguments.push('c');
        calls.find_or_add(Some("fc_1"), None).arguments.push('d');
        let args: Vec<&str> = calls.calls.iter().map(|c| c.arguments.as_str()).collect();
        assert_eq!(args, ["ad", "bc"]);
    }

    /// Found by fuzzing (`fuzz/corpus/responses/crash-replaced-twice`): a
    /// second `arguments.done` shorter than what was streamed panicked.
    #[test]
    fn arguments_replaced_twice_after_streaming_never_panic() {
        let mut call = PendingCall {
            call_id: Some("c1".into()),
            name: Some("f".into()),
            arguments: r#"{"city":"Paris"}"#.into(),
            ..PendingCall::default()
        };
        let mut out = Vec::new();
        call.stream_delta(&mut out);
        assert_eq!(out.len(), 1);
        call.replace_arguments("{}");
        call.replace_arguments("");
        call.stream_delta(&mut out);
        assert_eq!(out.len(), 1, "no delta after a divergent replacement");
        call.arguments_done = true;
        let event = call.take_event().unwrap();
        let agentor_core::EventKind::ToolCall(done) = &event.kind else {
            panic!("{event:?}");
        };
        assert_eq!(done.arguments, json!({}));
    }
}
