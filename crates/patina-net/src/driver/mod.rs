//! The swarm task: the one owner of a node's `Swarm`. It takes commands from
//! [`crate::NetHandle`]s over a channel, answers each on a oneshot, keeps the
//! peer table (addresses, latency from ping), publishes connection events,
//! feeds identify's and mDNS's addresses to Kademlia and runs DHT queries
//! (their answers are [`dht`]'s).
//!
//! Every connection has a tracing span. This task must never block or await
//! anything but the swarm and its command channel: the embedder's work runs
//! elsewhere (streams are handed out, never read here).

use std::collections::HashMap;
use std::time::Duration;

use futures::StreamExt as _;
use libp2p::core::ConnectedPoint;
use libp2p::kad::QueryId;
use libp2p::swarm::dial_opts::{DialOpts, PeerCondition};
use libp2p::swarm::{ConnectionId, DialError, SwarmEvent};
use libp2p::{Multiaddr, PeerId, Swarm, identify, mdns, ping};
use tokio::sync::{broadcast, mpsc, oneshot, watch};

use crate::behaviour::{Behaviour, BehaviourEvent, KAD_PROTOCOL};
use crate::handle::{PeerEvent, PeerInfo};
use crate::listen::Listeners;
use crate::{Digest, NetError};
use dht::Find;

mod dht;

/// How a command is answered.
pub(crate) type Reply<T> = oneshot::Sender<Result<T, NetError>>;

/// What a handle asks of the swarm task.
pub(crate) enum Command {
    Dial(Multiaddr, Reply<PeerId>),
    Connect(PeerId, Reply<()>),
    Disconnect(PeerId),
    AddAddress(PeerId, Multiaddr),
    Peers(Reply<Vec<PeerInfo>>),
    Provide(Digest, Reply<()>),
    StopProviding(Digest),
    FindProviders(Digest, usize, Reply<Vec<PeerId>>),
    Bootstrap(Reply<()>),
    Shutdown(oneshot::Sender<()>),
}

#[derive(Default)]
struct PeerState {
    connections: HashMap<ConnectionId, (Multiaddr, tracing::Span)>,
    listen_addrs: Vec<Multiaddr>,
    rtt: Option<Duration>,
}

pub(crate) struct Driver {
    swarm: Swarm<Behaviour>,
    commands: mpsc::Receiver<Command>,
    events: broadcast::Sender<PeerEvent>,
    listeners: Listeners,
    peers: HashMap<PeerId, PeerState>,
    dials: HashMap<ConnectionId, Reply<PeerId>>,
    connects: HashMap<PeerId, Vec<Reply<()>>>,
    provides: HashMap<QueryId, Reply<()>>,
    finds: HashMap<QueryId, Find>,
    bootstraps: HashMap<QueryId, Reply<()>>,
    /// Dropped when the task ends: accept pumps watch it to stop.
    _alive: watch::Sender<()>,
}

/// How long a shutdown waits for connections to close before dropping them.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(500);

impl Driver {
    pub(crate) fn new(
        swarm: Swarm<Behaviour>,
        commands: mpsc::Receiver<Command>,
        events: broadcast::Sender<PeerEvent>,
        listeners: Listeners,
        alive: watch::Sender<()>,
    ) -> Self {
        Self {
            swarm,
            commands,
            events,
            listeners,
            peers: HashMap::new(),
            dials: HashMap::new(),
            connects: HashMap::new(),
            provides: HashMap::new(),
            finds: HashMap::new(),
            bootstraps: HashMap::new(),
            _alive: alive,
        }
    }

    /// Joins the DHT through `peers` (each `(peer, address)`), dialling each.
    pub(crate) fn bootstrap_from(&mut self, peers: &[(PeerId, Multiaddr)]) {
        for (peer, addr) in peers {
            self.swarm
                .behaviour_mut()
                .kad
                .add_address(peer, addr.clone());
            let opts = DialOpts::peer_id(*peer)
                .addresses(vec![addr.clone()])
                .build();
            if let Err(error) = self.swarm.dial(opts) {
                tracing::debug!(%peer, %error, "bootstrap dial failed");
            }
        }
        if !peers.is_empty() {
            let _ = self.swarm.behaviour_mut().kad.bootstrap();
        }
    }

