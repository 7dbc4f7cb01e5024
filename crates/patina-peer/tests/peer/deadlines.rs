//! The caller's deadline: it is the run's deadline on the peer, and it
//! bounds the caller — reaching the peer and the peer's fetching count
//! against it, so a stalled peer is an error within the deadline and the
//! grace, not a hang; a peer that goes away mid-run is a clear error at once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use patina_core::ChildId;
use patina_mother::RunOutcome;
use patina_net::{BlobBody, BlobSource, Digest, NetConfig, NetHandle, PeerId};
use patina_peer::PeerConfig;

use crate::{Home, child_id, policy, wave, within};

#[test]
fn the_callers_deadline_is_the_runs_deadline_on_the_peer() {
    within(|| async {
        let (a, b) = (Home::new(), Home::new());
        let limits = a.install("limits").await;
        let caller = a.serve(&policy(&[], ""), PeerConfig::loopback()).await;
        // A fuel budget no spin can burn within the test's bound, so the
        // deadline is what stops the run however slow or busy the machine is
        // (at the default budget a loaded CI machine once saw out-of-fuel).
        let roles = "[roles.spinner]\nmethods = [\"runtime.*\"]\nchildren = [\"*\"]\n\
                     limits = { fuel = 1000000000000000 }\n";
        let on_b = b
            .serve(
                &policy(&[(&a.key(), "spinner")], roles),
                PeerConfig::loopback(),
            )
            .await;
        let mut spec = wave(&limits, "spin()");
        spec.limits.timeout_ms = Some(1_000);
        spec.limits.fuel = Some(1_000_000_000_000_000);
        let ran = caller
            .node
            .run_on(&on_b.addr().await, spec)
            .await
            .expect("the peer answered");
        assert!(
            matches!(&ran.run.summary.outcome, RunOutcome::Failed { error } if error.kind == "deadline-exceeded"),
            "{:?}",
            ran.run.summary.outcome
        );
        let receipt = ran.run.receipt.expect("a failed run has its receipt too");
        assert_eq!(
            receipt.transcript.call.limits.timeout,
            Duration::from_secs(1)
        );
        for peer in [caller, on_b] {
            peer.node.shutdown().await;
        }
    });
}

/// A provider that never sends a byte.
struct Stall;

#[async_trait::async_trait]
impl BlobSource for Stall {
    async fn blob(&self, _: &PeerId, _: &Digest) -> std::io::Result<Option<BlobBody>> {
        tokio::time::sleep(Duration::from_secs(60)).await;
        Ok(None)
    }
}

#[test]
fn a_peer_stalled_fetching_the_child_is_an_error_within_the_deadline() {
    within(|| async {
        let (a, b) = (Home::new(), Home::new());
        let calc: ChildId = child_id("calc").parse().unwrap();
        let mut quick = PeerConfig::loopback();
        quick.run_grace = Duration::from_millis(500);
        let caller = a.serve(&policy(&[], ""), quick).await;
        let on_b = b
            .serve(&policy(&[(&a.key(), "runner")], ""), PeerConfig::loopback())
            .await;
        // The only provider of calc stalls (B would wait 10 s per frame).
        let staller = NetHandle::start(&[88; 32], NetConfig::loopback())
            .await
            .unwrap();
        staller.serve_blobs(Arc::new(Stall)).unwrap();
        let addr = staller.listen_addrs().await.unwrap()[0].clone();
        on_b.node
            .reach(&patina_peer::PeerTarget::Addr(patina_net::with_peer(
                addr,
                staller.local_peer_id(),
            )))
            .await
            .unwrap();
        staller.provide(Digest(*calc.digest())).await.unwrap();

        let mut spec = wave(&calc.to_string(), "add(1, 1)");
        spec.limits.timeout_ms = Some(1_000);
        let asked = Instant::now();
        let error = caller
            .node
            .run_on(&on_b.addr().await, spec)
            .await
            .expect_err("the peer cannot get the child in time");
        assert_eq!(error.kind(), "peer-timeout", "{error}");
        assert!(
            asked.elapsed() < Duration::from_secs(10),
            "the caller gave up at its deadline and grace, not after the stall: {:?}",
            asked.elapsed()
        );
        staller.shutdown().await;
        for peer in [caller, on_b] {
            peer.node.shutdown().await;
        }
    });
}

