//! The `http` toy through the real host and a real child (`http-get`), against
//! tiny HTTP/1.1 servers on 127.0.0.1 started here: granted requests reach the
//! server, ungranted ones (and redirects to them) are refused, and a recorded
//! run replays from its receipt after the server is gone.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;

use patina_host::{ReplaySource, RunRefused};
use patina_tests::{child, host_with, run};
use patina_toys::HttpToy;

/// A request line, its body, and what to answer.
pub(crate) type Handler =
    dyn Fn(&str, &str, &[u8]) -> (u16, Vec<(String, String)>, Vec<u8>) + Send + Sync;

/// Serves `connections` requests (one per connection) on 127.0.0.1, then
/// closes the listener. Returns the port.
pub(crate) fn serve(connections: usize, handler: Arc<Handler>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(connections).flatten() {
            answer(stream, &*handler);
        }
    });
    port
}

/// Waits until the server on `port` (which served its connections) has
/// closed its listener; fails the test if it has not within a second.
pub(crate) fn wait_gone(port: u16) {
    for _ in 0..50 {
        if TcpStream::connect(("127.0.0.1", port)).is_err() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("the server on port {port} is still there");
}

fn answer(stream: TcpStream, handler: &Handler) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let mut length = 0;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).unwrap();
        if header.trim_end().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap();
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    let (status, headers, reply) = handler(method, path, &body);
    let mut out = format!(
        "HTTP/1.1 {status} X\r\nConnection: close\r\nContent-Length: {}\r\n",
        reply.len()
    );
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    // The toy may hang up early (a body over the cap): not the server's failure.
    let mut stream = stream;
    let _ = stream.write_all(out.as_bytes());
    let _ = stream.write_all(&reply);
}

fn host() -> patina_host::Host {
    let mut toys = patina_toys::log_only();
    toys.register(Arc::new(HttpToy::new()));
    host_with(toys)
}

fn text(body: &str) -> Vec<u8> {
    body.as_bytes().to_vec()
}

#[tokio::test]
async fn a_granted_get_reaches_the_server_and_others_are_denied() {
    let port = serve(
        1,
        Arc::new(|_, path, _| (200, vec![], text(&format!("hello {path}")))),
    );
    let host = host();
    let get = child(&host, "http-get");
    let grant = format!("http:http://127.0.0.1:{port}");
    let url = format!("http://127.0.0.1:{port}/x");

    let report = run(&host, &get, &format!("get({url:?})"), &[&grant])
        .await
        .unwrap();
    assert_eq!(report.wave().as_deref(), Some(r#"ok((200, "hello /x"))"#));

    // Same host, other port: an answer, not a trap.
    let other = format!("http://127.0.0.1:{}/", port.wrapping_add(1).max(1));
    let report = run(&host, &get, &format!("get({other:?})"), &[&grant])
        .await
        .unwrap();
    assert_eq!(
        report.wave().as_deref(),
        Some(r#"err("denied(127.0.0.1)")"#)
    );
    // https only unless granted `http://`.
    let https_only = format!("http:127.0.0.1:{port}");
    let report = run(&host, &get, &format!("get({url:?})"), &[&https_only])
        .await
        .unwrap();
    assert_eq!(
        report.wave().as_deref(),
        Some(r#"err("denied(127.0.0.1)")"#)
    );

    let err = run(&host, &get, &format!("get({url:?})"), &[])
        .await
        .unwrap_err();
    assert!(matches!(err, RunRefused::MissingGrants { .. }), "{err}");
    let err = run(
        &host,
        &get,
        &format!("get({url:?})"),
        &["http:127.0.0.1/path"],
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), "bad-grant");
}

#[tokio::test]
async fn redirects_are_checked_against_every_grant() {
    let elsewhere = serve(
        1,
        Arc::new(|method, _, body| (200, vec![], [method.as_bytes(), b" ", body].concat())),
    );
    let target = format!("http://127.0.0.1:{elsewhere}/landing");
    let redirect = target.clone();
    let port = serve(
        2,
        Arc::new(move |_, _, _| (307, vec![("Location".into(), redirect.clone())], vec![])),
    );
    let host = host();
    let get = child(&host, "http-get");
    let start = format!("http://127.0.0.1:{port}/start");
    let first = format!("http:http://127.0.0.1:{port}");
    let call = format!("post({start:?}, \"data\")");

    let report = run(&host, &get, &call, &[&first]).await.unwrap();
    assert_eq!(
        report.wave().as_deref(),
        Some(r#"err("denied(127.0.0.1)")"#)
    );

    let second = format!("http:http://127.0.0.1:{elsewhere}");
    let report = run(&host, &get, &call, &[&first, &second]).await.unwrap();
    assert_eq!(
        report.wave().unwrap(),
        format!("ok((200, {target:?}, \"POST data\"))")
    );
}

#[tokio::test]
async fn a_recorded_fetch_replays_after_the_server_is_gone() {
    let port = serve(
        1,
        Arc::new(|_, _, _| (201, vec![], text("recorded answer"))),
    );
    let host = host();
    let get = child(&host, "http-get");
    let grant = format!("http:http://127.0.0.1:{port}");
    let url = format!("http://127.0.0.1:{port}/");
    let report = run(&host, &get, &format!("get({url:?})"), &[&grant])
        .await
        .unwrap();
    assert_eq!(
        report.wave().as_deref(),
        Some(r#"ok((201, "recorded answer"))"#)
    );
    let (transcript, blobs) = report.transcript().expect("recorded");
    assert!(
        transcript
            .events
            .iter()
            .any(|e| e.toy == "patina:toys/http@0.1.0"),
        "the fetch is a recorded event"
    );

    wait_gone(port);
    let live = run(&host, &get, &format!("get({url:?})"), &[&grant])
        .await
        .unwrap();
    assert!(
        live.wave().unwrap().starts_with("err(\"transport("),
        "{:?}",
        live.wave()
    );

    let replay = host
        .replay(&get, ReplaySource { transcript, blobs })
        .await
        .unwrap();
    assert!(replay.matched(), "{:?}", replay.divergence);
    assert_eq!(
        replay.report.wave().as_deref(),
        Some(r#"ok((201, "recorded answer"))"#)
    );
}

#[tokio::test]
async fn a_body_over_the_cap_is_too_large_through_the_child() {
    let cap = patina_toys::MAX_HTTP_BODY as usize;
    let port = serve(
        2,
        Arc::new(move |_, path, _| {
            let size = if path == "/over" { cap + 1 } else { cap };
            (200, vec![], vec![b'a'; size])
        }),
    );
    let host = host();
    let get = child(&host, "http-get");
    let grant = format!("http:http://127.0.0.1:{port}");
    let over = format!("http://127.0.0.1:{port}/over");
    let report = run(&host, &get, &format!("get({over:?})"), &[&grant])
        .await
        .unwrap();
    assert_eq!(
        report.wave().as_deref(),
        Some(format!(r#"err("too-large({})")"#, cap + 1).as_str())
    );
    // Exactly at the cap is an answer.
    let at = format!("http://127.0.0.1:{port}/at");
    let report = run(&host, &get, &format!("get({at:?})"), &[&grant])
        .await
        .unwrap();
    let wave = report.wave().unwrap();
    assert!(wave.starts_with("ok((200, \"aaaa"), "{}", &wave[..40]);
    assert_eq!(wave.len(), cap + r#"ok((200, ""))"#.len());
}
