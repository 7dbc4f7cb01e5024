//! Calls, receipts, replay and metrics through the bridge, held against
//! the same Mother reached without it: the same child, unchanged, gives the
//! same result and the same transcript hash embedded, through the
//! membrane's socket, through REST and through the `web-gateway` bridge
//! child mounted on the bridge (which calls it with the `invoke` toy).

use patina_mother::{CallSpec, ChildRef, ReceiptRef, RunSpec};
use patina_receipts::ExportedReceipt;
use serde_json::{Value as Json, json};

use crate::common::Bridged;

#[test]
fn a_call_answers_result_receipt_and_summary_for_an_array_or_an_object() {
    let bridge = Bridged::start();
    let token = bridge.token("caller");
    let array = bridge.call(&token, "calc", "add", "[2, 3]");
    assert_eq!(array.status, 200, "{}", array.body);
    let array = array.json();
    assert_eq!(array["result"], 5);
    assert_eq!(array["wave"], "5");
    assert_eq!(array["summary"]["call"], "add");
    assert_eq!(array["summary"]["receipt"], array["receipt"]["id"]);
    let object = bridge
        .call(&token, "calc", "add", r#"{"b": 3, "a": 2}"#)
        .json();
    assert_eq!(object["result"], 5);
    // Same call, same transcript; another run, another receipt.
    assert_eq!(
        object["receipt"]["transcript_hash"],
        array["receipt"]["transcript_hash"]
    );
    assert_ne!(object["receipt"]["id"], array["receipt"]["id"]);
    // An interface function by its full name or its own name alone.
    let point = r#"{"p": {"x": 1, "y": -2}}"#;
    let full = bridge
        .call(&token, "calc", "patina:calc%2Ftypes.echo-point", point)
        .json();
    let short = bridge.call(&token, "calc", "echo-point", point).json();
    assert_eq!(full["result"], json!({"x": 1, "y": -2}), "{full}");
    assert_eq!(short["result"], full["result"]);
    // A live run has no receipt.
    let live = bridge.post(
        "/v1/children/calc/call/add?mode=live",
        Some(&token),
        "[1, 1]",
    );
    assert_eq!(live.json()["receipt"], Json::Null);
    // A role that does not say `live = true` runs recorded only: a live run
    // would leave no receipt of what its caller ran.
    let recorded_only = bridge.token("blind");
    let refused = bridge.post(
        "/v1/children/calc/call/add?mode=live",
        Some(&recorded_only),
        "[1, 1]",
    );
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert_eq!(
        refused.json()["error"]["kind"],
        "live-denied",
        "{}",
        refused.body
    );
    let recorded = bridge.call(&recorded_only, "calc", "add", "[1, 1]");
    assert_eq!(recorded.status, 200, "{}", recorded.body);
    assert!(recorded.json()["receipt"]["id"].is_string());
}

#[test]
fn the_same_child_answers_the_same_embedded_through_the_socket_over_rest_and_a_gateway() {
    let bridge = Bridged::with_mounts(&["/app=web-gateway,invoke:calc"]);
    // A role with no limit ceilings: the run's limits (recorded) are the
    // host's defaults, as embedded.
    let token = bridge.token("same");
    let spec = RunSpec::new(
        ChildRef::Installed("calc".into()),
        CallSpec::Json {
            function: "types.scale".into(),
            args: json!([{"x": 3, "y": -4}, 7]),
        },
    );
    // Embedded: the Mother itself.
    let embedded = bridge.block_on(bridge.mother.run(spec.clone())).unwrap();
    let embedded_summary = serde_json::to_value(embedded.summary()).unwrap();
    let embedded_receipt = embedded.receipt.expect("recorded");
    // The membrane's socket: a Unix socket, a login with the Mother's key.
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("m.sock");
    let seed = bridge.mother.identity().seed();
    let server = bridge.server.clone();
    let local = tokio::task::LocalSet::new();
    let remote = bridge.block_on(local.run_until(async {
        let listener = patina_membrane::bind(&socket).unwrap();
        let serving = server.clone();
        tokio::task::spawn_local(async move {
            patina_membrane::serve_unix(
                &serving,
                listener,
                std::future::pending::<()>(),
                std::time::Duration::ZERO,
            )
            .await;
        });
        let session = patina_membrane::Connection::unix(&socket)
            .await
            .unwrap()
            .login(&seed)
            .await
            .unwrap();
        session.run(&spec).await.unwrap()
    }));
    let remote_receipt = remote.receipt.expect("recorded");
    // REST.
    let rest = bridge.call(&token, "calc", "types.scale", r#"[{"x": 3, "y": -4}, 7]"#);
    assert_eq!(rest.status, 200, "{}", rest.body);
    let rest = rest.json();
    // A bridge child mounted on the bridge, calling calc through `invoke`.
    let gateway = bridge.send(
        "POST",
        "/app/calc/types.scale",
        Some(&token),
        br#"[{"x": 3, "y": -4}, 7]"#,
    );
    assert_eq!(gateway.status, 200, "{}", gateway.body);
    assert!(
        gateway.header("patina-receipt").is_some(),
        "the gateway's own run"
    );
    let gateway = gateway.json();
    let callee = gateway["receipt"].as_str().expect("the callee's receipt");
    let (callee, _) = bridge
        .block_on(bridge.mother.receipt(&ReceiptRef::Stored(callee.into())))
        .expect("the callee's receipt is stored");

    assert_eq!(rest["result"], json!({"x": 21, "y": -28}));
    assert_eq!(rest["result"], embedded_summary["result"]);
    assert_eq!(
        rest["result"],
        serde_json::to_value(&remote.summary).unwrap()["result"]
    );
    assert_eq!(gateway["result"], rest["result"]);
    let hash = embedded_receipt.transcript_hash.to_string();
    assert_eq!(remote_receipt.transcript_hash.to_string(), hash);
    assert_eq!(rest["receipt"]["transcript_hash"], hash);
    assert_eq!(
        callee.transcript_hash.to_string(),
        hash,
        "through the gateway: {:?}\nembedded: {:?}",
        callee.transcript,
        embedded_receipt.transcript
    );
    // Three receipts, each naming its own door.
    let doors: Vec<Option<String>> = [&embedded_receipt, &remote_receipt]
        .iter()
        .map(|r| r.caller.as_ref().map(|c| c.door.clone()))
        .collect();
    assert_eq!(doors, [None, Some("socket".to_owned())]);
}

#[test]
fn a_receipt_is_its_canonical_export_and_replays() {
    let bridge = Bridged::start();
    let token = bridge.token("caller");
    let ran = bridge
        .post(
            "/v1/children/hello-log/call/greet?grant=log",
            Some(&token),
            r#"["ann"]"#,
        )
        .json();
    let id = ran["receipt"]["id"].as_str().unwrap().to_owned();
    let exported = bridge.get(&format!("/v1/receipts/{id}"), Some(&token));
    assert_eq!(exported.status, 200);
    assert_eq!(exported.header("content-type"), Some("application/json"));
    let (receipt, blobs) = bridge
        .block_on(
            bridge
                .mother
                .receipt(&patina_mother::ReceiptRef::Stored(id.clone())),
        )
        .unwrap();
    let canonical = ExportedReceipt::new(receipt, &blobs).encode();
    assert_eq!(exported.body.as_bytes(), canonical.as_slice());
    // By a prefix too.
    let prefix = bridge.get(&format!("/v1/receipts/{}", &id[..12]), Some(&token));
    assert_eq!(prefix.body, exported.body);

    let replay = bridge.post(&format!("/v1/replay/{id}"), Some(&token), "");
    assert_eq!(replay.status, 200, "{}", replay.body);
    let replay = replay.json();
    assert_eq!(replay["matched"], true);
    assert_eq!(replay["replay_of"], id.as_str());
    assert_eq!(replay["transcript_hash"], ran["receipt"]["transcript_hash"]);
    assert_eq!(replay["result"], "hello, ann!");

    // Another caller's receipt is not this one's to see; an unknown one is 404.
    let other = bridge.token("runner");
    let denied = bridge.get(&format!("/v1/receipts/{id}"), Some(&other));
    assert_eq!(
        (denied.status, denied.kind().as_str()),
        (403, "receipt-denied")
    );
    let unknown = bridge.get(&format!("/v1/receipts/{}", "ab".repeat(32)), Some(&token));
    assert_eq!(
        (unknown.status, unknown.kind().as_str()),
        (404, "unknown-receipt")
    );
}

#[test]
fn metrics_count_the_runs_of_every_door() {
    let bridge = Bridged::start();
    let token = bridge.token("caller");
    for args in ["[1, 2]", "[3, 4]"] {
        assert_eq!(bridge.call(&token, "calc", "add", args).status, 200);
    }
    let spun = bridge.post(
        "/v1/children/limits/call/spin?fuel=1000000",
        Some(&token),
        "",
    );
    assert_eq!(spun.json()["error"]["kind"], "out-of-fuel");
    // A run from another door (in process, as MCP over stdio is) counts too.
    let local = bridge
        .server
        .access_as(
            patina_membrane::Principal::Local("t".into()),
            "admin",
            "mcp",
        )
        .unwrap();
    let spec = RunSpec::new(
        ChildRef::Installed("calc".into()),
        CallSpec::Wave("add(5, 5)".into()),
    );
    bridge.block_on(local.run(spec)).unwrap();
    let refused = bridge.call(&token, "calc", "add", r#"["x", 1]"#);
    assert_eq!(refused.kind(), "bad-arguments");

    let reader = bridge.token("reader");
    let metrics = bridge.get("/metrics", Some(&reader));
    assert_eq!(metrics.status, 200);
    assert!(
        metrics
            .header("content-type")
            .unwrap()
            .starts_with("text/plain; version=0.0.4"),
        "{:?}",
        metrics.headers
    );
    let text = metrics.body;
    for line in [
        "patina_runs_total{outcome=\"returned\"} 3",
        "patina_runs_total{outcome=\"out-of-fuel\"} 1",
        "patina_runs_total{outcome=\"refused\"} 1",
        "patina_run_duration_seconds_count 4",
        "patina_run_duration_seconds_bucket{le=\"+Inf\"} 4",
        "patina_receipts_appended_total 4",
        "# TYPE patina_run_duration_seconds histogram",
    ] {
        assert!(text.lines().any(|l| l == line), "no `{line}` in\n{text}");
    }
}
