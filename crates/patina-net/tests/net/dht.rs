//! The DHT: twenty nodes bootstrapped as a chain on loopback; the last one
//! provides a blob, the first one finds it through Kademlia and fetches it.

use std::sync::Arc;

use futures::future::join_all;
use patina_net::{Digest, MemoryBlobs, NetConfig, NetHandle};

use crate::{addr_of, bounded, bytes, heavy, node_with};

/// `count` nodes on TCP, each bootstrapping from the one before it (a chain),
/// then each refreshing its routing table.
pub async fn chain(count: u8, first_seed: u8) -> Vec<NetHandle> {
    let mut nodes: Vec<NetHandle> = Vec::new();
    for i in 0..count {
        let mut config = NetConfig::loopback();
        // TCP only: QUIC is tested on its own; here it would only double the dials.
        config.listen.retain(|a| a.to_string().contains("/tcp/"));
        if let Some(before) = nodes.last() {
            config.bootstrap = vec![addr_of(before, "tcp").await];
        }
        nodes.push(node_with(first_seed + i, config).await);
    }
    // A refresh that times out on a busy machine still filled the tables
    // with whoever answered; the lookups below say whether that sufficed.
    join_all(nodes.iter().map(|n| n.bootstrap())).await;
    nodes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_nodes_one_finds_a_provider_through_the_dht() {
    let _heavy = heavy().await;
    bounded(async {
        let nodes = chain(20, 100).await;
        let (seeker, provider) = (&nodes[0], &nodes[19]);

        let store = MemoryBlobs::new();
        let blob = bytes(100_000, 5);
        let digest = store.insert(blob.clone());
        provider.serve_blobs(Arc::new(store)).unwrap();
        provider.provide(digest).await.expect("provide");

        // The seeker drops any connection to the provider: it must learn
        // where the provider is from the DHT.
        seeker.disconnect(provider.local_peer_id()).await.unwrap();
        let found = seeker.find_providers(digest, 1).await.expect("find");
        assert_eq!(found, vec![provider.local_peer_id()]);
        assert_eq!(seeker.fetch_blob(digest).await.unwrap(), blob);

        // Nobody provides another key.
        let nobody = seeker.find_providers(Digest::of(b"nobody"), 1).await;
        assert_eq!(nobody.unwrap(), vec![]);
        let error = seeker.fetch_blob(Digest::of(b"nobody")).await.unwrap_err();
        assert_eq!(error.kind(), "no-providers");

        for node in nodes {
            node.shutdown().await;
        }
    })
    .await;
}
