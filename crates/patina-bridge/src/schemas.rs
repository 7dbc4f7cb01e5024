//! The commands of a child with their JSON Schemas, read from a child's
//! description as the membrane sends it (`patina_membrane::describe_json`),
//! so the same answer comes from an embedded Mother and through a socket:
//! `GET /v1/children/{name}` and `mother inspect --json-schema` both print
//! these. The schemas themselves are made in one place only,
//! `patina-host`'s `describe/schema.rs`; this module picks them out and
//! names each command as a call names it. It must never write a schema.

use patina_host::FunctionSchema;
use serde_json::Value as Json;

use crate::ApiError;
use crate::api::CommandSchema;

/// One callable command and its schemas as the host made them.
struct Callable {
    name: String,
    signature: String,
    docs: Option<String>,
    schema: FunctionSchema,
}

/// Each callable export of `description` (an export function with a JSON
/// form), named as a call names it: `add` for a function at the root of
/// the world, `types.echo-point` for one in an exported interface.
fn callables(description: &Json) -> Vec<Callable> {
    let mut callables = Vec::new();
    for item in description["exports"].as_array().into_iter().flatten() {
        let item_name = item["name"].as_str().unwrap_or_default();
        let is_function = item["kind"] == "function";
        for function in item["functions"].as_array().into_iter().flatten() {
            let Ok(schema) = serde_json::from_value::<FunctionSchema>(function["schema"].clone())
            else {
                continue;
            };
            let function_name = function["name"].as_str().unwrap_or_default();
            callables.push(Callable {
                name: if is_function {
                    item_name.to_owned()
                } else {
                    format!("{item_name}.{function_name}")
                },
                signature: function["signature"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                docs: function["docs"].as_str().map(str::to_owned),
                schema,
            });
        }
    }
    callables
}

/// Each command of `description` with its schemas (see [`callables`]).
pub fn commands(description: &Json) -> Vec<CommandSchema> {
    callables(description)
        .into_iter()
        .map(|c| CommandSchema {
            arguments_object: c.schema.arguments_object(),
            name: c.name,
            signature: c.signature,
            docs: c.docs,
            arguments: c.schema.arguments,
            result: c.schema.result,
        })
        .collect()
}

/// The schema of the command `function` names in `description`, found as
/// the host finds it: the full name (`types.echo-point`), or a function
/// name that only one command has (`echo-point`).
pub fn find(description: &Json, function: &str) -> Result<FunctionSchema, ApiError> {
    let mut callables = callables(description);
    if let Some(i) = callables.iter().position(|c| c.name == function) {
        return Ok(callables.swap_remove(i).schema);
    }
    let suffix = format!(".{function}");
    let mut matches: Vec<Callable> = Vec::new();
    let mut names = Vec::new();
    for callable in callables {
        names.push(callable.name.clone());
        if callable.name.ends_with(&suffix) {
            matches.push(callable);
        }
    }
    match matches.len() {
        1 => Ok(matches.swap_remove(0).schema),
        0 => Err(ApiError::new(
            "unknown-function",
            format!(
                "no command `{function}` with a JSON form (the commands are: {})",
                names.join(", ")
            ),
        )),
        _ => {
            let names: Vec<&str> = matches.iter().map(|c| c.name.as_str()).collect();
            Err(ApiError::new(
                "ambiguous-function",
                format!("`{function}` names several commands: {}", names.join(", ")),
            ))
        }
    }
}
