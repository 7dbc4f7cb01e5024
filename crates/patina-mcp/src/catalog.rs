//! A caller's tools: one per command of each child its role lets it see,
//! built from what the membrane answers (`Access::list`, `Access::describe`)
//! and nothing else.
//!
//! A child's commands are a pure function of its bytes, so what `describe`
//! gave is kept by child id ([`Descriptions`]); the list of children is
//! asked anew for every catalogue, so installs and removals show at once.
//! Tool names come from `names` in a fixed order (children by label, then
//! id; functions in export order), so the same children always give the
//! same names. This module never runs anything and never decides what a
//! caller may see.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use patina_core::ChildId;
use patina_host::{FunctionSchema, ImportStatus, ItemKind};
use patina_membrane::{Access, MembraneError};
use patina_mother::{Inspection, InstalledChild};
use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use serde_json::{Value, json};

use crate::names::Namer;

/// The reserved input of every child tool: the grants the call asks for
/// (`["fs:/notes:ro", "kv"]`). A WIT parameter name cannot start with `_`,
/// so it never meets a parameter.
pub const GRANTS_ARGUMENT: &str = "_grants";

/// What a child tool calls.
#[derive(Clone, Debug)]
pub(crate) enum Target {
    /// An exported function, by its full name, with its schemas.
    Function {
        /// `add`, `patina:calc/types@0.1.0.echo-point`.
        name: String,
        /// Its argument and result schemas.
        schema: FunctionSchema,
    },
    /// A `wasi:cli/command` child, run with arguments.
    Command,
}

/// One tool of a child's command.
#[derive(Clone, Debug)]
pub(crate) struct Command {
    /// The tool as `tools/list` shows it.
    pub tool: Tool,
    /// The child.
    pub child: ChildId,
    /// What it calls.
    pub target: Target,
}

/// One callable function of a child, as described.
#[derive(Clone, Debug)]
struct Function {
    /// Full name, as a run names it.
    call: String,
    /// Short name for the tool: `add`, `types.echo-point`.
    short: String,
    signature: String,
    docs: Option<String>,
    schema: FunctionSchema,
}

/// What one child offers, described once.
#[derive(Clone, Debug)]
struct Described {
    functions: Vec<Function>,
    command: bool,
    /// Grant kinds its imports need (`fs`, `kv`, `git`, ...), sorted.
    needs: Vec<String>,
    /// Imports nothing on this Mother serves.
    unserved: Vec<String>,
}

/// Children's descriptions by id (a child's id is the digest of its bytes,
/// so its description never changes). Shared by every caller of a server;
/// a caller gets one only after the membrane let it describe children.
#[derive(Debug, Default)]
pub(crate) struct Descriptions {
    by_id: Mutex<HashMap<ChildId, Arc<Described>>>,
}

impl Descriptions {
    fn get(&self, id: &ChildId) -> Option<Arc<Described>> {
        self.by_id.lock().ok()?.get(id).cloned()
    }

    fn put(&self, id: ChildId, described: Arc<Described>) {
        if let Ok(mut map) = self.by_id.lock() {
            // Bounded: a Mother with more children than this re-describes.
            if map.len() >= 4096 {
                map.clear();
            }
            map.insert(id, described);
        }
    }
}

/// One caller's tools, at one moment.
#[derive(Clone, Debug, Default)]
pub(crate) struct Catalog {
    /// The children the caller sees, sorted by label then id.
    pub children: Vec<InstalledChild>,
    /// Child tools by name.
    commands: BTreeMap<String, Command>,
    /// The tools of each child, in order, by child id.
    by_child: HashMap<ChildId, Vec<String>>,
}

/// The name a child is shown by: its first name, or `b3-` and the start of
/// its id when it has none.
pub(crate) fn label(child: &InstalledChild) -> String {
    child
        .names
        .first()
        .cloned()
        .unwrap_or_else(|| format!("b3-{}", &child.id.hex()[..12]))
}

