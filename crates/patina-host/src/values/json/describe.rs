//! The words of the error messages: how a WIT type is spelled and what JSON
//! shape it takes (`expected`), and what a JSON value was (`got`).
//!
//! Only text comes from here. This file must never decide whether a
//! conversion succeeds (that is `to_val.rs`'s job), never panic, and never
//! produce an unbounded message: long strings are cut at 40 characters,
//! objects list at most 5 keys, nested types name members without types.

use std::fmt;

use serde_json::Value as Json;
use wasmtime::component::Type;

/// The type as WIT spells it, plus the JSON shape it takes.
pub(super) fn expected(ty: &Type) -> String {
    let name = type_name(ty, 0);
    let shape = match ty {
        Type::Bool => "true or false".to_owned(),
        Type::S8
        | Type::U8
        | Type::S16
        | Type::U16
        | Type::S32
        | Type::U32
        | Type::S64
        | Type::U64 => {
            let (min, max) = int_range(ty);
            format!("an integer from {min} to {max}")
        }
        Type::Float32 | Type::Float64 => "a number, \"nan\", \"inf\" or \"-inf\"".to_owned(),
        Type::Char => "a string of one Unicode scalar value".to_owned(),
        Type::String => return name,
        Type::List(_) => "an array".to_owned(),
        Type::FixedLengthList(list) => format!("an array of {}", plural(list.len(), "element")),
        Type::Map(_) => "an array of [key, value] pairs".to_owned(),
        Type::Record(_) => "an object".to_owned(),
        Type::Tuple(tuple) => format!("an array of {}", plural(tuple.types().len(), "element")),
        Type::Variant(_) => "a case name or {\"case\": payload}".to_owned(),
        Type::Enum(_) => "a case name".to_owned(),
        Type::Option(_) => "null, the value or {\"some\": value}".to_owned(),
        Type::Result(_) => "{\"ok\": value} or {\"err\": value}".to_owned(),
        Type::Flags(_) => "an array of flag names".to_owned(),
        Type::Own(_) | Type::Borrow(_) | Type::Future(_) | Type::Stream(_) | Type::ErrorContext => {
            return name;
        }
    };
    format!("{name} ({shape})")
}

/// The WIT spelling of a type; records, variants, enums and flags list their
/// members (with types only at the top level, to keep messages short).
pub(crate) fn type_name(ty: &Type, depth: usize) -> String {
    let inner = |ty: &Type| type_name(ty, depth + 1);
    match ty {
        Type::Bool => "bool".to_owned(),
        Type::S8 => "s8".to_owned(),
        Type::U8 => "u8".to_owned(),
        Type::S16 => "s16".to_owned(),
        Type::U16 => "u16".to_owned(),
        Type::S32 => "s32".to_owned(),
        Type::U32 => "u32".to_owned(),
        Type::S64 => "s64".to_owned(),
        Type::U64 => "u64".to_owned(),
        Type::Float32 => "f32".to_owned(),
        Type::Float64 => "f64".to_owned(),
        Type::Char => "char".to_owned(),
        Type::String => "string".to_owned(),
        Type::List(list) => format!("list<{}>", inner(&list.ty())),
        Type::FixedLengthList(list) => format!("list<{}, {}>", inner(&list.ty()), list.len()),
        Type::Map(map) => format!("map<{}, {}>", inner(&map.key()), inner(&map.value())),
        Type::Record(record) => {
            let fields: Vec<String> = record
                .fields()
                .map(|f| {
                    if depth == 0 {
                        format!("{}: {}", f.name, inner(&f.ty))
                    } else {
                        f.name.to_owned()
                    }
                })
                .collect();
            format!("record {{{}}}", fields.join(", "))
        }
        Type::Tuple(tuple) => {
            let types: Vec<String> = tuple.types().map(|t| inner(&t)).collect();
            format!("tuple<{}>", types.join(", "))
        }
        Type::Variant(variant) => {
            let cases: Vec<String> = variant
                .cases()
                .map(|c| match &c.ty {
                    Some(ty) if depth == 0 => format!("{}({})", c.name, inner(ty)),
                    _ => c.name.to_owned(),
                })
                .collect();
            format!("variant {{{}}}", cases.join(", "))
        }
        Type::Enum(enum_) => format!("enum {{{}}}", enum_.names().collect::<Vec<_>>().join(", ")),
        Type::Option(option) => format!("option<{}>", inner(&option.ty())),
        Type::Result(result) => match (result.ok(), result.err()) {
            (None, None) => "result".to_owned(),
            (Some(ok), None) => format!("result<{}>", inner(&ok)),
            (None, Some(err)) => format!("result<_, {}>", inner(&err)),
            (Some(ok), Some(err)) => format!("result<{}, {}>", inner(&ok), inner(&err)),
        },
        Type::Flags(flags) => format!("flags {{{}}}", flags.names().collect::<Vec<_>>().join(", ")),
        Type::Own(_) => "own<resource>".to_owned(),
        Type::Borrow(_) => "borrow<resource>".to_owned(),
        Type::Future(future) => match future.ty() {
            Some(ty) => format!("future<{}>", inner(&ty)),
            None => "future".to_owned(),
        },
        Type::Stream(stream) => match stream.ty() {
            Some(ty) => format!("stream<{}>", inner(&ty)),
            None => "stream".to_owned(),
        },
        Type::ErrorContext => "error-context".to_owned(),
    }
}

