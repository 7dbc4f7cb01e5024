//! The `http` toy (`patina:toys/http@0.1.0`): outbound HTTP(S) requests to the
//! hosts an allowlist of `http:` grants names (see [`grant`] for the syntax),
//! redirects followed by the toy and checked against the grants at every hop.
//!
//! The same toy value is the host's [`OutgoingHttp`] backend: a child's
//! `wasi:http` requests go through [`HttpToy::send`] under the same `http:`
//! grants and rules, so there is one implementation of them.
//!
//! It must never reach a scheme, host or port no grant allows, never take a
//! proxy or any other routing from the environment, and never hold more than
//! the body cap of a response. Refusals and network failures are answers
//! (`err(error)`), not [`ToyError`]s.

mod client;
mod grant;
mod resolve;

use std::sync::Arc;
use std::time::Duration;

use patina_core::{Grant, GrantError, ToyName};
use ureq::unversioned::resolver::Resolver;
use wasmtime::component::Val;

use patina_toy::typed::{LinkTypedError, TypedLinker};
use patina_toy::{
    Args, HttpAnswer, HttpRequest, OutgoingHttp, Toy, ToyContext, ToyError, ToyInstance, vals,
};

use client::{FetchError, Request, Response};
pub use client::{MAX_BODY, MAX_REQUEST_BODY};
use grant::HttpGrant;

/// How long past a request's own time cap the toy waits for the blocking
/// client before answering `timeout` anyway.
const GRACE: Duration = Duration::from_secs(2);

/// The `http` toy. One value serves every run of a Mother: its agent (and
/// the agent's pool of idle connections) is shared by them, while each run's
/// grants are checked on every request and redirect (see [`client`]).
#[derive(Debug)]
pub struct HttpToy {
    interface: ToyName,
    /// The shared agent, looking names up behind the public-address filter.
    agent: Arc<SharedAgent>,
}

/// The agent every run of a Mother shares, made on first use: a Mother
/// whose runs never reach the network (or a process that runs one child)
/// does not pay for a TLS configuration it never needs.
struct SharedAgent {
    dns: Arc<dyn Resolver>,
    agent: std::sync::OnceLock<ureq::Agent>,
}

impl SharedAgent {
    /// A handle on the agent (clones share one pool of connections).
    fn get(&self) -> ureq::Agent {
        self.agent
            .get_or_init(|| client::agent(self.dns.clone()))
            .clone()
    }
}

impl std::fmt::Debug for SharedAgent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedAgent")
            .field("made", &self.agent.get().is_some())
            .finish_non_exhaustive()
    }
}

impl HttpToy {
    /// The toy for `patina:toys/http@0.1.0`.
    pub fn new() -> Self {
        Self::with_resolver(resolve::system_dns())
    }

    fn with_resolver(dns: Arc<dyn Resolver>) -> Self {
        Self {
            interface: patina_toy::patina_interface("http"),
            agent: Arc::new(SharedAgent {
                dns,
                agent: std::sync::OnceLock::new(),
            }),
        }
    }

    /// The toy looking names up with `dns` instead of the system resolver;
    /// its answers still pass the public-address filter.
    #[cfg(test)]
    pub(crate) fn with_dns(dns: Arc<dyn Resolver>) -> Self {
        Self::with_resolver(dns)
    }
}

impl Default for HttpToy {
    fn default() -> Self {
        Self::new()
    }
}

impl Toy for HttpToy {
    fn interface(&self) -> &ToyName {
        &self.interface
    }

    fn grant_kind(&self) -> &str {
        "http"
    }

    fn summary(&self) -> &str {
        "HTTP requests to the granted hosts (https unless granted `http:http://HOST`)"
    }

    fn functions(&self) -> &[&str] {
        &["fetch"]
    }

    fn canonicalize(&self, grant: &Grant) -> Result<Grant, GrantError> {
        let scope = grant.scope().ok_or_else(|| {
            grant.scope_error(
                "`http` needs a host, e.g. `http:api.example.com` or `http:*.example.com`",
            )
        })?;
        let parsed = HttpGrant::parse(scope).map_err(|reason| grant.scope_error(reason))?;
        grant.with_scope(Some(parsed.canonical()))
    }

