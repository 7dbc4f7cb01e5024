//! A toy written outside Patina's toy crates, the way a third party would
//! (`third-party-toy`, against `patina-toy` alone): implement `Toy`,
//! register it, grant it. Its calls go through the same generic linking as
//! Patina's own toys, per-run state is fresh for every run, and the artifact
//! cache lets a second host skip compilation.

use std::sync::Arc;

use patina_host::{Host, HostConfig, RunRefused};
use third_party_toy::CounterToy;

const TWICE_WAT: &str = r#"
(component
  (import "acme:counter/counter@1.0.0" (instance $c (export "next" (func (result u32)))))
  (core func $next (canon lower (func $c "next")))
  (core module $m
    (import "c" "next" (func $next (result i32)))
    (func (export "twice") (result i32) (i32.add (call $next) (call $next))))
  (core instance $i (instantiate $m (with "c" (instance (export "next" (func $next))))))
  (func (export "twice") (result u32) (canon lift (core func $i "twice"))))
"#;

fn host_with_counter(cache: Option<std::path::PathBuf>) -> (Host, Arc<CounterToy>) {
    let toy = Arc::new(CounterToy::new());
    let mut toys = patina_toys::log_only();
    toys.register(toy.clone());
    let host = Host::new(HostConfig {
        toys,
        cache_dir: cache,
        ..HostConfig::default()
    })
    .unwrap();
    (host, toy)
}

#[tokio::test]
async fn a_third_party_toy_is_granted_linked_and_fresh_per_run() {
    let (host, toy) = host_with_counter(None);
    let twice = patina_tests::wat_child(&host, TWICE_WAT);
    let report = patina_tests::run(&host, &twice, "twice()", &["counter:10"])
        .await
        .unwrap();
    assert_eq!(report.wave().as_deref(), Some("21"));
    let report = patina_tests::run(&host, &twice, "twice()", &["counter:10"])
        .await
        .unwrap();
    assert_eq!(
        report.wave().as_deref(),
        Some("21"),
        "state does not leak between runs"
    );
    assert_eq!(toy.instances(), 2);
    let err = patina_tests::run(&host, &twice, "twice()", &[])
        .await
        .unwrap_err();
    assert!(
        matches!(&err, RunRefused::MissingGrants { missing } if missing[0].grant.as_deref() == Some("counter"))
    );
    let err = patina_tests::run(&host, &twice, "twice()", &["counter:many"])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "bad-grant");
}

#[test]
fn a_second_host_takes_the_compiled_child_from_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let (first, _) = host_with_counter(Some(dir.path().to_owned()));
    let calc = first.load(children_artifacts::CALC_BYTES).unwrap();
    let cache = first
        .cache()
        .unwrap()
        .dir()
        .join(format!("{}.cwasm", calc.id().hex()));
    assert!(
        cache.is_file(),
        "compiled artifact written to {}",
        cache.display()
    );
    let written = patina_tests::file_identity(&cache);

    let (second, _) = host_with_counter(Some(dir.path().to_owned()));
    let again = second.load(children_artifacts::CALC_BYTES).unwrap();
    assert_eq!(again.id(), calc.id());
    assert_eq!(
        patina_tests::file_identity(&cache),
        written,
        "not recompiled"
    );

    std::fs::write(&cache, b"garbage").unwrap();
    let (third, _) = host_with_counter(Some(dir.path().to_owned()));
    assert!(
        third.load(children_artifacts::CALC_BYTES).is_ok(),
        "a damaged artifact is recompiled"
    );
    assert_ne!(std::fs::read(&cache).unwrap(), b"garbage");
}

#[test]
fn a_keyed_cache_loads_only_artifacts_it_tagged() {
    let dir = tempfile::tempdir().unwrap();
    let keyed = |key: [u8; 32]| {
        Host::new(HostConfig {
            cache_dir: Some(dir.path().to_owned()),
            cache_key: Some(key),
            ..HostConfig::with_toys(patina_toys::log_only(), None)
        })
        .unwrap()
    };
    let first = keyed([1; 32]);
    let calc = first.load(children_artifacts::CALC_BYTES).unwrap();
    let path = first
        .cache()
        .unwrap()
        .dir()
        .join(format!("{}.cwasm", calc.id().hex()));
    let tagged_by_one = std::fs::read(&path).unwrap();
    let written = patina_tests::file_identity(&path);
    let tag_path = path.with_extension("tag");
    let tag_by_one = std::fs::read(&tag_path).unwrap();

    // The same key takes the artifact as it is (same bytes would not prove
    // that: compilation is deterministic; the file itself must be untouched).
    keyed([1; 32]).load(children_artifacts::CALC_BYTES).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), tagged_by_one);
    assert_eq!(
        patina_tests::file_identity(&path),
        written,
        "not recompiled"
    );

    // Another key does not trust it: it compiles afresh and tags its own.
    let other = keyed([2; 32]);
    let again = other.load(children_artifacts::CALC_BYTES).unwrap();
    assert_eq!(patina_tests::wave_sync(&other, &again, "add(2, 3)"), "5");
    // (The artifact's bytes are the same, compilation being deterministic;
    // the keyed tag lives in the tag file beside it, and that is rewritten
    // under the other key. The artifact's inode is no witness: a file
    // written anew may get the inode number the old one freed.)
    assert_ne!(
        std::fs::read(&tag_path).unwrap(),
        tag_by_one,
        "tagged anew under the other key"
    );

    // A flipped byte inside a tagged artifact is caught before it is loaded.
    let mut altered = std::fs::read(&path).unwrap();
    let middle = altered.len() / 2;
    altered[middle] ^= 0xff;
    std::fs::write(&path, &altered).unwrap();
    keyed([2; 32]).load(children_artifacts::CALC_BYTES).unwrap();
    assert_ne!(
        std::fs::read(&path).unwrap(),
        altered,
        "an altered artifact is replaced, not run"
    );
}

/// A toy that cannot save what the run produced leaves a warning, not a
/// different outcome: the replay (which finishes no toy) still matches.
#[tokio::test]
async fn a_failed_finish_is_a_warning_and_the_run_still_replays() {
    let (host, _) = host_with_counter(None);
    let twice = patina_tests::wat_child(&host, TWICE_WAT);
    let mut report = patina_tests::run(&host, &twice, "twice()", &["counter:13"])
        .await
        .unwrap();
    assert_eq!(report.wave().as_deref(), Some("27"));
    assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
    assert!(report.warnings[0].contains("ledger is full"));
    let (transcript, blobs) = report.take_transcript().unwrap();
    let replay = host
        .replay(&twice, patina_host::ReplaySource { transcript, blobs })
        .await
        .unwrap();
    assert!(replay.matched(), "{:?}", replay.divergence);
    assert!(replay.report.warnings.is_empty());
}
