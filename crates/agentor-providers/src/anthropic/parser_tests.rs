use super::*;

fn feed(parser: &mut MessagesParser, lines: &[(&str, &str)]) -> Vec<EventResult> {
    let mut out = Vec::new();
    for (event, data) in lines {
        parser.message(event, data, &mut out);
    }
    parser.finish(&mut out);
    out
}

const START: &str = r#"{"type":"message_start","message":{"id":"m","usage":{"input_tokens":1}}}"#;

#[test]
fn unknown_events_blocks_and_deltas_are_skipped() {
    let mut parser = MessagesParser::new();
    let out = feed(
        &mut parser,
        &[
            ("message_start", START),
            ("", r#"{"type":"brand_new_event","x":1}"#),
            (
                "",
                r#"{"type":"content_block_start","index":0,"content_block":{"type":"server_tool_use","id":"s","name":"web"}}"#,
            ),
            (
                "",
                r#"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{}"}}"#,
            ),
            ("", r#"{"type":"content_block_stop","index":0}"#),
            (
                "",
                r#"{"type":"content_block_start","index":1,"content_block":{"type":"text","text":"Hi"}}"#,
            ),
            (
                "",
                r#"{"type":"content_block_delta","index":1,"delta":{"type":"citations_delta","citation":{}}}"#,
            ),
            ("", r#"{"type":"content_block_stop","index":1}"#),
            ("", r#"{"type":"message_stop"}"#),
        ],
    );
    let kinds: Vec<_> = out.iter().map(|e| e.as_ref().unwrap().kind()).collect();
    use agentor_core::Kind;
    assert_eq!(
        kinds,
        [Kind::TextDelta, Kind::Message, Kind::Usage, Kind::RunEnd]
    );
    assert_eq!(out[1].as_ref().unwrap().text(), Some("Hi"));
}

#[test]
fn a_delta_for_a_block_that_never_started_is_a_protocol_error() {
    let mut parser = MessagesParser::new();
    let out = feed(
        &mut parser,
        &[
            ("", START),
            (
                "",
                r#"{"type":"content_block_delta","index":4,"delta":{"type":"text_delta","text":"x"}}"#,
            ),
            ("", r#"{"type":"message_stop"}"#),
        ],
    );
    assert_eq!(out.len(), 2);
    let error = out[0].as_ref().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Protocol);
    assert!(error.message().contains("block 4"), "{}", error.message());
    assert_eq!(
        out[1].as_ref().unwrap().run_status(),
        Some(RunStatus::Failed)
    );
}

#[test]
fn an_error_event_that_is_not_json_still_fails_the_turn_with_its_text() {
    let mut parser = MessagesParser::new();
    let out = feed(&mut parser, &[("error", "upstream connect error")]);
    assert_eq!(
        out[0].as_ref().unwrap().kind,
        EventKind::Error {
            kind: ErrorKind::Provider,
            message: "upstream connect error".into()
        }
    );
    assert_eq!(
        out[1].as_ref().unwrap().run_status(),
        Some(RunStatus::Failed)
    );
}

#[test]
fn tool_arguments_that_are_not_json_arrive_as_a_string_and_empty_ones_as_an_object() {
    let mut parser = MessagesParser::new();
    let out = feed(
        &mut parser,
        &[
            ("", START),
            (
                "",
                r#"{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"a","name":"t","input":{}}}"#,
            ),
            (
                "",
                r#"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"x\": tru"}}"#,
            ),
            ("", r#"{"type":"content_block_stop","index":0}"#),
            (
                "",
                r#"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"b","name":"t","input":{}}}"#,
            ),
            ("", r#"{"type":"content_block_stop","index":1}"#),
            (
                "",
                r#"{"type":"message_delta","delta":{"stop_reason":"tool_use"}}"#,
            ),
            ("", r#"{"type":"message_stop"}"#),
        ],
    );
    let calls: Vec<_> = out
        .iter()
        .filter_map(|e| match &e.as_ref().unwrap().kind {
            EventKind::ToolCall(call) => Some(call.arguments.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        calls,
        [serde_json::json!("{\"x\": tru"), serde_json::json!({})]
    );
    assert_eq!(
        out.last().unwrap().as_ref().unwrap().run_status(),
        Some(RunStatus::Completed)
    );
}

#[test]
fn thinking_is_kept_under_the_first_call_only_when_the_turn_ends() {
    let memory = ThinkingMemory::default();
    let lines = [
        ("", START),
        (
            "",
            r#"{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}"#,
        ),
        (
            "",
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hmm"}}"#,
        ),
        (
            "",
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"sig"}}"#,
        ),
        ("", r#"{"type":"content_block_stop","index":0}"#),
        (
            "",
            r#"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"call_1","name":"t"}}"#,
        ),
        ("", r#"{"type":"content_block_stop","index":1}"#),
    ];
    // Cut short: nothing is kept.
    feed(&mut MessagesParser::with_memory(memory.clone()), &lines);
    assert!(memory.recall("call_1").is_none());
    let mut whole = lines.to_vec();
    whole.push(("", r#"{"type":"message_stop"}"#));
    feed(&mut MessagesParser::with_memory(memory.clone()), &whole);
    assert_eq!(
        *memory.recall("call_1").unwrap(),
        [ThinkingBlock::Thinking {
            thinking: "hmm".into(),
            signature: "sig".into()
        }]
    );
}
