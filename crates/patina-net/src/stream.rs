//! Long-lived streams for named protocols: [`NetStream`] (a libp2p stream
//! usable as tokio *and* futures `AsyncRead + AsyncWrite`), [`Incoming`] (the
//! streams a node accepts on one protocol) and the bounds that keep both in
//! check — live streams per peer and protocol (each direction), and inbound
//! streams per protocol.
//!
//! `libp2p-stream` hands inbound streams over a channel of one slot and drops
//! a stream when that slot is taken, so every protocol accepted here has a
//! pump task that drains it at once into a bounded queue of its own, and
//! every stream begins with the acceptor's answer ([`crate::admission`]):
//! an opener whose stream was dropped on the way opens it again, and one
//! refused at a bound is told which. This module must never let a slow
//! embedder or opener stall that pump, and never admit a stream past a
//! bound.

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use futures::StreamExt as _;
use libp2p::{PeerId, StreamProtocol};
use tokio::sync::{mpsc, watch};
use tokio_util::compat::{Compat, FuturesAsyncReadCompatExt as _};
use tracing::Instrument as _;

use crate::NetError;
use crate::admission::{self, Refusal};

/// Which way a stream was opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Opened by the remote peer, accepted here.
    Inbound,
    /// Opened from here.
    Outbound,
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Inbound => "inbound",
            Self::Outbound => "outbound",
        })
    }
}

type Key = (PeerId, StreamProtocol, Direction);

#[derive(Default)]
struct Counts {
    per_peer: HashMap<Key, usize>,
    inbound_per_protocol: HashMap<StreamProtocol, usize>,
}

/// The live-stream counts of one node, shared by its handle and pumps.
#[derive(Clone)]
pub(crate) struct StreamBudget {
    counts: Arc<Mutex<Counts>>,
    per_peer: usize,
    per_protocol: usize,
}

