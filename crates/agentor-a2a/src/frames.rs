//! [`StreamFrames`]: a streamed answer's events as SSE frames.
//!
//! A stream is almost all answer chunks (artifact updates of text) and
//! status updates; those are written by hand with the core encoders' JSON
//! string writer, and the JSON-RPC envelope is serialized once per stream.
//! Anything else (a Task snapshot, a status carrying a message, metadata,
//! data or file parts) goes through the [`Wire`](crate::types::Wire)
//! serializers. Either way the JSON is the same value
//! [`StreamResponse::render`] gives, which the tests check on random events.

use agentor_core::wire::{sse, write_json_str};
use bytes::{BufMut, BytesMut};

use crate::jsonrpc::RequestId;
use crate::{Dialect, PartContent, StreamResponse, TaskArtifactUpdate, TaskStatusUpdate};

/// How the events of one streamed answer are framed: each as one SSE
/// `data:` line, inside the JSON-RPC response to the request
/// ([`StreamFrames::json_rpc`]) or on its own, as the HTTP+JSON binding
/// sends them ([`StreamFrames::bare`]).
///
/// ```
/// use agentor_a2a::frames::StreamFrames;
/// use agentor_a2a::jsonrpc::RequestId;
/// use agentor_a2a::{Artifact, Dialect, Part, StreamResponse, TaskArtifactUpdate};
///
/// let chunk = StreamResponse::ArtifactUpdate(TaskArtifactUpdate {
///     task_id: "t1".into(),
///     context_id: "c1".into(),
///     artifact: Artifact::new("answer-1", vec![Part::text("Hel")]),
///     append: true,
///     last_chunk: false,
///     metadata: None,
/// });
/// let frames = StreamFrames::json_rpc(&RequestId::from(7), Dialect::V1_0);
/// let mut out = bytes::BytesMut::new();
/// frames.push(&mut out, &chunk);
/// assert_eq!(
///     std::str::from_utf8(&out).unwrap(),
///     concat!(
///         r#"data: {"jsonrpc":"2.0","id":7,"result":{"artifactUpdate":{"taskId":"t1","contextId":"c1","#,
///         r#""artifact":{"artifactId":"answer-1","parts":[{"text":"Hel"}]},"append":true,"lastChunk":false}}}"#,
///         "\n\n"
///     )
/// );
/// ```
#[derive(Clone, Debug)]
pub struct StreamFrames {
    /// `{"jsonrpc":"2.0","id":…,"result":` (empty when bare).
    prefix: Vec<u8>,
    dialect: Dialect,
}

impl StreamFrames {
    /// Each event as the `result` of the JSON-RPC response to request `id`.
    pub fn json_rpc(id: &RequestId, dialect: Dialect) -> Self {
        let mut prefix = br#"{"jsonrpc":"2.0","id":"#.to_vec();
        // Into memory: cannot fail.
        let _ = serde_json::to_writer(&mut prefix, id);
        prefix.extend_from_slice(br#","result":"#);
        StreamFrames { prefix, dialect }
    }

    /// Each event on its own (the HTTP+JSON binding's streams).
    pub fn bare(dialect: Dialect) -> Self {
        StreamFrames {
            prefix: Vec::new(),
            dialect,
        }
    }

    /// The dialect the events are written in.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Appends `event` as one frame.
    pub fn push(&self, dst: &mut BytesMut, event: &StreamResponse) {
        sse::write_frame(dst, None, None, |dst| {
            dst.extend_from_slice(&self.prefix);
            write_event(dst, event, self.dialect);
            if !self.prefix.is_empty() {
                dst.put_u8(b'}');
            }
        });
    }
}

/// Appends `event` in `dialect` as one line of JSON: the value of
/// [`StreamResponse::render`], without building it.
pub fn write_event(dst: &mut BytesMut, event: &StreamResponse, dialect: Dialect) {
    let v03 = dialect == Dialect::V0_3;
    match event {
        StreamResponse::ArtifactUpdate(update) if plain_text_chunk(update) => {
            if v03 {
                dst.extend_from_slice(br#"{"kind":"artifact-update","#);
            } else {
                dst.extend_from_slice(br#"{"artifactUpdate":{"#);
            }
            ids(dst, &update.task_id, &update.context_id);
            dst.extend_from_slice(br#","artifact":{"artifactId":"#);
            write_json_str(dst, &update.artifact.artifact_id);
            if let Some(name) = &update.artifact.name {
                dst.extend_from_slice(br#","name":"#);
                write_json_str(dst, name);
            }
            dst.extend_from_slice(br#","parts":["#);
            for (n, part) in update.artifact.parts.iter().enumerate() {
                if n > 0 {
                    dst.put_u8(b',');
                }
                dst.extend_from_slice(if v03 {
                    br#"{"kind":"text","text":"#
                } else {
                    br#"{"text":"#
                });
                if let PartContent::Text(text) = &part.content {
                    write_json_str(dst, text);
                }
                dst.put_u8(b'}');
            }
            dst.extend_from_slice(br#"]},"append":"#);
            bool(dst, update.append);
            dst.extend_from_slice(br#","lastChunk":"#);
            bool(dst, update.last_chunk);
            dst.extend_from_slice(if v03 { b"}" } else { b"}}" });
        }
        StreamResponse::StatusUpdate(update) if plain_status(update) => {
            if v03 {
                dst.extend_from_slice(br#"{"kind":"status-update","#);
            } else {
                dst.extend_from_slice(br#"{"statusUpdate":{"#);
            }
            ids(dst, &update.task_id, &update.context_id);
            dst.extend_from_slice(br#","status":{"state":"#);
            write_json_str(dst, update.status.state.as_str(dialect));
            if let Some(at) = &update.status.timestamp {
                dst.extend_from_slice(br#","timestamp":"#);
                write_json_str(dst, at);
            }
            if v03 {
                dst.extend_from_slice(br#"},"final":"#);
                bool(dst, update.is_final);
                dst.put_u8(b'}');
            } else {
                dst.extend_from_slice(b"}}}");
            }
        }
        other => {
            // Into memory: cannot fail.
            let _ = serde_json::to_writer(dst.writer(), &other.wire(dialect));
        }
    }
}

/// An answer chunk: text parts only, nothing else set.
fn plain_text_chunk(update: &TaskArtifactUpdate) -> bool {
    let artifact = &update.artifact;
    update.metadata.is_none()
        && artifact.description.is_none()
        && artifact.extensions.is_empty()
        && artifact.metadata.is_none()
        && artifact
            .parts
            .iter()
            .all(|part| part.metadata.is_none() && matches!(part.content, PartContent::Text(_)))
}

/// A status with no message and no metadata.
fn plain_status(update: &TaskStatusUpdate) -> bool {
    update.metadata.is_none() && update.status.message.is_none()
}

fn ids(dst: &mut BytesMut, task_id: &str, context_id: &str) {
    dst.extend_from_slice(br#""taskId":"#);
    write_json_str(dst, task_id);
    dst.extend_from_slice(br#","contextId":"#);
    write_json_str(dst, context_id);
}

fn bool(dst: &mut BytesMut, value: bool) {
    dst.extend_from_slice(if value { b"true" } else { b"false" });
}
