//! Batching never drops or reorders.

#![allow(clippy::unwrap_used, missing_docs)]

use agentor_core::{source, BatchLayer, Error, Event, EventResult, EventStreamExt};
use futures::StreamExt;
use proptest::prelude::*;

fn item() -> impl Strategy<Value = EventResult> {
    prop_oneof![
        6 => ("[a-z ]{0,6}", 0..3u8).prop_map(|(t, s)| Ok(Event::text_delta(t).with_source(["A", "B", "C"][s as usize]))),
        2 => "[a-z]{0,6}".prop_map(|t| Ok(Event::reasoning_delta(t))),
        1 => "[a-z]{0,6}".prop_map(|t| Ok(Event::message(t))),
        1 => "[a-z]{1,6}".prop_map(|m| Err(Error::provider(m))),
    ]
}

/// Per source and kind, the text seen, plus the order of everything else.
fn normalize(items: &[EventResult]) -> (Vec<String>, Vec<EventResult>) {
    let mut text = vec![String::new(); 4];
    let mut others = Vec::new();
    for item in items {
        match item {
            Ok(e) if e.kind().is_delta() => {
                let slot = match (e.kind(), e.origin.source.as_deref()) {
                    (agentor_core::Kind::ReasoningDelta, _) => 3,
                    (_, Some("A")) => 0,
                    (_, Some("B")) => 1,
                    _ => 2,
                };
                text[slot].push_str(e.text().unwrap());
                // The position of text relative to other items matters too.
                others.push(Ok(Event::text_delta("").with_source(format!("{slot}"))));
            }
            other => others.push(other.clone()),
        }
    }
    others.dedup();
    (text, others)
}

proptest! {
    #[test]
    fn batching_keeps_every_item_in_order(items in prop::collection::vec(item(), 0..60), count in 1usize..10, bytes in 1usize..40) {
        let layer = BatchLayer::new().max_wait(None).max_count(count).max_bytes(bytes);
        let out: Vec<EventResult> = futures::executor::block_on(source::iter_results(items.clone()).batch(layer).collect());
        prop_assert_eq!(&out, &items);
    }

    #[test]
    fn coalescing_keeps_the_text_and_the_order(items in prop::collection::vec(item(), 0..60), count in 1usize..10) {
        let layer = BatchLayer::new().max_wait(None).max_count(count).coalesce(true);
        let out: Vec<EventResult> = futures::executor::block_on(source::iter_results(items.clone()).batch(layer).collect());
        prop_assert!(out.len() <= items.len());
        prop_assert_eq!(normalize(&out), normalize(&items));
    }
}
