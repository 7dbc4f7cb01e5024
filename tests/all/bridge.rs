//! Bridge children through the real host: `http-echo` exports
//! `wasi:http/incoming-handler` and is handed requests as ordinary runs
//! (`Call::Http`) — the request recorded as the call, the response as the
//! outcome, replayed exactly — under ordinary grants and limits: a child
//! that loops or hogs memory is stopped with its typed error, and the host
//! goes on serving.

use std::sync::Arc;

use patina_host::{
    Call, HttpCall, HttpReply, Limits, ReplaySource, RunFailure, RunRefused, RunReport, RunRequest,
};
use patina_receipts::OutcomeStatus;
use patina_tests::child;

use crate::http::serve;
use crate::wasi_http::{answer, exchanges, host};

fn call(method: &str, path: &str, body: &[u8]) -> HttpCall {
    let mut call = HttpCall::new(method, path);
    call.body = body.to_vec();
    call
}

fn request(call: HttpCall, grants: &[&str], limits: Limits) -> RunRequest {
    let mut request = RunRequest::new(Call::Http(call));
    request.grants = grants.iter().map(|g| g.parse().unwrap()).collect();
    request.limits = limits;
    request
}

async fn serve_one(
    host: &patina_host::Host,
    call: HttpCall,
    grants: &[&str],
    limits: Limits,
) -> RunReport {
    let echo = child(host, "http-echo");
    host.run(&echo, &request(call, grants, limits))
        .await
        .expect("a bridge run starts")
}

/// Replays a recorded run of `http-echo`, which must match: the replayed run.
async fn replays(
    host: &patina_host::Host,
    transcript: patina_receipts::Transcript,
    blobs: Vec<patina_receipts::Blob>,
) -> RunReport {
    let echo = child(host, "http-echo");
    let replay = host
        .replay(&echo, ReplaySource { transcript, blobs })
        .await
        .unwrap();
    assert!(replay.matched(), "{:?}", replay.divergence);
    replay.report
}

fn reply(report: &RunReport) -> &HttpReply {
    match (&report.outcome, &report.http_reply) {
        (Ok(_), Some(reply)) => reply,
        (outcome, _) => panic!("no reply: {outcome:?}"),
    }
}

