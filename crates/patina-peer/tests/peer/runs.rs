//! The same child bytes run on peer Mothers under their own policies and
//! come back with each peer's signed receipt, verified, kept and replayable
//! here; every call to a peer rides one session on one stream.

use patina_mother::{ReceiptRef, RunOutcome};
use patina_peer::PeerConfig;

use crate::{Home, policy, wave, within};

#[test]
fn two_peers_run_the_same_call_alike_and_each_signs_its_own_receipt() {
    within(|| async {
        let (a, b, c) = (Home::new(), Home::new(), Home::new());
        let calc = a.install("calc").await;
        let runner = policy(&[(&a.key(), "runner")], "");
        let caller = a.serve(&policy(&[], ""), PeerConfig::loopback()).await;
        let on_b = b.serve(&runner, PeerConfig::loopback()).await;
        let on_c = c.serve(&runner, PeerConfig::loopback()).await;

        let mut receipts = Vec::new();
        for (peer, home) in [(&on_b, &b), (&on_c, &c)] {
            // Asked by name: sent as its id; the peer lacks it and fetches it from A.
            let ran = caller
                .node
                .run_on(&peer.addr().await, wave("calc", "add(2, 3)"))
                .await
                .expect("the peer ran it");
            assert_eq!(ran.peer, home.peer_id());
            assert!(
                matches!(&ran.run.summary.outcome, RunOutcome::Returned { wave, .. } if wave == "5"),
                "{:?}",
                ran.run.summary.outcome
            );
            assert!(ran.imported, "the receipt is new here");
            let receipt = ran.run.receipt.expect("a recorded run has a receipt");
            // Signed by the very peer that answered.
            assert_eq!(receipt.mother, home.mother.identity().id());
            assert_eq!(receipt.transcript.child.to_string(), calc);
            let caller_id = receipt
                .caller
                .as_ref()
                .expect("the receipt names its caller");
            assert_eq!(caller_id.id, format!("ed25519:{}", a.key()));
            assert_eq!(
                (caller_id.role.as_str(), caller_id.door.as_str()),
                ("runner", "peer")
            );
            // The peer holds the child now (fetched by digest and verified).
            assert!(home.mother.children().contains(&receipt.transcript.child));
            receipts.push(receipt);
        }
        let (from_b, from_c) = (&receipts[0], &receipts[1]);
        assert_eq!(from_b.transcript_hash, from_c.transcript_hash);
        assert_ne!(from_b.id, from_c.id);
        assert_ne!(from_b.mother, from_c.mother);

        // Kept here: verified again from the store, and replayed here.
        for receipt in &receipts {
            let id = ReceiptRef::Stored(receipt.id.to_string());
            let verified = a
                .mother
                .verify_receipt(&id)
                .await
                .expect("it verifies here");
            assert_eq!(verified.receipt.id, receipt.id);
            let replayed = a.mother.replay(&id).await.expect("it replays here");
            assert!(
                replayed.replay.matched(),
                "{:?}",
                replayed.replay.divergence
            );
        }
        for peer in [caller, on_b, on_c] {
            peer.node.shutdown().await;
        }
    });
}

#[test]
fn every_call_to_a_peer_rides_one_session() {
    within(|| async {
        let (a, b) = (Home::new(), Home::new());
        a.install("calc").await;
        let caller = a.serve(&policy(&[], ""), PeerConfig::loopback()).await;
        // B admits one membrane session per peer: a second one would be closed.
        let mut one = PeerConfig::loopback();
        one.sessions_per_peer = 1;
        let on_b = b.serve(&policy(&[(&a.key(), "runner")], ""), one).await;
        let target = on_b.addr().await;
        for n in 0..3 {
            let ran = caller
                .node
                .run_on(&target, wave("calc", &format!("add({n}, 1)")))
                .await
                .expect("a run in turn");
            assert!(ran.run.receipt.is_some());
        }
        let runs = (0..16).map(|n| {
            let node = caller.node.clone();
            let target = target.clone();
            tokio::spawn(async move {
                node.run_on(&target, wave("calc", &format!("add({n}, 2)")))
                    .await
            })
        });
        for (n, run) in futures::future::join_all(runs)
            .await
            .into_iter()
            .enumerate()
        {
            let ran = run.expect("the task").expect("a concurrent run");
            let expected = (n + 2).to_string();
            assert!(
                matches!(&ran.run.summary.outcome, RunOutcome::Returned { wave, .. } if *wave == expected),
                "{:?}",
                ran.run.summary.outcome
            );
        }
        for peer in [caller, on_b] {
            peer.node.shutdown().await;
        }
    });
}

#[test]
fn a_child_pushed_to_a_peer_that_may_install_is_held_there() {
    within(|| async {
        let (a, b) = (Home::new(), Home::new());
        let id = a.install("hello-log").await;
        let caller = a.serve(&policy(&[], ""), PeerConfig::loopback()).await;
        let on_b = b
            .serve(&policy(&[(&a.key(), "runner")], ""), PeerConfig::loopback())
            .await;
        let child = id.parse().expect("an id");
        let installed = caller
            .node
            .push(&on_b.addr().await, child)
            .await
            .expect("pushed");
        assert_eq!(installed.child, child);
        assert!(b.mother.children().contains(&child));
        // Run by its id there, with the grant the runner role allows.
        let mut spec = wave(&id, "greet(\"ann\")");
        spec.grants.push("log".into());
        let ran = caller
            .node
            .run_on(&on_b.addr().await, spec)
            .await
            .expect("ran");
        assert_eq!(ran.run.summary.logs.len(), 1, "{:?}", ran.run.summary.logs);
        for peer in [caller, on_b] {
            peer.node.shutdown().await;
        }
    });
}
