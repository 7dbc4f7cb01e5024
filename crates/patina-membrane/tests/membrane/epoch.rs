//! An epoch bump mid-session: in-flight runs finish, older capabilities go stale.

use super::*;

#[test]
fn an_epoch_bump_makes_every_older_capability_stale() {
    within(|| async {
        let (_world, server) = setup(ServeConfig::default()).await;
        let session = login(&server, &RUNNER).await;
        assert_eq!(session.epoch().await.unwrap(), 1);
        session.list().await.unwrap();

        // A watcher sees the bump; a run in flight finishes with its receipt.
        let watcher = login(&server, &READER).await;
        let watching = tokio::task::spawn_local(async move { watcher.watch_epoch(1).await });
        let runner = Rc::new(login(&server, &RUNNER).await);
        // The deadline must end it, not the fuel: the runner role's budget
        // (the host's default, 10^10) lasts `spin()` about 650 ms on a fast,
        // idle 2-core machine, so the deadline is well inside that, and well
        // after the bump below.
        let mut slow = wave("spin()", "limits");
        slow.limits.timeout_ms = Some(400);
        let in_flight = {
            let runner = runner.clone();
            tokio::task::spawn_local(async move { runner.run(&slow).await })
        };
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert_eq!(server.bump_epoch().unwrap(), 2);

        assert_eq!(watching.await.unwrap().unwrap(), 2);
        let ran = in_flight.await.unwrap().unwrap();
        match &ran.summary.outcome {
            RunOutcome::Failed { error } => assert_eq!(error.kind, "deadline-exceeded"),
            other => panic!("{other:?}"),
        }
        assert!(ran.receipt.is_some(), "the run in flight kept its receipt");

        for error in [
            session.list().await.unwrap_err(),
            session.epoch().await.unwrap_err(),
            session.run(&wave("add(1, 1)", "calc")).await.unwrap_err(),
            session.regraft().await.unwrap_err(),
            runner.receipts(None, None, 0).await.unwrap_err(),
        ] {
            assert_eq!(error.kind, "stale-epoch", "{error:?}");
            assert!(error.message.contains("epoch 1"), "{error}");
        }
        // Logging in again gives capabilities of the new epoch.
        let again = login(&server, &RUNNER).await;
        assert_eq!(again.epoch().await.unwrap(), 2);
        assert_eq!(again.receipts(None, None, 0).await.unwrap().len(), 1);

        // A new policy is a new epoch: the old role's capabilities go stale.
        server.set_policy(Policy::default()).unwrap();
        assert_eq!(again.list().await.unwrap_err().kind, "stale-epoch");
        let error = pipe(&server).0.login(&RUNNER).await.err().unwrap();
        assert_eq!(error.kind, "unknown-key", "{error:?}");
    });
}
