//! Fetching post media from the internet without becoming a proxy into our own network.
//!
//! Media URLs come from strangers. A URL that points at `169.254.169.254` (cloud metadata), at
//! `localhost`, or at a private address would let anyone make our workers read internal
//! services (SSRF). Every address is checked where it is used:
//! - host names resolve through [`GuardedResolver`], which drops forbidden addresses, so the
//!   connection goes to the very address that was checked (no DNS-rebinding gap) and each
//!   redirect hop's host is checked the same way;
//! - IP literals, which need no resolution, are refused unless allowed, at the start and at
//!   every redirect hop;
//! - connect, read and total timeouts bound slow hosts, and the body is capped while it streams.
//!
//! Transient failures (connection refused, timeouts, 5xx, 429) are retried with backoff; a
//! forbidden address or a 4xx is final.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use takedown_core::ErrorCode;

/// An address range, as network address and prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parses `a.b.c.d/n` or `v6::/n` (a bare address is a /32 or /128).
    pub fn parse(text: &str) -> Result<Cidr, String> {
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let addr: IpAddr = addr
            .trim()
            .parse()
            .map_err(|_| format!("{text:?} is not an IP address or CIDR range"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{text:?} has an invalid prefix length"))?,
            None => max,
        };
        Ok(Cidr { addr, prefix })
    }

    /// Whether `ip` is inside the range.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// Whether an address is one the internet at large cannot be: loopback, private (RFC 1918),
/// link-local (incl. cloud metadata 169.254.169.254), CGNAT (100.64/10), unique-local IPv6
/// (fc00::/7), unspecified, multicast, broadcast, documentation and benchmarking ranges, and
/// IPv4-mapped or NAT64 forms of any of them.
pub fn is_forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return forbidden_v4(v4);
            }
            let seg = v6.segments();
            // NAT64 well-known prefix 64:ff9b::/96 embeds an IPv4 address.
            if seg[0] == 0x64 && seg[1] == 0xff9b && seg[2..6] == [0, 0, 0, 0] {
                let v4 = Ipv4Addr::new(
                    (seg[6] >> 8) as u8,
                    seg[6] as u8,
                    (seg[7] >> 8) as u8,
                    seg[7] as u8,
                );
                return forbidden_v4(v4);
            }
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (seg[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (seg[0] & 0xffc0) == 0xfe80 // link local fe80::/10
                || (seg[0] & 0xffc0) == 0xfec0 // site local (deprecated) fec0::/10
                || (seg[0] == 0x2001 && seg[1] == 0x0db8) // documentation
                || v6 == Ipv6Addr::new(0, 0, 0, 0, 0, 0, 0, 1)
        }
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || o[0] == 0 // "this network"
        || (o[0] == 100 && (o[1] & 0xc0) == 64) // CGNAT 100.64/10
        || (o[0] == 192 && o[1] == 0 && o[2] == 0) // IETF protocol assignments
        || (o[0] == 198 && (o[1] & 0xfe) == 18) // benchmarking 198.18/15
        || o[0] >= 240 // reserved
}

/// What the fetcher may do.
#[derive(Debug, Clone)]
pub struct FetchPolicy {
    /// Ranges allowed even though they are forbidden by default (e.g. an internal CDN, or
    /// 127.0.0.1 in tests).
    pub allow: Vec<Cidr>,
    /// Whether URLs may name hosts by IP address.
    pub allow_ip_literals: bool,
    /// Largest body accepted, in bytes.
    pub max_bytes: usize,
    /// Time to establish a connection.
    pub connect_timeout: Duration,
    /// Longest wait for any read.
    pub read_timeout: Duration,
    /// Longest a whole fetch may take.
    pub total_timeout: Duration,
    /// Redirects followed at most.
    pub max_redirects: usize,
    /// Attempts for transient failures.
    pub attempts: u32,
}