    /// Runs until shut down or every handle is dropped.
    pub(crate) async fn run(mut self) {
        let done = loop {
            tokio::select! {
                event = self.swarm.select_next_some() => self.on_swarm(event),
                command = self.commands.recv() => match command {
                    Some(Command::Shutdown(done)) => break Some(done),
                    Some(command) => self.on_command(command),
                    None => break None,
                },
            }
        };
        self.close().await;
        if let Some(done) = done {
            let _ = done.send(());
        }
    }

    async fn close(&mut self) {
        let peers: Vec<PeerId> = self.swarm.connected_peers().copied().collect();
        for peer in peers {
            let _ = self.swarm.disconnect_peer_id(peer);
        }
        let drain = async {
            while self.swarm.connected_peers().next().is_some() {
                let event = self.swarm.select_next_some().await;
                self.on_swarm(event);
            }
        };
        let _ = tokio::time::timeout(SHUTDOWN_GRACE, drain).await;
        tracing::debug!("network node stopped");
    }

    fn on_command(&mut self, command: Command) {
        match command {
            Command::Dial(addr, reply) => {
                let opts = DialOpts::from(addr.clone());
                let id = opts.connection_id();
                match self.swarm.dial(opts) {
                    Ok(()) => {
                        self.dials.insert(id, reply);
                    }
                    Err(error) => {
                        let _ = reply.send(Err(dial_error(addr.to_string(), &error)));
                    }
                }
            }
            Command::Connect(peer, reply) => self.connect(peer, reply),
            Command::Disconnect(peer) => {
                let _ = self.swarm.disconnect_peer_id(peer);
            }
            Command::AddAddress(peer, addr) => {
                self.swarm
                    .behaviour_mut()
                    .kad
                    .add_address(&peer, addr.clone());
                self.swarm.add_peer_address(peer, addr);
            }
            Command::Peers(reply) => {
                let _ = reply.send(Ok(self.peer_table()));
            }
            Command::Provide(key, reply) => {
                match self
                    .swarm
                    .behaviour_mut()
                    .kad
                    .start_providing(key.record_key())
                {
                    Ok(id) => {
                        self.provides.insert(id, reply);
                    }
                    Err(error) => {
                        let _ = reply.send(Err(NetError::Dht(error.to_string())));
                    }
                }
            }
            Command::StopProviding(key) => {
                self.swarm
                    .behaviour_mut()
                    .kad
                    .stop_providing(&key.record_key());
            }
            Command::FindProviders(key, limit, reply) => {
                let id = self
                    .swarm
                    .behaviour_mut()
                    .kad
                    .get_providers(key.record_key());
                self.finds.insert(id, Find::new(limit, reply));
            }
            Command::Bootstrap(reply) => match self.swarm.behaviour_mut().kad.bootstrap() {
                Ok(id) => {
                    self.bootstraps.insert(id, reply);
                }
                Err(_) => {
                    let _ = reply.send(Err(NetError::Dht(
                        "no known peers to bootstrap from".into(),
                    )));
                }
            },
            Command::Shutdown(_) => unreachable!("handled by run"),
        }
    }

    fn connect(&mut self, peer: PeerId, reply: Reply<()>) {
        if self.swarm.is_connected(&peer) {
            let _ = reply.send(Ok(()));
            return;
        }
        let opts = DialOpts::peer_id(peer)
            .condition(PeerCondition::DisconnectedAndNotDialing)
            .build();
        match self.swarm.dial(opts) {
            Ok(()) | Err(DialError::DialPeerConditionFalse(_)) => {
                self.connects.entry(peer).or_default().push(reply);
            }
            Err(error) => {
                let _ = reply.send(Err(dial_error(peer.to_string(), &error)));
            }
        }
    }

    fn peer_table(&self) -> Vec<PeerInfo> {
        let mut table: Vec<PeerInfo> = self
            .peers
            .iter()
            .map(|(peer, state)| PeerInfo {
                peer: *peer,
                addresses: state.connections.values().map(|(a, _)| a.clone()).collect(),
                listen_addrs: state.listen_addrs.clone(),
                rtt: state.rtt,
            })
            .collect();
        table.sort_by_key(|info| info.peer);
        table
    }