/// A fuel budget `spin()` does not spend within a 30 s run.
const LONG_FUEL: u64 = 1_000_000_000_000_000;

#[test]
fn a_peer_that_goes_away_mid_run_is_a_clear_error_not_a_hang() {
    within(|| async {
        let (a, b) = (Home::new(), Home::new());
        let limits = a.install("limits").await;
        let caller = a.serve(&policy(&[], ""), PeerConfig::loopback()).await;
        // The built-in `runner` caps a run at the host defaults (10 s, a
        // fuel budget `spin()` spends in a few seconds): B refused the 30 s
        // run before fetching, and the wait below never ended. A role of
        // B's own allows a long run.
        let long = format!(
            "\n[roles.long]\nmethods = [\"runtime.*\"]\nchildren = [\"*\"]\n\
             limits = {{ fuel = {LONG_FUEL}, timeout_ms = 30000 }}\n"
        );
        let on_b = b
            .serve(
                &policy(&[(&a.key(), "long")], &long),
                PeerConfig::loopback(),
            )
            .await;
        let target = on_b.addr().await;
        let mut spec = wave(&limits, "spin()");
        spec.limits.timeout_ms = Some(30_000);
        spec.limits.fuel = Some(LONG_FUEL);
        let node = caller.node.clone();
        let run = tokio::spawn(async move { node.run_on(&target, spec).await });
        // Once B holds the child it is about to spin: then B goes away.
        let id: ChildId = limits.parse().unwrap();
        while !b.mother.children().contains(&id) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        on_b.node.shutdown().await;
        let error = tokio::time::timeout(Duration::from_secs(20), run)
            .await
            .expect("the caller hears of it long before the run's 30 s deadline")
            .expect("the task")
            .expect_err("the run cannot answer");
        assert_eq!(error.kind(), "peer-disconnected", "{error}");
        assert!(
            error.to_string().contains(&b.peer_id().to_string()),
            "{error}"
        );
        caller.node.shutdown().await;
    });
}

#[test]
fn a_peer_that_admits_a_session_and_then_says_nothing_is_a_timeout() {
    within(|| async {
        let a = Home::new();
        let calc: ChildId = a.install("calc").await.parse().unwrap();
        let mut quick = PeerConfig::loopback();
        quick.dial_timeout = Duration::from_millis(500);
        let caller = a.serve(&policy(&[], ""), quick).await;
        // Takes membrane streams and never answers on them.
        let mute = NetHandle::start(&[87; 32], NetConfig::loopback())
            .await
            .unwrap();
        let mut incoming = mute.accept(patina_peer::MEMBRANE_PROTOCOL).unwrap();
        let held = tokio::spawn(async move {
            let mut streams = Vec::new();
            while let Some(stream) = incoming.next().await {
                streams.push(stream);
            }
        });
        let addr = mute.listen_addrs().await.unwrap()[0].clone();
        let target =
            patina_peer::PeerTarget::Addr(patina_net::with_peer(addr, mute.local_peer_id()));
        let asked = Instant::now();
        let error = caller
            .node
            .push(&target, calc)
            .await
            .expect_err("a mute peer installs nothing");
        assert_eq!(error.kind(), "peer-timeout", "{error}");
        assert!(
            asked.elapsed() < Duration::from_secs(10),
            "given up at the opening's bound (1 s here): {:?}",
            asked.elapsed()
        );
        mute.shutdown().await;
        held.abort();
        caller.node.shutdown().await;
    });
}
