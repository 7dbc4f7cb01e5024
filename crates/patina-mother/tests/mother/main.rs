//! A Mother used as a library, against real children: install, run (with its
//! receipt), replay, export and import, composition through `invoke`, typed
//! errors for bad input. `commits`: 64 runs at once through one Mother with
//! every receipt stored and the chain intact, committed by the pipeline or
//! inline; `http`: bridge children.

mod commits;
mod http;

use patina_mother::{
    CallSpec, ChainLink, ChildRef, CommitMode, InstallSpec, Mother, MotherConfig, MotherError,
    ReceiptRef, RunOutcome, RunSpec,
};

fn open(dir: &tempfile::TempDir) -> Mother {
    open_with(dir, CommitMode::Pipelined)
}

fn open_with(dir: &tempfile::TempDir, commit: CommitMode) -> Mother {
    let mut config = MotherConfig::new(dir.path().join("home"));
    config.commit = commit;
    Mother::open(config).unwrap()
}

fn named(name: &str) -> InstallSpec {
    InstallSpec {
        name: Some(name.to_owned()),
        grants: Vec::new(),
    }
}

fn call(child: &str, wave: &str) -> RunSpec {
    RunSpec::new(
        ChildRef::Installed(child.to_owned()),
        CallSpec::Wave(wave.to_owned()),
    )
}

#[tokio::test]
async fn install_run_replay_export_and_import() {
    let dir = tempfile::tempdir().unwrap();
    let mother = open(&dir);
    let installed = mother
        .install_file(children_artifacts::CALC.into(), named("calc"))
        .await
        .unwrap();
    assert_eq!(installed.size, children_artifacts::CALC_BYTES.len() as u64);
    let list = mother.list().await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].names, ["calc"]);

    let first = mother.run(call("calc", "add(2, 3)")).await.unwrap();
    let first = first.receipt.unwrap();
    let second = mother.run(call("calc", "add(4, 5)")).await.unwrap();
    assert_eq!(second.summary().exit_status(), 0);
    let second = second.receipt.unwrap();
    assert_eq!(second.previous, Some(first.id));

    let stored = ReceiptRef::Stored(second.id.hex()[..8].to_owned());
    let replay = mother.replay(&stored).await.unwrap();
    assert!(replay.replay.matched());
    let summary = replay.summary();
    assert_eq!(summary.replay_of, second.id);
    assert_eq!(summary.transcript_hash, second.transcript_hash);

    let verified = mother.verify_receipt(&stored).await.unwrap();
    assert_eq!(verified.link, ChainLink::Follows(first.id));

    let export = mother.export_receipt(&stored).await.unwrap().encode();
    let other_dir = tempfile::tempdir().unwrap();
    let other = open(&other_dir);
    assert!(other.import_receipt(export.clone()).await.unwrap().new);
    assert!(!other.import_receipt(export).await.unwrap().new);
    let held = other.verify_receipt(&stored).await.unwrap();
    assert_eq!(held.link, ChainLink::FollowsNotHeld(first.id));
    // The other Mother lacks the child's bytes: replay says so.
    let error = other.replay(&stored).await.unwrap_err();
    assert!(
        matches!(error, MotherError::ReplayNeedsChild { .. }),
        "{error:?}"
    );
    assert_eq!(error.kind(), "unknown-child");
}

/// Installs `composer`, and `hello-log` as `hello` with `grants` (what it
/// runs with when `composer` invokes it).
async fn composer_and_hello(mother: &Mother, grants: Vec<String>) {
    mother
        .install(
            children_artifacts::COMPOSER_BYTES.to_vec(),
            named("composer"),
        )
        .await
        .unwrap();
    let hello = InstallSpec {
        name: Some("hello".into()),
        grants,
    };
    mother
        .install(children_artifacts::HELLO_LOG_BYTES.to_vec(), hello)
        .await
        .unwrap();
}

#[tokio::test]
async fn an_invoked_child_runs_with_its_install_grants_and_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let mother = open(&dir);
    composer_and_hello(&mother, vec!["log".into()]).await;
    let mut spec = call("composer", r#"call("hello", "greet(\"ann\")")"#);
    spec.grants.push("invoke:hello".into());
    let run = mother.run(spec).await.unwrap();
    let RunOutcome::Returned { wave, .. } = run.summary().outcome else {
        panic!("{:?}", run.report.outcome);
    };
    assert!(wave.starts_with("ok("), "{wave}");
    // The callee's receipt came first, then the caller's.
    let stored = mother.receipts_of(None, None).await.unwrap();
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[0].id, run.receipt.unwrap().id);
    assert!(wave.contains(&stored[1].id.to_string()), "{wave}");
}