impl Catalog {
    /// The tools of `access` now. A role without `runtime.list` sees no
    /// child tools; one without `runtime.describe` sees the children but
    /// no tools of theirs (there would be no schema to give).
    pub async fn build(access: &Access, cache: &Descriptions) -> Result<Self, MembraneError> {
        let mut children = match access.list().await {
            Ok(children) => children,
            Err(MembraneError::Denied { .. }) => return Ok(Self::default()),
            Err(error) => return Err(error),
        };
        children.sort_by(|a, b| label(a).cmp(&label(b)).then(a.id.cmp(&b.id)));
        let may_describe = access.gate("runtime.describe").is_ok();
        let mut namer = Namer::new();
        let mut commands = BTreeMap::new();
        let mut by_child = HashMap::new();
        for child in &children {
            if !may_describe {
                continue;
            }
            let described = match cache.get(&child.id) {
                Some(described) => described,
                None => match access.describe(&child.id.to_string()).await {
                    Ok(inspection) => {
                        let described = Arc::new(describe(&inspection));
                        cache.put(child.id, described.clone());
                        described
                    }
                    // Removed since the list, or bytes that no longer load:
                    // the child has no tools rather than the agent none at all.
                    Err(error) => {
                        tracing::warn!(child = %child.id, kind = error.kind(), %error, "not described");
                        continue;
                    }
                },
            };
            let label = label(child);
            let mut names = Vec::new();
            for (name, command) in tools_of(&label, child, &described, &mut namer) {
                names.push(name.clone());
                commands.insert(name, command);
            }
            by_child.insert(child.id, names);
        }
        Ok(Self {
            children,
            commands,
            by_child,
        })
    }

    /// Every child tool, by name.
    pub fn tools(&self) -> impl Iterator<Item = &Tool> {
        self.commands.values().map(|c| &c.tool)
    }

    /// The child tool `name`.
    pub fn command(&self, name: &str) -> Option<&Command> {
        self.commands.get(name)
    }

    /// The tool names of the child `id`.
    pub fn tools_of(&self, id: &ChildId) -> &[String] {
        self.by_child.get(id).map_or(&[], Vec::as_slice)
    }

    /// What tells two catalogues' tool lists apart.
    pub fn fingerprint(&self) -> Vec<(&str, &ChildId)> {
        self.commands
            .iter()
            .map(|(name, c)| (name.as_str(), &c.child))
            .collect()
    }
}

/// A child's functions, needs and command-ness from its inspection.
fn describe(inspection: &Inspection) -> Described {
    let command = inspection.child.is_command();
    let mut functions = Vec::new();
    for item in &inspection.description.exports {
        // A command child is one tool (`run` with arguments), not its entry.
        if command && item.name.starts_with("wasi:cli/run@") {
            continue;
        }
        for f in &item.functions {
            let Some(schema) = &f.schema else { continue };
            let (call, short) = match item.kind {
                ItemKind::Function => (f.name.clone(), f.name.clone()),
                ItemKind::Interface => (
                    format!("{}.{}", item.name, f.name),
                    format!("{}.{}", short_interface(&item.name), f.name),
                ),
            };
            functions.push(Function {
                call,
                short,
                signature: f.signature.clone(),
                docs: f.docs.clone(),
                schema: schema.clone(),
            });
        }
    }
    let mut needs = Vec::new();
    let mut unserved = Vec::new();
    for (item, status) in inspection
        .description
        .imports
        .iter()
        .zip(&inspection.statuses)
    {
        match status {
            ImportStatus::Toy { grant } if !needs.contains(grant) => needs.push(grant.clone()),
            ImportStatus::Unserved => unserved.push(item.name.clone()),
            _ => {}
        }
    }
    needs.sort();
    Described {
        functions,
        command,
        needs,
        unserved,
    }
}

/// `patina:calc/types@0.1.0` → `types`.
fn short_interface(name: &str) -> &str {
    let unversioned = name.split('@').next().unwrap_or(name);
    unversioned.rsplit('/').next().unwrap_or(unversioned)
}

/// The tools of one child, named by `namer`.
fn tools_of(
    label: &str,
    child: &InstalledChild,
    described: &Described,
    namer: &mut Namer,
) -> Vec<(String, Command)> {
    let id_hex = child.id.hex();
    let needs = needs_text(described);
    let mut out = Vec::new();
    if described.command {
        let name = namer.name(label, "run", &id_hex);
        let description = format!(
            "Runs the command child `{label}` ({}) with `args` as its argv (after argv[0]); \
             answers its exit code, stdout and stderr.{needs}{RECORDED}",
            child.id.short()
        );
        let tool = tool(
            &name,
            format!("{label} (command)"),
            description,
            command_input_schema(),
            output_schema(&json!({"type": "null"}), true),
        );
        out.push((
            name,
            Command {
                tool,
                child: child.id,
                target: Target::Command,
            },
        ));
    }
    for f in &described.functions {
        let name = namer.name(label, &f.short, &id_hex);
        let docs = f
            .docs
            .as_deref()
            .filter(|d| !d.is_empty())
            .map(|d| format!("{d}\n\n"))
            .unwrap_or_default();
        let description = format!(
            "{docs}WIT: `{}: {}` — exported by child `{label}` ({}).{needs}{RECORDED}",
            f.short,
            f.signature,
            child.id.short()
        );
        let tool = tool(
            &name,
            format!("{label} {}", f.short),
            description,
            input_schema(&f.schema),
            output_schema(&f.schema.result, false),
        );
        out.push((
            name,
            Command {
                tool,
                child: child.id,
                target: Target::Function {
                    name: f.call.clone(),
                    schema: f.schema.clone(),
                },
            },
        ));
    }
    out
}

