//! A Mother provides the ids of the children it holds: it announces each on
//! the DHT when it starts, again every `provide_interval`, and again shortly
//! after new peers connect (so a Mother that joined an empty network is
//! found once others arrive). A child fetched from a peer is announced as
//! soon as it is stored.
//!
//! Announcing is all this module does; it must never keep the node alive
//! (it holds it weakly) nor block a run on the DHT.

use std::sync::Weak;
use std::time::Duration;

use patina_net::PeerEvent;
use tokio::sync::broadcast::error::RecvError;

use crate::node::NodeInner;

/// How long after a connection more connections are waited for before the
/// children are announced again (a network forming brings many at once).
const SETTLE: Duration = Duration::from_millis(500);

/// Announces the held children until the node is gone.
pub(crate) async fn provide_loop(node: Weak<NodeInner>, interval: Duration) {
    let Some(mut events) = node.upgrade().map(|node| node.net.subscribe()) else {
        return;
    };
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            event = events.recv() => match event {
                Ok(PeerEvent::Connected { .. }) | Err(RecvError::Lagged(_)) => {
                    tokio::time::sleep(SETTLE).await;
                    while events.try_recv().is_ok() {}
                }
                Ok(PeerEvent::Disconnected { .. }) => continue,
                Err(RecvError::Closed) => break,
            },
        }
        let Some(node) = node.upgrade() else { break };
        node.provide_held().await;
    }
    tracing::debug!("no longer providing");
}
