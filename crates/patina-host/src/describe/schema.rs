//! JSON Schema (draft 2020-12) of a function's JSON forms, from its WIT
//! types: the one place where the JSON mapping of `docs/values.md` is written
//! down as a schema. `mother inspect --json-schema`, the HTTP bridge and MCP
//! all take their schemas from here.
//!
//! A schema describes the JSON the host prints for a value of the type
//! (`val_to_json`), which the host also reads back. Decisions, made once:
//! - integers are `integer` with the type's bounds (`u8` is 0..=255);
//!   `s64` and `u64` may also be a decimal string, because a JavaScript
//!   client cannot write every 64-bit integer exactly as a number;
//! - floats are `number` (an `f32` within its range), or one of the strings
//!   `"nan"`, `"inf"`, `"-inf"`;
//! - `flags` are an array of the flag names, `enum`s one name, variants
//!   `{"case": payload}` or the bare case name, `result`s `{"ok": ..}` or
//!   `{"err": ..}`, `option`s `null`, the value, or `{"some": value}`;
//! - named types are written inline, with the WIT name as `title` and the
//!   WIT doc comment as `description` (no `$ref`: tool-calling clients read
//!   inline schemas best).
//!
//! The host reads a few looser spellings that no schema lists (a decimal
//! string for a narrower integer, `{"case": null}` for a case without a
//! payload); a schema never accepts a value the host refuses to read for a
//! reason the schema can express.
//!
//! It must never panic on an id the resolve does not hold (that type's schema
//! is `false`), never recurse deeper than [`MAX_DEPTH`] and never build more
//! than [`MAX_SCHEMA_NODES`] schema objects for one component: a hostile
//! component that shares one type many times must not make it build
//! gigabytes. Past either bound the whole description is an `Err`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json, json};
use wit_parser::{Docs, Function, Handle, Type, TypeDefKind, TypeId};

use super::describer::{Describer, MAX_DEPTH};

/// Most schema objects built for one component's exports, all together.
pub(super) const MAX_SCHEMA_NODES: usize = 100_000;

/// The dialect every top-level schema names.
pub const JSON_SCHEMA_DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";

/// The JSON Schemas of one callable function (read back from a
/// description's JSON by the doors that got it over a wire).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunctionSchema {
    /// Each parameter, in order.
    pub params: Vec<ParamSchema>,
    /// The arguments as `--args-json` takes them: an array with one element
    /// per parameter; trailing `option` parameters may be left out.
    pub arguments: Json,
    /// The `"result"` a run prints: `null` for a function without a result.
    pub result: Json,
}

/// One parameter's name and schema.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParamSchema {
    /// The parameter's WIT name.
    pub name: String,
    /// The schema of its JSON value.
    pub schema: Json,
    /// Whether it may be left out (a trailing `option`, then `none`).
    pub optional: bool,
}

impl FunctionSchema {
    /// The arguments as one object keyed by parameter name, for callers that
    /// need an object (MCP tool input): every parameter that cannot be left
    /// out is required, and no other key is allowed. [`Self::arguments_from_object`]
    /// turns such an object back into the argument array.
    pub fn arguments_object(&self) -> Json {
        let mut properties = Map::new();
        let mut required = Vec::new();
        for p in &self.params {
            properties.insert(p.name.clone(), p.schema.clone());
            if !p.optional {
                required.push(Json::String(p.name.clone()));
            }
        }
        json!({
            "$schema": JSON_SCHEMA_DIALECT,
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": false,
        })
    }

    /// The argument array for an object shaped by [`Self::arguments_object`]:
    /// values in parameter order, a left-out optional parameter as `null`
    /// (`none`). An unknown key or a missing required parameter is an error
    /// that names it; the values themselves are checked later, by the host,
    /// against the WIT types.
    pub fn arguments_from_object(&self, object: &Map<String, Json>) -> Result<Json, String> {
        if let Some(unknown) = object
            .keys()
            .find(|k| !self.params.iter().any(|p| &p.name == *k))
        {
            let names: Vec<&str> = self.params.iter().map(|p| p.name.as_str()).collect();
            return Err(format!(
                "unknown argument `{unknown}` (the parameters are: {})",
                names.join(", ")
            ));
        }
        let mut values = Vec::with_capacity(self.params.len());
        for p in &self.params {
            match object.get(&p.name) {
                Some(value) => values.push(value.clone()),
                None if p.optional => values.push(Json::Null),
                None => return Err(format!("missing argument `{}`", p.name)),
            }
        }
        Ok(Json::Array(values))
    }
}

