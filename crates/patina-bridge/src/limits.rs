//! The size bounds of a request ([`crate::BridgeConfig`]): its headers
//! (`431 headers-too-large`, checked before anything else looks at the
//! request) and its body (`413 payload-too-large`, from the declared
//! `Content-Length` at once, and while reading a body sent in chunks).
//! The HTTP parser has its own hard bound on the header block and count
//! (also 431).
//!
//! Bounds only: nothing here looks at who is asking.

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::{ApiError, Bridge};

/// Refuses a request whose headers (names and values) are larger than the
/// bound, or whose declared body is.
pub(crate) async fn headers(
    State(bridge): State<Bridge>,
    request: Request,
    next: Next,
) -> Response {
    let config = bridge.config();
    let size: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    if size > config.max_header_bytes {
        return ApiError::new(
            "headers-too-large",
            format!(
                "the request's headers are {size} bytes, more than the {} allowed",
                config.max_header_bytes
            ),
        )
        .into_response();
    }
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(length) = declared
        && length > config.max_body_bytes as u64
    {
        return too_large(config.max_body_bytes).into_response();
    }
    next.run(request).await
}

fn too_large(max: usize) -> ApiError {
    ApiError::new(
        "payload-too-large",
        format!("the request body is larger than the {max} bytes allowed"),
    )
}

/// Reads `body`, at most `max` bytes of it, within `within`.
pub(crate) async fn read_body(
    body: Body,
    max: usize,
    within: std::time::Duration,
) -> Result<Bytes, ApiError> {
    let Ok(read) = tokio::time::timeout(within, axum::body::to_bytes(body, max)).await else {
        return Err(ApiError::new(
            "request-timeout",
            format!("the request body did not arrive within {within:?}"),
        ));
    };
    read.map_err(|error| {
        let over = std::error::Error::source(&error)
            .is_some_and(|source| source.is::<http_body_util::LengthLimitError>());
        if over || error.to_string().contains("length limit") {
            too_large(max)
        } else {
            ApiError::new("bad-request", format!("reading the request body: {error}"))
        }
    })
}
