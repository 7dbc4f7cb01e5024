//! `POST /v1/children/{name}/call/{function}`: one run of a child's
//! command through `Access::run`, like a run from any other door.
//!
//! The body is the arguments: a JSON array (one value per parameter), or
//! an object keyed by parameter name (turned into the array with the
//! command's schema, which needs `runtime.describe` too); an empty body is
//! `[]`. How the run is made is in the query, each field as `mother run`
//! has it: `grant` (repeat it), `fuel`, `timeout_ms`, `memory`, `output`,
//! `mode` (`record` | `live`), `deny_missing`. The membrane checks every
//! grant and limit against the caller's role; nothing is decided here.
//!
//! A run that returned is `200 {result, wave, receipt, summary}`; a run
//! that started and was stopped (a limit, a trap) is answered with the
//! status of its kind and `{error, receipt, summary}`: it was recorded.

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use patina_mother::{CallSpec, ChildRef, ModeSpec, RunOutcome, RunSpec};
use serde_json::Value as Json;

use crate::api::{CallAnswer, FailedCall, JsonAnswer, ReceiptRef, json_body};
use crate::{ApiError, Bridge, Caller, ErrorBody, ErrorDetail};

/// Calls `function` of the child `name` with the body's arguments.
#[utoipa::path(
    post,
    path = "/v1/children/{name}/call/{function}",
    tag = "runs",
    params(
        ("name" = String, Path, description = "An installed name or a child id (prefix)"),
        ("function" = String, Path, description = "The command, as `GET /v1/children/{name}` names it (`add`, `types.echo-point`)"),
        ("grant" = Option<Vec<String>>, Query, description = "A grant for this run (`log`, `fs:/data:ro`, ...); repeat for more. Checked against the role's grant ceiling"),
        ("fuel" = Option<u64>, Query, description = "Fuel budget; at most the role's ceiling"),
        ("timeout_ms" = Option<u64>, Query, description = "Deadline in milliseconds; at most the role's ceiling"),
        ("memory" = Option<u64>, Query, description = "Memory cap in bytes; at most the role's ceiling"),
        ("output" = Option<u64>, Query, description = "Cap on captured stdout and stderr, bytes each"),
        ("mode" = Option<String>, Query, description = "`record` (default: a signed receipt) or `live`"),
        ("deny_missing" = Option<bool>, Query, description = "Link ungranted imports to stubs that fail with `denied`"),
    ),
    request_body(
        description = "The arguments: a JSON array, or an object keyed by parameter name (schemas: `GET /v1/children/{name}`)",
        content = Object,
        content_type = "application/json",
    ),
    responses(
        (status = 200, description = "The run returned", body = CallAnswer),
        (status = 400, description = "Malformed JSON, arguments of the wrong type, a bad query field", body = ErrorBody),
        (status = 401, description = "No token, or not a live one", body = ErrorBody),
        (status = 403, description = "A method, child, grant or limit beyond the role (the message names it)", body = ErrorBody),
        (status = 404, description = "No such child or command", body = ErrorBody),
        (status = 413, description = "The body is over the bridge's bound", body = ErrorBody),
        (status = 422, description = "The child needs grants the call lacks, or it was stopped at a limit (fuel, memory, output): `FailedCall` with its receipt", body = FailedCall),
        (status = 429, description = "Over the role's run rate", body = ErrorBody),
        (status = 502, description = "The child trapped (`FailedCall` with its receipt)", body = FailedCall),
        (status = 504, description = "The child ran past its deadline (`FailedCall` with its receipt)", body = FailedCall),
    )
)]
pub(super) async fn call(
    State(bridge): State<Bridge>,
    Caller(access): Caller,
    Path((name, function)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let mut spec = RunSpec::new(
        ChildRef::Installed(name.clone()),
        CallSpec::Wave(String::new()),
    );
    apply_query(&mut spec, query.as_deref().unwrap_or_default())?;
    check_content_type(&headers)?;
    let bytes = crate::limits::read_body(
        body,
        bridge.config().max_body_bytes,
        bridge.config().body_read_timeout,
    )
    .await?;
    let args = parse_arguments(&bytes)?;
    let args = match args {
        Json::Object(object) => {
            let description = super::children::describe_json(&access, &name).await?;
            let schema = crate::schemas::find(&description, &function)?;
            schema
                .arguments_from_object(&object)
                .map_err(|message| ApiError::new("bad-arguments", message))?
        }
        array => array,
    };
    spec.call = CallSpec::Json { function, args };
    let output = access.run(spec).await?;
    let summary = output.summary();
    let summary_json = serde_json::to_value(&summary).unwrap_or(Json::Null);
    Ok(match summary.outcome {
        RunOutcome::Returned { result, wave, .. } => JsonAnswer(CallAnswer {
            result,
            wave,
            receipt: output.receipt.as_ref().map(receipt_ref),
            summary: summary_json,
        })
        .into_response(),
        RunOutcome::Failed { error } => failed_call(
            &error.kind,
            error.message,
            output.receipt.as_ref(),
            summary_json,
        ),
    })
}

/// The receipt's id and transcript hash.
fn receipt_ref(receipt: &patina_receipts::Receipt) -> ReceiptRef {
    ReceiptRef {
        id: receipt.id.to_string(),
        transcript_hash: receipt.transcript_hash.to_string(),
    }
}

/// The answer to a run that started and failed with `kind`: a
/// [`FailedCall`] (it was recorded) with the kind's status.
pub(crate) fn failed_call(
    kind: &str,
    message: String,
    receipt: Option<&patina_receipts::Receipt>,
    summary: Json,
) -> Response {
    let body = FailedCall {
        error: ErrorDetail {
            kind: kind.to_owned(),
            message,
        },
        receipt: receipt.map(receipt_ref),
        summary,
    };
    (failed_run_status(kind), json_body(&body)).into_response()
}

/// The status of a run that started and failed with `kind`: the kind's,
/// except `denied`, which for a run means the child called an import
/// linked as denied (`deny_missing`) and failed on its own — not a refusal
/// of the caller.
fn failed_run_status(kind: &str) -> StatusCode {
    match kind {
        "denied" => StatusCode::BAD_GATEWAY,
        kind => crate::status_of(kind),
    }
}

/// A body with a `Content-Type` must say JSON.
fn check_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    let text = value.to_str().unwrap_or_default();
    let essence = text.split(';').next().unwrap_or_default().trim();
    if essence.eq_ignore_ascii_case("application/json") {
        Ok(())
    } else {
        Err(ApiError::new(
            "unsupported-media-type",
            format!("the arguments are JSON (Content-Type: application/json), not `{text}`"),
        ))
    }
}

