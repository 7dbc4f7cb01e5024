//! The request loop of the `http` toy: validates a request, sends it with a
//! `ureq` agent that follows no redirects and uses no proxy, and follows at most
//! [`MAX_REDIRECTS`] redirects itself, checking every hop against the grants.
//!
//! One agent serves every run of a toy (see [`agent`]): its pool keeps idle
//! connections, keyed by scheme and authority (host and port as written in
//! the normalised URL), for the next request to the same origin, whichever
//! run makes it. The grants are per run and checked on every hop *before*
//! the agent is asked for a connection, so a run only ever reaches the pool
//! with an origin its own grant admits; the address behind a pooled
//! connection passed the same public-address filter ([`PublicOnly`], which
//! depends on the host name only) when it was dialled, so that run could have
//! dialled it itself. A name and an IP literal for the same address are
//! different keys: a grant for one never reuses a connection made for the
//! other.
//!
//! Blocking: call it from `spawn_blocking`. It must never send a request to a
//! scheme, host or port the grants do not allow (the first one or any redirect),
//! never downgrade https to http, never read more than [`MAX_BODY`] + 1 bytes of
//! a body, never send more than [`MAX_REQUEST_BODY`], never carry the child's
//! headers (beyond [`CROSS_ORIGIN_HEADERS`]) to another origin, and never run
//! past the request's time cap.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ureq::http::header::{self, HeaderName, HeaderValue};
use ureq::http::{Method, StatusCode};
use ureq::unversioned::resolver::Resolver;
use ureq::{Agent, AsSendBody};
use url::Url;

use super::grant::{HttpGrant, Target, allowed};
use super::resolve::{PrivateAddress, PublicOnly};

/// Most redirects followed for one request.
pub const MAX_REDIRECTS: usize = 5;
/// Largest response body returned, in bytes (16 MiB; `fetch` is linked
/// typed, so a body is held as bytes).
pub const MAX_BODY: u64 = 16 << 20;
/// Largest request body a child may send, in bytes (16 MiB).
pub const MAX_REQUEST_BODY: usize = 16 << 20;
/// Default and largest time cap of one request, redirects included.
pub const MAX_TIMEOUT_MS: u32 = 30_000;
/// Largest total size of the request headers a child may set, in bytes.
pub const MAX_REQUEST_HEADER_BYTES: usize = 64 << 10;

/// Request headers a child may not set: the toy (through `ureq`) owns the
/// framing and the connection, and there is never a proxy.
const FORBIDDEN_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "te",
    "trailer",
    "upgrade",
    "expect",
];

/// Headers dropped when a redirect turns the request into a body-less `GET`.
const BODY_HEADERS: &[&str] = &[
    "content-type",
    "content-encoding",
    "content-language",
    "content-location",
];

/// The only child-set headers kept when a redirect leaves the origin (scheme,
/// host or port change); every other one (`authorization`, `cookie`,
/// `x-api-key`, ...) is dropped. `content-type` is also kept while the body is.
pub(super) const CROSS_ORIGIN_HEADERS: &[&str] = &["accept", "accept-language", "user-agent"];

/// Why a request failed: the `error` variant of the WIT (the SDK's type,
/// shared with the host's `wasi:http`).
pub use patina_toy::HttpError as FetchError;
/// The final response: headers named lowercase, grouped by name in the order
/// each name first appeared (repeated headers keep their relative order), a
/// body of at most [`MAX_BODY`] bytes, and the URL that answered.
pub use patina_toy::HttpResponse as Response;

/// A validated request.
#[derive(Clone, Debug)]
pub struct Request {
    method: Method,
    url: Url,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Option<Vec<u8>>,
    timeout: Duration,
}

