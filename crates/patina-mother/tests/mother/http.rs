//! [`Mother::handle_http`] with real bridge children: `http-echo` answers
//! with a signed, stored receipt that replays (large bodies and all), a
//! child that loops is stopped and the Mother keeps serving, and
//! `web-gateway` reaches `calc` through `invoke` exactly as an embedded run
//! does — same result, same transcript hash — and nothing it was not
//! granted.

use patina_mother::{
    CallSpec, ChildRef, HttpCall, HttpReply, LimitsSpec, Mother, ReceiptRef, RunSpec,
};
use serde_json::Value;

use super::{named, open};

async fn install(mother: &Mother, bytes: &[u8], name: &str) {
    mother.install(bytes.to_vec(), named(name)).await.unwrap();
}

fn post(path: &str, body: &str) -> HttpCall {
    let mut call = HttpCall::new("POST", path);
    call.headers
        .push(("content-type".into(), "application/json".into()));
    call.body = body.as_bytes().to_vec();
    call
}

/// Serves `call` with the installed `child` under `grants`: the reply (the
/// run must have returned one) and the id of its stored receipt.
async fn serve(
    mother: &Mother,
    child: &str,
    call: HttpCall,
    grants: &[&str],
) -> (HttpReply, String) {
    let grants: Vec<String> = grants.iter().map(|g| (*g).to_owned()).collect();
    let served = mother
        .handle_http(
            &ChildRef::Installed(child.into()),
            call,
            &grants,
            LimitsSpec::default(),
        )
        .await
        .expect("the bridge run starts");
    let receipt = served.run.receipt.expect("a bridge run is recorded");
    patina_receipts::verify(&receipt).unwrap();
    (served.reply.expect("a reply"), receipt.id.to_string())
}

/// Replays the stored receipt `id`, which must match: the replayed run.
async fn replays(mother: &Mother, id: &str) -> patina_host::RunReport {
    let replayed = mother.replay(&ReceiptRef::Stored(id.into())).await.unwrap();
    let replay = replayed.replay;
    assert!(replay.matched(), "{id}: {:?}", replay.divergence);
    replay.report
}

fn json(reply: &HttpReply) -> Value {
    serde_json::from_slice(&reply.body)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&reply.body)))
}

#[tokio::test]
async fn a_bridge_child_answers_with_a_stored_receipt_that_replays() {
    let dir = tempfile::tempdir().unwrap();
    let mother = open(&dir);
    install(&mother, children_artifacts::HTTP_ECHO_BYTES, "echo").await;
    let body = "z".repeat(1000);
    let (reply, receipt) = serve(&mother, "echo", post("/echo", &body), &[]).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, body.as_bytes());

    // The stored receipt carries the request's and response's body blob.
    let replayed = replays(&mother, &receipt).await;
    assert_eq!(replayed.http_reply.as_ref(), Some(&reply));
    let exported = mother
        .export_receipt(&ReceiptRef::Stored(receipt))
        .await
        .unwrap();
    assert_eq!(exported.blobs.len(), 1, "one blob: the same body both ways");
    let other = tempfile::tempdir().unwrap();
    let elsewhere = open(&other);
    install(&elsewhere, children_artifacts::HTTP_ECHO_BYTES, "echo").await;
    let imported = elsewhere.import_receipt(exported.encode()).await.unwrap();
    // The export kept the bodies' blob.
    replays(&elsewhere, &imported.receipt.id.to_string()).await;
}

#[tokio::test]
async fn a_looping_bridge_child_is_stopped_and_the_mother_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let mother = open(&dir);
    install(&mother, children_artifacts::HTTP_ECHO_BYTES, "echo").await;
    let limits = LimitsSpec {
        fuel: Some(20_000_000),
        ..LimitsSpec::default()
    };
    let echo = ChildRef::Installed("echo".into());
    let served = mother
        .handle_http(&echo, HttpCall::new("GET", "/loop"), &[], limits)
        .await
        .unwrap();
    assert_eq!(served.reply.unwrap_err().kind(), "out-of-fuel");
    assert!(
        served.run.receipt.is_some(),
        "a stopped run keeps its receipt"
    );
    let (reply, _) = serve(&mother, "echo", post("/echo", "after"), &[]).await;
    assert_eq!(reply.body, b"after");

    let refused = mother
        .handle_http(
            &ChildRef::Installed("nobody".into()),
            HttpCall::new("GET", "/"),
            &[],
            LimitsSpec::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), "unknown-child", "{refused}");
}

