//! [`RemoteCard`]: a remote agent's card, and the binding, endpoint and
//! dialect the client picks from it.

use agentor_core::{Error, Text};
use agentor_transport::HttpClient;
use reqwest::header::{HeaderValue, ACCEPT};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use super::cancel::VERSION_HEADER;
use crate::card::{bound_interfaces, CardInterface};
use crate::{Binding, Dialect};

/// Where the card of the agent at a base URL is, in the order tried: the
/// current well-known path, then the legacy one.
pub(crate) const CARD_PATHS: [&str; 2] =
    ["/.well-known/agent-card.json", "/.well-known/agent.json"];

/// Why HTTP+JSON cannot be spoken in 0.3.
pub(crate) const REST_IS_1_0: &str =
    "the HTTP+JSON binding speaks A2A 1.0 only: use JSON-RPC to speak 0.3";

/// A remote agent's card, as fetched: the JSON, and what the client made of it.
#[derive(Clone, Debug, PartialEq)]
pub struct RemoteCard {
    json: Value,
    name: Text,
    endpoint: String,
    dialect: Dialect,
    binding: Binding,
}

impl RemoteCard {
    /// Reads a card (either dialect's shape, see [`crate::card::interfaces`])
    /// and picks its endpoint, with the binding chosen automatically — see
    /// [`RemoteCard::choose`].
    ///
    /// A 1.0 card lists `supportedInterfaces` (`url`, `protocolBinding`,
    /// `protocolVersion`); a 0.3 card has `url`, `protocolVersion` and
    /// `preferredTransport`, and `additionalInterfaces`. When the forced
    /// dialect has no interface of its own, the card's JSON-RPC URL is used
    /// with it (servers serve both dialects on one endpoint).
    ///
    /// ```
    /// use agentor_a2a::client::RemoteCard;
    /// use agentor_a2a::Dialect;
    /// use serde_json::json;
    ///
    /// let card = json!({
    ///     "name": "Weather",
    ///     "supportedInterfaces": [
    ///         {"url": "http://127.0.0.1:8000/", "protocolBinding": "JSONRPC", "protocolVersion": "0.3"},
    ///         {"url": "http://127.0.0.1:8000/", "protocolBinding": "JSONRPC", "protocolVersion": "1.0"},
    ///     ],
    /// });
    /// let auto = RemoteCard::from_json(card.clone(), None).unwrap();
    /// assert_eq!((auto.name(), auto.dialect()), ("Weather", Dialect::V1_0));
    /// let forced = RemoteCard::from_json(card, Some(Dialect::V0_3)).unwrap();
    /// assert_eq!(forced.dialect(), Dialect::V0_3);
    /// assert_eq!(forced.endpoint(), "http://127.0.0.1:8000/");
    /// ```
    pub fn from_json(json: Value, forced: Option<Dialect>) -> Result<Self, Error> {
        RemoteCard::choose(json, forced, None)
    }

    /// Reads a card and picks the binding, endpoint and dialect:
    ///
    /// - the binding: `binding` when forced; else HTTP+JSON when the card
    ///   prefers it — its first interface agentor can use (of the forced
    ///   dialect, when one is) is HTTP+JSON — else JSON-RPC;
    /// - over JSON-RPC, the interface of the `dialect` forced, else the
    ///   card's 1.0 interface, else its 0.3 one — as the official SDKs
    ///   prefer 1.0;
    /// - over HTTP+JSON, the card's first HTTP+JSON 1.x interface, in 1.0.
    ///
    /// HTTP+JSON with a forced 0.3 is an error (the binding is 1.0 here), as
    /// is a card without a name or without an interface of the binding.
    ///
    /// ```
    /// use agentor_a2a::client::RemoteCard;
    /// use agentor_a2a::{Binding, Dialect};
    /// use serde_json::json;
    ///
    /// let card = json!({
    ///     "name": "Weather",
    ///     "supportedInterfaces": [
    ///         {"url": "http://h/v1", "protocolBinding": "HTTP+JSON", "protocolVersion": "1.0"},
    ///         {"url": "http://h/", "protocolBinding": "JSONRPC", "protocolVersion": "1.0"},
    ///     ],
    /// });
    /// let auto = RemoteCard::choose(card.clone(), None, None).unwrap();
    /// assert_eq!((auto.binding(), auto.endpoint()), (Binding::Rest, "http://h/v1"));
    /// let rpc = RemoteCard::choose(card.clone(), None, Some(Binding::JsonRpc)).unwrap();
    /// assert_eq!((rpc.binding(), rpc.endpoint()), (Binding::JsonRpc, "http://h/"));
    /// assert!(RemoteCard::choose(card, Some(Dialect::V0_3), Some(Binding::Rest)).is_err());
    /// ```
    pub fn choose(
        json: Value,
        dialect: Option<Dialect>,
        binding: Option<Binding>,
    ) -> Result<Self, Error> {
        let name = json
            .get("name")
            .and_then(Value::as_str)
            .filter(|name| !name.is_empty())
            .ok_or_else(|| Error::protocol("the agent card has no name"))?;
        let offered = bound_interfaces(&json);
        let binding = match binding {
            Some(binding) => binding,
            None => offered
                .iter()
                .find(|(_, i)| dialect.is_none_or(|d| d == i.dialect))
                .map_or(Binding::JsonRpc, |(binding, _)| *binding),
        };
        let (endpoint, dialect) = match binding {
            Binding::JsonRpc => pick_jsonrpc(&offered, dialect, name)?,
            Binding::Rest => pick_rest(&offered, dialect, name)?,
        };
        Ok(RemoteCard {
            name: Text::from(name),
            json,
            endpoint,
            dialect,
            binding,
        })
    }