impl Request {
    /// Checks the parts of a request as the child gave them.
    pub fn new(
        method: &str,
        url: &str,
        headers: &[(String, String)],
        body: Option<Vec<u8>>,
        timeout_ms: Option<u32>,
    ) -> Result<Self, FetchError> {
        let invalid = |reason: String| FetchError::Invalid(reason);
        let method = match method {
            "GET" => Method::GET,
            "POST" => Method::POST,
            "PUT" => Method::PUT,
            "DELETE" => Method::DELETE,
            "HEAD" => Method::HEAD,
            "PATCH" => Method::PATCH,
            "OPTIONS" => Method::OPTIONS,
            other => return Err(invalid(format!("method `{other}` is not allowed"))),
        };
        if body.is_some() && (method == Method::GET || method == Method::HEAD) {
            return Err(invalid(format!("a {method} request carries no body")));
        }
        if let Some(len) = body
            .as_ref()
            .map(Vec::len)
            .filter(|n| *n > MAX_REQUEST_BODY)
        {
            return Err(invalid(format!(
                "body larger than {MAX_REQUEST_BODY} bytes (16 MiB): {len} bytes"
            )));
        }
        let mut url = Url::parse(url).map_err(|e| invalid(format!("bad URL `{url}`: {e}")))?;
        url.set_fragment(None);
        Target::of(&url).map_err(invalid)?;
        let timeout_ms = timeout_ms.unwrap_or(MAX_TIMEOUT_MS);
        if timeout_ms == 0 {
            return Err(invalid("timeout-ms must be at least 1".into()));
        }
        let timeout = Duration::from_millis(u64::from(timeout_ms.min(MAX_TIMEOUT_MS)));
        let headers = validate_headers(headers)?;
        Ok(Self {
            method,
            url,
            headers,
            body,
            timeout,
        })
    }

    /// The time cap of the whole exchange.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }
}

fn validate_headers(
    headers: &[(String, String)],
) -> Result<Vec<(HeaderName, HeaderValue)>, FetchError> {
    let total: usize = headers.iter().map(|(n, v)| n.len() + v.len()).sum();
    if total > MAX_REQUEST_HEADER_BYTES {
        return Err(FetchError::Invalid(format!(
            "request headers total {total} bytes, more than {MAX_REQUEST_HEADER_BYTES}"
        )));
    }
    headers
        .iter()
        .map(|(name, value)| {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| FetchError::Invalid(format!("bad header name `{name}`")))?;
            if FORBIDDEN_HEADERS.contains(&name.as_str()) || name.as_str().starts_with("proxy-") {
                return Err(FetchError::Invalid(format!(
                    "header `{name}` is set by the toy, not the child"
                )));
            }
            let value = HeaderValue::from_bytes(value.as_bytes()).map_err(|_| {
                FetchError::Invalid(format!(
                    "bad value for header `{name}` (control characters?)"
                ))
            })?;
            Ok((name, value))
        })
        .collect()
}

/// Sends `request` with `agent` (made by [`agent`], shared by every run) to
/// what `grants` (this run's) allow, following redirects. Blocking.
pub fn fetch(
    grants: &[HttpGrant],
    agent: &Agent,
    request: Request,
) -> Result<Response, FetchError> {
    let deadline = Instant::now() + request.timeout;
    let Request {
        mut method,
        mut url,
        mut headers,
        mut body,
        ..
    } = request;
    let mut redirects = 0;
    loop {
        let target = Target::of(&url).map_err(FetchError::Invalid)?;
        // Before the agent (and its pool of connections) is asked for
        // anything: a pooled connection is reused only for this origin.
        if !allowed(grants, &target) {
            return Err(FetchError::Denied(target.host.to_string()));
        }
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(FetchError::Timeout);
        }
        tracing::debug!(%method, %url, "http toy request");
        let mut builder = ureq::http::Request::builder()
            .method(method.clone())
            .uri(url.as_str());
        for (name, value) in &headers {
            builder = builder.header(name, value);
        }
        let mut response = match &body {
            Some(bytes) => send(agent, builder.body(bytes.as_slice()), remaining),
            None => send(agent, builder.body(()), remaining),
        }?;
        let status = response.status();
        let location = response.headers().get(header::LOCATION);
        let next = match location {
            Some(location) if is_redirect(status) => location,
            _ => return read_response(&mut response, &method, url),
        };
        if redirects == MAX_REDIRECTS {
            return Err(FetchError::Transport(format!(
                "more than {MAX_REDIRECTS} redirects"
            )));
        }
        redirects += 1;
        let (next, next_target) = redirect_target(&url, &target, next)?;
        let to_get = status == StatusCode::SEE_OTHER && method != Method::HEAD
            || matches!(status, StatusCode::MOVED_PERMANENTLY | StatusCode::FOUND)
                && method == Method::POST;
        if to_get {
            method = Method::GET;
            body = None;
            headers.retain(|(name, _)| !BODY_HEADERS.contains(&name.as_str()));
        }
        if target != next_target {
            let keep_body = body.is_some();
            headers.retain(|(name, _)| {
                CROSS_ORIGIN_HEADERS.contains(&name.as_str())
                    || keep_body && *name == header::CONTENT_TYPE
            });
        }
        url = next;
    }
}

