//! The fuzz targets of agentor: one function per parser that reads bytes
//! from outside the process. Each takes arbitrary bytes and panics only on a
//! bug: a crash, or a broken invariant it checks (a chunking that changes
//! what the SSE decoder reads, a provider turn without exactly one run end
//! last, an encoded event that does not decode to itself, a request the
//! server answers `500`).
//!
//! Two drivers run the same functions:
//!
//! - `fuzz/` (cargo-fuzz, libFuzzer; `scripts/fuzz.sh TARGET SECONDS`) for
//!   coverage-guided campaigns, with the seed corpus in `fuzz/corpus/`;
//! - `tests/` here, with proptest, in CI: every seed, mutations of the
//!   seeds, and arbitrary bytes, on the stable toolchain.
//!
//! `docs/reliability.md` records the campaigns and what they found.

use std::sync::OnceLock;

use agentor_a2a::jsonrpc;
use agentor_a2a::{Dialect, ListTasksParams, Method, SendMessageParams, TaskQuery};
use agentor_core::wire::native;
use agentor_core::wire::sse::{Decoder, SseError, SseEvent};
use agentor_core::{EventResult, RunStatus};
use agentor_transport::{turn_stream, ByteStream, TurnParser, TurnStart};
use bytes::{Bytes, BytesMut};
use futures::StreamExt;

/// A fuzz target: bytes in, a panic only on a bug.
pub type Target = fn(&[u8]);

/// Every target by name, as `fuzz/` and `scripts/fuzz.sh` name them.
pub const TARGETS: &[(&str, Target)] = &[
    ("sse_decoder", sse_decoder),
    ("chat_completions", chat_completions),
    ("responses", responses),
    ("a2a_stream", a2a_stream),
    ("jsonrpc", jsonrpc),
    ("server_request", server_request),
    ("ws_message", ws_message),
    ("native_lines", native_lines),
    ("agentor_toml", agentor_toml),
];

/// The target called `name`.
pub fn target(name: &str) -> Option<Target> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

/// What a decoder read from some chunks: its events, then how it ended.
type Decoded = (Vec<SseEvent>, Result<(), SseError>);

fn decode(chunks: &[&[u8]], max_event_bytes: usize) -> Decoded {
    let mut decoder = Decoder::new().max_event_bytes(max_event_bytes);
    let mut events = Vec::new();
    let mut drain = |decoder: &mut Decoder| -> Result<(), SseError> {
        while let Some(event) = decoder.next_event()? {
            events.push(event);
        }
        Ok(())
    };
    for chunk in chunks {
        decoder.push(Bytes::copy_from_slice(chunk));
        if let Err(e) = drain(&mut decoder) {
            return (events, Err(e));
        }
    }
    let end = decoder.finish().and_then(|()| drain(&mut decoder));
    (events, end)
}

/// The SSE decoder: any cut of the same bytes into two chunks reads the
/// same events and fails or not alike (the first byte picks the cut and a
/// small event bound, so the bound's path is fuzzed too).
pub fn sse_decoder(data: &[u8]) {
    let Some((&seed, body)) = data.split_first() else {
        return;
    };
    let limit = if seed & 1 == 0 { 1 << 20 } else { 64 };
    let at = usize::from(seed) * body.len() / 256;
    let (a, b) = body.split_at(at);
    let (whole, whole_end) = decode(&[body], limit);
    let (cut, cut_end) = decode(&[a, b], limit);
    // The events read are the same; so is whether the body failed. When it
    // has several faults (bad UTF-8 and an event over the bound), which one
    // is met first may depend on where the chunks end.
    assert_eq!(whole, cut, "cutting at {at} changed the events decoded");
    assert_eq!(
        whole_end.is_ok(),
        cut_end.is_ok(),
        "cutting at {at} changed how the body ended: {whole_end:?} / {cut_end:?}"
    );
}

/// One provider turn over `data` as an SSE body: it must end with exactly
/// one run end, last, and number its events strictly upward.
fn turn(parser: Box<dyn TurnParser>, data: &[u8]) {
    let body: ByteStream = Box::pin(futures::stream::iter([Ok(Bytes::copy_from_slice(data))]));
    let start = TurnStart {
        agent: "fuzz".into(),
        ..TurnStart::default()
    };
    let items: Vec<EventResult> =
        futures::executor::block_on(turn_stream(start, async { Ok(body) }, None, parser).collect());
    let ends: Vec<usize> = items
        .iter()
        .enumerate()
        .filter(|(_, item)| item.as_ref().is_ok_and(|e| e.run_status().is_some()))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(ends, [items.len() - 1], "one run end, last: {items:?}");
    let seqs: Vec<u64> = items.iter().flatten().map(|e| e.seq).collect();
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "seq goes up: {seqs:?}"
    );
    let completed = items
        .last()
        .and_then(|i| i.as_ref().ok())
        .and_then(agentor_core::Event::run_status)
        == Some(RunStatus::Completed);
    if items.iter().any(Result::is_err) {
        assert!(!completed, "a failed turn does not end completed");
    }
}