/// An install grant is stored canonical and an invoked child runs with it
/// exactly: if a part of its path is swapped for a symlink after the
/// install (a child with write access nearby can do that), the invocation
/// is refused instead of following the symlink.
#[cfg(unix)]
#[tokio::test]
async fn an_install_grant_swapped_for_a_symlink_is_refused_when_invoked() {
    let dir = tempfile::tempdir().unwrap();
    let mother = open(&dir);
    let root = dir.path().canonicalize().unwrap();
    let (data, elsewhere) = (root.join("data"), root.join("elsewhere"));
    std::fs::create_dir(&data).unwrap();
    std::fs::create_dir(&elsewhere).unwrap();
    composer_and_hello(
        &mother,
        vec!["log".into(), format!("fs:{}:ro", data.display())],
    )
    .await;
    let mut spec = call("composer", r#"call("hello", "greet(\"ann\")")"#);
    spec.grants.push("invoke:hello".into());
    let wave = |run: patina_mother::RunOutput| match run.summary().outcome {
        RunOutcome::Returned { wave, .. } => wave,
        other => panic!("{other:?}"),
    };
    let before = wave(mother.run(spec.clone()).await.unwrap());
    assert!(before.starts_with("ok("), "{before}");

    std::fs::rename(&data, root.join("moved")).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &data).unwrap();
    let after = wave(mother.run(spec).await.unwrap());
    assert!(after.starts_with("err("), "{after}");
    assert!(after.contains("no longer resolves"), "{after}");
}

/// `install_checked` takes grants in the form a ceiling checked them
/// (resolved): one that resolves elsewhere by the time it is installed (a
/// part became a symlink) is refused, where `install` resolves it anew.
#[cfg(unix)]
#[tokio::test]
async fn a_checked_install_grant_that_resolves_elsewhere_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mother = open(&dir);
    let root = dir.path().canonicalize().unwrap();
    std::fs::create_dir(root.join("data")).unwrap();
    std::os::unix::fs::symlink(root.join("data"), root.join("link")).unwrap();
    let spec = InstallSpec {
        name: Some("hello".into()),
        grants: vec![format!("fs:{}:ro", root.join("link").display())],
    };
    let bytes = children_artifacts::HELLO_LOG_BYTES.to_vec();
    let error = mother
        .install_checked(bytes.clone(), spec.clone())
        .await
        .unwrap_err();
    assert!(matches!(error, MotherError::GrantRefused(_)), "{error:?}");
    assert!(error.to_string().contains("no longer resolves"), "{error}");
    let installed = mother.install(bytes, spec).await.unwrap();
    assert_eq!(
        installed.grants[0].to_string(),
        format!("fs:{}:ro", root.join("data").display())
    );
}

#[tokio::test]
async fn bad_input_gets_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    let mother = open(&dir);
    let error = mother.run(call("nobody", "f()")).await.unwrap_err();
    assert!(matches!(error, MotherError::UnknownChild(_)), "{error:?}");

    let error = mother
        .install(b"not wasm".to_vec(), named("x"))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "not-wasm");

    let bytes = children_artifacts::HELLO_LOG_BYTES.to_vec();
    let bad = InstallSpec {
        name: None,
        grants: vec!["log".into()],
    };
    let error = mother.install(bytes.clone(), bad).await.unwrap_err();
    assert!(matches!(error, MotherError::GrantsWithoutName), "{error:?}");
    // No grant may reach the Mother's home.
    let home = format!("fs:{}:ro", mother.root().display());
    let into_home = InstallSpec {
        name: Some("hello".into()),
        grants: vec![home],
    };
    let error = mother.install(bytes.clone(), into_home).await.unwrap_err();
    assert!(matches!(error, MotherError::GrantRefused(_)), "{error:?}");
    mother.install(bytes, named("hello")).await.unwrap();

    let mut spec = call("hello", r#"greet("ann")"#);
    let error = mother.run(spec.clone()).await.unwrap_err();
    assert!(matches!(error, MotherError::Refused(_)), "{error:?}");
    assert_eq!(error.kind(), "missing-grants");
    spec.grants.push("no such grant".into());
    assert_eq!(mother.run(spec).await.unwrap_err().kind(), "bad-grant");

    let missing = ReceiptRef::Stored("00000000".into());
    assert_eq!(
        mother.replay(&missing).await.unwrap_err().kind(),
        "unknown-receipt"
    );
    let file = ReceiptRef::File(dir.path().join("no-such-file"));
    assert_eq!(mother.receipt(&file).await.unwrap_err().kind(), "io");
    let garbage = mother
        .import_receipt(br#"{"receipt": 1}"#.to_vec())
        .await
        .unwrap_err();
    assert_eq!(garbage.kind(), "malformed-receipt");
}

#[cfg(feature = "sled")]
#[tokio::test]
async fn receipts_can_live_in_sled() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = MotherConfig::new(dir.path().join("home"));
    config.receipts = patina_mother::ReceiptBackend::Sled;
    let mother = Mother::open(config).unwrap();
    let run = mother
        .run(RunSpec::new(
            ChildRef::File(children_artifacts::CALC.into()),
            CallSpec::Wave("add(1, 2)".into()),
        ))
        .await
        .unwrap();
    let receipt = run.receipt.unwrap();
    assert!(dir.path().join("home/receipts.sled").exists());
    let stored = ReceiptRef::Stored(receipt.id.hex());
    assert_eq!(mother.receipt(&stored).await.unwrap().0, receipt);
}

