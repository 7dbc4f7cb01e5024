//! [`NetHandle`]: the `Send + Clone` handle of a running node. It starts the
//! swarm task on the tokio runtime it is started on and talks to it over a
//! command channel: dial, peers, named streams, the DHT, shutdown.
//!
//! Every wait here is bounded (dial timeout, DHT query timeout). This module
//! must never touch the swarm itself — only the swarm task does — and never
//! hand out a stream that was not admitted by the stream budget.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId, StreamProtocol};
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tracing::Instrument as _;

use crate::admission::{self, Answer};
use crate::driver::{Command, Driver, Reply};
use crate::error::bounded;
use crate::listen::{ListenState, Listeners};
use crate::stream::{self, Direction, Incoming, NetStream, StreamBudget};
use crate::{Digest, NetConfig, NetError, behaviour, identity};

/// How many times a stream the peer dropped before admitting it is opened.
const OPEN_ATTEMPTS: u32 = 4;
/// The pause before opening a dropped stream again, times the attempt.
const REOPEN_PAUSE: Duration = Duration::from_millis(5);

/// A connected peer as the node sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerInfo {
    /// The peer (its Ed25519 key, see [`crate::peer_id_to_ed25519`]).
    pub peer: PeerId,
    /// The remote address of each open connection.
    pub addresses: Vec<Multiaddr>,
    /// The addresses the peer says it listens on (identify).
    pub listen_addrs: Vec<Multiaddr>,
    /// The last round trip measured by ping.
    pub rtt: Option<Duration>,
}

/// A change in who is connected, as published to [`NetHandle::subscribe`]rs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PeerEvent {
    /// The first connection with `peer` is up.
    Connected {
        /// The peer.
        peer: PeerId,
        /// The remote address of that connection.
        address: Multiaddr,
    },
    /// The last connection with `peer` closed.
    Disconnected {
        /// The peer.
        peer: PeerId,
    },
}

/// How many peer events a slow subscriber may fall behind before it is told
/// it lagged (`broadcast::error::RecvError::Lagged`).
const EVENT_BACKLOG: usize = 256;
/// How many commands may wait for the swarm task.
const COMMAND_BACKLOG: usize = 64;

struct Inner {
    local: PeerId,
    commands: mpsc::Sender<Command>,
    control: libp2p_stream::Control,
    budget: StreamBudget,
    events: broadcast::Sender<PeerEvent>,
    listen: watch::Receiver<ListenState>,
    config: NetConfig,
    runtime: tokio::runtime::Handle,
    /// Closed when the swarm task ends.
    alive: watch::Receiver<()>,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

/// The handle of a running node. Cheap to clone; the node stops on
/// [`NetHandle::shutdown`] or when the last clone is dropped.
#[derive(Clone)]
pub struct NetHandle {
    inner: Arc<Inner>,
}

impl NetHandle {
    /// Starts a node with the key made from the Mother's `seed`: builds the
    /// swarm, opens its listeners, dials its bootstrap peers and spawns its
    /// task on the current tokio runtime.
    pub async fn start(seed: &[u8; 32], config: NetConfig) -> Result<Self, NetError> {
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|_| NetError::Build("a node runs on a tokio runtime".into()))?;
        let bootstrap = config
            .bootstrap
            .iter()
            .map(split_peer)
            .collect::<Result<Vec<_>, _>>()?;
        let keypair = identity::keypair_from_seed(seed);
        let local = keypair.public().to_peer_id();
        let mut swarm = behaviour::build(keypair, &config)?;
        let mut listener_ids = Vec::new();
        for addr in &config.listen {
            let id = swarm
                .listen_on(addr.clone())
                .map_err(|e| NetError::Listen {
                    addr: addr.clone(),
                    reason: e.to_string(),
                })?;
            listener_ids.push(id);
        }
        let control = swarm.behaviour().streams.new_control();
        let (listeners, listen) = Listeners::new(&listener_ids);
        let (commands, receiver) = mpsc::channel(COMMAND_BACKLOG);
        let (events, _) = broadcast::channel(EVENT_BACKLOG);
        let (alive_sender, alive) = watch::channel(());
        let mut driver = Driver::new(swarm, receiver, events.clone(), listeners, alive_sender);
        driver.bootstrap_from(&bootstrap);
        let span = tracing::info_span!("net", %local);
        let task = runtime.spawn(driver.run().instrument(span));
        let limits = &config.limits;
        let budget =
            StreamBudget::new(limits.max_streams_per_peer, limits.max_streams_per_protocol);
        Ok(Self {
            inner: Arc::new(Inner {
                local,
                commands,
                control,
                budget,
                events,
                listen,
                config,
                runtime,
                alive,
                task: Mutex::new(Some(task)),
            }),
        })
    }

