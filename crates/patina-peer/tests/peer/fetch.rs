//! Children move by content: a Mother asked to run a child it lacks fetches
//! it from the asking peer or from a provider the DHT names, verified by its
//! id before it is stored; a provider serving other bytes is caught and the
//! next one used; bytes nobody serves rightly are never run.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use patina_membrane::{CallerKey, Connection, RemoteError, SessionHandle};
use patina_mother::RunOutcome;
use patina_net::{BlobBody, BlobSource, Digest, NetConfig, NetHandle, PeerId};
use patina_peer::{MEMBRANE_PROTOCOL, PeerConfig};

use crate::{Home, child_id, policy, wave, within};

#[test]
fn a_child_is_fetched_from_a_third_mother_found_through_the_dht() {
    within(|| async {
        let (a, b, c) = (Home::new(), Home::new(), Home::new());
        let calc = child_id("calc");
        c.install("calc").await;
        let caller = a.serve(&policy(&[], ""), PeerConfig::loopback()).await;
        let on_b = b
            .serve(&policy(&[(&a.key(), "runner")], ""), PeerConfig::loopback())
            .await;
        let holder = c
            .serve(&policy(&[(&b.key(), "runner")], ""), PeerConfig::loopback())
            .await;
        on_b.node
            .reach(&holder.addr().await)
            .await
            .expect("B knows C");
        assert_eq!(holder.node.provide_held().await, 1, "C announces calc");

        // A does not hold calc: B asks A first (it has nothing), then the DHT.
        let ran = caller
            .node
            .run_on(&on_b.addr().await, wave(&calc, "add(4, 5)"))
            .await
            .expect("B fetched calc from C and ran it");
        assert!(
            matches!(&ran.run.summary.outcome, RunOutcome::Returned { wave, .. } if wave == "9"),
            "{:?}",
            ran.run.summary.outcome
        );
        let id = calc.parse().unwrap();
        assert!(b.mother.children().contains(&id));
        assert!(!a.mother.children().contains(&id));
        for peer in [caller, on_b, holder] {
            peer.node.shutdown().await;
        }
    });
}

/// Serves the same other bytes for every digest, counting the askers.
struct Liar {
    bytes: Arc<[u8]>,
    asked: Arc<AtomicUsize>,
}

#[async_trait::async_trait]
impl BlobSource for Liar {
    async fn blob(&self, _: &PeerId, _: &Digest) -> std::io::Result<Option<BlobBody>> {
        self.asked.fetch_add(1, Ordering::SeqCst);
        Ok(Some(BlobBody::shared(Arc::clone(&self.bytes))))
    }
}

/// A bare node with a lying blob source and a membrane session to `peer`.
async fn liar_with_session(
    peer: &patina_peer::PeerTarget,
) -> (NetHandle, Arc<AtomicUsize>, SessionHandle) {
    let net = NetHandle::start(&[77; 32], NetConfig::loopback())
        .await
        .expect("the liar's node");
    let asked = Arc::new(AtomicUsize::new(0));
    let lies = Liar {
        bytes: crate::child_bytes("hello-log").into(),
        asked: Arc::clone(&asked),
    };
    net.serve_blobs(Arc::new(lies)).expect("serving");
    let patina_peer::PeerTarget::Addr(addr) = peer else {
        panic!("an address")
    };
    let to = net.dial(addr.clone()).await.expect("dialled");
    let dialer = net.clone();
    let session = SessionHandle::spawn(move || async move {
        let stream = dialer
            .open_stream(to, MEMBRANE_PROTOCOL)
            .await
            .map_err(|e| RemoteError::new(e.kind(), e.to_string()))?;
        Connection::open(stream).authenticated().await
    })
    .await
    .expect("a session");
    (net, asked, session)
}

fn liar_key() -> String {
    let peer = patina_net::peer_id_from_seed(&[77; 32]);
    CallerKey(patina_net::peer_id_to_ed25519(&peer).unwrap()).to_string()
}

#[test]
fn a_provider_serving_other_bytes_is_caught_and_the_next_one_used() {
    within(|| async {
        let (b, c) = (Home::new(), Home::new());
        let calc = child_id("calc");
        c.install("calc").await;
        let on_b = b
            .serve(
                &policy(&[(&liar_key(), "runner")], ""),
                PeerConfig::loopback(),
            )
            .await;
        let holder = c
            .serve(&policy(&[(&b.key(), "runner")], ""), PeerConfig::loopback())
            .await;
        on_b.node
            .reach(&holder.addr().await)
            .await
            .expect("B knows C");
        assert_eq!(holder.node.provide_held().await, 1);
        let (liar, asked, session) = liar_with_session(&on_b.addr().await).await;

        // B asks the liar (who asked) first: other bytes, caught; then C.
        let spec = wave(&calc, "add(20, 22)");
        let ran = session
            .call(move |s| async move { s.run(&spec).await })
            .await
            .expect("B ran calc, from C's bytes");
        assert!(
            matches!(&ran.summary.outcome, RunOutcome::Returned { wave, .. } if wave == "42"),
            "{:?}",
            ran.summary.outcome
        );
        assert!(
            asked.load(Ordering::SeqCst) >= 1,
            "the liar was asked first"
        );
        assert_eq!(ran.summary.child.to_string(), calc);

        // A child only the liar "serves": refused, each provider named; never run.
        let absent = child_id("clock-random");
        let spec = wave(&absent, "now()");
        let error = session
            .call(move |s| async move { s.run(&spec).await })
            .await
            .expect_err("nobody serves the right bytes");
        assert_eq!(error.kind, "child-unavailable", "{error:?}");
        assert!(error.message.contains("served other bytes"), "{error:?}");
        assert!(!b.mother.children().contains(&absent.parse().unwrap()));
        drop(session);
        liar.shutdown().await;
        for peer in [on_b, holder] {
            peer.node.shutdown().await;
        }
    });
}

#[test]
fn a_child_over_the_size_cap_is_refused() {
    within(|| async {
        let (a, b) = (Home::new(), Home::new());
        let calc = a.install("calc").await;
        let caller = a.serve(&policy(&[], ""), PeerConfig::loopback()).await;
        let mut small = PeerConfig::loopback();
        small.max_child_size = 1024;
        let on_b = b.serve(&policy(&[(&a.key(), "runner")], ""), small).await;
        let error = caller
            .node
            .run_on(&on_b.addr().await, wave(&calc, "add(1, 1)"))
            .await
            .expect_err("calc is larger than 1 KiB");
        assert_eq!(error.kind(), "child-unavailable", "{error}");
        assert!(
            error.to_string().contains("over the cap of 1024"),
            "{error}"
        );
        assert!(!b.mother.children().contains(&calc.parse().unwrap()));
        for peer in [caller, on_b] {
            peer.node.shutdown().await;
        }
    });
}
