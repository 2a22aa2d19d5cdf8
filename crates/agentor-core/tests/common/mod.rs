//! Shared proptest strategies for the integration tests.

// `pub` so every test file can name them; each uses its own subset.
#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use agentor_core::{
    ErrorKind, Event, EventKind, Origin, ProgressSnapshot, RunStatus, Text, ToolCall,
    ToolCallDelta, ToolResult,
};
use proptest::prelude::*;
use serde_json::Value;

/// Characters that stress encoders: ASCII, CJK, emoji, controls, JSON and SSE
/// metacharacters, Unicode line separators, and anything else.
pub fn any_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => proptest::char::range(' ', '~'),
        2 => proptest::char::range('\u{4e00}', '\u{9fff}'),
        2 => proptest::char::range('\u{1f600}', '\u{1f64f}'),
        2 => proptest::char::range('\u{0}', '\u{1f}'),
        2 => prop::sample::select(vec!['"', '\\', '\n', '\r', '\u{2028}', '\u{2029}', '\u{85}', '\u{7f}', '\u{feff}']),
        1 => any::<char>(),
    ]
}

/// A string of up to 24 [`any_char`]s.
pub fn any_string() -> impl Strategy<Value = String> {
    prop::collection::vec(any_char(), 0..24).prop_map(String::from_iter)
}

/// Like [`any_string`], as [`Text`].
pub fn any_text() -> impl Strategy<Value = Text> {
    any_string().prop_map(Text::from)
}

/// A duration of any size and any nanosecond.
pub fn any_duration() -> impl Strategy<Value = Duration> {
    prop_oneof![
        (0u64..100_000, 0u32..1_000_000)
            .prop_map(|(ms, ns)| Duration::from_millis(ms) + Duration::from_nanos(ns.into())),
        (0u64..1_000_000_000).prop_map(Duration::from_micros),
        (any::<u64>(), 0u32..1_000_000_000).prop_map(|(s, ns)| Duration::new(s, ns)),
    ]
}

/// A small JSON value: scalars (finite floats included), nested arrays and objects.
pub fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("JSON has no NaN or infinity", |f| f.is_finite())
            .prop_map(Value::from),
        any_string().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(any_string(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn any_kind() -> impl Strategy<Value = EventKind> {
    let opt = || proptest::option::of(any_text());
    prop_oneof![
        (any_text(), opt()).prop_map(|(agent, model)| EventKind::RunStart { agent, model }),
        (any_text(), opt())
            .prop_map(|(text, message_id)| EventKind::TextDelta { text, message_id }),
        (any_text(), opt()).prop_map(|(text, message_id)| EventKind::Message { text, message_id }),
        (any_text(), opt())
            .prop_map(|(text, message_id)| EventKind::ReasoningDelta { text, message_id }),
        any_text().prop_map(|text| EventKind::ReasoningSummary { text }),
        (any_text(), any_text(), any_json()).prop_map(|(call_id, name, arguments)| {
            EventKind::ToolCall(Box::new(ToolCall {
                call_id,
                name,
                arguments,
            }))
        }),
        (any_text(), opt(), any_text()).prop_map(|(call_id, name, delta)| {
            EventKind::ToolCallDelta(Box::new(ToolCallDelta {
                call_id,
                name,
                delta,
            }))
        }),
        (
            any_text(),
            any_text(),
            any_text(),
            any::<bool>(),
            proptest::option::of(any_duration())
        )
            .prop_map(|(call_id, name, output, is_error, duration)| {
                EventKind::ToolResult(Box::new(ToolResult {
                    call_id,
                    name,
                    output,
                    is_error,
                    duration,
                }))
            },),
        any_text().prop_map(|agent| EventKind::AgentUpdated { agent }),
        (any_text(), any_text()).prop_map(|(from, to)| EventKind::Handoff { from, to }),
        any::<[u64; 5]>().prop_map(|[input, output, total, read, written]| {
            EventKind::Usage {
                input_tokens: input,
                output_tokens: output,
                total_tokens: total,
                cache_read_input_tokens: read,
                cache_creation_input_tokens: written,
            }
        }),
        (any::<[u64; 6]>(), any_duration()).prop_map(|(n, elapsed)| EventKind::Progress(
            ProgressSnapshot {
                events: n[0],
                text_deltas: n[1],
                text_bytes: n[2],
                tool_calls: n[3],
                tool_results: n[4],
                errors: n[5],
                elapsed,
            }
        )),
        (prop::sample::select(ErrorKind::ALL), any_text())
            .prop_map(|(kind, message)| EventKind::Error { kind, message }),
        prop::sample::select(RunStatus::ALL).prop_map(|status| EventKind::RunEnd { status }),
    ]
}

/// Any event: every kind, every optional field present or not, any envelope.
pub fn any_event() -> impl Strategy<Value = Event> {
    (
        any::<u64>(),
        proptest::option::of(any_text()),
        proptest::option::of(any_text()),
        proptest::option::of(any_text()),
        any_kind(),
    )
        .prop_map(|(seq, source, run_id, parent, kind)| Event {
            seq,
            origin: Origin::new(source, run_id, parent),
            kind,
        })
}
