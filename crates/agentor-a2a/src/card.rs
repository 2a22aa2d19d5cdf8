//! [`AgentCard`]: what an agent tells clients about itself, per dialect.

use serde_json::{json, Map, Value};

use crate::{Binding, Dialect};

/// A skill listed on the card (agentor lists one per tool).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentSkill {
    /// A stable id.
    pub id: String,
    /// A human-readable name.
    pub name: String,
    /// What it does.
    pub description: String,
    /// Keywords (0.3 requires the list, even empty).
    pub tags: Vec<String>,
    /// Example prompts.
    pub examples: Vec<String>,
}

impl AgentSkill {
    /// A skill with no tags or examples.
    pub fn new(
        id: impl Into<String>,
        name: impl Into<String>,
        description: impl Into<String>,
    ) -> Self {
        AgentSkill {
            id: id.into(),
            name: name.into(),
            description: description.into(),
            tags: Vec::new(),
            examples: Vec::new(),
        }
    }

    fn render(&self) -> Value {
        let mut skill = json!({
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "tags": self.tags,
        });
        if !self.examples.is_empty() {
            skill["examples"] = json!(self.examples);
        }
        skill
    }
}

/// An agent card, rendered per dialect.
///
/// - 1.0: `supportedInterfaces` lists a JSON-RPC 1.0 and a JSON-RPC 0.3
///   interface, both at the card's URL (one endpoint serves both dialects),
///   then the HTTP+JSON 1.0 interface when the card has a
///   [`rest_url`](AgentCard::rest_url).
/// - 0.3: `protocolVersion: "0.3.0"`, `url`, `preferredTransport: "JSONRPC"`
///   and `additionalInterfaces`, **plus** every 1.0 field — the shape the
///   official Python SDK serves: a 0.3 client reads its fields, and a 1.0
///   client (or the JS SDK, which treats any card with `supportedInterfaces`
///   as 1.0) reads `supportedInterfaces` and sees both dialects.
///
/// ```
/// use agentor_a2a::card::{AgentCard, AgentSkill};
/// use agentor_a2a::Dialect;
///
/// let card = AgentCard::new("Assistant", "http://127.0.0.1:8000/")
///     .description("Answers questions")
///     .skill(AgentSkill::new("get_weather", "get_weather", "The current weather in a city."));
/// let v10 = card.render(Dialect::V1_0);
/// assert_eq!(v10["capabilities"]["streaming"], true);
/// assert_eq!(v10["supportedInterfaces"][0]["protocolVersion"], "1.0");
/// assert_eq!(v10["supportedInterfaces"][1]["protocolVersion"], "0.3.0");
/// let v03 = card.render(Dialect::V0_3);
/// assert_eq!(v03["protocolVersion"], "0.3.0");
/// assert_eq!(v03["url"], "http://127.0.0.1:8000/");
/// assert_eq!(v03["preferredTransport"], "JSONRPC");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentCard {
    name: String,
    description: String,
    url: String,
    version: String,
    skills: Vec<AgentSkill>,
    streaming: bool,
    push_notifications: bool,
    input_modes: Vec<String>,
    output_modes: Vec<String>,
    bearer_auth: bool,
    documentation_url: Option<String>,
    rest_url: Option<String>,
}

impl AgentCard {
    /// A card for agent `name` served at `url` (the JSON-RPC endpoint), with
    /// a description naming the agent, version `0.1.0`, streaming on, and
    /// `text/plain` in and out (plus `application/json` out: tool events
    /// arrive as data parts).
    pub fn new(name: impl Into<String>, url: impl Into<String>) -> Self {
        let name = name.into();
        AgentCard {
            description: format!("{name}, an agentor agent"),
            name,
            url: url.into(),
            version: "0.1.0".into(),
            skills: Vec::new(),
            streaming: true,
            push_notifications: false,
            input_modes: vec!["text/plain".into()],
            output_modes: vec!["text/plain".into(), "application/json".into()],
            bearer_auth: false,
            documentation_url: None,
            rest_url: None,
        }
    }

