//! `GET /metrics`: Prometheus text of the Mother's run counters and the
//! children's `measure` metrics (`runtime.metrics`, which the policy may
//! refuse like any method; a monitoring token is usually a `reader`).

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::{ApiError, Caller, ErrorBody};

/// The metrics, Prometheus exposition format 0.0.4.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "metrics",
    responses(
        (status = 200, description = "Prometheus text: patina_runs_total, patina_run_duration_seconds, patina_receipts_appended_total, patina_child_*", content_type = "text/plain; version=0.0.4", body = String),
        (status = 401, description = "No token, or not a live one", body = ErrorBody),
        (status = 403, description = "The role may not call runtime.metrics", body = ErrorBody),
    )
)]
pub(super) async fn metrics(Caller(access): Caller) -> Result<Response, ApiError> {
    let metrics = access.metrics().await?;
    let mut response = crate::prometheus::render(&metrics).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    Ok(response)
}
