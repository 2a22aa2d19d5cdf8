//! `from_env` picks the provider the environment names, and the one it
//! builds talks to what the environment points at. One test, run alone in
//! its own binary, because it changes the process environment.

#![allow(clippy::unwrap_used)]

mod support;

use agentor_core::{ChatMessage, ChatRequest, Kind, Provider};
use agentor_providers::{from_env, EnvChoice};
use support::{collect, kinds, text_of, Reply, Stub};

const VARS: [&str; 5] = [
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_BASE_URL",
    "ANTHROPIC_MODEL",
];

fn clear() {
    for name in VARS {
        std::env::remove_var(name);
    }
}

fn set(name: &str, value: &str) {
    std::env::set_var(name, value);
}

#[tokio::test(flavor = "current_thread")]
async fn the_environment_picks_openai_then_anthropic_then_the_demo() {
    clear();
    assert_eq!(EnvChoice::detect(), EnvChoice::Demo);
    set("ANTHROPIC_API_KEY", "   ");
    assert_eq!(EnvChoice::detect(), EnvChoice::Demo, "a blank key is unset");

    let stub = Stub::start(vec![Reply::fixture("anthropic_text")]).await;
    set("ANTHROPIC_API_KEY", "sk-ant-from-env");
    set("ANTHROPIC_BASE_URL", &format!("http://{}", stub.addr));
    set("ANTHROPIC_MODEL", "claude-from-env");
    assert_eq!(EnvChoice::detect(), EnvChoice::Anthropic);
    let provider = from_env();
    let request = ChatRequest::new("", vec![ChatMessage::user("hi")]);
    let items = collect(provider.stream(request)).await;
    assert_eq!(kinds(&items).last(), Some(&Some(Kind::RunEnd)));
    assert!(!text_of(&items, Kind::Message).is_empty());
    let received = stub.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].headers["x-api-key"], "sk-ant-from-env");
    assert!(received[0].headers.contains_key("anthropic-version"));
    assert_eq!(received[0].body["model"], "claude-from-env");

    // An OpenAI setting wins over Anthropic's.
    set("OPENAI_BASE_URL", "http://127.0.0.1:9");
    assert_eq!(EnvChoice::detect(), EnvChoice::OpenAiChat);
    clear();
}
