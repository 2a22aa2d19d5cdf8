//! `GET /`: the playground page and its assets, the JSON route list for
//! tools, and the A2A `POST /` beside them. The page itself is exercised in
//! a real browser by `tests/browser/run.sh`.
#![allow(clippy::unwrap_used)]

mod common;

use agentor_server::ServerConfig;
use common::*;
use serde_json::{json, Value};

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

/// The policy forbids every load from elsewhere and every inline script.
fn check_policy(csp: &str) {
    let directives: Vec<&str> = csp.split(';').map(str::trim).collect();
    for expected in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ] {
        assert!(directives.contains(&expected), "{expected} missing: {csp}");
    }
    for loose in ["unsafe-inline", "unsafe-eval", "http:", "https:", "*"] {
        assert!(!csp.contains(loose), "{loose} in {csp}");
    }
}

#[tokio::test]
async fn a_browser_gets_the_page_with_a_strict_policy() {
    let server = demo_server().await;
    let client = reqwest::Client::new();
    let navigation = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    for accept in [Some(navigation), Some("*/*"), None] {
        let mut request = client.get(server.url("/"));
        if let Some(accept) = accept {
            request = request.header("accept", accept);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200, "{accept:?}");
        assert_eq!(
            header(&response, "content-type"),
            "text/html; charset=utf-8"
        );
        assert_eq!(header(&response, "cache-control"), "no-cache");
        assert_eq!(header(&response, "x-content-type-options"), "nosniff");
        assert!(header(&response, "vary").contains("accept"));
        check_policy(header(&response, "content-security-policy"));
        let page = response.text().await.unwrap();
        assert!(page.starts_with("<!doctype html>"));
        assert!(page.contains(r#"<script src="playground/app.js" defer></script>"#));
        assert!(page.contains(r#"<link rel="stylesheet" href="playground/app.css">"#));
        // Nothing from elsewhere: no CDN, works offline.
        for remote in ["src=\"http", "href=\"http", "src=\"//", "href=\"//"] {
            assert!(!page.contains(remote), "{remote}");
        }
        // Inline scripts and styles would be blocked by the policy.
        assert!(
            !page.contains("<script>") && !page.contains("<style") && !page.contains("style=\"")
        );
    }
}

#[tokio::test]
async fn the_assets_are_served_with_their_types_and_load_nothing_remote() {
    let server = demo_server().await;
    let client = reqwest::Client::new();
    for (path, content_type) in [
        ("/playground/app.js", "text/javascript; charset=utf-8"),
        ("/playground/app.css", "text/css; charset=utf-8"),
    ] {
        let response = client.get(server.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(header(&response, "content-type"), content_type);
        assert_eq!(header(&response, "cache-control"), "no-cache");
        assert_eq!(header(&response, "x-content-type-options"), "nosniff");
        check_policy(header(&response, "content-security-policy"));
        let body = response.text().await.unwrap();
        assert!(body.len() > 1000, "{path}");
        for remote in ["http://", "https://", "@import", "url("] {
            assert!(!body.contains(remote), "{path} contains {remote}");
        }
    }
    // Model text never becomes markup: the script builds nodes.
    let script = client
        .get(server.url("/playground/app.js"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for sink in [
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
    ] {
        assert!(!script.contains(sink), "app.js uses {sink}");
    }
}

#[tokio::test]
async fn a_tool_asking_for_json_gets_the_routes() {
    let server = demo_server().await;
    let response = reqwest::Client::new()
        .get(server.url("/"))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(header(&response, "content-type").starts_with("application/json"));
    assert!(header(&response, "vary").contains("accept"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_required"], false);
    let routes: Vec<(String, String)> = body["routes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["method"].as_str().unwrap().to_owned(),
                r["path"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for (method, path) in [
        ("GET", "/"),
        ("POST", "/"),
        ("POST", "/chat"),
        ("GET", "/runs/{run_id}/events"),
        ("POST", "/runs/{run_id}/cancel"),
        ("GET", "/ws"),
        ("GET", "/health"),
    ] {
        assert!(
            routes.contains(&(method.to_owned(), path.to_owned())),
            "{method} {path} missing from {routes:?}"
        );
    }
}

#[tokio::test]
async fn with_a_token_the_page_is_public_and_the_api_is_not() {
    let server = start(demo_agent(), ServerConfig::default().token("s3cret")).await;
    let client = reqwest::Client::new();
    // A browser opening the URL cannot send the header: the page and its
    // assets load, and the index tells the page to ask for the token.
    for path in ["/", "/playground/app.js", "/playground/app.css"] {
        let response = client.get(server.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
    }
    let index: Value = client
        .get(server.url("/"))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(index["token_required"], true);
    let chat = index["routes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["path"] == "/chat")
        .unwrap();
    assert_eq!(chat["auth"], true);

    // The A2A JSON-RPC at `POST /` keeps its route and its token.
    let rpc = json!({"jsonrpc": "2.0", "id": 1, "method": "tasks/get", "params": {"id": "nope"}});
    let response = client
        .post(server.url("/"))
        .json(&rpc)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let response = client
        .post(server.url("/"))
        .bearer_auth("s3cret")
        .json(&rpc)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["jsonrpc"], "2.0");
    assert_eq!(answer["id"], 1);
}

#[tokio::test]
async fn other_methods_on_the_root_are_405_with_allow() {
    let server = demo_server().await;
    let response = reqwest::Client::new()
        .put(server.url("/"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    let allow = header(&response, "allow").to_owned();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "method_not_allowed");
}
