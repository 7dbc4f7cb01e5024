//! Every toy that takes or returns bytes (`blob`, `fs`, `kv`, `http`), driven
//! by a real child (`byte-probe`) with a payload exactly at the toy's cap and
//! one byte over: at the cap the bytes make the round trip intact, over it the
//! child gets the error its WIT names — never a trap of the host's lifting.
//! Runs are recorded (the default mode), so the tape sees the payloads too.

use std::sync::Arc;

use patina_tests::{child, host_with, request};
use patina_toys::{BlobToy, FsToy, HttpToy, KvToy};

use super::http::serve;

/// A host with the four byte-carrying toys, their state in `state`.
fn host(state: &std::path::Path) -> patina_host::Host {
    let mut toys = patina_toys::log_only();
    toys.register(Arc::new(BlobToy::new(state.join("blobs"))));
    toys.register(Arc::new(FsToy::new()));
    toys.register(Arc::new(KvToy::open(state.join("kv.sqlite")).unwrap()));
    toys.register(Arc::new(HttpToy::new()));
    host_with(toys)
}

/// The WAVE result of `call` on `byte-probe`, which must return (the toys
/// not granted are denied: each test grants only the one it probes).
async fn probe(host: &patina_host::Host, call: &str, grants: &[&str]) -> String {
    let probe = child(host, "byte-probe");
    let mut request = request(call, grants);
    request.deny_missing = true;
    let report = host.run(&probe, &request).await.unwrap();
    match &report.outcome {
        Ok(_) => report.wave().unwrap(),
        Err(failure) => panic!("{call} failed instead of answering: {failure}"),
    }
}

#[tokio::test]
async fn blob_at_the_cap_round_trips_and_one_byte_over_is_refused() {
    let state = tempfile::tempdir().unwrap();
    let host = host(state.path());
    let cap = patina_toys::blob::MAX_BLOB;
    let at = probe(&host, &format!("blob-roundtrip({cap})"), &["blob"]).await;
    assert_eq!(at, format!("ok({cap})"));
    let over = probe(&host, &format!("blob-roundtrip({})", cap + 1), &["blob"]).await;
    assert_eq!(
        over,
        format!(
            r#"err("a blob holds at most {cap} bytes, got {}")"#,
            cap + 1
        )
    );
}

#[tokio::test]
async fn fs_at_the_cap_round_trips_and_one_byte_over_is_too_large() {
    let state = tempfile::tempdir().unwrap();
    let host = host(state.path());
    let dir = tempfile::tempdir().unwrap();
    let grant = format!("fs:{}:rw", dir.path().canonicalize().unwrap().display());
    let cap = patina_toys::fs::MAX_WRITE;
    let at = probe(&host, &format!(r#"fs-roundtrip("at", {cap})"#), &[&grant]).await;
    assert_eq!(at, format!("ok({cap})"));
    let over = probe(
        &host,
        &format!(r#"fs-roundtrip("over", {})"#, cap + 1),
        &[&grant],
    )
    .await;
    assert_eq!(over, format!(r#"err("too-large({})")"#, cap + 1));
    assert!(
        !dir.path().join("over").exists(),
        "nothing is written past the cap"
    );
    // A file grown past the cap outside the child reads as too-large.
    std::fs::write(dir.path().join("big"), vec![7u8; cap as usize + 1]).unwrap();
    let big = probe(&host, r#"fs-read("big")"#, &[&grant]).await;
    assert_eq!(big, format!(r#"err("too-large({})")"#, cap + 1));
}

#[tokio::test]
async fn kv_at_the_cap_round_trips_and_one_byte_over_is_refused() {
    let state = tempfile::tempdir().unwrap();
    let host = host(state.path());
    let cap = patina_toys::kv::MAX_VALUE;
    let at = probe(&host, &format!("kv-roundtrip({cap})"), &["kv"]).await;
    assert_eq!(at, format!("ok({cap})"));
    let over = probe(&host, &format!("kv-roundtrip({})", cap + 1), &["kv"]).await;
    assert_eq!(
        over,
        format!(
            r#"err("a value holds at most {cap} bytes, got {}")"#,
            cap + 1
        )
    );
}

#[tokio::test]
async fn an_http_body_at_the_cap_is_sent_and_one_byte_over_is_invalid() {
    let cap = patina_toys::http::MAX_REQUEST_BODY;
    // Echoes the length of the body it got, as that many bytes.
    let port = serve(1, Arc::new(|_, _, body| (200, vec![], body.to_vec())));
    let state = tempfile::tempdir().unwrap();
    let host = host(state.path());
    let grant = format!("http:http://127.0.0.1:{port}");
    let url = format!("http://127.0.0.1:{port}/echo");
    let at = probe(&host, &format!("http-post({url:?}, {cap})"), &[&grant]).await;
    assert_eq!(
        at,
        format!("ok({cap})"),
        "the whole body reached the server"
    );
    let over = probe(
        &host,
        &format!("http-post({url:?}, {})", cap + 1),
        &[&grant],
    )
    .await;
    // The WIT's error for a request body over the cap (`too-large` is for
    // the answer's body).
    assert_eq!(
        over,
        format!(
            r#"err("invalid(body larger than {cap} bytes (16 MiB): {} bytes)")"#,
            cap + 1
        )
    );
}

#[tokio::test]
async fn a_call_past_what_the_host_copies_is_refused_before_the_toy() {
    let state = tempfile::tempdir().unwrap();
    let host = host(state.path());
    let probe = child(&host, "byte-probe");
    // `blob.put` is typed: its budget is in bytes.
    let past = patina_host::TOY_CALL_BUDGET + 1;
    let mut request = request(&format!("blob-roundtrip({past})"), &["blob"]);
    request.deny_missing = true;
    let report = host.run(&probe, &request).await.unwrap();
    let failure = report.outcome.unwrap_err();
    assert_eq!(
        failure,
        patina_host::RunFailure::CallTooLarge {
            budget: patina_host::TOY_CALL_BUDGET as u64
        }
    );
    assert!(
        report.events.is_empty(),
        "the toy was never called, so nothing was recorded: {:?}",
        report.events
    );
}