impl Describer<'_> {
    /// The schemas of `f`, or `None` when a parameter cannot be given as
    /// JSON (a resource, future, stream or error-context anywhere in it).
    pub(super) fn function_schema(&self, f: &Function) -> Option<FunctionSchema> {
        let mut params = Vec::with_capacity(f.params.len());
        for p in &f.params {
            if !self.json_representable(&p.ty, 0) {
                return None;
            }
            params.push(ParamSchema {
                name: p.name.clone(),
                schema: self.schema(&p.ty, 0),
                optional: false,
            });
        }
        // Trailing options may be left out, as WAVE allows.
        for (param, p) in params.iter_mut().zip(&f.params).rev() {
            if !self.is_option(&p.ty) {
                break;
            }
            param.optional = true;
        }
        let required = params.iter().filter(|p| !p.optional).count();
        let arguments = json!({
            "$schema": JSON_SCHEMA_DIALECT,
            "type": "array",
            "prefixItems": params.iter().map(|p| p.schema.clone()).collect::<Vec<_>>(),
            "items": false,
            "minItems": required,
            "maxItems": params.len(),
        });
        let mut result = match &f.result {
            Some(ty) => self.schema(ty, 0),
            None => json!({"type": "null"}),
        };
        if let Some(object) = result.as_object_mut() {
            object.insert("$schema".into(), JSON_SCHEMA_DIALECT.into());
        }
        Some(FunctionSchema {
            params,
            arguments,
            result,
        })
    }

    /// See `all_schemas_for_tests` in `mod.rs`.
    #[cfg(test)]
    pub(super) fn all_schemas(
        &self,
        world: wit_parser::WorldId,
    ) -> std::collections::HashMap<(String, String), Json> {
        let mut out = std::collections::HashMap::new();
        let Some(world) = self.resolve.worlds.get(world) else {
            return out;
        };
        let mut functions: Vec<&Function> = Vec::new();
        for item in world.imports.values().chain(world.exports.values()) {
            match item {
                wit_parser::WorldItem::Function(f) => functions.push(f),
                wit_parser::WorldItem::Interface { id, .. } => {
                    functions.extend(self.resolve.interfaces[*id].functions.values());
                }
                wit_parser::WorldItem::Type { .. } => {}
            }
        }
        for f in functions {
            for p in &f.params {
                out.insert((f.name.clone(), p.name.clone()), self.schema(&p.ty, 0));
            }
            if let Some(ty) = &f.result {
                out.insert((f.name.clone(), "->".to_owned()), self.schema(ty, 0));
            }
        }
        out
    }

    /// The schema of `ty`'s JSON form.
    fn schema(&self, ty: &Type, depth: usize) -> Json {
        if !self.count_schema_node() {
            return Json::Bool(false);
        }
        match ty {
            Type::Bool => json!({"type": "boolean"}),
            Type::U8 => integer(0, u8::MAX),
            Type::U16 => integer(0, u16::MAX),
            Type::U32 => integer(0, u32::MAX),
            Type::S8 => integer(i8::MIN, i8::MAX),
            Type::S16 => integer(i16::MIN, i16::MAX),
            Type::S32 => integer(i32::MIN, i32::MAX),
            Type::U64 => wide_integer(integer(0, u64::MAX)),
            Type::S64 => wide_integer(integer(i64::MIN, i64::MAX)),
            Type::F32 => float(json!({
                "type": "number",
                "minimum": -f64::from(f32::MAX),
                "maximum": f64::from(f32::MAX),
            })),
            Type::F64 => float(json!({"type": "number"})),
            Type::Char => json!({"type": "string", "minLength": 1, "maxLength": 1}),
            Type::String => json!({"type": "string"}),
            Type::ErrorContext => description_string("<error-context>"),
            Type::Id(id) => self.schema_of_id(*id, depth),
        }
    }

    fn schema_of_id(&self, id: TypeId, depth: usize) -> Json {
        if depth > MAX_DEPTH {
            self.too_deep.set(true);
            return Json::Bool(false);
        }
        let Some(def) = self.resolve.types.get(id) else {
            return Json::Bool(false);
        };
        let mut schema = self.schema_of_kind(&def.kind, depth + 1);
        if let Some(object) = schema.as_object_mut() {
            if let Some(name) = &def.name {
                object.entry("title").or_insert_with(|| name.clone().into());
            }
            if let Some(docs) = doc_text(&def.docs) {
                object.entry("description").or_insert(docs.into());
            }
        }
        schema
    }

    fn schema_of_kind(&self, kind: &TypeDefKind, depth: usize) -> Json {
        let schema = |t: &Type| self.schema(t, depth);
        match kind {
            TypeDefKind::Record(r) => {
                let mut properties = Map::new();
                for field in &r.fields {
                    let mut s = schema(&field.ty);
                    describe(&mut s, &field.docs);
                    properties.insert(field.name.clone(), s);
                }
                let required: Vec<&str> = r.fields.iter().map(|f| f.name.as_str()).collect();
                json!({
                    "type": "object",
                    "properties": properties,
                    "required": required,
                    "additionalProperties": false,
                })
            }
            TypeDefKind::Variant(v) => json!({"oneOf": v.cases.iter().map(|case| {
                let mut s = match &case.ty {
                    Some(t) => single_key(&case.name, schema(t)),
                    None => json!({"const": case.name}),
                };
                describe(&mut s, &case.docs);
                s
            }).collect::<Vec<_>>()}),
            TypeDefKind::Enum(e) => {
                if e.cases.iter().all(|c| doc_text(&c.docs).is_none()) {
                    let names: Vec<&str> = e.cases.iter().map(|c| c.name.as_str()).collect();
                    json!({"type": "string", "enum": names})
                } else {
                    json!({"oneOf": e.cases.iter().map(|case| {
                        let mut s = json!({"const": case.name});
                        describe(&mut s, &case.docs);
                        s
                    }).collect::<Vec<_>>()})
                }
            }
            TypeDefKind::Flags(f) => {
                let names: Vec<&str> = f.flags.iter().map(|f| f.name.as_str()).collect();
                json!({
                    "type": "array",
                    "items": {"type": "string", "enum": names},
                    "uniqueItems": true,
                })
            }
            TypeDefKind::Tuple(t) => exact_array(t.types.iter().map(schema).collect()),
            TypeDefKind::List(t) => json!({"type": "array", "items": schema(t)}),
            TypeDefKind::FixedLengthList(t, n) => json!({
                "type": "array",
                "items": schema(t),
                "minItems": n,
                "maxItems": n,
            }),
            TypeDefKind::Map(k, v) => json!({
                "type": "array",
                "items": exact_array(vec![schema(k), schema(v)]),
            }),
            TypeDefKind::Option(t) => {
                let inner = schema(t);
                // A bare value that is an object with the one key `some` is
                // read as the `{"some": ..}` wrapper, never as the value.
                let bare = if self.may_print_as_some_object(t) {
                    json!({"allOf": [inner.clone(), {"not": single_key_shape("some")}]})
                } else {
                    inner.clone()
                };
                json!({"anyOf": [{"type": "null"}, bare, single_key("some", inner)]})
            }
            TypeDefKind::Result(r) => {
                let side = |name: &str, payload: &Option<Type>| match payload {
                    Some(t) => vec![single_key(name, schema(t))],
                    None => vec![
                        single_key(name, json!({"type": "null"})),
                        json!({"const": name}),
                    ],
                };
                let mut cases = side("ok", &r.ok);
                cases.extend(side("err", &r.err));
                json!({"oneOf": cases})
            }
            TypeDefKind::Type(t) => schema(t),
            TypeDefKind::Handle(Handle::Own(_)) => description_string("<own resource>"),
            TypeDefKind::Handle(Handle::Borrow(_)) => description_string("<borrowed resource>"),
            TypeDefKind::Future(_) => description_string("<future>"),
            TypeDefKind::Stream(_) => description_string("<stream>"),
            TypeDefKind::Resource | TypeDefKind::Unknown => Json::Bool(false),
        }
    }

    /// Counts one schema object against [`MAX_SCHEMA_NODES`]; `false` (and
    /// the description marked too large) once the budget is spent.
    fn count_schema_node(&self) -> bool {
        let used = self.schema_nodes.get() + 1;
        self.schema_nodes.set(used);
        if used > MAX_SCHEMA_NODES {
            self.schema_too_large.set(true);
            return false;
        }
        true
    }

    /// Whether a value of `ty` has a JSON form a caller can give: no
    /// resource, future, stream or error-context anywhere inside.
    fn json_representable(&self, ty: &Type, depth: usize) -> bool {
        let Type::Id(id) = ty else {
            return !matches!(ty, Type::ErrorContext);
        };
        if depth > MAX_DEPTH {
            self.too_deep.set(true);
            return false;
        }
        let Some(def) = self.resolve.types.get(*id) else {
            return false;
        };
        let ok = |t: &Type| self.json_representable(t, depth + 1);
        match &def.kind {
            TypeDefKind::Record(r) => r.fields.iter().all(|f| ok(&f.ty)),
            TypeDefKind::Variant(v) => v.cases.iter().filter_map(|c| c.ty.as_ref()).all(ok),
            TypeDefKind::Tuple(t) => t.types.iter().all(ok),
            TypeDefKind::Option(t)
            | TypeDefKind::List(t)
            | TypeDefKind::FixedLengthList(t, _)
            | TypeDefKind::Type(t) => ok(t),
            TypeDefKind::Result(r) => r.ok.iter().chain(r.err.iter()).all(ok),
            TypeDefKind::Map(k, v) => ok(k) && ok(v),
            TypeDefKind::Flags(_) | TypeDefKind::Enum(_) => true,
            TypeDefKind::Resource
            | TypeDefKind::Handle(_)
            | TypeDefKind::Future(_)
            | TypeDefKind::Stream(_)
            | TypeDefKind::Unknown => false,
        }
    }

    /// `ty` with its aliases (`type x = y`) followed.
    fn resolved_kind(&self, ty: &Type) -> Option<&TypeDefKind> {
        let mut ty = *ty;
        for _ in 0..=MAX_DEPTH {
            let Type::Id(id) = ty else { return None };
            let kind = &self.resolve.types.get(id)?.kind;
            match kind {
                TypeDefKind::Type(inner) => ty = *inner,
                kind => return Some(kind),
            }
        }
        None
    }

    fn is_option(&self, ty: &Type) -> bool {
        matches!(self.resolved_kind(ty), Some(TypeDefKind::Option(_)))
    }

    /// Whether `ty`'s JSON can be an object whose one key is `some` (so that
    /// `some(x)` prints as `{"some": x}`): an option, a record whose only
    /// field is `some`, a variant with a case `some` that has a payload.
    fn may_print_as_some_object(&self, ty: &Type) -> bool {
        match self.resolved_kind(ty) {
            Some(TypeDefKind::Option(_)) => true,
            Some(TypeDefKind::Record(r)) => r.fields.len() == 1 && r.fields[0].name == "some",
            Some(TypeDefKind::Variant(v)) => {
                v.cases.iter().any(|c| c.name == "some" && c.ty.is_some())
            }
            _ => false,
        }
    }
}

