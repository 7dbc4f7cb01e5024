//! The peer id is the Mother's key: made from the seed `Identity::from_seed`
//! takes, and seen as such by the other end of a connection.

use patina_net::{ed25519_to_peer_id, peer_id_from_seed, peer_id_to_ed25519};
use patina_receipts::Identity;

use crate::{bounded, connect, node};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_peer_id_is_the_mothers_key() {
    bounded(async {
        let a = node(11).await;
        let b = node(12).await;
        let mother = Identity::from_seed([11; 32]);
        assert_eq!(a.local_peer_id(), peer_id_from_seed(&[11; 32]));
        assert_eq!(
            peer_id_to_ed25519(&a.local_peer_id()),
            Some(*mother.id().bytes())
        );
        assert_eq!(
            ed25519_to_peer_id(mother.id().bytes()),
            Some(a.local_peer_id())
        );

        // The peer that answered is the one the other side authenticated,
        // and its key is the Mother's.
        let answered = connect(&b, &a).await;
        assert_eq!(answered, a.local_peer_id());
        let seen = b.peers().await.unwrap();
        assert_eq!(seen.len(), 1);
        assert_eq!(
            peer_id_to_ed25519(&seen[0].peer),
            Some(*mother.id().bytes())
        );
        a.shutdown().await;
        b.shutdown().await;
    })
    .await;
}
