//! A push config's webhook, checked against the SSRF policy once, when the
//! config is set: an http(s) URL whose host resolves only to addresses the
//! [`PushSettings`] allow. The addresses found then are pinned for every
//! POST: the one HTTP client of the server's webhooks resolves names through
//! [`Pins`] alone, which knows only checked addresses, so a DNS answer that
//! changes afterwards (DNS rebinding) cannot redirect the notifications.
//! Redirects are not followed and no proxy is used.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Duration;

use agentor_a2a::A2aError;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::Url;

use crate::push_settings::PushSettings;

/// How long resolving a webhook's host may take.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);

/// The checked addresses of the webhooks' host names, each with how many
/// webhooks use it: an entry goes with its last webhook.
#[derive(Debug, Default)]
pub(crate) struct Pins(Mutex<HashMap<String, (Vec<SocketAddr>, usize)>>);

impl Pins {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, (Vec<SocketAddr>, usize)>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Resolve for Pins {
    fn resolve(&self, name: Name) -> Resolving {
        let found = self
            .lock()
            .get(name.as_str())
            .map(|(addrs, _)| addrs.clone());
        let host = name.as_str().to_owned();
        Box::pin(async move {
            match found {
                Some(addrs) => Ok(Box::new(addrs.into_iter()) as Addrs),
                // Only a checked name is ever asked for; anything else is
                // not resolved at all rather than resolved unchecked.
                None => Err(format!("{host} is not a checked webhook host").into()),
            }
        })
    }
}

/// A host name's pin, released when the webhook holding it goes.
#[derive(Debug)]
struct Pin {
    pins: Arc<Pins>,
    host: String,
}

impl Drop for Pin {
    fn drop(&mut self) {
        let mut pins = self.pins.lock();
        if let Some((_, users)) = pins.get_mut(&self.host) {
            *users -= 1;
            if *users == 0 {
                pins.remove(&self.host);
            }
        }
    }
}

/// The HTTP client of all webhooks and the pins it resolves names with.
#[derive(Debug)]
pub(crate) struct Webhooks {
    settings: Arc<PushSettings>,
    pins: Arc<Pins>,
    client: OnceLock<reqwest::Client>,
}

impl Webhooks {
    pub(crate) fn new(settings: Arc<PushSettings>) -> Self {
        Webhooks {
            settings,
            pins: Arc::default(),
            client: OnceLock::new(),
        }
    }

    fn client(&self) -> Result<reqwest::Client, A2aError> {
        if let Some(client) = self.client.get() {
            return Ok(client.clone());
        }
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(self.pins.clone())
            .connect_timeout(self.settings.timeout)
            .timeout(self.settings.timeout)
            .build()
            .map_err(|e| A2aError::internal(format!("the webhook client cannot be built: {e}")))?;
        Ok(self.client.get_or_init(|| client).clone())
    }