    /// The description.
    #[must_use]
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }

    /// The agent's version (not the protocol's).
    #[must_use]
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = version.into();
        self
    }

    /// Adds a skill.
    #[must_use]
    pub fn skill(mut self, skill: AgentSkill) -> Self {
        self.skills.push(skill);
        self
    }

    /// Whether the agent streams (default true; both official clients fall
    /// back to non-streaming sends without it).
    #[must_use]
    pub fn streaming(mut self, streaming: bool) -> Self {
        self.streaming = streaming;
        self
    }

    /// Whether the agent POSTs task updates to webhooks clients configure
    /// (`capabilities.pushNotifications`; default false).
    #[must_use]
    pub fn push_notifications(mut self, supported: bool) -> Self {
        self.push_notifications = supported;
        self
    }

    /// The default input media types.
    #[must_use]
    pub fn input_modes(mut self, modes: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.input_modes = modes.into_iter().map(Into::into).collect();
        self
    }

    /// The default output media types.
    #[must_use]
    pub fn output_modes(mut self, modes: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.output_modes = modes.into_iter().map(Into::into).collect();
        self
    }

    /// Declares that the endpoint wants `Authorization: Bearer <token>`.
    #[must_use]
    pub fn bearer_auth(mut self, required: bool) -> Self {
        self.bearer_auth = required;
        self
    }

    /// A link to documentation.
    #[must_use]
    pub fn documentation_url(mut self, url: impl Into<String>) -> Self {
        self.documentation_url = Some(url.into());
        self
    }

    /// Also offers the HTTP+JSON (REST) binding of 1.0, whose routes
    /// (`/message:send`, `/tasks/{id}`, …) sit under `url`. Listed after the
    /// JSON-RPC interfaces, so clients that pick the first one they speak
    /// keep JSON-RPC.
    ///
    /// ```
    /// use agentor_a2a::card::AgentCard;
    /// use agentor_a2a::Dialect;
    ///
    /// let card = AgentCard::new("helper", "http://127.0.0.1:8000/")
    ///     .rest_url("http://127.0.0.1:8000/v1")
    ///     .render(Dialect::V1_0);
    /// assert_eq!(card["supportedInterfaces"][2]["protocolBinding"], "HTTP+JSON");
    /// assert_eq!(card["supportedInterfaces"][2]["url"], "http://127.0.0.1:8000/v1");
    /// ```
    #[must_use]
    pub fn rest_url(mut self, url: impl Into<String>) -> Self {
        self.rest_url = Some(url.into());
        self
    }

    /// The JSON-RPC endpoint's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The card in `dialect` (see the type's docs for the shapes).
    pub fn render(&self, dialect: Dialect) -> Value {
        let interface = |version: &str| json!({"url": self.url, "protocolBinding": "JSONRPC", "protocolVersion": version});
        let mut card = Map::new();
        card.insert("name".into(), self.name.clone().into());
        card.insert("description".into(), self.description.clone().into());
        let mut interfaces = vec![
            interface(Dialect::V1_0.version()),
            interface(Dialect::V0_3.version()),
        ];
        if let Some(url) = &self.rest_url {
            interfaces.push(json!({"url": url, "protocolBinding": "HTTP+JSON", "protocolVersion": Dialect::V1_0.version()}));
        }
        card.insert("supportedInterfaces".into(), Value::Array(interfaces));
        card.insert("version".into(), self.version.clone().into());
        if let Some(url) = &self.documentation_url {
            card.insert("documentationUrl".into(), url.clone().into());
        }
        let mut capabilities =
            json!({"streaming": self.streaming, "pushNotifications": self.push_notifications});
        card.insert("defaultInputModes".into(), json!(self.input_modes));
        card.insert("defaultOutputModes".into(), json!(self.output_modes));
        card.insert(
            "skills".into(),
            Value::Array(self.skills.iter().map(AgentSkill::render).collect()),
        );
        if dialect == Dialect::V1_0 && self.bearer_auth {
            card.insert(
                "securitySchemes".into(),
                json!({"bearer": {"httpAuthSecurityScheme": {"scheme": "Bearer"}}}),
            );
            card.insert(
                "securityRequirements".into(),
                json!([{"schemes": {"bearer": {"list": []}}}]),
            );
        }
        if dialect == Dialect::V0_3 {
            card.insert("protocolVersion".into(), Dialect::V0_3.version().into());
            card.insert("url".into(), self.url.clone().into());
            card.insert("preferredTransport".into(), "JSONRPC".into());
            card.insert(
                "additionalInterfaces".into(),
                json!([{"url": self.url, "transport": "JSONRPC"}]),
            );
            capabilities["stateTransitionHistory"] = false.into();
            if self.bearer_auth {
                card.insert(
                    "securitySchemes".into(),
                    json!({"bearer": {"type": "http", "scheme": "bearer"}}),
                );
                card.insert("security".into(), json!([{"bearer": []}]));
            }
        }
        card.insert("capabilities".into(), capabilities);
        Value::Object(card)
    }
}

/// An interface a card offers: where, and in which dialect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CardInterface {
    /// The endpoint's URL (the base URL of the routes, for HTTP+JSON).
    pub url: String,
    /// The dialect spoken there.
    pub dialect: Dialect,
}

