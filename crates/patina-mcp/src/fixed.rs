//! The four fixed tools every agent has beside its children's commands:
//! `list_children`, `describe_child`, `get_receipt` and `replay`. Each one
//! is a call of the agent's `Access` and answers what the membrane lets it
//! see: a role without `receipts.replay` gets `denied` from `replay`, a
//! receipt of another caller's run is `receipt-denied`.
//!
//! None of them installs, grants or changes anything: there is no such
//! tool, and this module must never add one.

use std::sync::Arc;

use patina_membrane::Access;
use patina_receipts::canonical;
use rmcp::model::{CallToolResult, JsonObject, Tool, ToolAnnotations};
use serde_json::{Value, json};

use crate::answer;
use crate::catalog::{Catalog, label};

/// The fixed tools, as `tools/list` shows them.
pub(crate) fn tools() -> Vec<Tool> {
    let receipt_arg = one_string(
        "receipt",
        "a receipt id, or a unique prefix of 4+ hex digits",
    );
    vec![
        tool(
            "list_children",
            "The children this agent may use: names, ids, sizes and the tool names of their \
             commands.",
            json!({"type": "object", "properties": {}, "additionalProperties": false}),
        ),
        tool(
            "describe_child",
            "A child's imports (and which grant each needs), exports with WIT types and JSON \
             Schemas, its whole WIT world, and its tool names.",
            one_string(
                "child",
                "a child's name or id (b3:…) as list_children shows it",
            ),
        ),
        tool(
            "get_receipt",
            "The signed receipt of a run (its id is in every tool call's answer): the \
             canonical JSON (`canonical`, exactly the bytes that were hashed and signed) and \
             the same parsed (`receipt`): caller, approvals, grants, every toy call, outcome.",
            receipt_arg.clone(),
        ),
        tool(
            "replay",
            "Re-runs a receipt's child with every toy call, clock and random read answered \
             from the receipt: `matched`, or the first divergence.",
            receipt_arg,
        ),
    ]
}

/// Whether `name` is a fixed tool's.
pub(crate) fn is_fixed(name: &str) -> bool {
    crate::names::RESERVED.contains(&name)
}

/// Answers the fixed tool `name`.
pub(crate) async fn call(
    access: &Access,
    catalog: &Catalog,
    name: &str,
    arguments: &JsonObject,
) -> CallToolResult {
    let result = match name {
        "list_children" => no_arguments(arguments).map(|()| list_children(catalog)),
        "describe_child" => match string_argument(arguments, "child") {
            Ok(child) => describe_child(access, catalog, &child).await,
            Err(answer) => Err(answer),
        },
        "get_receipt" => match string_argument(arguments, "receipt") {
            Ok(id) => get_receipt(access, &id).await,
            Err(answer) => Err(answer),
        },
        "replay" => match string_argument(arguments, "receipt") {
            Ok(id) => match access.replay(&id).await {
                Ok(output) => Ok(answer::replay(&output)),
                Err(error) => Err(answer::refused(&error)),
            },
            Err(answer) => Err(answer),
        },
        other => Err(answer::failed(
            "unknown-tool",
            &format!("no fixed tool `{other}`"),
            None,
            None,
        )),
    };
    result.unwrap_or_else(|answer| answer)
}

fn list_children(catalog: &Catalog) -> CallToolResult {
    let children: Vec<Value> = catalog
        .children
        .iter()
        .map(|child| {
            json!({
                "name": label(child),
                "names": child.names,
                "id": child.id.to_string(),
                "size": child.size,
                "tools": catalog.tools_of(&child.id),
            })
        })
        .collect();
    let text = catalog
        .children
        .iter()
        .map(|child| {
            format!(
                "{} {}: {}",
                label(child),
                child.id.short(),
                catalog.tools_of(&child.id).join(", ")
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    answer::value(json!({ "children": children }), text)
}

async fn describe_child(
    access: &Access,
    catalog: &Catalog,
    child: &str,
) -> Result<CallToolResult, CallToolResult> {
    let inspection = access
        .describe(child)
        .await
        .map_err(|e| answer::refused(&e))?;
    let mut value = patina_membrane::describe_json(&inspection);
    value["tools"] = json!(catalog.tools_of(&inspection.child.id()));
    let text = inspection.description.wit.clone();
    Ok(answer::value(value, text))
}

async fn get_receipt(access: &Access, id: &str) -> Result<CallToolResult, CallToolResult> {
    let (receipt, _blobs) = access.receipt(id).await.map_err(|e| answer::refused(&e))?;
    let bytes = canonical::encode(&receipt);
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let parsed: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let value = json!({
        "id": receipt.id.to_string(),
        "caller": receipt.caller.as_ref().map(|c| c.id.clone()),
        "canonical": text,
        "receipt": parsed,
    });
    Ok(answer::value(value, text))
}

fn no_arguments(arguments: &JsonObject) -> Result<(), CallToolResult> {
    match arguments.keys().next() {
        None => Ok(()),
        Some(key) => Err(bad_arguments(&format!("unknown argument `{key}`"))),
    }
}

fn string_argument(arguments: &JsonObject, name: &str) -> Result<String, CallToolResult> {
    if let Some(key) = arguments.keys().find(|k| *k != name) {
        return Err(bad_arguments(&format!(
            "unknown argument `{key}` (the argument is `{name}`)"
        )));
    }
    match arguments.get(name) {
        Some(Value::String(text)) if !text.is_empty() => Ok(text.clone()),
        Some(other) => Err(bad_arguments(&format!(
            "`{name}` must be a non-empty string, got {other}"
        ))),
        None => Err(bad_arguments(&format!("missing argument `{name}`"))),
    }
}

fn bad_arguments(message: &str) -> CallToolResult {
    answer::failed("bad-arguments", message, None, None)
}

fn one_string(name: &str, description: &str) -> Value {
    json!({
        "type": "object",
        "properties": { name: { "type": "string", "minLength": 1, "description": description } },
        "required": [name],
        "additionalProperties": false,
    })
}

fn tool(name: &'static str, description: &'static str, input: Value) -> Tool {
    let mut tool = Tool::default();
    tool.name = name.into();
    tool.description = Some(description.into());
    if let Value::Object(map) = input {
        tool.input_schema = Arc::new(map);
    }
    // Reads (replay re-runs a child, but answers every toy call from the
    // receipt: it touches nothing).
    tool.annotations = Some(ToolAnnotations::new().read_only(true));
    tool
}
