//! A case's call as an MCP client would make it: the tool the server named
//! for (child, function) and the arguments as JSON, keyed by parameter name.
//! The WAVE call is read with the child's real types (the same host code the
//! Mother runs: `find`, `parse_wave_args`) and each value written with
//! `val_to_json`. A call that does not fit the types is sent literally
//! (`("x", 1)` read as the JSON array `["x", 1]`), so the server's own
//! refusal is what is compared; a function the child does not export is
//! sent by its name. This module translates; it never decides whether a
//! call is right — and when no faithful translation exists it says why.

use anyhow::{Context, Result, bail};
use patina_host::values::split_call;
use patina_host::{Child, ExportedFunction, RunRefused};
use rmcp::model::{JsonObject, Tool};
use serde_json::Value;

use super::super::json_call::json_args;
use super::session::ChildTools;
use crate::case::Case;

/// The reserved inputs of a child tool that carry the call's grants, its
/// limits and deny-missing (docs/mcp.md); each checked against the tool's
/// input schema before it is sent.
const GRANTS: &str = "_grants";
const LIMITS: &str = "_limits";
const DENY_MISSING: &str = "_deny_missing";

/// What to send for a case.
pub enum Translation {
    /// Call `tool` with `arguments`.
    Call {
        /// The tool's name.
        tool: String,
        /// Its arguments object.
        arguments: JsonObject,
        /// The function the child does not export, when that is the call.
        unknown_function: Option<String>,
    },
    /// No faithful translation: why.
    NotApplicable(String),
}

/// The call of `case` on `child` (loaded by the suite's own host), with the
/// tools the server listed for it.
pub fn translate(case: &Case, child: &Child, tools: &ChildTools) -> Result<Translation> {
    let (tool, mut arguments, unknown_function) = match (&case.call, &case.argv) {
        (Some(call), _) => match function_call(call, child, tools)? {
            Ok(found) => found,
            Err(reason) => return Ok(Translation::NotApplicable(reason)),
        },
        (None, argv) => {
            let tool = command_tool(tools)?;
            let mut arguments = JsonObject::new();
            parameter(tool, "args")?;
            arguments.insert("args".into(), argv.clone().unwrap_or_default().into());
            (tool.name.to_string(), arguments, None)
        }
    };
    let listed = tools.tools.iter().find(|t| t.name == tool);
    let mut reserved = |name: &str, value: Value| -> Result<()> {
        if let Some(tool) = listed {
            parameter(tool, name)?;
        }
        arguments.insert(name.into(), value);
        Ok(())
    };
    if !case.grants.is_empty() {
        reserved(GRANTS, case.grants.clone().into())?;
    }
    // The limits every host is given (the output cap has no MCP form:
    // `super::inexpressible`).
    let limits = super::super::limits(case);
    reserved(
        LIMITS,
        serde_json::json!({
            "fuel": limits.fuel,
            "timeout_ms": limits.timeout_ms,
            "memory": limits.memory,
        }),
    )?;
    if case.deny_missing {
        reserved(DENY_MISSING, true.into())?;
    }
    Ok(Translation::Call {
        tool,
        arguments,
        unknown_function,
    })
}

type Found = (String, JsonObject, Option<String>);

/// A function call's tool and arguments, or why it has no faithful form.
fn function_call(
    call: &str,
    child: &Child,
    tools: &ChildTools,
) -> Result<std::result::Result<Found, String>> {
    let (name, args) = match split_call(call) {
        Ok(split) => split,
        Err(error) => {
            return Ok(Err(format!(
                "the call `{call}` is not a call expression ({error}): an MCP tool call has a \
                 tool name and an arguments object, nothing to send it as"
            )));
        }
    };
    let function = match child.functions().find(name) {
        Ok(function) => function,
        // The client calls the tool a function of that name would have.
        Err(RunRefused::UnknownFunction { .. }) => {
            let tool = format!("{}.{name}", tools.label);
            return Ok(Ok((tool, JsonObject::new(), Some(name.to_owned()))));
        }
        Err(error) => {
            return Ok(Err(format!(
                "`{name}` names no one function ({error}); MCP calls one tool per function"
            )));
        }
    };
    let Some(tool) = function_tool(child, function, tools)? else {
        return Ok(Err(format!(
            "the server lists no tool for `{}` (a parameter has no JSON form)",
            function.name
        )));
    };
    let names: Vec<&str> = function.ty.params().map(|(name, _)| name).collect();
    for name in &names {
        parameter(tool, name)?;
    }
    let values = match json_args(function, args) {
        Ok(values) if values.len() <= names.len() => values,
        refused => {
            let why = refused.err().unwrap_or_else(|| "too many values".into());
            return Ok(Err(format!(
                "the arguments `{}` do not fit `{}` ({why}) and are no JSON array of at \
                 most {} values: no literal MCP form to send",
                args.unwrap_or_default(),
                function.name,
                names.len()
            )));
        }
    };
    let arguments = names
        .iter()
        .map(|name| (*name).to_owned())
        .zip(values)
        .collect();
    Ok(Ok((tool.name.to_string(), arguments, None)))
}

/// The server's tool for `function`: the one whose title (`<child>
/// <function>`, as the server shows it) names that same function.
fn function_tool<'a>(
    child: &Child,
    function: &ExportedFunction,
    tools: &'a ChildTools,
) -> Result<Option<&'a Tool>> {
    for tool in &tools.tools {
        let shown = titled(tool, &tools.label)?;
        if let Ok(named) = child.functions().find(shown)
            && named.name == function.name
        {
            return Ok(Some(tool));
        }
    }
    Ok(None)
}

/// The command tool of a command child (titled `<child> (command)`).
fn command_tool(tools: &ChildTools) -> Result<&Tool> {
    for tool in &tools.tools {
        if titled(tool, &tools.label)? == "(command)" {
            return Ok(tool);
        }
    }
    bail!(
        "the server lists no command tool for the command child `{}`",
        tools.label
    )
}

/// What a tool's title says after the child's name.
fn titled<'a>(tool: &'a Tool, label: &str) -> Result<&'a str> {
    tool.title
        .as_deref()
        .and_then(|title| title.strip_prefix(label))
        .and_then(|rest| rest.strip_prefix(' '))
        .with_context(|| {
            format!(
                "the tool `{}` has no title `{label} …` naming what it calls",
                tool.name
            )
        })
}

/// Checks that `tool`'s input schema has the property `name`.
fn parameter(tool: &Tool, name: &str) -> Result<()> {
    let known = tool
        .input_schema
        .get("properties")
        .and_then(Value::as_object)
        .is_some_and(|properties| properties.contains_key(name));
    if !known {
        bail!(
            "the input schema of the tool `{}` has no property `{name}`",
            tool.name
        );
    }
    Ok(())
}
