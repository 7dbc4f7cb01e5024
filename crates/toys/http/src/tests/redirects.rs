//! Redirect handling of the `http` toy: every hop re-checked, at most five.

use super::*;
use crate::client::MAX_REDIRECTS;

#[tokio::test]
async fn a_redirect_to_an_ungranted_port_is_denied() {
    let target = Server::start(|_| Reply::ok(b"elsewhere"));
    let to = target.url("/landing");
    let server = Server::start(move |_| Reply::redirect(302, &to));
    let result = fetch(
        &[&server.grant()],
        req("GET", &server.url("/start"), &[], None),
    )
    .await;
    assert_eq!(result.unwrap_err(), denied("127.0.0.1"));
    assert!(target.seen().is_empty(), "the redirect was not followed");
    assert_eq!(server.seen().len(), 1);

    // With both granted it is followed, and credentials stay behind.
    let got = fetch(
        &[&server.grant(), &target.grant()],
        req(
            "GET",
            &server.url("/start"),
            &[("Authorization", "Bearer t"), ("X-Api-Key", "k")],
            None,
        ),
    )
    .await
    .unwrap();
    assert_eq!(got.body, b"elsewhere");
    assert_eq!(got.url, target.url("/landing"));
    let seen = target.seen();
    assert_eq!(seen[0].header("authorization"), None);
    assert_eq!(seen[0].header("x-api-key"), None);
}

/// The headers a child sets that cross to another origin, for a redirect
/// with `status` of a `POST` with a body.
async fn headers_after_cross_origin(status: u16) -> (Seen, Seen) {
    let target = Server::start(|_| Reply::ok(b"landed"));
    let to = target.url("/landing");
    let server = Server::start(move |_| Reply::redirect(status, &to));
    fetch(
        &[&server.grant(), &target.grant()],
        req(
            "POST",
            &server.url("/start"),
            &[
                ("X-Api-Key", "secret"),
                ("Authorization", "Bearer t"),
                ("Cookie", "s=1"),
                ("X-Custom", "1"),
                ("Accept", "text/plain"),
                ("Accept-Language", "nb"),
                ("User-Agent", "child/1"),
                ("Content-Type", "text/csv"),
                ("Content-Language", "nb"),
            ],
            Some(b"a,b"),
        ),
    )
    .await
    .unwrap();
    (server.seen().remove(0), target.seen().remove(0))
}

#[tokio::test]
async fn a_cross_origin_redirect_drops_every_header_but_an_allowlist() {
    // 307 keeps the body, so `content-type` goes with it.
    let (first, seen) = headers_after_cross_origin(307).await;
    assert_eq!(
        first.header("x-api-key"),
        Some("secret"),
        "sent to the origin"
    );
    assert_eq!(seen.method, "POST");
    assert_eq!(seen.body, b"a,b");
    for dropped in [
        "x-api-key",
        "authorization",
        "cookie",
        "x-custom",
        "content-language",
    ] {
        assert_eq!(seen.header(dropped), None, "{dropped}");
    }
    assert_eq!(seen.header("accept"), Some("text/plain"));
    assert_eq!(seen.header("accept-language"), Some("nb"));
    assert_eq!(seen.header("user-agent"), Some("child/1"));
    assert_eq!(seen.header("content-type"), Some("text/csv"));

    // 303 drops the body, and `content-type` with it.
    let (_, seen) = headers_after_cross_origin(303).await;
    assert_eq!(seen.method, "GET");
    assert_eq!(seen.header("x-api-key"), None);
    assert_eq!(seen.header("content-type"), None);
    assert_eq!(seen.header("accept"), Some("text/plain"));
    assert_eq!(seen.header("user-agent"), Some("child/1"));
}

#[tokio::test]
async fn a_same_origin_redirect_keeps_the_childs_headers() {
    let server = Server::start(|seen| match seen.path.as_str() {
        "/a" => Reply::redirect(307, "/b"),
        _ => Reply::ok(b"b"),
    });
    fetch(
        &[&server.grant()],
        req(
            "GET",
            &server.url("/a"),
            &[("X-Api-Key", "k"), ("Cookie", "s=1")],
            None,
        ),
    )
    .await
    .unwrap();
    let seen = server.seen();
    assert_eq!(seen[1].path, "/b");
    assert_eq!(seen[1].header("x-api-key"), Some("k"));
    assert_eq!(seen[1].header("cookie"), Some("s=1"));
}

