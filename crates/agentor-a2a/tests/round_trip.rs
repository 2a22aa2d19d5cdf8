//! Property: every value of the neutral model, rendered in either dialect,
//! parses back to itself.
#![allow(clippy::unwrap_used)]

use agentor_a2a::frames::StreamFrames;
use agentor_a2a::jsonrpc::{self, RequestId};
use agentor_a2a::types::Wire;
use agentor_a2a::{
    Artifact, Dialect, FileContent, FilePart, Message, Part, PartContent, Role, SendConfiguration,
    SendMessageParams, StreamResponse, Task, TaskArtifactUpdate, TaskState, TaskStatus,
    TaskStatusUpdate,
};
use proptest::prelude::*;
use serde_json::{Map, Value};

fn id() -> impl Strategy<Value = String> {
    "[a-z0-9-]{1,12}"
}

fn text() -> impl Strategy<Value = String> {
    // Any text, newlines and quotes included.
    "(?s).{0,24}"
}

fn metadata() -> impl Strategy<Value = Option<Map<String, Value>>> {
    proptest::option::of(
        proptest::collection::btree_map("[a-z]{1,6}", text(), 0..3)
            .prop_map(|m| m.into_iter().map(|(k, v)| (k, Value::String(v))).collect()),
    )
}

fn part() -> impl Strategy<Value = Part> {
    let content = prop_oneof![
        text().prop_map(PartContent::Text),
        (id(), text()).prop_map(|(k, v)| PartContent::Data(serde_json::json!({ k: v }))),
        (
            proptest::option::of(id()),
            proptest::option::of("[a-z]+/[a-z]+"),
            prop_oneof![
                "[A-Za-z0-9+/]{0,16}".prop_map(FileContent::Base64),
                id().prop_map(|u| FileContent::Uri(format!("https://x/{u}")))
            ]
        )
            .prop_map(|(name, media_type, content)| PartContent::File(FilePart {
                name,
                media_type,
                content
            })),
    ];
    (content, metadata()).prop_map(|(content, metadata)| Part { content, metadata })
}

fn role() -> impl Strategy<Value = Role> {
    prop_oneof![Just(Role::User), Just(Role::Agent)]
}

fn state() -> impl Strategy<Value = TaskState> {
    prop_oneof![
        Just(TaskState::Submitted),
        Just(TaskState::Working),
        Just(TaskState::InputRequired),
        Just(TaskState::Completed),
        Just(TaskState::Canceled),
        Just(TaskState::Failed),
        Just(TaskState::Rejected),
        Just(TaskState::AuthRequired),
        Just(TaskState::Unknown),
    ]
}

fn message() -> impl Strategy<Value = Message> {
    (
        id(),
        role(),
        proptest::collection::vec(part(), 1..4),
        proptest::option::of(id()),
        proptest::option::of(id()),
        proptest::collection::vec(id(), 0..2),
        metadata(),
    )
        .prop_map(
            |(message_id, role, parts, context_id, task_id, refs, metadata)| Message {
                context_id,
                task_id,
                reference_task_ids: refs,
                metadata,
                ..Message::new(message_id, role, parts)
            },
        )
}

fn status() -> impl Strategy<Value = TaskStatus> {
    (
        state(),
        proptest::option::of(message()),
        proptest::option::of(text()),
    )
        .prop_map(|(state, message, timestamp)| TaskStatus {
            state,
            message,
            timestamp,
        })
}

fn artifact() -> impl Strategy<Value = Artifact> {
    (
        id(),
        proptest::option::of(text()),
        proptest::collection::vec(part(), 0..3),
        metadata(),
    )
        .prop_map(|(artifact_id, name, parts, metadata)| Artifact {
            name,
            metadata,
            ..Artifact::new(artifact_id, parts)
        })
}

fn task() -> impl Strategy<Value = Task> {
    (
        id(),
        id(),
        status(),
        proptest::collection::vec(artifact(), 0..3),
        proptest::collection::vec(message(), 0..3),
        metadata(),
    )
        .prop_map(
            |(id, context_id, status, artifacts, history, metadata)| Task {
                id,
                context_id,
                status,
                artifacts,
                history,
                metadata,
            },
        )
}

