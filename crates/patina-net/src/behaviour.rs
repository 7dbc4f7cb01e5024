//! The swarm of one node: TCP and QUIC with Noise and Yamux, and the
//! behaviours it runs — connection limits (first, so a connection over a
//! bound is denied before anything else sees it), identify, ping, Kademlia
//! (a private DHT named `/patina/kad/1.0.0`, in server mode), mDNS (only
//! when configured) and `libp2p-stream` for named long-lived streams.
//!
//! This module only builds; it must never drive the swarm (the driver does)
//! nor hold policy of any kind.

use libp2p::identity::Keypair;
use libp2p::swarm::NetworkBehaviour;
use libp2p::swarm::behaviour::toggle::Toggle;
use libp2p::{
    StreamProtocol, Swarm, SwarmBuilder, connection_limits, identify, kad, mdns, noise, ping, tcp,
    yamux,
};

use crate::{NetConfig, NetError};

/// The Kademlia protocol of Patina's DHT (not the IPFS one).
pub const KAD_PROTOCOL: StreamProtocol = StreamProtocol::new("/patina/kad/1.0.0");
/// The identify protocol version string of a Patina node.
pub const IDENTIFY_VERSION: &str = "/patina/0.1.0";

/// Everything one node runs.
#[derive(NetworkBehaviour)]
pub(crate) struct Behaviour {
    pub(crate) limits: connection_limits::Behaviour,
    pub(crate) identify: identify::Behaviour,
    pub(crate) ping: ping::Behaviour,
    pub(crate) kad: kad::Behaviour<kad::store::MemoryStore>,
    pub(crate) mdns: Toggle<mdns::tokio::Behaviour>,
    pub(crate) streams: libp2p_stream::Behaviour,
}

/// Builds the swarm of `keypair` as `config` says (listening is the driver's).
pub(crate) fn build(keypair: Keypair, config: &NetConfig) -> Result<Swarm<Behaviour>, NetError> {
    let build = |e: &dyn std::fmt::Display| NetError::Build(e.to_string());
    let swarm = SwarmBuilder::with_existing_identity(keypair)
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .map_err(|e| build(&e))?
        .with_quic()
        .with_behaviour(|key| behaviour(key, config))
        .map_err(|e| build(&e))?
        .with_swarm_config(|swarm| {
            swarm.with_idle_connection_timeout(config.idle_connection_timeout)
        })
        .build();
    Ok(swarm)
}

fn behaviour(
    key: &Keypair,
    config: &NetConfig,
) -> Result<Behaviour, Box<dyn std::error::Error + Send + Sync>> {
    let local = key.public().to_peer_id();
    let limits = &config.limits;
    let connection_limits = connection_limits::ConnectionLimits::default()
        .with_max_established(Some(limits.max_connections))
        .with_max_established_per_peer(Some(limits.max_connections_per_peer))
        .with_max_pending_incoming(Some(limits.max_pending_incoming))
        .with_max_pending_outgoing(Some(limits.max_pending_outgoing));

    let identify = identify::Config::new(IDENTIFY_VERSION.to_owned(), key.public())
        .with_agent_version(format!("patina-net/{}", env!("CARGO_PKG_VERSION")));

    let mut kad_config = kad::Config::new(KAD_PROTOCOL);
    kad_config.set_query_timeout(config.dht.query_timeout);
    let mut kad =
        kad::Behaviour::with_config(local, kad::store::MemoryStore::new(local), kad_config);
    // Without a confirmed external address Kademlia stays a client and
    // answers nobody; Mothers on one host or a private network must answer.
    kad.set_mode(Some(kad::Mode::Server));

    let mdns = if config.mdns {
        Some(mdns::tokio::Behaviour::new(mdns::Config::default(), local)?)
    } else {
        None
    };

    Ok(Behaviour {
        limits: connection_limits::Behaviour::new(connection_limits),
        identify: identify::Behaviour::new(identify),
        ping: ping::Behaviour::new(ping::Config::new().with_interval(config.ping_interval)),
        kad,
        mdns: Toggle::from(mdns),
        streams: libp2p_stream::Behaviour::new(),
    })
}
