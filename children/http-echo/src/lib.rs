//! `http-echo`: a bridge child (it exports `wasi:http/incoming-handler`, the
//! `wasi:http/proxy` world) for the host's tests. By path:
//!
//! - `/echo` (any method): `200`, the body as sent, and headers
//!   `x-method`, `x-path` and `x-header-count` describing the request;
//! - `/big?N`: `200` with a body of `N` bytes (`b`), written in chunks;
//! - `/loop`: spins forever; `/hog`: grows memory until it cannot;
//! - `/none`: returns without setting a response;
//! - `/time`: `200` with the wall clock's seconds (a recorded read);
//! - `/fetch?URL`: `GET URL` with `wasi:http/outgoing-handler`, answered
//!   with its status and body (or `502` and the error);
//! - anything else: `404`.

use wasip2::clocks::wall_clock;
use wasip2::exports::http::incoming_handler::Guest;
use wasip2::http::outgoing_handler;
use wasip2::http::types::{
    Fields, IncomingBody, IncomingRequest, Method, OutgoingBody, OutgoingRequest,
    OutgoingResponse, ResponseOutparam, Scheme,
};

struct Echo;

fn method_name(method: &Method) -> String {
    match method {
        Method::Get => "GET".into(),
        Method::Head => "HEAD".into(),
        Method::Post => "POST".into(),
        Method::Put => "PUT".into(),
        Method::Delete => "DELETE".into(),
        Method::Connect => "CONNECT".into(),
        Method::Options => "OPTIONS".into(),
        Method::Trace => "TRACE".into(),
        Method::Patch => "PATCH".into(),
        Method::Other(other) => other.clone(),
    }
}

fn read_all(body: &IncomingBody) -> Vec<u8> {
    let Ok(stream) = body.stream() else {
        return Vec::new();
    };
    let mut bytes = Vec::new();
    while let Ok(chunk) = stream.blocking_read(64 * 1024) {
        bytes.extend(chunk);
    }
    bytes
}

/// Sets `status`, `headers` and `body` as the response.
fn respond(out: ResponseOutparam, status: u16, headers: &[(&str, String)], body: &[u8]) {
    let fields = Fields::new();
    for (name, value) in headers {
        let _ = fields.append(name, value.as_bytes());
    }
    let response = OutgoingResponse::new(fields);
    let _ = response.set_status_code(status);
    let Ok(outgoing) = response.body() else {
        return;
    };
    ResponseOutparam::set(out, Ok(response));
    if let Ok(stream) = outgoing.write() {
        for chunk in body.chunks(4096) {
            if stream.blocking_write_and_flush(chunk).is_err() {
                return;
            }
        }
    }
    let _ = OutgoingBody::finish(outgoing, None);
}

/// `GET url` through `wasi:http/outgoing-handler`.
fn fetch(url: &str) -> Result<(u16, Vec<u8>), String> {
    let (scheme, rest) = match url.split_once("://") {
        Some(("http", rest)) => (Scheme::Http, rest),
        Some(("https", rest)) => (Scheme::Https, rest),
        _ => return Err(format!("not an http(s) URL: {url}")),
    };
    let at = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(at);
    let request = OutgoingRequest::new(Fields::new());
    let _ = request.set_scheme(Some(&scheme));
    let _ = request.set_authority(Some(authority));
    let _ = request.set_path_with_query(Some(if path.is_empty() { "/" } else { path }));
    let future = outgoing_handler::handle(request, None).map_err(|e| format!("{e:?}"))?;
    let response = loop {
        match future.get() {
            Some(result) => break result,
            None => future.subscribe().block(),
        }
    };
    let response = response
        .map_err(|()| "taken".to_owned())?
        .map_err(|e| format!("{e:?}"))?;
    let status = response.status();
    let body = response.consume().map_err(|()| "consume".to_owned())?;
    let bytes = read_all(&body);
    Ok((status, bytes))
}

impl Guest for Echo {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let method = method_name(&request.method());
        let path = request.path_with_query().unwrap_or_default();
        let (route, query) = path.split_once('?').unwrap_or((path.as_str(), ""));
        match route {
            "/echo" => {
                let count = request.headers().entries().len();
                let body = request.consume().map(|b| read_all(&b)).unwrap_or_default();
                let headers = [
                    ("x-method", method),
                    ("x-path", path.clone()),
                    ("x-header-count", count.to_string()),
                ];
                respond(out, 200, &headers, &body);
            }
            "/big" => {
                let size: usize = query.parse().unwrap_or(0);
                respond(out, 200, &[], &vec![b'b'; size]);
            }
            "/loop" => {
                let mut n: u64 = 0;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            "/hog" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1; 1 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            "/none" => drop(out),
            "/time" => {
                let now = wall_clock::now();
                respond(out, 200, &[], now.seconds.to_string().as_bytes());
            }
            "/fetch" => match fetch(query) {
                Ok((status, body)) => {
                    respond(out, 200, &[("x-upstream-status", status.to_string())], &body)
                }
                Err(error) => respond(out, 502, &[], error.as_bytes()),
            },
            _ => respond(out, 404, &[], b"no such path"),
        }
    }
}

wasip2::http::proxy::export!(Echo);