#[tokio::test]
async fn metrics_come_back_with_the_childs_names() {
    let dir = tempfile::tempdir().unwrap();
    let mother = open(&dir);
    assert!(mother.metrics(None).await.unwrap().is_empty());
    mother
        .install(children_artifacts::METERED_BYTES.to_vec(), named("metered"))
        .await
        .unwrap();
    let mut spec = call("metered", "work(5)");
    spec.grants.push("measure".into());
    let run = mother.run(spec).await.unwrap();
    assert!(run.report.outcome.is_ok(), "{:?}", run.report.outcome);
    let measured = mother.metrics(Some("metered".into())).await.unwrap();
    assert_eq!(measured.len(), 1);
    assert_eq!(measured[0].names, ["metered"]);
    assert!(!measured[0].metrics.metrics.is_empty());
    let error = mother.metrics(Some("nothing".into())).await.unwrap_err();
    assert!(matches!(error, MotherError::UnknownChild(_)), "{error:?}");
}

#[tokio::test]
async fn any_receipt_store_can_be_given() {
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = dir.path().join("receipts-elsewhere");
    let store = std::sync::Arc::new(patina_receipts::store::open_sqlite(&elsewhere).unwrap());
    let mut config = MotherConfig::new(dir.path().join("home"));
    config.receipts = patina_mother::ReceiptBackend::Store(store.clone());
    let mother = Mother::open(config).unwrap();
    let spec = RunSpec::new(
        ChildRef::File(children_artifacts::CALC.into()),
        CallSpec::Wave("add(1, 2)".into()),
    );
    let receipt = mother.run(spec).await.unwrap().receipt.unwrap();
    use patina_receipts::store::ReceiptStore;
    assert_eq!(store.get(&receipt.id).unwrap(), Some(receipt));
    assert!(!dir.path().join("home/receipts.sqlite3").exists());
}

/// 16 MiB through `blob` (linked typed, its bytes recorded once as a blob of
/// the receipt): the receipt holds the blob, replays by id, and travels with
/// an export to another Mother that replays it too.
#[tokio::test]
async fn a_sixteen_mib_blob_round_trip_is_recorded_once_and_replays_anywhere() {
    let dir = tempfile::tempdir().unwrap();
    let mother = open(&dir);
    mother
        .install_file(children_artifacts::BYTE_PROBE.into(), named("probe"))
        .await
        .unwrap();
    let mut spec = call("probe", &format!("blob-roundtrip({})", 16 << 20));
    spec.grants = vec!["blob".into()];
    spec.deny_missing = true;
    let run = mother.run(spec).await.unwrap();
    assert_eq!(run.summary().exit_status(), 0, "{:?}", run.summary());
    let receipt = run.receipt.unwrap();
    let stored = ReceiptRef::Stored(receipt.id.hex());
    let replay = mother.replay(&stored).await.unwrap();
    assert!(replay.replay.matched(), "{:?}", replay.replay.divergence);

    let export = mother.export_receipt(&stored).await.unwrap();
    assert_eq!(
        export.blobs.len(),
        1,
        "put and get moved the same bytes: one blob"
    );
    assert_eq!(export.blobs[0].hex.len(), 2 * (16 << 20));
    let other_dir = tempfile::tempdir().unwrap();
    let other = open(&other_dir);
    other
        .install_file(children_artifacts::BYTE_PROBE.into(), named("probe"))
        .await
        .unwrap();
    assert!(other.import_receipt(export.encode()).await.unwrap().new);
    let replay = other.replay(&stored).await.unwrap();
    assert!(replay.replay.matched(), "{:?}", replay.replay.divergence);
}