const RECORDED: &str = " Every call is a recorded run: the answer's `receipt` names its receipt \
                        (`get_receipt`, `replay`).";

fn needs_text(described: &Described) -> String {
    let mut text = String::new();
    if !described.needs.is_empty() {
        text.push_str(&format!(
            " Needs grants of kind: {} — ask for them in `{GRANTS_ARGUMENT}` (e.g. \
             [\"fs:/path/to/dir:ro\"]); the Mother's policy decides what this caller gets, \
             and a person may be asked to approve one for this call.",
            described.needs.join(", ")
        ));
    }
    if !described.unserved.is_empty() {
        text.push_str(&format!(
            " Imports this Mother does not serve (runs are refused): {}.",
            described.unserved.join(", ")
        ));
    }
    text
}

fn tool(name: &str, title: String, description: String, input: Value, output: Value) -> Tool {
    let mut tool = Tool::default();
    tool.name = name.to_owned().into();
    tool.title = Some(title.clone());
    tool.description = Some(description.into());
    tool.input_schema = Arc::new(object(input));
    tool.output_schema = Some(Arc::new(object(output)));
    tool.annotations = Some(ToolAnnotations::with_title(title));
    tool
}

fn object(value: Value) -> JsonObject {
    match value {
        Value::Object(map) => map,
        _ => JsonObject::new(),
    }
}

/// The schema of the reserved `_grants` input.
/// A function's input: its arguments as an object keyed by parameter name
/// (`FunctionSchema::arguments_object`), plus the reserved inputs.
fn input_schema(schema: &FunctionSchema) -> Value {
    with_reserved(schema.arguments_object())
}

fn command_input_schema() -> Value {
    with_reserved(json!({
        "$schema": patina_host::JSON_SCHEMA_DIALECT,
        "type": "object",
        "properties": {
            "args": {"type": "array", "items": {"type": "string"}, "description": "argv after argv[0]"},
        },
        "additionalProperties": false,
    }))
}

/// `input` with `_grants`, `_limits` and `_deny_missing` among its properties.
fn with_reserved(mut input: Value) -> Value {
    if let Some(properties) = input.get_mut("properties").and_then(Value::as_object_mut) {
        for (name, schema) in crate::spec::reserved_properties() {
            properties.insert(name.into(), schema);
        }
    }
    input
}

/// `structuredContent` of a child tool: either the run's answer (`result`
/// of the function's result schema, `receipt`, ...) or a typed error.
fn output_schema(result: &Value, command: bool) -> Value {
    let mut result = result.clone();
    if let Some(object) = result.as_object_mut() {
        object.remove("$schema");
    }
    let mut answer = json!({
        "type": "object",
        "properties": {
            "result": result,
            "wave": {"type": "string"},
            "receipt": {"type": ["string", "null"], "description": "the id of the run's receipt"},
            "child": {"type": "string"},
            "call": {"type": "string"},
            "fuel": {"type": "integer", "minimum": 0},
            "logs": {"type": "array"},
            "approvals": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["result", "receipt", "child", "call", "fuel"],
    });
    if command {
        answer["properties"]["exit_code"] = json!({"type": ["integer", "null"]});
        answer["properties"]["stdout"] = json!({"type": "string"});
        answer["properties"]["stderr"] = json!({"type": "string"});
    }
    json!({
        "$schema": patina_host::JSON_SCHEMA_DIALECT,
        "type": "object",
        "oneOf": [answer, crate::answer::error_schema()],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interfaces_are_shortened_to_their_last_segment() {
        assert_eq!(short_interface("patina:calc/types@0.1.0"), "types");
        assert_eq!(short_interface("types"), "types");
        assert_eq!(short_interface("wasi:cli/run@0.2.3"), "run");
    }

    #[test]
    fn the_grants_input_sits_beside_the_parameters_and_is_optional() {
        let schema = FunctionSchema {
            params: vec![patina_host::ParamSchema {
                name: "query".into(),
                schema: json!({"type": "string"}),
                optional: false,
            }],
            arguments: json!({}),
            result: json!({"type": "null"}),
        };
        let input = input_schema(&schema);
        assert_eq!(input["required"], json!(["query"]));
        assert_eq!(input["additionalProperties"], json!(false));
        assert_eq!(input["properties"][GRANTS_ARGUMENT]["type"], "array");
    }
}
