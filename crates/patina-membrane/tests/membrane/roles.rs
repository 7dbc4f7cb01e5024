//! Attenuation by role: two callers with different keys and policies.

use super::*;

#[test]
fn two_clients_with_different_roles_get_different_membranes() {
    within(|| async {
        let (world, server) = setup(ServeConfig::default()).await;
        let runner = login(&server, &RUNNER).await;
        let ops = login(&server, &OPS).await;
        assert_eq!(runner.role(), "runner");
        assert_eq!(ops.role(), "ops");

        // The runner runs any child, with `log` and nothing above it.
        let ran = runner.run(&wave("add(2, 3)", "calc")).await.unwrap();
        assert!(matches!(&ran.summary.outcome, RunOutcome::Returned { wave, .. } if wave == "5"));
        let receipt = ran.receipt.expect("a recorded run has its receipt");
        patina_receipts::verify(&receipt).unwrap();
        assert_eq!(receipt.mother, world.mother.identity().id());
        let mut greet = wave("greet(\"ann\")", "hello-log");
        greet.grants.push("log".into());
        let ran = runner.run(&greet).await.unwrap();
        assert_eq!(ran.summary.logs.len(), 1, "{:?}", ran.summary);
        greet.grants.push("kv".into());
        let error = runner.run(&greet).await.unwrap_err();
        assert_eq!(error.kind, "grant-above-ceiling", "{error:?}");
        assert!(
            error.message.contains("`kv`") && error.message.contains("runner"),
            "{error}"
        );

        // The runner's limits are the defaults: one unit more is refused.
        let mut greedy = wave("add(1, 1)", "calc");
        greedy.limits.fuel = Some(patina_core::Limits::default().fuel + 1);
        let error = runner.run(&greedy).await.unwrap_err();
        assert_eq!(error.kind, "limit-above-ceiling", "{error:?}");
        assert!(error.message.contains("fuel"), "{error}");
        // So is the output cap: a runner cannot make the Mother hold more of
        // a child's stdout and stderr than the default.
        let mut loud = wave("add(1, 1)", "calc");
        loud.limits.output = Some(patina_core::Limits::default().output + 1);
        let error = runner.run(&loud).await.unwrap_err();
        assert_eq!(error.kind, "limit-above-ceiling", "{error:?}");
        assert!(error.message.contains("output"), "{error}");

        // Runner: receipts of its own runs only; no replay; installs by digest only.
        let own = runner.receipts(None, None, 0).await.unwrap();
        assert_eq!(own.len(), 2);
        let error = runner.replay(&receipt.id.to_string()).await.unwrap_err();
        assert_eq!(error.kind, "denied", "{error:?}");
        assert!(error.message.contains("receipts.replay"), "{error}");
        let bytes = children_artifacts::by_name("calc").unwrap().bytes;
        let error = runner.install(bytes, Some("mine"), &[]).await.unwrap_err();
        assert_eq!(error.kind, "install-named-denied", "{error:?}");
        let installed = runner.install(bytes, None, &[]).await.unwrap();
        assert_eq!(installed.name, None);

        // Ops: calc only, fs under the data directory read-only at most.
        let ran = ops.run(&wave("add(20, 22)", "calc")).await.unwrap();
        assert!(matches!(&ran.summary.outcome, RunOutcome::Returned { wave, .. } if wave == "42"));
        // A limit left out is the lower of the default and the role's ceiling.
        let limits = ran.receipt.expect("recorded").transcript.call.limits;
        assert_eq!(limits.output, 65536, "{limits:?}");
        assert_eq!(limits.fuel, 100_000_000, "{limits:?}");
        let error = ops
            .run(&wave("greet(\"x\")", "hello-log"))
            .await
            .unwrap_err();
        assert_eq!(error.kind, "child-denied", "{error:?}");
        assert!(error.message.contains("hello-log"), "{error}");
        let mut above = wave("add(1, 2)", "calc");
        above.grants.push(format!("fs:{}:rw", world.data.display()));
        let error = ops.run(&above).await.unwrap_err();
        assert_eq!(error.kind, "grant-above-ceiling", "{error:?}");
        assert!(error.message.contains(":rw"), "names the grant: {error}");
        assert!(error.message.contains(":ro"), "names the ceiling: {error}");
        let mut outside = wave("add(1, 2)", "calc");
        outside
            .grants
            .push(format!("fs:{}/../:ro", world.data.display()));
        let error = ops.run(&outside).await.unwrap_err();
        assert_eq!(error.kind, "grant-above-ceiling", "{error:?}");
        let error = ops.describe("calc").await.unwrap_err();
        assert_eq!(error.kind, "denied", "{error:?}");
        let listed = ops.list().await.unwrap();
        assert_eq!(listed.len(), 1, "ops sees only calc: {listed:?}");
        assert_eq!(listed[0].names, ["calc"]);
        // The ops role sees none of the runner's receipts.
        let error = ops.receipt(&receipt.id.to_string()).await.unwrap_err();
        assert_eq!(error.kind, "receipt-denied", "{error:?}");
        assert_eq!(ops.receipts(None, None, 0).await.unwrap().len(), 1);
        // ops may start 3 runs (burst) and then waits ~1000 s for the next.
        let mut ran = 1;
        let error = loop {
            match ops.run(&wave("add(1, 1)", "calc")).await {
                Ok(_) => ran += 1,
                Err(error) => break error,
            }
            assert!(ran <= 3, "the burst is 3");
        };
        assert_eq!(ran, 3);
        assert_eq!(error.kind, "rate-limited", "{error:?}");

        // A reader reads and never runs.
        let reader = login(&server, &READER).await;
        let error = reader.run(&wave("add(1, 1)", "calc")).await.unwrap_err();
        assert_eq!(error.kind, "denied", "{error:?}");
        let all = world.mother.receipts_of(None, None).await.unwrap().len();
        assert_eq!(all, 5);
        assert_eq!(reader.receipts(None, None, 0).await.unwrap().len(), all);
        let description = reader.describe("calc").await.unwrap();
        assert_eq!(description["command"], false);
        assert!(description["wit"].as_str().unwrap().contains("add"));
        let (verified, link) = reader.verify(&receipt.id.to_string()).await.unwrap();
        assert_eq!(verified.id, receipt.id);
        assert!(!link.is_empty());

        // The admin may replay.
        let admin = login(&server, &ADMIN).await;
        let replay = admin.replay(&receipt.id.short().to_string()).await.unwrap();
        assert!(replay.summary.matched, "{:?}", replay.summary);
        let explained = admin.explain().await.unwrap();
        assert_eq!(explained["role"], "admin");
    });
}

