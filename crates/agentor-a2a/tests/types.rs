//! The neutral model renders each dialect's shapes and parses them back.
#![allow(clippy::unwrap_used)]

use agentor_a2a::jsonrpc::{error_response, parse_request, RequestId};
use agentor_a2a::{
    A2aError, Artifact, Dialect, ListTasksParams, Message, Method, Part, Role, SendMessageParams,
    StreamResponse, Task, TaskArtifactUpdate, TaskQuery, TaskState, TaskStatus,
};
use serde_json::json;

fn task() -> Task {
    let mut user = Message::new("m1", Role::User, vec![Part::text("hi")]);
    user.context_id = Some("c1".into());
    user.task_id = Some("t1".into());
    Task {
        id: "t1".into(),
        context_id: "c1".into(),
        status: TaskStatus {
            state: TaskState::Working,
            message: None,
            timestamp: Some("2026-01-01T00:00:00.000Z".into()),
        },
        artifacts: vec![Artifact::new("a1", vec![Part::text("Hello")])],
        history: vec![user],
        metadata: None,
    }
}

#[test]
fn task_renders_in_each_dialect() {
    let v03 = task().render(Dialect::V0_3);
    assert_eq!(v03["kind"], "task");
    assert_eq!(v03["status"]["state"], "working");
    assert_eq!(v03["history"][0]["role"], "user");
    assert_eq!(v03["history"][0]["kind"], "message");
    assert_eq!(
        v03["history"][0]["parts"][0],
        json!({"kind": "text", "text": "hi"})
    );
    assert_eq!(v03["artifacts"][0]["artifactId"], "a1");

    let v10 = task().render(Dialect::V1_0);
    assert!(v10.get("kind").is_none());
    assert_eq!(v10["status"]["state"], "TASK_STATE_WORKING");
    assert_eq!(v10["history"][0]["role"], "ROLE_USER");
    assert_eq!(v10["history"][0]["parts"][0], json!({"text": "hi"}));
}

#[test]
fn stream_responses_round_trip_in_both_dialects() {
    let events = [
        StreamResponse::Task(task()),
        StreamResponse::Message(Message::new(
            "m2",
            Role::Agent,
            vec![Part::data(json!({"x": 1}))],
        )),
        StreamResponse::ArtifactUpdate(TaskArtifactUpdate {
            task_id: "t1".into(),
            context_id: "c1".into(),
            artifact: Artifact::new("a1", vec![Part::text("lo")]),
            append: true,
            last_chunk: false,
            metadata: None,
        }),
    ];
    for dialect in [Dialect::V0_3, Dialect::V1_0] {
        for event in &events {
            let rendered = event.render(dialect);
            let parsed = StreamResponse::parse_at(dialect, &rendered, "result").unwrap();
            assert_eq!(&parsed, event, "{dialect:?}: {rendered}");
        }
    }
    let v10 = events[2].render(Dialect::V1_0);
    assert_eq!(v10["artifactUpdate"]["append"], true);
    assert_eq!(v10["artifactUpdate"]["lastChunk"], false);
    assert_eq!(events[2].render(Dialect::V0_3)["kind"], "artifact-update");
}

#[test]
fn validation_errors_name_the_field() {
    let cases = [
        (
            json!({"message": {"messageId": "m", "role": "user"}}),
            "params.message.parts is required",
        ),
        (
            json!({"message": {"parts": []}}),
            "params.message.parts must not be empty",
        ),
        (
            json!({"message": {"role": 1, "parts": [{"text": "x"}]}}),
            "params.message.role must be a string, not a number",
        ),
        (
            json!({"message": {"kind": "task", "parts": [{"text": "x"}]}}),
            "params.message.kind must be `message`, not `task`",
        ),
        (
            json!({"message": {"parts": [{"text": 5}]}}),
            "params.message.parts[0].text must be a string, not a number",
        ),
        (
            json!({"message": {"parts": [{"kind": "text"}]}}),
            "params.message.parts[0].text is required",
        ),
        (
            json!({"message": {"parts": [{"content": "x"}]}}),
            "params.message.parts[0] must have one of text, data, file, raw or url",
        ),
        (
            json!({"message": {"messageId": 5, "role": "user", "parts": []}}),
            "params.message.messageId must be a string, not a number",
        ),
        (
            json!({"message": {"messageId": "m", "role": "boss", "parts": []}}),
            "params.message.role has an unknown value `boss`",
        ),
        (
            json!({"message": {"messageId": "m", "role": "user", "parts": "x"}}),
            "params.message.parts must be an array, not a string",
        ),
        (
            json!({"message": {"messageId": "m", "role": "user", "parts": [{"kind": "text", "text": 3}]}}),
            "params.message.parts[0].text must be a string, not a number",
        ),
        (
            json!({"message": "hi"}),
            "params.message must be an object, not a string",
        ),
        (json!({}), "params.message is required"),
    ];
    for (params, expected) in cases {
        let error = SendMessageParams::parse_at(Dialect::V0_3, &params, "params").unwrap_err();
        assert_eq!(error.code.as_i32(), -32602);
        assert_eq!(error.message, expected);
    }
    let error =
        TaskQuery::parse_at(Dialect::V1_0, &json!({"historyLength": "x"}), "params").unwrap_err();
    assert_eq!(error.message, "params.id is required");
    let error = TaskQuery::parse_at(
        Dialect::V1_0,
        &json!({"id": "t", "historyLength": -1}),
        "params",
    )
    .unwrap_err();
    assert_eq!(
        error.message,
        "params.historyLength must be a non-negative integer, not a number"
    );
}