fn header<'a>(reply: &'a HttpReply, name: &str) -> Option<&'a str> {
    reply
        .headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn a_request_is_the_call_the_response_the_outcome_and_both_replay() {
    let host = host();
    let mut echo_call = call("PUT", "/echo?x=1", b"hello bridge");
    echo_call.headers.push(("x-test".into(), "yes".into()));
    let report = serve_one(&host, echo_call.clone(), &[], Limits::default()).await;
    let got = reply(&report);
    assert_eq!(got.status, 200);
    assert_eq!(got.body, b"hello bridge");
    assert_eq!(header(got, "x-method"), Some("PUT"));
    assert_eq!(header(got, "x-path"), Some("/echo?x=1"));
    assert_eq!(header(got, "x-header-count"), Some("1"));

    let (transcript, blobs) = report.transcript().expect("recorded");
    assert!(
        transcript
            .call
            .function
            .starts_with("wasi:http/incoming-handler@")
            && transcript.call.function.ends_with(".handle"),
        "{}",
        transcript.call.function
    );
    assert_eq!(
        transcript.call.args,
        vec![
            r#"{method: "PUT", scheme: "http", authority: "localhost", path-with-query: "/echo?x=1", headers: [("x-test", "yes")], body: [104, 101, 108, 108, 111, 32, 98, 114, 105, 100, 103, 101]}"#
                .to_owned()
        ]
    );
    let OutcomeStatus::Returned { results, .. } = &transcript.outcome.status else {
        panic!("{:?}", transcript.outcome.status);
    };
    let results = results.display();
    assert!(
        results.starts_with("{status: 200, headers: [("),
        "{results}"
    );
    assert!(results.contains(r#"("x-method", "PUT")"#), "{results}");

    let replayed = replays(&host, transcript, blobs).await;
    assert_eq!(replayed.http_reply.as_ref(), Some(got));
}

#[tokio::test]
async fn large_bodies_are_blobs_and_a_reply_over_the_cap_is_a_typed_failure() {
    let host = host();
    let big = vec![b'q'; 5000];
    let report = serve_one(&host, call("POST", "/echo", &big), &[], Limits::default()).await;
    assert_eq!(reply(&report).body, big);
    let (transcript, blobs) = report.transcript().unwrap();
    assert!(
        transcript.call.args[0].contains("body: <blob:"),
        "a 5000-byte body is a blob"
    );
    let OutcomeStatus::Returned { results, .. } = &transcript.outcome.status else {
        panic!("returned");
    };
    assert!(results.display().contains("body: <blob:"));
    assert_eq!(blobs.len(), 1, "one blob for the same bytes both ways");
    replays(&host, transcript, blobs).await;

    let over = patina_host::MAX_HTTP_BODY + 1;
    let report = serve_one(
        &host,
        call("GET", &format!("/big?{over}"), b""),
        &[],
        Limits::default(),
    )
    .await;
    let Err(RunFailure::HttpReply { reason }) = &report.outcome else {
        panic!("{:?}", report.outcome);
    };
    assert!(reason.contains("larger than 16777216 bytes"), "{reason}");
}

#[tokio::test]
async fn a_looping_or_hogging_child_is_stopped_and_the_host_keeps_serving() {
    let host = host();
    let small_fuel = Limits {
        fuel: 50_000_000,
        ..Limits::default()
    };
    let report = serve_one(&host, call("GET", "/loop", b""), &[], small_fuel).await;
    assert_eq!(report.outcome.unwrap_err().kind(), "out-of-fuel");

    let short = Limits {
        timeout: std::time::Duration::from_millis(300),
        fuel: u64::MAX,
        ..Limits::default()
    };
    let report = serve_one(&host, call("GET", "/loop", b""), &[], short).await;
    assert_eq!(report.outcome.unwrap_err().kind(), "deadline-exceeded");

    let small_memory = Limits {
        memory: 32 << 20,
        ..Limits::default()
    };
    let report = serve_one(&host, call("GET", "/hog", b""), &[], small_memory).await;
    assert_eq!(report.outcome.unwrap_err().kind(), "memory-limit-exceeded");

    let report = serve_one(&host, call("GET", "/none", b""), &[], Limits::default()).await;
    assert_eq!(
        report.outcome.unwrap_err(),
        RunFailure::HttpReply {
            reason: "the child set no response".into()
        }
    );

    let report = serve_one(
        &host,
        call("GET", "/echo", b"still here"),
        &[],
        Limits::default(),
    )
    .await;
    assert_eq!(reply(&report).body, b"still here");
}

#[tokio::test]
async fn a_bridge_child_fetches_only_with_a_grant() {
    let port = serve(1, Arc::new(|_, _, _| (200, vec![], b"upstream".to_vec())));
    let host = host();
    let path = format!("/fetch?http://127.0.0.1:{port}/u");
    let report = serve_one(&host, call("GET", &path, b""), &[], Limits::default()).await;
    let refused = reply(&report);
    assert_eq!(refused.status, 502);
    assert_eq!(refused.body, b"ErrorCode::HttpRequestDenied");
    assert_eq!(
        answer(&exchanges(&report)[0]),
        r#"(err(denied("127.0.0.1")))"#
    );

    let grant = format!("http:http://127.0.0.1:{port}");
    let report = serve_one(&host, call("GET", &path, b""), &[&grant], Limits::default()).await;
    let fetched = reply(&report);
    assert_eq!(
        (fetched.status, fetched.body.as_slice()),
        (200, &b"upstream"[..])
    );
    assert_eq!(header(fetched, "x-upstream-status"), Some("200"));
}

#[tokio::test]
async fn requests_for_other_children_or_malformed_ones_are_refused_before_running() {
    let host = host();
    let refused = |name: &'static str, call: HttpCall| {
        let host = host.clone();
        async move {
            let target = child(&host, name);
            host.run(&target, &request(call, &[], Limits::default()))
                .await
                .expect_err("refused before running")
        }
    };
    let other = refused("calc", call("GET", "/", b"")).await;
    assert!(
        matches!(other, RunRefused::NotAnHttpHandler { .. }),
        "{other}"
    );
    assert_eq!(other.kind(), "not-an-http-handler");

    let mut injected = call("GET", "/echo", b"");
    injected
        .headers
        .push(("x".into(), "a\r\nhost: evil".into()));
    for bad in [
        injected,
        call("GET", "no-slash", b""),
        call("G T", "/", b""),
    ] {
        let refusal = refused("http-echo", bad.clone()).await;
        assert_eq!(refusal.kind(), "bad-http-call", "{bad:?}: {refusal}");
    }
}
