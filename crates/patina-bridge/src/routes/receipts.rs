//! `GET /v1/receipts/{id}` (`receipts.export`: the receipt with its blobs
//! as canonical JSON, byte for byte what `mother receipts export` writes)
//! and `POST /v1/replay/{id}` (`receipts.replay`: the child re-run with
//! every toy call answered from the receipt).

use axum::extract::Path;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use patina_receipts::ExportedReceipt;

use crate::api::{ExportedReceiptBody, JsonAnswer, ReplayAnswer};
use crate::{ApiError, Caller, ErrorBody};

/// A receipt the caller may see, in its canonical export form.
#[utoipa::path(
    get,
    path = "/v1/receipts/{id}",
    tag = "receipts",
    params(("id" = String, Path, description = "A receipt id, or a unique prefix of it")),
    responses(
        (status = 200, description = "The receipt and its blobs, canonical JSON", body = ExportedReceiptBody),
        (status = 401, description = "No token, or not a live one", body = ErrorBody),
        (status = 403, description = "Not the caller's receipt, or the role may not export", body = ErrorBody),
        (status = 404, description = "No such receipt", body = ErrorBody),
    )
)]
pub(super) async fn export(
    Caller(access): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (receipt, blobs) = access.export(&id).await?;
    let bytes = ExportedReceipt::new(receipt, &blobs).encode();
    let mut response = bytes.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

/// Replays a receipt the caller may see: `matched`, or the first divergence.
#[utoipa::path(
    post,
    path = "/v1/replay/{id}",
    tag = "receipts",
    params(("id" = String, Path, description = "A receipt id, or a unique prefix of it")),
    responses(
        (status = 200, description = "The replay (`matched`, both transcript hashes, the divergence if any)", body = ReplayAnswer),
        (status = 401, description = "No token, or not a live one", body = ErrorBody),
        (status = 403, description = "Not the caller's receipt, or the role may not replay", body = ErrorBody),
        (status = 404, description = "No such receipt", body = ErrorBody),
        (status = 429, description = "Over the role's run rate", body = ErrorBody),
    )
)]
pub(super) async fn replay(
    Caller(access): Caller,
    Path(id): Path<String>,
) -> Result<JsonAnswer<ReplayAnswer>, ApiError> {
    let output = access.replay(&id).await?;
    let summary = serde_json::to_value(output.summary())
        .map_err(|e| ApiError::new("error", format!("writing the replay: {e}")))?;
    Ok(JsonAnswer(ReplayAnswer(summary)))
}
