//! [`PeerConfig`]: how a Mother is on the network — what it listens on,
//! whom it bootstraps from, mDNS, and every bound it keeps (connections,
//! streams and membrane sessions per peer, the largest child it fetches,
//! the grace a remote run gets past its deadline) — and
//! `$PATINA_HOME/config.toml`, where those are kept:
//!
//! ```toml
//! [peer]
//! listen = ["/ip4/0.0.0.0/tcp/4001", "/ip4/0.0.0.0/udp/4001/quic-v1"]
//! bootstrap = ["/ip4/192.0.2.7/tcp/4001/p2p/12D3KooW…"]
//! mdns = false
//! max_connections = 256
//! max_connections_per_peer = 4
//! max_streams_per_peer = 32
//! sessions_per_peer = 2
//! max_child_size = "64MiB"
//! provide_interval = "5m"
//! run_grace = "2s"
//! ```
//!
//! Every table is read with `deny_unknown_fields`: a key this file does not
//! know is refused with its line. Nothing here may be unbounded, and mDNS
//! is off unless asked for (it announces the Mother on the local link).

use std::path::Path;
use std::time::Duration;

use patina_net::{Multiaddr, NetConfig};
use serde::Deserialize;

use crate::PeerError;

/// How a Mother is on the network.
#[derive(Clone, Debug)]
pub struct PeerConfig {
    /// Addresses to listen on (`/ip4/…/tcp/…`, `/ip4/…/udp/…/quic-v1`).
    pub listen: Vec<Multiaddr>,
    /// Peers to join the DHT through, each ending in `/p2p/<peer id>`.
    pub bootstrap: Vec<Multiaddr>,
    /// Find peers on the local link with mDNS (off by default).
    pub mdns: bool,
    /// Established connections, all peers.
    pub max_connections: u32,
    /// Established connections with one peer.
    pub max_connections_per_peer: u32,
    /// Live streams with one peer on one protocol, each direction.
    pub max_streams_per_peer: usize,
    /// Membrane sessions one peer may hold here at once (a well-behaved
    /// peer holds one; more are closed at once).
    pub sessions_per_peer: usize,
    /// The largest child this Mother fetches (default 64 MiB, admitted).
    pub max_child_size: u64,
    /// How often the children held here are announced on the DHT again.
    pub provide_interval: Duration,
    /// How long past a remote run's deadline its answer is waited for (the
    /// network, the peer fetching the child, the receipt).
    pub run_grace: Duration,
    /// How long a dial, or opening a stream, may take.
    pub dial_timeout: Duration,
    /// The bound on one DHT query.
    pub query_timeout: Duration,
}

impl Default for PeerConfig {
    /// Every interface, TCP and QUIC, ports chosen by the system.
    fn default() -> Self {
        Self::from_net(NetConfig::default())
    }
}

impl PeerConfig {
    /// 127.0.0.1 only (TCP and QUIC): what tests and benchmarks use.
    pub fn loopback() -> Self {
        Self::from_net(NetConfig::loopback())
    }

    fn from_net(net: NetConfig) -> Self {
        Self {
            listen: net.listen,
            bootstrap: Vec::new(),
            mdns: false,
            max_connections: net.limits.max_connections,
            max_connections_per_peer: net.limits.max_connections_per_peer,
            max_streams_per_peer: net.limits.max_streams_per_peer,
            sessions_per_peer: 2,
            max_child_size: net.blob.max_len,
            provide_interval: Duration::from_secs(300),
            run_grace: Duration::from_secs(2),
            dial_timeout: net.dial_timeout,
            query_timeout: net.dht.query_timeout,
        }
    }

    /// The network node's configuration.
    pub fn net_config(&self) -> NetConfig {
        let mut net = NetConfig {
            listen: self.listen.clone(),
            bootstrap: self.bootstrap.clone(),
            mdns: self.mdns,
            dial_timeout: self.dial_timeout,
            ..NetConfig::default()
        };
        net.limits.max_connections = self.max_connections;
        net.limits.max_connections_per_peer = self.max_connections_per_peer;
        net.limits.max_streams_per_peer = self.max_streams_per_peer;
        net.blob.max_len = self.max_child_size;
        net.dht.query_timeout = self.query_timeout;
        net
    }

