//! The serving side of `/patina/membrane/0.1.0`: every stream a peer opens
//! is one Cap'n Proto session, served with
//! [`MembraneServer::serve_as`] under the key Noise proved for that peer
//! (its peer id *is* its Ed25519 key), through the door `peer` — so the
//! policy decides per peer key what it gets, and a peer the policy does not
//! name gets nothing.
//!
//! Cap'n Proto RPC is single-threaded, so the sessions live on one thread
//! of their own (a current-thread runtime with a `LocalSet`); the Mother's
//! work still runs on the multi-thread runtime. The accept loop keeps
//! draining the node's queue and bounds the sessions one peer may hold.
//! This module must never decide what a peer may do: it only says who the
//! peer is.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use patina_membrane::{CallerKey, MembraneServer};
use patina_net::{Incoming, NetStream, PeerId, StreamProtocol, peer_id_to_ed25519};
use tokio::sync::mpsc;
use tracing::Instrument as _;

use crate::PeerError;

/// The protocol one membrane session per peer rides, on one long-lived stream.
pub const MEMBRANE_PROTOCOL: StreamProtocol = StreamProtocol::new("/patina/membrane/0.1.0");

/// The membrane sessions each peer holds here now.
#[derive(Clone, Default)]
struct SessionCounts(Arc<Mutex<HashMap<PeerId, usize>>>);

/// One peer's place among its sessions; given back on drop.
struct SessionSlot {
    counts: SessionCounts,
    peer: PeerId,
}

impl SessionCounts {
    fn take(&self, peer: PeerId, bound: usize) -> Option<SessionSlot> {
        let mut counts = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let live = counts.entry(peer).or_default();
        if *live >= bound {
            return None;
        }
        *live += 1;
        Some(SessionSlot {
            counts: self.clone(),
            peer,
        })
    }
}

impl Drop for SessionSlot {
    fn drop(&mut self) {
        let mut counts = self.counts.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(live) = counts.get_mut(&self.peer) {
            *live = live.saturating_sub(1);
            if *live == 0 {
                counts.remove(&self.peer);
            }
        }
    }
}

type Job = (NetStream, CallerKey, SessionSlot);

/// Serves every membrane stream `incoming` accepts, at most `per_peer` at
/// once from one peer, until the node stops.
pub(crate) fn serve(
    incoming: Incoming,
    server: MembraneServer,
    per_peer: usize,
) -> Result<(), PeerError> {
    let (jobs, queue) = mpsc::unbounded_channel::<Job>();
    std::thread::Builder::new()
        .name("peer-membrane".into())
        .spawn(move || sessions_thread(server, queue))
        .map_err(|source| PeerError::Io {
            context: "starting the membrane thread".into(),
            source,
        })?;
    tokio::spawn(accept_loop(incoming, jobs, per_peer.max(1)));
    Ok(())
}

async fn accept_loop(mut incoming: Incoming, jobs: mpsc::UnboundedSender<Job>, per_peer: usize) {
    let counts = SessionCounts::default();
    while let Some(stream) = incoming.next().await {
        let peer = stream.peer();
        let Some(key) = peer_id_to_ed25519(&peer) else {
            tracing::debug!(%peer, "membrane stream closed: the peer id is not an Ed25519 key");
            continue;
        };
        let Some(slot) = counts.take(peer, per_peer) else {
            tracing::debug!(%peer, per_peer, "membrane stream closed: the peer holds its sessions already");
            continue;
        };
        if jobs.send((stream, CallerKey(key), slot)).is_err() {
            break;
        }
    }
    tracing::debug!("no longer serving the membrane to peers");
}

/// The thread the sessions live on, until the accept loop ends.
fn sessions_thread(server: MembraneServer, mut queue: mpsc::UnboundedReceiver<Job>) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            tracing::error!(%error, "the membrane thread has no runtime: peers are not served");
            return;
        }
    };
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async move {
        while let Some((stream, key, slot)) = queue.recv().await {
            let span = stream.span().clone();
            let serving = server.serve_as(stream, key, "peer");
            tokio::task::spawn_local(
                async move {
                    let _slot = slot;
                    let _ = serving.await;
                }
                .instrument(span),
            );
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_peer_holds_at_most_its_bound_of_sessions() {
        let counts = SessionCounts::default();
        let (a, b) = (
            patina_net::peer_id_from_seed(&[1; 32]),
            patina_net::peer_id_from_seed(&[2; 32]),
        );
        let first = counts.take(a, 2).unwrap();
        let _second = counts.take(a, 2).unwrap();
        assert!(counts.take(a, 2).is_none(), "a third session is refused");
        let _other = counts.take(b, 2).expect("another peer has its own bound");
        drop(first);
        assert!(counts.take(a, 2).is_some(), "a freed place is taken again");
    }
}
