//! `wasi:http` in the base, through the real host and a real Rust child
//! (`http-fetch`, which calls `wasi:http/outgoing-handler` itself): linked
//! with no grant, every request refused unless an `http:` grant allows its
//! host — by the `http` toy's own rules (IP literal vs name, redirects,
//! body cap) — every exchange recorded and replayed from the receipt; and
//! `--deny-missing` linking an interface that uses another's resources.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use patina_host::{ReplaySource, RunFailure, RunRefused, RunReport};
use patina_receipts::{Event, EventResult};
use patina_tests::{child, host_with, request, run, wat_child};
use patina_toys::HttpToy;

use crate::http::{serve, wait_gone};

/// A host whose `wasi:http` goes through the `http` toy (as a Mother's does).
pub(crate) fn host() -> patina_host::Host {
    let mut toys = patina_toys::log_only();
    let http = Arc::new(HttpToy::new());
    toys.register(http.clone());
    toys.set_outgoing_http(http);
    host_with(toys)
}

/// The `wasi:http` exchanges a run recorded.
pub(crate) fn exchanges(report: &RunReport) -> Vec<Event> {
    let (transcript, _) = report.transcript().expect("recorded");
    transcript
        .events
        .into_iter()
        .filter(|e| e.toy == "wasi:http/outgoing-handler")
        .collect()
}

/// What `http-fetch` answers when its request was refused.
const DENIED: &str = r#"err("ErrorCode::HttpRequestDenied")"#;

/// Runs `call` of `http-fetch` under `grants`: its answer (WAVE) and report.
async fn fetch_with(host: &patina_host::Host, call: &str, grants: &[&str]) -> (String, RunReport) {
    let fetch = child(host, "http-fetch");
    let report = run(host, &fetch, call, grants)
        .await
        .expect("wasi:http is base");
    (report.wave().unwrap_or_default(), report)
}

/// The recorded answer of an exchange, as text.
pub(crate) fn answer(event: &Event) -> String {
    match &event.result {
        EventResult::Ok(payload) => payload.display(),
        other => format!("{other:?}"),
    }
}

