//! `GET /`: the playground, a page that streams a run in the browser, or,
//! for tools asking for JSON, the list of routes.
//!
//! The page is three files embedded in the binary (no CDN, no build step,
//! works offline). They are served as separate same-origin resources so the
//! Content-Security-Policy can forbid every inline script and style, and
//! every load from anywhere else: model output rendered by a bug as HTML
//! still could not run.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

const PAGE: &str = include_str!("playground/index.html");
const SCRIPT: &str = include_str!("playground/app.js");
const STYLE: &str = include_str!("playground/app.css");

/// Only this origin, only what the page needs: its script and style, `fetch`
/// to the API, and the icon inlined as a `data:` URL.
pub(crate) const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

/// What the index tells about this server.
#[derive(Clone, Debug)]
struct Info {
    token_required: bool,
}

/// `GET /` and the page's two assets. Public even with a token: a browser
/// cannot send a header when it opens a URL, and nothing here is a secret
/// (the page asks for the token and sends it on every API request).
pub(crate) fn routes(token_required: bool) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/playground/app.js", get(script))
        .route("/playground/app.css", get(style))
        .with_state(Info { token_required })
}

async fn index(State(info): State<Info>, headers: HeaderMap) -> Response {
    let mut response = if wants_json(&headers) {
        Json(routes_json(&info)).into_response()
    } else {
        asset(PAGE, "text/html; charset=utf-8")
    };
    // The same URL answers two ways: caches must key on Accept.
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("accept"));
    response
}

async fn script() -> Response {
    asset(SCRIPT, "text/javascript; charset=utf-8")
}

async fn style() -> Response {
    asset(STYLE, "text/css; charset=utf-8")
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // The files change with the binary: revalidate rather than run a stale
    // script against a newer server.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// JSON when the client ranks `application/json` above HTML (`Accept:
/// application/json`); the page otherwise, browsers and `*/*` included.
fn wants_json(headers: &HeaderMap) -> bool {
    let accept = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",");
    quality(&accept, "application", "json") > quality(&accept, "text", "html")
}

/// The quality `accept` gives `kind/sub`: the most specific matching range
/// wins (`text/html` over `text/*` over `*/*`), as RFC 9110 says; 0 if none.
fn quality(accept: &str, kind: &str, sub: &str) -> f32 {
    let mut best: Option<(u8, f32)> = None;
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let Some((k, s)) = media.split_once('/') else {
            continue;
        };
        let specificity = match (k, s) {
            (k, s) if k == kind && s == sub => 2,
            (k, "*") if k == kind => 1,
            ("*", "*") => 0,
            _ => continue,
        };
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q=")?.parse::<f32>().ok())
            .next()
            .unwrap_or(1.0);
        if best.is_none_or(|(spec, _)| specificity > spec) {
            best = Some((specificity, q));
        }
    }
    best.map_or(0.0, |(_, q)| q)
}

fn routes_json(info: &Info) -> serde_json::Value {
    let route = |method: &str, path: &str, what: &str, auth: bool| json!({"method": method, "path": path, "description": what, "auth": auth && info.token_required});
    json!({
        "name": "agentor",
        "version": env!("CARGO_PKG_VERSION"),
        "token_required": info.token_required,
        "routes": [
            route("GET", "/", "this list as JSON (Accept: application/json); the playground page otherwise", false),
            route("POST", "/chat", "one agent run: JSON answer, SSE or NDJSON stream", true),
            route("GET", "/runs/{run_id}/events", "a streamed run read again from its replay log, then live", true),
            route("POST", "/runs/{run_id}/cancel", "stops a streamed run", true),
            route("GET", "/ws", "a WebSocket: several runs, one after another, with cancel", true),
            route("POST", "/", "A2A JSON-RPC (dialects 0.3 and 1.0)", true),
            route("GET", "/.well-known/agent-card.json", "the A2A agent card", false),
            route("GET", "/health", "liveness", false),
        ],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn negotiates() {
        assert!(wants_json(&accept("application/json")));
        assert!(wants_json(&accept("application/*")));
        assert!(wants_json(&accept("text/html;q=0.5, application/json")));
        assert!(!wants_json(&HeaderMap::new()));
        assert!(!wants_json(&accept("*/*")));
        // A browser's navigation.
        assert!(!wants_json(&accept(
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        )));
        assert!(!wants_json(&accept("application/json;q=0.2, text/*")));
    }
}
