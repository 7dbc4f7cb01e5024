//! [`ApiError`]: every refusal and failure the bridge answers, as
//! `{"error": {"kind", "message"}}` with an HTTP status chosen **by kind**,
//! in one table ([`status_of`]). The kinds are the membrane's and the
//! Mother's own stable kinds, passed through unchanged; the bridge adds
//! only the few that belong to HTTP (`payload-too-large`, `request-timeout`,
//! `headers-too-large`, `unknown-route`, `method-not-allowed`,
//! `bad-json`, `unsupported-media-type`).
//!
//! This module translates; it must never decide whether a caller may do
//! something (the membrane did), and never invent a kind for an error that
//! has one.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use patina_membrane::MembraneError;
use patina_mother::MotherError;
use serde::Serialize;
use utoipa::ToSchema;

/// The body of every error answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// A typed error: its stable kind and a message for people.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// The machine-readable kind (`denied`, `unknown-child`, `bad-arguments`, ...).
    pub kind: String,
    /// For people: what was refused and why.
    pub message: String,
}

/// An error answer: the status follows from the kind.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("[{kind}] {message}")]
pub struct ApiError {
    /// The stable kind.
    pub kind: String,
    /// For people.
    pub message: String,
    /// Seconds after which a retry may succeed (`Retry-After`), if known.
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error of `kind` saying `message`.
    pub fn new(kind: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            kind: kind.into(),
            message: message.into(),
            retry_after: None,
        }
    }

    /// The status this error is answered with.
    pub fn status(&self) -> StatusCode {
        status_of(&self.kind)
    }

    /// The JSON body.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                kind: self.kind.clone(),
                message: self.message.clone(),
            },
        }
    }
}

impl From<MembraneError> for ApiError {
    fn from(error: MembraneError) -> Self {
        let retry_after = match &error {
            // One run's worth of the rate, rounded up to whole seconds.
            MembraneError::RateLimited { per_second, .. } if *per_second > 0.0 => {
                Some((1.0 / per_second).ceil().max(1.0) as u64)
            }
            MembraneError::Busy(_) => Some(1),
            _ => None,
        };
        let message = match &error {
            MembraneError::Mother(mother) => patina_mother::chain_message(mother),
            other => other.to_string(),
        };
        Self {
            kind: error.kind().to_owned(),
            message,
            retry_after,
        }
    }
}

