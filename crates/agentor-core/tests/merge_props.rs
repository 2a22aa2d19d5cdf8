//! Property: merge keeps each source's items, in order, whatever the timing.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::time::Duration;

use agentor_core::{merge, BoxEventStream, Error, Event, EventResult};
use futures::StreamExt;
use proptest::collection::vec;
use proptest::prelude::*;

/// One item of a source: its delay in ms before it is ready, and whether it
/// is an `Err` item (the merge must pass those along in order too).
type Plan = Vec<(u64, bool)>;

/// A source's label travels in the text (or the error message): `source:index`.
fn label(source: usize, index: usize) -> String {
    format!("{source}:{index}")
}

fn source(id: usize, plan: Plan) -> BoxEventStream {
    Box::pin(async_stream::stream! {
        for (index, (delay, is_err)) in plan.into_iter().enumerate() {
            if delay > 0 {
                tokio::time::sleep(Duration::from_millis(delay)).await;
            }
            if is_err {
                yield Err(Error::provider(label(id, index)));
            } else {
                yield Ok(Event::text_delta(label(id, index)));
            }
        }
    })
}

fn plan() -> impl Strategy<Value = Plan> {
    vec(
        (
            prop_oneof![3 => Just(0u64), 2 => 1u64..5],
            prop::bool::weighted(0.1),
        ),
        0..20,
    )
}

proptest! {
    #[test]
    fn each_source_arrives_whole_and_in_order(
        // Each source: its items, and when it joins (`None`: at the start;
        // `Some(ms)`: through a handle after `ms`).
        sources in vec((plan(), prop::option::of(0u64..20)), 1..8),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        let out: Vec<EventResult> = runtime.block_on(async {
            let initial = sources
                .iter()
                .enumerate()
                .filter(|(_, (_, join))| join.is_none())
                .map(|(id, (plan, _))| (id.to_string(), source(id, plan.clone())));
            let merged = merge(initial);
            let handle = merged.handle();
            for (id, (plan, join)) in sources.iter().enumerate() {
                if let Some(after) = *join {
                    let (handle, plan) = (handle.clone(), plan.clone());
                    tokio::spawn(async move {
                        tokio::time::sleep(Duration::from_millis(after)).await;
                        handle.add(id.to_string(), source(id, plan)).unwrap();
                    });
                }
            }
            drop(handle);
            merged.collect().await
        });

        let total: usize = sources.iter().map(|(plan, _)| plan.len()).sum();
        prop_assert_eq!(out.len(), total);

        let mut by_source: BTreeMap<usize, Vec<String>> = BTreeMap::new();
        for item in out {
            let text = match item {
                Ok(event) => {
                    let text = event.text().unwrap().to_owned();
                    // The tag is the name the source was merged under.
                    let (id, _) = text.split_once(':').unwrap();
                    prop_assert_eq!(event.origin.source.as_deref(), Some(id));
                    text
                }
                Err(err) => err.message().to_owned(),
            };
            let id = text.split_once(':').unwrap().0.parse().unwrap();
            by_source.entry(id).or_default().push(text);
        }
        for (id, (plan, _)) in sources.iter().enumerate() {
            let want: Vec<String> = (0..plan.len()).map(|i| label(id, i)).collect();
            prop_assert_eq!(by_source.remove(&id).unwrap_or_default(), want);
        }
    }
}