    /// The `[peer]` table of `config.toml` in `home`; the defaults (and no
    /// listen address) when the file or the table is missing. `listen`
    /// empty means the Mother is not on a network unless told otherwise.
    pub fn load(home: &Path) -> Result<Self, PeerError> {
        let path = home.join("config.toml");
        match std::fs::read_to_string(&path) {
            Ok(text) => Self::parse(&text, &path.display().to_string()),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Self {
                listen: Vec::new(),
                ..Self::default()
            }),
            Err(error) => Err(PeerError::Config {
                file: path.display().to_string(),
                line: 0,
                message: error.to_string(),
            }),
        }
    }

    /// Parses config text; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Self, PeerError> {
        let invalid = |offset: usize, message: String| PeerError::Config {
            file: file.to_owned(),
            line: patina_core::line_at(text, offset),
            message,
        };
        let parsed: File = toml::from_str(text).map_err(|error| {
            let offset = error.span().map_or(0, |span| span.start);
            invalid(offset, error.message().to_owned())
        })?;
        let mut config = Self {
            listen: Vec::new(),
            ..Self::default()
        };
        let Some(peer) = parsed.peer else {
            return Ok(config);
        };
        let addrs = |list: Vec<toml::Spanned<String>>, named: bool| {
            list.into_iter()
                .map(|addr| {
                    let at = addr.span().start;
                    let parsed = addr
                        .get_ref()
                        .parse::<Multiaddr>()
                        .map_err(|e| invalid(at, format!("`{}`: {e}", addr.get_ref())))?;
                    if named && patina_net::peer_in(&parsed).is_none() {
                        return Err(invalid(
                            at,
                            format!("bootstrap address {parsed} does not end in /p2p/<peer id>"),
                        ));
                    }
                    Ok(parsed)
                })
                .collect::<Result<Vec<_>, _>>()
        };
        config.listen = addrs(peer.listen, false)?;
        config.bootstrap = addrs(peer.bootstrap, true)?;
        config.mdns = peer.mdns.unwrap_or(false);
        let at_least_one = |value: Option<toml::Spanned<u64>>, name: &str| match value {
            None => Ok(None),
            Some(v) if *v.get_ref() >= 1 => Ok(Some(*v.get_ref())),
            Some(v) => Err(invalid(
                v.span().start,
                format!("{name} must be at least 1"),
            )),
        };
        let small = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
        let count = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
        if let Some(v) = at_least_one(peer.max_connections, "max_connections")? {
            config.max_connections = small(v);
        }
        if let Some(v) = at_least_one(peer.max_connections_per_peer, "max_connections_per_peer")? {
            config.max_connections_per_peer = small(v);
        }
        if let Some(v) = at_least_one(peer.max_streams_per_peer, "max_streams_per_peer")? {
            config.max_streams_per_peer = count(v);
        }
        if let Some(v) = at_least_one(peer.sessions_per_peer, "sessions_per_peer")? {
            config.sessions_per_peer = count(v);
        }
        if let Some(size) = peer.max_child_size {
            config.max_child_size = patina_core::parse_size(size.get_ref())
                .map_err(|e| invalid(size.span().start, format!("max_child_size: {e}")))?;
        }
        let duration = |value: Option<toml::Spanned<String>>, name: &str| match value {
            None => Ok(None),
            Some(v) => patina_core::parse_duration(v.get_ref())
                .map(Some)
                .map_err(|e| invalid(v.span().start, format!("{name}: {e}"))),
        };
        if let Some(d) = duration(peer.provide_interval, "provide_interval")? {
            config.provide_interval = d.max(Duration::from_secs(1));
        }
        if let Some(d) = duration(peer.run_grace, "run_grace")? {
            config.run_grace = d;
        }
        Ok(config)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    peer: Option<PeerFile>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PeerFile {
    #[serde(default)]
    listen: Vec<toml::Spanned<String>>,
    #[serde(default)]
    bootstrap: Vec<toml::Spanned<String>>,
    mdns: Option<bool>,
    max_connections: Option<toml::Spanned<u64>>,
    max_connections_per_peer: Option<toml::Spanned<u64>>,
    max_streams_per_peer: Option<toml::Spanned<u64>>,
    sessions_per_peer: Option<toml::Spanned<u64>>,
    max_child_size: Option<toml::Spanned<String>>,
    provide_interval: Option<toml::Spanned<String>>,
    run_grace: Option<toml::Spanned<String>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const PEER: &str = "12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN";

    #[test]
    fn a_full_file_is_read() {
        let text = format!(
            "[peer]\nlisten = [\"/ip4/127.0.0.1/tcp/0\"]\nbootstrap = [\"/ip4/127.0.0.1/tcp/4001/p2p/{PEER}\"]\nmdns = true\nmax_connections = 10\nmax_connections_per_peer = 2\nmax_streams_per_peer = 8\nsessions_per_peer = 1\nmax_child_size = \"1MiB\"\nprovide_interval = \"30s\"\nrun_grace = \"500ms\"\n"
        );
        let config = PeerConfig::parse(&text, "config.toml").unwrap();
        assert_eq!(config.listen[0].to_string(), "/ip4/127.0.0.1/tcp/0");
        assert_eq!(config.bootstrap.len(), 1);
        assert!(config.mdns);
        assert_eq!(
            (
                config.max_connections,
                config.max_connections_per_peer,
                config.max_streams_per_peer,
                config.sessions_per_peer
            ),
            (10, 2, 8, 1)
        );
        assert_eq!(config.max_child_size, 1 << 20);
        assert_eq!(config.provide_interval, Duration::from_secs(30));
        assert_eq!(config.run_grace, Duration::from_millis(500));
        let net = config.net_config();
        assert_eq!(net.limits.max_connections, 10);
        assert_eq!(net.blob.max_len, 1 << 20);
        assert!(net.mdns);
    }

    #[test]
    fn defaults_admit_64_mib_and_keep_mdns_off() {
        let config = PeerConfig::parse("", "config.toml").unwrap();
        assert!(config.listen.is_empty() && !config.mdns);
        assert_eq!(config.max_child_size, 64 << 20);
        assert!(!PeerConfig::loopback().mdns);
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused_with_their_line() {
        let cases = [
            ("[peer]\nlisten = []\nlisen = []\n", 3, "lisen"),
            ("[peers]\n", 1, "peers"),
            (
                "[peer]\n\nlisten = [\"not an address\"]\n",
                3,
                "not an address",
            ),
            ("[peer]\nmax_connections = 0\n", 2, "at least 1"),
            ("[peer]\nmax_child_size = \"lots\"\n", 2, "max_child_size"),
            ("[peer]\nrun_grace = \"soon\"\n", 2, "run_grace"),
            (
                "[peer]\nbootstrap = [\"/ip4/127.0.0.1/tcp/1\"]\n",
                2,
                "/p2p/<peer id>",
            ),
        ];
        for (text, line, needle) in cases {
            let error = PeerConfig::parse(text, "config.toml").unwrap_err();
            let message = error.to_string();
            assert_eq!(error.kind(), "bad-config", "{message}");
            assert!(
                message.starts_with(&format!("config.toml:{line}:")),
                "{text:?}: {message}"
            );
            assert!(message.contains(needle), "{text:?}: {message}");
        }
    }
}