impl Default for FetchPolicy {
    fn default() -> Self {
        FetchPolicy {
            allow: Vec::new(),
            allow_ip_literals: false,
            max_bytes: 50 * 1024 * 1024,
            connect_timeout: Duration::from_secs(3),
            read_timeout: Duration::from_secs(5),
            total_timeout: Duration::from_secs(15),
            max_redirects: 5,
            attempts: 3,
        }
    }
}

impl FetchPolicy {
    fn permits(&self, ip: IpAddr) -> bool {
        !is_forbidden(ip) || self.allow.iter().any(|c| c.contains(ip))
    }

    /// Checks a URL's scheme and, for an IP literal, its address.
    fn check_url(&self, url: &reqwest::Url) -> Result<(), FetchError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(FetchError::Forbidden(format!(
                "scheme {:?} is not http or https",
                url.scheme()
            )));
        }
        let ip = match url.host() {
            Some(url::Host::Ipv4(v4)) => IpAddr::V4(v4),
            Some(url::Host::Ipv6(v6)) => IpAddr::V6(v6),
            Some(url::Host::Domain(_)) => return Ok(()),
            None => return Err(FetchError::Forbidden("URL has no host".into())),
        };
        if !self.allow_ip_literals && !self.allow.iter().any(|c| c.contains(ip)) {
            return Err(FetchError::Forbidden(format!(
                "IP literal {ip} not allowed"
            )));
        }
        if !self.permits(ip) {
            return Err(FetchError::Forbidden(format!("address {ip} is not public")));
        }
        Ok(())
    }
}

/// Why media could not be fetched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// The URL or an address it resolves to is not allowed.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The body is larger than the cap.
    #[error("body over {0} bytes")]
    TooLarge(usize),
    /// A final failure (4xx, bad URL).
    #[error("{0}")]
    Failed(String),
    /// A failure that persisted through every retry (timeouts, 5xx, connection errors).
    #[error("{0} (after retries)")]
    Unavailable(String),
}

impl FetchError {
    /// The stable error code.
    pub fn code(&self) -> ErrorCode {
        match self {
            FetchError::Forbidden(_) => ErrorCode::FetchForbidden,
            FetchError::TooLarge(_) => ErrorCode::TooLarge,
            FetchError::Failed(_) | FetchError::Unavailable(_) => ErrorCode::FetchFailed,
        }
    }
}