    fn on_swarm(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::Behaviour(event) => self.on_behaviour(event),
            SwarmEvent::ConnectionEstablished {
                peer_id,
                connection_id,
                endpoint,
                num_established,
                ..
            } => {
                let address = remote_address(&endpoint);
                let span = tracing::debug_span!("connection", peer = %peer_id, conn = %connection_id, remote = %address);
                span.in_scope(
                    || tracing::debug!(role = ?endpoint.to_endpoint(), "connection established"),
                );
                let state = self.peers.entry(peer_id).or_default();
                state
                    .connections
                    .insert(connection_id, (address.clone(), span));
                if let Some(reply) = self.dials.remove(&connection_id) {
                    let _ = reply.send(Ok(peer_id));
                }
                for reply in self.connects.remove(&peer_id).unwrap_or_default() {
                    let _ = reply.send(Ok(()));
                }
                if num_established.get() == 1 {
                    let _ = self.events.send(PeerEvent::Connected {
                        peer: peer_id,
                        address,
                    });
                }
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                connection_id,
                num_established,
                cause,
                ..
            } => {
                if let Some(state) = self.peers.get_mut(&peer_id)
                    && let Some((_, span)) = state.connections.remove(&connection_id)
                {
                    span.in_scope(|| tracing::debug!(cause = ?cause, "connection closed"));
                }
                if num_established == 0 {
                    self.peers.remove(&peer_id);
                    let _ = self.events.send(PeerEvent::Disconnected { peer: peer_id });
                }
            }
            SwarmEvent::OutgoingConnectionError {
                connection_id,
                peer_id,
                error,
            } => {
                tracing::debug!(conn = %connection_id, peer = ?peer_id, %error, "dial failed");
                if let Some(reply) = self.dials.remove(&connection_id) {
                    let target = peer_id.map_or_else(|| "an address".to_owned(), |p| p.to_string());
                    let _ = reply.send(Err(dial_error(target, &error)));
                }
                if let Some(peer) = peer_id
                    && !self.swarm.is_connected(&peer)
                {
                    for reply in self.connects.remove(&peer).unwrap_or_default() {
                        let _ = reply.send(Err(dial_error(peer.to_string(), &error)));
                    }
                }
            }
            SwarmEvent::NewListenAddr {
                listener_id,
                address,
            } => self.listeners.added(listener_id, address),
            SwarmEvent::ExpiredListenAddr {
                listener_id,
                address,
            } => self.listeners.expired(listener_id, &address),
            SwarmEvent::ListenerClosed { listener_id, .. } => self.listeners.closed(listener_id),
            SwarmEvent::ListenerError { listener_id, error } => {
                tracing::warn!(?listener_id, %error, "listener error");
            }
            SwarmEvent::IncomingConnectionError {
                send_back_addr,
                error,
                ..
            } => {
                tracing::debug!(remote = %send_back_addr, %error, "incoming connection failed");
            }
            _ => {}
        }
    }

    fn on_behaviour(&mut self, event: BehaviourEvent) {
        match event {
            BehaviourEvent::Identify(identify::Event::Received { peer_id, info, .. }) => {
                let speaks_kad = info.protocols.contains(&KAD_PROTOCOL);
                if speaks_kad {
                    for addr in &info.listen_addrs {
                        self.swarm
                            .behaviour_mut()
                            .kad
                            .add_address(&peer_id, addr.clone());
                    }
                }
                if let Some(state) = self.peers.get_mut(&peer_id) {
                    state.listen_addrs = info.listen_addrs;
                }
            }
            BehaviourEvent::Ping(ping::Event {
                peer,
                connection,
                result,
            }) => {
                if let Some(state) = self.peers.get_mut(&peer) {
                    match result {
                        Ok(rtt) => state.rtt = Some(rtt),
                        Err(error) => {
                            if let Some((_, span)) = state.connections.get(&connection) {
                                span.in_scope(|| tracing::debug!(%error, "ping failed"));
                            }
                        }
                    }
                }
            }
            BehaviourEvent::Kad(event) => self.on_kad(event),
            BehaviourEvent::Mdns(mdns::Event::Discovered(found)) => {
                for (peer, addr) in found {
                    self.swarm
                        .behaviour_mut()
                        .kad
                        .add_address(&peer, addr.clone());
                    let opts = DialOpts::peer_id(peer).addresses(vec![addr]).build();
                    let _ = self.swarm.dial(opts);
                }
            }
            _ => {}
        }
    }
}

fn remote_address(endpoint: &ConnectedPoint) -> Multiaddr {
    match endpoint {
        ConnectedPoint::Dialer { address, .. } => address.clone(),
        ConnectedPoint::Listener { send_back_addr, .. } => send_back_addr.clone(),
    }
}

fn dial_error(target: String, error: &DialError) -> NetError {
    NetError::Dial {
        target,
        reason: error.to_string(),
    }
}
