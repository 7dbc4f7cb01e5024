//! Outgoing HTTP as a backend the host can use directly: the
//! [`OutgoingHttp`] trait and the request, response and error values it
//! speaks (the `request`, `response` and `error` of `patina:toys/http`).
//!
//! A child reaches the network over HTTP in two ways: the `http` toy, and
//! `wasi:http/outgoing-handler`, which the host links for every child as part
//! of the WASI base. Both must obey one set of rules — the `http:` grants'
//! allowlist, every redirect re-checked, names kept to public addresses, the
//! size and time caps — so both go through one implementation: the toy crate
//! implements this trait, the embedder hands it to the host in the
//! [`ToyRegistry`](crate::ToyRegistry) ([`ToyRegistry::set_outgoing_http`](crate::ToyRegistry::set_outgoing_http)),
//! and the host never depends on the toy crate.
//!
//! The values are typed component values with [`Encode`] / [`Decode`], so
//! both ways record a request and its answer as the same WAVE text (bodies
//! over [`INLINE_BYTES`](crate::typed::INLINE_BYTES) as blobs of the
//! receipt). This module holds no backend and must never decide what a grant
//! allows: that is the implementation's job, the same for both ways.

use wasmtime::component::{ComponentType, Lift, Lower};

use crate::typed::{Decode, Encode, Field, WaveError, WaveReader, WaveWriter};
use crate::{Grant, ToyError};

/// One outgoing request (the WIT `request` record of `patina:toys/http`).
#[derive(Clone, Debug, PartialEq, Eq, ComponentType, Lift, Lower)]
#[component(record)]
pub struct HttpRequest {
    /// `GET`, `POST`, `PUT`, `DELETE`, `HEAD`, `PATCH` or `OPTIONS`.
    pub method: String,
    /// The absolute URL.
    pub url: String,
    /// Header names and values, in order.
    pub headers: Vec<(String, String)>,
    /// The body, if any.
    pub body: Option<Vec<u8>>,
    /// Time cap of the whole exchange in milliseconds (`None`: the backend's
    /// default).
    #[component(name = "timeout-ms")]
    pub timeout_ms: Option<u32>,
}

/// The final response (the WIT `response` record).
#[derive(Clone, Debug, PartialEq, Eq, ComponentType, Lift, Lower)]
#[component(record)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Header names (lowercase) and values, in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// The URL that answered, after redirects.
    pub url: String,
}

/// Why a request failed (the WIT `error` variant). Each is an answer, not a
/// failure of the run: a child can handle it, and it is recorded.
#[derive(Clone, Debug, PartialEq, Eq, ComponentType, Lift, Lower, thiserror::Error)]
#[component(variant)]
pub enum HttpError {
    /// The URL (or a redirect's) is not allowed by any grant: the host.
    #[component(name = "denied")]
    #[error("denied: {0}")]
    Denied(String),
    /// The request is malformed.
    #[component(name = "invalid")]
    #[error("invalid request: {0}")]
    Invalid(String),
    /// The time cap passed.
    #[component(name = "timeout")]
    #[error("timed out")]
    Timeout,
    /// The response body is larger than the cap, in bytes.
    #[component(name = "too-large")]
    #[error("response body too large: {0} bytes")]
    TooLarge(u64),
    /// Connection, TLS or protocol failure.
    #[component(name = "transport")]
    #[error("transport: {0}")]
    Transport(String),
}

/// What one exchange gave: a response, or the error the child is answered
/// with. (A [`ToyError`] around it ends the run instead.)
pub type HttpAnswer = Result<HttpResponse, HttpError>;

/// A backend that sends requests to what a run's grants allow.
#[async_trait::async_trait]
pub trait OutgoingHttp: Send + Sync + 'static {
    /// The grant kind whose canonical grants are the allowlist (`http`).
    fn grant_kind(&self) -> &str;

    /// Sends `request` to what `grants` (the run's canonical grants of
    /// [`Self::grant_kind`], possibly none) allow, following the redirects
    /// they allow. With no grant, every request is `denied`.
    async fn send(&self, grants: &[Grant], request: HttpRequest) -> Result<HttpAnswer, ToyError>;
}

