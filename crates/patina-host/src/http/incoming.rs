//! Bridge children: a child that exports `wasi:http/incoming-handler` is
//! handed one HTTP request ([`HttpCall`]) as an ordinary run — its grants,
//! limits and recording are any run's — and its response ([`HttpReply`]) is
//! read while it writes it.
//!
//! The request is the run's call and the response its outcome, each written
//! once, here, as transcript text ([`HttpCall`]'s and [`HttpReply`]'s
//! [`Encode`]; `docs/receipts.md`). This module must never let a request or
//! a response past its caps, and never wait on a child that set no response.

use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use patina_receipts::Blob;
use patina_toy::typed::{Decode, Encode, Field, WaveError, WaveReader, WaveWriter, decode_all};
use tokio::sync::oneshot;
use wasmtime::Store;
use wasmtime::component::{Func, Val};
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::p2::bindings::http::types::{ErrorCode, Scheme};
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

use crate::state::RunState;

/// Largest request body handed to a bridge child, and largest response body
/// read from one (16 MiB).
pub const MAX_HTTP_BODY: usize = 16 << 20;
/// Largest total size of the headers of a request or a response (64 KiB).
pub const MAX_HTTP_HEADERS: usize = 64 << 10;

/// One HTTP request for a bridge child.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpCall {
    /// The method, e.g. `GET` (any valid token).
    pub method: String,
    /// `http` or `https`: how the request reached the bridge.
    pub scheme: String,
    /// The authority the request was addressed to (`localhost:8080`).
    pub authority: String,
    /// Path and query, starting with `/` (`/calc/add?x=1`).
    pub path_with_query: String,
    /// Header names and values, in order (at most [`MAX_HTTP_HEADERS`] in
    /// all).
    pub headers: Vec<(String, String)>,
    /// The body (at most [`MAX_HTTP_BODY`] bytes).
    pub body: Vec<u8>,
}