impl From<MotherError> for ApiError {
    fn from(error: MotherError) -> Self {
        Self::new(error.kind(), patina_mother::chain_message(&error))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::warn!(kind = %self.kind, message = %self.message, "answered {status}");
        } else {
            tracing::debug!(kind = %self.kind, message = %self.message, "answered {status}");
        }
        let mut response = (status, crate::api::json_body(&self.body())).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// The HTTP status of an error kind; a kind not listed in [`known_status`]
/// is a 500.
pub fn status_of(kind: &str) -> StatusCode {
    known_status(kind).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// The HTTP status chosen for each kind the membrane, the Mother, the host,
/// the receipts and the bridge have, on purpose; `None` for a kind nobody
/// chose a status for (a test holds every kind the crates make against it).
pub fn known_status(kind: &str) -> Option<StatusCode> {
    Some(match kind {
        // Who are you: no token, a wrong, revoked or expired one.
        "unauthenticated" => StatusCode::UNAUTHORIZED,
        // What the policy refused: the message names the method, child,
        // receipt, grant or limit and the role.
        "denied"
        | "child-denied"
        | "receipt-denied"
        | "grant-above-ceiling"
        | "approval-required"
        | "not-approvable"
        | "limit-above-ceiling"
        | "install-named-denied"
        | "live-denied" => StatusCode::FORBIDDEN,
        // The authority the request was checked under changed while it was
        // handled (a policy reload, `mother epoch bump`): send it again.
        "stale-epoch" => StatusCode::CONFLICT,
        "rate-limited" => StatusCode::TOO_MANY_REQUESTS,
        "busy" => StatusCode::SERVICE_UNAVAILABLE,
        "login-timeout" => StatusCode::REQUEST_TIMEOUT,
        // The request itself is wrong.
        "bad-request" | "bad-json" | "bad-arguments" | "bad-call" | "bad-grant" | "bad-limit"
        | "bad-name" | "bad-receipt-id" | "not-a-command" | "not-wasm" | "core-module"
        | "bad-http-call" => StatusCode::BAD_REQUEST,
        "unknown-child" | "unknown-function" | "unknown-receipt" | "unknown-token"
        | "unknown-route" => StatusCode::NOT_FOUND,
        "method-not-allowed" => StatusCode::METHOD_NOT_ALLOWED,
        // A reference that names several things: be more specific.
        "ambiguous-child" | "ambiguous-function" | "ambiguous-receipt" => StatusCode::CONFLICT,
        "payload-too-large" => StatusCode::PAYLOAD_TOO_LARGE,
        "request-timeout" => StatusCode::REQUEST_TIMEOUT,
        "headers-too-large" => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        "unsupported-media-type" => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        // Well-formed, but this child cannot be run as asked: grants it
        // needs and the call lacks, a limit above the host's maximum, an
        // import nothing serves, a component that cannot be used.
        "missing-grants"
        | "limit-too-large"
        | "unsupported"
        | "link"
        | "invalid-component"
        | "replay-child-mismatch"
        | "not-an-http-handler" => StatusCode::UNPROCESSABLE_ENTITY,
        // The child ran and was stopped at a limit of the run (the answer
        // carries the receipt): raise the limit or change the input.
        "out-of-fuel"
        | "memory-limit-exceeded"
        | "output-limit-exceeded"
        | "transcript-limit-exceeded"
        | "call-too-large" => StatusCode::UNPROCESSABLE_ENTITY,
        // The child ran past its deadline.
        "deadline-exceeded" => StatusCode::GATEWAY_TIMEOUT,
        // The child ran and failed on its own: a trap, a toy's error, a
        // call of an import linked as denied. The bridge is a gateway to it.
        // A bridge child that answered no response, or one over the caps.
        "trap" | "toy" | "divergence" | "http-reply" => StatusCode::BAD_GATEWAY,
        // The Mother's own trouble: its disk, store, engine, cache, keys, a
        // stored receipt that no longer verifies, a task that died.
        "io" | "store" | "engine" | "cache" | "identity" | "chain" | "blob" | "tampered"
        | "malformed-receipt" | "receipt-version" | "bad-tokens" | "rpc" | "error" => {
            StatusCode::INTERNAL_SERVER_ERROR
        }
        _ => return None,
    })
}

/// Every kind [`status_of`] knows (for tests, and for `docs/bridge.md`).
pub const KNOWN_KINDS: &[&str] = &[
    "unauthenticated",
    "denied",
    "child-denied",
    "receipt-denied",
    "grant-above-ceiling",
    "approval-required",
    "not-approvable",
    "limit-above-ceiling",
    "install-named-denied",
    "live-denied",
    "stale-epoch",
    "rate-limited",
    "busy",
    "login-timeout",
    "bad-request",
    "bad-json",
    "bad-arguments",
    "bad-call",
    "bad-grant",
    "bad-limit",
    "bad-name",
    "bad-receipt-id",
    "not-a-command",
    "not-wasm",
    "core-module",
    "bad-http-call",
    "unknown-child",
    "unknown-function",
    "unknown-receipt",
    "unknown-token",
    "unknown-route",
    "method-not-allowed",
    "ambiguous-child",
    "ambiguous-function",
    "ambiguous-receipt",
    "payload-too-large",
    "request-timeout",
    "headers-too-large",
    "unsupported-media-type",
    "missing-grants",
    "limit-too-large",
    "unsupported",
    "link",
    "invalid-component",
    "replay-child-mismatch",
    "not-an-http-handler",
    "out-of-fuel",
    "memory-limit-exceeded",
    "output-limit-exceeded",
    "transcript-limit-exceeded",
    "call-too-large",
    "deadline-exceeded",
    "trap",
    "toy",
    "divergence",
    "http-reply",
    "io",
    "store",
    "engine",
    "cache",
    "identity",
    "chain",
    "blob",
    "tampered",
    "malformed-receipt",
    "receipt-version",
    "bad-tokens",
    "rpc",
    "error",
];

#[cfg(test)]
mod tests;
