//! The run a child tool's call asks for: the tool's JSON arguments turned
//! into a [`RunSpec`] — the function's argument array (or a command's
//! argv) and the grants of the reserved `_grants` input. It only reads
//! what the agent sent; whether the run may happen is the membrane's
//! decision, never this module's.

use patina_mother::{CallSpec, ChildRef, RunSpec};
use rmcp::model::JsonObject;
use serde_json::Value;

use crate::catalog::{Command, GRANTS_ARGUMENT, Target};

/// The run a child tool's call asks for: the arguments as the function's
/// array (or a command's argv) and the grants of `_grants`. Any other key
/// starting with `_` is refused, so nothing reserved is ever ignored.
pub(crate) fn spec_of(command: &Command, arguments: &JsonObject) -> Result<RunSpec, String> {
    let mut arguments = arguments.clone();
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
            "unknown reserved argument `{key}` (the only one is `{GRANTS_ARGUMENT}`)"
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
    Ok(spec)
}