impl HttpCall {
    /// A `method` request for `path_with_query` at `http://localhost`, with
    /// no headers and no body.
    pub fn new(method: impl Into<String>, path_with_query: impl Into<String>) -> Self {
        Self {
            method: method.into(),
            scheme: "http".into(),
            authority: "localhost".into(),
            path_with_query: path_with_query.into(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// The request as `http` has it, or why it is not one a child may get.
    pub(crate) fn to_request(&self) -> Result<(Scheme, http::Request<Full<Bytes>>), String> {
        let scheme = match self.scheme.as_str() {
            "http" => Scheme::Http,
            "https" => Scheme::Https,
            other => return Err(format!("scheme `{other}` is neither http nor https")),
        };
        let method = http::Method::from_bytes(self.method.as_bytes())
            .map_err(|_| format!("`{}` is not a method", self.method))?;
        if !self.path_with_query.starts_with('/') {
            return Err(format!(
                "the path `{}` does not start with `/`",
                self.path_with_query
            ));
        }
        let uri = http::Uri::builder()
            .scheme(self.scheme.as_str())
            .authority(self.authority.as_str())
            .path_and_query(self.path_with_query.as_str())
            .build()
            .map_err(|e| format!("`{}{}`: {e}", self.authority, self.path_with_query))?;
        let size: usize = self.headers.iter().map(|(n, v)| n.len() + v.len()).sum();
        if size > MAX_HTTP_HEADERS {
            return Err(format!(
                "headers of {size} bytes, more than {MAX_HTTP_HEADERS}"
            ));
        }
        if self.body.len() > MAX_HTTP_BODY {
            return Err(format!(
                "a body of {} bytes, more than {MAX_HTTP_BODY} (16 MiB)",
                self.body.len()
            ));
        }
        let mut builder = http::Request::builder().method(method).uri(uri);
        for (name, value) in &self.headers {
            let name = http::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| format!("bad header name `{name}`"))?;
            let value = http::HeaderValue::from_bytes(value.as_bytes())
                .map_err(|_| format!("bad value for header `{name}`"))?;
            builder = builder.header(name, value);
        }
        let body = Full::new(Bytes::from(self.body.clone()));
        let request = builder.body(body).map_err(|e| e.to_string())?;
        Ok((scheme, request))
    }

    /// The request a recorded call of `function` with `args` made, if it was
    /// a bridge child's (blobs looked up with `blob`).
    pub(crate) fn recorded(
        function: &str,
        args: &[String],
        blob: &patina_toy::typed::BlobLookup<'_>,
    ) -> Option<Self> {
        let is_handler =
            function.starts_with("wasi:http/incoming-handler") && function.ends_with(".handle");
        match args {
            [text] if is_handler => decode_all(text, blob).ok(),
            _ => None,
        }
    }
}

/// A bridge child's response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpReply {
    /// The status code.
    pub status: u16,
    /// Header names (lowercase) and values, in order; values that are not
    /// UTF-8 are converted lossily.
    pub headers: Vec<(String, String)>,
    /// The body (at most [`MAX_HTTP_BODY`] bytes).
    pub body: Vec<u8>,
}

impl Encode for HttpCall {
    fn encode(&self, w: &mut WaveWriter<'_>) {
        w.record(&[
            ("method", &self.method),
            ("scheme", &self.scheme),
            ("authority", &self.authority),
            ("path-with-query", &self.path_with_query),
            ("headers", &self.headers),
            ("body", &self.body),
        ]);
    }
}

impl Decode for HttpCall {
    fn decode(r: &mut WaveReader<'_>) -> Result<Self, WaveError> {
        let (mut method, mut scheme, mut authority) = (Field::new(), Field::new(), Field::new());
        let (mut path, mut headers, mut body) = (Field::new(), Field::new(), Field::new());
        r.record(|name, r| match name {
            "method" => method.read(name, r),
            "scheme" => scheme.read(name, r),
            "authority" => authority.read(name, r),
            "path-with-query" => path.read(name, r),
            "headers" => headers.read(name, r),
            "body" => body.read(name, r),
            other => Err(r.error(format!("an HTTP call has no field `{other}`"))),
        })?;
        Ok(Self {
            method: method.take("method", r)?,
            scheme: scheme.take("scheme", r)?,
            authority: authority.take("authority", r)?,
            path_with_query: path.take("path-with-query", r)?,
            headers: headers.take("headers", r)?,
            body: body.take("body", r)?,
        })
    }
}

impl Encode for HttpReply {
    fn encode(&self, w: &mut WaveWriter<'_>) {
        w.record(&[
            ("status", &self.status),
            ("headers", &self.headers),
            ("body", &self.body),
        ]);
    }
}

/// `value` as transcript text, its byte lists over the inline limit kept in
/// `blobs` (once each).
pub(crate) fn transcript_text<T: Encode>(value: &T, blobs: &mut Vec<Blob>) -> String {
    let digest = |bytes: &[u8]| Blob::digest(bytes).0;
    let mut writer = WaveWriter::new(&digest);
    writer.value(value);
    let (text, written) = writer.finish();
    for blob in written {
        let digest = patina_receipts::Digest(blob.digest);
        if !blobs.iter().any(|b| b.digest == digest) {
            blobs.push(Blob {
                digest,
                bytes: blob.bytes,
            });
        }
    }
    text
}

/// A bridge child ended its call without a usable response (see
/// [`RunFailure::HttpReply`](crate::RunFailure::HttpReply)).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct NoReply(pub String);

/// Calls `handle` (`func`) of a bridge child in `store` with `call`, reading
/// the response while the child writes it. The response, or the error that
/// ended the call (a [`NoReply`] when it returned without a usable one).
pub(crate) async fn serve(
    store: &mut Store<RunState>,
    func: Func,
    call: &HttpCall,
) -> Result<HttpReply, wasmtime::Error> {
    let (scheme, request) = call.to_request().map_err(wasmtime::Error::msg)?;
    let (sender, receiver) = oneshot::channel();
    let request = store
        .data_mut()
        .http()
        .new_incoming_request(scheme, request)?;
    let outparam = store.data_mut().http().new_response_outparam(sender)?;
    let args = [
        Val::Resource(request.try_into_resource_any(&mut *store)?),
        Val::Resource(outparam.try_into_resource_any(&mut *store)?),
    ];
    let set = AtomicBool::new(false);
    let reader = read_reply(receiver, &set);
    tokio::pin!(reader);
    let mut reply = None;
    {
        // The response is read as the child writes it: its body stream is
        // bounded, so a child writing a large body waits for this reader.
        let called = func.call_async(&mut *store, &args, &mut []);
        tokio::pin!(called);
        loop {
            tokio::select! {
                biased;
                done = &mut reader, if reply.is_none() => reply = Some(done),
                called = &mut called => break called?,
            }
        }
    }
    if reply.is_none() {
        // A response set in the call's last step is seen now.
        if let std::task::Poll::Ready(done) = futures::poll!(&mut reader) {
            reply = Some(done);
        }
    }
    let reply = match reply {
        Some(reply) => reply,
        None if !set.load(Ordering::Acquire) => Err("the child set no response".to_owned()),
        // The body is still on its way (bounded by the run's deadline).
        None => reader.await,
    };
    reply.map_err(|reason| wasmtime::Error::new(NoReply(reason)))
}

type ReplyReceiver = oneshot::Receiver<Result<http::Response<HyperOutgoingBody>, ErrorCode>>;

/// The response the child sets, its body read to the end (at most
/// [`MAX_HTTP_BODY`] bytes: past that the body is dropped, and the child's
/// next write fails). Notes in `set` when the child has set it.
async fn read_reply(receiver: ReplyReceiver, set: &AtomicBool) -> Result<HttpReply, String> {
    let response = match receiver.await {
        Ok(Ok(response)) => response,
        Ok(Err(code)) => return Err(format!("the child answered with the error {code:?}")),
        Err(_) => return Err("the child set no response".into()),
    };
    set.store(true, Ordering::Release);
    let (parts, body) = response.into_parts();
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let size: usize = headers.iter().map(|(n, v)| n.len() + v.len()).sum();
    if size > MAX_HTTP_HEADERS {
        return Err(format!(
            "response headers of {size} bytes, more than {MAX_HTTP_HEADERS}"
        ));
    }
    let body = Limited::new(body, MAX_HTTP_BODY)
        .collect()
        .await
        .map_err(|e| {
            if e.is::<http_body_util::LengthLimitError>() {
                format!("a response body larger than {MAX_HTTP_BODY} bytes (16 MiB)")
            } else {
                format!("the response body failed: {e}")
            }
        })?
        .to_bytes();
    Ok(HttpReply {
        status: parts.status.as_u16(),
        headers,
        body: body.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_is_written_once_and_reads_back() {
        let mut call = HttpCall::new("POST", "/calc/add?x=1");
        call.headers
            .push(("content-type".into(), "application/json".into()));
        call.body = b"[2, 3]".to_vec();
        let mut blobs = Vec::new();
        let text = transcript_text(&call, &mut blobs);
        assert_eq!(
            text,
            r#"{method: "POST", scheme: "http", authority: "localhost", path-with-query: "/calc/add?x=1", headers: [("content-type", "application/json")], body: [91, 50, 44, 32, 51, 93]}"#
        );
        assert!(blobs.is_empty());
        let function = "wasi:http/incoming-handler@0.2.12.handle";
        let none = |_: &[u8; 32]| None;
        assert_eq!(
            HttpCall::recorded(function, std::slice::from_ref(&text), &none),
            Some(call.clone())
        );
        assert_eq!(HttpCall::recorded("add", &[text], &none), None);

        call.body = vec![7; 300];
        let text = transcript_text(&call, &mut blobs);
        assert!(text.contains("body: <blob:"), "{text}");
        assert_eq!(blobs.len(), 1);
        let found = |digest: &[u8; 32]| {
            blobs
                .iter()
                .find(|b| b.digest.0 == *digest)
                .map(|b| b.bytes.clone())
        };
        assert_eq!(HttpCall::recorded(function, &[text], &found), Some(call));
    }

    #[test]
    fn malformed_calls_are_refused_before_a_run() {
        let bad = |edit: &dyn Fn(&mut HttpCall)| {
            let mut call = HttpCall::new("GET", "/");
            edit(&mut call);
            call.to_request().unwrap_err()
        };
        assert!(bad(&|c| c.method = "GE T".into()).contains("not a method"));
        assert!(bad(&|c| c.path_with_query = "x".into()).contains("does not start with `/`"));
        assert!(bad(&|c| c.scheme = "ftp".into()).contains("neither http nor https"));
        assert!(bad(&|c| c.body = vec![0; MAX_HTTP_BODY + 1]).contains("more than 16777216"));
        assert!(
            bad(&|c| c.headers.push(("x".into(), "a\r\nb".into()))).contains("bad value"),
            "no header injection"
        );
        assert!(
            bad(&|c| c.headers.push(("x".into(), "v".repeat(MAX_HTTP_HEADERS))))
                .contains("headers of")
        );
        assert!(HttpCall::new("GET", "/").to_request().is_ok());
    }
}