/// The JSON-RPC interfaces a card received from a peer offers, in the
/// card's order, in either card dialect: 1.0 `supportedInterfaces` (entries
/// with `protocolBinding` `JSONRPC`, or none), else the 0.3 `url` (with
/// `preferredTransport` `JSONRPC` or none) and `additionalInterfaces`. An
/// interface without a version, or a 0.x one, is 0.3; versions neither 0.3
/// nor 1.x are skipped.
///
/// ```
/// use agentor_a2a::card::{interfaces, AgentCard, CardInterface};
/// use agentor_a2a::Dialect;
///
/// let card = AgentCard::new("Assistant", "http://127.0.0.1:8000/").render(Dialect::V1_0);
/// let found = interfaces(&card);
/// assert_eq!(found[0], CardInterface { url: "http://127.0.0.1:8000/".into(), dialect: Dialect::V1_0 });
/// assert_eq!(found[1].dialect, Dialect::V0_3);
/// ```
pub fn interfaces(card: &Value) -> Vec<CardInterface> {
    bound_interfaces(card)
        .into_iter()
        .filter(|(binding, _)| *binding == Binding::JsonRpc)
        .map(|(_, interface)| interface)
        .collect()
}

/// Every interface a card received from a peer offers in a binding agentor
/// speaks, in the card's order (a 1.0 card's preference order): the
/// JSON-RPC ones of [`interfaces`], and the 1.0 `supportedInterfaces`
/// entries with `protocolBinding` `HTTP+JSON` of a 1.x version (the
/// binding is 1.0 only here; 0.3 cards list no such interface agentor
/// reads).
///
/// ```
/// use agentor_a2a::card::{bound_interfaces, AgentCard};
/// use agentor_a2a::{Binding, Dialect};
///
/// let card = AgentCard::new("Assistant", "http://127.0.0.1:8000/")
///     .rest_url("http://127.0.0.1:8000/v1")
///     .render(Dialect::V1_0);
/// let found = bound_interfaces(&card);
/// assert_eq!(found.len(), 3);
/// assert_eq!(found[2].0, Binding::Rest);
/// assert_eq!(found[2].1.url, "http://127.0.0.1:8000/v1");
/// ```
pub fn bound_interfaces(card: &Value) -> Vec<(Binding, CardInterface)> {
    let binding_of = |binding: Option<&Value>| match binding.and_then(Value::as_str) {
        None => Some(Binding::JsonRpc),
        Some(b) if b.eq_ignore_ascii_case(Binding::JsonRpc.name()) => Some(Binding::JsonRpc),
        Some(b) if b.eq_ignore_ascii_case(Binding::Rest.name()) => Some(Binding::Rest),
        Some(_) => None,
    };
    let jsonrpc = |binding: Option<&Value>| binding_of(binding) == Some(Binding::JsonRpc);
    let dialect_of = |version: Option<&Value>| match version.and_then(Value::as_str) {
        None | Some("") => Some(Dialect::V0_3),
        Some(v) if v.trim_start().starts_with("0.") => Dialect::from_version_header(v)
            .ok()
            .filter(|d| *d == Dialect::V0_3),
        Some(v) => Dialect::from_version_header(v).ok(),
    };
    let url_of = |value: &Value| value.get("url").and_then(Value::as_str).map(str::to_owned);
    if let Some(list) = card
        .get("supportedInterfaces")
        .and_then(Value::as_array)
        .filter(|l| !l.is_empty())
    {
        return list
            .iter()
            .filter_map(|i| {
                let binding = binding_of(i.get("protocolBinding"))?;
                let dialect = dialect_of(i.get("protocolVersion"))?;
                // The HTTP+JSON binding of 0.3 differs from 1.0's; agentor speaks 1.0's.
                if binding == Binding::Rest && dialect != Dialect::V1_0 {
                    return None;
                }
                Some((
                    binding,
                    CardInterface {
                        url: url_of(i)?,
                        dialect,
                    },
                ))
            })
            .collect();
    }
    let Some(dialect) = dialect_of(card.get("protocolVersion")) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    if let Some(url) = url_of(card).filter(|_| jsonrpc(card.get("preferredTransport"))) {
        found.push(CardInterface { url, dialect });
    }
    for extra in card
        .get("additionalInterfaces")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(url) = url_of(extra).filter(|_| jsonrpc(extra.get("transport"))) {
            let interface = CardInterface { url, dialect };
            if !found.contains(&interface) {
                found.push(interface);
            }
        }
    }
    found
        .into_iter()
        .map(|interface| (Binding::JsonRpc, interface))
        .collect()
}
