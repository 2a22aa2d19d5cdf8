//! [`PushSettings`]: how the server delivers A2A push notifications, and
//! which webhook addresses it refuses ([`AddressRange`], the SSRF policy).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;
use std::time::Duration;

/// How A2A push notifications are delivered, and where they may go.
///
/// By default a webhook whose host resolves to a loopback, private,
/// link-local, unique-local, unspecified, broadcast or multicast address
/// is refused when the config is set (the SSRF policy): a client must not
/// make the server POST into its own network. [`allow`](Self::allow) lets
/// the operator open ranges again (`127.0.0.1`, `10.0.0.0/8`).
///
/// ```
/// use std::time::Duration;
/// use agentor_server::{AddressRange, PushSettings};
///
/// let settings = PushSettings::default()
///     .allow("127.0.0.1".parse::<AddressRange>().unwrap())
///     .retries(2, Duration::from_millis(100));
/// assert!(settings.allows("127.0.0.1".parse().unwrap()));
/// assert!(!settings.allows("10.1.2.3".parse().unwrap()));
/// assert!(settings.allows("93.184.215.14".parse().unwrap()));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushSettings {
    pub(crate) allow: Vec<AddressRange>,
    pub(crate) timeout: Duration,
    pub(crate) attempts: u32,
    pub(crate) backoff: Duration,
    pub(crate) queue_events: usize,
    pub(crate) queue_bytes: usize,
    pub(crate) configs_per_task: usize,
    pub(crate) config_bytes: usize,
    pub(crate) shutdown_grace: Duration,
}

impl Default for PushSettings {
    /// No range allowed beyond public addresses; each POST within 10 s;
    /// 4 attempts, waiting 500 ms, then 1 s, then 2 s; a queue of 64
    /// notifications or 1 MiB per task; 10 configs per task, 8 MiB of
    /// configs in all; 5 s to finish delivering after a shutdown.
    fn default() -> Self {
        PushSettings {
            allow: Vec::new(),
            timeout: Duration::from_secs(10),
            attempts: 4,
            backoff: Duration::from_millis(500),
            queue_events: 64,
            queue_bytes: 1024 * 1024,
            configs_per_task: 10,
            config_bytes: 8 * 1024 * 1024,
            shutdown_grace: Duration::from_secs(5),
        }
    }
}

impl PushSettings {
    /// Also allows webhooks in `range`, which the SSRF policy refuses
    /// otherwise (tests and local receivers: `127.0.0.1`).
    #[must_use]
    pub fn allow(mut self, range: AddressRange) -> Self {
        self.allow.push(range);
        self
    }

    /// How long one POST may take, connecting included (default 10 s).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How many times a notification is tried (at least 1; default 4) and
    /// the wait before the first retry, doubled for each next one (default
    /// 500 ms, capped at 30 s). A connect error, a timeout, a 408, a 429 or
    /// a 5xx answer is retried; other answers are final.
    #[must_use]
    pub fn retries(mut self, attempts: u32, backoff: Duration) -> Self {
        self.attempts = attempts.max(1);
        self.backoff = backoff;
        self
    }

    /// The bound of each task's queue of notifications not yet delivered,
    /// in notifications and in bytes (default 64 and 1 MiB, at least 1).
    /// When a new one does not fit, the oldest waiting ones are dropped
    /// (logged and counted in `agentor_a2a_push_dropped_total`): the newest
    /// carries the task's current state.
    #[must_use]
    pub fn queue(mut self, notifications: usize, bytes: usize) -> Self {
        self.queue_events = notifications.max(1);
        self.queue_bytes = bytes.max(1);
        self
    }

    /// How many configs one task may have (default 10, at least 1) and how
    /// many bytes the configs of all tasks may hold (default 8 MiB).
    #[must_use]
    pub fn configs(mut self, per_task: usize, bytes: usize) -> Self {
        self.configs_per_task = per_task.max(1);
        self.config_bytes = bytes.max(1);
        self
    }

    /// How long deliveries go on after a shutdown starts (default 5 s), so
    /// the tasks' final `canceled` states can still reach their webhooks.
    #[must_use]
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace;
        self
    }

    /// Whether a webhook may be sent to `ip`: a public address, or one in
    /// an allowed range.
    pub fn allows(&self, ip: IpAddr) -> bool {
        refused_range(ip).is_none() || self.allow.iter().any(|range| range.contains(ip))
    }

    /// Why `ip` is refused: the kind of range it is in; `None` when allowed.
    pub(crate) fn refusal(&self, ip: IpAddr) -> Option<&'static str> {
        let kind = refused_range(ip)?;
        (!self.allow.iter().any(|range| range.contains(ip))).then_some(kind)
    }
}

/// The kind of non-public range `ip` is in, if any.
fn refused_range(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(ip) => refused_v4(ip),
        IpAddr::V6(ip) => match ip.to_ipv4_mapped() {
            Some(v4) => refused_v4(v4),
            None => refused_v6(ip),
        },
    }
}

fn refused_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    if ip.is_unspecified() || a == 0 {
        Some("unspecified")
    } else if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_private() || (a == 100 && (64..128).contains(&b)) {
        // 100.64.0.0/10 is carrier-grade NAT: private in all but name.
        Some("private")
    } else if ip.is_link_local() {
        Some("link-local")
    } else if ip.is_broadcast() {
        Some("broadcast")
    } else if ip.is_multicast() || a >= 240 {
        Some("multicast or reserved")
    } else {
        None
    }
}