    /// Any number of `http` grants: together they are the allowlist.
    fn combine(&self, _grants: &[Grant]) -> Result<(), GrantError> {
        Ok(())
    }

    fn instantiate(&self, ctx: &ToyContext) -> Result<Box<dyn ToyInstance>, ToyError> {
        Ok(Box::new(HttpInstance {
            grants: Arc::new(parse_grants(&ctx.grants)?),
            agent: self.agent.clone(),
        }))
    }

    fn link_typed(&self, linker: &mut TypedLinker<'_, '_>) -> Result<(), LinkTypedError> {
        link_typed(linker)
    }
}

/// The host's `wasi:http` backend: the same client, agent and rules as
/// `fetch`, under the run's canonical `http:` grants.
#[async_trait::async_trait]
impl OutgoingHttp for HttpToy {
    fn grant_kind(&self) -> &str {
        "http"
    }

    async fn send(&self, grants: &[Grant], request: HttpRequest) -> Result<HttpAnswer, ToyError> {
        let grants = Arc::new(parse_grants(grants)?);
        send(grants, self.agent.get(), request).await
    }
}

/// The allowlist of canonical `http:` grants.
fn parse_grants(grants: &[Grant]) -> Result<Vec<HttpGrant>, ToyError> {
    grants
        .iter()
        .map(|grant| {
            HttpGrant::parse(grant.scope().unwrap_or_default()).map_err(|reason| ToyError::Grant {
                reason: format!("grant `{grant}`: {reason}"),
            })
        })
        .collect()
}

/// Checks and sends `request` to what `grants` allow (on a blocking thread,
/// within its time cap): the response, or the WIT error.
async fn send(
    grants: Arc<Vec<HttpGrant>>,
    agent: ureq::Agent,
    request: HttpRequest,
) -> Result<HttpAnswer, ToyError> {
    let HttpRequest {
        method,
        url,
        headers,
        body,
        timeout_ms,
    } = request;
    let request = match Request::new(&method, &url, &headers, body, timeout_ms) {
        Err(e) => return Ok(Err(e)),
        Ok(request) => request,
    };
    let cap = request.timeout() + GRACE;
    let job = tokio::task::spawn_blocking(move || client::fetch(&grants, &agent, request));
    match tokio::time::timeout(cap, job).await {
        Err(_) => Ok(Err(FetchError::Timeout)),
        Ok(Err(join)) => Err(ToyError::Worker {
            what: "http client".into(),
            reason: join.to_string(),
        }),
        Ok(Ok(result)) => Ok(result),
    }
}

struct HttpInstance {
    grants: Arc<Vec<HttpGrant>>,
    /// The toy's agent, shared with every run.
    agent: Arc<SharedAgent>,
}

impl HttpInstance {
    /// `fetch`: the response, or the WIT error.
    async fn fetch(&self, request: HttpRequest) -> Result<HttpAnswer, ToyError> {
        send(Arc::clone(&self.grants), self.agent.get(), request).await
    }
}

/// Links `fetch`, whose bodies are bytes, with typed lifting.
fn link_typed(linker: &mut TypedLinker<'_, '_>) -> Result<(), LinkTypedError> {
    linker.func(
        "fetch",
        |http: &mut HttpInstance, (request,): (HttpRequest,)| {
            Box::pin(async move { Ok((http.fetch(request).await?,)) })
        },
    )
}

/// The dynamic path: `fetch` with component values.
#[async_trait::async_trait]
impl ToyInstance for HttpInstance {
    async fn call(&mut self, function: &str, args: &[Val]) -> Result<Vec<Val>, ToyError> {
        if function != "fetch" {
            return Err(ToyError::NoSuchFunction {
                toy: "patina:toys/http".into(),
                function: function.into(),
            });
        }
        let args = Args::new(function, args, 1)?;
        let request = request_of(function, args.record(0)?)?;
        Ok(vec![match self.fetch(request).await? {
            Ok(response) => vals::ok(Some(response_val(response))),
            Err(error) => vals::err(error_val(error)),
        }])
    }
}

