//! The doors besides a login: a transport that proved the caller's key (a
//! libp2p peer: `serve_as`), a bearer token (HTTP, MCP over HTTP), and a
//! local caller under a role the owner chose (MCP over stdio) — each ends in
//! the same attenuated access, and every run's receipt names its caller.

use super::*;
use patina_membrane::{Principal, TokenStore};

#[test]
fn a_peer_proved_by_its_transport_gets_its_role_without_a_login() {
    within(|| async {
        let (world, server) = setup(ServeConfig::default()).await;
        let runner_key = CallerKey(patina_membrane::login::public_key(&RUNNER));
        let (a, b) = tokio::io::duplex(1 << 20);
        let _serving = tokio::task::spawn_local(server.serve_as(a, runner_key, "peer"));
        let session = Connection::open(b).authenticated().await.unwrap();
        assert_eq!(session.role(), "runner");
        let ran = session.run(&wave("add(2, 3)", "calc")).await.unwrap();
        let receipt = ran.receipt.unwrap();
        let caller = receipt
            .caller
            .as_ref()
            .expect("the receipt names its caller");
        assert_eq!(caller.id, Principal::Key(runner_key).to_string());
        assert_eq!(
            (caller.role.as_str(), caller.door.as_str()),
            ("runner", "peer")
        );
        patina_receipts::verify(&receipt).unwrap();
        // The same receipt, stored: the header survived the store.
        let (stored, _) = world
            .mother
            .receipt(&patina_mother::ReceiptRef::Stored(receipt.id.to_string()))
            .await
            .unwrap();
        assert_eq!(stored.caller, receipt.caller);

        // A key the policy does not name gets no membrane at all: every
        // call is answered with why, and the connection ends refused.
        let stranger = CallerKey(patina_membrane::login::public_key(&STRANGER));
        let (a, b) = tokio::io::duplex(1 << 20);
        let serving = tokio::task::spawn_local(server.serve_as(a, stranger, "peer"));
        let Err(error) = Connection::open(b).authenticated().await else {
            panic!("a stranger gets no session");
        };
        assert_eq!(error.kind, "unauthenticated", "{error:?}");
        assert!(error.message.contains(&stranger.to_string()), "{error:?}");
        let refused = serving.await.unwrap().unwrap_err();
        assert_eq!(refused.kind(), "unauthenticated", "{refused}");
    });
}

#[test]
fn a_token_acts_under_its_role_until_revoked() {
    within(|| async {
        let (world, _) = setup(ServeConfig::default()).await;
        let dir = tempfile::tempdir().unwrap();
        let tokens = TokenStore::open(dir.path().join("tokens.toml")).unwrap();
        let (info, token) = tokens.create("runner", "ci", None).unwrap();
        // The server reads the same file another process wrote.
        std::fs::copy(
            dir.path().join("tokens.toml"),
            world.mother.root().join("tokens.toml"),
        )
        .unwrap();
        let server = MembraneServer::open(world.mother.clone(), ServeConfig::default()).unwrap();
        let access = server.access_for_token(&token, "http").unwrap();
        assert_eq!(access.role().name, "runner");
        assert_eq!(access.principal(), &Principal::Token(info.id.clone()));
        let output = access.run(wave("add(1, 2)", "calc")).await.unwrap();
        let caller = output.receipt.as_ref().unwrap().caller.clone().unwrap();
        assert_eq!(caller.id, format!("token:{}", info.id));
        assert_eq!(caller.door, "http");
        // Above its role: refused, naming what.
        let mut above = wave("add(1, 2)", "calc");
        above.grants.push("kv".into());
        let error = access.run(above).await.unwrap_err();
        assert_eq!(error.kind(), "grant-above-ceiling", "{error}");
        let receipt_id = output.receipt.as_ref().unwrap().id.to_string();
        let error = access.replay(&receipt_id).await.unwrap_err();
        assert_eq!(error.kind(), "denied", "{error}");

        // Its own receipts, by caller; another token's are not its to list.
        let mine = access.receipts(None, None, None).await.unwrap();
        assert_eq!(mine.len(), 1);
        let error = access
            .receipts(None, Some("token:0000000000000000".into()), None)
            .await
            .unwrap_err();
        assert_eq!(error.kind(), "receipt-denied", "{error}");

        // Revoked (by the CLI, through the file): the next request fails.
        server.tokens().revoke(&info.id).unwrap();
        let error = server.access_for_token(&token, "http").unwrap_err();
        assert_eq!(error.kind(), "unauthenticated", "{error}");
        assert!(error.to_string().contains("revoked"), "{error}");
        for bad in ["", "patina_x", &token.replace(&info.id, "0123456789abcdef")] {
            let error = server.access_for_token(bad, "http").unwrap_err();
            assert_eq!(error.kind(), "unauthenticated", "{bad}: {error}");
        }
    });
}

fn agent_policy(world: &World) -> Policy {
    let data = world.data.display();
    Policy::parse(
        &format!(
            r#"
[roles.agent]
methods = ["runtime.list", "runtime.describe", "runtime.run", "receipts.get", "receipts.list"]
children = ["hello-log", "calc"]
grants = ["log"]
ask = ["fs:{data}:ro"]
"#
        ),
        "agent-policy.toml",
    )
    .unwrap()
}

