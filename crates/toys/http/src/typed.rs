//! The `request`, `response` and `error` types of `patina:toys/http` as typed
//! component values, so `fetch` is linked typed: request and response bodies
//! move as bytes, never as one dynamic value per byte, and are recorded as
//! blobs of the receipt. Conversions only; the fetching is the client's.

use patina_toy::typed::{Decode, Encode, Field, WaveError, WaveReader, WaveWriter};
use wasmtime::component::{ComponentType, Lift, Lower};

use crate::RequestParts;
use crate::client::{FetchError, Response};

/// The WIT `request` record.
#[derive(Clone, Debug, PartialEq, Eq, ComponentType, Lift, Lower)]
#[component(record)]
pub(crate) struct WitRequest {
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
    #[component(name = "timeout-ms")]
    timeout_ms: Option<u32>,
}

impl From<WitRequest> for RequestParts {
    fn from(request: WitRequest) -> Self {
        Self {
            method: request.method,
            url: request.url,
            headers: request.headers,
            body: request.body,
            timeout_ms: request.timeout_ms,
        }
    }
}

/// The WIT `response` record.
#[derive(Clone, Debug, PartialEq, Eq, ComponentType, Lift, Lower)]
#[component(record)]
pub(crate) struct WitResponse {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    url: String,
}

impl From<Response> for WitResponse {
    fn from(response: Response) -> Self {
        Self {
            status: response.status,
            headers: response.headers,
            body: response.body,
            url: response.url,
        }
    }
}

/// The WIT `error` variant.
#[derive(Clone, Debug, PartialEq, Eq, ComponentType, Lift, Lower)]
#[component(variant)]
pub(crate) enum WitError {
    #[component(name = "denied")]
    Denied(String),
    #[component(name = "invalid")]
    Invalid(String),
    #[component(name = "timeout")]
    Timeout,
    #[component(name = "too-large")]
    TooLarge(u64),
    #[component(name = "transport")]
    Transport(String),
}

impl From<FetchError> for WitError {
    fn from(error: FetchError) -> Self {
        match error {
            FetchError::Denied(host) => Self::Denied(host),
            FetchError::Invalid(reason) => Self::Invalid(reason),
            FetchError::Timeout => Self::Timeout,
            FetchError::TooLarge(n) => Self::TooLarge(n),
            FetchError::Transport(reason) => Self::Transport(reason),
        }
    }
}

impl Encode for WitRequest {
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

impl Decode for WitRequest {
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

impl Encode for WitResponse {
    fn encode(&self, w: &mut WaveWriter<'_>) {
        w.record(&[
            ("status", &self.status),
            ("headers", &self.headers),
            ("body", &self.body),
            ("url", &self.url),
        ]);
    }
}

impl Decode for WitResponse {
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

impl Encode for WitError {
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

impl Decode for WitError {
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
