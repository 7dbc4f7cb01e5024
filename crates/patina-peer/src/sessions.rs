//! The calling side of `/patina/membrane/0.1.0`: one Cap'n Proto session
//! per peer on one long-lived stream, opened on first use and reused by
//! every call after it (a stream per request costs several times more).
//!
//! Cap'n Proto is `!Send`, so each session lives on a thread of its own
//! behind a `Send` [`SessionHandle`], whose RPC driver runs before the
//! bootstrap capability is used. Concurrent first calls to one peer wait
//! for one connect. A session whose connection broke is forgotten, and the
//! next call opens a new one. This module moves calls; it must never
//! decide what they ask for (the peer's membrane does).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use patina_membrane::{Connection, RemoteError, SessionHandle};
use patina_net::{NetHandle, PeerId};

use crate::PeerError;
use crate::inbound::MEMBRANE_PROTOCOL;

/// Calls one session carries at once; more wait here for a place. A peer's
/// membrane admits 64 runs in flight per caller by default: staying under
/// it means a burst of calls queues instead of failing `busy`.
pub(crate) const CALLS_PER_SESSION: usize = 32;

/// A live session with one peer.
#[derive(Clone)]
pub(crate) struct Live {
    id: u64,
    pub(crate) handle: SessionHandle,
    /// Places for calls in flight on it.
    pub(crate) calls: Arc<tokio::sync::Semaphore>,
}

type Slot = Arc<tokio::sync::Mutex<Option<Live>>>;

/// The sessions this node holds with its peers.
pub(crate) struct Sessions {
    net: NetHandle,
    slots: Mutex<HashMap<PeerId, Slot>>,
    next: AtomicU64,
}

impl Sessions {
    pub(crate) fn new(net: NetHandle) -> Self {
        Self {
            net,
            slots: Mutex::new(HashMap::new()),
            next: AtomicU64::new(0),
        }
    }

    fn slot(&self, peer: PeerId) -> Slot {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        Arc::clone(slots.entry(peer).or_default())
    }

    /// The session with `peer` (connected, Noise-authenticated), opening
    /// it if there is none.
    pub(crate) async fn get(&self, peer: PeerId) -> Result<Live, PeerError> {
        let slot = self.slot(peer);
        let mut held = slot.lock().await;
        if let Some(live) = held.as_ref() {
            return Ok(live.clone());
        }
        let net = self.net.clone();
        // Opening is bounded as a whole (the stream, then the peer's answers
        // to `explain` and `graft`): a peer that admits the stream and then
        // says nothing holds neither this slot nor the session's thread.
        let bound = net.config().dial_timeout.saturating_mul(2);
        let handle = SessionHandle::spawn(move || async move {
            let open = async {
                let stream = net
                    .open_stream(peer, MEMBRANE_PROTOCOL)
                    .await
                    .map_err(|e| RemoteError::new(e.kind(), e.to_string()))?;
                Connection::open(stream).authenticated().await
            };
            tokio::time::timeout(bound, open).await.unwrap_or_else(|_| {
                Err(RemoteError::new(
                    "timeout",
                    format!("no membrane session within {bound:?}"),
                ))
            })
        })
        .await
        .map_err(|error| match error.kind.as_str() {
            "timeout" => PeerError::Timeout {
                peer: peer.to_string(),
                after: bound,
            },
            _ => opening_failed(peer, error),
        })?;
        tracing::debug!(%peer, role = handle.role(), "membrane session opened");
        let live = Live {
            id: self.next.fetch_add(1, Ordering::Relaxed),
            handle,
            calls: Arc::new(tokio::sync::Semaphore::new(CALLS_PER_SESSION)),
        };
        *held = Some(live.clone());
        Ok(live)
    }

    /// The session with `peer` if one is open now: no dial and no round
    /// trip to the swarm (a session whose connection broke fails its next
    /// call, is forgotten, and the call after it dials again).
    pub(crate) fn open_now(&self, peer: PeerId) -> Option<Live> {
        let slot = self
            .slots
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&peer)
            .cloned()?;
        // Held by an opening in progress: not open yet.
        let held = slot.try_lock().ok()?;
        held.clone()
    }

    /// Forgets `live` (its connection broke), unless a newer session took
    /// its place already.
    pub(crate) async fn forget(&self, peer: PeerId, live: &Live) {
        let slot = self.slot(peer);
        let mut held = slot.lock().await;
        if held.as_ref().is_some_and(|current| current.id == live.id) {
            *held = None;
            tracing::debug!(%peer, "membrane session forgotten");
        }
    }

    /// Drops every session (their threads end).
    pub(crate) fn clear(&self) {
        self.slots.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}

/// Why a session could not be opened: the peer's refusal keeps its kind
/// (`unauthenticated`: its policy does not name this Mother), anything
/// else is `peer-unreachable`.
fn opening_failed(peer: PeerId, error: RemoteError) -> PeerError {
    match error.kind.as_str() {
        "unauthenticated" | "busy" => PeerError::Remote {
            peer,
            error: Box::new(error),
        },
        _ => PeerError::Unreachable {
            peer,
            reason: error.message,
        },
    }
}
