//! Connections per client address (`TASKFLOW_MAX_CONNECTIONS_PER_IP`).
//!
//! The header and body deadlines bound how long one connection can hold the server's
//! resources, not how many connections one client holds: an address that keeps opening
//! connections that send their heads and bodies as slowly as the deadlines allow would hold
//! every request permit (`TASKFLOW_MAX_CONCURRENT_REQUESTS`) and many descriptors all the
//! time. A cap per address bounds its share. An IPv6 client is counted by its /64, since one
//! host is commonly given a whole /64 to pick addresses from.
//!
//! The address is the TCP peer: nothing of the request has been read when a connection is
//! accepted, and `X-Forwarded-For` is a per-request claim. So trusted proxies
//! (`TASKFLOW_TRUSTED_PROXIES`) are exempt, as every client behind them shares their address;
//! limiting connections per client is then the proxy's job. A connection over the cap is
//! closed at once, before its TLS handshake or any read: answering it would cost what the cap
//! is there to save.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex, PoisonError};

use taskflow_http::client_ip::TrustedProxies;

/// The open connections of each client address.
pub(super) struct Peers {
    cap: usize,
    exempt: TrustedProxies,
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// A connection counted against its address; dropping it (the connection's end) frees it.
pub(super) struct Slot {
    peers: Arc<Peers>,
    key: IpAddr,
}

/// The address already has as many connections open as it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct OverCap;

impl Peers {
    pub(super) fn new(cap: usize, exempt: TrustedProxies) -> Arc<Self> {
        Arc::new(Self {
            cap,
            exempt,
            open: Mutex::new(HashMap::new()),
        })
    }

    fn open(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, usize>> {
        // A map of counters, consistent after any panic.
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts a new connection from `peer`: its slot, `None` for an exempt proxy.
    ///
    /// # Errors
    /// [`OverCap`] when its address already has the cap of connections open.
    pub(super) fn admit(self: &Arc<Self>, peer: IpAddr) -> Result<Option<Slot>, OverCap> {
        if self.exempt.trusts(peer) {
            return Ok(None);
        }
        let key = client_key(peer);
        let mut open = self.open();
        let count = open.entry(key).or_insert(0);
        if *count >= self.cap {
            return Err(OverCap);
        }
        *count += 1;
        Ok(Some(Slot {
            peers: self.clone(),
            key,
        }))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Entry::Occupied(mut count) = self.peers.open().entry(self.key) {
            *count.get_mut() -= 1;
            if *count.get() == 0 {
                count.remove();
            }
        }
    }
}

/// What a client address is counted as: IPv4 (IPv4-mapped IPv6 included) as itself, IPv6 by
/// its /64.
fn client_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let [a, b, c, d, ..] = v6.segments();
            IpAddr::V6(Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0))
        }
        v4 @ IpAddr::V4(_) => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn each_address_gets_the_cap_and_a_closed_slot_is_reused() {
        let peers = Peers::new(2, TrustedProxies::none());
        let a = peers.admit(ip("192.0.2.1")).unwrap();
        let b = peers.admit(ip("::ffff:192.0.2.1")).unwrap();
        assert!(a.is_some() && b.is_some());
        assert_eq!(peers.admit(ip("192.0.2.1")).err(), Some(OverCap));
        assert!(peers.admit(ip("192.0.2.2")).is_ok(), "another address");
        drop(a);
        assert!(peers.admit(ip("192.0.2.1")).is_ok());
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64() {
        let peers = Peers::new(1, TrustedProxies::none());
        let _held = peers.admit(ip("2001:db8:1:2::1")).unwrap();
        assert_eq!(peers.admit(ip("2001:db8:1:2:ffff::9")).err(), Some(OverCap));
        assert!(peers.admit(ip("2001:db8:1:3::1")).is_ok());
    }

    #[test]
    fn trusted_proxies_are_exempt_and_closed_addresses_are_forgotten() {
        let proxies = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let peers = Peers::new(1, proxies);
        let slots: Vec<_> = (0..5)
            .map(|_| peers.admit(ip("10.1.2.3")).unwrap())
            .collect();
        assert!(slots.iter().all(Option::is_none));
        let held = peers.admit(ip("198.51.100.7")).unwrap();
        drop(held);
        assert!(peers.open().is_empty());
    }
}
