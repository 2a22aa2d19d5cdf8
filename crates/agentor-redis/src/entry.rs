//! A stream entry: one event in the native JSON encoding (the lossless
//! one), in the field `e`.

use agentor::wire::native::Decoder;
use agentor::{Event, EventKind};
use redis::streams::StreamId;
use redis::Value;

/// The field that holds the event's JSON.
pub(crate) const FIELD: &str = "e";

/// The event of an entry written by this crate.
pub(crate) fn decode_entry(entry: &StreamId) -> Result<Event, String> {
    decode_entry_with(&mut Decoder::new(), entry)
}

/// [`decode_entry`] for one entry of many: consecutive events of a run
/// share one origin.
pub(crate) fn decode_entry_with(decoder: &mut Decoder, entry: &StreamId) -> Result<Event, String> {
    match entry.map.get(FIELD) {
        Some(Value::BulkString(json)) => decoder.decode(json).map_err(|e| e.to_string()),
        _ => Err(format!("entry {} has no event", entry.id)),
    }
}

pub(crate) fn is_run_end(event: &Event) -> bool {
    matches!(event.kind, EventKind::RunEnd { .. })
}
