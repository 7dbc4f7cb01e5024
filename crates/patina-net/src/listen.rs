//! The addresses a node listens on, published from the swarm task to every
//! handle: ready once each listener has reported an address (or closed).
//!
//! This module only keeps the list; it must never open or close a listener.

use libp2p::Multiaddr;
use libp2p::core::transport::ListenerId;
use tokio::sync::watch;

/// What the handles see.
#[derive(Clone, Debug, Default)]
pub(crate) struct ListenState {
    pub(crate) addrs: Vec<Multiaddr>,
    pub(crate) ready: bool,
}

#[derive(Default)]
struct Listener {
    addrs: Vec<Multiaddr>,
    closed: bool,
}

/// Each listener's addresses, kept by the swarm task.
pub(crate) struct Listeners {
    /// In the order they were opened.
    listeners: Vec<(ListenerId, Listener)>,
    publish: watch::Sender<ListenState>,
}

impl Listeners {
    /// The listeners just opened, and what handles watch.
    pub(crate) fn new(ids: &[ListenerId]) -> (Self, watch::Receiver<ListenState>) {
        let (publish, watch) = watch::channel(ListenState::default());
        let listeners = ids.iter().map(|id| (*id, Listener::default())).collect();
        let this = Self { listeners, publish };
        this.publish();
        (this, watch)
    }

    fn publish(&self) {
        let state = ListenState {
            addrs: self
                .listeners
                .iter()
                .flat_map(|(_, l)| l.addrs.iter().cloned())
                .collect(),
            ready: self
                .listeners
                .iter()
                .all(|(_, l)| l.closed || !l.addrs.is_empty()),
        };
        self.publish.send_replace(state);
    }

    fn get(&mut self, id: ListenerId) -> Option<&mut Listener> {
        self.listeners
            .iter_mut()
            .find(|(known, _)| *known == id)
            .map(|(_, l)| l)
    }

    pub(crate) fn added(&mut self, id: ListenerId, addr: Multiaddr) {
        tracing::debug!(%addr, "listening");
        if let Some(listener) = self.get(id)
            && !listener.addrs.contains(&addr)
        {
            listener.addrs.push(addr);
        }
        self.publish();
    }

    pub(crate) fn expired(&mut self, id: ListenerId, addr: &Multiaddr) {
        if let Some(listener) = self.get(id) {
            listener.addrs.retain(|a| a != addr);
        }
        self.publish();
    }

    pub(crate) fn closed(&mut self, id: ListenerId) {
        if let Some(listener) = self.get(id) {
            listener.closed = true;
            listener.addrs.clear();
        }
        self.publish();
    }
}
