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
//! - an allowed range (`--allow-fetch`) is allowed on the ports it names, or on 80 and 443 when
//!   it names none, so allowing an internal CDN does not open every service beside it;
//!   redirects are followed hop by hop here, each hop checked like the first URL (scheme,
//!   address, port), and one with a scheme other than http(s) is refused as forbidden;
//! - connect and idle-read timeouts bound slow hosts, one deadline bounds the whole fetch
//!   (redirects, retries and backoff included), and the body is capped while it streams.
//!
//! Transient failures (connection refused, timeouts, 5xx, 429) are retried with backoff; a
//! forbidden address or a 4xx is final.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use takedown_core::ErrorCode;

/// An address range, as network address and prefix length, and the ports it is allowed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
    ports: Ports,
}

/// The ports an allowed range may be reached on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ports {
    /// None named: the web's own, 80 and 443.
    Web,
    /// One port.
    One(u16),
    /// `*`: any port (tests, a trusted internal service).
    Any,
}

impl Cidr {
    /// Parses `a.b.c.d/n`, `v6::/n` (a bare address is a /32 or /128), optionally with a port:
    /// `10.0.0.0/8:8080`, `[fd00::]/8:443`, `[::1]:8080`, or `:*` for any port. Without a port
    /// the range is allowed on ports 80 and 443 only.
    pub fn parse(text: &str) -> Result<Cidr, String> {
        let bad =
            || format!("{text:?} is not an IP address or CIDR range (with an optional :port)");
        let text_t = text.trim();
        let (range, port) = if let Some(rest) = text_t.strip_prefix('[') {
            // [v6]/n:port, [v6]:port, [v6]/n
            let (addr, after) = rest.split_once(']').ok_or_else(bad)?;
            let (prefix, port) = match after.split_once(':') {
                Some((p, port)) => (p, Some(port)),
                None => (after, None),
            };
            (format!("{addr}{prefix}"), port)
        } else if text_t.matches(':').count() == 1 {
            // v4 with a port
            let (range, port) = text_t.split_once(':').ok_or_else(bad)?;
            (range.to_string(), Some(port))
        } else {
            // v4 or v6 without a port
            (text_t.to_string(), None)
        };
        let ports = match port.map(str::trim) {
            None => Ports::Web,
            Some("*") => Ports::Any,
            Some(p) => Ports::One(
                p.parse::<u16>()
                    .ok()
                    .filter(|p| *p != 0)
                    .ok_or_else(|| format!("{text:?} has an invalid port"))?,
            ),
        };
        let (addr, prefix) = match range.split_once('/') {
            Some((a, p)) => (a.to_string(), Some(p.to_string())),
            None => (range.clone(), None),
        };
        let addr: IpAddr = addr.trim().parse().map_err(|_| bad())?;
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
        Ok(Cidr {
            addr,
            prefix,
            ports,
        })
    }

    /// Whether `ip` is inside the range (on whatever port).
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

    /// Whether `ip` on `port` is allowed by this entry.
    pub fn allows(&self, ip: IpAddr, port: u16) -> bool {
        self.contains(ip)
            && match self.ports {
                Ports::Web => port == 80 || port == 443,
                Ports::One(p) => p == port,
                Ports::Any => true,
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
    /// 127.0.0.1 in tests), each on its ports (80 and 443 when none is named).
    pub allow: Vec<Cidr>,
    /// Whether URLs may name hosts by IP address.
    pub allow_ip_literals: bool,
    /// Largest body accepted, in bytes (images and anything that is not a video).
    pub max_bytes: usize,
    /// Largest body accepted when its first bytes are a video container (sniffed, as ingest
    /// does), in bytes. Its own bound because videos are legitimately larger than images.
    pub max_video_bytes: usize,
    /// Time to establish a connection.
    pub connect_timeout: Duration,
    /// Longest wait for any read (an idle connection between chunks).
    pub read_timeout: Duration,
    /// Longest a whole fetch may take, from the first connect to the last byte of the body,
    /// every redirect, retry and backoff included.
    pub total_timeout: Duration,
    /// The same deadline for a body whose first bytes are a video container: videos are
    /// larger and may take longer. Connecting, redirects and retries stay within
    /// `total_timeout`; only reading a video's body may run on to this one.
    pub video_total_timeout: Duration,
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
            max_video_bytes: takedown_video::VideoLimits::default().max_bytes as usize,
            connect_timeout: Duration::from_secs(3),
            read_timeout: Duration::from_secs(5),
            total_timeout: Duration::from_secs(10),
            video_total_timeout: Duration::from_secs(120),
            max_redirects: 5,
            attempts: 3,
        }
    }
}

