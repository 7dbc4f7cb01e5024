//! `GET /v1/children` and `GET /v1/children/{name}`: the children the
//! caller's role may see, and one child's imports, exports, WIT and the
//! JSON Schemas of its commands (`runtime.list`, `runtime.describe`).

use axum::extract::Path;

use crate::api::{ChildDescription, ChildEntry, ChildList, JsonAnswer};
use crate::{ApiError, Caller, ErrorBody};

/// The installed children the caller may see.
#[utoipa::path(
    get,
    path = "/v1/children",
    tag = "children",
    responses(
        (status = 200, description = "The children", body = ChildList),
        (status = 401, description = "No token, or not a live one", body = ErrorBody),
        (status = 403, description = "The role may not call runtime.list", body = ErrorBody),
    )
)]
pub(super) async fn list(Caller(access): Caller) -> Result<JsonAnswer<ChildList>, ApiError> {
    let children = access.list().await?;
    Ok(JsonAnswer(ChildList {
        children: children
            .into_iter()
            .map(|c| ChildEntry {
                child: c.id.to_string(),
                names: c.names,
                size: c.size,
            })
            .collect(),
    }))
}

/// One child: imports (and how this Mother serves each), exports, WIT
/// text, and each command's argument and result schemas.
#[utoipa::path(
    get,
    path = "/v1/children/{name}",
    tag = "children",
    params(("name" = String, Path, description = "An installed name or a child id (prefix)")),
    responses(
        (status = 200, description = "The child", body = ChildDescription),
        (status = 401, description = "No token, or not a live one", body = ErrorBody),
        (status = 403, description = "The role may not describe, or not this child", body = ErrorBody),
        (status = 404, description = "No such child", body = ErrorBody),
    )
)]
pub(super) async fn describe(
    Caller(access): Caller,
    Path(name): Path<String>,
) -> Result<JsonAnswer<ChildDescription>, ApiError> {
    let description = describe_json(&access, &name).await?;
    let list = |key: &str| description[key].as_array().cloned().unwrap_or_default();
    Ok(JsonAnswer(ChildDescription {
        child: description["child"].as_str().unwrap_or_default().to_owned(),
        size: description["size"].as_u64().unwrap_or_default(),
        command: description["command"].as_bool().unwrap_or_default(),
        imports: list("imports"),
        exports: list("exports"),
        wit: description["wit"].as_str().unwrap_or_default().to_owned(),
        commands: crate::schemas::commands(&description),
    }))
}

/// The child's description as the membrane sends it.
pub(super) async fn describe_json(
    access: &patina_membrane::Access,
    name: &str,
) -> Result<serde_json::Value, ApiError> {
    let inspection = access.describe(name).await?;
    Ok(patina_membrane::describe_json(&inspection))
}
