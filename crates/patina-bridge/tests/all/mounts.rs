//! Bridge children mounted on the bridge (`--mount PREFIX=CHILD,GRANT`):
//! each request is the caller's run, decided by the membrane
//! (`Access::handle_http`) — no token is 401, a child or grant beyond the
//! role is 403 naming it, an oversized body is 413 — answered with the
//! child's own response and its receipt; a child that loops or hogs memory
//! is stopped at the role's limits and the bridge keeps serving.

use patina_mother::ReceiptRef;

use crate::common::{Bridged, post_head_only};

/// The stored receipt `id`.
fn receipt(bridge: &Bridged, id: &str) -> patina_receipts::Receipt {
    bridge
        .block_on(bridge.mother.receipt(&ReceiptRef::Stored(id.into())))
        .unwrap_or_else(|e| panic!("receipt {id}: {e}"))
        .0
}

#[test]
fn a_mounted_child_answers_as_itself_with_its_receipt_and_never_sees_the_token() {
    let bridge = Bridged::with_mounts(&["/edge=echo"]);
    let token = bridge.token("edge");
    let answer = bridge.send("PUT", "/edge/echo?x=1", Some(&token), b"hello mount");
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body, "hello mount");
    assert_eq!(answer.header("x-method"), Some("PUT"));
    assert_eq!(
        answer.header("x-path"),
        Some("/echo?x=1"),
        "the prefix is taken off"
    );

    let id = answer.header("patina-receipt").expect("the receipt's id");
    let receipt = receipt(&bridge, id);
    patina_receipts::verify(&receipt).unwrap();
    let caller = receipt.caller.as_ref().expect("the caller is named");
    assert_eq!(
        (caller.role.as_str(), caller.door.as_str()),
        ("edge", "http")
    );
    let recorded = format!("{:?}", receipt.transcript.call.args);
    assert!(recorded.contains("/echo?x=1"), "{recorded}");
    let secret = token.rsplit('_').next().unwrap();
    assert!(
        !recorded.contains(secret),
        "the token reached the child: {recorded}"
    );
    assert!(
        !recorded.to_ascii_lowercase().contains("authorization"),
        "{recorded}"
    );

    // The bare prefix is the child's `/`: http-echo's 404, its own answer.
    let root = bridge.send("GET", "/edge", Some(&token), b"");
    assert_eq!(root.status, 404, "{}", root.body);
    assert!(root.header("patina-receipt").is_some());
}

#[test]
fn a_mount_refuses_what_the_callers_role_does_not_allow() {
    let bridge = Bridged::with_mounts(&["/edge=echo", "/app=web-gateway,invoke:calc"]);
    let none = bridge.send("POST", "/app/calc/add", None, b"[1, 2]");
    assert_eq!(
        (none.status, none.kind().as_str()),
        (401, "unauthenticated")
    );
    assert!(none.header("www-authenticate").is_some());
    let forged = bridge.send("POST", "/app/calc/add", Some("patina_nope_nope"), b"[1, 2]");
    assert_eq!(forged.status, 401, "{}", forged.body);

    // A role that may not run the child: 403 naming the child.
    let caller = bridge.token("caller");
    let child = bridge.send("POST", "/edge/echo", Some(&caller), b"x");
    assert_eq!((child.status, child.kind().as_str()), (403, "child-denied"));
    assert!(child.message().contains("echo"), "{}", child.message());
    // A role that may run it, but not with the mount's grant: 403 naming it.
    let ungranted = bridge.token("edge-ungranted");
    let grant = bridge.send("POST", "/app/calc/add", Some(&ungranted), b"[1, 2]");
    assert_eq!(
        (grant.status, grant.kind().as_str()),
        (403, "grant-above-ceiling")
    );
    assert!(
        grant.message().contains("invoke:calc"),
        "{}",
        grant.message()
    );
    // A role without runtime.run at all: 403 naming the method.
    let blind = bridge.token("metrics-only");
    let method = bridge.send("GET", "/edge/echo", Some(&blind), b"");
    assert_eq!((method.status, method.kind().as_str()), (403, "denied"));
    assert!(
        method.message().contains("runtime.run"),
        "{}",
        method.message()
    );

    // Over the bridge's body cap: 413 before any child runs.
    let edge = bridge.token("edge");
    let over = post_head_only(&bridge.url, "/edge/echo", &edge, (1 << 20) + 1);
    assert!(over.starts_with("HTTP/1.1 413"), "{over}");
    assert!(over.contains("\"payload-too-large\""), "{over}");

    // And the gateway, granted, reaches calc.
    let ok = bridge.send("POST", "/app/calc/add", Some(&edge), b"[1, 2]");
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.json()["result"], 3);
}

#[test]
fn a_looping_or_hogging_bridge_child_is_stopped_and_the_bridge_serves_on() {
    let bridge = Bridged::with_mounts(&["/edge=echo"]);
    let token = bridge.token("edge");
    // The role's ceilings (fuel 50M, memory 32 MiB) are the run's limits.
    let looped = bridge.send("GET", "/edge/loop", Some(&token), b"");
    assert_eq!(
        (looped.status, looped.kind().as_str()),
        (422, "out-of-fuel")
    );
    assert!(
        looped.json()["receipt"]["id"].is_string(),
        "{}",
        looped.body
    );
    assert!(looped.header("patina-receipt").is_some());
    let hog = bridge.send("GET", "/edge/hog", Some(&token), b"");
    assert_eq!(
        (hog.status, hog.kind().as_str()),
        (422, "memory-limit-exceeded")
    );
    let none = bridge.send("GET", "/edge/none", Some(&token), b"");
    assert_eq!(
        (none.status, none.kind().as_str()),
        (502, "http-reply"),
        "{}",
        none.body
    );

    let after = bridge.send("POST", "/edge/echo", Some(&token), b"still here");
    assert_eq!((after.status, after.body.as_str()), (200, "still here"));
    let rest = bridge.call(&bridge.token("caller"), "calc", "add", "[2, 2]");
    assert_eq!(rest.json()["result"], 4);
}
