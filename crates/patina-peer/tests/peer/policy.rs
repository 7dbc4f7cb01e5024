//! A peer's policy decides per peer key what it gets: a peer it does not
//! name gets nothing (no session, no bytes); a grant above a peer's ceiling
//! is refused naming the grant; whether a missing child may be fetched for
//! a peer and stored is its role's to say.

use patina_net::{Digest, FetchError, ProviderError};
use patina_peer::PeerConfig;

use crate::{Home, child_id, policy, wave, within};

#[test]
fn a_peer_the_policy_does_not_name_gets_nothing() {
    within(|| async {
        let (a, b, stranger) = (Home::new(), Home::new(), Home::new());
        let calc = b.install("calc").await;
        let on_b = b
            .serve(&policy(&[(&a.key(), "runner")], ""), PeerConfig::loopback())
            .await;
        let outsider = stranger
            .serve(&policy(&[], ""), PeerConfig::loopback())
            .await;
        let target = on_b.addr().await;

        let error = outsider
            .node
            .run_on(&target, wave(&calc, "add(1, 1)"))
            .await
            .expect_err("a stranger runs nothing");
        assert_eq!(error.kind(), "unauthenticated", "{error}");
        assert!(error.to_string().contains(&stranger.key()), "{error}");

        // Nor does it get the bytes of what B holds.
        let digest = Digest(*calc.parse::<patina_core::ChildId>().unwrap().digest());
        let peer = outsider.node.reach(&target).await.expect("connected");
        let Err(FetchError::AllFailed { attempts, .. }) =
            outsider.node.net().fetch_blob_from(digest, &[peer]).await
        else {
            panic!("the stranger gets no bytes");
        };
        assert!(
            matches!(&attempts[0].error, ProviderError::Refused(reason) if reason.contains("unauthenticated")),
            "{:?}",
            attempts[0].error
        );
        for peer in [on_b, outsider] {
            peer.node.shutdown().await;
        }
    });
}

#[test]
fn a_grant_above_the_peers_ceiling_is_refused_naming_it() {
    within(|| async {
        let (a, b) = (Home::new(), Home::new());
        let hello = a.install("hello-log").await;
        let caller = a.serve(&policy(&[], ""), PeerConfig::loopback()).await;
        let on_b = b
            .serve(&policy(&[(&a.key(), "runner")], ""), PeerConfig::loopback())
            .await;
        let mut spec = wave(&hello, "greet(\"ann\")");
        spec.grants = vec!["log".into(), "kv".into()];
        let error = caller
            .node
            .run_on(&on_b.addr().await, spec)
            .await
            .expect_err("kv is above a runner's ceiling");
        assert_eq!(error.kind(), "grant-above-ceiling", "{error}");
        assert!(error.to_string().contains("`kv`"), "{error}");
        // Refused before anything was fetched: B still lacks the child.
        assert!(!b.mother.children().contains(&hello.parse().unwrap()));
        for peer in [caller, on_b] {
            peer.node.shutdown().await;
        }
    });
}

#[test]
fn the_role_decides_whether_a_missing_child_is_fetched_and_stored() {
    within(|| async {
        let (b, seer, named) = (Home::new(), Home::new(), Home::new());
        let calc = child_id("calc");
        for home in [&seer, &named] {
            home.install("calc").await;
        }
        // `seer` may run any child but not install: nothing is fetched for it.
        // `named` may not install, but its children name calc's id.
        let extra = format!(
            "\n[roles.seer]\nmethods = [\"runtime.run\"]\nchildren = [\"*\"]\n\n[roles.named]\nmethods = [\"runtime.run\"]\nchildren = [\"{calc}\"]\n"
        );
        let callers = [(seer.key(), "seer"), (named.key(), "named")];
        let callers: Vec<(&str, &str)> = callers.iter().map(|(k, r)| (k.as_str(), *r)).collect();
        let on_b = b
            .serve(&policy(&callers, &extra), PeerConfig::loopback())
            .await;
        let target = on_b.addr().await;
        let open = policy(&[], "");
        let seer = seer.serve(&open, PeerConfig::loopback()).await;
        let error = seer
            .node
            .run_on(&target, wave(&calc, "add(1, 2)"))
            .await
            .expect_err("a role that may not install has nothing fetched");
        assert_eq!(error.kind(), "fetch-denied", "{error}");
        assert!(error.to_string().contains("seer"), "{error}");
        assert!(!b.mother.children().contains(&calc.parse().unwrap()));

        let named = named.serve(&open, PeerConfig::loopback()).await;
        let ran = named
            .node
            .run_on(&target, wave(&calc, "add(1, 2)"))
            .await
            .expect("a role that names the child's id has it fetched");
        assert!(ran.run.receipt.is_some());
        assert!(b.mother.children().contains(&calc.parse().unwrap()));
        // Held now, so `seer` may run it (no fetch needed).
        seer.node
            .run_on(&target, wave(&calc, "add(1, 2)"))
            .await
            .expect("held children are runnable by roles that may run any child");
        for peer in [on_b, seer, named] {
            peer.node.shutdown().await;
        }
    });
}