/// An installed child runs from the artifact its Mother compiled and tagged:
/// its stored bytes are not read for a run (one succeeds with them damaged),
/// what needs them (a replay) still checks them against the id, and an
/// artifact that does not check out is never run — the child is compiled
/// again from its bytes.
#[tokio::test]
async fn an_installed_child_runs_from_its_artifact_without_reading_its_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let installed = open(&dir)
        .install(children_artifacts::CALC_BYTES.to_vec(), named("calc"))
        .await
        .unwrap();
    let id = installed.child;
    // A new Mother on the same home, as each `mother run` process is.
    let mother = open(&dir);
    let stored = mother.children().wasm_path(&id);
    std::fs::write(&stored, b"damaged").unwrap();
    let run = mother.run(call("calc", "add(2, 3)")).await.unwrap();
    assert_eq!(run.summary().exit_status(), 0);
    assert!(matches!(
        run.summary().outcome,
        RunOutcome::Returned { wave, .. } if wave == "5"
    ));
    let receipt = run.receipt.expect("recorded");
    let error = mother
        .replay(&ReceiptRef::Stored(receipt.id.hex()))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, MotherError::ReplayNeedsChild { source, .. }
            if matches!(**source, MotherError::DamagedChild(_))),
        "{error:?}"
    );

    // Bytes restored, artifact altered in place: recompiled, never run.
    std::fs::write(&stored, children_artifacts::CALC_BYTES).unwrap();
    let artifact = mother.host().cache().unwrap().artifact_path(&id);
    let mut altered = std::fs::read(&artifact).unwrap();
    let middle = altered.len() / 2;
    altered[middle] ^= 0xff;
    std::fs::write(&artifact, &altered).unwrap();
    let fresh = open(&dir);
    let run = fresh.run(call("calc", "add(4, 5)")).await.unwrap();
    assert!(matches!(
        run.summary().outcome,
        RunOutcome::Returned { wave, .. } if wave == "9"
    ));
    assert_ne!(std::fs::read(&artifact).unwrap(), altered, "recompiled");
}

/// A receipt sealed the way a host without a fuel meter seals it
/// (`meter: none`, `fuel: 0`, its own key) from `receipt`'s transcript,
/// written as a bare receipt file.
fn unmetered(
    receipt: &patina_receipts::Receipt,
    meter: patina_receipts::Meter,
    edit: impl FnOnce(&mut patina_receipts::Transcript),
    file: &std::path::Path,
) -> patina_receipts::Receipt {
    let mut transcript = receipt.transcript.clone();
    transcript.fuel = 0;
    edit(&mut transcript);
    let header = patina_receipts::canonical::Header {
        started_at_ms: 1,
        ended_at_ms: 2,
        meter,
        ..Default::default()
    };
    let identity = patina_receipts::Identity::from_seed([9; 32]);
    let sealed = patina_receipts::canonical::seal_with(transcript, &identity, &header, None);
    std::fs::write(file, patina_receipts::canonical::encode(&sealed)).unwrap();
    sealed
}

#[tokio::test]
async fn a_receipt_without_fuel_replays_on_the_portable_hash() {
    use patina_receipts::{Meter, Payload};
    let dir = tempfile::tempdir().unwrap();
    let mother = open(&dir);
    mother
        .install_file(children_artifacts::CALC.into(), named("calc"))
        .await
        .unwrap();
    let run = mother.run(call("calc", "add(2, 3)")).await.unwrap();
    let metered = run.receipt.unwrap();
    assert!(metered.transcript.fuel > 0);

    let file = dir.path().join("unmetered.json");
    let receipt = unmetered(&metered, Meter::None, |_| {}, &file);
    let replay = mother
        .replay(&ReceiptRef::File(file.clone()))
        .await
        .unwrap();
    let summary = replay.summary();
    assert!(replay.replay.matched(), "{:?}", summary.divergence);
    assert_eq!(summary.transcript_hash, receipt.transcript_hash);
    assert_eq!(
        receipt.transcript_hash,
        patina_receipts::portable_hash(&metered.transcript)
    );

    // The portable hash still covers everything else: another result diverges.
    let receipt = unmetered(
        &metered,
        Meter::None,
        |t| {
            if let patina_receipts::OutcomeStatus::Returned { results, .. } = &mut t.outcome.status
            {
                *results = Payload::Text("6".into());
            }
        },
        &file,
    );
    let replay = mother
        .replay(&ReceiptRef::File(file.clone()))
        .await
        .unwrap();
    let divergence = replay.replay.divergence.clone().expect("another result");
    assert_eq!(divergence.index, receipt.transcript.events.len() as u64);
    assert!(divergence.expected.unwrap().contains("returned 6"));

    // A receipt that claims fuel metering is held to its fuel, 0 here.
    unmetered(&metered, Meter::Fuel, |_| {}, &file);
    let replay = mother.replay(&ReceiptRef::File(file)).await.unwrap();
    let divergence = replay
        .replay
        .divergence
        .clone()
        .expect("fuel 0 is not the fuel");
    assert_eq!(divergence.expected.as_deref(), Some("fuel 0"));
}
