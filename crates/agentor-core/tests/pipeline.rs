//! The full pipeline over every kind of stream, with failures and odd endings.

#![allow(clippy::unwrap_used, missing_docs)]

use std::time::Duration;

use agentor_core::{
    merge, source, BatchLayer, Boundary, Error, Event, EventResult, EventStreamExt, FilterLayer,
    Kind, MergeLayer, Pipeline, ProgressLayer, RebufferLayer, TimeoutLayer,
};
use futures::{SinkExt, StreamExt};
use proptest::prelude::*;
use tower_layer::Layer;

/// Every operator in one stack (merge and record included).
fn full_stack() -> impl Layer<
    futures::stream::BoxStream<'static, EventResult>,
    Service = impl futures::Stream<Item = EventResult> + Send,
> {
    Pipeline::new()
        .layer(MergeLayer::new("main"))
        .filter_events(FilterLayer::new().exclude_kinds(Kind::Usage))
        .rebuffer(RebufferLayer::new(Boundary::Words))
        .batch(BatchLayer::new().max_count(3).coalesce(true))
        .timeouts(TimeoutLayer::new().idle(Duration::from_secs(60)))
        .progress(ProgressLayer::new())
        .layer(agentor_core::ops::tap::TapLayer::new(|_: &EventResult| {}))
        .layer(agentor_core::ops::record::RecordLayer::new(tokio::io::sink))
}

fn text_of(items: &[EventResult]) -> String {
    items
        .iter()
        .filter_map(|i| i.as_ref().ok()?.text())
        .collect()
}

fn input() -> Vec<EventResult> {
    vec![
        Ok(Event::text_delta("Hel")),
        Ok(Event::text_delta("lo wo")),
        Err(Error::provider("hiccup")),
        Ok(Event::text_delta("rld")),
    ]
}

async fn check<S>(stream: S)
where
    S: futures::Stream<Item = EventResult> + Send + 'static,
{
    let out: Vec<EventResult> = full_stack().layer(stream.boxed()).collect().await;
    assert_eq!(text_of(&out), "Hello world", "{out:?}");
    let errors: Vec<&Error> = out.iter().filter_map(|i| i.as_ref().err()).collect();
    assert_eq!(errors, [&Error::provider("hiccup")]);
    // The stream had no run end, and the pipeline invents none: it just ends.
    assert!(out
        .iter()
        .all(|i| i.as_ref().map_or(true, |e| e.kind() != Kind::RunEnd)));
}

#[tokio::test]
async fn any_stream_fits_futures_tokio_and_async_stream() {
    check(futures::stream::iter(input())).await;
    check(tokio_stream::iter(input())).await;
    check(async_stream::stream! {
        for item in input() {
            tokio::task::yield_now().await;
            yield item;
        }
    })
    .await;

    let (mut tx, rx) = futures::channel::mpsc::channel(1);
    let feeder = tokio::spawn(async move {
        for item in input() {
            tx.send(item).await.unwrap();
        }
    });
    check(rx).await;
    feeder.await.unwrap();

    let (tx, rx) = tokio::sync::mpsc::channel(1);
    tokio::spawn(async move {
        for item in input() {
            tx.send(item).await.unwrap();
        }
    });
    check(tokio_stream::wrappers::ReceiverStream::new(rx)).await;
}

#[tokio::test]
async fn empty_stream_ends_cleanly() {
    let out: Vec<EventResult> = full_stack()
        .layer(futures::stream::empty().boxed())
        .collect()
        .await;
    assert!(out.is_empty());
}

#[tokio::test]
async fn merged_agents_each_keep_their_text() {
    let merged = merge([
        ("a", source::demo_text(["one ", "two ", "three"]).boxed()),
        ("b", source::demo_text(["uno ", "dos ", "tres"]).boxed()),
    ]);
    let out: Vec<Event> = merged
        .rebuffer(Boundary::Words)
        .map(Result::unwrap)
        .collect()
        .await;
    let text = |who: &str| -> String {
        out.iter()
            .filter(|e| e.origin.source.as_deref() == Some(who) && e.kind() == Kind::TextDelta)
            .filter_map(Event::text)
            .collect()
    };
    assert_eq!(
        (text("a"), text("b")),
        ("one two three".into(), "uno dos tres".into())
    );
}

fn item() -> impl Strategy<Value = EventResult> {
    prop_oneof![
        6 => "[a-z \n]{0,6}".prop_map(|t| Ok(Event::text_delta(t))),
        1 => "[a-z]{0,6}".prop_map(|t| Ok(Event::reasoning_delta(t))),
        1 => Just(Ok(Event::tool_call("c", "t", serde_json::json!({})))),
        1 => "[a-z]{1,4}".prop_map(|m| Err(Error::provider(m))),
    ]
}

proptest! {
    /// `Err` items pass every operator unchanged and in order, and no text is lost.
    #[test]
    fn errors_pass_through_in_order_and_text_survives(items in prop::collection::vec(item(), 0..50)) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
        let out: Vec<EventResult> = rt.block_on(full_stack().layer(futures::stream::iter(items.clone()).boxed()).collect());
        let errors = |v: &[EventResult]| -> Vec<Error> { v.iter().filter_map(|i| i.clone().err()).collect() };
        prop_assert_eq!(errors(&out), errors(&items));
        let texts = |v: &[EventResult], k: Kind| -> String {
            v.iter().filter_map(|i| i.as_ref().ok()).filter(|e| e.kind() == k).filter_map(Event::text).collect()
        };
        prop_assert_eq!(texts(&out, Kind::TextDelta), texts(&items, Kind::TextDelta));
        prop_assert_eq!(texts(&out, Kind::ReasoningDelta), texts(&items, Kind::ReasoningDelta));
        // Each failure comes after exactly the text that preceded it.
        let before_each_error = |v: &[EventResult]| -> Vec<String> {
            let mut seen = String::new();
            let mut marks = Vec::new();
            for i in v {
                match i {
                    Ok(e) if e.kind() == Kind::TextDelta => seen.push_str(e.text().unwrap_or_default()),
                    Err(_) => marks.push(seen.clone()),
                    _ => {}
                }
            }
            marks
        };
        prop_assert_eq!(before_each_error(&out), before_each_error(&items));
    }
}