#[tokio::test]
async fn a_rust_child_reaches_only_granted_hosts_and_every_exchange_is_recorded() {
    let port = serve(
        1,
        Arc::new(|_, path, _| (200, vec![], format!("hello {path}").into())),
    );
    let host = host();
    let url = format!("http://127.0.0.1:{port}/x");
    let call = format!("get({url:?})");

    // No grant: the run starts (wasi:http is base), the request is refused.
    let (wave, report) = fetch_with(&host, &call, &[]).await;
    assert_eq!(wave, DENIED);
    let refused = exchanges(&report);
    assert_eq!(refused.len(), 1, "the refusal is recorded");
    assert_eq!(refused[0].function, "handle");
    assert!(
        refused[0]
            .args
            .display()
            .contains(&format!("url: \"{url}\"")),
        "{}",
        refused[0].args.display()
    );
    assert_eq!(answer(&refused[0]), r#"(err(denied("127.0.0.1")))"#);

    let grant = format!("http:http://127.0.0.1:{port}");
    let (wave, report) = fetch_with(&host, &call, &[&grant]).await;
    assert_eq!(wave, r#"ok((200, "hello /x"))"#);
    let granted = exchanges(&report);
    assert_eq!(granted.len(), 1);
    let args = granted[0].args.display();
    assert!(
        args.starts_with(r#"({method: "GET", url: "http://127.0.0.1:"#),
        "{args}"
    );
    let answer = answer(&granted[0]);
    assert!(
        answer.starts_with("(ok({status: 200, headers: ["),
        "{answer}"
    );
    assert!(
        answer.contains("body: [104, 101, 108, 108, 111, 32, 47, 120]"),
        "{answer}"
    );
}

#[tokio::test]
async fn an_ip_literal_grant_is_not_a_name_grant_and_the_reverse() {
    let hits = Arc::new(AtomicUsize::new(0));
    let seen = hits.clone();
    let port = serve(
        1,
        Arc::new(move |_, _, _| {
            seen.fetch_add(1, Ordering::SeqCst);
            (200, vec![], b"reached".to_vec())
        }),
    );
    let host = host();
    let (address, name) = (
        format!("http:http://127.0.0.1:{port}"),
        format!("http:http://localhost:{port}"),
    );
    let other_port = port.wrapping_add(1).max(1);
    let cases = [
        (format!("get(\"http://localhost:{port}/\")"), &address),
        (format!("get(\"http://127.0.0.1:{port}/\")"), &name),
        // Another port of a granted address is another origin.
        (format!("get(\"http://127.0.0.1:{other_port}/\")"), &address),
    ];
    for (call, grant) in &cases {
        let (wave, _) = fetch_with(&host, call, &[grant]).await;
        assert_eq!(wave, DENIED, "{call} with {grant}");
    }
    assert_eq!(hits.load(Ordering::SeqCst), 0, "nothing reached the server");
}

#[tokio::test]
async fn a_redirect_to_an_ungranted_host_is_refused() {
    let elsewhere = serve(1, Arc::new(|_, _, _| (200, vec![], b"landed".to_vec())));
    let target = format!("http://127.0.0.1:{elsewhere}/landing");
    let port = serve(
        2,
        Arc::new(move |_, _, _| (302, vec![("Location".into(), target.clone())], vec![])),
    );
    let host = host();
    let call = format!("get(\"http://127.0.0.1:{port}/start\")");
    let first = format!("http:http://127.0.0.1:{port}");
    let (wave, report) = fetch_with(&host, &call, &[&first]).await;
    assert_eq!(wave, DENIED);
    assert_eq!(
        answer(&exchanges(&report)[0]),
        r#"(err(denied("127.0.0.1")))"#
    );

    let second = format!("http:http://127.0.0.1:{elsewhere}");
    let (wave, _) = fetch_with(&host, &call, &[&first, &second]).await;
    assert_eq!(wave, r#"ok((200, "landed"))"#);
}

/// A granted *name* reaches public addresses only: this machine's own
/// host name, when it resolves to a loopback address, is refused (a grant
/// of `localhost`, the one exception, reaches loopback).
#[tokio::test]
async fn a_granted_name_that_resolves_to_a_private_address_is_refused() {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let name = name.trim().to_ascii_lowercase();
    let private = std::net::ToSocketAddrs::to_socket_addrs(&(name.as_str(), 80))
        .map(|mut addrs| addrs.all(|a| a.ip().is_loopback()))
        .unwrap_or(false);
    if name.is_empty() || name == "localhost" || !private {
        eprintln!(
            "SKIPPED: this machine's host name ({name:?}) does not resolve to loopback only; \
             the private-address filter is covered by the http toy's own tests"
        );
        return;
    }
    let port = serve(1, Arc::new(|_, _, _| (200, vec![], b"internal".to_vec())));
    let host = host();
    let call = format!("get(\"http://{name}:{port}/\")");
    let (wave, report) = fetch_with(&host, &call, &[&format!("http:http://{name}:{port}")]).await;
    assert_eq!(wave, DENIED);
    assert_eq!(
        answer(&exchanges(&report)[0]),
        format!("(err(denied({name:?})))")
    );
}

#[tokio::test]
async fn a_body_over_the_cap_is_refused_before_anything_is_sent() {
    let hits = Arc::new(AtomicUsize::new(0));
    let seen = hits.clone();
    let port = serve(
        1,
        Arc::new(move |_, _, body| {
            seen.fetch_add(1, Ordering::SeqCst);
            (200, vec![], body.len().to_string().into_bytes())
        }),
    );
    let host = host();
    let fetch = child(&host, "http-fetch");
    let grant = format!("http:http://127.0.0.1:{port}");
    let cap = 16 << 20;
    let over = format!("post-size(\"http://127.0.0.1:{port}/\", {})", cap + 1);
    let report = run(&host, &fetch, &over, &[&grant]).await.unwrap();
    let wave = report.wave().unwrap_or_default();
    assert!(
        wave.contains("invalid request: body larger than 16777216 bytes (16 MiB): 16777217 bytes"),
        "{wave}"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 0, "nothing was sent");
    // Written after the request was handed over, a body under the cap goes.
    let call = format!("post(\"http://127.0.0.1:{port}/\", \"twelve bytes\")");
    let report = run(&host, &fetch, &call, &[&grant]).await.unwrap();
    assert_eq!(report.wave().as_deref(), Some(r#"ok((200, "12"))"#));
}

#[tokio::test]
async fn a_recorded_exchange_replays_exactly_after_the_server_is_gone() {
    let port = serve(
        1,
        Arc::new(|_, _, body| (201, vec![], [b"got ", body].concat())),
    );
    let host = host();
    let fetch = child(&host, "http-fetch");
    let grant = format!("http:http://127.0.0.1:{port}");
    let body = "b".repeat(300);
    let call = format!("post(\"http://127.0.0.1:{port}/\", {body:?})");
    let report = run(&host, &fetch, &call, &[&grant]).await.unwrap();
    assert_eq!(report.wave().unwrap(), format!("ok((201, \"got {body}\"))"));
    let exchange = &exchanges(&report)[0];
    assert!(
        exchange.args.display().contains("body: some(<blob:"),
        "a body over 256 bytes is a blob: {}",
        exchange.args.display()
    );
    let (transcript, blobs) = report.transcript().expect("recorded");

    wait_gone(port);
    let replay = host
        .replay(
            &fetch,
            ReplaySource {
                transcript: transcript.clone(),
                blobs: blobs.clone(),
            },
        )
        .await
        .unwrap();
    assert!(replay.matched(), "{:?}", replay.divergence);
    assert_eq!(
        replay.report.wave().unwrap(),
        format!("ok((201, \"got {body}\"))")
    );
    assert_eq!(
        replay.transcript_hash,
        patina_receipts::canonical::transcript_hash(&transcript)
    );

    // Without the request body's blob, the replay cannot pretend.
    let replay = host
        .replay(
            &fetch,
            ReplaySource {
                transcript,
                blobs: Vec::new(),
            },
        )
        .await
        .unwrap();
    assert!(!replay.matched(), "a replay without the blobs diverges");
}

/// An interface that uses a resource of another (`acme:timers/timer`
/// returns `wasi:io/poll`'s `pollable`): with deny-missing it links, and a
/// call fails `denied: <import>`, recorded as a denial.
const USES_ANOTHERS_RESOURCE: &str = r#"
(component
  (import "wasi:io/poll@0.2.6" (instance $poll
    (export "pollable" (type (sub resource)))
  ))
  (alias export $poll "pollable" (type $pollable))
  (import "acme:timers/timer@0.1.0" (instance $timer
    (export "pollable" (type $p (eq $pollable)))
    (export "after" (func (param "ms" u64) (result (own $p))))
  ))
  (core func $after (canon lower (func $timer "after")))
  (core module $m
    (import "acme" "after" (func $after (param i64) (result i32)))
    (func (export "wait") (result i32) (call $after (i64.const 5)))
  )
  (core instance $i (instantiate $m (with "acme" (instance (export "after" (func $after))))))
  (func (export "wait") (result u32) (canon lift (core func $i "wait")))
)
"#;

#[tokio::test]
async fn deny_missing_links_an_interface_that_uses_anothers_resources() {
    let host = host();
    let child = wat_child(&host, USES_ANOTHERS_RESOURCE);
    let refused = run(&host, &child, "wait()", &[]).await.unwrap_err();
    let RunRefused::MissingGrants { missing } = &refused else {
        panic!("{refused}");
    };
    assert_eq!(missing[0].import, "acme:timers/timer@0.1.0");

    let mut denied = request("wait()", &[]);
    denied.deny_missing = true;
    let report = host
        .run(&child, &denied)
        .await
        .expect("links with deny stubs");
    assert_eq!(
        report.outcome.as_ref().unwrap_err(),
        &RunFailure::Denied {
            import: "acme:timers/timer@0.1.0".into()
        }
    );
    let (transcript, _) = report.transcript().unwrap();
    let event = transcript.events.last().expect("the denial is recorded");
    assert_eq!(
        (event.toy.as_str(), event.function.as_str()),
        ("acme:timers/timer@0.1.0", "after")
    );
    assert_eq!(event.result, EventResult::Denied);
}
