//! [`RemoteCard`]: a remote agent's card, and the JSON-RPC endpoint and
//! dialect the client picks from it.

use agentor_core::{Error, Text};
use agentor_transport::HttpClient;
use reqwest::header::{HeaderValue, ACCEPT};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use super::cancel::VERSION_HEADER;
use crate::card::interfaces;
use crate::Dialect;

/// Where the card of the agent at a base URL is, in the order tried: the
/// current well-known path, then the legacy one.
pub(crate) const CARD_PATHS: [&str; 2] =
    ["/.well-known/agent-card.json", "/.well-known/agent.json"];

/// A remote agent's card, as fetched: the JSON, and what the client made of it.
#[derive(Clone, Debug, PartialEq)]
pub struct RemoteCard {
    json: Value,
    name: Text,
    endpoint: String,
    dialect: Dialect,
}

impl RemoteCard {
    /// Reads a card (either dialect's shape, see [`crate::card::interfaces`])
    /// and picks its JSON-RPC endpoint:
    /// the interface of the `forced` dialect, else the card's 1.0 interface,
    /// else its 0.3 one — as the official SDKs prefer 1.0.
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
        let name = json
            .get("name")
            .and_then(Value::as_str)
            .filter(|name| !name.is_empty())
            .ok_or_else(|| Error::protocol("the agent card has no name"))?;
        let offered = interfaces(&json);
        let pick = |dialect: Dialect| {
            offered
                .iter()
                .find(|i| i.dialect == dialect)
                .map(|i| (i.url.clone(), dialect))
        };
        let chosen = match forced {
            Some(dialect) => {
                pick(dialect).or_else(|| offered.first().map(|i| (i.url.clone(), dialect)))
            }
            None => pick(Dialect::V1_0).or_else(|| pick(Dialect::V0_3)),
        };
        let (endpoint, dialect) = chosen.ok_or_else(|| {
            Error::protocol(format!(
                "the agent card of {name} offers no JSON-RPC interface of protocol 0.3 or 1.0"
            ))
        })?;
        Ok(RemoteCard {
            name: Text::from(name),
            json,
            endpoint,
            dialect,
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

    /// The JSON-RPC endpoint the client posts to.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
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

/// Fetches the card at `url`: a card URL as given (a path ending in
/// `.json`), else the well-known paths under the base URL, the current one
/// first and the legacy one when it is not found. The request asks for the
/// card in the forced dialect, else in 1.0. The transport's read timeout and
/// size bound apply.
pub(crate) async fn fetch(
    http: &HttpClient,
    url: &str,
    forced: Option<Dialect>,
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
        return RemoteCard::from_json(json, forced);
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
}
