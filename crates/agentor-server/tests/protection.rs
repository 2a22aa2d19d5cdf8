//! Bad input, limits, auth, CORS, 404/405: every error is JSON.
#![allow(clippy::unwrap_used)]

mod common;

use agentor_server::{Cors, ServerConfig};
use common::*;
use serde_json::Value;

async fn expect_error(response: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(response.status(), status, "expected {code}");
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .is_some_and(|m| !m.is_empty()));
    assert_eq!(body.as_object().unwrap().len(), 1);
    body
}

#[tokio::test]
async fn bad_input_is_answered_in_json() {
    let server = start(demo_agent(), ServerConfig::default().body_limit(64 * 1024)).await;
    let client = reqwest::Client::new();
    let post = |body: Vec<u8>, content_type: &'static str| {
        client
            .post(server.url("/chat"))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let json = "application/json";
    for (body, content_type, status, code) in [
        (&b"{\"input\": "[..], json, 400, "invalid_json"),
        (b"not json", json, 400, "invalid_json"),
        (b"", json, 400, "invalid_json"),
        (b"{\"input\": 42}", json, 422, "invalid_request"),
        (b"{\"stream\": true}", json, 422, "invalid_request"),
        (
            b"{\"input\": \"x\", \"stream\": \"yes\"}",
            json,
            422,
            "invalid_request",
        ),
        (b"[1, 2]", json, 422, "invalid_request"),
        (b"{\"input\": \"\xff\xfe\"}", json, 400, "invalid_utf8"),
        (
            b"{\"input\": \"x\"}",
            "text/plain",
            415,
            "unsupported_media_type",
        ),
        (
            b"{\"input\": \"x\", \"rebuffer\": \"pages\"}",
            json,
            400,
            "invalid_option",
        ),
        (
            b"{\"input\": \"x\", \"events\": \"bogus\"}",
            json,
            400,
            "invalid_option",
        ),
        (
            b"{\"input\": \"x\", \"batch_ms\": 0}",
            json,
            400,
            "invalid_option",
        ),
        (
            b"{\"input\": \"x\", \"timeout\": -1}",
            json,
            400,
            "invalid_option",
        ),
        (
            b"{\"input\": \"x\", \"format\": \"xml\"}",
            json,
            400,
            "invalid_option",
        ),
    ] {
        expect_error(
            post(body.to_vec(), content_type).await.unwrap(),
            status,
            code,
        )
        .await;
    }
    // No content type at all.
    let response = client
        .post(server.url("/chat"))
        .body("{}")
        .send()
        .await
        .unwrap();
    expect_error(response, 415, "unsupported_media_type").await;
    // A bad option in the query names it.
    let response = client
        .post(server.url("/chat?batch_ms=soon"))
        .json(&serde_json::json!({"input": "x"}))
        .send()
        .await
        .unwrap();
    let body = expect_error(response, 400, "invalid_option").await;
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("`batch_ms`"));
    // Too large: by Content-Length, and chunked without one.
    let huge = format!("{{\"input\": \"{}\"}}", "a".repeat(100 * 1024));
    expect_error(
        post(huge.clone().into_bytes(), json).await.unwrap(),
        413,
        "body_too_large",
    )
    .await;
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = huge
        .into_bytes()
        .chunks(8 * 1024)
        .map(|c| Ok(c.to_vec()))
        .collect();
    let response = client
        .post(server.url("/chat"))
        .header("content-type", json)
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await
        .unwrap();
    expect_error(response, 413, "body_too_large").await;
}

#[tokio::test]
async fn routes_health_404_405() {
    let server = demo_server().await;
    let client = reqwest::Client::new();
    let health: Value = client
        .get(server.url("/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health, serde_json::json!({"status": "ok"}));
    let response = client.get(server.url("/nope")).send().await.unwrap();
    expect_error(response, 404, "not_found").await;
    let response = client.get(server.url("/chat")).send().await.unwrap();
    assert!(response.headers().contains_key("allow"));
    expect_error(response, 405, "method_not_allowed").await;
    let response = client.post(server.url("/health")).send().await.unwrap();
    expect_error(response, 405, "method_not_allowed").await;
}

#[tokio::test]
async fn bearer_token() {
    let server = start(demo_agent(), ServerConfig::default().token("s3cret")).await;
    let client = reqwest::Client::new();
    let chat = || {
        client
            .post(server.url("/chat"))
            .json(&serde_json::json!({"input": "Hi"}))
    };
    let response = chat().send().await.unwrap();
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    expect_error(response, 401, "unauthorized").await;
    let response = chat().bearer_auth("wrong").send().await.unwrap();
    expect_error(response, 401, "unauthorized").await;
    let response = chat().bearer_auth("s3cret").send().await.unwrap();
    assert_eq!(response.status(), 200);
    let response = client.get(server.url("/health")).send().await.unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn cors_preflight() {
    let origin = "https://app.example.com";
    let server = start(
        demo_agent(),
        ServerConfig::default()
            .token("t")
            .cors(Cors::Origins(vec![origin.into()])),
    )
    .await;
    let client = reqwest::Client::new();
    let preflight = |from: &'static str| {
        client
            .request(reqwest::Method::OPTIONS, server.url("/chat"))
            .header("origin", from)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "content-type, authorization",
            )
            .send()
    };
    let response = preflight(origin).await.unwrap();
    assert!(response.status().is_success());
    assert_eq!(response.headers()["access-control-allow-origin"], origin);
    let response = preflight("https://evil.example").await.unwrap();
    assert!(!response
        .headers()
        .contains_key("access-control-allow-origin"));
    // No CORS by default.
    let plain = demo_server().await;
    let response = client
        .request(reqwest::Method::OPTIONS, plain.url("/chat"))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(!response
        .headers()
        .contains_key("access-control-allow-origin"));
}
