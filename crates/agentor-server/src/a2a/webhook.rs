//! A push config's webhook, checked against the SSRF policy once, when the
//! config is set: an http(s) URL whose host resolves only to addresses the
//! [`PushSettings`] allow. The addresses found then are pinned for every
//! POST (the HTTP client resolves the host to them and nothing else), so a DNS
//! answer that changes afterwards (DNS rebinding) cannot redirect the
//! notifications; redirects are not followed and no proxy is used.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use agentor_a2a::A2aError;
use reqwest::Url;

use crate::push_settings::PushSettings;

/// How long resolving a webhook's host may take.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);

/// A checked webhook, with its HTTP client pinned to the checked address.
#[derive(Clone, Debug)]
pub(crate) struct Webhook {
    pub(crate) url: Url,
    pub(crate) client: reqwest::Client,
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

/// Checks `url` (at `path` in the params) and pins its addresses; a
/// refusal is a `-32602` naming why.
pub(crate) async fn check(
    url: &str,
    path: &str,
    settings: &PushSettings,
) -> Result<Webhook, A2aError> {
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
    let builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .connect_timeout(settings.timeout)
        .timeout(settings.timeout);
    let host = parsed
        .host_str()
        .filter(|host| !host.is_empty())
        .ok_or_else(|| refuse("it has no host".into()))?;
    // `host_str` writes an IPv6 address in brackets.
    let literal = host.trim_start_matches('[').trim_end_matches(']');
    let builder = match literal.parse::<IpAddr>() {
        Ok(ip) => allowed(ip, settings).map(|()| builder).map_err(refuse)?,
        Err(_) => {
            let addrs = resolve(host, port, settings).await.map_err(refuse)?;
            builder.resolve_to_addrs(host, &addrs)
        }
    };
    let client = builder
        .build()
        .map_err(|e| A2aError::internal(format!("the webhook client cannot be built: {e}")))?;
    Ok(Webhook {
        url: parsed,
        client,
    })
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
        check(url, "params.url", settings)
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
        let open = settings.allow("loopback".parse().unwrap());
        let hook = check("http://localhost:9/hook?secret=1", "params.url", &open)
            .await
            .unwrap();
        assert_eq!(hook.shown(), "http://localhost:9/hook");
    }
}