/// A role kept to some children lists their receipts only, newest first,
/// as many as asked, each once (its list names calc by name and by id, and
/// an id never installed). That the store is asked for those children's
/// only, not read whole, is the store suite's `lists_by_children`.
#[test]
fn a_role_kept_to_some_children_lists_only_theirs() {
    within(|| async {
        let (_world, server) = setup(ServeConfig::default()).await;
        let admin = login(&server, &ADMIN).await;
        let mut calc_runs = Vec::new();
        for (call, child) in [
            ("add(1, 1)", "calc"),
            ("greet(\"a\")", "hello-log"),
            ("add(2, 2)", "calc"),
            ("greet(\"b\")", "hello-log"),
            ("add(3, 3)", "calc"),
        ] {
            let mut spec = wave(call, child);
            spec.grants.push("log".into());
            let ran = admin.run(&spec).await.unwrap();
            let receipt = ran.receipt.expect("recorded");
            if child == "calc" {
                calc_runs.push(receipt.id);
            }
        }
        let auditor = login(&server, &AUDITOR).await;
        let listed = auditor.receipts(None, None, 0).await.unwrap();
        let ids: Vec<_> = listed.iter().map(|r| r.id).collect();
        calc_runs.reverse();
        assert_eq!(ids, calc_runs, "calc's receipts only, newest first");
        let two = auditor.receipts(None, None, 2).await.unwrap();
        assert_eq!(
            two.iter().map(|r| r.id).collect::<Vec<_>>(),
            calc_runs[..2],
            "the two newest"
        );
        let error = auditor
            .receipts(Some("hello-log"), None, 0)
            .await
            .unwrap_err();
        assert_eq!(error.kind, "child-denied", "{error:?}");
    });
}