impl Encode for HttpRequest {
    fn encode(&self, w: &mut WaveWriter<'_>) {
        w.record(&[
            ("method", &self.method),
            ("url", &self.url),
            ("headers", &self.headers),
            ("body", &self.body),
            ("timeout-ms", &self.timeout_ms),
        ]);
    }
}

impl Decode for HttpRequest {
    fn decode(r: &mut WaveReader<'_>) -> Result<Self, WaveError> {
        let (mut method, mut url, mut headers) = (Field::new(), Field::new(), Field::new());
        let (mut body, mut timeout_ms) = (Field::new(), Field::new());
        r.record(|name, r| match name {
            "method" => method.read(name, r),
            "url" => url.read(name, r),
            "headers" => headers.read(name, r),
            "body" => body.read(name, r),
            "timeout-ms" => timeout_ms.read(name, r),
            other => Err(r.error(format!("a request has no field `{other}`"))),
        })?;
        Ok(Self {
            method: method.take("method", r)?,
            url: url.take("url", r)?,
            headers: headers.take("headers", r)?,
            body: body.take("body", r)?,
            timeout_ms: timeout_ms.take("timeout-ms", r)?,
        })
    }
}

impl Encode for HttpResponse {
    fn encode(&self, w: &mut WaveWriter<'_>) {
        w.record(&[
            ("status", &self.status),
            ("headers", &self.headers),
            ("body", &self.body),
            ("url", &self.url),
        ]);
    }
}

impl Decode for HttpResponse {
    fn decode(r: &mut WaveReader<'_>) -> Result<Self, WaveError> {
        let (mut status, mut headers) = (Field::new(), Field::new());
        let (mut body, mut url) = (Field::new(), Field::new());
        r.record(|name, r| match name {
            "status" => status.read(name, r),
            "headers" => headers.read(name, r),
            "body" => body.read(name, r),
            "url" => url.read(name, r),
            other => Err(r.error(format!("a response has no field `{other}`"))),
        })?;
        Ok(Self {
            status: status.take("status", r)?,
            headers: headers.take("headers", r)?,
            body: body.take("body", r)?,
            url: url.take("url", r)?,
        })
    }
}

impl Encode for HttpError {
    fn encode(&self, w: &mut WaveWriter<'_>) {
        match self {
            Self::Denied(host) => w.case("denied", Some(host)),
            Self::Invalid(reason) => w.case("invalid", Some(reason)),
            Self::Timeout => w.case("timeout", None),
            Self::TooLarge(n) => w.case("too-large", Some(n)),
            Self::Transport(reason) => w.case("transport", Some(reason)),
        }
    }
}

impl Decode for HttpError {
    fn decode(r: &mut WaveReader<'_>) -> Result<Self, WaveError> {
        Ok(match r.label()? {
            "denied" => Self::Denied(r.payload()?),
            "invalid" => Self::Invalid(r.payload()?),
            "timeout" => Self::Timeout,
            "too-large" => Self::TooLarge(r.payload()?),
            "transport" => Self::Transport(r.payload()?),
            other => return Err(r.error(format!("`{other}` is not an http error"))),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::typed::decode_all;

    fn text<T: Encode>(value: &T) -> String {
        let digest = |bytes: &[u8]| [bytes.len() as u8; 32];
        let mut writer = WaveWriter::new(&digest);
        writer.value(value);
        writer.finish().0
    }

    #[test]
    fn requests_answers_and_errors_read_back_as_written() {
        let request = HttpRequest {
            method: "POST".into(),
            url: "http://127.0.0.1:8080/x?y=1".into(),
            headers: vec![("content-type".into(), "text/plain".into())],
            body: Some(b"hi".to_vec()),
            timeout_ms: None,
        };
        let written = text(&request);
        assert_eq!(
            written,
            r#"{method: "POST", url: "http://127.0.0.1:8080/x?y=1", headers: [("content-type", "text/plain")], body: some([104, 105])}"#
        );
        assert_eq!(decode_all::<HttpRequest>(&written, &|_| None), Ok(request));
        let answer: HttpAnswer = Err(HttpError::Denied("example.com".into()));
        let written = text(&(answer.clone(),));
        assert_eq!(written, r#"(err(denied("example.com")))"#);
        assert_eq!(
            decode_all::<(HttpAnswer,)>(&written, &|_| None),
            Ok((answer,))
        );
        assert!(decode_all::<HttpError>("teleported", &|_| None).is_err());
    }
}
