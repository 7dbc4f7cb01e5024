//! Mounts: a `wasi:http/incoming-handler` bridge child served under a path
//! prefix (`mother serve --http ADDR --mount /app=web-gateway,invoke:calc`),
//! next to the REST routes. [`Mount`] is the parsed flag; [`router`] routes
//! `PREFIX` and `PREFIX/...` (any method) to the child.
//!
//! Each request is translated, never judged: the caller's bearer token
//! becomes its `Access` ([`crate::Caller`]), the request (prefix taken off
//! the path, the `Authorization` header and hop-by-hop headers left out, the
//! body read under the bridge's cap) becomes an `HttpCall`, and
//! `Access::handle_http(child, call, mount grants, limits)` decides — the
//! method (`runtime.run`), the child, the mount's grants and the limits
//! against the caller's role — and runs it as an ordinary recorded run.
//! The child's response is answered as it is, with the run's receipt in
//! `Patina-Receipt`; a run stopped without a response (a limit, a trap) is
//! a `FailedCall` with the status of its kind.
//!
//! A mount must never take a prefix the REST routes use (`/v1`,
//! `/metrics`) or another mount's, and must never forward the caller's
//! token to the child (it would be recorded in the receipt).

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use patina_host::{HttpCall, HttpReply};
use patina_mother::LimitsSpec;

use crate::{ApiError, Bridge, Caller};

/// The header that names the receipt of the run that answered.
pub const RECEIPT_HEADER: &str = "patina-receipt";

/// Prefixes the REST routes own.
const RESERVED: &[&str] = &["/v1", "/metrics"];

/// One mount: requests under `prefix` go to the child `child`, granted
/// `grants` (each still checked against the caller's role).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mount {
    /// The path prefix, `/app` (no trailing `/`).
    pub prefix: String,
    /// The installed child that answers.
    pub child: String,
    /// Grants for each of its runs, as `mother run --grant` has them.
    pub grants: Vec<String>,
}

impl std::str::FromStr for Mount {
    type Err = ApiError;

    /// `PREFIX=CHILD[,GRANT...]`, e.g. `/app=web-gateway,invoke:calc`.
    fn from_str(text: &str) -> Result<Self, ApiError> {
        let bad = |why: &str| ApiError::new("bad-request", format!("mount `{text}`: {why}"));
        let (prefix, rest) = text
            .split_once('=')
            .ok_or_else(|| bad("write PREFIX=CHILD[,GRANT...], e.g. /app=web-gateway"))?;
        let prefix = prefix.trim_end_matches('/');
        let segments_ok = prefix.len() >= 2
            && prefix.starts_with('/')
            && prefix[1..].split('/').all(|segment| {
                !segment.is_empty()
                    && segment != "."
                    && segment != ".."
                    && segment
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
            });
        if !segments_ok {
            return Err(bad(
                "the prefix is a path such as /app (letters, digits, - . _ ~ between slashes)",
            ));
        }
        if RESERVED.iter().any(|r| overlaps(prefix, r)) {
            return Err(bad("the prefix is one of the REST routes' (/v1, /metrics)"));
        }
        let mut parts = rest.split(',');
        let child = parts.next().unwrap_or_default();
        if child.is_empty() {
            return Err(bad("no child named"));
        }
        let grants: Vec<String> = parts.map(str::to_owned).collect();
        if grants.iter().any(String::is_empty) {
            return Err(bad("an empty grant"));
        }
        Ok(Self {
            prefix: prefix.to_owned(),
            child: child.to_owned(),
            grants,
        })
    }
}

/// Whether one of the prefixes `a` and `b` contains the other.
fn overlaps(a: &str, b: &str) -> bool {
    let under = |long: &str, short: &str| {
        long == short || long.strip_prefix(short).is_some_and(|r| r.starts_with('/'))
    };
    under(a, b) || under(b, a)
}

/// Refuses mounts whose prefixes overlap (`/app` and `/app/x`).
pub fn check(mounts: &[Mount]) -> Result<(), ApiError> {
    for (i, a) in mounts.iter().enumerate() {
        if let Some(b) = mounts[i + 1..]
            .iter()
            .find(|b| overlaps(&a.prefix, &b.prefix))
        {
            return Err(ApiError::new(
                "bad-request",
                format!("mounts `{}` and `{}` overlap", a.prefix, b.prefix),
            ));
        }
    }
    Ok(())
}

/// The routes of the mounts (checked by [`check`] when the bridge was made).
pub(crate) fn router(bridge: &Bridge) -> Router<Bridge> {
    let mut router = Router::new();
    for mount in bridge.mounts() {
        let exact = mount.prefix.clone();
        let under = format!("{}/{{*rest}}", mount.prefix);
        let mount = Arc::new(mount.clone());
        let handler =
            move |State(bridge): State<Bridge>, Caller(access): Caller, request: Request| {
                let mount = mount.clone();
                async move { serve(&bridge, &access, &mount, request).await }
            };
        router = router
            .route(&exact, any(handler.clone()))
            .route(&under, any(handler));
    }
    router
        .layer(from_fn_with_state(bridge.clone(), crate::limits::headers))
        .layer(from_fn(crate::routes::trace))
}

