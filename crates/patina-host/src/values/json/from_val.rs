//! [`Val`] → JSON: the writing half of the module (see `mod.rs` for the
//! rules).
//!
//! No type is needed and nothing can fail: every value has a JSON form, and
//! `to_val.rs` reads that form back, with the value's type, as the same value.
//! This file must never fail or panic, never emit a form that reads back as a
//! different value (hence `{"some": ...}` around an inner option or a
//! `{"some": ...}`-shaped value, and `"nan"`/`"inf"`/`"-inf"` for the floats
//! JSON has no number for), and never print more digits than an `f32` holds.

use serde_json::{Map as JsonMap, Number, Value as Json};
use wasmtime::component::Val;

use super::to_val::only_entry;

/// Converts a value to JSON (`val_to_json`).
pub(super) fn to_json(val: &Val) -> Json {
    match val {
        Val::Bool(b) => Json::Bool(*b),
        Val::S8(n) => Json::from(*n),
        Val::U8(n) => Json::from(*n),
        Val::S16(n) => Json::from(*n),
        Val::U16(n) => Json::from(*n),
        Val::S32(n) => Json::from(*n),
        Val::U32(n) => Json::from(*n),
        Val::S64(n) => Json::from(*n),
        Val::U64(n) => Json::from(*n),
        Val::Float32(x) => f32_to_json(*x),
        Val::Float64(x) => f64_to_json(*x),
        Val::Char(c) => Json::String(c.to_string()),
        Val::String(s) => Json::String(s.clone()),
        Val::List(items) | Val::Tuple(items) | Val::FixedLengthList(items) => {
            Json::Array(items.iter().map(to_json).collect())
        }
        Val::Map(entries) => Json::Array(
            entries
                .iter()
                .map(|(k, v)| Json::Array(vec![to_json(k), to_json(v)]))
                .collect(),
        ),
        Val::Record(fields) => Json::Object(
            fields
                .iter()
                .map(|(name, v)| (name.clone(), to_json(v)))
                .collect(),
        ),
        Val::Variant(case, None) => Json::String(case.clone()),
        Val::Variant(case, Some(payload)) => single_key(case, to_json(payload)),
        Val::Enum(case) => Json::String(case.clone()),
        Val::Option(None) => Json::Null,
        Val::Option(Some(inner)) => {
            let json = to_json(inner);
            // Bare `x` for `some(x)` unless that would read back differently:
            // an inner option (`null` would mean the outer `none`) or a value
            // that itself looks like `{"some": ...}` (a record whose only
            // field is `some`, a variant case `some`).
            if matches!(**inner, Val::Option(_)) || matches!(only_entry(&json), Some(("some", _))) {
                single_key("some", json)
            } else {
                json
            }
        }
        Val::Result(Ok(payload)) => single_key("ok", payload_to_json(payload.as_deref())),
        Val::Result(Err(payload)) => single_key("err", payload_to_json(payload.as_deref())),
        Val::Flags(names) => Json::Array(names.iter().cloned().map(Json::String).collect()),
        Val::Resource(resource) => Json::String(
            if resource.owned() {
                "<own resource>"
            } else {
                "<borrowed resource>"
            }
            .to_owned(),
        ),
        Val::Future(_) => Json::String("<future>".to_owned()),
        Val::Stream(_) => Json::String("<stream>".to_owned()),
        Val::ErrorContext(_) => Json::String("<error-context>".to_owned()),
    }
}

fn f64_to_json(x: f64) -> Json {
    match Number::from_f64(x) {
        Some(n) => Json::Number(n),
        None if x.is_nan() => Json::String("nan".to_owned()),
        None if x > 0.0 => Json::String("inf".to_owned()),
        None => Json::String("-inf".to_owned()),
    }
}

/// The shortest decimal that reads back as the same `f32` (`0.1`, not the
/// `0.10000000149011612` that widening to f64 would print).
fn f32_to_json(x: f32) -> Json {
    if !x.is_finite() {
        return f64_to_json(f64::from(x));
    }
    let shortest = format!("{x:e}").parse::<f64>().unwrap_or(f64::from(x));
    f64_to_json(shortest)
}

fn payload_to_json(payload: Option<&Val>) -> Json {
    payload.map_or(Json::Null, to_json)
}

fn single_key(key: &str, value: Json) -> Json {
    let mut object = JsonMap::new();
    object.insert(key.to_owned(), value);
    Json::Object(object)
}