    /// Checks `url` (at `path` in the params) and pins its addresses; a
    /// refusal is a `-32602` naming why.
    pub(crate) async fn check(&self, url: &str, path: &str) -> Result<Webhook, A2aError> {
        let settings = &*self.settings;
        let refuse = |why: String| A2aError::invalid_params(format!("{path} is refused: {why}"));
        let parsed = Url::parse(url).map_err(|e| refuse(format!("not an absolute URL ({e})")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(refuse(format!(
                "the scheme is {}, and webhooks are http or https",
                parsed.scheme()
            )));
        }
        let port = parsed
            .port_or_known_default()
            .ok_or_else(|| refuse("it has no port".into()))?;
        let host = parsed
            .host_str()
            .filter(|host| !host.is_empty())
            .ok_or_else(|| refuse("it has no host".into()))?;
        // `host_str` writes an IPv6 address in brackets.
        let literal = host.trim_start_matches('[').trim_end_matches(']');
        let pin = match literal.parse::<IpAddr>() {
            // An address in the URL is connected to as it is: no resolving.
            Ok(ip) => {
                allowed(ip, settings).map_err(refuse)?;
                None
            }
            Err(_) => {
                let addrs = resolve(host, port, settings).await.map_err(refuse)?;
                let mut pins = self.pins.lock();
                let entry = pins.entry(host.to_owned()).or_insert((Vec::new(), 0));
                // Every address pinned was checked: the latest answer wins.
                entry.0 = addrs;
                entry.1 += 1;
                Some(Pin {
                    pins: self.pins.clone(),
                    host: host.to_owned(),
                })
            }
        };
        Ok(Webhook {
            client: self.client()?,
            url: parsed,
            _pin: pin,
        })
    }
}

/// A checked webhook: its URL and the client that reaches it.
#[derive(Debug)]
pub(crate) struct Webhook {
    pub(crate) url: Url,
    pub(crate) client: reqwest::Client,
    /// Keeps the host's addresses pinned while the webhook exists.
    _pin: Option<Pin>,
}

impl Webhook {
    /// The URL as logs show it: scheme, host, port and path, never a query
    /// or credentials (they may carry secrets).
    pub(crate) fn shown(&self) -> String {
        let host = self.url.host_str().unwrap_or_default();
        let port = self.url.port().map(|p| format!(":{p}")).unwrap_or_default();
        format!("{}://{host}{port}{}", self.url.scheme(), self.url.path())
    }
}

fn allowed(ip: IpAddr, settings: &PushSettings) -> Result<(), String> {
    match settings.refusal(ip) {
        None => Ok(()),
        Some(kind) => Err(format!(
            "{ip} is a {kind} address, which this server does not send webhooks to (the operator can allow it: agentor serve --a2a-push-allow)"
        )),
    }
}

/// The addresses to pin for `host`: every address it resolves to must be
/// allowed (one refused one is enough to refuse, so a name cannot mix a
/// public address with an internal one); connections try them in order.
async fn resolve(
    host: &str,
    port: u16,
    settings: &PushSettings,
) -> Result<Vec<SocketAddr>, String> {
    let found = tokio::time::timeout(RESOLVE_TIMEOUT, tokio::net::lookup_host((host, port)))
        .await
        .map_err(|_| format!("{host} did not resolve within {RESOLVE_TIMEOUT:?}"))?
        .map_err(|e| format!("{host} does not resolve ({e})"))?;
    let addrs: Vec<SocketAddr> = found.collect();
    for addr in &addrs {
        allowed(addr.ip(), settings).map_err(|why| format!("{host} resolves to {why}"))?;
    }
    if addrs.is_empty() {
        return Err(format!("{host} resolves to no address"));
    }
    Ok(addrs)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn refusal(url: &str, settings: &PushSettings) -> String {
        Webhooks::new(Arc::new(settings.clone()))
            .check(url, "params.url")
            .await
            .unwrap_err()
            .message
    }

    #[tokio::test]
    async fn internal_and_odd_urls_are_refused() {
        let settings = PushSettings::default();
        assert_eq!(
            refusal("http://127.0.0.1:9/hook", &settings).await,
            "params.url is refused: 127.0.0.1 is a loopback address, which this server does not send webhooks to (the operator can allow it: agentor serve --a2a-push-allow)"
        );
        assert!(refusal("http://[::1]/", &settings)
            .await
            .contains("::1 is a loopback"));
        assert!(refusal("http://169.254.169.254/latest", &settings)
            .await
            .contains("link-local"));
        assert!(refusal("http://localhost:9/", &settings)
            .await
            .starts_with("params.url is refused: localhost resolves to "));
        assert!(refusal("file:///etc/passwd", &settings)
            .await
            .contains("the scheme is file"));
        assert!(refusal("/relative", &settings)
            .await
            .contains("not an absolute URL"));
        let open = Webhooks::new(Arc::new(settings.allow("loopback".parse().unwrap())));
        let hook = open
            .check("http://localhost:9/hook?secret=1", "params.url")
            .await
            .unwrap();
        assert_eq!(hook.shown(), "http://localhost:9/hook");
        // The name is pinned while a webhook holds it, and only then.
        let again = open
            .check("http://localhost:9/other", "params.url")
            .await
            .unwrap();
        assert_eq!(open.pins.lock()["localhost"].1, 2);
        drop(hook);
        assert_eq!(open.pins.lock()["localhost"].1, 1);
        drop(again);
        assert!(open.pins.lock().is_empty());
    }
}