/// An agent that never follows redirects, never uses a proxy (whatever the
/// environment says) and reaches names only at public addresses: `dns` (the
/// system resolver outside tests) is always wrapped in [`PublicOnly`]. It
/// keeps idle connections for reuse (ureq's pool: at most 10, 3 per origin,
/// 15 s idle), keyed by scheme and authority; it carries no cookies or other
/// state from one request to the next.
pub(super) fn agent(dns: Arc<dyn Resolver>) -> Agent {
    let config = Agent::config_builder()
        .proxy(None)
        .max_redirects(0)
        .http_status_as_error(false)
        .https_only(false)
        .user_agent("patina-http/0.1")
        .accept_encoding("")
        .build();
    Agent::with_parts(
        config,
        ureq::unversioned::transport::DefaultConnector::default(),
        PublicOnly::new(dns),
    )
}

fn send<B: AsSendBody>(
    agent: &Agent,
    request: Result<ureq::http::Request<B>, ureq::http::Error>,
    remaining: Duration,
) -> Result<ureq::http::Response<ureq::Body>, FetchError> {
    let request = request.map_err(|e| FetchError::Invalid(e.to_string()))?;
    let request = agent
        .configure_request(request)
        .timeout_global(Some(remaining))
        .build();
    agent.run(request).map_err(transport)
}

/// Where a redirect from `current` (reaching `target`) to `location` goes,
/// with everything but the allowlist checked: a readable, usable URL and no
/// downgrade from https to plain http (`denied`).
pub(super) fn redirect_target(
    current: &Url,
    target: &Target,
    location: &HeaderValue,
) -> Result<(Url, Target), FetchError> {
    let mut next = location
        .to_str()
        .ok()
        .and_then(|text| current.join(text).ok())
        .ok_or_else(|| FetchError::Transport("redirect to an unreadable Location".into()))?;
    next.set_fragment(None);
    let next_target = Target::of(&next)
        .map_err(|reason| FetchError::Transport(format!("redirect to {next}: {reason}")))?;
    if target.https && !next_target.https {
        return Err(FetchError::Denied(next_target.host.to_string()));
    }
    Ok((next, next_target))
}

fn is_redirect(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

/// Whether a response to `method` with `status` has no body whatever its
/// `Content-Length` says (RFC 9110: HEAD, 204, 304).
fn has_no_body(method: &Method, status: StatusCode) -> bool {
    *method == Method::HEAD || matches!(status, StatusCode::NO_CONTENT | StatusCode::NOT_MODIFIED)
}

fn read_response(
    response: &mut ureq::http::Response<ureq::Body>,
    method: &Method,
    url: Url,
) -> Result<Response, FetchError> {
    let status = response.status();
    let headers = response
        .headers()
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let response_of = |body| Response {
        status: status.as_u16(),
        headers,
        body,
        url: url.to_string(),
    };
    if has_no_body(method, status) {
        // `Content-Length` here describes the resource, not this message.
        return Ok(response_of(Vec::new()));
    }
    let declared = response
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if let Some(length) = declared.filter(|n| *n > MAX_BODY) {
        return Err(FetchError::TooLarge(length));
    }
    let body = response
        .body_mut()
        .with_config()
        .limit(MAX_BODY + 1)
        .read_to_vec()
        .map_err(|e| match e {
            ureq::Error::BodyExceedsLimit(_) => FetchError::TooLarge(MAX_BODY + 1),
            other => transport(other),
        })?;
    Ok(response_of(body))
}

/// Maps a `ureq` failure to the WIT error.
fn transport(error: ureq::Error) -> FetchError {
    match error {
        ureq::Error::Timeout(_) => FetchError::Timeout,
        ureq::Error::Io(e) => {
            if let Some(private) = e.get_ref().and_then(|e| e.downcast_ref::<PrivateAddress>()) {
                FetchError::Denied(private.host.clone())
            } else if matches!(
                e.kind(),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
            ) {
                FetchError::Timeout
            } else {
                FetchError::Transport(e.to_string())
            }
        }
        ureq::Error::BodyExceedsLimit(_) => FetchError::TooLarge(MAX_BODY + 1),
        other => FetchError::Transport(other.to_string()),
    }
}
