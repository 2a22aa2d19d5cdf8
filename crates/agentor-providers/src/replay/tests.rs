//! Replay against recordings made with `record`.

use std::time::Duration;

use agentor_core::source::Script;
use agentor_core::{
    ChatRequest, ErrorKind, Event, EventKind, EventResult, EventStreamExt, ProgressSnapshot,
    Provider, RunStatus,
};
use futures_util::StreamExt;
use serde_json::json;
use tokio::time::Instant;

use super::Replay;

fn request() -> ChatRequest {
    ChatRequest::new("ignored", vec![])
}

/// Records `script` into memory: the events and the recording.
async fn record(script: Script) -> (Vec<Event>, Vec<u8>) {
    let mut recorded = script.into_stream().record(Vec::new());
    let mut events = Vec::new();
    while let Some(item) = recorded.next().await {
        events.push(item.unwrap());
    }
    (events, recorded.into_writer().unwrap())
}

fn a_run() -> Script {
    Script::new()
        .then(
            Event::new(EventKind::RunStart {
                agent: "Planner".into(),
                model: Some("gpt-4.1".into()),
            })
            .with_run_id("r1"),
        )
        .after(
            Duration::from_millis(5),
            Event::reasoning_delta("thinking").with_run_id("r1"),
        )
        .text(Duration::from_millis(5), ["Hel", "lo"])
        .then(Event::tool_call(
            "c1",
            "search",
            json!({"q": "rust", "n": [1, 2.5]}),
        ))
        .then(Event::message("Hello"))
        .then(Event::new(EventKind::Usage {
            input_tokens: 3,
            output_tokens: 2,
            total_tokens: 5,
            cache_read_input_tokens: 0,
            cache_creation_input_tokens: 0,
        }))
        .end(RunStatus::Completed)
}

/// A recording of `events` without `t_ms`, as written by hand or by an
/// older recorder.
fn untimed(events: &[Event]) -> Vec<u8> {
    let mut buf = bytes::BytesMut::new();
    for event in events {
        agentor_core::wire::native::encode(event, &mut buf);
        buf.extend_from_slice(b"\n");
    }
    buf.to_vec()
}

async fn collect(replay: &Replay, request: ChatRequest) -> Vec<EventResult> {
    replay.stream(request).collect().await
}

#[tokio::test(start_paused = true)]
async fn a_recording_replays_identically() {
    let (events, recording) = record(a_run()).await;
    let replayed: Vec<Event> = collect(&Replay::from_bytes(recording), request())
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(replayed, events);
}

#[tokio::test(start_paused = true)]
async fn a_file_and_a_reader_replay_the_same() {
    let (events, recording) = record(a_run()).await;
    let path = std::env::temp_dir().join(format!("agentor-replay-{}.jsonl", std::process::id()));
    tokio::fs::write(&path, &recording).await.unwrap();
    let from_file: Vec<Event> = collect(&Replay::open(&path), request())
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    tokio::fs::remove_file(&path).await.unwrap();
    assert_eq!(from_file, events);

    let replay = Replay::from_reader(move || std::io::Cursor::new(recording.clone()));
    for _ in 0..2 {
        let again: Vec<Event> = collect(&replay, request())
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(again, events, "each stream plays from the start");
    }
}

#[tokio::test(start_paused = true)]
async fn the_request_run_id_replaces_the_recorded_one() {
    let (_, recording) = record(a_run()).await;
    let out = collect(
        &Replay::from_bytes(recording),
        request().with_run_id("live"),
    )
    .await;
    assert!(out
        .iter()
        .all(|e| e.as_ref().unwrap().origin.run_id.as_deref() == Some("live")));
}

#[tokio::test(start_paused = true)]
async fn speed_follows_the_recorded_times() {
    let (_, recording) = record(a_run()).await;
    let ms = Duration::from_millis;
    let recorded = [ms(0), ms(5), ms(10), ms(15), ms(15), ms(15), ms(15), ms(15)];
    // Speeds that keep every time on a whole millisecond, tokio's timer step.
    for speed in [1.0, 5.0, 0.0] {
        let replay = Replay::from_bytes(recording.clone()).speed(speed);
        let start = Instant::now();
        let mut at = Vec::new();
        let mut stream = replay.stream(request());
        while let Some(item) = stream.next().await {
            item.unwrap();
            at.push(start.elapsed());
        }
        let expected: Vec<Duration> = recorded
            .iter()
            .map(|t| {
                if speed > 0.0 {
                    t.div_f64(speed)
                } else {
                    Duration::ZERO
                }
            })
            .collect();
        assert_eq!(at, expected, "speed {speed}");
    }
}