impl FetchPolicy {
    fn permits(&self, ip: IpAddr, port: u16) -> bool {
        !is_forbidden(ip) || self.allow.iter().any(|c| c.allows(ip, port))
    }

    /// Checks a URL's scheme and, for an IP literal, its address and port.
    fn check_url(&self, url: &reqwest::Url) -> Result<(), FetchError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(FetchError::Forbidden(format!(
                "scheme {:?} is not http or https",
                url.scheme()
            )));
        }
        let port = url.port_or_known_default().unwrap_or(0);
        let ip = match url.host() {
            Some(url::Host::Ipv4(v4)) => IpAddr::V4(v4),
            Some(url::Host::Ipv6(v6)) => IpAddr::V6(v6),
            Some(url::Host::Domain(_)) => return Ok(()),
            None => return Err(FetchError::Forbidden("URL has no host".into())),
        };
        if !self.allow_ip_literals && !self.allow.iter().any(|c| c.allows(ip, port)) {
            return Err(FetchError::Forbidden(format!(
                "IP literal {ip} not allowed"
            )));
        }
        if !self.permits(ip, port) {
            return Err(FetchError::Forbidden(format!(
                "address {ip} port {port} is not public and not allowed"
            )));
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
    /// The body is a video larger than the video cap.
    #[error("video body over {0} bytes (the video cap)")]
    VideoTooLarge(usize),
    /// A final failure (4xx, bad URL).
    #[error("{0}")]
    Failed(String),
    /// A failure that persisted through every retry (timeouts, 5xx, connection errors).
    #[error("{0} (after retries)")]
    Unavailable(String),
    /// The whole fetch took longer than its deadline ([`FetchPolicy::total_timeout`]).
    #[error("no complete response within {0:?}")]
    TimedOut(Duration),
}

impl FetchError {
    /// The stable error code.
    pub fn code(&self) -> ErrorCode {
        match self {
            FetchError::Forbidden(_) => ErrorCode::FetchForbidden,
            FetchError::TooLarge(_) | FetchError::VideoTooLarge(_) => ErrorCode::TooLarge,
            FetchError::Failed(_) | FetchError::Unavailable(_) | FetchError::TimedOut(_) => {
                ErrorCode::FetchFailed
            }
        }
    }
}

