//! The bodies the bridge answers with, as Rust types: the same types are
//! serialised on the wire and described in the OpenAPI document (their
//! `ToSchema`), so the document cannot drift from what is sent.
//!
//! Values that come from the layers below (a child's result, a run's
//! summary, a WIT description) are carried as they are, as JSON; this
//! module must never reshape what the Mother answered.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use utoipa::ToSchema;

/// `application/json` bytes of `value` (a value that cannot be written is
/// written as `null`, which never happens for these types).
pub(crate) fn json_body<T: Serialize>(value: &T) -> Response {
    let bytes = serde_json::to_vec(value).unwrap_or_else(|_| b"null".to_vec());
    let mut response = bytes.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// A JSON answer with status 200.
#[derive(Debug)]
pub struct JsonAnswer<T>(pub T);

impl<T: Serialize> IntoResponse for JsonAnswer<T> {
    fn into_response(self) -> Response {
        json_body(&self.0)
    }
}

/// One installed child the caller may see.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChildEntry {
    /// Its id (`b3:<hex>`).
    pub child: String,
    /// The names it is installed under.
    pub names: Vec<String>,
    /// The component's size in bytes.
    pub size: u64,
}

/// `GET /v1/children`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChildList {
    /// The children, in the Mother's order.
    pub children: Vec<ChildEntry>,
}

/// The JSON Schemas (2020-12) of one command: its arguments as an array
/// (what the call body may be), as an object keyed by parameter name (the
/// other form the call body may take), and its result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CommandSchema {
    /// The name a call uses (`add`, `types.echo-point`).
    pub name: String,
    /// Its WIT signature.
    pub signature: String,
    /// Its WIT doc comment, if the component carries one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docs: Option<String>,
    /// The arguments as a JSON array.
    #[schema(value_type = Object)]
    pub arguments: Json,
    /// The arguments as a JSON object keyed by parameter name.
    #[schema(value_type = Object)]
    pub arguments_object: Json,
    /// The `result` a call answers with.
    #[schema(value_type = Object)]
    pub result: Json,
}

/// `GET /v1/children/{name}`: what the child imports (and how this Mother
/// serves each import), exports, its WIT, and each command's schemas.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ChildDescription {
    /// Its id.
    pub child: String,
    /// Size in bytes.
    pub size: u64,
    /// Whether it is a `wasi:cli/command` child.
    pub command: bool,
    /// Each import, with how this Mother serves it (`base`, `toy` + the
    /// grant it needs, `unserved`), as `mother inspect --json` prints it.
    #[schema(value_type = Vec<Object>)]
    pub imports: Vec<Json>,
    /// Each export with its functions and WIT types.
    #[schema(value_type = Vec<Object>)]
    pub exports: Vec<Json>,
    /// The whole world as WIT text.
    pub wit: String,
    /// Each callable command with its JSON Schemas.
    pub commands: Vec<CommandSchema>,
}

/// The receipt of a recorded run, as much of it as a client needs to find,
/// check and compare it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReceiptRef {
    /// Its id (`GET /v1/receipts/{id}`, `POST /v1/replay/{id}`).
    pub id: String,
    /// The transcript hash: equal for the same run on any Mother and
    /// through any door.
    pub transcript_hash: String,
}

/// `POST /v1/children/{name}/call/{function}`: the result, the receipt,
/// and the whole run summary (`mother run --json`'s object).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CallAnswer {
    /// The function's result as JSON (`null` for none): it validates
    /// against the command's result schema.
    #[schema(value_type = Object)]
    pub result: Json,
    /// The result as WAVE text.
    pub wave: String,
    /// The receipt (`null` for a live run).
    pub receipt: Option<ReceiptRef>,
    /// The run as `mother run --json` prints it.
    #[schema(value_type = Object)]
    pub summary: Json,
}

/// A run that started and was stopped (at a limit, by a trap): the error,
/// and the receipt that records it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FailedCall {
    /// Why the run stopped (`out-of-fuel`, `deadline-exceeded`, `trap`, ...).
    pub error: crate::ErrorDetail,
    /// The receipt (`null` for a live run).
    pub receipt: Option<ReceiptRef>,
    /// The run as `mother run --json` prints it.
    #[schema(value_type = Object)]
    pub summary: Json,
}

/// `POST /v1/replay/{id}`: `mother replay --json`'s object (the replayed
/// run, `matched`, both transcript hashes, the first divergence).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(value_type = Object)]
pub struct ReplayAnswer(pub Json);

/// `GET /v1/receipts/{id}`: the receipt with its blobs, canonical JSON, as
/// `mother receipts export` writes it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(value_type = Object)]
pub struct ExportedReceiptBody(pub Json);