/// The Python streaming guide's clients send messages with no `messageId`,
/// `role` or `kind`, and parts with no `kind`: a send request fills them in,
/// in both dialects, and what is rendered back is complete.
#[test]
fn send_requests_fill_in_what_the_guide_leaves_out() {
    let minimal = [
        json!({"parts": [{"kind": "text", "text": "Explain machine learning"}]}),
        json!({"parts": [{"text": "Explain machine learning"}]}),
        json!({"messageId": null, "role": null, "kind": null, "parts": [{"text": "Explain machine learning"}]}),
        json!({"messageId": "", "parts": [{"text": "Explain machine learning"}]}),
    ];
    for dialect in [Dialect::V0_3, Dialect::V1_0] {
        let mut ids = Vec::new();
        for message in &minimal {
            let params = json!({"message": message});
            let parsed = SendMessageParams::parse_at(dialect, &params, "params").unwrap();
            let message = &parsed.message;
            assert_eq!(message.role, Role::User, "{dialect:?} {params}");
            assert_eq!(message.text(), "Explain machine learning");
            assert_eq!(message.message_id.len(), 36, "a generated UUID");
            ids.push(message.message_id.clone());
            let rendered = message.render(dialect);
            assert_eq!(rendered["messageId"], message.message_id.as_str());
            assert_eq!(rendered["role"], Role::User.as_str(dialect));
            assert_eq!(
                Message::parse_at(dialect, &rendered, "m").unwrap(),
                *message
            );
        }
        ids.sort();
        ids.dedup();
        assert_eq!(
            ids.len(),
            minimal.len(),
            "every generated messageId is fresh"
        );
    }
    // What is given is kept: the client's id, an agent role, kind "message".
    let given = json!({"message": {"kind": "message", "messageId": "m-7", "role": "ROLE_AGENT", "parts": [{"text": "x"}]}});
    let parsed = SendMessageParams::parse_at(Dialect::V0_3, &given, "params").unwrap();
    assert_eq!(parsed.message.message_id, "m-7");
    assert_eq!(parsed.message.role, Role::Agent);
}

/// Messages an agent sends (results, history) are read strictly: the
/// leniency is for requests only.
#[test]
fn agent_messages_stay_strict() {
    let no_id = json!({"role": "agent", "parts": [{"text": "x"}]});
    let error = Message::parse_at(Dialect::V1_0, &no_id, "result.message").unwrap_err();
    assert_eq!(error.message, "result.message.messageId is required");
    let no_role = json!({"messageId": "m", "parts": [{"text": "x"}]});
    let error = Message::parse_at(Dialect::V0_3, &no_role, "result").unwrap_err();
    assert_eq!(error.message, "result.role is required");
    let result =
        json!({"kind": "message", "role": "agent", "parts": [{"kind": "text", "text": "x"}]});
    let error = StreamResponse::parse_at(Dialect::V0_3, &result, "result").unwrap_err();
    assert_eq!(error.message, "result.messageId is required");
}

#[test]
fn configuration_blocking_per_dialect() {
    let message =
        json!({"messageId": "m", "role": "user", "parts": [{"kind": "text", "text": "x"}]});
    let v03 = SendMessageParams::parse_at(
        Dialect::V0_3,
        &json!({"message": message, "configuration": {"blocking": false, "historyLength": 2, "acceptedOutputModes": ["text/plain"]}}),
        "params",
    )
    .unwrap();
    assert!(!v03.configuration.is_blocking());
    assert_eq!(v03.configuration.history_length, Some(2));
    assert_eq!(v03.configuration.accepted_output_modes, ["text/plain"]);
    let v10 =
        SendMessageParams::parse_at(Dialect::V1_0, &v03.render(Dialect::V1_0), "params").unwrap();
    assert_eq!(
        v10.render(Dialect::V1_0)["configuration"]["returnImmediately"],
        true
    );
    assert_eq!(v10.configuration, v03.configuration);
    let default =
        SendMessageParams::parse_at(Dialect::V1_0, &json!({"message": message}), "params").unwrap();
    assert!(default.configuration.is_blocking());
}

