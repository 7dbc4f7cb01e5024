//! Bad requests and misbehaving children: each answered with its kind and
//! status, and the server serving on afterwards.

use patina_bridge::BridgeConfig;

use crate::common::Bridged;

#[test]
fn an_oversized_body_is_413_and_oversized_headers_are_431() {
    let bridge = Bridged::with(BridgeConfig {
        max_body_bytes: 1024,
        max_header_bytes: 2048,
        ..BridgeConfig::default()
    });
    let token = bridge.token("caller");
    let big = format!("[{}]", vec!["1"; 2000].join(","));
    let body = bridge.call(&token, "calc", "sum-list", &big);
    assert_eq!(body.status, 413, "{}", body.body);
    assert_eq!(body.kind(), "payload-too-large");
    assert!(body.message().contains("1024"), "{}", body.message());

    let padding = "x".repeat(3000);
    let headers = bridge.get_with_header("/v1/children", "X-Padding", &padding);
    assert_eq!(headers.status, 431, "{}", headers.body);
    assert_eq!(headers.kind(), "headers-too-large");
    // Far past the parser's own bound: still 431, from the HTTP parser.
    let huge = "x".repeat(64 << 10);
    let parser = bridge.get_with_header("/v1/children", "X-Padding", &huge);
    assert_eq!(parser.status, 431);
    // And the server serves on.
    assert_eq!(
        bridge.call(&token, "calc", "add", "[1, 2]").json()["result"],
        3
    );
}

#[test]
fn malformed_json_and_wrong_argument_types_are_400_with_their_kind() {
    let bridge = Bridged::start();
    let token = bridge.token("caller");
    let malformed = bridge.call(&token, "calc", "add", "[1, ");
    assert_eq!(
        (malformed.status, malformed.kind().as_str()),
        (400, "bad-json")
    );

    let wrong = bridge.call(&token, "calc", "add", r#"[1, "two"]"#);
    assert_eq!(
        (wrong.status, wrong.kind().as_str()),
        (400, "bad-arguments")
    );
    assert!(wrong.message().contains("$[1]"), "{}", wrong.message());
    let range = bridge.call(
        &token,
        "calc",
        "types.describe-widths",
        "[1, 256, 0, 0, 0, 0, 0, \"a\"]",
    );
    assert_eq!(range.kind(), "bad-arguments");
    assert!(range.message().contains("$[1]"), "{}", range.message());

    let unknown_arg = bridge.call(&token, "calc", "add", r#"{"a": 1, "c": 2}"#);
    assert_eq!(
        (unknown_arg.status, unknown_arg.kind().as_str()),
        (400, "bad-arguments")
    );
    assert!(
        unknown_arg.message().contains("`c`"),
        "{}",
        unknown_arg.message()
    );
    let missing = bridge.call(&token, "calc", "add", r#"{"a": 1}"#);
    assert!(
        missing.message().contains("missing argument `b`"),
        "{}",
        missing.message()
    );
    let scalar = bridge.call(&token, "calc", "add", "7");
    assert_eq!(
        (scalar.status, scalar.kind().as_str()),
        (400, "bad-arguments")
    );

    let query = bridge.post("/v1/children/calc/call/add?fule=10", Some(&token), "[1, 2]");
    assert_eq!((query.status, query.kind().as_str()), (400, "bad-request"));
    assert!(query.message().contains("`fule`"), "{}", query.message());
    let grant = bridge.post(
        "/v1/children/calc/call/add?grant=Not%20A%20Grant",
        Some(&token),
        "[1, 2]",
    );
    assert_eq!((grant.status, grant.kind().as_str()), (400, "bad-grant"));
}

#[test]
fn unknown_children_functions_and_routes_are_404() {
    let bridge = Bridged::start();
    let admin = bridge.token("admin");
    let child = bridge.call(&admin, "no-such-child", "add", "[]");
    assert_eq!(
        (child.status, child.kind().as_str()),
        (404, "unknown-child")
    );
    let described = bridge.get("/v1/children/no-such-child", Some(&admin));
    assert_eq!(
        (described.status, described.kind().as_str()),
        (404, "unknown-child")
    );
    let function = bridge.call(&admin, "calc", "subtract", "[1, 2]");
    assert_eq!(
        (function.status, function.kind().as_str()),
        (404, "unknown-function")
    );
    let by_object = bridge.call(&admin, "calc", "subtract", r#"{"a": 1}"#);
    assert_eq!(
        (by_object.status, by_object.kind().as_str()),
        (404, "unknown-function")
    );
    let route = bridge.get("/v2/children", Some(&admin));
    assert_eq!(
        (route.status, route.kind().as_str()),
        (404, "unknown-route")
    );
    let method = bridge.post("/v1/children", Some(&admin), "");
    assert_eq!(
        (method.status, method.kind().as_str()),
        (405, "method-not-allowed")
    );
}

#[test]
fn a_child_that_loops_or_hogs_memory_is_stopped_at_its_limits_and_the_server_serves_on() {
    let bridge = Bridged::start();
    let token = bridge.token("caller");
    let spin = bridge.post(
        "/v1/children/limits/call/spin?timeout_ms=300&fuel=1000000000000000",
        Some(&token),
        "",
    );
    assert_eq!(spin.status, 504, "{}", spin.body);
    let spin = spin.json();
    assert_eq!(spin["error"]["kind"], "deadline-exceeded");
    assert!(
        spin["receipt"]["id"].is_string(),
        "a stopped run keeps its receipt"
    );

    let fuel = bridge.post(
        "/v1/children/limits/call/spin?fuel=5000000",
        Some(&token),
        "",
    );
    assert_eq!(
        (fuel.status, fuel.json()["error"]["kind"].as_str()),
        (422, Some("out-of-fuel"))
    );

    let hog = bridge.post(
        "/v1/children/limits/call/hog-forever?memory=33554432",
        Some(&token),
        "",
    );
    assert_eq!(hog.status, 422, "{}", hog.body);
    assert_eq!(hog.json()["error"]["kind"], "memory-limit-exceeded");

    // While a child spins, the server answers others; afterwards too.
    std::thread::scope(|scope| {
        let spinning = scope.spawn(|| {
            bridge.post(
                "/v1/children/limits/call/spin?timeout_ms=1500&fuel=1000000000000000",
                Some(&token),
                "",
            )
        });
        assert_eq!(
            bridge.call(&token, "calc", "add", "[20, 22]").json()["result"],
            42
        );
        assert_eq!(spinning.join().unwrap().status, 504);
    });
    assert_eq!(
        bridge.call(&token, "limits", "fib", "[10]").json()["result"],
        55
    );
}

#[test]
fn a_body_that_never_comes_is_408_at_the_body_timeout() {
    let bridge = Bridged::with(BridgeConfig {
        body_read_timeout: std::time::Duration::from_millis(300),
        ..BridgeConfig::default()
    });
    let token = bridge.token("caller");
    // The head declares 100 bytes; none follow.
    let answer =
        crate::common::post_head_only(&bridge.url, "/v1/children/calc/call/add", &token, 100);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("request-timeout"), "{answer}");
    // And the server serves on.
    assert_eq!(
        bridge.call(&token, "calc", "add", "[1, 2]").json()["result"],
        3
    );
}
