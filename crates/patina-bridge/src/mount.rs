//! Mounts: a `wasi:http/incoming-handler` bridge child served under a path
//! prefix (`mother serve --http ADDR --mount /app=web-gateway`), next to the
//! REST routes. [`Mount`] is the parsed flag; [`router`] is where the mounts
//! are routed, merged after the REST routes.
//!
//! The Mother API that hands such a child an HTTP request (and records the
//! run) is being built on another branch; until it lands this module routes
//! nothing, and `mother serve` offers no `--mount`. A mount must never take
//! a prefix the REST routes use (`/v1`, `/metrics`), and its requests go
//! through the membrane like every other run.

use axum::Router;

use crate::{ApiError, Bridge};

/// One mount: requests under `prefix` go to the child `child`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mount {
    /// The path prefix, `/app` (no trailing `/`).
    pub prefix: String,
    /// The installed child that answers.
    pub child: String,
}

impl std::str::FromStr for Mount {
    type Err = ApiError;

    /// `PREFIX=CHILD`, e.g. `/app=web-gateway`.
    fn from_str(text: &str) -> Result<Self, ApiError> {
        let bad = |why: &str| ApiError::new("bad-request", format!("mount `{text}`: {why}"));
        let (prefix, child) = text
            .split_once('=')
            .ok_or_else(|| bad("write PREFIX=CHILD, e.g. /app=web-gateway"))?;
        let prefix = prefix.trim_end_matches('/');
        if !prefix.starts_with('/') || prefix.len() < 2 {
            return Err(bad("the prefix is a path such as /app"));
        }
        let reserved = ["/v1", "/metrics"];
        if reserved
            .iter()
            .any(|r| prefix == *r || prefix.starts_with(&format!("{r}/")))
        {
            return Err(bad("the prefix is one of the REST routes' (/v1, /metrics)"));
        }
        if child.is_empty() {
            return Err(bad("no child named"));
        }
        Ok(Self {
            prefix: prefix.to_owned(),
            child: child.to_owned(),
        })
    }
}

/// The routes of the mounts: none yet (see the module's doc).
pub(crate) fn router(_bridge: &Bridge) -> Router<Bridge> {
    Router::new()
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
                child: "web-gateway".into()
            }
        );
        for bad in ["app=x", "/=x", "/v1=x", "/v1/x=y", "/metrics=x", "/app=", "/app"] {
            let error = bad.parse::<Mount>().unwrap_err();
            assert_eq!(error.kind, "bad-request", "{bad}");
            assert!(error.message.contains(bad), "{bad}: {}", error.message);
        }
    }
}
