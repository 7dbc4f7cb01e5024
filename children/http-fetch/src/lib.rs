//! `http-fetch`: a typed child that makes its requests with
//! `wasi:http/outgoing-handler` directly (the `wasip2` bindings), as any
//! WASI program would, instead of through the `http` toy.

wit_bindgen::generate!({
    path: "wit",
    world: "patina:http-fetch/fetch",
});

use wasip2::http::outgoing_handler;
use wasip2::http::types::{Fields, IncomingBody, Method, OutgoingBody, OutgoingRequest, Scheme};
use wasip2::io::streams::StreamError;

struct HttpFetch;

/// Scheme, authority and path of an absolute `http(s)://` URL.
fn split(url: &str) -> Result<(Scheme, &str, &str), String> {
    let (scheme, rest) = if let Some(rest) = url.strip_prefix("http://") {
        (Scheme::Http, rest)
    } else if let Some(rest) = url.strip_prefix("https://") {
        (Scheme::Https, rest)
    } else {
        return Err(format!("not an http(s) URL: {url}"));
    };
    let at = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(at);
    Ok((scheme, authority, if path.is_empty() { "/" } else { path }))
}

/// Sends one request, writing `body` only after the request was handed
/// over, and reads the whole answer.
fn exchange(method: Method, url: &str, body: Option<&[u8]>) -> Result<(u16, Vec<u8>), String> {
    let (scheme, authority, path) = split(url)?;
    let headers = Fields::new();
    if body.is_some() {
        headers
            .set("content-type", &[b"text/plain".to_vec()])
            .map_err(|e| format!("{e:?}"))?;
    }
    let request = OutgoingRequest::new(headers);
    request.set_method(&method).map_err(|()| "method")?;
    request.set_scheme(Some(&scheme)).map_err(|()| "scheme")?;
    request
        .set_authority(Some(authority))
        .map_err(|()| "authority")?;
    request
        .set_path_with_query(Some(path))
        .map_err(|()| "path")?;
    let outgoing = request.body().map_err(|()| "body")?;
    let future = outgoing_handler::handle(request, None).map_err(|e| format!("{e:?}"))?;
    if let Some(bytes) = body {
        let stream = outgoing.write().map_err(|()| "body stream")?;
        for chunk in bytes.chunks(4096) {
            stream
                .blocking_write_and_flush(chunk)
                .map_err(|e| format!("writing the body: {e:?}"))?;
        }
    }
    OutgoingBody::finish(outgoing, None).map_err(|e| format!("{e:?}"))?;
    let response = loop {
        match future.get() {
            Some(result) => break result,
            None => future.subscribe().block(),
        }
    };
    let response = response
        .map_err(|()| "the response was taken twice")?
        .map_err(|e| format!("{e:?}"))?;
    let status = response.status();
    let incoming = response.consume().map_err(|()| "consume")?;
    let bytes = read_all(&incoming)?;
    IncomingBody::finish(incoming);
    Ok((status, bytes))
}

fn read_all(body: &IncomingBody) -> Result<Vec<u8>, String> {
    let stream = body.stream().map_err(|()| "body stream")?;
    let mut bytes = Vec::new();
    loop {
        match stream.blocking_read(64 * 1024) {
            Ok(chunk) => bytes.extend(chunk),
            Err(StreamError::Closed) => return Ok(bytes),
            Err(e) => return Err(format!("reading the body: {e:?}")),
        }
    }
}

impl Guest for HttpFetch {
    fn get(url: String) -> Result<(u16, String), String> {
        let (status, body) = exchange(Method::Get, &url, None)?;
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    }

    fn post(url: String, body: String) -> Result<(u16, String), String> {
        let (status, body) = exchange(Method::Post, &url, Some(body.as_bytes()))?;
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    }

    fn post_size(url: String, size: u32) -> Result<u16, String> {
        let body = vec![b'x'; size as usize];
        Ok(exchange(Method::Post, &url, Some(&body))?.0)
    }
}

export!(HttpFetch);