impl StreamBudget {
    pub(crate) fn new(per_peer: usize, per_protocol: usize) -> Self {
        Self {
            counts: Arc::default(),
            per_peer,
            per_protocol,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Counts> {
        // A count is never left half-changed, so a poisoned lock is usable.
        self.counts
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// A permit for one more stream, or the bound it would cross.
    pub(crate) fn admit(
        &self,
        peer: PeerId,
        protocol: &StreamProtocol,
        direction: Direction,
    ) -> Result<Permit, NetError> {
        self.try_admit(peer, protocol, direction)
            .map_err(|bound| NetError::StreamLimit {
                protocol: protocol.clone(),
                direction,
                scope: match bound {
                    Refusal::ProtocolLimit => "from all peers".into(),
                    Refusal::PeerLimit | Refusal::QueueFull => format!("with {peer}"),
                },
                limit: match bound {
                    Refusal::ProtocolLimit => self.per_protocol,
                    Refusal::PeerLimit | Refusal::QueueFull => self.per_peer,
                },
            })
    }

    /// A permit for one more stream, or which bound it would cross.
    fn try_admit(
        &self,
        peer: PeerId,
        protocol: &StreamProtocol,
        direction: Direction,
    ) -> Result<Permit, Refusal> {
        let mut counts = self.lock();
        let key = (peer, protocol.clone(), direction);
        let live = counts.per_peer.get(&key).copied().unwrap_or(0);
        if live >= self.per_peer {
            return Err(Refusal::PeerLimit);
        }
        if direction == Direction::Inbound {
            let all = counts
                .inbound_per_protocol
                .entry(protocol.clone())
                .or_default();
            if *all >= self.per_protocol {
                return Err(Refusal::ProtocolLimit);
            }
            *all += 1;
        }
        *counts.per_peer.entry(key.clone()).or_default() += 1;
        Ok(Permit {
            budget: self.clone(),
            key,
        })
    }

    fn release(&self, key: &Key) {
        let mut counts = self.lock();
        if let Some(live) = counts.per_peer.get_mut(key) {
            *live = live.saturating_sub(1);
            if *live == 0 {
                counts.per_peer.remove(key);
            }
        }
        if key.2 == Direction::Inbound
            && let Some(all) = counts.inbound_per_protocol.get_mut(&key.1)
        {
            *all = all.saturating_sub(1);
            if *all == 0 {
                counts.inbound_per_protocol.remove(&key.1);
            }
        }
    }
}

/// One admitted stream's place in the budget; given back on drop.
pub(crate) struct Permit {
    budget: StreamBudget,
    key: Key,
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.budget.release(&self.key);
    }
}

/// A stream on a named protocol with one peer: tokio `AsyncRead +
/// AsyncWrite` (and futures' too, for Cap'n Proto RPC without a compat
/// layer). Its place in the stream budget is given back when it is dropped.
pub struct NetStream {
    io: Compat<libp2p::Stream>,
    peer: PeerId,
    protocol: StreamProtocol,
    direction: Direction,
    span: tracing::Span,
    _permit: Permit,
}

impl NetStream {
    pub(crate) fn new(
        stream: libp2p::Stream,
        peer: PeerId,
        protocol: StreamProtocol,
        direction: Direction,
        permit: Permit,
    ) -> Self {
        let span = tracing::debug_span!("stream", %peer, %protocol, %direction);
        span.in_scope(|| tracing::debug!("stream open"));
        Self {
            io: stream.compat(),
            peer,
            protocol,
            direction,
            span,
            _permit: permit,
        }
    }

    /// The peer at the other end (authenticated by Noise).
    pub fn peer(&self) -> PeerId {
        self.peer
    }

    /// The protocol the stream was opened for.
    pub fn protocol(&self) -> &StreamProtocol {
        &self.protocol
    }

    /// Which way it was opened.
    pub fn direction(&self) -> Direction {
        self.direction
    }

    /// The stream's tracing span, to instrument work done over it.
    pub fn span(&self) -> &tracing::Span {
        &self.span
    }
}

impl fmt::Debug for NetStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NetStream")
            .field("peer", &self.peer)
            .field("protocol", &self.protocol)
            .field("direction", &self.direction)
            .finish()
    }
}

impl Drop for NetStream {
    fn drop(&mut self) {
        self.span.in_scope(|| tracing::debug!("stream closed"));
    }
}

impl tokio::io::AsyncRead for NetStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for NetStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

impl futures::io::AsyncRead for NetStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(self.io.get_mut()).poll_read(cx, buf)
    }
}

impl futures::io::AsyncWrite for NetStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(self.io.get_mut()).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(self.io.get_mut()).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(self.io.get_mut()).poll_close(cx)
    }
}

/// The streams a node accepts on one protocol, in the order their openers
/// were told they are admitted. Drop it to stop accepting (the protocol is
/// then no longer offered).
#[derive(Debug)]
pub struct Incoming {
    protocol: StreamProtocol,
    queue: mpsc::Receiver<NetStream>,
}

impl Incoming {
    /// The next accepted stream; `None` once the node has stopped.
    pub async fn next(&mut self) -> Option<NetStream> {
        self.queue.recv().await
    }

    /// The protocol accepted.
    pub fn protocol(&self) -> &StreamProtocol {
        &self.protocol
    }
}

impl futures::Stream for Incoming {
    type Item = NetStream;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<NetStream>> {
        self.queue.poll_recv(cx)
    }
}