fn refused_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let first = ip.segments()[0];
    if ip.is_unspecified() {
        Some("unspecified")
    } else if ip.is_loopback() {
        Some("loopback")
    } else if first & 0xfe00 == 0xfc00 {
        Some("unique-local")
    } else if first & 0xffc0 == 0xfe80 {
        Some("link-local")
    } else if ip.is_multicast() {
        Some("multicast or reserved")
    } else {
        None
    }
}

/// An IP address or a CIDR range (`127.0.0.1`, `10.0.0.0/8`, `::1`,
/// `fd00::/8`), or `loopback` for `127.0.0.0/8` and `::1` both.
///
/// ```
/// use agentor_server::AddressRange;
///
/// let range: AddressRange = "10.0.0.0/8".parse().unwrap();
/// assert!(range.contains("10.20.30.40".parse().unwrap()));
/// assert!(!range.contains("11.0.0.1".parse().unwrap()));
/// assert!("loopback".parse::<AddressRange>().unwrap().contains("::1".parse().unwrap()));
/// assert_eq!(
///     "10.0.0.0/33".parse::<AddressRange>().unwrap_err(),
///     "10.0.0.0/33: the prefix length must be at most 32"
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AddressRange {
    /// `addr/prefix`.
    Cidr(IpAddr, u8),
    /// Every loopback address, IPv4 and IPv6.
    Loopback,
}

impl AddressRange {
    /// Whether `ip` is in the range (an IPv4-mapped IPv6 address counts as
    /// its IPv4 address).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self, ip) {
            (AddressRange::Loopback, ip) => ip.is_loopback(),
            (AddressRange::Cidr(IpAddr::V4(net), bits), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(*bits)).unwrap_or(0);
                u32::from(*net) & mask == u32::from(ip) & mask
            }
            (AddressRange::Cidr(IpAddr::V6(net), bits), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(*bits)).unwrap_or(0);
                u128::from(*net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for AddressRange {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("loopback") {
            return Ok(AddressRange::Loopback);
        }
        let (addr, bits) = match text.split_once('/') {
            Some((addr, bits)) => (addr, Some(bits)),
            None => (text, None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| {
            format!("{text}: not an IP address or CIDR range (such as 127.0.0.1, 10.0.0.0/8, ::1 or loopback)")
        })?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let bits = match bits {
            None => max,
            Some(bits) => bits
                .parse::<u8>()
                .ok()
                .filter(|bits| *bits <= max)
                .ok_or_else(|| format!("{text}: the prefix length must be at most {max}"))?,
        };
        Ok(AddressRange::Cidr(addr, bits))
    }
}

impl fmt::Display for AddressRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AddressRange::Loopback => f.write_str("loopback"),
            AddressRange::Cidr(addr, bits) => write!(f, "{addr}/{bits}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_public_ranges_are_refused_unless_allowed() {
        let settings = PushSettings::default();
        for (ip, kind) in [
            ("127.0.0.1", "loopback"),
            ("::1", "loopback"),
            ("::ffff:127.0.0.1", "loopback"),
            ("10.0.0.1", "private"),
            ("172.16.5.4", "private"),
            ("192.168.1.1", "private"),
            ("100.64.0.1", "private"),
            ("169.254.169.254", "link-local"),
            ("fe80::1", "link-local"),
            ("fd12::1", "unique-local"),
            ("0.0.0.0", "unspecified"),
            ("::", "unspecified"),
            ("224.0.0.1", "multicast or reserved"),
            ("ff02::1", "multicast or reserved"),
            ("255.255.255.255", "broadcast"),
        ] {
            assert_eq!(settings.refusal(ip.parse().unwrap()), Some(kind), "{ip}");
        }
        for ip in [
            "93.184.215.14",
            "2606:2800:21f:cb07:6820:80da:af6b:8b2c",
            "8.8.8.8",
        ] {
            assert_eq!(settings.refusal(ip.parse().unwrap()), None, "{ip}");
        }
        let open = settings
            .allow("127.0.0.1".parse().unwrap())
            .allow("fd00::/8".parse().unwrap());
        assert_eq!(open.refusal("127.0.0.1".parse().unwrap()), None);
        assert_eq!(open.refusal("::ffff:127.0.0.1".parse().unwrap()), None);
        assert_eq!(open.refusal("127.0.0.2".parse().unwrap()), Some("loopback"));
        assert_eq!(open.refusal("fd12::1".parse().unwrap()), None);
    }

    #[test]
    fn ranges_parse_and_print() {
        for (text, shown) in [
            ("127.0.0.1", "127.0.0.1/32"),
            ("10.0.0.0/8", "10.0.0.0/8"),
            ("::1", "::1/128"),
            ("Loopback", "loopback"),
            ("0.0.0.0/0", "0.0.0.0/0"),
        ] {
            assert_eq!(text.parse::<AddressRange>().unwrap().to_string(), shown);
        }
        assert!("0.0.0.0/0"
            .parse::<AddressRange>()
            .unwrap()
            .contains("10.1.1.1".parse().unwrap()));
        assert!("example.com".parse::<AddressRange>().is_err());
        assert!("::1/129".parse::<AddressRange>().is_err());
    }
}
