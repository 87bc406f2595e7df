//! The client's IP address behind reverse proxies: `X-Forwarded-For` is believed only as far
//! as it was written by configured, trusted proxies.
//!
//! Anyone can send `X-Forwarded-For`; each proxy appends the address it received the request
//! from. So the list is read from the right: the TCP peer must be trusted, then each entry
//! that is a trusted proxy is skipped, and the first untrusted one is the client. Entries left
//! of it were written by the client itself and are ignored. A malformed entry stops the walk
//! at the last trusted hop reached: garbage is never believed, and a broken proxy chain is
//! then rate-limited as that proxy rather than as an address nobody can vouch for.
//!
//! IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`, as dual-stack sockets report IPv4 peers) are
//! treated as their IPv4 form everywhere, and entries with ports (`1.2.3.4:5678`,
//! `[2001:db8::1]:443`) are accepted with the port dropped.

use std::net::{IpAddr, Ipv6Addr};
use std::str::FromStr;

use ipnet::IpNet;

/// Why the trusted-proxy list cannot be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TrustedProxyError {
    /// An entry is neither an IP address nor a CIDR range (empty entries included).
    #[error("trusted proxy {0:?} is not an IP address or CIDR range")]
    Invalid(String),
}

/// The reverse proxies whose `X-Forwarded-For` entries are believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// No trusted proxy: the TCP peer is always the client.
    pub fn none() -> Self {
        Self::default()
    }

    /// Parses a comma-separated list of IP addresses and CIDR ranges
    /// (`10.0.0.0/8, 192.0.2.7, fd00::/8`); a blank list trusts none.
    ///
    /// # Errors
    /// [`TrustedProxyError::Invalid`] naming the first entry that is neither.
    pub fn parse(list: &str) -> Result<Self, TrustedProxyError> {
        if list.trim().is_empty() {
            return Ok(Self::none());
        }
        list.split(',')
            .map(str::trim)
            .map(|entry| {
                IpNet::from_str(entry)
                    .map(|net| match net {
                        // `::ffff:10.0.0.1` as a host entry means the IPv4 host.
                        IpNet::V6(v6) if v6.prefix_len() == 128 => {
                            IpNet::from(IpAddr::V6(v6.addr()).to_canonical())
                        }
                        net => net.trunc(),
                    })
                    .or_else(|_| {
                        entry
                            .parse::<IpAddr>()
                            .map(|ip| IpNet::from(ip.to_canonical()))
                    })
                    .map_err(|_| TrustedProxyError::Invalid(entry.to_owned()))
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    /// Whether `ip` is a trusted proxy.
    pub fn trusts(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// Whether no proxy is trusted.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether the list trusts every IPv4 or every IPv6 address (`0.0.0.0/0`, `::/0`, or
    /// ranges that add up to one of them): then every client's forwarded headers would be
    /// believed, which no real proxy setup needs.
    pub fn covers_every_address(&self) -> bool {
        IpNet::aggregate(&self.0)
            .iter()
            .any(|net| net.prefix_len() == 0)
    }

    /// The client's address, given the TCP peer and the `X-Forwarded-For` value (several
    /// `X-Forwarded-For` headers must be joined with `,` in order, as HTTP allows).
    ///
    /// An untrusted peer is the client, whatever it claims. From a trusted peer, the
    /// rightmost address that is not a trusted proxy; if every entry is trusted, the leftmost;
    /// if an entry is malformed, the last trusted hop before it.
    pub fn client_ip(&self, peer: IpAddr, forwarded_for: Option<&str>) -> IpAddr {
        let mut hop = peer.to_canonical();
        if !self.trusts(hop) {
            return hop;
        }
        let Some(list) = forwarded_for else {
            return hop;
        };
        for entry in list.rsplit(',') {
            let Some(ip) = parse_entry(entry) else {
                return hop;
            };
            if !self.trusts(ip) {
                return ip;
            }
            hop = ip;
        }
        hop
    }
}

/// One `X-Forwarded-For` entry, leniently: surrounding spaces and a port are dropped,
/// IPv4-mapped IPv6 becomes IPv4. Anything else (`unknown`, zone ids, names) is `None`.
fn parse_entry(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    let ip = if let Ok(ip) = entry.parse::<IpAddr>() {
        ip
    } else if let Some(rest) = entry.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        if !(after.is_empty() || is_port(after.strip_prefix(':')?)) {
            return None;
        }
        IpAddr::V6(inside.parse::<Ipv6Addr>().ok()?)
    } else {
        // A bare IPv6 address has several colons and parsed above; here only `v4:port`.
        let (host, port) = entry.split_once(':')?;
        if !is_port(port) {
            return None;
        }
        IpAddr::V4(host.parse().ok()?)
    };
    Some(ip.to_canonical())
}

fn is_port(text: &str) -> bool {
    !text.is_empty() && text.len() <= 5 && text.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_that_add_up_to_every_address_are_recognised() {
        for all in [
            "0.0.0.0/0",
            "::/0",
            "10.0.0.0/8, 0.0.0.0/0",
            "0.0.0.0/1, 128.0.0.0/1",
            "::/1, 8000::/1",
        ] {
            let proxies = TrustedProxies::parse(all).unwrap();
            assert!(proxies.covers_every_address(), "{all}");
        }
        for some in [
            "",
            "10.0.0.0/8",
            "0.0.0.0/1",
            "fc00::/7, 10.0.0.0/8",
            "::ffff:0:0/96",
        ] {
            let proxies = TrustedProxies::parse(some).unwrap();
            assert!(!proxies.covers_every_address(), "{some}");
        }
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn proxies() -> TrustedProxies {
        TrustedProxies::parse("10.0.0.0/8, 192.0.2.7, fd00::/8").unwrap()
    }

    #[test]
    fn parse_accepts_ips_and_cidrs_and_names_bad_entries() {
        assert_eq!(TrustedProxies::parse("").unwrap(), TrustedProxies::none());
        assert_eq!(TrustedProxies::parse("  ").unwrap(), TrustedProxies::none());
        assert_eq!(proxies().0.len(), 3);
        for bad in ["10.0.0.0/33", "proxy.internal", "10.0.0.1,", "1.2.3.4:80"] {
            let err = TrustedProxies::parse(bad).unwrap_err();
            let entry = bad
                .split(',')
                .find(|e| e.parse::<IpAddr>().is_err())
                .unwrap();
            assert_eq!(
                err,
                TrustedProxyError::Invalid(entry.trim().to_owned()),
                "{bad}"
            );
            assert!(err.to_string().contains(&format!("{entry:?}")));
        }
    }

    #[test]
    fn untrusted_peer_is_the_client_whatever_it_claims() {
        let peer = ip("203.0.113.9");
        assert_eq!(proxies().client_ip(peer, Some("1.1.1.1")), peer);
        assert_eq!(proxies().client_ip(peer, Some("10.0.0.1")), peer);
        assert_eq!(
            TrustedProxies::none().client_ip(ip("10.0.0.1"), Some("1.1.1.1")),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn trusted_peer_yields_the_rightmost_untrusted_entry() {
        let p = proxies();
        let peer = ip("10.1.2.3");
        assert_eq!(p.client_ip(peer, None), peer);
        assert_eq!(p.client_ip(peer, Some("198.51.100.1")), ip("198.51.100.1"));
        // The client spoofs `6.6.6.6`; the proxy appended the real address after it.
        let xff = "6.6.6.6, 198.51.100.1";
        assert_eq!(p.client_ip(peer, Some(xff)), ip("198.51.100.1"));
        // A chain of trusted proxies (CIDR and single address) is skipped.
        let xff = "6.6.6.6, 198.51.100.1, 192.0.2.7, 10.9.9.9";
        assert_eq!(p.client_ip(peer, Some(xff)), ip("198.51.100.1"));
        // Only trusted entries: the leftmost one is as far as anyone can vouch.
        assert_eq!(
            p.client_ip(peer, Some("10.0.0.5,192.0.2.7")),
            ip("10.0.0.5")
        );
    }

    #[test]
    fn cidr_trust_is_by_range() {
        let p = TrustedProxies::parse("172.16.0.0/12").unwrap();
        assert_eq!(
            p.client_ip(ip("172.31.255.254"), Some("1.2.3.4")),
            ip("1.2.3.4")
        );
        assert_eq!(
            p.client_ip(ip("172.32.0.1"), Some("1.2.3.4")),
            ip("172.32.0.1")
        );
    }

    #[test]
    fn garbage_stops_the_walk_at_the_last_trusted_hop() {
        let p = proxies();
        let peer = ip("10.0.0.1");
        assert_eq!(p.client_ip(peer, Some("1.2.3.4, unknown")), peer);
        assert_eq!(
            p.client_ip(peer, Some("1.2.3.4, ,10.0.0.2")),
            ip("10.0.0.2")
        );
        assert_eq!(p.client_ip(peer, Some("1.2.3.4,10.0.0.2, 999.1.1.1")), peer);
        assert_eq!(p.client_ip(peer, Some("")), peer);
        for bad in [
            "1.2.3.4:",
            "1.2.3.4:x",
            "[::1",
            "[::1]x",
            "fe80::1%eth0",
            "1.2.3.4:123456",
        ] {
            assert_eq!(parse_entry(bad), None, "{bad}");
        }
    }

    #[test]
    fn ports_are_dropped_and_ipv6_works() {
        let p = proxies();
        let peer = ip("fd00::1");
        assert_eq!(p.client_ip(peer, Some("1.2.3.4:5678")), ip("1.2.3.4"));
        assert_eq!(
            p.client_ip(peer, Some("[2001:db8::1]:443")),
            ip("2001:db8::1")
        );
        assert_eq!(p.client_ip(peer, Some(" 2001:db8::2 ")), ip("2001:db8::2"));
        assert_eq!(p.client_ip(peer, Some("[2001:db8::3]")), ip("2001:db8::3"));
        assert_eq!(
            p.client_ip(peer, Some("2001:db8::4, [fd00::9]:80")),
            ip("2001:db8::4")
        );
    }

    #[test]
    fn ipv4_mapped_addresses_are_ipv4() {
        let p = proxies();
        let mapped_peer = ip("::ffff:10.0.0.1");
        assert_eq!(p.client_ip(mapped_peer, Some("1.2.3.4")), ip("1.2.3.4"));
        assert_eq!(p.client_ip(mapped_peer, None), ip("10.0.0.1"));
        assert_eq!(p.client_ip(ip("::ffff:1.2.3.4"), None), ip("1.2.3.4"));
        let xff = "::ffff:5.6.7.8, [::ffff:10.0.0.2]:80";
        assert_eq!(p.client_ip(mapped_peer, Some(xff)), ip("5.6.7.8"));
        let mapped_entry = TrustedProxies::parse("::ffff:192.0.2.1").unwrap();
        assert_eq!(
            mapped_entry.client_ip(ip("192.0.2.1"), Some("1.2.3.4")),
            ip("1.2.3.4")
        );
    }
}