    /// This node's peer id (the Mother's key).
    pub fn local_peer_id(&self) -> PeerId {
        self.inner.local
    }

    /// The configuration the node was started with.
    pub fn config(&self) -> &NetConfig {
        &self.inner.config
    }

    /// The addresses the node listens on, once every listener has reported
    /// one (bounded by the dial timeout).
    pub async fn listen_addrs(&self) -> Result<Vec<Multiaddr>, NetError> {
        let mut watch = self.inner.listen.clone();
        let after = self.inner.config.dial_timeout;
        bounded("listening", after, async move {
            let state = watch
                .wait_for(|s| s.ready)
                .await
                .map_err(|_| NetError::Stopped)?;
            Ok(state.addrs.clone())
        })
        .await
    }

    /// Dials `addr` (with or without `/p2p/<peer id>`; with it, the peer is
    /// checked) and answers the peer that answered.
    pub async fn dial(&self, addr: Multiaddr) -> Result<PeerId, NetError> {
        let after = self.inner.config.dial_timeout;
        self.ask("dial", after, |reply| Command::Dial(addr, reply))
            .await
    }

    /// Makes sure there is a connection with `peer`, dialling it at an
    /// address the node knows (DHT, identify, `add_address`) if need be.
    pub async fn connect(&self, peer: PeerId) -> Result<(), NetError> {
        let after = self.inner.config.dial_timeout;
        self.ask("connect", after, |reply| Command::Connect(peer, reply))
            .await
    }

    /// Tells the node (and its DHT) that `peer` can be reached at `addr`.
    pub async fn add_address(&self, peer: PeerId, addr: Multiaddr) -> Result<(), NetError> {
        self.send(Command::AddAddress(peer, addr)).await
    }

    /// Closes every connection with `peer`.
    pub async fn disconnect(&self, peer: PeerId) -> Result<(), NetError> {
        self.send(Command::Disconnect(peer)).await
    }

    /// The connected peers, with their addresses and latency.
    pub async fn peers(&self) -> Result<Vec<PeerInfo>, NetError> {
        let after = self.inner.config.dial_timeout;
        self.ask("peers", after, Command::Peers).await
    }

