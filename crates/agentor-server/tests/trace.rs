//! The server's request spans, collected by a real `tracing` subscriber:
//! `http.route` is the matched route template, never the raw path.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::json;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

/// A span's fields by name.
type Fields = HashMap<String, String>;

/// The id and fields of every `request` span, in the order the spans opened.
#[derive(Clone, Default)]
struct Requests(Arc<Mutex<Vec<(u64, Fields)>>>);

struct Visitor<'a>(&'a mut Fields);

impl Visit for Visitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

impl<S: tracing::Subscriber> Layer<S> for Requests {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, _ctx: Context<'_, S>) {
        if attrs.metadata().name() == "request" {
            let mut fields = HashMap::new();
            attrs.record(&mut Visitor(&mut fields));
            self.0.lock().unwrap().push((id.into_u64(), fields));
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, _ctx: Context<'_, S>) {
        let mut spans = self.0.lock().unwrap();
        if let Some((_, fields)) = spans.iter_mut().find(|(i, _)| *i == id.into_u64()) {
            values.record(&mut Visitor(fields));
        }
    }
}

#[tokio::test]
async fn http_route_is_the_matched_template_and_unmatched_paths_have_none() {
    let requests = Requests::default();
    // A current-thread test: the server's tasks run on this thread, under
    // this default subscriber.
    let _default =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(requests.clone()));
    let server = common::demo_server().await;
    let client = reqwest::Client::new();
    let chat = client
        .post(server.url("/chat"))
        .header("accept", "application/json")
        .json(&json!({"input": "Hi", "stream": false}))
        .send()
        .await
        .unwrap();
    assert!(chat.status().is_success());
    let run_id = chat.headers()["x-run-id"].to_str().unwrap().to_owned();
    chat.bytes().await.unwrap();
    let resumed = client
        .get(server.url(&format!("/runs/{run_id}/events")))
        .send()
        .await
        .unwrap();
    resumed.bytes().await.unwrap();
    let missing = client
        .get(server.url("/no/such/route/42"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    missing.bytes().await.unwrap();

    let spans = requests.0.lock().unwrap().clone();
    let find = |name: &str| {
        spans
            .iter()
            .map(|(_, fields)| fields)
            .find(|f| f.get("otel.name").map(String::as_str) == Some(name))
            .unwrap_or_else(|| panic!("no span named {name}: {spans:#?}"))
    };
    let chat = find("POST /chat");
    assert_eq!(chat["http.route"], "/chat");
    assert_eq!(chat["agentor.run.id"], run_id);
    let resume = find("GET /runs/{run_id}/events");
    assert_eq!(resume["http.route"], "/runs/{run_id}/events");
    // No route matched: the span is named by the method alone, and the raw
    // path (unbounded, caller-chosen) is not an attribute.
    let unmatched = find("GET");
    assert!(!unmatched.contains_key("http.route"), "{unmatched:?}");
    for (_, fields) in &spans {
        for value in fields.values() {
            assert!(!value.contains("/no/such") && !value.contains(&format!("/runs/{run_id}")));
        }
    }
}
