//! `wasi:http/outgoing-handler` with no authority of its own: every request
//! a child hands over goes to the run's [`OutgoingHttp`] backend (the `http`
//! toy's client: the `http:` grants' allowlist, redirects re-checked, names
//! kept to public addresses, size and time caps), and is refused without
//! one or without a grant. Each request and its answer is an event of the
//! run's tape, at the place the child made the request (see
//! [`crate::tape::Slot`]), so a replay answers it from the receipt.
//!
//! This module must never send a request anywhere but through the backend,
//! never send one in a replay, and never give a child an answer the
//! transcript of a replayed run did not hold.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use patina_core::Grant;
use patina_toy::typed::{RecordedAnswer, tape_decode, tape_encode, tape_text};
use patina_toy::{HttpAnswer, HttpError, HttpRequest, HttpResponse, OutgoingHttp};
use wasmtime_wasi_http::{
    DEFAULT_FORBIDDEN_HEADERS, Error, ForbiddenHeaderFilter, RequestOptions, WasiBody,
    WasiHttpHooks,
};

use crate::tape::{Slot, Tape};

/// The interface outgoing requests are recorded under (its version is the
/// child's business: every 0.2 release records the same).
pub(crate) const OUTGOING: &str = "wasi:http/outgoing-handler";
/// The function they are recorded as.
const HANDLE: &str = "handle";
/// Largest request body a child may hand over (as the `http` toy's).
pub(crate) const MAX_REQUEST_BODY: usize = 16 << 20;
/// Request headers a child may not set beyond wasmtime's own list: framing
/// and connection headers belong to the backend, and there is no proxy.
const MORE_FORBIDDEN: [&str; 3] = ["te", "trailer", "expect"];

/// What a response to the guest is, or why there is none.
type Sent = Result<
    (
        http::Response<WasiBody>,
        Box<dyn Future<Output = Result<(), Error>> + Send>,
    ),
    Error,
>;

/// The `wasi:http` hooks of one run.
pub(crate) struct OutgoingHooks {
    tape: Tape,
    backend: Option<Arc<dyn OutgoingHttp>>,
    /// The run's canonical grants of the backend's kind (the allowlist).
    grants: Arc<[Grant]>,
}

impl OutgoingHooks {
    /// Hooks sending through `backend` under `grants` (every grant of the
    /// run: those of the backend's kind are kept), recording on `tape`.
    pub(crate) fn new(
        tape: Tape,
        backend: Option<Arc<dyn OutgoingHttp>>,
        grants: &[Grant],
    ) -> Self {
        let grants = match &backend {
            Some(backend) => grants
                .iter()
                .filter(|g| g.kind() == backend.grant_kind())
                .cloned()
                .collect(),
            None => Vec::new(),
        };
        Self {
            tape,
            backend,
            grants: grants.into(),
        }
    }
}

/// Whether a child may not set header `name` on a request.
fn forbidden(name: &http::HeaderName) -> bool {
    DEFAULT_FORBIDDEN_HEADERS.contains(name)
        || MORE_FORBIDDEN.contains(&name.as_str())
        || name.as_str().starts_with("proxy-")
}

impl WasiHttpHooks for OutgoingHooks {
    fn forbidden_header_filter(&mut self) -> ForbiddenHeaderFilter {
        Arc::new(forbidden)
    }

    /// The backend writes `Host` from the URL it is sent to.
    fn set_host_header(&mut self) -> bool {
        false
    }

    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _fut: Box<dyn Future<Output = Result<(), Error>> + Send>,
    ) -> Box<dyn Future<Output = Sent> + Send> {
        // The place in the transcript is the child's order of calls, taken
        // now; the request's body is written by the child later.
        let slot = self.tape.reserve(OUTGOING, HANDLE);
        let exchange = Exchange {
            tape: self.tape.clone(),
            backend: self.backend.clone(),
            grants: self.grants.clone(),
        };
        Box::new(async move {
            let response = exchange.run(slot, request, options).await?;
            Ok((
                response_of(response),
                Box::new(async { Ok(()) }) as Box<dyn Future<Output = _> + Send>,
            ))
        })
    }
}

/// One request on its way, off the child's thread.
struct Exchange {
    tape: Tape,
    backend: Option<Arc<dyn OutgoingHttp>>,
    grants: Arc<[Grant]>,
}

