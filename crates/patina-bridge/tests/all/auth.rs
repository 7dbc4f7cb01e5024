//! Who gets in, and what their role lets them do: no token, a wrong or
//! revoked one (401), a method, child, grant or limit beyond the role
//! (403 naming it), a run rate (429 with Retry-After).

use crate::common::Bridged;

#[test]
fn no_token_a_wrong_one_and_a_revoked_one_are_401() {
    let bridge = Bridged::start();
    let none = bridge.get("/v1/children", None);
    assert_eq!(none.status, 401, "{}", none.body);
    assert_eq!(none.kind(), "unauthenticated");
    assert!(
        none.header("www-authenticate")
            .is_some_and(|v| v.starts_with("Bearer"))
    );

    let wrong = bridge.get("/v1/children", Some("patina_0123456789abcdef_00"));
    assert_eq!(
        (wrong.status, wrong.kind().as_str()),
        (401, "unauthenticated")
    );
    let basic = bridge.get_with_header("/v1/children", "Authorization", "Basic eDp5");
    assert_eq!(
        (basic.status, basic.kind().as_str()),
        (401, "unauthenticated")
    );

    let (info, token) = bridge
        .server
        .tokens()
        .create("caller", "soon-revoked", None)
        .unwrap();
    assert_eq!(bridge.get("/v1/children", Some(&token)).status, 200);
    bridge.server.tokens().revoke(&info.id).unwrap();
    let revoked = bridge.get("/v1/children", Some(&token));
    assert_eq!(revoked.status, 401, "{}", revoked.body);
    assert_eq!(revoked.kind(), "unauthenticated");
    assert!(
        revoked.message().contains("revoked"),
        "{}",
        revoked.message()
    );
}

#[test]
fn a_method_beyond_the_role_is_403_naming_it() {
    let bridge = Bridged::start();
    let reader = bridge.token("reader");
    let refused = bridge.call(&reader, "calc", "add", "[2, 3]");
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert_eq!(refused.kind(), "denied");
    assert!(
        refused.message().contains("runtime.run"),
        "{}",
        refused.message()
    );

    // A runner may run but not read the metrics; a reader may.
    let runner = bridge.token("runner");
    let metrics = bridge.get("/metrics", Some(&runner));
    assert_eq!((metrics.status, metrics.kind().as_str()), (403, "denied"));
    assert!(
        metrics.message().contains("runtime.metrics"),
        "{}",
        metrics.message()
    );
    assert_eq!(bridge.get("/metrics", Some(&reader)).status, 200);

    // A role without runtime.describe cannot see a child's schemas.
    let blind = bridge.token("blind");
    let described = bridge.get("/v1/children/calc", Some(&blind));
    assert_eq!(described.status, 403);
    assert!(described.message().contains("runtime.describe"));
    // ... and so cannot call with an argument object (that needs the schema),
    // but can with an array.
    let object = bridge.call(&blind, "calc", "add", r#"{"a": 2, "b": 3}"#);
    assert_eq!((object.status, object.kind().as_str()), (403, "denied"));
    assert_eq!(
        bridge.call(&blind, "calc", "add", "[2, 3]").json()["result"],
        5
    );
}

#[test]
fn a_child_grant_or_limit_beyond_the_role_is_403_naming_it() {
    let bridge = Bridged::start();
    let caller = bridge.token("caller");
    let blind = bridge.token("blind");
    let child = bridge.call(&blind, "limits", "noop", "[]");
    assert_eq!((child.status, child.kind().as_str()), (403, "child-denied"));
    assert!(child.message().contains("limits"), "{}", child.message());

    let grant = bridge.post(
        "/v1/children/calc/call/add?grant=fs%3A%2Fetc%3Aro",
        Some(&caller),
        "[1, 2]",
    );
    assert_eq!(
        (grant.status, grant.kind().as_str()),
        (403, "grant-above-ceiling")
    );
    assert!(
        grant.message().contains("fs:/etc:ro"),
        "{}",
        grant.message()
    );

    let fuel = bridge.post(
        "/v1/children/calc/call/add?fuel=2000000000000000",
        Some(&caller),
        "[1, 2]",
    );
    assert_eq!(
        (fuel.status, fuel.kind().as_str()),
        (403, "limit-above-ceiling")
    );
    assert!(fuel.message().starts_with("fuel"), "{}", fuel.message());

    // The granted `log` passes, and the run's receipt names the token.
    let logged = bridge.post(
        "/v1/children/hello-log/call/greet?grant=log",
        Some(&caller),
        r#"["ann"]"#,
    );
    assert_eq!(logged.status, 200, "{}", logged.body);
    let id = logged.json()["receipt"]["id"].as_str().unwrap().to_owned();
    let export = bridge
        .get(&format!("/v1/receipts/{id}"), Some(&caller))
        .json();
    let caller_id = &export["receipt"]["caller"]["id"];
    assert!(
        caller_id.as_str().unwrap().starts_with("token:"),
        "{caller_id}"
    );
    assert_eq!(export["receipt"]["caller"]["door"], "http");
}

#[test]
fn the_roles_run_rate_is_429_per_token_with_retry_after() {
    let bridge = Bridged::start();
    let slow = bridge.token("slow");
    let other = bridge.token("slow");
    // Burst 2, then refused until the bucket refills (one run per 5 s).
    assert_eq!(bridge.call(&slow, "calc", "add", "[1, 1]").status, 200);
    assert_eq!(bridge.call(&slow, "calc", "add", "[1, 1]").status, 200);
    let limited = bridge.call(&slow, "calc", "add", "[1, 1]");
    assert_eq!(limited.status, 429, "{}", limited.body);
    assert_eq!(limited.kind(), "rate-limited");
    assert_eq!(limited.header("retry-after"), Some("5"));
    // Another token of the same role has its own bucket.
    assert_eq!(bridge.call(&other, "calc", "add", "[1, 1]").status, 200);
}