#[tokio::test(start_paused = true)]
async fn untimed_lines_follow_the_reconstructed_pace() {
    let (events, _) = record(a_run()).await;
    let recording = untimed(&events);
    // Three deltas (one reasoning, two text), one gap each.
    let paced = Replay::DELTA_GAP * 3;
    for (speed, expected) in [(0.0, Duration::ZERO), (1.0, paced), (2.0, paced / 2)] {
        let replay = Replay::from_bytes(recording.clone()).speed(speed);
        let start = Instant::now();
        let mut times = Vec::new();
        let mut stream = replay.stream(request());
        while let Some(item) = stream.next().await {
            times.push((item.unwrap().kind(), start.elapsed()));
        }
        assert_eq!(start.elapsed(), expected, "speed {speed}");
        if speed == 1.0 {
            // Deltas wait their gap; what follows the last delta comes at once.
            let at: Vec<Duration> = times.iter().map(|(_, t)| *t).collect();
            let gap = Replay::DELTA_GAP;
            assert_eq!(
                at,
                [
                    Duration::ZERO,
                    gap,
                    gap * 2,
                    gap * 3,
                    paced,
                    paced,
                    paced,
                    paced
                ]
            );
        }
    }
}

#[tokio::test(start_paused = true)]
async fn progress_events_hold_their_recorded_time() {
    let progress = |ms| {
        Event::new(EventKind::Progress(ProgressSnapshot {
            elapsed: Duration::from_millis(ms),
            ..ProgressSnapshot::default()
        }))
    };
    let script = Script::new()
        .then(Event::text_delta("a"))
        .then(progress(1000))
        .then(Event::text_delta("b"))
        // A reading behind the replay's own clock does not turn it back.
        .then(progress(10))
        .end(RunStatus::Completed);
    let (events, _) = record(script).await;
    let start = Instant::now();
    let n = Replay::from_bytes(untimed(&events))
        .speed(4.0)
        .stream(request())
        .count()
        .await;
    assert_eq!(n, 5);
    assert_eq!(
        start.elapsed(),
        (Duration::from_millis(1000) + Replay::DELTA_GAP) / 4
    );
}

#[tokio::test(start_paused = true)]
async fn odd_speeds_mean_as_fast_as_possible() {
    let (_, recording) = record(a_run()).await;
    for speed in [-1.0, f64::NAN, f64::INFINITY] {
        let start = Instant::now();
        Replay::from_bytes(recording.clone())
            .speed(speed)
            .stream(request())
            .count()
            .await;
        assert_eq!(start.elapsed(), Duration::ZERO, "speed {speed}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_corrupt_elapsed_never_panics() {
    let recording = concat!(
        r#"{"type":"progress","seq":0,"events":0,"text_deltas":0,"text_bytes":0,"tool_calls":0,"tool_results":0,"errors":0,"elapsed_ms":1e18}"#,
        "\n",
        r#"{"type":"run_end","seq":1,"status":"completed"}"#,
        "\n"
    );
    let out = collect(&Replay::from_bytes(recording).speed(1e-300), request()).await;
    // Ten million centuries at a near-zero speed: past what a clock holds.
    assert_eq!(out.len(), 2);
    assert!(out.iter().all(Result::is_ok));
}

#[tokio::test(start_paused = true)]
async fn malformed_lines_pass_through_with_their_line() {
    let recording = concat!(
        r#"{"type":"text_delta","seq":0,"text":"a"}"#,
        "\n",
        "not json\n",
        r#"{"type":"run_end","seq":1,"status":"completed"}"#,
        "\n"
    );
    let out = collect(&Replay::from_bytes(recording), request()).await;
    assert_eq!(out.len(), 3);
    let err = out[1].as_ref().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert!(err.message().starts_with("line 2: "), "{err}");
    assert_eq!(
        out[2].as_ref().unwrap().run_status(),
        Some(RunStatus::Completed)
    );
}

#[tokio::test]
async fn a_missing_file_fails_the_stream() {
    let replay = Replay::open("/nonexistent/agentor/recording.jsonl");
    let out = collect(&replay, request().with_run_id("r9")).await;
    assert_eq!(out.len(), 2);
    let err = out[0].as_ref().unwrap_err();
    assert!(
        err.message()
            .contains("/nonexistent/agentor/recording.jsonl"),
        "{err}"
    );
    let end = out[1].as_ref().unwrap();
    assert_eq!(end.run_status(), Some(RunStatus::Failed));
    assert_eq!(end.origin.run_id.as_deref(), Some("r9"));
}

#[tokio::test]
async fn a_recording_without_a_run_end_ends_failed() {
    for recording in ["", "{\"type\":\"text_delta\",\"seq\":4,\"text\":\"cut\"}\n"] {
        let out = collect(&Replay::from_bytes(recording), request()).await;
        let n = out.len();
        assert_eq!(out[n - 2].as_ref().unwrap_err().kind(), ErrorKind::Protocol);
        let end = out[n - 1].as_ref().unwrap();
        assert_eq!(end.run_status(), Some(RunStatus::Failed));
        if n == 3 {
            assert_eq!(end.seq, 5, "the closing run end follows the last seq");
        }
    }
}

#[test]
fn it_is_a_provider_named_replay() {
    let replay: Box<dyn Provider> = Box::new(Replay::from_bytes(""));
    assert_eq!(replay.name(), "replay");
    assert!(format!("{replay:?}").contains("speed"));
}
