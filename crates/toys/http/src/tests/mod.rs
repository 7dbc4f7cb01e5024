//! Tests of the `http` toy through `Toy::instantiate` + `ToyInstance::call`,
//! against tiny HTTP/1.1 servers on 127.0.0.1 started by each test (the
//! helpers live here). Never reaches any other host.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use patina_core::{ChildId, Grant};
use wasmtime::component::Val;

use super::*;

mod dns;
mod pool;
mod redirects;
mod requests;

/// One request a test server received.
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What a test server answers.
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// Send no Content-Length: the body ends when the connection closes.
    close_delimited: bool,
    delay: Duration,
}

impl Reply {
    fn ok(body: &[u8]) -> Self {
        Self {
            status: 200,
            headers: vec![],
            body: body.to_vec(),
            close_delimited: false,
            delay: Duration::ZERO,
        }
    }

    fn redirect(status: u16, location: &str) -> Self {
        let mut reply = Self::ok(b"moved");
        reply.status = status;
        reply.headers.push(("Location".into(), location.into()));
        reply
    }

    fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// A one-request-per-connection HTTP/1.1 server on 127.0.0.1.
struct Server {
    port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    fn start(handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let handler = Arc::new(handler);
        let log = Arc::clone(&seen);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let handler = Arc::clone(&handler);
                let log = Arc::clone(&log);
                std::thread::spawn(move || serve_one(stream, &*handler, &log));
            }
        });
        Self { port, seen }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn grant(&self) -> String {
        format!("http:http://127.0.0.1:{}", self.port)
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn serve_one(stream: TcpStream, handler: &dyn Fn(&Seen) -> Reply, log: &Mutex<Vec<Seen>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() || line.is_empty() {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let path = parts.next().unwrap_or_default().to_owned();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).is_err() || line.trim_end().is_empty() {
            break;
        }
        if let Some((n, v)) = line.trim_end().split_once(':') {
            headers.push((n.trim().to_owned(), v.trim().to_owned()));
        }
    }
    let length = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    let seen = Seen {
        method,
        path,
        headers,
        body,
    };
    log.lock().unwrap().push(seen.clone());
    let reply = handler(&seen);
    std::thread::sleep(reply.delay);
    let mut out = format!(
        "HTTP/1.1 {} Whatever\r\nConnection: close\r\n",
        reply.status
    );
    for (n, v) in &reply.headers {
        out.push_str(&format!("{n}: {v}\r\n"));
    }
    if !reply.close_delimited {
        out.push_str(&format!("Content-Length: {}\r\n", reply.body.len()));
    }
    out.push_str("\r\n");
    let mut stream = stream;
    let _ = stream.write_all(out.as_bytes());
    let _ = stream.write_all(&reply.body);
}

/// A request record.
fn req(method: &str, url: &str, headers: &[(&str, &str)], body: Option<&[u8]>) -> Val {
    req_with_timeout(method, url, headers, body, None)
}

fn req_with_timeout(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
    timeout_ms: Option<u32>,
) -> Val {
    vals::record([
        ("method", vals::string(method)),
        ("url", vals::string(url)),
        (
            "headers",
            Val::List(
                headers
                    .iter()
                    .map(|(n, v)| Val::Tuple(vec![vals::string(*n), vals::string(*v)]))
                    .collect(),
            ),
        ),
        ("body", vals::option(body.map(vals::bytes))),
        ("timeout-ms", vals::option(timeout_ms.map(Val::U32))),
    ])
}

/// The parts of an `ok(response)`.
#[derive(Debug)]
struct Got {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    url: String,
}

/// Canonicalises `grants`, instantiates the toy and calls `fetch(request)`.
async fn fetch(grants: &[&str], request: Val) -> Result<Got, (String, Option<Val>)> {
    fetch_with(HttpToy::new(), grants, request).await
}

/// [`fetch`] with the given toy (e.g. one with a fake resolver).
async fn fetch_with(
    toy: HttpToy,
    grants: &[&str],
    request: Val,
) -> Result<Got, (String, Option<Val>)> {
    fetch_on(&toy, grants, request).await
}

/// [`fetch`] as one run of `toy` (which may serve other runs too).
async fn fetch_on(
    toy: &HttpToy,
    grants: &[&str],
    request: Val,
) -> Result<Got, (String, Option<Val>)> {
    let mut canonical: Vec<Grant> = grants
        .iter()
        .map(|g| toy.canonicalize(&g.parse().unwrap()).unwrap())
        .collect();
    canonical.sort();
    canonical.dedup();
    toy.combine(&canonical).unwrap();
    let ctx = ToyContext::new(ChildId::of(b"http-test"), canonical);
    let mut instance = toy.instantiate(&ctx).unwrap();
    let out = instance.call("fetch", &[request]).await.unwrap();
    assert_eq!(out.len(), 1);
    match out.into_iter().next().unwrap() {
        Val::Result(Ok(Some(response))) => {
            let Val::Record(fields) = *response else {
                panic!("not a record")
            };
            let mut fields = fields.into_iter().map(|(_, v)| v);
            let Some(Val::U16(status)) = fields.next() else {
                panic!()
            };
            let Some(Val::List(headers)) = fields.next() else {
                panic!()
            };
            let headers = headers
                .into_iter()
                .map(|h| match h {
                    Val::Tuple(mut pair) => {
                        let (Val::String(v), Val::String(n)) =
                            (pair.pop().unwrap(), pair.pop().unwrap())
                        else {
                            panic!()
                        };
                        (n, v)
                    }
                    _ => panic!(),
                })
                .collect();
            let Some(Val::List(body)) = fields.next() else {
                panic!()
            };
            let body = body
                .into_iter()
                .map(|b| match b {
                    Val::U8(b) => b,
                    _ => panic!(),
                })
                .collect();
            let Some(Val::String(url)) = fields.next() else {
                panic!()
            };
            Ok(Got {
                status,
                headers,
                body,
                url,
            })
        }
        Val::Result(Err(Some(error))) => match *error {
            Val::Variant(case, payload) => Err((case, payload.map(|p| *p))),
            other => panic!("error is not a variant: {other:?}"),
        },
        other => panic!("not a result: {other:?}"),
    }
}

fn denied(host: &str) -> (String, Option<Val>) {
    ("denied".into(), Some(vals::string(host)))
}

fn case(result: Result<Got, (String, Option<Val>)>) -> String {
    match result {
        Ok(got) => panic!("expected an error, got {got:?}"),
        Err((case, _)) => case,
    }
}