    /// The card as the server sent it.
    pub fn json(&self) -> &Value {
        &self.json
    }

    /// The agent's name: the `run_start` agent and every event's `source`.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn name_text(&self) -> Text {
        self.name.clone()
    }

    /// Where the client posts: the JSON-RPC endpoint, or the base URL of
    /// the HTTP+JSON routes (`{endpoint}/message:stream`, …).
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The binding the client speaks to it.
    pub fn binding(&self) -> Binding {
        self.binding
    }

    /// The dialect the client speaks to it.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Whether the card says the agent streams (`capabilities.streaming`).
    pub fn streams(&self) -> bool {
        self.json
            .pointer("/capabilities/streaming")
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }
}

/// The JSON-RPC interface of the `forced` dialect (or the card's first
/// JSON-RPC URL, spoken in it), else the 1.0 one, else the 0.3 one.
fn pick_jsonrpc(
    offered: &[(Binding, CardInterface)],
    forced: Option<Dialect>,
    name: &str,
) -> Result<(String, Dialect), Error> {
    let jsonrpc: Vec<&CardInterface> = offered
        .iter()
        .filter(|(binding, _)| *binding == Binding::JsonRpc)
        .map(|(_, interface)| interface)
        .collect();
    let pick = |dialect: Dialect| {
        jsonrpc
            .iter()
            .find(|i| i.dialect == dialect)
            .map(|i| (i.url.clone(), dialect))
    };
    let chosen = match forced {
        Some(dialect) => {
            pick(dialect).or_else(|| jsonrpc.first().map(|i| (i.url.clone(), dialect)))
        }
        None => pick(Dialect::V1_0).or_else(|| pick(Dialect::V0_3)),
    };
    chosen.ok_or_else(|| {
        Error::protocol(format!(
            "the agent card of {name} offers no JSON-RPC interface of protocol 0.3 or 1.0"
        ))
    })
}

/// The card's first HTTP+JSON interface; the binding speaks 1.0 only.
fn pick_rest(
    offered: &[(Binding, CardInterface)],
    forced: Option<Dialect>,
    name: &str,
) -> Result<(String, Dialect), Error> {
    if forced == Some(Dialect::V0_3) {
        return Err(Error::provider(REST_IS_1_0));
    }
    offered
        .iter()
        .find(|(binding, _)| *binding == Binding::Rest)
        .map(|(_, interface)| (interface.url.clone(), Dialect::V1_0))
        .ok_or_else(|| {
            Error::protocol(format!(
                "the agent card of {name} offers no HTTP+JSON interface of protocol 1.0"
            ))
        })
}

