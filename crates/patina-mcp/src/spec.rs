//! The run a child tool's call asks for: the tool's JSON arguments turned
//! into a [`RunSpec`] — the function's argument array (or a command's
//! argv) and the reserved inputs `_grants`, `_limits` and `_deny_missing`,
//! with the JSON Schemas a tool advertises for them. It only reads what the
//! agent sent; whether the run may happen (a grant or a limit above the
//! caller's ceiling) is the membrane's decision, never this module's.

use patina_mother::{CallSpec, ChildRef, LimitsSpec, RunSpec};
use rmcp::model::JsonObject;
use serde_json::{Map, Value, json};

use crate::catalog::{Command, GRANTS_ARGUMENT, Target};

/// The reserved input with the limits a call asks for
/// (`{"fuel": 1000000, "timeout_ms": 500, "memory": 16777216}`).
pub const LIMITS_ARGUMENT: &str = "_limits";
/// The reserved input that links imports the call was not granted to stubs
/// failing with `denied: <import>`, instead of refusing the run.
pub const DENY_MISSING_ARGUMENT: &str = "_deny_missing";
/// Every reserved input, in the order an error lists them.
const RESERVED_ARGUMENTS: [&str; 3] = [GRANTS_ARGUMENT, LIMITS_ARGUMENT, DENY_MISSING_ARGUMENT];
/// The limits `_limits` may name: those a role's policy puts a ceiling on.
const LIMIT_NAMES: [&str; 3] = ["fuel", "timeout_ms", "memory"];

/// The reserved inputs of every child tool, with their schemas, for its
/// input schema's `properties`.
pub(crate) fn reserved_properties() -> [(&'static str, Value); 3] {
    let limit =
        |description: &str| json!({"type": "integer", "minimum": 0, "description": description});
    [
        (
            GRANTS_ARGUMENT,
            json!({
                "type": "array",
                "items": {"type": "string", "minLength": 1},
                "uniqueItems": true,
                "description": "Grants this call asks for, in their text form (`fs:DIR:ro`, `git:DIR`, \
                                `kv`, `log`, ...). Asking is not getting: the Mother's policy for this \
                                caller decides, and a grant in its `ask` list is put to the person at \
                                the client for this one call.",
            }),
        ),
        (
            LIMITS_ARGUMENT,
            json!({
                "type": "object",
                "properties": {
                    "fuel": limit("fuel budget, about one unit per wasm instruction"),
                    "timeout_ms": limit("wall-clock deadline in milliseconds"),
                    "memory": limit("memory cap in bytes"),
                },
                "additionalProperties": false,
                "description": "Limits for this run. A limit left out is the Mother's default (or this \
                                caller's ceiling, when that is lower); one above the caller's ceiling \
                                is refused (`limit-above-ceiling`), never lowered quietly.",
            }),
        ),
        (
            DENY_MISSING_ARGUMENT,
            json!({
                "type": "boolean",
                "description": "Run even when an import is not granted: the child's calls to it fail \
                                with `denied: <import>` instead of the run being refused.",
            }),
        ),
    ]
}

/// The run a child tool's call asks for: the arguments as the function's
/// array (or a command's argv), the grants of `_grants`, the limits of
/// `_limits` and `_deny_missing`. Any other key starting with `_` is
/// refused, so nothing reserved is ever ignored.
pub(crate) fn spec_of(command: &Command, arguments: &JsonObject) -> Result<RunSpec, String> {
    let mut arguments = arguments.clone();
    let limits = match arguments.remove(LIMITS_ARGUMENT) {
        None => LimitsSpec::default(),
        Some(Value::Object(limits)) => limits_of(limits)?,
        Some(other) => {
            return Err(format!(
                "`{LIMITS_ARGUMENT}` is an object of limits (`{{\"fuel\": 1000000}}`), got {other}"
            ));
        }
    };
    let deny_missing = match arguments.remove(DENY_MISSING_ARGUMENT) {
        None => false,
        Some(Value::Bool(deny)) => deny,
        Some(other) => {
            return Err(format!(
                "`{DENY_MISSING_ARGUMENT}` is true or false, got {other}"
            ));
        }
    };
    let grants = match arguments.remove(GRANTS_ARGUMENT) {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .into_iter()
            .map(|item| match item {
                Value::String(grant) => Ok(grant),
                other => Err(format!(
                    "`{GRANTS_ARGUMENT}` holds grants as strings (`fs:/notes:ro`), got {other}"
                )),
            })
            .collect::<Result<Vec<_>, _>>()?,
        Some(other) => {
            return Err(format!(
                "`{GRANTS_ARGUMENT}` is an array of grants (`[\"fs:/notes:ro\"]`), got {other}"
            ));
        }
    };
    if let Some(key) = arguments.keys().find(|k| k.starts_with('_')) {
        return Err(format!(
            "unknown reserved argument `{key}` (they are `{}`)",
            RESERVED_ARGUMENTS.join("`, `")
        ));
    }
    let call = match &command.target {
        Target::Function { name, schema } => CallSpec::Json {
            function: name.clone(),
            args: schema.arguments_from_object(&arguments)?,
        },
        Target::Command => {
            let args = match arguments.remove("args") {
                None => Vec::new(),
                Some(Value::Array(items)) => items
                    .into_iter()
                    .map(|item| match item {
                        Value::String(arg) => Ok(arg),
                        other => Err(format!("`args` holds strings, got {other}")),
                    })
                    .collect::<Result<Vec<_>, _>>()?,
                Some(other) => return Err(format!("`args` is an array of strings, got {other}")),
            };
            if let Some(key) = arguments.keys().next() {
                return Err(format!("unknown argument `{key}` (the argument is `args`)"));
            }
            CallSpec::Command { args }
        }
    };
    let mut spec = RunSpec::new(ChildRef::Installed(command.child.to_string()), call);
    spec.grants = grants;
    spec.limits = limits;
    spec.deny_missing = deny_missing;
    Ok(spec)
}

/// The limits of a `_limits` object: only those a policy can bound, each a
/// non-negative integer.
fn limits_of(asked: Map<String, Value>) -> Result<LimitsSpec, String> {
    let mut limits = LimitsSpec::default();
    for (name, value) in asked {
        let slot = match name.as_str() {
            "fuel" => &mut limits.fuel,
            "timeout_ms" => &mut limits.timeout_ms,
            "memory" => &mut limits.memory,
            _ => {
                return Err(format!(
                    "unknown limit `{name}` in `{LIMITS_ARGUMENT}` (they are `{}`)",
                    LIMIT_NAMES.join("`, `")
                ));
            }
        };
        *slot = Some(value.as_u64().ok_or_else(|| {
            format!("`{LIMITS_ARGUMENT}.{name}` is a non-negative integer, got {value}")
        })?);
    }
    Ok(limits)
}
