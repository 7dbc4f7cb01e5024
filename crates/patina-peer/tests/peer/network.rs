//! A network of Mothers without a broker: twenty Mothers joined in a chain
//! (each bootstraps from the one before it) find the one that provides a
//! child through the DHT and fetch it from there, verified.

use patina_core::ChildId;
use patina_peer::{PeerConfig, PeerTarget};

use crate::{Home, Peer, child_id, policy, within};

const MOTHERS: usize = 20;

#[test]
fn twenty_mothers_in_a_chain_find_a_provider() {
    within(|| async {
        let homes: Vec<Home> = (0..MOTHERS).map(|_| Home::new()).collect();
        let first = &homes[0];
        let last = &homes[MOTHERS - 1];
        last.install("calc").await;
        let calc: ChildId = child_id("calc").parse().unwrap();
        let mut peers: Vec<Peer> = Vec::new();
        for (n, home) in homes.iter().enumerate() {
            let mut config = PeerConfig::loopback();
            if let Some(PeerTarget::Addr(before)) = match peers.last() {
                Some(peer) => Some(peer.addr().await),
                None => None,
            } {
                config.bootstrap.push(before);
            }
            // The holder lets the first Mother fetch what it holds.
            let text = if n == MOTHERS - 1 {
                policy(&[(&first.key(), "runner")], "")
            } else {
                policy(&[], "")
            };
            peers.push(home.serve(&text, config).await);
        }
        // The holder announces once it has joined; the far end looks it up.
        let holder = &peers[MOTHERS - 1].node;
        let seeker = &peers[0].node;
        let mut reached = 0;
        for _ in 0..20 {
            reached = holder.provide_held().await;
            if reached == 1 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
        assert_eq!(reached, 1, "the holder's announcement reached the DHT");
        let mut found = Vec::new();
        for _ in 0..20 {
            found = seeker.find(calc, 4).await.unwrap_or_default();
            if !found.is_empty() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
        assert_eq!(found, vec![last.peer_id()], "the DHT names the holder");
        let bytes = seeker
            .fetch_child(calc, None)
            .await
            .expect("fetched from the provider the DHT named");
        assert_eq!(ChildId::of(&bytes), calc);
        for peer in peers {
            peer.node.shutdown().await;
        }
    });
}
