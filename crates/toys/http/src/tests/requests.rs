//! Requests, answers and refusals of the `http` toy (no redirects).

use super::*;

#[test]
fn grants_canonicalise_and_combine_as_an_allowlist() {
    let toy = HttpToy::new();
    let canon = |text: &str| {
        toy.canonicalize(&text.parse().unwrap())
            .map(|g| g.to_string())
    };
    assert_eq!(
        canon("http:API.example.com").unwrap(),
        "http:https://api.example.com"
    );
    assert_eq!(
        canon("http:*.example.com").unwrap(),
        "http:https://*.example.com"
    );
    assert_eq!(
        canon("http:http://127.0.0.1:8080").unwrap(),
        "http:http://127.0.0.1:8080"
    );
    let refused = |grant: &str| canon(grant).unwrap_err().to_string();
    let bare = refused("http");
    assert!(bare.contains("`http` needs a host"), "{bare}");
    let path = refused("http:example.com/api");
    assert!(path.contains("`/` is not allowed"), "{path}");
    let inner = refused("http:a.*.example.com");
    assert!(inner.contains("only as a leading `*.`"), "{inner}");
    let many: Vec<Grant> = ["http:https://a.example", "http:https://b.example"]
        .iter()
        .map(|g| g.parse().unwrap())
        .collect();
    assert!(toy.combine(&many).is_ok());
}

#[tokio::test]
async fn allowed_get_returns_status_headers_and_body() {
    let server = Server::start(|_| {
        Reply::ok(b"hello")
            .header("X-Test", "Yes")
            .header("Set-Cookie", "a=1")
            .header("Set-Cookie", "b=2")
    });
    let got = fetch(
        &[&server.grant()],
        req(
            "GET",
            &server.url("/greeting?q=1#frag"),
            &[("Accept", "text/plain")],
            None,
        ),
    )
    .await
    .unwrap();
    assert_eq!(got.status, 200);
    assert_eq!(got.body, b"hello");
    assert_eq!(got.url, server.url("/greeting?q=1"));
    assert!(
        got.headers.contains(&("x-test".into(), "Yes".into())),
        "{:?}",
        got.headers
    );
    let cookies: Vec<&str> = got
        .headers
        .iter()
        .filter(|(n, _)| n == "set-cookie")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(cookies, ["a=1", "b=2"]);
    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "GET");
    assert_eq!(seen[0].path, "/greeting?q=1");
    assert_eq!(seen[0].header("accept"), Some("text/plain"));
    assert_eq!(
        seen[0].header("host"),
        Some(format!("127.0.0.1:{}", server.port).as_str())
    );
}

#[tokio::test]
async fn post_body_is_sent_and_non_2xx_is_an_answer() {
    let server = Server::start(|seen| {
        let mut reply = Reply::ok(&seen.body);
        reply.status = 418;
        reply.header(
            "Content-Type",
            seen.header("content-type").unwrap_or("none"),
        )
    });
    let got = fetch(
        &[&server.grant()],
        req(
            "POST",
            &server.url("/echo"),
            &[("Content-Type", "application/json")],
            Some(b"{\"a\":1}"),
        ),
    )
    .await
    .unwrap();
    assert_eq!(got.status, 418);
    assert_eq!(got.body, b"{\"a\":1}");
    assert!(
        got.headers
            .contains(&("content-type".into(), "application/json".into()))
    );
}