/// `own`, `borrow`, `future`, `stream`, `error-context`: kinds JSON cannot carry.
pub(super) fn kind(ty: &Type) -> &'static str {
    match ty {
        Type::Own(_) => "own",
        Type::Borrow(_) => "borrow",
        Type::Future(_) => "future",
        Type::Stream(_) => "stream",
        _ => "error-context",
    }
}

/// What a JSON value is, briefly: `number 3.5`, `string "ab"`, `an array of 2
/// elements`, `an object with keys a, b`.
pub(super) fn describe_json(json: &Json) -> String {
    const MAX_CHARS: usize = 40;
    const MAX_KEYS: usize = 5;
    match json {
        Json::Null => "null".to_owned(),
        Json::Bool(b) => b.to_string(),
        Json::Number(n) => format!("number {n}"),
        Json::String(s) => {
            let mut shown: String = s.chars().take(MAX_CHARS).collect();
            let cut = shown.len() < s.len();
            shown = Json::String(shown).to_string();
            if cut {
                shown.push('…');
            }
            format!("string {shown}")
        }
        Json::Array(items) => format!("an array of {}", plural(items.len(), "element")),
        Json::Object(object) if object.is_empty() => "an empty object".to_owned(),
        Json::Object(object) => {
            let mut keys: Vec<&str> = object.keys().take(MAX_KEYS).map(String::as_str).collect();
            if object.len() > MAX_KEYS {
                keys.push("…");
            }
            let noun = if object.len() == 1 { "key" } else { "keys" };
            format!("an object with {noun} {}", keys.join(", "))
        }
    }
}

/// `1 element`, `3 elements`.
pub(super) fn plural(n: impl fmt::Display, noun: &str) -> String {
    let n = n.to_string();
    let s = if n == "1" { "" } else { "s" };
    format!("{n} {noun}{s}")
}

/// The range of an integer type, as the messages state it (the range checks
/// themselves are `TryFrom` in `to_val.rs`).
fn int_range(ty: &Type) -> (i128, i128) {
    match ty {
        Type::S8 => (i8::MIN.into(), i8::MAX.into()),
        Type::U8 => (0, u8::MAX.into()),
        Type::S16 => (i16::MIN.into(), i16::MAX.into()),
        Type::U16 => (0, u16::MAX.into()),
        Type::S32 => (i32::MIN.into(), i32::MAX.into()),
        Type::U32 => (0, u32::MAX.into()),
        Type::S64 => (i64::MIN.into(), i64::MAX.into()),
        _ => (0, u64::MAX.into()),
    }
}
