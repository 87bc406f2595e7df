//! The key of the per-client-IP limits: the network a client is counted as, an IPv4 address
//! or the /64 prefix of an IPv6 address.
//!
//! An IPv6 subscriber is given at least a /64 (RFC 6177; often a /56 or a /48) and may pick
//! any address in it, at will and for free (privacy addresses, RFC 8981). Keyed on the full
//! address, one client would own 2^64 fresh quotas; keyed on its /64, it owns one, as an IPv4
//! client does. IPv4-mapped IPv6 addresses (`::ffff:192.0.2.1`, as dual-stack sockets report
//! IPv4 peers) are their IPv4 address, so one client never has two keys.
//!
//! The in-process limiter keys on this type, and a store that shares the limits between
//! instances keys on its [`Display`](std::fmt::Display) form (`192.0.2.1`,
//! `2001:db8:1:2::/64`), which is canonical: equal keys, equal text; different keys,
//! different text. Where the address comes from (the TCP peer, `X-Forwarded-For` from a
//! trusted proxy) is the HTTP layer's business; this type only takes an [`IpAddr`].

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The network a client is counted as by the per-IP limits (see the module docs).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientNet(Net);

#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Net {
    V4(Ipv4Addr),
    /// The first 64 bits of the address.
    V6([u8; 8]),
}

/// The prefix length IPv6 clients are counted by.
pub const IPV6_PREFIX_LEN: u8 = 64;

impl ClientNet {
    /// The network `ip` is counted as.
    pub fn of(ip: IpAddr) -> Self {
        match ip.to_canonical() {
            IpAddr::V4(v4) => Self(Net::V4(v4)),
            IpAddr::V6(v6) => {
                let mut prefix = [0; 8];
                prefix.copy_from_slice(&v6.octets()[..8]);
                Self(Net::V6(prefix))
            }
        }
    }
}

impl From<IpAddr> for ClientNet {
    fn from(ip: IpAddr) -> Self {
        Self::of(ip)
    }
}

impl fmt::Display for ClientNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Net::V4(v4) => write!(f, "{v4}"),
            Net::V6(prefix) => {
                let mut octets = [0; 16];
                octets[..8].copy_from_slice(&prefix);
                let network = Ipv6Addr::from(octets);
                write!(f, "{network}/{IPV6_PREFIX_LEN}")
            }
        }
    }
}

impl fmt::Debug for ClientNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClientNet({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(text: &str) -> ClientNet {
        ClientNet::of(text.parse().unwrap())
    }

    #[test]
    fn ipv6_addresses_of_one_slash_64_are_one_client() {
        let a = net("2001:db8:1:2::1");
        for same in [
            "2001:db8:1:2::2",
            "2001:db8:1:2:ffff:ffff:ffff:ffff",
            "2001:db8:1:2:a1b2:c3d4:e5f6:789",
            "2001:0db8:0001:0002:0000:0000:0000:0000",
        ] {
            assert_eq!(net(same), a, "{same}");
        }
        for other in [
            "2001:db8:1:3::1",
            "2001:db8:1:1:ffff:ffff:ffff:ffff",
            "2001:db9:1:2::1",
        ] {
            assert_ne!(net(other), a, "{other}");
        }
        assert_eq!(a.to_string(), "2001:db8:1:2::/64");
        assert_eq!(net("::1").to_string(), "::/64");
    }

    #[test]
    fn ipv4_is_per_address_and_mapped_ipv6_is_ipv4() {
        assert_eq!(net("192.0.2.1").to_string(), "192.0.2.1");
        assert_ne!(net("192.0.2.1"), net("192.0.2.2"));
        assert_eq!(net("::ffff:192.0.2.1"), net("192.0.2.1"));
        assert_eq!(net("::ffff:192.0.2.1").to_string(), "192.0.2.1");
        // Mapped addresses of different IPv4 hosts share a /64 but are not one client.
        assert_ne!(net("::ffff:192.0.2.1"), net("::ffff:192.0.2.2"));
        // An IPv4 address and the IPv6 /64 whose bits start alike are different keys.
        assert_ne!(net("192.0.2.1"), net("c000:201::"));
        assert_eq!(format!("{:?}", net("192.0.2.1")), "ClientNet(192.0.2.1)");
    }
}