#[tokio::test]
async fn an_https_grant_refuses_plain_http() {
    let server = Server::start(|_| Reply::ok(b"secret"));
    let https_only = format!("http:127.0.0.1:{}", server.port);
    let result = fetch(&[&https_only], req("GET", &server.url("/"), &[], None)).await;
    assert_eq!(result.unwrap_err(), denied("127.0.0.1"));
    assert!(server.seen().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn other_hosts_and_ports_are_denied_and_localhost_is_not_127_0_0_1() {
    let server = Server::start(|_| Reply::ok(b"hi"));
    let other = Server::start(|_| Reply::ok(b"other"));
    let grant = server.grant();
    let port = server.port;
    let result = fetch(&[&grant], req("GET", &other.url("/"), &[], None)).await;
    assert_eq!(result.unwrap_err(), denied("127.0.0.1"));
    let result = fetch(
        &[&grant],
        req("GET", &format!("http://localhost:{port}/"), &[], None),
    )
    .await;
    assert_eq!(result.unwrap_err(), denied("localhost"));
    let result = fetch(&[&grant], req("GET", "http://example.com/", &[], None)).await;
    assert_eq!(result.unwrap_err(), denied("example.com"));
    // The reverse: a grant for the name does not cover the address.
    let by_name = format!("http:http://localhost:{port}");
    let result = fetch(&[&by_name], req("GET", &server.url("/"), &[], None)).await;
    assert_eq!(result.unwrap_err(), denied("127.0.0.1"));
    // ... but reaches the server by name (loopback is fine for `localhost`).
    let got = fetch(
        &[&by_name],
        req("GET", &format!("http://localhost:{port}/"), &[], None),
    )
    .await
    .unwrap();
    assert_eq!(got.body, b"hi");
    assert!(other.seen().is_empty());
}

#[tokio::test]
async fn bodies_over_the_cap_are_too_large() {
    assert_eq!(MAX_BODY, 16 << 20);
    let size = MAX_BODY as usize + 1;
    let declared = Server::start(move |_| Reply::ok(&vec![b'x'; size]));
    let result = fetch(
        &[&declared.grant()],
        req("GET", &declared.url("/"), &[], None),
    )
    .await;
    assert_eq!(
        result.unwrap_err(),
        ("too-large".into(), Some(Val::U64(MAX_BODY + 1)))
    );

    let streamed = Server::start(move |_| {
        let mut reply = Reply::ok(&vec![b'y'; size + 1000]);
        reply.close_delimited = true;
        reply
    });
    let result = fetch(
        &[&streamed.grant()],
        req("GET", &streamed.url("/"), &[], None),
    )
    .await;
    assert_eq!(
        result.unwrap_err(),
        ("too-large".into(), Some(Val::U64(MAX_BODY + 1)))
    );
}

#[tokio::test]
async fn a_slow_server_times_out() {
    let server = Server::start(|_| {
        let mut reply = Reply::ok(b"late");
        reply.delay = Duration::from_secs(3);
        reply
    });
    let start = Instant::now();
    let result = fetch(
        &[&server.grant()],
        req_with_timeout("GET", &server.url("/"), &[], None, Some(300)),
    )
    .await;
    assert_eq!(case(result), "timeout");
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn malformed_requests_are_invalid() {
    let server = Server::start(|_| Reply::ok(b"no"));
    let grant = server.grant();
    let port = server.port;
    for request in [
        req(
            "GET",
            &format!("http://user:pw@127.0.0.1:{port}/"),
            &[],
            None,
        ),
        req("GET", &format!("http://user@127.0.0.1:{port}/"), &[], None),
        req("TRACE", &server.url("/"), &[], None),
        req("get", &server.url("/"), &[], None),
        req("GET", "not a url", &[], None),
        req("GET", &format!("ftp://127.0.0.1:{port}/"), &[], None),
        req("GET", &server.url("/"), &[], Some(b"body")),
        req("GET", &server.url("/"), &[("Host", "evil.example")], None),
        req(
            "GET",
            &server.url("/"),
            &[("Transfer-Encoding", "chunked")],
            None,
        ),
        req(
            "GET",
            &server.url("/"),
            &[("Proxy-Authorization", "x")],
            None,
        ),
        req(
            "GET",
            &server.url("/"),
            &[("X-Bad", "a\r\nInjected: 1")],
            None,
        ),
        req("GET", &server.url("/"), &[("Bad Name", "x")], None),
        req_with_timeout("GET", &server.url("/"), &[], None, Some(0)),
    ] {
        let shown = format!("{request:?}");
        assert_eq!(case(fetch(&[&grant], request).await), "invalid", "{shown}");
    }
    assert!(server.seen().is_empty());
}

#[tokio::test]
async fn a_bad_argument_shape_is_a_toy_error() {
    let toy = HttpToy::new();
    let ctx = ToyContext::new(
        ChildId::of(b"x"),
        vec![
            toy.canonicalize(&"http:example.com".parse().unwrap())
                .unwrap(),
        ],
    );
    let mut instance = toy.instantiate(&ctx).unwrap();
    let err = instance
        .call("fetch", &[vals::string("https://example.com")])
        .await;
    assert!(matches!(err, Err(ToyError::BadArguments { .. })));
    let err = instance.call("get", &[]).await;
    assert!(matches!(err, Err(ToyError::NoSuchFunction { .. })));
}

#[tokio::test]
async fn request_bodies_over_the_cap_are_invalid_and_never_sent() {
    use crate::client::{MAX_REQUEST_BODY, Request};
    assert_eq!(MAX_REQUEST_BODY, 16 << 20);
    let url = "http://127.0.0.1:1/";
    assert!(Request::new("POST", url, &[], Some(vec![0; MAX_REQUEST_BODY]), None).is_ok());
    let over = MAX_REQUEST_BODY + 1;
    let err = Request::new("PUT", url, &[], Some(vec![0; over]), None).unwrap_err();
    assert!(
        matches!(&err, FetchError::Invalid(reason) if reason.starts_with("body larger than")),
        "{err:?}"
    );

    let server = Server::start(|_| Reply::ok(b"stored"));
    let result = fetch(
        &[&server.grant()],
        req(
            "POST",
            &server.url("/"),
            &[],
            Some(&vec![b'z'; MAX_REQUEST_BODY + 1]),
        ),
    )
    .await;
    let (case, reason) = result.unwrap_err();
    assert_eq!(case, "invalid");
    assert!(
        format!("{reason:?}").contains("body larger than"),
        "{reason:?}"
    );
    assert!(server.seen().is_empty(), "nothing was sent");
}

/// A reply declaring a 20 MB `Content-Length` (over the cap) without a body.
fn declares_huge(status: u16) -> Reply {
    let mut reply = Reply::ok(b"");
    reply.status = status;
    reply.close_delimited = true;
    reply
        .header("Content-Length", "20000000")
        .header("ETag", "\"v1\"")
}

#[tokio::test]
async fn head_204_and_304_answer_with_no_body_whatever_the_declared_length() {
    let server = Server::start(|seen| match seen.path.as_str() {
        "/204" => declares_huge(204),
        "/304" => declares_huge(304),
        _ => declares_huge(200),
    });
    let grant = server.grant();
    let got = fetch(&[&grant], req("HEAD", &server.url("/big"), &[], None))
        .await
        .unwrap();
    assert_eq!(got.status, 200);
    assert!(got.body.is_empty());
    assert!(
        got.headers
            .contains(&("content-length".into(), "20000000".into())),
        "{:?}",
        got.headers
    );
    assert!(got.headers.contains(&("etag".into(), "\"v1\"".into())));

    for status in [204, 304] {
        let got = fetch(
            &[&grant],
            req("GET", &server.url(&format!("/{status}")), &[], None),
        )
        .await
        .unwrap();
        assert_eq!(got.status, status);
        assert!(got.body.is_empty());
        assert!(got.headers.contains(&("etag".into(), "\"v1\"".into())));
    }

    // A GET of the same resource is still refused on its declared length.
    let result = fetch(&[&grant], req("GET", &server.url("/big"), &[], None)).await;
    assert_eq!(
        result.unwrap_err(),
        ("too-large".into(), Some(Val::U64(20_000_000)))
    );
}