/// Resolves host names and keeps only permitted addresses.
struct GuardedResolver {
    policy: Arc<FetchPolicy>,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            let host = name.as_str().to_string();
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = addrs
                .iter()
                .copied()
                .filter(|a| policy.permits(a.ip()))
                .collect();
            if allowed.is_empty() {
                let err: Box<dyn std::error::Error + Send + Sync> = format!(
                    "forbidden: {host} resolves only to non-public addresses ({})",
                    addrs
                        .iter()
                        .map(|a| a.ip().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
                .into();
                return Err(err);
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// An HTTP(S) media fetcher with the SSRF guard; cheap to clone.
#[derive(Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    policy: Arc<FetchPolicy>,
}

impl Fetcher {
    /// A fetcher applying `policy`.
    pub fn new(policy: FetchPolicy) -> Result<Self, FetchError> {
        let policy = Arc::new(policy);
        let redirect_policy = policy.clone();
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(GuardedResolver {
                policy: policy.clone(),
            }))
            .redirect(reqwest::redirect::Policy::custom(move |attempt| {
                if attempt.previous().len() > redirect_policy.max_redirects {
                    return attempt.error("too many redirects");
                }
                match redirect_policy.check_url(attempt.url()) {
                    Ok(()) => attempt.follow(),
                    Err(e) => attempt.error(e.to_string()),
                }
            }))
            .connect_timeout(policy.connect_timeout)
            .read_timeout(policy.read_timeout)
            .timeout(policy.total_timeout)
            .no_proxy()
            .user_agent("takedown-media-fetcher")
            .build()
            .map_err(|e| FetchError::Failed(format!("HTTP client: {e}")))?;
        Ok(Fetcher { client, policy })
    }

    /// Fetches a URL's body, retrying transient failures.
    pub async fn fetch(&self, url: &str) -> Result<Vec<u8>, FetchError> {
        let parsed = reqwest::Url::parse(url)
            .map_err(|e| FetchError::Failed(format!("invalid URL: {e}")))?;
        self.policy.check_url(&parsed)?;
        let mut backoff = Duration::from_millis(200);
        let mut last = String::new();
        for attempt in 1..=self.policy.attempts {
            match self.fetch_once(parsed.clone()).await {
                Ok(body) => return Ok(body),
                Err(Attempt::Final(e)) => return Err(e),
                Err(Attempt::Transient(reason)) => {
                    last = reason;
                    if attempt < self.policy.attempts {
                        tokio::time::sleep(backoff).await;
                        backoff *= 2;
                    }
                }
            }
        }
        Err(FetchError::Unavailable(last))
    }

    async fn fetch_once(&self, url: reqwest::Url) -> Result<Vec<u8>, Attempt> {
        let mut response = self.client.get(url).send().await.map_err(classify)?;
        let status = response.status();
        if status.is_server_error() || status.as_u16() == 429 {
            return Err(Attempt::Transient(format!("HTTP {status}")));
        }
        if !status.is_success() {
            return Err(Attempt::Final(FetchError::Failed(format!("HTTP {status}"))));
        }
        let cap = self.policy.max_bytes;
        if response.content_length().is_some_and(|n| n > cap as u64) {
            return Err(Attempt::Final(FetchError::TooLarge(cap)));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(classify)? {
            if body.len() + chunk.len() > cap {
                return Err(Attempt::Final(FetchError::TooLarge(cap)));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

enum Attempt {
    Final(FetchError),
    Transient(String),
}

fn classify(e: reqwest::Error) -> Attempt {
    // The chain carries our resolver's and redirect policy's "forbidden" reasons.
    let is_redirect = e.is_redirect();
    let e = e.without_url();
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    if text.contains("forbidden:") || text.contains("not allowed") || text.contains("not public") {
        Attempt::Final(FetchError::Forbidden(text))
    } else if is_redirect {
        Attempt::Final(FetchError::Failed(text))
    } else {
        Attempt::Transient(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forbidden_ranges() {
        for bad in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.254",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::10.0.0.1",
            "198.18.0.1",
            "240.0.0.1",
        ] {
            assert!(is_forbidden(ip(bad)), "{bad} must be forbidden");
        }
        for good in [
            "93.184.216.34",
            "8.8.8.8",
            "100.128.0.1",
            "172.32.0.1",
            "2606:4700::1111",
        ] {
            assert!(!is_forbidden(ip(good)), "{good} is public");
        }
    }

    #[test]
    fn cidrs() {
        let c = Cidr::parse("127.0.0.0/8").unwrap();
        assert!(c.contains(ip("127.1.2.3")) && !c.contains(ip("128.0.0.1")));
        assert!(Cidr::parse("::1").unwrap().contains(ip("::1")));
        assert!(Cidr::parse("10.0.0.0/33").is_err());
        assert!(Cidr::parse("nonsense").is_err());
    }

    #[test]
    fn urls_are_checked_before_any_request() {
        let p = FetchPolicy::default();
        let check = |u: &str| p.check_url(&reqwest::Url::parse(u).unwrap());
        assert!(matches!(
            check("ftp://example.com/x"),
            Err(FetchError::Forbidden(_))
        ));
        assert!(matches!(
            check("http://127.0.0.1/x"),
            Err(FetchError::Forbidden(_))
        ));
        assert!(matches!(
            check("http://[::1]/x"),
            Err(FetchError::Forbidden(_))
        ));
        assert!(matches!(
            check("http://169.254.169.254/latest"),
            Err(FetchError::Forbidden(_))
        ));
        assert!(check("https://cdn.example.com/x.jpg").is_ok());
        let allowed = FetchPolicy {
            allow: vec![Cidr::parse("127.0.0.1/32").unwrap()],
            ..FetchPolicy::default()
        };
        assert!(
            allowed
                .check_url(&reqwest::Url::parse("http://127.0.0.1:8080/x").unwrap())
                .is_ok()
        );
    }
}