/// The fields of a `request` record, read by name.
fn request_of(function: &str, fields: &[(String, Val)]) -> Result<HttpRequest, ToyError> {
    let bad = |reason: String| ToyError::BadArguments {
        function: function.to_owned(),
        reason,
    };
    let field = |name: &str| {
        fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
            .ok_or_else(|| bad(format!("request has no field `{name}`")))
    };
    let string = |name: &str| match field(name)? {
        Val::String(s) => Ok(s.clone()),
        other => Err(bad(format!("`{name}` must be a string, got {other:?}"))),
    };
    let bytes = |name: &str, items: &[Val]| {
        items
            .iter()
            .map(|item| match item {
                Val::U8(b) => Ok(*b),
                _ => Err(bad(format!("`{name}` must be a list<u8>"))),
            })
            .collect::<Result<Vec<u8>, _>>()
    };
    let headers = match field("headers")? {
        Val::List(items) => items
            .iter()
            .map(|item| match item {
                Val::Tuple(pair) => match pair.as_slice() {
                    [Val::String(n), Val::String(v)] => Ok((n.clone(), v.clone())),
                    _ => Err(bad("a header must be a tuple<string, string>".into())),
                },
                _ => Err(bad("a header must be a tuple<string, string>".into())),
            })
            .collect::<Result<Vec<_>, _>>()?,
        other => return Err(bad(format!("`headers` must be a list, got {other:?}"))),
    };
    let body = match field("body")? {
        Val::Option(None) => None,
        Val::Option(Some(inner)) => match inner.as_ref() {
            Val::List(items) => Some(bytes("body", items)?),
            _ => return Err(bad("`body` must be an option<list<u8>>".into())),
        },
        _ => return Err(bad("`body` must be an option<list<u8>>".into())),
    };
    let timeout_ms = match field("timeout-ms")? {
        Val::Option(None) => None,
        Val::Option(Some(inner)) => match inner.as_ref() {
            Val::U32(ms) => Some(*ms),
            _ => return Err(bad("`timeout-ms` must be an option<u32>".into())),
        },
        _ => return Err(bad("`timeout-ms` must be an option<u32>".into())),
    };
    Ok(HttpRequest {
        method: string("method")?,
        url: string("url")?,
        headers,
        body,
        timeout_ms,
    })
}

fn response_val(response: Response) -> Val {
    vals::record([
        ("status", Val::U16(response.status)),
        (
            "headers",
            Val::List(
                response
                    .headers
                    .into_iter()
                    .map(|(n, v)| Val::Tuple(vec![Val::String(n), Val::String(v)]))
                    .collect(),
            ),
        ),
        ("body", vals::bytes(&response.body)),
        ("url", Val::String(response.url)),
    ])
}

fn error_val(error: FetchError) -> Val {
    let (case, payload) = match error {
        FetchError::Denied(host) => ("denied", Some(Val::String(host))),
        FetchError::Invalid(reason) => ("invalid", Some(Val::String(reason))),
        FetchError::Timeout => ("timeout", None),
        FetchError::TooLarge(n) => ("too-large", Some(Val::U64(n))),
        FetchError::Transport(reason) => ("transport", Some(Val::String(reason))),
    };
    Val::Variant(case.to_owned(), payload.map(Box::new))
}

#[cfg(test)]
mod tests;

/// `functions()` serves exactly the functions of `wit/http.wit`, each reading
/// the WIT's number of parameters.
#[cfg(test)]
#[tokio::test]
async fn functions_match_the_wit() {
    let toy = HttpToy::new();
    let grants = vec![
        toy.canonicalize(&"http:example.com".parse().unwrap())
            .unwrap(),
    ];
    let wit = include_str!("../wit/http.wit");
    patina_toy::wit::check_toy(&toy, "http.wit", wit, grants)
        .await
        .unwrap();
}