/// Fetches the card at `url`: a card URL as given (a path ending in
/// `.json`), else the well-known paths under the base URL, the current one
/// first and the legacy one when it is not found. The request asks for the
/// card in the forced dialect, else in 1.0. The transport's read timeout and
/// size bound apply.
pub(crate) async fn fetch(
    http: &HttpClient,
    url: &str,
    forced: Option<Dialect>,
    binding: Option<Binding>,
) -> Result<RemoteCard, Error> {
    let candidates: Vec<String> = if url.split('?').next().unwrap_or(url).ends_with(".json") {
        vec![url.to_owned()]
    } else {
        let base = url.trim_end_matches('/');
        CARD_PATHS
            .iter()
            .map(|path| format!("{base}{path}"))
            .collect()
    };
    let version = HeaderValue::from_static(forced.unwrap_or(Dialect::V1_0).version());
    let mut not_found = None;
    for candidate in &candidates {
        let request = http
            .request(Method::GET, candidate)?
            .header(ACCEPT, "application/json")
            .header(VERSION_HEADER, version.clone());
        let response = http.send(request, candidate).await?;
        if response.status() == StatusCode::NOT_FOUND {
            not_found = Some(http.status_error(response).await);
            continue;
        }
        if !response.status().is_success() {
            return Err(http.status_error(response).await);
        }
        let body = http.read_whole(response, candidate).await?;
        let json: Value = serde_json::from_slice(&body).map_err(|e| {
            Error::protocol(format!("the agent card at {candidate} is not JSON: {e}"))
        })?;
        return RemoteCard::choose(json, forced, binding);
    }
    Err(not_found.unwrap_or_else(|| Error::provider(format!("no agent card at {url}"))))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;

    #[test]
    fn a_0_3_card_gives_its_url_in_0_3() {
        let card = json!({"name": "Old", "url": "http://h/a2a", "protocolVersion": "0.3.0",
            "preferredTransport": "JSONRPC"});
        let card = RemoteCard::from_json(card, None).unwrap();
        assert_eq!(
            (card.endpoint(), card.dialect()),
            ("http://h/a2a", Dialect::V0_3)
        );
    }

    #[test]
    fn a_card_of_both_shapes_prefers_1_0_and_honours_a_forced_0_3() {
        // What the official Python SDK serves: the 1.0 card with 0.3 fields merged in.
        let card = json!({"name": "SDK", "supportedInterfaces": [
                {"url": "http://h/v1", "protocolBinding": "JSONRPC", "protocolVersion": "1.0"},
                {"url": "http://h/v03", "protocolBinding": "JSONRPC", "protocolVersion": "0.3"}],
            "url": "http://h/v03", "protocolVersion": "0.3", "preferredTransport": "JSONRPC"});
        let auto = RemoteCard::from_json(card.clone(), None).unwrap();
        assert_eq!(
            (auto.endpoint(), auto.dialect()),
            ("http://h/v1", Dialect::V1_0)
        );
        let old = RemoteCard::from_json(card, Some(Dialect::V0_3)).unwrap();
        assert_eq!(
            (old.endpoint(), old.dialect()),
            ("http://h/v03", Dialect::V0_3)
        );
    }

    #[test]
    fn grpc_only_or_nameless_cards_are_errors() {
        let grpc = json!({"name": "G", "supportedInterfaces": [
            {"url": "h:1", "protocolBinding": "GRPC", "protocolVersion": "1.0"}]});
        let err = RemoteCard::from_json(grpc, None).unwrap_err();
        assert!(err.message().contains("no JSON-RPC interface"), "{err}");
        assert!(RemoteCard::from_json(json!({"url": "http://h/"}), None).is_err());
    }

    #[test]
    fn a_card_preferring_http_json_is_followed_to_rest_unless_json_rpc_is_forced() {
        let card = json!({"name": "R", "supportedInterfaces": [
            {"url": "http://h/v1", "protocolBinding": "HTTP+JSON", "protocolVersion": "1.0"},
            {"url": "http://h/", "protocolBinding": "JSONRPC", "protocolVersion": "1.0"},
            {"url": "http://h/", "protocolBinding": "JSONRPC", "protocolVersion": "0.3"}]});
        let auto = RemoteCard::from_json(card.clone(), None).unwrap();
        assert_eq!(
            (auto.binding(), auto.endpoint(), auto.dialect()),
            (Binding::Rest, "http://h/v1", Dialect::V1_0)
        );
        let rpc = RemoteCard::choose(card.clone(), None, Some(Binding::JsonRpc)).unwrap();
        assert_eq!(
            (rpc.binding(), rpc.endpoint()),
            (Binding::JsonRpc, "http://h/")
        );
        // 0.3 is JSON-RPC only: forcing it skips the HTTP+JSON interface.
        let old = RemoteCard::from_json(card.clone(), Some(Dialect::V0_3)).unwrap();
        assert_eq!(
            (old.binding(), old.dialect()),
            (Binding::JsonRpc, Dialect::V0_3)
        );
        let err = RemoteCard::choose(card, Some(Dialect::V0_3), Some(Binding::Rest)).unwrap_err();
        assert!(err.message().contains("1.0 only"), "{err}");
    }

    #[test]
    fn a_card_listing_http_json_last_keeps_json_rpc_and_rest_can_be_forced() {
        let card = json!({"name": "A", "supportedInterfaces": [
            {"url": "http://h/", "protocolBinding": "JSONRPC", "protocolVersion": "1.0"},
            {"url": "http://h/v03", "protocolBinding": "HTTP+JSON", "protocolVersion": "0.3"},
            {"url": "http://h/v1", "protocolBinding": "HTTP+JSON", "protocolVersion": "1.0"}]});
        let auto = RemoteCard::from_json(card.clone(), None).unwrap();
        assert_eq!(auto.binding(), Binding::JsonRpc);
        let rest = RemoteCard::choose(card, None, Some(Binding::Rest)).unwrap();
        assert_eq!(
            (rest.binding(), rest.endpoint()),
            (Binding::Rest, "http://h/v1")
        );
        let jsonrpc_only = json!({"name": "J", "url": "http://h/", "protocolVersion": "0.3.0"});
        let err = RemoteCard::choose(jsonrpc_only, None, Some(Binding::Rest)).unwrap_err();
        assert!(err.message().contains("no HTTP+JSON interface"), "{err}");
    }
}
