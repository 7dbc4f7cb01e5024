//! The name resolver of the `http` toy: a granted *name* may only reach public
//! addresses, so DNS cannot turn a grant for `api.example.com` into a door to
//! `127.0.0.1`, `10.0.0.0/8` or a cloud metadata address.
//!
//! IP literals are passed through untouched (the allowlist already named that
//! exact address). `localhost` and `*.localhost` may reach loopback addresses
//! only. Every other name keeps only its public addresses; a name with none
//! left is refused with [`PrivateAddress`], which the client reports as
//! `denied(host)`. This module must never return a non-public address for a
//! name other than `localhost`, whatever inner resolver it wraps.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

/// A name resolved only to addresses its grant may not reach.
#[derive(Debug, thiserror::Error)]
#[error("`{host}` resolves only to non-public addresses")]
pub(crate) struct PrivateAddress {
    /// The name, as in the URL.
    pub host: String,
}

/// A resolver (the system's [`DefaultResolver`] outside tests) with
/// non-public answers for names filtered out.
#[derive(Debug)]
pub(crate) struct PublicOnly {
    inner: Arc<dyn Resolver>,
}

impl PublicOnly {
    /// Filters the answers of `inner`.
    pub(crate) fn new(inner: Arc<dyn Resolver>) -> Self {
        Self { inner }
    }
}

/// The system resolver, the inner resolver of the real toy.
pub(crate) fn system_dns() -> Arc<dyn Resolver> {
    Arc::new(DefaultResolver::default())
}

impl Resolver for PublicOnly {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let resolved = self.inner.resolve(uri, config, timeout)?;
        let host = uri.host().unwrap_or_default();
        let Some(kept) = keep_reachable(host, &resolved) else {
            return Ok(resolved);
        };
        if kept.is_empty() {
            tracing::debug!(host, addrs = ?&*resolved, "refused: no public address");
            return Err(ureq::Error::Io(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                PrivateAddress {
                    host: host.to_owned(),
                },
            )));
        }
        let mut out = self.empty();
        for addr in kept {
            out.push(addr);
        }
        Ok(out)
    }
}

/// The addresses of `host` a request may connect to, or `None` when `host` is
/// an IP literal (connected to as is).
pub(crate) fn keep_reachable(host: &str, addrs: &[SocketAddr]) -> Option<Vec<SocketAddr>> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if bare.parse::<IpAddr>().is_ok() {
        return None;
    }
    let name = bare.trim_end_matches('.').to_ascii_lowercase();
    let loopback_name = name == "localhost" || name.ends_with(".localhost");
    Some(
        addrs
            .iter()
            .copied()
            .filter(|addr| {
                if loopback_name {
                    addr.ip().is_loopback()
                } else {
                    is_public(addr.ip())
                }
            })
            .collect(),
    )
}

/// Whether `ip` is a globally reachable unicast address (not loopback,
/// private, link-local, shared, documentation, multicast or reserved).
pub(crate) fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(a == 0                                  // this network
        || a == 10                            // private
        || a == 127                           // loopback
        || (a == 100 && (64..128).contains(&b)) // shared (CGNAT)
        || (a == 169 && b == 254)             // link-local, cloud metadata
        || (a == 172 && (16..32).contains(&b)) // private
        || (a == 192 && b == 0 && c == 0)     // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2)     // documentation
        || (a == 192 && b == 88 && c == 99)   // 6to4 relay
        || (a == 192 && b == 168)             // private
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || (a == 198 && b == 51 && c == 100)  // documentation
        || (a == 203 && b == 0 && c == 113)   // documentation
        || a >= 224) // multicast, reserved, broadcast
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let s = ip.segments();
    if s[..2] == [0x64, 0xff9b] {
        // NAT64 well-known prefix (64:ff9b::/96) reaches the embedded IPv4
        // address.
        if s[2..6] == [0, 0, 0, 0] {
            let [a, b] = s[6].to_be_bytes();
            let [c, d] = s[7].to_be_bytes();
            return is_public_v4(Ipv4Addr::new(a, b, c, d));
        }
        // The local-use NAT64 prefix 64:ff9b:1::/48 (RFC 8215) translates
        // inside one network, with the IPv4 address at a prefix length we
        // cannot know; the rest of 64:ff9b::/32 is unallocated.
        return false;
    }
    !(ip.is_unspecified()
        || ip.is_loopback()
        || s[0] == 0                       // ::/16: IPv4-compatible and reserved
        || (s[0] & 0xfe00) == 0xfc00       // unique local
        || (s[0] & 0xffc0) == 0xfe80       // link-local
        || (s[0] & 0xffc0) == 0xfec0       // site-local (deprecated)
        || (s[0] & 0xff00) == 0xff00       // multicast
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || (s[0] == 0x2001 && s[1] < 0x0200) // Teredo, benchmarking, ORCHID...
        || s[0] == 0x2002) // 6to4 (embeds any IPv4 address)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addrs(list: &[&str]) -> Vec<SocketAddr> {
        list.iter().map(|a| a.parse().unwrap()).collect()
    }

    #[test]
    fn public_and_private_addresses() {
        for public in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:2800:220:1::1",
            "1.1.1.1",
            "64:ff9b::808:808",
        ] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
            "64:ff9b::7f00:1",
            "64:ff9b:1::",
            "64:ff9b:1::808:808",
            "64:ff9b:1:ffff:ffff:ffff:ffff:ffff",
            "64:ff9b:1:808:800::",
            "2002:7f00:1::",
            "::127.0.0.1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
    }

    #[test]
    fn names_keep_only_public_answers() {
        let mixed = addrs(&["10.0.0.1:443", "93.184.216.34:443", "[::1]:443"]);
        assert_eq!(
            keep_reachable("example.com", &mixed),
            Some(addrs(&["93.184.216.34:443"]))
        );
        let internal = addrs(&["127.0.0.1:443", "169.254.169.254:443"]);
        assert_eq!(keep_reachable("rebind.example", &internal), Some(vec![]));
    }

    #[test]
    fn localhost_reaches_loopback_only_and_literals_pass() {
        let mixed = addrs(&["127.0.0.1:80", "[::1]:80", "10.0.0.1:80"]);
        assert_eq!(
            keep_reachable("localhost", &mixed),
            Some(addrs(&["127.0.0.1:80", "[::1]:80"]))
        );
        assert_eq!(
            keep_reachable("app.localhost.", &mixed),
            Some(addrs(&["127.0.0.1:80", "[::1]:80"]))
        );
        assert_eq!(keep_reachable("127.0.0.1", &mixed), None);
        assert_eq!(keep_reachable("[::1]", &mixed), None);
    }
}
