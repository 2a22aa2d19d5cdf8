//! What the values of the model hold in memory, roughly: the bytes of
//! their strings and data plus a fixed overhead per object. The task store
//! bounds its tasks by this sum (`StoreLimits::max_bytes`).
//!
//! An estimate by design: exact heap accounting would need the allocator,
//! and what a task holds is dominated by its text (messages, artifacts), so
//! counting text bytes plus the struct overheads is within a small factor
//! of the truth and cheap to keep up to date.

use serde_json::{Map, Value};

use super::{Artifact, FileContent, Message, Part, PartContent, Task, TaskStatus};

/// A struct with a few `String`s and `Vec`s, before their contents.
const OBJECT: usize = 128;

pub(crate) fn value_bytes(value: &Value) -> usize {
    match value {
        Value::Null | Value::Bool(_) | Value::Number(_) => 16,
        Value::String(s) => 24 + s.len(),
        Value::Array(items) => 24 + items.iter().map(value_bytes).sum::<usize>(),
        Value::Object(map) => map_bytes(map),
    }
}

fn map_bytes(map: &Map<String, Value>) -> usize {
    48 + map
        .iter()
        .map(|(k, v)| 48 + k.len() + value_bytes(v))
        .sum::<usize>()
}

fn strings_bytes(items: &[String]) -> usize {
    items.iter().map(|s| 24 + s.len()).sum()
}

pub(crate) fn metadata_bytes(metadata: &Option<Map<String, Value>>) -> usize {
    metadata.as_ref().map_or(0, map_bytes)
}

impl Part {
    /// Roughly what the part holds in memory.
    pub fn retained_bytes(&self) -> usize {
        let content = match &self.content {
            PartContent::Text(text) => text.len(),
            PartContent::Data(data) => value_bytes(data),
            PartContent::File(file) => {
                let inner = match &file.content {
                    FileContent::Base64(s) | FileContent::Uri(s) => s.len(),
                };
                inner
                    + file.name.as_ref().map_or(0, String::len)
                    + file.media_type.as_ref().map_or(0, String::len)
            }
        };
        64 + content + metadata_bytes(&self.metadata)
    }
}

impl Message {
    /// Roughly what the message holds in memory.
    pub fn retained_bytes(&self) -> usize {
        OBJECT
            + self.message_id.len()
            + self.context_id.as_ref().map_or(0, String::len)
            + self.task_id.as_ref().map_or(0, String::len)
            + self.parts.iter().map(Part::retained_bytes).sum::<usize>()
            + strings_bytes(&self.reference_task_ids)
            + strings_bytes(&self.extensions)
            + metadata_bytes(&self.metadata)
    }
}

impl Artifact {
    /// Roughly what the artifact holds in memory.
    pub fn retained_bytes(&self) -> usize {
        OBJECT
            + self.artifact_id.len()
            + self.name.as_ref().map_or(0, String::len)
            + self.description.as_ref().map_or(0, String::len)
            + self.parts.iter().map(Part::retained_bytes).sum::<usize>()
            + strings_bytes(&self.extensions)
            + metadata_bytes(&self.metadata)
    }
}

impl TaskStatus {
    /// Roughly what the status holds in memory.
    pub fn retained_bytes(&self) -> usize {
        32 + self.message.as_ref().map_or(0, Message::retained_bytes)
            + self.timestamp.as_ref().map_or(0, String::len)
    }
}

impl Task {
    /// Roughly what the task holds in memory: its ids, status, artifacts,
    /// history and metadata.
    pub fn retained_bytes(&self) -> usize {
        OBJECT
            + self.id.len()
            + self.context_id.len()
            + self.status.retained_bytes()
            + self
                .artifacts
                .iter()
                .map(Artifact::retained_bytes)
                .sum::<usize>()
            + self
                .history
                .iter()
                .map(Message::retained_bytes)
                .sum::<usize>()
            + metadata_bytes(&self.metadata)
    }
}