/// One request for `mount`'s child, asked of the caller's `access`.
async fn serve(
    bridge: &Bridge,
    access: &patina_membrane::Access,
    mount: &Mount,
    request: Request,
) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    let body = crate::limits::read_body(
        body,
        bridge.config().max_body_bytes,
        bridge.config().body_read_timeout,
    )
    .await?;
    let call = http_call(mount, &parts, body.to_vec());
    let output = access
        .handle_http(
            &mount.child,
            call,
            mount.grants.clone(),
            LimitsSpec::default(),
        )
        .await?;
    let receipt = output.run.receipt.as_ref().map(|r| r.id.to_string());
    let mut response = match output.reply {
        Ok(reply) => reply_response(reply),
        Err(failure) => {
            let summary = serde_json::to_value(output.run.summary()).unwrap_or_default();
            crate::routes::failed_call(
                failure.kind(),
                failure.to_string(),
                output.run.receipt.as_ref(),
                summary,
            )
        }
    };
    if let Some(id) = receipt.and_then(|id| HeaderValue::from_str(&id).ok()) {
        response
            .headers_mut()
            .insert(HeaderName::from_static(RECEIPT_HEADER), id);
    }
    Ok(response)
}

/// Headers that belong to one hop (or to the bridge), never handed on.
fn hop_by_hop(name: &str) -> bool {
    matches!(
        name,
        "authorization"
            | "connection"
            | "content-length"
            | "host"
            | "keep-alive"
            | "proxy-authorization"
            | "proxy-connection"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
    )
}

/// The request as the child gets it: the path without the prefix (`/` at
/// least), the Host header as the authority, no token, no hop-by-hop
/// headers.
fn http_call(mount: &Mount, parts: &Parts, body: Vec<u8>) -> HttpCall {
    let path = parts.uri.path();
    let rest = path.strip_prefix(mount.prefix.as_str()).unwrap_or(path);
    let mut path_with_query = if rest.is_empty() {
        "/".to_owned()
    } else {
        rest.to_owned()
    };
    if let Some(query) = parts.uri.query() {
        path_with_query.push('?');
        path_with_query.push_str(query);
    }
    let mut call = HttpCall::new(parts.method.as_str(), path_with_query);
    if let Some(host) = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| h.parse::<axum::http::uri::Authority>().is_ok())
    {
        call.authority = host.to_owned();
    }
    call.headers = parts
        .headers
        .iter()
        .filter(|(name, _)| !hop_by_hop(name.as_str()))
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    call.body = body;
    call
}

/// The child's response as it is, but for headers of one hop.
fn reply_response(reply: HttpReply) -> Response {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut response = (status, Body::from(reply.body)).into_response();
    let headers = response.headers_mut();
    for (name, value) in reply.headers {
        if hop_by_hop(&name) {
            continue;
        }
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            headers.append(name, value);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mount_parses_and_keeps_off_the_rest_routes() {
        let mount: Mount = "/app/=web-gateway".parse().unwrap();
        assert_eq!(
            mount,
            Mount {
                prefix: "/app".into(),
                child: "web-gateway".into(),
                grants: Vec::new(),
            }
        );
        let granted: Mount = "/a/b=gw,invoke:calc,log".parse().unwrap();
        assert_eq!(granted.prefix, "/a/b");
        assert_eq!(granted.grants, ["invoke:calc", "log"]);
        for bad in [
            "app=x",
            "/=x",
            "/v1=x",
            "/v1/x=y",
            "/metrics=x",
            "/app=",
            "/app",
            "/a/../v1=x",
            "/{x}=y",
            "/a/*b=y",
            "/a//b=y",
            "/app=x,,log",
        ] {
            let error = bad.parse::<Mount>().unwrap_err();
            assert_eq!(error.kind, "bad-request", "{bad}");
            assert!(error.message.contains(bad), "{bad}: {}", error.message);
        }
    }

    #[test]
    fn overlapping_mounts_are_refused() {
        let mounts =
            |list: &[&str]| -> Vec<Mount> { list.iter().map(|m| m.parse().unwrap()).collect() };
        assert!(check(&mounts(&["/app=a", "/apps=b", "/b/c=c"])).is_ok());
        for pair in [
            ["/app=a", "/app=b"],
            ["/app=a", "/app/x=b"],
            ["/a/b=a", "/a=b"],
        ] {
            let error = check(&mounts(&pair)).unwrap_err();
            assert!(error.message.contains("overlap"), "{}", error.message);
        }
    }

    #[test]
    fn the_child_gets_the_path_under_the_prefix_and_never_the_token() {
        let mount: Mount = "/app=gw".parse().unwrap();
        let request = axum::http::Request::builder()
            .method("POST")
            .uri("/app/calc/add?x=1")
            .header("host", "127.0.0.1:8080")
            .header("authorization", "Bearer patina_secret")
            .header("content-type", "application/json")
            .header("connection", "keep-alive")
            .body(())
            .unwrap();
        let (parts, ()) = request.into_parts();
        let call = http_call(&mount, &parts, b"[1]".to_vec());
        assert_eq!(call.method, "POST");
        assert_eq!(call.path_with_query, "/calc/add?x=1");
        assert_eq!(call.authority, "127.0.0.1:8080");
        assert_eq!(
            call.headers,
            [("content-type".to_owned(), "application/json".to_owned())]
        );
        assert_eq!(call.body, b"[1]");

        let bare = axum::http::Request::builder().uri("/app").body(()).unwrap();
        let (parts, ()) = bare.into_parts();
        let call = http_call(&mount, &parts, Vec::new());
        assert_eq!(
            (call.path_with_query.as_str(), call.authority.as_str()),
            ("/", "localhost")
        );
    }
}