#[test]
fn a_local_agent_needs_a_person_to_approve_what_its_role_only_may_ask_for() {
    within(|| async {
        let (world, _) = setup(ServeConfig::default()).await;
        let server = MembraneServer::new(
            world.mother.clone(),
            agent_policy(&world),
            EpochGuard::new(1),
            ServeConfig::default(),
        );
        let agent = server
            .access_as(Principal::Local("claude".into()), "agent", "mcp")
            .unwrap();
        let names: Vec<String> = agent
            .list()
            .await
            .unwrap()
            .iter()
            .flat_map(|c| c.names.clone())
            .collect();
        assert!(
            names.contains(&"calc".to_string()) && !names.contains(&"limits".to_string()),
            "{names:?}"
        );
        let error = agent.run(wave("spin()", "limits")).await.unwrap_err();
        assert_eq!(error.kind(), "child-denied", "{error}");

        let grant = format!("fs:{}:ro", world.data.display());
        let mut spec = wave("add(1, 1)", "calc");
        spec.grants.push(grant.clone());
        // Without an approval: the error says a person may approve it.
        let error = agent.run(spec.clone()).await.unwrap_err();
        assert_eq!(error.kind(), "approval-required", "{error}");
        assert!(error.to_string().contains(&grant), "{error}");
        // Approved for this run: it runs, and the receipt says who approved what.
        let approved: patina_core::Grant = grant.parse().unwrap();
        let output = agent
            .run_approved(
                spec.clone(),
                std::slice::from_ref(&approved),
                "mcp-elicitation",
            )
            .await
            .unwrap();
        let receipt = output.receipt.unwrap();
        assert_eq!(receipt.approvals.len(), 1);
        assert_eq!(receipt.approvals[0].by, "mcp-elicitation");
        assert_eq!(receipt.approvals[0].grant, approved.to_string());
        assert_eq!(receipt.caller.as_ref().unwrap().id, "local:claude");
        // An approval never reaches beyond the role's `ask` list.
        let wider: patina_core::Grant = format!("fs:{}:rw", world.data.display()).parse().unwrap();
        let mut spec = wave("add(1, 1)", "calc");
        spec.grants.push(wider.to_string());
        let error = agent
            .run_approved(spec, std::slice::from_ref(&wider), "mcp-elicitation")
            .await
            .unwrap_err();
        assert_eq!(error.kind(), "not-approvable", "{error}");
        // Its receipts, listed by caller, are exactly its runs.
        let listed = world
            .mother
            .receipts_by(None, Some("local:claude".into()), None)
            .await
            .unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].id, receipt.id);
        // A role the policy lacks is refused.
        let error = server
            .access_as(Principal::Local("x".into()), "pilot", "mcp")
            .unwrap_err();
        assert_eq!(error.kind(), "bad-request", "{error}");
    });
}

#[test]
fn the_network_methods_need_a_role_that_lists_them_and_a_network() {
    within(|| async {
        let (_world, server) = setup(ServeConfig::default()).await;
        // The admin is given the Network; a Mother that serves no peers
        // answers that it is not on one.
        let admin = login(&server, &ADMIN).await;
        assert!(
            admin
                .regraft()
                .await
                .unwrap()
                .contains(&"network".to_owned())
        );
        let error = admin.network_info().await.unwrap_err();
        assert_eq!(error.kind, "not-on-network", "{error:?}");
        let error = admin
            .network_run(
                "12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN",
                &wave("add(1, 2)", "calc"),
            )
            .await
            .unwrap_err();
        assert_eq!(error.kind, "not-on-network", "{error:?}");
        // A runner is not: no Network among its capabilities, and the
        // access itself refuses the method.
        let runner = login(&server, &RUNNER).await;
        assert!(
            !runner
                .regraft()
                .await
                .unwrap()
                .contains(&"network".to_owned())
        );
        let error = runner.network_info().await.unwrap_err();
        assert_eq!(error.kind, "denied", "{error:?}");
        let runner_key = CallerKey(patina_membrane::login::public_key(&RUNNER));
        let access = server.access_for_key(runner_key, "peer").unwrap();
        let error = access.network_info().await.unwrap_err();
        assert_eq!(error.kind(), "denied", "{error}");
        assert!(error.to_string().contains("network.peers"), "{error}");
    });
}

#[test]
fn a_peer_holds_at_most_its_share_of_connections() {
    within(|| async {
        let config = ServeConfig {
            max_connections_per_caller: 1,
            ..ServeConfig::default()
        };
        let (_world, server) = setup(config).await;
        let runner_key = CallerKey(patina_membrane::login::public_key(&RUNNER));
        let (a, b) = tokio::io::duplex(1 << 20);
        let _serving = tokio::task::spawn_local(server.serve_as(a, runner_key, "peer"));
        let session = Connection::open(b).authenticated().await.unwrap();
        let (a, b) = tokio::io::duplex(1 << 20);
        let serving = tokio::task::spawn_local(server.serve_as(a, runner_key, "peer"));
        let Err(error) = Connection::open(b).authenticated().await else {
            panic!("a second connection of a one-connection caller was served");
        };
        assert_eq!(error.kind, "busy", "{error:?}");
        assert!(
            error.message.contains("limit of open connections"),
            "{error:?}"
        );
        let refused = serving.await.unwrap().unwrap_err();
        assert_eq!(refused.kind(), "busy", "{refused}");
        // The first connection is not disturbed.
        session.run(&wave("add(2, 3)", "calc")).await.unwrap();
    });
}