fn event() -> impl Strategy<Value = StreamResponse> {
    prop_oneof![
        task().prop_map(StreamResponse::Task),
        message().prop_map(StreamResponse::Message),
        (id(), id(), status(), metadata()).prop_map(|(task_id, context_id, status, metadata)| {
            StreamResponse::StatusUpdate(TaskStatusUpdate {
                task_id,
                context_id,
                // 1.0 has no `final`: a terminal state is what ends a stream.
                is_final: status.state.is_terminal(),
                status,
                metadata,
            })
        }),
        (
            id(),
            id(),
            artifact(),
            any::<bool>(),
            any::<bool>(),
            metadata()
        )
            .prop_map(
                |(task_id, context_id, artifact, append, last_chunk, metadata)| {
                    StreamResponse::ArtifactUpdate(TaskArtifactUpdate {
                        task_id,
                        context_id,
                        artifact,
                        append,
                        last_chunk,
                        metadata,
                    })
                }
            ),
    ]
}

/// The events a streamed run is mostly made of, with nothing optional set
/// but an artifact's name and a status's timestamp: the frames written by
/// hand.
fn streamed_event() -> impl Strategy<Value = StreamResponse> {
    prop_oneof![
        (
            id(),
            id(),
            id(),
            proptest::option::of(text()),
            proptest::collection::vec(text(), 0..3),
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(
                |(task_id, context_id, artifact_id, name, texts, append, last_chunk)| {
                    StreamResponse::ArtifactUpdate(TaskArtifactUpdate {
                        task_id,
                        context_id,
                        artifact: Artifact {
                            name,
                            ..Artifact::new(
                                artifact_id,
                                texts.into_iter().map(Part::text).collect(),
                            )
                        },
                        append,
                        last_chunk,
                        metadata: None,
                    })
                }
            ),
        (id(), id(), status(), any::<bool>()).prop_map(
            |(task_id, context_id, mut status, is_final)| {
                status.message = None;
                StreamResponse::StatusUpdate(TaskStatusUpdate {
                    task_id,
                    context_id,
                    status,
                    is_final,
                    metadata: None,
                })
            }
        ),
    ]
}

fn dialect() -> impl Strategy<Value = Dialect> {
    prop_oneof![Just(Dialect::V0_3), Just(Dialect::V1_0)]
}

proptest! {
    #[test]
    fn events_round_trip(event in event(), dialect in dialect()) {
        let rendered = event.render(dialect);
        // Through text, as on the wire.
        let wire: Value = serde_json::from_str(&rendered.to_string()).unwrap();
        prop_assert_eq!(StreamResponse::parse_at(dialect, &wire, "result").unwrap(), event);
    }

    #[test]
    fn typed_frames_match_render(event in event(), dialect in dialect()) {
        // What a stream writes (no `Value` tree) is what `render` builds.
        let text = serde_json::to_string(&Wire::new(&event, dialect)).unwrap();
        let wire: Value = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(&wire, &event.render(dialect));
        prop_assert_eq!(StreamResponse::parse_at(dialect, &wire, "result").unwrap(), event);
    }

    #[test]
    fn stream_frames_carry_what_render_builds(
        event in prop_oneof![streamed_event(), event()],
        dialect in dialect(),
        id in prop_oneof![
            "[a-z\"\\\\]{0,8}".prop_map(RequestId::String),
            any::<i64>().prop_map(RequestId::from),
        ],
    ) {
        let expected = jsonrpc::response(&id, event.render(dialect));
        for (frames, expected) in [
            (StreamFrames::json_rpc(&id, dialect), expected.clone()),
            (StreamFrames::bare(dialect), expected["result"].clone()),
        ] {
            let mut out = bytes::BytesMut::new();
            frames.push(&mut out, &event);
            let text = std::str::from_utf8(&out).unwrap();
            let data = text.strip_prefix("data: ").and_then(|t| t.strip_suffix("\n\n")).unwrap();
            prop_assert!(!data.contains('\n') && !data.contains('\r'), "one line: {data}");
            let wire: Value = serde_json::from_str(data).unwrap();
            prop_assert_eq!(wire, expected);
        }
    }

    #[test]
    fn send_params_round_trip(
        message in message(),
        blocking in proptest::option::of(any::<bool>()),
        history_length in proptest::option::of(0u32..1000),
        modes in proptest::collection::vec("[a-z]+/[a-z]+", 0..3),
        dialect in dialect(),
    ) {
        let params = SendMessageParams {
            configuration: SendConfiguration {
                accepted_output_modes: modes,
                history_length,
                blocking,
                push_notification: None,
            },
            ..SendMessageParams::new(message)
        };
        let parsed = SendMessageParams::parse_at(dialect, &params.render(dialect), "params").unwrap();
        prop_assert_eq!(parsed, params);
    }
}