#[tokio::test]
async fn the_gateway_reaches_calc_as_an_embedded_run_does() {
    let dir = tempfile::tempdir().unwrap();
    let mother = open(&dir);
    install(&mother, children_artifacts::CALC_BYTES, "calc").await;
    install(&mother, children_artifacts::WEB_GATEWAY_BYTES, "gateway").await;

    let (reply, gateway_receipt) = serve(
        &mother,
        "gateway",
        post("/calc/add", "[2, 3]"),
        &["invoke:calc"],
    )
    .await;
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let answer = json(&reply);
    assert_eq!(answer["result"], 5);
    let callee = answer["receipt"].as_str().expect("the callee's receipt id");

    let embedded = mother
        .run(RunSpec::new(
            ChildRef::Installed("calc".into()),
            CallSpec::Wave("add(2, 3)".into()),
        ))
        .await
        .unwrap();
    assert_eq!(embedded.report.wave().as_deref(), Some("5"));
    let embedded = embedded.receipt.unwrap();
    let (through, _) = mother
        .receipt(&ReceiptRef::Stored(callee.into()))
        .await
        .unwrap();
    assert_eq!(
        through.transcript_hash, embedded.transcript_hash,
        "the same run, whoever asked for it"
    );
    assert_ne!(through.id, embedded.id);

    // The gateway's own run replays; its invoke is answered from its receipt.
    replays(&mother, &gateway_receipt).await;
}

#[tokio::test]
async fn the_gateway_reaches_nothing_its_grants_do_not_name() {
    let dir = tempfile::tempdir().unwrap();
    let mother = open(&dir);
    install(&mother, children_artifacts::CALC_BYTES, "calc").await;
    install(&mother, children_artifacts::HELLO_LOG_BYTES, "hello").await;
    install(&mother, children_artifacts::WEB_GATEWAY_BYTES, "gateway").await;
    let calc = &["invoke:calc"][..];
    let cases: [(HttpCall, &[&str], (u16, &str)); 8] = [
        // Another installed child, not granted: not reached.
        (
            post("/hello/greet", r#"["ann"]"#),
            calc,
            (403, "not-granted"),
        ),
        // Granted but not installed; a bad function; arguments that do not
        // fit; JSON that does not parse.
        (
            post("/ghost/f", "[]"),
            &["invoke:ghost"],
            (404, "not-installed"),
        ),
        (post("/calc/nope", "[]"), calc, (400, "not-started")),
        (post("/calc/add", r#"[2, "x"]"#), calc, (400, "not-started")),
        (post("/calc/add", "[2,"), calc, (400, "not-started")),
        // Routes and methods.
        (
            HttpCall::new("GET", "/calc/add"),
            calc,
            (405, "method-not-allowed"),
        ),
        (post("/calc", "[]"), calc, (404, "not-found")),
        // The gateway cannot reach itself.
        (
            post("/gateway/handle", "[]"),
            &["invoke:gateway"],
            (403, "self-call"),
        ),
    ];
    for (call, grants, (status, kind)) in cases {
        let path = call.path_with_query.clone();
        let (reply, _) = serve(&mother, "gateway", call, grants).await;
        let body = json(&reply);
        assert_eq!(
            (
                reply.status,
                body["error"]["kind"].as_str().unwrap_or_default()
            ),
            (status, kind),
            "{path}: {body}"
        );
        if kind == "not-granted" {
            let message = body["error"]["message"].as_str().unwrap_or_default();
            assert!(message.contains("grant `invoke:hello`"), "{message}");
        }
    }
}