impl Exchange {
    /// The answer to `request`: the backend's (recorded), or the recorded
    /// one, as the child gets it.
    async fn run(
        self,
        slot: Slot,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
    ) -> Result<HttpResponse, Error> {
        let Handed { request, refused } = read_request(request, options).await;
        tracing::debug!(method = %request.method, url = %request.url, "wasi:http request");
        match slot {
            Slot::Refused => Err(Error::InternalError(Some(
                "the run is over its transcript budget, or its replay diverged".into(),
            ))),
            Slot::Replay(seq) => self.replayed(seq, &request),
            Slot::Live => answered(self.send(request, refused).await),
            Slot::Record(seq) => {
                let args = tape_encode(&(&request,), &self.tape);
                let answer = self.send(request, refused).await;
                let result = match &answer {
                    Ok(answer) => Ok(tape_encode(&(answer,), &self.tape)),
                    Err(message) => Err(message.clone()),
                };
                self.tape.complete(seq, args, result);
                answered(answer)
            }
        }
    }

    /// Sends through the backend (`denied` without one), unless the
    /// request was `refused` already. `Err`: the backend failed, with the
    /// message recorded.
    async fn send(
        &self,
        request: HttpRequest,
        refused: Option<HttpError>,
    ) -> Result<HttpAnswer, String> {
        if let Some(refused) = refused {
            return Ok(Err(refused));
        }
        let Some(backend) = &self.backend else {
            let host = url_host(&request.url);
            return Ok(Err(HttpError::Denied(host)));
        };
        backend
            .send(&self.grants, request)
            .await
            .map_err(|e| e.to_string())
    }

    /// The recorded answer of the replayed exchange at `seq`.
    fn replayed(&self, seq: usize, request: &HttpRequest) -> Result<HttpResponse, Error> {
        let tape = &self.tape;
        let args = tape_text(&(request,), tape);
        let same = |recorded: &str| {
            tape_decode::<(HttpRequest,)>(recorded, tape).is_ok_and(|(r,)| r == *request)
        };
        let diverged = |why: String| Error::InternalError(Some(format!("replay diverged: {why}")));
        match tape.recorded_answer(seq, &args, &same) {
            Err(divergence) => Err(diverged(divergence.to_string())),
            Ok(RecordedAnswer::Results(text)) => match tape_decode::<(HttpAnswer,)>(&text, tape) {
                Ok((answer,)) => to_guest(answer),
                Err(why) => {
                    let why = format!("a recorded answer that does not fit: {why}");
                    Err(diverged(tape.misfit(seq as u64, why).to_string()))
                }
            },
            Ok(RecordedAnswer::Failed(message)) => Err(Error::InternalError(Some(message))),
            Ok(RecordedAnswer::Denied) => Err(Error::HttpRequestDenied),
        }
    }
}

/// What the child gets for the backend's answer (`Err`: the backend failed,
/// with this message).
fn answered(answer: Result<HttpAnswer, String>) -> Result<HttpResponse, Error> {
    answer
        .map_err(|message| Error::InternalError(Some(message)))
        .and_then(to_guest)
}

/// A request as the child handed it over: what the backend takes (and the
/// transcript writes), or, when the body cannot be sent, the answer it gets
/// instead (nothing is sent).
struct Handed {
    request: HttpRequest,
    refused: Option<HttpError>,
}

/// The request as the backend takes it: its body read to the end but kept
/// only up to [`MAX_REQUEST_BODY`] + 1 bytes (a larger one is refused as the
/// `http` toy refuses it), `content-length` left to the backend.
async fn read_request(request: http::Request<WasiBody>, options: Option<RequestOptions>) -> Handed {
    let (parts, body) = request.into_parts();
    let headers = parts
        .headers
        .iter()
        .filter(|(name, _)| *name != http::header::CONTENT_LENGTH)
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let (body, refused) = read_body(body).await;
    Handed {
        request: HttpRequest {
            method: parts.method.as_str().to_owned(),
            url: parts.uri.to_string(),
            headers,
            body: (!body.is_empty()).then_some(body),
            timeout_ms: options.and_then(timeout_ms),
        },
        refused,
    }
}

/// The body to its end, at most [`MAX_REQUEST_BODY`] + 1 bytes of it kept,
/// and the refusal of one that is larger or that failed.
async fn read_body(body: WasiBody) -> (Vec<u8>, Option<HttpError>) {
    let mut body = std::pin::pin!(body);
    let (mut kept, mut total) = (Vec::new(), 0usize);
    while let Some(frame) = body.frame().await {
        match frame.map(http_body::Frame::into_data) {
            Ok(Ok(data)) => {
                total = total.saturating_add(data.len());
                let room = (MAX_REQUEST_BODY + 1).saturating_sub(kept.len());
                kept.extend_from_slice(&data[..data.len().min(room)]);
            }
            Ok(Err(_trailers)) => {}
            Err(error) => {
                let refused = HttpError::Invalid(format!("the request body failed: {error}"));
                return (kept, Some(refused));
            }
        }
    }
    let refused = (total > MAX_REQUEST_BODY).then(|| {
        HttpError::Invalid(format!(
            "body larger than {MAX_REQUEST_BODY} bytes (16 MiB): {total} bytes"
        ))
    });
    (kept, refused)
}