    /// Connection events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<PeerEvent> {
        self.inner.events.subscribe()
    }

    /// Opens a stream to `peer` for `protocol`, connecting first if need be,
    /// and returns it once the peer has admitted it (see
    /// [`crate::admission`]). A stream the peer dropped before it could
    /// answer is opened again, a few times; one it refused is
    /// [`NetError::StreamRefused`], naming its bound.
    pub async fn open_stream(
        &self,
        peer: PeerId,
        protocol: StreamProtocol,
    ) -> Result<NetStream, NetError> {
        let permit = self
            .inner
            .budget
            .admit(peer, &protocol, Direction::Outbound)?;
        let span = tracing::debug_span!("open_stream", %peer, %protocol);
        let after = self.inner.config.dial_timeout;
        async move {
            self.connect(peer).await?;
            let mut attempt = 0;
            let stream = loop {
                attempt += 1;
                let mut stream = bounded("open stream", after, self.negotiate(peer, &protocol)).await?;
                let answer = tokio::time::timeout(after, admission::await_admission(&mut stream))
                    .await
                    .map_err(|_| NetError::Timeout {
                        what: "the peer's admission of a stream",
                        after,
                    })?;
                let failed = |why: String| NetError::OpenStream {
                    peer,
                    protocol: protocol.clone(),
                    source: std::io::Error::new(std::io::ErrorKind::InvalidData, why),
                };
                match answer {
                    Answer::Admitted => break stream,
                    Answer::Refused(why) => {
                        return Err(NetError::StreamRefused {
                            peer,
                            protocol: protocol.clone(),
                            why,
                        });
                    }
                    Answer::Malformed(what) => return Err(failed(what)),
                    Answer::Dropped(error) if attempt >= OPEN_ATTEMPTS => {
                        return Err(failed(format!(
                            "the peer dropped the stream before admitting it, {attempt} times: {error}"
                        )));
                    }
                    Answer::Dropped(error) => {
                        tracing::debug!(attempt, %error, "stream dropped before its admission; opening it again");
                        tokio::time::sleep(REOPEN_PAUSE * attempt).await;
                    }
                }
            };
            Ok(NetStream::new(
                stream,
                peer,
                protocol,
                Direction::Outbound,
                permit,
            ))
        }
        .instrument(span)
        .await
    }

    /// One stream to `peer` negotiated for `protocol` (not yet admitted).
    async fn negotiate(
        &self,
        peer: PeerId,
        protocol: &StreamProtocol,
    ) -> Result<libp2p::Stream, NetError> {
        let mut control = self.inner.control.clone();
        control
            .open_stream(peer, protocol.clone())
            .await
            .map_err(|e| match e {
                libp2p_stream::OpenStreamError::UnsupportedProtocol(protocol) => {
                    NetError::UnsupportedProtocol { peer, protocol }
                }
                libp2p_stream::OpenStreamError::Io(source) => NetError::OpenStream {
                    peer,
                    protocol: protocol.clone(),
                    source,
                },
                other => NetError::OpenStream {
                    peer,
                    protocol: protocol.clone(),
                    source: std::io::Error::other(other.to_string()),
                },
            })
    }

    /// Accepts streams for `protocol` (offered to peers from now on until the
    /// returned [`Incoming`] is dropped). Once per protocol per node.
    pub fn accept(&self, protocol: StreamProtocol) -> Result<Incoming, NetError> {
        let mut control = self.inner.control.clone();
        let streams = control
            .accept(protocol.clone())
            .map_err(|_| NetError::AlreadyAccepting(protocol.clone()))?;
        Ok(stream::accept(
            &self.inner.runtime,
            streams,
            protocol,
            self.inner.budget.clone(),
            (
                self.inner.config.limits.accept_queue,
                self.inner.config.dial_timeout,
            ),
            self.inner.alive.clone(),
        ))
    }

    /// Announces on the DHT that this node provides `key`, and waits for the
    /// announcement to reach the closest peers (bounded by the query timeout).
    pub async fn provide(&self, key: Digest) -> Result<(), NetError> {
        let after = self.query_bound();
        self.ask("provide", after, |reply| Command::Provide(key, reply))
            .await
    }

    /// Stops announcing `key` (peers forget it when their records expire).
    pub async fn stop_providing(&self, key: Digest) -> Result<(), NetError> {
        self.send(Command::StopProviding(key)).await
    }

    /// Up to `limit` peers that provide `key`, not this node; empty when the
    /// DHT knows none. Each one found is dialled at once. Bounded by the
    /// query timeout.
    pub async fn find_providers(&self, key: Digest, limit: usize) -> Result<Vec<PeerId>, NetError> {
        let after = self.query_bound();
        self.ask("find providers", after, |reply| {
            Command::FindProviders(key, limit, reply)
        })
        .await
    }

    /// Refreshes the DHT routing table now (it also refreshes by itself).
    pub async fn bootstrap(&self) -> Result<(), NetError> {
        let after = self.query_bound();
        self.ask("bootstrap", after, Command::Bootstrap).await
    }

    /// Closes every connection and stops the node's task. Idempotent; every
    /// clone of this handle then answers [`NetError::Stopped`].
    pub async fn shutdown(&self) {
        let (done, wait) = oneshot::channel();
        if self
            .inner
            .commands
            .send(Command::Shutdown(done))
            .await
            .is_ok()
        {
            let _ = wait.await;
        }
        let task = self
            .inner
            .task
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }

    /// A DHT query's own timeout plus a margin for the answer to come back.
    fn query_bound(&self) -> Duration {
        self.inner.config.dht.query_timeout + Duration::from_secs(1)
    }

    async fn send(&self, command: Command) -> Result<(), NetError> {
        self.inner
            .commands
            .send(command)
            .await
            .map_err(|_| NetError::Stopped)
    }

    async fn ask<T>(
        &self,
        what: &'static str,
        after: Duration,
        command: impl FnOnce(Reply<T>) -> Command,
    ) -> Result<T, NetError> {
        let (reply, answer) = oneshot::channel();
        self.send(command(reply)).await?;
        bounded(what, after, async {
            answer.await.map_err(|_| NetError::Stopped)?
        })
        .await
    }

    pub(crate) fn runtime(&self) -> &tokio::runtime::Handle {
        &self.inner.runtime
    }
}

impl std::fmt::Debug for NetHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetHandle")
            .field("local", &self.inner.local)
            .finish()
    }
}

/// `(peer, address)` of a bootstrap address ending in `/p2p/<peer id>`.
fn split_peer(addr: &Multiaddr) -> Result<(PeerId, Multiaddr), NetError> {
    let mut base = addr.clone();
    match base.pop() {
        Some(Protocol::P2p(peer)) => Ok((peer, base)),
        _ => Err(NetError::Config(format!(
            "bootstrap address {addr} does not end in /p2p/<peer id>"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bootstrap_addresses_must_name_their_peer() {
        let peer = identity::peer_id_from_seed(&[3; 32]);
        let with: Multiaddr = format!("/ip4/127.0.0.1/tcp/4001/p2p/{peer}")
            .parse()
            .unwrap();
        let (got, base) = split_peer(&with).unwrap();
        assert_eq!(
            (got, base.to_string()),
            (peer, "/ip4/127.0.0.1/tcp/4001".to_owned())
        );
        let without: Multiaddr = "/ip4/127.0.0.1/tcp/4001".parse().unwrap();
        assert_eq!(split_peer(&without).unwrap_err().kind(), "net-config");
    }
}
