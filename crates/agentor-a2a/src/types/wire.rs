//! [`Wire`]: the model serialized straight to one dialect's JSON.
//!
//! A stream sends one frame per task event, so building a
//! `serde_json::Value` tree per event (a B-tree map per object, a `String`
//! per key, all freed again) was most of an A2A stream's cost. `Wire` writes
//! the same JSON through `serde` with no tree in between; `render` is
//! `serde_json::to_value` of it, so the two can never disagree.
//!
//! Optional fields are left out when absent, lists when empty, as the
//! protocol's JSON has them.

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

use super::{
    Artifact, FileContent, Message, Part, PartContent, SendMessageResult, StreamResponse, Task,
    TaskArtifactUpdate, TaskStatus, TaskStatusUpdate,
};
use crate::Dialect;

/// A value of the model in one dialect: its [`Serialize`] writes the wire
/// JSON directly (`serde_json::to_writer(dst, &Wire::new(&event, dialect))`).
///
/// ```
/// use agentor_a2a::types::Wire;
/// use agentor_a2a::{Dialect, Part};
///
/// let part = Part::text("hi");
/// assert_eq!(serde_json::to_string(&Wire::new(&part, Dialect::V0_3)).unwrap(), r#"{"kind":"text","text":"hi"}"#);
/// assert_eq!(serde_json::to_string(&Wire::new(&part, Dialect::V1_0)).unwrap(), r#"{"text":"hi"}"#);
/// ```
#[derive(Debug)]
pub struct Wire<'a, T: ?Sized> {
    value: &'a T,
    dialect: Dialect,
}

impl<T: ?Sized> Clone for Wire<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: ?Sized> Copy for Wire<'_, T> {}

impl<'a, T: ?Sized> Wire<'a, T> {
    /// `value` as `dialect` spells it.
    pub fn new(value: &'a T, dialect: Dialect) -> Self {
        Wire { value, dialect }
    }

    fn of<U: ?Sized>(&self, value: &'a U) -> Wire<'a, U> {
        Wire::new(value, self.dialect)
    }

    fn is_v03(&self) -> bool {
        self.dialect == Dialect::V0_3
    }
}

/// `value` as a `Value` tree, for callers that edit or inspect it.
pub(crate) fn to_value(wire: impl Serialize) -> Value {
    // Cannot fail: every key is a string and every leaf a string, bool,
    // number or an existing `Value`.
    serde_json::to_value(wire).unwrap_or_default()
}

/// 0.3 sends `inner` bare; 1.0 wraps it as `{key: inner}`.
fn wrapped<S: Serializer, T: Serialize>(
    serializer: S,
    dialect: Dialect,
    key: &str,
    inner: &T,
) -> Result<S::Ok, S::Error> {
    match dialect {
        Dialect::V0_3 => inner.serialize(serializer),
        Dialect::V1_0 => {
            let mut map = serializer.serialize_map(Some(1))?;
            map.serialize_entry(key, inner)?;
            map.end()
        }
    }
}

/// Writes `key` only when `items` has any.
fn list<M: SerializeMap, T: Serialize>(
    map: &mut M,
    key: &str,
    items: &[T],
) -> Result<(), M::Error> {
    if items.is_empty() {
        Ok(())
    } else {
        map.serialize_entry(key, items)
    }
}

/// Writes `key` only when there is a value.
fn opt<M: SerializeMap, T: Serialize>(
    map: &mut M,
    key: &str,
    value: Option<&T>,
) -> Result<(), M::Error> {
    match value {
        Some(value) => map.serialize_entry(key, value),
        None => Ok(()),
    }
}

macro_rules! wire_slice {
    ($($item:ty),*) => {$(
        impl Serialize for Wire<'_, [$item]> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_seq(self.value.iter().map(|item| self.of(item)))
            }
        }
    )*};
}

wire_slice!(Artifact, Message, Part);

impl Serialize for Wire<'_, StreamResponse> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let dialect = self.dialect;
        match self.value {
            StreamResponse::Task(task) => wrapped(serializer, dialect, "task", &self.of(task)),
            StreamResponse::Message(message) => {
                wrapped(serializer, dialect, "message", &self.of(message))
            }
            StreamResponse::StatusUpdate(update) => {
                wrapped(serializer, dialect, "statusUpdate", &self.of(update))
            }
            StreamResponse::ArtifactUpdate(update) => {
                wrapped(serializer, dialect, "artifactUpdate", &self.of(update))
            }
        }
    }
}

impl Serialize for Wire<'_, SendMessageResult> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.value {
            SendMessageResult::Task(task) => {
                wrapped(serializer, self.dialect, "task", &self.of(task))
            }
            SendMessageResult::Message(message) => {
                wrapped(serializer, self.dialect, "message", &self.of(message))
            }
        }
    }
}

impl Serialize for Wire<'_, TaskStatusUpdate> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let update = self.value;
        let mut map = serializer.serialize_map(None)?;
        if self.is_v03() {
            map.serialize_entry("kind", "status-update")?;
        }
        map.serialize_entry("taskId", &update.task_id)?;
        map.serialize_entry("contextId", &update.context_id)?;
        map.serialize_entry("status", &self.of(&update.status))?;
        // 1.0 has no `final`: the stream closing ends it.
        if self.is_v03() {
            map.serialize_entry("final", &update.is_final)?;
        }
        opt(&mut map, "metadata", update.metadata.as_ref())?;
        map.end()
    }
}