#[tokio::test]
async fn a_redirect_to_a_granted_path_is_followed() {
    let server = Server::start(|seen| match seen.path.as_str() {
        "/old" => Reply::redirect(303, "/new?x=1"),
        "/new?x=1" => Reply::ok(format!("{} {}", seen.method, seen.body.len()).as_bytes()),
        _ => {
            let mut r = Reply::ok(b"lost");
            r.status = 404;
            r
        }
    });
    let got = fetch(
        &[&server.grant()],
        req(
            "POST",
            &server.url("/old"),
            &[("Content-Type", "text/plain"), ("Authorization", "x")],
            Some(b"data"),
        ),
    )
    .await
    .unwrap();
    assert_eq!(got.status, 200);
    assert_eq!(
        got.body, b"GET 0",
        "303 turns the POST into a GET without body"
    );
    assert_eq!(got.url, server.url("/new?x=1"));
    let seen = server.seen();
    assert_eq!(seen[1].header("content-type"), None);
    assert_eq!(
        seen[1].header("authorization"),
        Some("x"),
        "same origin keeps it"
    );
}

#[tokio::test]
async fn a_307_keeps_method_and_body() {
    let server = Server::start(|seen| match seen.path.as_str() {
        "/a" => Reply::redirect(307, "/b"),
        _ => {
            Reply::ok(format!("{} {}", seen.method, String::from_utf8_lossy(&seen.body)).as_bytes())
        }
    });
    let got = fetch(
        &[&server.grant()],
        req("PUT", &server.url("/a"), &[], Some(b"v")),
    )
    .await
    .unwrap();
    assert_eq!(got.body, b"PUT v");
}

#[tokio::test]
async fn at_most_five_redirects_are_followed() {
    // `/N` redirects to `/N+1` until `/limit`, which answers.
    let server = Server::start(|seen| {
        let n: u32 = seen.path.trim_start_matches('/').parse().unwrap_or(0);
        Reply::redirect(301, &format!("/{}", n + 1))
    });
    let result = fetch(&[&server.grant()], req("GET", &server.url("/0"), &[], None)).await;
    let (case, payload) = result.unwrap_err();
    assert_eq!(case, "transport");
    assert!(format!("{payload:?}").contains("redirects"));
    assert_eq!(
        server.seen().len(),
        1 + MAX_REDIRECTS,
        "the first request and five hops"
    );

    let server = Server::start(|seen| {
        let n: usize = seen.path.trim_start_matches('/').parse().unwrap_or(0);
        if n < MAX_REDIRECTS {
            Reply::redirect(308, &format!("/{}", n + 1))
        } else {
            Reply::ok(b"arrived")
        }
    });
    let got = fetch(&[&server.grant()], req("GET", &server.url("/0"), &[], None))
        .await
        .unwrap();
    assert_eq!(got.body, b"arrived");
    assert_eq!(got.url, server.url("/5"));
}

#[test]
fn a_redirect_from_https_to_http_is_denied_and_locations_resolve() {
    use ureq::http::HeaderValue;
    let from = url::Url::parse("https://api.example.com/a/b").unwrap();
    let target = grant::Target::of(&from).unwrap();
    let hop = |location: &str| {
        client::redirect_target(&from, &target, &HeaderValue::from_str(location).unwrap())
    };
    assert_eq!(
        hop("http://api.example.com/x").unwrap_err(),
        FetchError::Denied("api.example.com".into())
    );
    assert_eq!(
        hop("c?d#e").unwrap().0.as_str(),
        "https://api.example.com/a/c?d"
    );
    assert_eq!(
        hop("//other.example/").unwrap().0.as_str(),
        "https://other.example/"
    );
    assert!(matches!(
        hop("ftp://api.example.com/"),
        Err(FetchError::Transport(_))
    ));
    assert!(matches!(
        hop("https://u:p@api.example.com/"),
        Err(FetchError::Transport(_))
    ));
    // Upgrading is fine.
    let plain = url::Url::parse("http://api.example.com/").unwrap();
    let plain_target = grant::Target::of(&plain).unwrap();
    let up = client::redirect_target(
        &plain,
        &plain_target,
        &HeaderValue::from_static("https://api.example.com/"),
    );
    assert!(up.unwrap().1.https);
}

#[test]
fn the_agent_takes_no_proxy_and_follows_no_redirect_itself() {
    // `Config::default()` would read HTTP(S)_PROXY/ALL_PROXY; ours must not.
    let agent = client::agent(resolve::system_dns());
    assert!(agent.config().proxy().is_none());
    assert_eq!(agent.config().max_redirects(), 0);
    assert!(!agent.config().http_status_as_error());
}