/// Starts the pump that drains `libp2p-stream`'s one-slot channel for
/// `protocol` into a queue of `queue_len`, admitting each stream against
/// `budget` and answering its opener within `answer_within`, until the
/// `Incoming` is dropped or the node stops (`alive` closes).
pub(crate) fn accept(
    runtime: &tokio::runtime::Handle,
    streams: libp2p_stream::IncomingStreams,
    protocol: StreamProtocol,
    budget: StreamBudget,
    (queue_len, answer_within): (usize, std::time::Duration),
    alive: watch::Receiver<()>,
) -> Incoming {
    let (sender, queue) = mpsc::channel(queue_len.max(1));
    let span = tracing::debug_span!("accept", %protocol);
    let pump = Pump {
        protocol: protocol.clone(),
        budget,
        sender,
        answer_within,
        runtime: runtime.clone(),
    };
    runtime.spawn(pump.run(streams, alive).instrument(span));
    Incoming { protocol, queue }
}

struct Pump {
    protocol: StreamProtocol,
    budget: StreamBudget,
    sender: mpsc::Sender<NetStream>,
    answer_within: std::time::Duration,
    runtime: tokio::runtime::Handle,
}

impl Pump {
    async fn run(
        self,
        mut streams: libp2p_stream::IncomingStreams,
        mut alive: watch::Receiver<()>,
    ) {
        loop {
            let (peer, stream) = tokio::select! {
                () = self.sender.closed() => break,
                Err(_) = alive.changed() => break,
                next = streams.next() => match next {
                    Some(next) => next,
                    None => break,
                },
            };
            self.admit(peer, stream);
        }
        tracing::debug!("no longer accepting");
    }

    /// Takes a place in the budget and in the queue for `stream`, then
    /// answers its opener — in a task of its own, so that no opener can
    /// stall the pump — and queues it; or refuses it, saying which bound.
    fn admit(&self, peer: PeerId, stream: libp2p::Stream) {
        let within = self.answer_within;
        let refused = |why: Refusal, stream| {
            tracing::debug!(%peer, %why, "inbound stream refused");
            self.runtime
                .spawn(admission::refuse(stream, why, within).in_current_span());
        };
        let permit = match self
            .budget
            .try_admit(peer, &self.protocol, Direction::Inbound)
        {
            Ok(permit) => permit,
            Err(why) => return refused(why, stream),
        };
        let slot = match self.sender.clone().try_reserve_owned() {
            Ok(slot) => slot,
            Err(mpsc::error::TrySendError::Full(_)) => return refused(Refusal::QueueFull, stream),
            Err(mpsc::error::TrySendError::Closed(_)) => return,
        };
        let protocol = self.protocol.clone();
        let answered = async move {
            let mut stream = stream;
            match admission::admit(&mut stream, within).await {
                Ok(()) => {
                    slot.send(NetStream::new(
                        stream,
                        peer,
                        protocol,
                        Direction::Inbound,
                        permit,
                    ));
                }
                Err(error) => tracing::debug!(%peer, %error, "the opener left before its answer"),
            }
        };
        self.runtime.spawn(answered.in_current_span());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_bounds_per_peer_direction_and_protocol() {
        let budget = StreamBudget::new(2, 3);
        let proto = StreamProtocol::new("/t/1");
        let (a, b) = (
            crate::peer_id_from_seed(&[1; 32]),
            crate::peer_id_from_seed(&[2; 32]),
        );
        let first = budget.admit(a, &proto, Direction::Inbound).unwrap();
        let _second = budget.admit(a, &proto, Direction::Inbound).unwrap();
        let Err(refused) = budget.admit(a, &proto, Direction::Inbound) else {
            panic!("a third inbound stream is refused")
        };
        assert_eq!(refused.kind(), "stream-limit");
        // The other direction and another protocol have their own counts.
        let _out = budget.admit(a, &proto, Direction::Outbound).unwrap();
        let _other = budget
            .admit(a, &StreamProtocol::new("/t/2"), Direction::Inbound)
            .unwrap();
        // Three inbound on one protocol from all peers.
        let _third = budget.admit(b, &proto, Direction::Inbound).unwrap();
        assert!(budget.admit(b, &proto, Direction::Inbound).is_err());
        drop(first);
        let _again = budget.admit(a, &proto, Direction::Inbound).unwrap();
    }
}