impl Serialize for Wire<'_, TaskArtifactUpdate> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let update = self.value;
        let mut map = serializer.serialize_map(None)?;
        if self.is_v03() {
            map.serialize_entry("kind", "artifact-update")?;
        }
        map.serialize_entry("taskId", &update.task_id)?;
        map.serialize_entry("contextId", &update.context_id)?;
        map.serialize_entry("artifact", &self.of(&update.artifact))?;
        map.serialize_entry("append", &update.append)?;
        map.serialize_entry("lastChunk", &update.last_chunk)?;
        opt(&mut map, "metadata", update.metadata.as_ref())?;
        map.end()
    }
}

impl Serialize for Wire<'_, Task> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let task = self.value;
        let mut map = serializer.serialize_map(None)?;
        if self.is_v03() {
            map.serialize_entry("kind", "task")?;
        }
        map.serialize_entry("id", &task.id)?;
        map.serialize_entry("contextId", &task.context_id)?;
        map.serialize_entry("status", &self.of(&task.status))?;
        if !task.artifacts.is_empty() {
            map.serialize_entry("artifacts", &self.of(task.artifacts.as_slice()))?;
        }
        if !task.history.is_empty() {
            map.serialize_entry("history", &self.of(task.history.as_slice()))?;
        }
        opt(&mut map, "metadata", task.metadata.as_ref())?;
        map.end()
    }
}

impl Serialize for Wire<'_, TaskStatus> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let status = self.value;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("state", status.state.as_str(self.dialect))?;
        opt(
            &mut map,
            "message",
            status.message.as_ref().map(|m| self.of(m)).as_ref(),
        )?;
        opt(&mut map, "timestamp", status.timestamp.as_ref())?;
        map.end()
    }
}

impl Serialize for Wire<'_, Artifact> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let artifact = self.value;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("artifactId", &artifact.artifact_id)?;
        opt(&mut map, "name", artifact.name.as_ref())?;
        opt(&mut map, "description", artifact.description.as_ref())?;
        map.serialize_entry("parts", &self.of(artifact.parts.as_slice()))?;
        list(&mut map, "extensions", &artifact.extensions)?;
        opt(&mut map, "metadata", artifact.metadata.as_ref())?;
        map.end()
    }
}

impl Serialize for Wire<'_, Message> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let message = self.value;
        let mut map = serializer.serialize_map(None)?;
        if self.is_v03() {
            map.serialize_entry("kind", "message")?;
        }
        map.serialize_entry("messageId", &message.message_id)?;
        map.serialize_entry("role", message.role.as_str(self.dialect))?;
        map.serialize_entry("parts", &self.of(message.parts.as_slice()))?;
        opt(&mut map, "contextId", message.context_id.as_ref())?;
        opt(&mut map, "taskId", message.task_id.as_ref())?;
        list(&mut map, "referenceTaskIds", &message.reference_task_ids)?;
        list(&mut map, "extensions", &message.extensions)?;
        opt(&mut map, "metadata", message.metadata.as_ref())?;
        map.end()
    }
}

/// 0.3 requires a data part's `data` to be an object: anything else goes
/// out as `{"value": …}`.
struct ObjectData<'a>(&'a Value);

impl Serialize for ObjectData<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Object(_) => self.0.serialize(serializer),
            other => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("value", other)?;
                map.end()
            }
        }
    }
}

/// A 0.3 file part's `file` object.
struct FileV03<'a>(&'a super::FilePart);

impl Serialize for FileV03<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let file = self.0;
        let mut map = serializer.serialize_map(None)?;
        opt(&mut map, "name", file.name.as_ref())?;
        opt(&mut map, "mimeType", file.media_type.as_ref())?;
        match &file.content {
            FileContent::Base64(bytes) => map.serialize_entry("bytes", bytes)?,
            FileContent::Uri(uri) => map.serialize_entry("uri", uri)?,
        }
        map.end()
    }
}

impl Serialize for Wire<'_, Part> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let part = self.value;
        let mut map = serializer.serialize_map(None)?;
        match (&part.content, self.dialect) {
            (PartContent::Text(text), Dialect::V0_3) => {
                map.serialize_entry("kind", "text")?;
                map.serialize_entry("text", text)?;
            }
            (PartContent::Text(text), Dialect::V1_0) => map.serialize_entry("text", text)?,
            (PartContent::Data(data), Dialect::V0_3) => {
                map.serialize_entry("kind", "data")?;
                map.serialize_entry("data", &ObjectData(data))?;
            }
            (PartContent::Data(data), Dialect::V1_0) => map.serialize_entry("data", data)?,
            (PartContent::File(file), Dialect::V0_3) => {
                map.serialize_entry("kind", "file")?;
                map.serialize_entry("file", &FileV03(file))?;
            }
            (PartContent::File(file), Dialect::V1_0) => {
                match &file.content {
                    FileContent::Base64(raw) => map.serialize_entry("raw", raw)?,
                    FileContent::Uri(url) => map.serialize_entry("url", url)?,
                }
                opt(&mut map, "filename", file.name.as_ref())?;
                opt(&mut map, "mediaType", file.media_type.as_ref())?;
            }
        }
        opt(&mut map, "metadata", part.metadata.as_ref())?;
        map.end()
    }
}