/// The OpenAI Chat Completions stream parser, on the real transport path.
pub fn chat_completions(data: &[u8]) {
    turn(
        Box::new(agentor_providers::ChatCompletionsParser::new()),
        data,
    );
}

/// The OpenAI Responses stream parser, on the real transport path.
pub fn responses(data: &[u8]) {
    turn(Box::new(agentor_providers::ResponsesParser::new()), data);
}

/// The A2A client's task-stream parser (the first byte picks the dialect).
pub fn a2a_stream(data: &[u8]) {
    let Some((&seed, body)) = data.split_first() else {
        return;
    };
    let dialect = if seed & 1 == 0 {
        Dialect::V0_3
    } else {
        Dialect::V1_0
    };
    turn(agentor_a2a::client::stream_parser("remote", dialect), body);
}

/// JSON-RPC requests, and the params of every method, in both dialects.
pub fn jsonrpc(data: &[u8]) {
    let Ok(request) = jsonrpc::parse_request(data) else {
        return;
    };
    let _ = Method::from_name(&request.method);
    for dialect in [Dialect::V0_3, Dialect::V1_0] {
        let params = &request.params;
        if let Ok(send) = SendMessageParams::parse_at(dialect, params, "params") {
            // What we read, we can write, and read back the same.
            let again = SendMessageParams::parse_at(dialect, &send.render(dialect), "params");
            assert_eq!(again.as_ref(), Ok(&send), "send params round trip");
        }
        let _ = TaskQuery::parse_at(dialect, params, "params");
        let _ = ListTasksParams::parse_at(dialect, params, "params");
    }
}

/// Native JSON lines (recordings, replay): every line that decodes encodes
/// back to a line that decodes to the same event.
pub fn native_lines(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        assert!(native::decode(data).is_err(), "invalid UTF-8 is refused");
        return;
    };
    for event in native::decode_lines(text).flatten() {
        let mut line = BytesMut::new();
        native::encode(&event, &mut line);
        assert_eq!(native::decode(&line).as_ref(), Ok(&event), "round trip");
    }
}

/// `agentor.toml`.
pub fn agentor_toml(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = agentor_cli::config::Config::parse(text);
    }
}

/// One request to the server's router, on the demo provider: `/chat` with
/// the bytes as its body or its query, or A2A JSON-RPC with them as its
/// body (the first byte picks). Whatever they are, the answer is not a
/// `5xx` other than the documented `503`s, and an error answer is JSON.
pub fn server_request(data: &[u8]) {
    let Some((&seed, rest)) = data.split_first() else {
        return;
    };
    let (uri, body) = match seed % 3 {
        0 => ("/chat".to_owned(), rest.to_vec()),
        1 => {
            let query: String = String::from_utf8_lossy(rest)
                .chars()
                .filter(|c| !c.is_control() && *c != ' ' && *c != '#')
                .collect();
            (
                format!("/chat?{query}"),
                br#"{"input": "Hi", "stream": true}"#.to_vec(),
            )
        }
        _ => ("/".to_owned(), rest.to_vec()),
    };
    let Ok(request) = axum::http::Request::post(uri.as_str())
        .header("content-type", "application/json")
        .body(axum::body::Body::from(body))
    else {
        // Not a URI at all: nothing reaches the server.
        return;
    };
    let (status, is_json) = runtime().block_on(async {
        use tower::ServiceExt;
        let response = router().clone().oneshot(request).await.expect("infallible");
        let status = response.status();
        let is_json = response
            .headers()
            .get("content-type")
            .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
        // Read the body to its end: a stream must end.
        let _ = axum::body::to_bytes(response.into_body(), 1 << 24).await;
        (status, is_json)
    });
    assert!(
        !status.is_server_error() || status.as_u16() == 503,
        "{status} for {uri}"
    );
    if status.is_client_error() {
        assert!(is_json, "{status} without a JSON body for {uri}");
    }
}

/// A WebSocket client frame (`/ws`): parsed into a run or a cancel, or an
/// error frame whose code is one of the documented ones and whose message
/// quotes a bounded part of the input. A frame that is not UTF-8 cannot be a
/// text frame; the server answers it `unsupported_frame` before parsing.
pub fn ws_message(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err((code, message)) = agentor_server::parse_client_message(text) {
        const CODES: &[&str] = &[
            "invalid_json",
            "invalid_request",
            "unknown_type",
            "invalid_option",
        ];
        assert!(CODES.contains(&code), "undocumented code {code}: {message}");
        assert!(
            message.len() <= 2 * agentor_core::error::MAX_MESSAGE_BYTES,
            "{code}: a {}-byte message for a {}-byte frame",
            message.len(),
            text.len()
        );
    }
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
    })
}

fn router() -> &'static axum::Router {
    static ROUTER: OnceLock<axum::Router> = OnceLock::new();
    ROUTER.get_or_init(|| {
        let agent = agentor::Agentor::builder()
            .name("Fuzz")
            .provider(agentor_providers::Demo::instant())
            .build();
        agentor_server::router(agent, agentor_server::ServerConfig::default())
    })
}
