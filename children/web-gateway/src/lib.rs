//! `web-gateway`: a bridge child (it exports `wasi:http/incoming-handler`)
//! that routes `POST /{child}/{function}` with a JSON array of arguments to
//! the installed child `child` through the `invoke` toy (`call-json`), and
//! answers `{"result": …, "receipt": "…"}`, or `{"error": {"kind", "message"}}`
//! with a 4xx/5xx status. It reaches only the children its `invoke:NAME`
//! grants name; the callee runs with its own install grants.

wit_bindgen::generate!({
    path: ["../../wit/toys", "wit"],
    world: "patina:web-gateway/gateway",
    with: { "patina:toys/invoke@0.1.0": generate },
});

use patina::toys::invoke;
use wasip2::exports::http::incoming_handler::Guest;
use wasip2::http::types::{
    Fields, IncomingBody, IncomingRequest, Method, OutgoingBody, OutgoingResponse,
    ResponseOutparam,
};
use wasip2::io::streams::StreamError;

/// Largest argument body read, in bytes.
const MAX_ARGS: usize = 1 << 20;

struct Gateway;

/// `text` as a JSON string.
fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// An error answer: its status and `{"error": {"kind", "message"}}`.
fn error(status: u16, kind: &str, message: &str) -> (u16, String) {
    let body = format!(
        "{{\"error\": {{\"kind\": {}, \"message\": {}}}}}",
        json_string(kind),
        json_string(message)
    );
    (status, body)
}

/// The HTTP status of a refused or failed invocation, by its kind.
fn status_of(kind: &str) -> u16 {
    match kind {
        "not-granted" | "self-call" | "cycle" | "too-deep" => 403,
        "not-installed" => 404,
        "not-started" => 400,
        "failed" => 502,
        "no-time-left" => 504,
        _ => 500,
    }
}

/// The request's body, or `None` when it is over [`MAX_ARGS`] or unreadable.
fn read_body(request: &IncomingRequest) -> Option<Vec<u8>> {
    let body = request.consume().ok()?;
    let bytes = read_stream(&body);
    IncomingBody::finish(body);
    bytes
}

fn read_stream(body: &IncomingBody) -> Option<Vec<u8>> {
    let stream = body.stream().ok()?;
    let mut bytes = Vec::new();
    loop {
        match stream.blocking_read(64 * 1024) {
            Ok(chunk) => bytes.extend(chunk),
            Err(StreamError::Closed) => return Some(bytes),
            Err(StreamError::LastOperationFailed(_)) => return None,
        }
        if bytes.len() > MAX_ARGS {
            return None;
        }
    }
}

/// What `request` is answered with.
fn route(request: &IncomingRequest) -> (u16, String) {
    let path = request.path_with_query().unwrap_or_default();
    let path = path.split('?').next().unwrap_or_default();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let [child, function] = segments.as_slice() else {
        return error(404, "not-found", "routes are POST /{child}/{function}");
    };
    if child.is_empty() || function.is_empty() {
        return error(404, "not-found", "routes are POST /{child}/{function}");
    }
    if !matches!(request.method(), Method::Post) {
        return error(405, "method-not-allowed", "call a function with POST");
    }
    let Some(body) = read_body(request) else {
        return error(413, "too-large", "the arguments are over 1 MiB or unreadable");
    };
    let Ok(args) = String::from_utf8(body) else {
        return error(400, "bad-arguments", "the body is not UTF-8 JSON");
    };
    let args = if args.trim().is_empty() { "[]".to_owned() } else { args };
    match invoke::call_json(child, function, &args) {
        Ok(called) => {
            let receipt = called
                .receipt
                .as_deref()
                .map_or_else(|| "null".to_owned(), json_string);
            (
                200,
                format!("{{\"result\": {}, \"receipt\": {receipt}}}", called.value),
            )
        }
        Err(failure) => error(status_of(&failure.kind), &failure.kind, &failure.message),
    }
}

impl Guest for Gateway {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let (status, body) = route(&request);
        let headers = Fields::new();
        let _ = headers.append("content-type", b"application/json");
        let response = OutgoingResponse::new(headers);
        let _ = response.set_status_code(status);
        let Ok(outgoing) = response.body() else {
            return;
        };
        ResponseOutparam::set(out, Ok(response));
        if let Ok(stream) = outgoing.write() {
            for chunk in body.as_bytes().chunks(4096) {
                if stream.blocking_write_and_flush(chunk).is_err() {
                    return;
                }
            }
        }
        let _ = OutgoingBody::finish(outgoing, None);
    }
}

wasip2::http::proxy::export!(Gateway);