/// The exchange's time cap from a child's request options: the longest of
/// the timeouts it set (so no phase is cut shorter than it asked), in
/// milliseconds, at least 1.
fn timeout_ms(options: RequestOptions) -> Option<u32> {
    [
        options.connect_timeout,
        options.first_byte_timeout,
        options.between_bytes_timeout,
    ]
    .into_iter()
    .flatten()
    .max()
    .map(|d: Duration| u32::try_from(d.as_millis().max(1)).unwrap_or(u32::MAX))
}

/// The host part of `url`, for a `denied` answer.
fn url_host(url: &str) -> String {
    http::Uri::try_from(url)
        .ok()
        .and_then(|uri| uri.host().map(str::to_owned))
        .unwrap_or_default()
}

/// The `wasi:http` error a child gets for the backend's error.
fn to_guest(answer: HttpAnswer) -> Result<HttpResponse, Error> {
    answer.map_err(|error| match error {
        HttpError::Denied(_) => Error::HttpRequestDenied,
        HttpError::Timeout => Error::HttpResponseTimeout,
        HttpError::TooLarge(n) => Error::HttpResponseBodySize(Some(n)),
        other @ (HttpError::Invalid(_) | HttpError::Transport(_)) => {
            Error::InternalError(Some(other.to_string()))
        }
    })
}

/// The response a child reads: status, headers (any that no longer parse
/// left out) and the whole body.
fn response_of(response: HttpResponse) -> http::Response<WasiBody> {
    let mut builder = http::Response::builder().status(response.status);
    for (name, value) in &response.headers {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(name.as_bytes()),
            http::HeaderValue::from_bytes(value.as_bytes()),
        ) {
            builder = builder.header(name, value);
        }
    }
    let body = Full::new(Bytes::from(response.body))
        .map_err(|never| match never {})
        .boxed_unsync();
    builder.body(body).unwrap_or_else(|_| {
        // Only a status out of range gets here (a tampered receipt).
        let empty = Full::new(Bytes::new())
            .map_err(|never| match never {})
            .boxed_unsync();
        let mut response = http::Response::new(empty);
        *response.status_mut() = http::StatusCode::BAD_GATEWAY;
        response
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framing_and_proxy_headers_are_the_backends() {
        for name in [
            "host",
            "connection",
            "transfer-encoding",
            "te",
            "trailer",
            "expect",
            "upgrade",
            "proxy-authorization",
            "proxy-anything",
        ] {
            assert!(forbidden(&http::HeaderName::from_static(name)), "{name}");
        }
        for name in ["authorization", "cookie", "accept", "content-type"] {
            assert!(!forbidden(&http::HeaderName::from_static(name)), "{name}");
        }
    }

    #[test]
    fn the_longest_timeout_a_child_set_caps_the_exchange() {
        assert_eq!(timeout_ms(RequestOptions::default()), None);
        let options = RequestOptions {
            connect_timeout: Some(Duration::from_millis(200)),
            first_byte_timeout: Some(Duration::from_secs(3)),
            between_bytes_timeout: Some(Duration::from_nanos(1)),
        };
        assert_eq!(timeout_ms(options), Some(3_000));
        let tiny = RequestOptions {
            connect_timeout: Some(Duration::from_nanos(1)),
            ..RequestOptions::default()
        };
        assert_eq!(timeout_ms(tiny), Some(1));
    }

    #[test]
    fn backend_errors_become_wasi_http_errors() {
        let denied = to_guest(Err(HttpError::Denied("example.com".into())));
        assert!(matches!(denied, Err(Error::HttpRequestDenied)));
        let large = to_guest(Err(HttpError::TooLarge(9)));
        assert!(matches!(large, Err(Error::HttpResponseBodySize(Some(9)))));
        let invalid = to_guest(Err(HttpError::Invalid("bad URL".into())));
        assert!(
            matches!(&invalid, Err(Error::InternalError(Some(m))) if m == "invalid request: bad URL"),
            "{invalid:?}"
        );
        assert_eq!(url_host("http://127.0.0.1:9/x"), "127.0.0.1");
    }
}
