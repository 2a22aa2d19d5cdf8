//! Property tests of the wire encodings over arbitrary events.

#![allow(clippy::unwrap_used)]

mod common;

use agentor_core::wire::{agentor, native, ndjson, sse, Format};
use agentor_core::Kind;
use bytes::BytesMut;
use proptest::prelude::*;
use serde_json::Value;

/// Parses `line` as one JSON object, checking it has no raw line break.
fn single_line_object(line: &[u8]) -> serde_json::Map<String, Value> {
    assert!(
        !line.contains(&b'\n') && !line.contains(&b'\r'),
        "line break in {line:?}"
    );
    match serde_json::from_slice(line).unwrap() {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

proptest! {
    #[test]
    fn native_round_trips(event in common::any_event()) {
        let mut dst = BytesMut::new();
        native::encode(&event, &mut dst);
        let map = single_line_object(&dst);
        prop_assert_eq!(map["type"].as_str(), Some(event.kind().as_str()));
        prop_assert!(map.values().all(|v| !v.is_null()) || event.kind() == Kind::ToolCall);
        prop_assert_eq!(native::decode(&dst).unwrap(), event);
    }

    #[test]
    fn agentor_is_five_keys_on_one_line(event in common::any_event()) {
        let mut dst = BytesMut::new();
        agentor::encode(&event, &mut dst);
        let map = single_line_object(&dst);
        let keys: Vec<_> = map.keys().map(String::as_str).collect();
        // serde_json's map sorts keys; order is checked by the unit tests.
        prop_assert_eq!(keys, ["chunk", "message", "reasoning", "tool_action", "type"]);
        prop_assert!(map["type"].is_string());
    }

    #[test]
    fn ndjson_is_one_line_per_event(event in common::any_event(), native_format in any::<bool>()) {
        let format = if native_format { Format::Native } else { Format::Agentor };
        let mut dst = BytesMut::new();
        ndjson::encode(format, &event, &mut dst);
        prop_assert_eq!(dst.last(), Some(&b'\n'));
        single_line_object(&dst[..dst.len() - 1]);
    }

    #[test]
    fn sse_frames_carry_one_data_line(event in common::any_event(), native_format in any::<bool>()) {
        let format = if native_format { Format::Native } else { Format::Agentor };
        let mut dst = BytesMut::new();
        sse::encode_event(format, &event, &mut dst);
        let lines: Vec<&[u8]> = dst[..].split(|b| *b == b'\n').collect();
        prop_assert_eq!(lines.len(), 5);
        let id = format!("id: {}", event.seq);
        prop_assert_eq!(lines[0], id.as_bytes());
        prop_assert!(lines[1].starts_with(b"event: "));
        prop_assert!(lines[2].starts_with(b"data: "));
        prop_assert_eq!(&lines[3..], &[&b""[..], &b""[..]]);
        let map = single_line_object(&lines[2][b"data: ".len()..]);
        if native_format {
            prop_assert_eq!(native::decode(&lines[2][b"data: ".len()..]).unwrap(), event);
        } else {
            prop_assert_eq!(map.len(), 5);
        }
    }
}
