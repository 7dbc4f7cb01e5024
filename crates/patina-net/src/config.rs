//! [`NetConfig`]: what a node listens on, whom it bootstraps from, and every
//! bound it keeps (connections, streams, DHT query time, blob size).
//!
//! Every limit has a default that is safe on a public network; nothing here
//! may be unbounded. mDNS is off unless asked for (it announces the node on
//! the local link), and tests never ask for it.

use std::net::Ipv4Addr;
use std::time::Duration;

use libp2p::Multiaddr;
use libp2p::multiaddr::Protocol;

/// How a node is set up. `NetConfig::default()` listens on every interface
/// (TCP and QUIC, ports chosen by the system); [`NetConfig::loopback`] only
/// on 127.0.0.1.
#[derive(Clone, Debug)]
pub struct NetConfig {
    /// Addresses to listen on (`/ip4/../tcp/..`, `/ip4/../udp/../quic-v1`).
    pub listen: Vec<Multiaddr>,
    /// Peers to join the DHT through; each must end in `/p2p/<peer id>`.
    pub bootstrap: Vec<Multiaddr>,
    /// Discover peers on the local link with mDNS. Off by default.
    pub mdns: bool,
    /// Connection and stream bounds.
    pub limits: Limits,
    /// Kademlia settings.
    pub dht: DhtConfig,
    /// Content by digest (`/patina/blob/0.1.0`).
    pub blob: BlobConfig,
    /// How long a connection with no stream open is kept.
    pub idle_connection_timeout: Duration,
    /// How often a connected peer is pinged (its latency in `peers()`).
    pub ping_interval: Duration,
    /// How long a dial, or the open of a stream, may take.
    pub dial_timeout: Duration,
}

impl Default for NetConfig {
    fn default() -> Self {
        Self {
            listen: tcp_and_quic(Ipv4Addr::UNSPECIFIED),
            bootstrap: Vec::new(),
            mdns: false,
            limits: Limits::default(),
            dht: DhtConfig::default(),
            blob: BlobConfig::default(),
            idle_connection_timeout: Duration::from_secs(60),
            ping_interval: Duration::from_secs(15),
            dial_timeout: Duration::from_secs(10),
        }
    }
}

impl NetConfig {
    /// Listen on 127.0.0.1 only (TCP and QUIC, ports chosen by the system),
    /// everything else as in `default()`: what tests and benchmarks use.
    pub fn loopback() -> Self {
        Self {
            listen: tcp_and_quic(Ipv4Addr::LOCALHOST),
            ..Self::default()
        }
    }
}

/// `/ip4/<ip>/tcp/0` and `/ip4/<ip>/udp/0/quic-v1`.
fn tcp_and_quic(ip: Ipv4Addr) -> Vec<Multiaddr> {
    let host = Multiaddr::empty().with(Protocol::Ip4(ip));
    vec![
        host.clone().with(Protocol::Tcp(0)),
        host.with(Protocol::Udp(0)).with(Protocol::QuicV1),
    ]
}

/// Bounds on connections and streams.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Established connections, all peers.
    pub max_connections: u32,
    /// Established connections with one peer.
    pub max_connections_per_peer: u32,
    /// Incoming connections still in their handshake.
    pub max_pending_incoming: u32,
    /// Outgoing connections still being dialled.
    pub max_pending_outgoing: u32,
    /// Live streams with one peer on one protocol, counted per direction.
    /// An inbound stream over the bound is closed at once; an outbound one
    /// is refused with [`crate::NetError::StreamLimit`].
    pub max_streams_per_peer: usize,
    /// Live inbound streams on one protocol, all peers together.
    pub max_streams_per_protocol: usize,
    /// Accepted streams waiting for the embedder's `next()`; more are closed.
    pub accept_queue: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: 256,
            max_connections_per_peer: 4,
            max_pending_incoming: 64,
            max_pending_outgoing: 64,
            max_streams_per_peer: 32,
            max_streams_per_protocol: 256,
            accept_queue: 64,
        }
    }
}

impl BlobConfig {
    /// How long moving a blob of `len` bytes may take, fetched or served:
    /// the idle timeout plus `len` at [`Self::min_rate`].
    pub fn deadline_for(&self, len: u64) -> Duration {
        let at_least_rate = len.div_ceil(self.min_rate.max(1));
        self.idle_timeout
            .saturating_add(Duration::from_secs(at_least_rate))
    }
}

/// Kademlia: a private DHT (its own protocol name), always in server mode so
/// that nodes on one host or a private network answer each other.
#[derive(Clone, Debug)]
pub struct DhtConfig {
    /// The bound on one query (`provide`, `find_providers`, `bootstrap`).
    pub query_timeout: Duration,
    /// How many providers `fetch_blob` asks the DHT for.
    pub providers_wanted: usize,
}

impl Default for DhtConfig {
    fn default() -> Self {
        Self {
            query_timeout: Duration::from_secs(10),
            providers_wanted: 8,
        }
    }
}

/// Content by digest.
#[derive(Clone, Debug)]
pub struct BlobConfig {
    /// The largest blob this node fetches (and says it will take); the
    /// default, 64 MiB, admits a 64 MiB blob.
    pub max_len: u64,
    /// The size of the chunks this node serves (at most
    /// [`crate::blob::MAX_CHUNK`]).
    pub chunk_len: usize,
    /// How long a fetch or a served stream may wait for the next frame.
    pub idle_timeout: Duration,
    /// The slowest a provider may serve, in bytes a second: a fetch of `len`
    /// bytes ends after `idle_timeout` + `len / min_rate` whatever comes, so
    /// a provider that trickles a byte now and then cannot hold it for long.
    pub min_rate: u64,
}

impl Default for BlobConfig {
    fn default() -> Self {
        Self {
            max_len: 64 << 20,
            chunk_len: 256 << 10,
            idle_timeout: Duration::from_secs(10),
            min_rate: 256 << 10,
        }
    }
}