/// The doc comment's text, trimmed; `None` when there is none.
pub(super) fn doc_text(docs: &Docs) -> Option<String> {
    let text = docs.contents.as_deref()?.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

fn describe(schema: &mut Json, docs: &Docs) {
    if let (Some(object), Some(text)) = (schema.as_object_mut(), doc_text(docs)) {
        object.insert("description".into(), text.into());
    }
}

fn integer(min: impl Into<Json>, max: impl Into<Json>) -> Json {
    json!({"type": "integer", "minimum": min.into(), "maximum": max.into()})
}

/// A 64-bit integer: a number, or a decimal string for the values a double
/// cannot hold exactly.
fn wide_integer(number: Json) -> Json {
    json!({"anyOf": [number, {"type": "string", "pattern": "^-?[0-9]+$"}]})
}

fn float(number: Json) -> Json {
    json!({"anyOf": [number, {"type": "string", "enum": ["nan", "inf", "-inf"]}]})
}

/// What the host prints for a value that has no JSON form: a description.
fn description_string(text: &str) -> Json {
    json!({"type": "string", "const": text})
}

fn exact_array(items: Vec<Json>) -> Json {
    let n = items.len();
    json!({
        "type": "array",
        "prefixItems": items,
        "items": false,
        "minItems": n,
        "maxItems": n,
    })
}

/// An object with exactly the key `key`, holding `value`.
fn single_key(key: &str, value: Json) -> Json {
    json!({
        "type": "object",
        "properties": {key: value},
        "required": [key],
        "additionalProperties": false,
    })
}

/// Any object whose only key is `key`.
fn single_key_shape(key: &str) -> Json {
    json!({"type": "object", "required": [key], "maxProperties": 1})
}
