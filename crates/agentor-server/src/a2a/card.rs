//! `GET /.well-known/agent-card.json` (and the legacy `agent.json`): the
//! agent card, in the dialect of the request's `A2A-Version` header, with
//! `ETag` and `Last-Modified` for conditional requests.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::SystemTime;

use agentor_a2a::card::{AgentCard, AgentSkill};
use agentor_a2a::Dialect;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use crate::headers::A2A_VERSION_HEADER;
use crate::state::{A2aState, AppState};

/// How long clients and caches may reuse a card with a configured public URL
/// before revalidating (the `ETag` makes revalidation a cheap 304).
const CACHE_PUBLIC: &str = "public, max-age=300";
/// A card whose URL comes from the request is the requester's alone: no
/// shared cache may hand it to someone who came by another host or scheme.
const CACHE_PRIVATE: &str = "private, max-age=300";

pub(crate) async fn agent_card(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let a2a = &state.a2a;
    // A version the server does not speak still gets a card: the default one.
    let dialect = headers
        .get(A2A_VERSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| Dialect::from_version_header(v).ok())
        .unwrap_or(a2a.card_dialect);
    let url = endpoint_url(a2a, &uri, &headers);
    let body = build(&state, a2a, url).render(dialect).to_string();
    let etag = etag(&body);

    let mut response = if not_modified(&headers, &etag, a2a.card_modified) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut response = body.into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response
    };
    let response_headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&etag) {
        response_headers.insert(header::ETAG, value);
    }
    if let Ok(value) = HeaderValue::from_str(&httpdate::fmt_http_date(a2a.card_modified)) {
        response_headers.insert(header::LAST_MODIFIED, value);
    }
    // The card differs by dialect and, when its URL is derived, by every
    // header the URL is read from.
    let (cache, vary) = match (&a2a.public_url, a2a.trust_proxy) {
        (Some(_), _) => (CACHE_PUBLIC, "A2A-Version"),
        (None, false) => (CACHE_PRIVATE, "A2A-Version, Host"),
        (None, true) => (
            CACHE_PRIVATE,
            "A2A-Version, Host, X-Forwarded-Host, X-Forwarded-Proto",
        ),
    };
    response_headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response_headers.insert(header::VARY, HeaderValue::from_static(vary));
    response
}

fn build(state: &AppState, a2a: &A2aState, url: String) -> AgentCard {
    let agent = &state.agent;
    let rest_url = format!("{}{}", url.trim_end_matches('/'), super::rest::PREFIX);
    let mut card = AgentCard::new(agent.name(), url)
        .rest_url(rest_url)
        .version(
            a2a.agent_version
                .clone()
                .unwrap_or_else(|| env!("CARGO_PKG_VERSION").to_owned()),
        )
        .bearer_auth(a2a.bearer_auth)
        .push_notifications(true);
    if let Some(description) = &a2a.description {
        card = card.description(description.clone());
    }
    // One general skill (the agent answers any message), then one per tool;
    // skill ids are unique, so a tool named `chat` moves the general one.
    let general_id = if agent.tools().iter().any(|tool| tool.name() == "chat") {
        "agent"
    } else {
        "chat"
    };
    let mut chat = AgentSkill::new(
        general_id,
        agent.name(),
        format!("Chat with {}", agent.name()),
    );
    chat.tags = vec!["chat".into()];
    card = card.skill(chat);
    for tool in agent.tools() {
        let mut skill = AgentSkill::new(tool.name(), tool.name(), tool.description());
        skill.tags = vec!["tool".into()];
        card = card.skill(skill);
    }
    card
}

/// The JSON-RPC endpoint's URL: the configured public URL, else derived from
/// the request's host (`0.0.0.0` and `[::]`, which no client can reach,
/// become loopback). `X-Forwarded-Host` and `X-Forwarded-Proto` count only
/// when the operator trusts the proxy in front: anyone can send them.
fn endpoint_url(a2a: &A2aState, uri: &Uri, headers: &HeaderMap) -> String {
    if let Some(url) = &a2a.public_url {
        return url.clone();
    }
    let header_text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let forwarded_host = a2a
        .trust_proxy
        .then(|| header_text("x-forwarded-host"))
        .flatten()
        // A list when several proxies forwarded it: the first is the client's.
        .and_then(|h| h.split(',').next())
        .map(str::trim);
    let host = forwarded_host
        .filter(|h| is_plain_host(h))
        .or_else(|| header_text(header::HOST.as_str()))
        .or_else(|| uri.authority().map(|a| a.as_str()))
        .filter(|h| is_plain_host(h))
        .unwrap_or("localhost");
    let host = if let Some(port) = host.strip_prefix("0.0.0.0") {
        format!("127.0.0.1{port}")
    } else if let Some(port) = host.strip_prefix("[::]") {
        format!("[::1]{port}")
    } else {
        host.to_owned()
    };
    let https = a2a.trust_proxy
        && header_text("x-forwarded-proto")
            .and_then(|p| p.split(',').next())
            .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"));
    format!("{}://{host}/", if https { "https" } else { "http" })
}

/// A host (and port) with nothing that could smuggle a path or a scheme into the URL.
fn is_plain_host(host: &str) -> bool {
    !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
}

/// A weak validator over the card's bytes.
fn etag(body: &str) -> String {
    // DefaultHasher::new() has fixed keys: equal cards, equal tags.
    let mut hasher = DefaultHasher::new();
    body.hash(&mut hasher);
    format!("W/\"{:016x}\"", hasher.finish())
}

/// Whether the client's copy is current: `If-None-Match` against the
/// `ETag` when the request has one (RFC 9110 §13.1.3: it then decides
/// alone), else `If-Modified-Since` against `Last-Modified`. A date that
/// does not parse is ignored, as the RFC says.
fn not_modified(headers: &HeaderMap, etag: &str, modified: SystemTime) -> bool {
    if headers.contains_key(header::IF_NONE_MATCH) {
        return if_none_match(headers, etag);
    }
    headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v.trim()).ok())
        .is_some_and(|since| modified <= since)
}

fn if_none_match(headers: &HeaderMap, etag: &str) -> bool {
    let strip = |tag: &str| tag.trim().trim_start_matches("W/").to_owned();
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|candidate| candidate.trim() == "*" || strip(candidate) == strip(etag))
}