#[test]
fn list_params_accept_proto_json() {
    let params = ListTasksParams::parse_at(
        Dialect::V1_0,
        &json!({"contextId": "c", "status": "TASK_STATE_COMPLETED", "pageSize": "10", "includeArtifacts": true}),
        "params",
    )
    .unwrap();
    assert_eq!(params.status, Some(TaskState::Completed));
    assert_eq!(params.page_size, Some(10));
    assert_eq!(
        ListTasksParams::parse_at(Dialect::V1_0, &json!(null), "params").unwrap(),
        ListTasksParams::default()
    );
}

#[test]
fn methods_and_versions() {
    assert_eq!(
        Method::from_name("tasks/resubscribe"),
        Some((Method::SubscribeToTask, Dialect::V0_3))
    );
    assert_eq!(
        Method::from_name("ListTasks"),
        Some((Method::ListTasks, Dialect::V1_0))
    );
    assert_eq!(Method::ListTasks.name(Dialect::V0_3), None);
    assert_eq!(Method::from_name("tasks/list"), None);
    for ok in ["0.3", "0.3.0", " 1.0 ", "1", "1.0.2"] {
        assert!(Dialect::from_version_header(ok).is_ok(), "{ok}");
    }
    for bad in ["0.2", "2.0", "", "abc", "1.x", "0.3."] {
        assert_eq!(
            Dialect::from_version_header(bad).unwrap_err().code.as_i32(),
            -32009,
            "{bad}"
        );
    }
}

#[test]
fn envelopes() {
    assert_eq!(
        parse_request(b"[]").unwrap_err().error.code.as_i32(),
        -32600
    );
    assert_eq!(
        parse_request(b"42").unwrap_err().error.code.as_i32(),
        -32600
    );
    let no_method = parse_request(br#"{"jsonrpc":"2.0","id":"a"}"#).unwrap_err();
    assert_eq!(no_method.id, RequestId::from("a"));
    assert_eq!(no_method.error.code.as_i32(), -32600);
    let bad_id = parse_request(br#"{"jsonrpc":"2.0","id":{},"method":"x"}"#).unwrap_err();
    assert_eq!(bad_id.id, RequestId::Null);
    let null_id = parse_request(br#"{"jsonrpc":"2.0","id":null,"method":"x"}"#).unwrap();
    assert_eq!(null_id.id, RequestId::Null);

    let error = A2aError::task_not_found("t9");
    let v10 = error_response(&RequestId::from(3), &error, Dialect::V1_0);
    assert_eq!(
        v10,
        json!({"jsonrpc": "2.0", "id": 3, "error": {"code": -32001, "message": "Task not found: t9", "data": [
            {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "TASK_NOT_FOUND", "domain": "a2a-protocol.org", "metadata": {}}
        ]}})
    );
    let v03 = error_response(&RequestId::from(3), &error, Dialect::V0_3);
    assert_eq!(
        v03["error"],
        json!({"code": -32001, "message": "Task not found: t9"})
    );
    assert_eq!(A2aError::from_error_object(&v10["error"]).code, error.code);
}

#[test]
fn card_interfaces_in_both_card_dialects() {
    use agentor_a2a::card::{interfaces, AgentCard, CardInterface};
    let card = AgentCard::new("A", "http://h/");
    let both = [
        CardInterface {
            url: "http://h/".into(),
            dialect: Dialect::V1_0,
        },
        CardInterface {
            url: "http://h/".into(),
            dialect: Dialect::V0_3,
        },
    ];
    assert_eq!(interfaces(&card.render(Dialect::V1_0)), both);
    // The merged 0.3 card is read through its supportedInterfaces.
    assert_eq!(interfaces(&card.render(Dialect::V0_3)), both);
    // A pure 0.3 card.
    let legacy = json!({"protocolVersion": "0.3.0", "url": "http://a/", "preferredTransport": "JSONRPC",
        "additionalInterfaces": [{"url": "http://a/", "transport": "JSONRPC"}, {"url": "http://b/", "transport": "GRPC"}]});
    assert_eq!(
        interfaces(&legacy),
        [CardInterface {
            url: "http://a/".into(),
            dialect: Dialect::V0_3
        }]
    );
    let grpc_only = json!({"supportedInterfaces": [{"url": "x", "protocolBinding": "GRPC", "protocolVersion": "1.0"},
        {"url": "y", "protocolBinding": "JSONRPC", "protocolVersion": "2.0"}]});
    assert!(interfaces(&grpc_only).is_empty());
}