/// The body as arguments: an array or an object; empty is `[]`.
fn parse_arguments(bytes: &[u8]) -> Result<Json, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Json::Array(Vec::new()));
    }
    let value: Json = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::new("bad-json", format!("the request body: {e}")))?;
    match value {
        Json::Array(_) | Json::Object(_) => Ok(value),
        other => Err(ApiError::new(
            "bad-arguments",
            format!(
                "the arguments are a JSON array or an object keyed by parameter name, not {}",
                kind_of(&other)
            ),
        )),
    }
}

fn kind_of(value: &Json) -> &'static str {
    match value {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

/// Applies the query's run options to `spec`; an unknown field or a value
/// that does not parse is `bad-request` naming it.
pub(crate) fn apply_query(spec: &mut RunSpec, query: &str) -> Result<(), ApiError> {
    let number = |key: &str, value: &str| {
        value.parse::<u64>().map_err(|_| {
            ApiError::new(
                "bad-request",
                format!("query field `{key}`: `{value}` is not a whole number"),
            )
        })
    };
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        match key.as_ref() {
            "grant" => spec.grants.push(value.into_owned()),
            "fuel" => spec.limits.fuel = Some(number(&key, &value)?),
            "timeout_ms" => spec.limits.timeout_ms = Some(number(&key, &value)?),
            "memory" => spec.limits.memory = Some(number(&key, &value)?),
            "output" => spec.limits.output = Some(number(&key, &value)?),
            "mode" => {
                spec.mode = match value.as_ref() {
                    "record" => ModeSpec::Record,
                    "live" => ModeSpec::Live,
                    other => {
                        return Err(ApiError::new(
                            "bad-request",
                            format!("query field `mode`: `{other}` is not `record` or `live`"),
                        ));
                    }
                }
            }
            "deny_missing" => {
                spec.deny_missing = match value.as_ref() {
                    "" | "true" | "1" => true,
                    "false" | "0" => false,
                    other => {
                        return Err(ApiError::new(
                            "bad-request",
                            format!("query field `deny_missing`: `{other}` is not true or false"),
                        ));
                    }
                }
            }
            other => {
                return Err(ApiError::new(
                    "bad-request",
                    format!(
                        "unknown query field `{other}` (the fields are grant, fuel, timeout_ms, memory, output, mode, deny_missing)"
                    ),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> RunSpec {
        RunSpec::new(
            ChildRef::Installed("c".into()),
            CallSpec::Wave(String::new()),
        )
    }

    #[test]
    fn the_query_sets_grants_limits_and_mode() {
        let mut run = spec();
        apply_query(
            &mut run,
            "grant=log&grant=fs%3A%2Fdata%3Aro&fuel=1000&timeout_ms=50&memory=65536&mode=live&deny_missing",
        )
        .unwrap();
        assert_eq!(run.grants, ["log", "fs:/data:ro"]);
        assert_eq!(run.limits.fuel, Some(1000));
        assert_eq!(run.limits.timeout_ms, Some(50));
        assert_eq!(run.limits.memory, Some(65536));
        assert_eq!(run.mode, ModeSpec::Live);
        assert!(run.deny_missing);
    }

    #[test]
    fn a_bad_query_names_its_field() {
        for (query, named) in [
            ("fuel=lots", "`fuel`"),
            ("mode=replay", "`mode`"),
            ("grants=log", "`grants`"),
            ("deny_missing=maybe", "`deny_missing`"),
        ] {
            let error = apply_query(&mut spec(), query).unwrap_err();
            assert_eq!(error.kind, "bad-request", "{query}");
            assert!(error.message.contains(named), "{query}: {}", error.message);
        }
    }

    #[test]
    fn arguments_are_an_array_or_an_object() {
        assert_eq!(parse_arguments(b"  ").unwrap(), serde_json::json!([]));
        assert_eq!(
            parse_arguments(b"[1, 2]").unwrap(),
            serde_json::json!([1, 2])
        );
        assert_eq!(
            parse_arguments(br#"{"a": 1}"#).unwrap(),
            serde_json::json!({"a": 1})
        );
        assert_eq!(parse_arguments(b"[1,").unwrap_err().kind, "bad-json");
        let scalar = parse_arguments(b"5").unwrap_err();
        assert_eq!(scalar.kind, "bad-arguments");
        assert!(scalar.message.contains("a number"), "{}", scalar.message);
    }
}