/// Resolves host names and keeps only addresses permitted on `port`. A resolver is told only
/// the name, so each client (and its resolver) serves one port: see [`Fetcher::client_for`].
struct GuardedResolver {
    policy: Arc<FetchPolicy>,
    port: u16,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy.clone();
        let port = self.port;
        Box::pin(async move {
            let host = name.as_str().to_string();
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = addrs
                .iter()
                .copied()
                .filter(|a| policy.permits(a.ip(), port))
                .collect();
            if allowed.is_empty() {
                let err: Box<dyn std::error::Error + Send + Sync> = format!(
                    "forbidden: {host} resolves only to addresses not allowed on port {port} ({})",
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

/// Clients kept per port at most; a fetch to yet another port gets a client of its own.
const CACHED_PORTS: usize = 16;

/// An HTTP(S) media fetcher with the SSRF guard; cheap to clone.
#[derive(Clone)]
pub struct Fetcher {
    /// One client per destination port, because an allowed range is allowed on given ports
    /// and the resolver that checks a name's addresses is not told the port.
    clients: Arc<std::sync::Mutex<std::collections::HashMap<u16, reqwest::Client>>>,
    policy: Arc<FetchPolicy>,
}

impl Fetcher {
    /// A fetcher applying `policy`.
    pub fn new(policy: FetchPolicy) -> Result<Self, FetchError> {
        let fetcher = Fetcher {
            clients: Arc::default(),
            policy: Arc::new(policy),
        };
        fetcher.client_for(443)?;
        Ok(fetcher)
    }

    /// The client for connections to `port`: its resolver keeps the addresses permitted there.
    /// Redirects are not followed by the client but by [`Fetcher::fetch`], hop by hop, so each
    /// hop's scheme, address and port are checked and its port gets its own client.
    fn client_for(&self, port: u16) -> Result<reqwest::Client, FetchError> {
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = clients.get(&port) {
            return Ok(c.clone());
        }
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(GuardedResolver {
                policy: self.policy.clone(),
                port,
            }))
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(self.policy.connect_timeout)
            .read_timeout(self.policy.read_timeout)
            // The longer of the two deadlines; `Fetcher::fetch` applies the shorter one to
            // everything but a video's body.
            .timeout(
                self.policy
                    .total_timeout
                    .max(self.policy.video_total_timeout),
            )
            .no_proxy()
            .user_agent("takedown-media-fetcher")
            .build()
            .map_err(|e| FetchError::Failed(format!("HTTP client: {e}")))?;
        if clients.len() < CACHED_PORTS {
            clients.insert(port, client.clone());
        }
        Ok(client)
    }

    /// Fetches a URL's body, retrying transient failures, all within
    /// [`FetchPolicy::total_timeout`].
    pub async fn fetch(&self, url: &str) -> Result<Vec<u8>, FetchError> {
        let parsed = reqwest::Url::parse(url)
            .map_err(|e| FetchError::Failed(format!("invalid URL: {e}")))?;
        self.policy.check_url(&parsed)?;
        let deadline = self
            .policy
            .total_timeout
            .max(self.policy.video_total_timeout);
        let started = tokio::time::Instant::now();
        match tokio::time::timeout(deadline, self.fetch_with_retries(parsed, started)).await {
            Ok(result) => result,
            Err(_) => Err(FetchError::TimedOut(deadline)),
        }
    }

    async fn fetch_with_retries(
        &self,
        url: reqwest::Url,
        started: tokio::time::Instant,
    ) -> Result<Vec<u8>, FetchError> {
        let mut backoff = Duration::from_millis(200);
        let mut last = String::new();
        for attempt in 1..=self.policy.attempts {
            if started.elapsed() > self.policy.total_timeout {
                return Err(FetchError::TimedOut(self.policy.total_timeout));
            }
            match self.fetch_once(url.clone(), started).await {
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

    /// Runs `step` within what is left of [`FetchPolicy::total_timeout`] since `started`.
    async fn within_total<T>(
        &self,
        started: tokio::time::Instant,
        step: impl std::future::Future<Output = T>,
    ) -> Result<T, Attempt> {
        let total = self.policy.total_timeout;
        tokio::time::timeout_at(started + total, step)
            .await
            .map_err(|_| Attempt::Final(FetchError::TimedOut(total)))
    }

    async fn fetch_once(
        &self,
        mut url: reqwest::Url,
        started: tokio::time::Instant,
    ) -> Result<Vec<u8>, Attempt> {
        let mut hops = 0;
        let mut response = loop {
            self.policy.check_url(&url).map_err(Attempt::Final)?;
            let port = url.port_or_known_default().unwrap_or(0);
            let client = self.client_for(port).map_err(Attempt::Final)?;
            let response = self
                .within_total(started, client.get(url.clone()).send())
                .await?
                .map_err(classify)?;
            let status = response.status().as_u16();
            let location = response.headers().get(reqwest::header::LOCATION);
            match (status, location) {
                (301 | 302 | 303 | 307 | 308, Some(location)) => {
                    hops += 1;
                    if hops > self.policy.max_redirects {
                        return Err(Attempt::Final(FetchError::Failed(
                            "too many redirects".into(),
                        )));
                    }
                    let next = location
                        .to_str()
                        .ok()
                        .and_then(|l| url.join(l).ok())
                        .ok_or_else(|| {
                            Attempt::Final(FetchError::Failed(
                                "redirect with an invalid Location".into(),
                            ))
                        })?;
                    url = next;
                }
                _ => break response,
            }
        };
        let status = response.status();
        if status.is_server_error() || status.as_u16() == 429 {
            return Err(Attempt::Transient(format!("HTTP {status}")));
        }
        if !status.is_success() {
            return Err(Attempt::Final(FetchError::Failed(format!("HTTP {status}"))));
        }
        // The cap depends on what the body is: until its first bytes are in, the larger one.
        let (image_cap, video_cap) = (self.policy.max_bytes, self.policy.max_video_bytes);
        let mut cap = Cap::Unknown;
        let too_large = |cap: Cap| match cap {
            Cap::Video => FetchError::VideoTooLarge(video_cap),
            _ => FetchError::TooLarge(image_cap),
        };
        let declared = response.content_length();
        if declared.is_some_and(|n| n > image_cap.max(video_cap) as u64) {
            return Err(Attempt::Final(too_large(if video_cap > image_cap {
                Cap::Video
            } else {
                Cap::Image
            })));
        }
        let mut body = Vec::new();
        loop {
            let chunk = if cap == Cap::Video {
                // The outer deadline (the larger of the two) bounds a video's body.
                response.chunk().await
            } else {
                self.within_total(started, response.chunk()).await?
            };
            let chunk = chunk.map_err(classify)?;
            let done = chunk.is_none();
            if let Some(chunk) = &chunk {
                body.extend_from_slice(chunk);
            }
            if cap == Cap::Unknown && (done || body.len() >= SNIFF_BYTES) {
                cap = if takedown_video::sniff::is_video(&body[..body.len().min(SNIFF_BYTES)]) {
                    Cap::Video
                } else {
                    Cap::Image
                };
            }
            let limit = match cap {
                Cap::Video => video_cap,
                Cap::Image => image_cap,
                Cap::Unknown => image_cap.max(video_cap),
            };
            if body.len() > limit
                || (cap != Cap::Unknown && declared.is_some_and(|n| n > limit as u64))
            {
                return Err(Attempt::Final(too_large(cap)));
            }

            if done {
                return Ok(body);
            }
        }
    }
}

/// Bytes looked at to tell a video from anything else (as ingest's sniffing does).
const SNIFF_BYTES: usize = 512;

/// Which cap applies to a body being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cap {
    /// Fewer than [`SNIFF_BYTES`] read so far.
    Unknown,
    Image,
    Video,
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
        let ported = Cidr::parse("10.0.0.0/8:8080").unwrap();
        assert!(ported.allows(ip("10.9.9.9"), 8080) && !ported.allows(ip("10.9.9.9"), 80));
        let web = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(web.allows(ip("10.0.0.1"), 443) && !web.allows(ip("10.0.0.1"), 8080));
        let v6 = Cidr::parse("[fd00::]/8:443").unwrap();
        assert!(v6.allows(ip("fd12::1"), 443) && !v6.allows(ip("fd12::1"), 80));
        assert!(Cidr::parse("fd00::/8").unwrap().allows(ip("fd00::1"), 80));
        assert!(Cidr::parse("[::1]:8080").unwrap().allows(ip("::1"), 8080));
        assert!(
            Cidr::parse("127.0.0.1/32:*")
                .unwrap()
                .allows(ip("127.0.0.1"), 1)
        );
        for bad in [
            "10.0.0.0/8:0",
            "10.0.0.0/8:65536",
            "[fd00::/8:443",
            "10.0.0.0/8:x",
        ] {
            assert!(Cidr::parse(bad).is_err(), "{bad}");
        }
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
            allow: vec![Cidr::parse("127.0.0.1/32:8080").unwrap()],
            ..FetchPolicy::default()
        };
        let check = |u: &str| allowed.check_url(&reqwest::Url::parse(u).unwrap());
        assert!(check("http://127.0.0.1:8080/x").is_ok());
        assert!(matches!(
            check("http://127.0.0.1:6379/x"),
            Err(FetchError::Forbidden(_))
        ));
        let web = FetchPolicy {
            allow: vec![Cidr::parse("10.0.0.0/8").unwrap()],
            allow_ip_literals: true,
            ..FetchPolicy::default()
        };
        let check = |u: &str| web.check_url(&reqwest::Url::parse(u).unwrap());
        assert!(check("http://10.1.2.3/x").is_ok() && check("https://10.1.2.3/x").is_ok());
        assert!(check("http://10.1.2.3:22/x").is_err());
    }
}
