//! [`Caller`]: the extractor that turns a request's bearer token into the
//! caller's [`Access`] — `MembraneServer::access_for_token(bearer, "http")`,
//! nothing else. No token, a malformed header, or a token the membrane does
//! not accept is `401 unauthenticated` (with `WWW-Authenticate: Bearer`).
//!
//! It must never look at the role, or decide anything a role decides: what
//! the caller may do is asked of the `Access` by each route, which the
//! membrane answers.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use patina_membrane::Access;

use crate::ApiError;
use crate::state::Bridge;

/// The caller of a request, as the membrane has it.
#[derive(Clone, Debug)]
pub struct Caller(pub Access);

/// A refusal to authenticate: 401 with the challenge.
#[derive(Debug)]
pub struct Unauthenticated(ApiError);

impl IntoResponse for Unauthenticated {
    fn into_response(self) -> Response {
        let mut response = self.0.into_response();
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"patina\""),
        );
        response
    }
}

impl FromRequestParts<Bridge> for Caller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, bridge: &Bridge) -> Result<Self, Response> {
        let refuse = |message: &str| {
            Unauthenticated(ApiError::new("unauthenticated", message)).into_response()
        };
        let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
            return Err(refuse(
                "no bearer token (Authorization: Bearer <token from `mother token create`>)",
            ));
        };
        let Some(token) = value
            .to_str()
            .ok()
            .and_then(|text| text.strip_prefix("Bearer "))
        else {
            return Err(refuse("the Authorization header is not `Bearer <token>`"));
        };
        match bridge.server().access_for_token(token.trim(), "http") {
            Ok(access) => Ok(Self(access)),
            Err(error) => {
                let error = ApiError::from(error);
                if error.kind == "unauthenticated" {
                    Err(Unauthenticated(error).into_response())
                } else {
                    Err(error.into_response())
                }
            }
        }
    }
}
