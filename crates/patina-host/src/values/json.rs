//! JSON ⇄ component-model values, directed by the WIT type.
//!
//! `mother run --json-args '[2, 3]'` reads a function's arguments as JSON and
//! `mother run --json` prints its results as JSON; this module is the mapping
//! between the two worlds (see `docs/values.md` for the table).
//!
//! Two rules hold everywhere:
//!
//! - **It never guesses a type.** Every conversion from JSON is directed by the
//!   WIT [`Type`] the function declares: `"5"` is a number only where an
//!   integer is expected, `"red"` is an enum case only where that enum is
//!   expected, and so on. A JSON value that does not fit is a
//!   [`JsonValueError`] naming where (`$[1].x`), what was expected and what was
//!   found, never a best-effort value.
//! - **It never loses precision silently.** Integers are range-checked (no
//!   wrapping, no truncation of fractions: `2.5` and `2.0` are not integers);
//!   `u64`/`s64` beyond 2^53 may be given as decimal strings; an `f32` that
//!   overflows is an error rather than `inf`; NaN and infinities travel as the
//!   strings `"nan"`, `"inf"` and `"-inf"`. (A decimal such as `0.1` is rounded
//!   to the nearest float, as every JSON reader does.)
//!
//! The other direction, [`val_to_json`], needs no type and never fails: every
//! [`Val`] has a JSON form, and converting that form back with the value's type
//! gives the same value again.

use std::fmt;

use serde_json::{Map as JsonMap, Number, Value as Json};
use wasmtime::component::{Type, Val};

/// A JSON value that does not fit the expected WIT type. `path` says where:
/// `$`, `$[1]`, `$.x`, `$.some`, `$.ok` ...
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at {path}: expected {expected}, got {got}")]
pub struct JsonValueError {
    /// Where in the JSON: `$` is the whole value, `[i]` an array element,
    /// `.name` an object key (record field, variant case, `some`, `ok`, `err`).
    pub path: String,
    /// What the WIT type wanted there, e.g. `u8 (an integer from 0 to 255)`.
    pub expected: String,
    /// What the JSON had there, e.g. `number 300 (out of range)`.
    pub got: String,
}

/// Converts `json` to a value of type `ty`.
pub fn json_to_val(ty: &Type, json: &serde_json::Value) -> Result<Val, JsonValueError> {
    convert(ty, json, &Path::Root)
}

/// Converts a list of JSON arguments (a JSON array, one element per parameter)
/// to values of the given parameter types.
///
/// A wrong count is an error at `$` ("expected 2 arguments, got 3"). Trailing
/// `option` parameters may be omitted and are then `none`, as WAVE allows.
pub fn json_to_params(
    params: &[Type],
    json: &serde_json::Value,
) -> Result<Vec<Val>, JsonValueError> {
    let optional = params
        .iter()
        .rev()
        .take_while(|ty| matches!(ty, Type::Option(_)))
        .count();
    let required = params.len() - optional;
    let count = if optional == 0 {
        plural(params.len(), "argument")
    } else {
        format!("{required} to {} arguments", params.len())
    };
    let Json::Array(args) = json else {
        return Err(error(
            &Path::Root,
            format!("a JSON array of the arguments ({count})"),
            describe_json(json),
        ));
    };
    if args.len() < required || args.len() > params.len() {
        return Err(error(&Path::Root, count, args.len().to_string()));
    }
    params
        .iter()
        .enumerate()
        .map(|(i, ty)| match args.get(i) {
            Some(arg) => convert(ty, arg, &Path::Index(&Path::Root, i)),
            None => Ok(Val::Option(None)),
        })
        .collect()
}

/// Converts a value to JSON. Never fails: every [`Val`] has a JSON form
/// (resources, futures, streams and error contexts render as descriptive
/// strings such as `"<own resource>"`, which cannot be converted back).
pub fn val_to_json(val: &Val) -> serde_json::Value {
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
            Json::Array(items.iter().map(val_to_json).collect())
        }
        Val::Map(entries) => Json::Array(
            entries
                .iter()
                .map(|(k, v)| Json::Array(vec![val_to_json(k), val_to_json(v)]))
                .collect(),
        ),
        Val::Record(fields) => Json::Object(
            fields
                .iter()
                .map(|(name, v)| (name.clone(), val_to_json(v)))
                .collect(),
        ),
        Val::Variant(case, None) => Json::String(case.clone()),
        Val::Variant(case, Some(payload)) => single_key(case, val_to_json(payload)),
        Val::Enum(case) => Json::String(case.clone()),
        Val::Option(None) => Json::Null,
        Val::Option(Some(inner)) => {
            let json = val_to_json(inner);
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

// ---------------------------------------------------------------------------
// JSON -> Val

/// Where a value sits in the JSON, rendered (only on error) as `$[1].x`.
#[derive(Clone, Copy)]
enum Path<'a> {
    Root,
    Index(&'a Path<'a>, usize),
    Key(&'a Path<'a>, &'a str),
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Root => f.write_str("$"),
            Path::Index(parent, i) => write!(f, "{parent}[{i}]"),
            Path::Key(parent, key) => write!(f, "{parent}.{key}"),
        }
    }
}

fn error(path: &Path<'_>, expected: impl Into<String>, got: impl Into<String>) -> JsonValueError {
    JsonValueError {
        path: path.to_string(),
        expected: expected.into(),
        got: got.into(),
    }
}

/// The usual error: `json` is not what `ty` wants.
fn mismatch(ty: &Type, json: &Json, path: &Path<'_>) -> JsonValueError {
    error(path, expected(ty), describe_json(json))
}

fn convert(ty: &Type, json: &Json, path: &Path<'_>) -> Result<Val, JsonValueError> {
    match ty {
        Type::Bool => match json {
            Json::Bool(b) => Ok(Val::Bool(*b)),
            _ => Err(mismatch(ty, json, path)),
        },
        Type::S8 => integer(ty, json, path).map(Val::S8),
        Type::U8 => integer(ty, json, path).map(Val::U8),
        Type::S16 => integer(ty, json, path).map(Val::S16),
        Type::U16 => integer(ty, json, path).map(Val::U16),
        Type::S32 => integer(ty, json, path).map(Val::S32),
        Type::U32 => integer(ty, json, path).map(Val::U32),
        Type::S64 => integer(ty, json, path).map(Val::S64),
        Type::U64 => integer(ty, json, path).map(Val::U64),
        Type::Float32 => {
            let x = float(ty, json, path)?;
            // `as` rounds to the nearest f32; only overflow to infinity loses
            // more than rounding does.
            let narrowed = x as f32;
            if x.is_finite() && !narrowed.is_finite() {
                return Err(error(
                    path,
                    expected(ty),
                    format!("{} (out of range)", describe_json(json)),
                ));
            }
            Ok(Val::Float32(narrowed))
        }
        Type::Float64 => float(ty, json, path).map(Val::Float64),
        Type::Char => {
            let Json::String(s) = json else {
                return Err(mismatch(ty, json, path));
            };
            let mut chars = s.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => Ok(Val::Char(c)),
                _ => Err(error(
                    path,
                    expected(ty),
                    format!(
                        "{} ({})",
                        describe_json(json),
                        plural(s.chars().count(), "character")
                    ),
                )),
            }
        }
        Type::String => match json {
            Json::String(s) => Ok(Val::String(s.clone())),
            _ => Err(mismatch(ty, json, path)),
        },
        Type::List(list) => {
            let Json::Array(items) = json else {
                return Err(mismatch(ty, json, path));
            };
            elements(&list.ty(), items, path).map(Val::List)
        }
        Type::FixedLengthList(list) => {
            let Json::Array(items) = json else {
                return Err(mismatch(ty, json, path));
            };
            if u64::try_from(items.len()).ok() != Some(u64::from(list.len())) {
                return Err(mismatch(ty, json, path));
            }
            elements(&list.ty(), items, path).map(Val::FixedLengthList)
        }
        Type::Map(map) => {
            let Json::Array(items) = json else {
                return Err(mismatch(ty, json, path));
            };
            let (key_ty, value_ty) = (map.key(), map.value());
            let mut entries = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let at = Path::Index(path, i);
                match item.as_array().map(Vec::as_slice) {
                    Some([key, value]) => {
                        let key = convert(&key_ty, key, &Path::Index(&at, 0))?;
                        let value = convert(&value_ty, value, &Path::Index(&at, 1))?;
                        entries.push((key, value));
                    }
                    _ => {
                        return Err(error(
                            &at,
                            format!(
                                "a [key, value] pair ([{}, {}])",
                                type_name(&key_ty, 1),
                                type_name(&value_ty, 1)
                            ),
                            describe_json(item),
                        ));
                    }
                }
            }
            Ok(Val::Map(entries))
        }
        Type::Record(record) => {
            let Json::Object(object) = json else {
                return Err(mismatch(ty, json, path));
            };
            let names = || {
                record
                    .fields()
                    .map(|f| f.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            if let Some(unknown) = object
                .keys()
                .find(|key| !record.fields().any(|f| f.name == key.as_str()))
            {
                return Err(error(
                    path,
                    format!("a record with the fields {}", names()),
                    format!("an object with unknown field `{unknown}`"),
                ));
            }
            let mut fields = Vec::with_capacity(record.fields().len());
            for field in record.fields() {
                let Some(value) = object.get(field.name) else {
                    return Err(error(
                        path,
                        format!("a record with the fields {}", names()),
                        format!("an object without `{}`", field.name),
                    ));
                };
                let value = convert(&field.ty, value, &Path::Key(path, field.name))?;
                fields.push((field.name.to_owned(), value));
            }
            Ok(Val::Record(fields))
        }
        Type::Tuple(tuple) => {
            let Json::Array(items) = json else {
                return Err(mismatch(ty, json, path));
            };
            if items.len() != tuple.types().len() {
                return Err(mismatch(ty, json, path));
            }
            tuple
                .types()
                .zip(items)
                .enumerate()
                .map(|(i, (ty, item))| convert(&ty, item, &Path::Index(path, i)))
                .collect::<Result<_, _>>()
                .map(Val::Tuple)
        }
        Type::Variant(variant) => {
            let (name, payload) = case_of(ty, json, path)?;
            let Some(case) = variant.cases().find(|c| c.name == name) else {
                let cases: Vec<&str> = variant.cases().map(|c| c.name).collect();
                return Err(unknown_case(path, &cases, name));
            };
            let payload = payload_of(ty, case.ty.as_ref(), name, payload, path)?;
            Ok(Val::Variant(name.to_owned(), payload))
        }
        Type::Enum(enum_) => {
            let Json::String(name) = json else {
                return Err(mismatch(ty, json, path));
            };
            if enum_.names().any(|n| n == name) {
                Ok(Val::Enum(name.clone()))
            } else {
                Err(unknown_case(path, &enum_.names().collect::<Vec<_>>(), name))
            }
        }
        Type::Option(option) => {
            let inner = option.ty();
            if json.is_null() {
                return Ok(Val::Option(None));
            }
            if let Some(("some", value)) = only_entry(json) {
                let value = convert(&inner, value, &Path::Key(path, "some"))?;
                return Ok(Val::Option(Some(Box::new(value))));
            }
            match convert(&inner, json, path) {
                Ok(value) => Ok(Val::Option(Some(Box::new(value)))),
                Err(mut err) => {
                    // The whole value was wrong, not a part of it: say
                    // that `null` would also have done.
                    if err.path == path.to_string() && !err.expected.starts_with("null or ") {
                        err.expected = format!("null or {}", err.expected);
                    }
                    Err(err)
                }
            }
        }
        Type::Result(result) => {
            let (name, payload) = case_of(ty, json, path)?;
            let (case_ty, is_ok) = match name {
                "ok" => (result.ok(), true),
                "err" => (result.err(), false),
                _ => return Err(unknown_case(path, &["ok", "err"], name)),
            };
            let payload = payload_of(ty, case_ty.as_ref(), name, payload, path)?;
            Ok(Val::Result(if is_ok { Ok(payload) } else { Err(payload) }))
        }
        Type::Flags(flags) => {
            let Json::Array(items) = json else {
                return Err(mismatch(ty, json, path));
            };
            let mut set = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let known = match item {
                    Json::String(name) => flags.names().find(|n| n == name),
                    _ => None,
                };
                match known {
                    Some(name) => set.push(name),
                    None => {
                        return Err(error(
                            &Path::Index(path, i),
                            format!(
                                "a flag name (one of {})",
                                flags.names().collect::<Vec<_>>().join(", ")
                            ),
                            describe_json(item),
                        ));
                    }
                }
            }
            // Declared order, each flag once.
            Ok(Val::Flags(
                flags
                    .names()
                    .filter(|n| set.contains(n))
                    .map(str::to_owned)
                    .collect(),
            ))
        }
        Type::Own(_) | Type::Borrow(_) | Type::Future(_) | Type::Stream(_) | Type::ErrorContext => {
            Err(error(
                path,
                format!(
                    "{} (`{}` values cannot be given as JSON)",
                    type_name(ty, 0),
                    kind(ty)
                ),
                describe_json(json),
            ))
        }
    }
}

fn elements(ty: &Type, items: &[Json], path: &Path<'_>) -> Result<Vec<Val>, JsonValueError> {
    items
        .iter()
        .enumerate()
        .map(|(i, item)| convert(ty, item, &Path::Index(path, i)))
        .collect()
}

/// The range of an integer type, for range checks and messages.
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

/// A JSON integer, or a decimal string (for 64-bit values a JSON reader in
/// another language may round), that fits `T`. Never a fraction, never wrapped.
fn integer<T: TryFrom<i128>>(ty: &Type, json: &Json, path: &Path<'_>) -> Result<T, JsonValueError> {
    let parsed = match json {
        Json::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => Some(i128::from(i)),
            (_, Some(u), _) => Some(i128::from(u)),
            // Beyond every 64-bit integer (so the JSON reader could keep it
            // only as a float): out of range of every integer type.
            (_, _, Some(f)) if !(-TWO_POW_63..TWO_POW_64).contains(&f) => {
                return Err(out_of_range(ty, json, path));
            }
            _ => None,
        },
        Json::String(s) => match parse_decimal(s) {
            Decimal::Int(i) => Some(i),
            Decimal::TooLong => {
                return Err(out_of_range(ty, json, path));
            }
            Decimal::Malformed => None,
        },
        _ => None,
    };
    let Some(n) = parsed else {
        return Err(mismatch(ty, json, path));
    };
    T::try_from(n).map_err(|_| out_of_range(ty, json, path))
}

/// -2^63 is `i64::MIN`; 2^64 is `u64::MAX + 1`.
const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;
const TWO_POW_64: f64 = 18_446_744_073_709_551_616.0;

fn out_of_range(ty: &Type, json: &Json, path: &Path<'_>) -> JsonValueError {
    error(
        path,
        expected(ty),
        format!("{} (out of range)", describe_json(json)),
    )
}

enum Decimal {
    Int(i128),
    /// Well-formed but beyond even `i128`: certainly out of range.
    TooLong,
    Malformed,
}

/// `-?[0-9]+`, nothing else (no `+`, spaces, `_`, fractions or exponents).
fn parse_decimal(s: &str) -> Decimal {
    let digits = s.strip_prefix('-').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Decimal::Malformed;
    }
    match s.parse::<i128>() {
        Ok(n) => Decimal::Int(n),
        Err(_) => Decimal::TooLong,
    }
}

/// A JSON number (integers included), or `"nan"`, `"inf"`, `"-inf"`.
fn float(ty: &Type, json: &Json, path: &Path<'_>) -> Result<f64, JsonValueError> {
    let x = match json {
        Json::Number(n) => n.as_f64(),
        Json::String(s) => match s.as_str() {
            "nan" => Some(f64::NAN),
            "inf" => Some(f64::INFINITY),
            "-inf" => Some(f64::NEG_INFINITY),
            _ => None,
        },
        _ => None,
    };
    x.ok_or_else(|| mismatch(ty, json, path))
}

/// The case of a variant or result: `"case"` or `{"case": payload}`.
fn case_of<'j>(
    ty: &Type,
    json: &'j Json,
    path: &Path<'_>,
) -> Result<(&'j str, Option<&'j Json>), JsonValueError> {
    if let Json::String(name) = json {
        return Ok((name, None));
    }
    match only_entry(json) {
        Some((name, payload)) => Ok((name, Some(payload))),
        None => Err(mismatch(ty, json, path)),
    }
}

/// The payload of case `name` (of type `case_ty`) given as `payload`
/// (`None` when the case was given as a bare string).
fn payload_of(
    ty: &Type,
    case_ty: Option<&Type>,
    name: &str,
    payload: Option<&Json>,
    path: &Path<'_>,
) -> Result<Option<Box<Val>>, JsonValueError> {
    let at = Path::Key(path, name);
    match (case_ty, payload) {
        (Some(case_ty), Some(payload)) => Ok(Some(Box::new(convert(case_ty, payload, &at)?))),
        (Some(case_ty), None) => Err(error(
            path,
            format!("{{\"{name}\": {}}}", type_name(case_ty, 1)),
            format!("string \"{name}\" (the case `{name}` has a payload)"),
        )),
        (None, None | Some(Json::Null)) => Ok(None),
        (None, Some(payload)) => Err(error(
            &at,
            format!(
                "null (the case `{name}` of {} has no payload)",
                type_name(ty, 1)
            ),
            describe_json(payload),
        )),
    }
}

fn unknown_case(path: &Path<'_>, cases: &[&str], got: &str) -> JsonValueError {
    error(
        path,
        format!("one of the cases {}", cases.join(", ")),
        format!("`{got}`"),
    )
}

// ---------------------------------------------------------------------------
// Val -> JSON

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
    payload.map_or(Json::Null, val_to_json)
}

fn single_key(key: &str, value: Json) -> Json {
    let mut object = JsonMap::new();
    object.insert(key.to_owned(), value);
    Json::Object(object)
}

/// The key and value of a one-key object.
fn only_entry(json: &Json) -> Option<(&str, &Json)> {
    match json {
        Json::Object(object) if object.len() == 1 => {
            object.iter().next().map(|(k, v)| (k.as_str(), v))
        }
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// Descriptions for error messages

/// The type as WIT spells it, plus the JSON shape it takes.
fn expected(ty: &Type) -> String {
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
fn type_name(ty: &Type, depth: usize) -> String {
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
fn kind(ty: &Type) -> &'static str {
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
fn describe_json(json: &Json) -> String {
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
fn plural(n: impl fmt::Display, noun: &str) -> String {
    let n = n.to_string();
    let s = if n == "1" { "" } else { "s" };
    format!("{n} {noun}{s}")
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::OnceLock;

    use serde_json::json;
    use wasmtime::component::types::{ComponentFunc, ComponentItem};
    use wasmtime::component::{Component, Resource};
    use wasmtime::{Config, Engine, Store};

    use super::*;

    /// Types `calc` cannot show: `bool`, `map`, fixed-length lists, nested
    /// options, options of `{"some": ...}`-shaped values, payload-less results
    /// and resources. A component with no code, only these imports:
    ///
    /// ```wat
    /// (component
    ///   (type $rec (record (field "some" u32)))
    ///   (import "rec-some" (type $rec-some (eq $rec)))
    ///   (type $var (variant (case "some" u32) (case "other" (option u32)) (case "none")))
    ///   (import "var-some" (type $var-some (eq $var)))
    ///   (import "res" (type $res (sub resource)))
    ///   (import "extras" (func
    ///     (param "b" bool) (param "f" float64) (param "oo" (option (option u32)))
    ///     (param "m" (map string u32)) (param "fl" (list u8 3))
    ///     (param "or" (option $rec-some)) (param "ov" (option $var-some))
    ///     (param "r0" (result)) (param "ro" (result u8)) (param "re" (result (error string)))
    ///     (param "own" (own $res)) (param "borrow" (borrow $res))
    ///     (param "lo" (list (option string)))))
    ///   (import "trailing" (func (param "a" u32) (param "b" (option u32))
    ///     (param "c" (option (option u32))))))
    /// ```
    ///
    /// Encoded with `wasm-tools parse` (name section stripped); the host crate
    /// has no WAT parser. `future`, `stream` and `error-context` cannot be
    /// loaded at all: this wasmtime is built without `component-model-async`.
    const EXTRAS: &[u8] = &[
        0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00, 0x07, 0x09, 0x01, 0x72, 0x01, 0x04, 0x73,
        0x6f, 0x6d, 0x65, 0x79, 0x0a, 0x0e, 0x01, 0x00, 0x08, 0x72, 0x65, 0x63, 0x2d, 0x73, 0x6f,
        0x6d, 0x65, 0x03, 0x00, 0x00, 0x07, 0x1d, 0x02, 0x6b, 0x79, 0x71, 0x03, 0x04, 0x73, 0x6f,
        0x6d, 0x65, 0x01, 0x79, 0x00, 0x05, 0x6f, 0x74, 0x68, 0x65, 0x72, 0x01, 0x02, 0x00, 0x04,
        0x6e, 0x6f, 0x6e, 0x65, 0x00, 0x00, 0x0a, 0x15, 0x02, 0x00, 0x08, 0x76, 0x61, 0x72, 0x2d,
        0x73, 0x6f, 0x6d, 0x65, 0x03, 0x00, 0x03, 0x00, 0x03, 0x72, 0x65, 0x73, 0x03, 0x01, 0x07,
        0x5c, 0x0e, 0x6b, 0x79, 0x6b, 0x06, 0x63, 0x73, 0x79, 0x67, 0x7d, 0x03, 0x6b, 0x01, 0x6b,
        0x04, 0x6a, 0x00, 0x00, 0x6a, 0x01, 0x7d, 0x00, 0x6a, 0x00, 0x01, 0x73, 0x69, 0x05, 0x68,
        0x05, 0x6b, 0x73, 0x70, 0x11, 0x40, 0x0d, 0x01, 0x62, 0x7f, 0x01, 0x66, 0x75, 0x02, 0x6f,
        0x6f, 0x07, 0x01, 0x6d, 0x08, 0x02, 0x66, 0x6c, 0x09, 0x02, 0x6f, 0x72, 0x0a, 0x02, 0x6f,
        0x76, 0x0b, 0x02, 0x72, 0x30, 0x0c, 0x02, 0x72, 0x6f, 0x0d, 0x02, 0x72, 0x65, 0x0e, 0x03,
        0x6f, 0x77, 0x6e, 0x0f, 0x06, 0x62, 0x6f, 0x72, 0x72, 0x6f, 0x77, 0x10, 0x02, 0x6c, 0x6f,
        0x12, 0x01, 0x00, 0x0a, 0x0b, 0x01, 0x00, 0x06, 0x65, 0x78, 0x74, 0x72, 0x61, 0x73, 0x01,
        0x13, 0x07, 0x14, 0x04, 0x6b, 0x79, 0x6b, 0x79, 0x6b, 0x15, 0x40, 0x03, 0x01, 0x61, 0x79,
        0x01, 0x62, 0x14, 0x01, 0x63, 0x16, 0x01, 0x00, 0x0a, 0x0d, 0x01, 0x00, 0x08, 0x74, 0x72,
        0x61, 0x69, 0x6c, 0x69, 0x6e, 0x67, 0x01, 0x17,
    ];

    struct Fixture {
        engine: Engine,
        /// `calc`'s functions (`add`, `echo-point`, ...) and the `extras`
        /// imports (`extras`, `trailing`), by name.
        funcs: HashMap<String, ComponentFunc>,
    }

    fn fixture() -> &'static Fixture {
        static FIXTURE: OnceLock<Fixture> = OnceLock::new();
        FIXTURE.get_or_init(|| {
            let mut config = Config::new();
            config
                .wasm_component_model_map(true)
                .wasm_component_model_fixed_length_lists(true);
            let engine = Engine::new(&config).unwrap();
            let mut funcs = HashMap::new();
            let calc = Component::new(&engine, children_artifacts::CALC_BYTES).unwrap();
            for (name, item) in calc.component_type().exports(&engine) {
                match item.ty {
                    ComponentItem::ComponentFunc(f) => {
                        funcs.insert(name.to_owned(), f);
                    }
                    ComponentItem::ComponentInstance(instance) => {
                        for (name, item) in instance.exports(&engine) {
                            if let ComponentItem::ComponentFunc(f) = item.ty {
                                funcs.insert(name.to_owned(), f);
                            }
                        }
                    }
                    _ => {}
                }
            }
            let extras = Component::new(&engine, EXTRAS).unwrap();
            for (name, item) in extras.component_type().imports(&engine) {
                if let ComponentItem::ComponentFunc(f) = item.ty {
                    funcs.insert(name.to_owned(), f);
                }
            }
            Fixture { engine, funcs }
        })
    }

    fn func(name: &str) -> &'static ComponentFunc {
        fixture()
            .funcs
            .get(name)
            .unwrap_or_else(|| panic!("no function `{name}`"))
    }

    fn params(func_name: &str) -> Vec<Type> {
        func(func_name).params().map(|(_, ty)| ty).collect()
    }

    /// The type of parameter `param` of `func_name`.
    fn param(func_name: &str, param: &str) -> Type {
        func(func_name)
            .params()
            .find(|(name, _)| *name == param)
            .map(|(_, ty)| ty)
            .unwrap_or_else(|| panic!("no parameter `{param}` in `{func_name}`"))
    }

    fn result(func_name: &str) -> Type {
        func(func_name).results().next().unwrap()
    }

    fn ok(ty: &Type, json: Json) -> Val {
        json_to_val(ty, &json).unwrap_or_else(|e| panic!("{json} should convert: {e}"))
    }

    fn err(ty: &Type, json: Json) -> JsonValueError {
        match json_to_val(ty, &json) {
            Ok(val) => panic!("{json} should not convert, got {val:?}"),
            Err(e) => e,
        }
    }

    /// `val` → JSON is `expected`, and back with `ty` is `val` again.
    fn round_trip(ty: &Type, val: Val, expected: Json) {
        let json = val_to_json(&val);
        assert_eq!(json, expected, "{val:?}");
        // Through text too, as it travels.
        let json: Json = serde_json::from_str(&json.to_string()).unwrap();
        assert_eq!(json_to_val(ty, &json), Ok(val));
    }

    fn point(x: i32, y: i32) -> Val {
        Val::Record(vec![("x".into(), Val::S32(x)), ("y".into(), Val::S32(y))])
    }

    fn some(val: Val) -> Val {
        Val::Option(Some(Box::new(val)))
    }

    #[test]
    fn error_display_names_path_expected_and_got() {
        let e = err(&param("describe-widths", "b"), json!(300));
        assert_eq!(
            e.to_string(),
            "at $: expected u8 (an integer from 0 to 255), got number 300 (out of range)"
        );
        let e = err(&param("echo-point", "p"), json!({"x": 1, "y": "two"}));
        assert_eq!(
            e.to_string(),
            "at $.y: expected s32 (an integer from -2147483648 to 2147483647), got string \"two\""
        );
    }

    #[test]
    fn bool_both_ways() {
        let ty = param("extras", "b");
        round_trip(&ty, Val::Bool(true), json!(true));
        round_trip(&ty, Val::Bool(false), json!(false));
        for bad in [json!(1), json!("true"), json!(null)] {
            let e = err(&ty, bad);
            assert_eq!(
                (e.path.as_str(), e.expected.as_str()),
                ("$", "bool (true or false)")
            );
        }
    }

    #[test]
    fn integers_of_every_width() {
        let cases: [(&str, Json, Val); 8] = [
            ("a", json!(-128), Val::S8(-128)),
            ("b", json!(255), Val::U8(255)),
            ("c", json!(-32768), Val::S16(-32768)),
            ("d", json!(65535), Val::U16(65535)),
            ("e", json!(4_294_967_295_u32), Val::U32(u32::MAX)),
            ("f", json!(i64::MIN), Val::S64(i64::MIN)),
            ("a", json!(127), Val::S8(127)),
            ("c", json!(0), Val::S16(0)),
        ];
        for (p, json, val) in cases {
            round_trip(&param("describe-widths", p), val, json);
        }
        assert_eq!(ok(&param("add", "a"), json!(-7)), Val::S32(-7));
        assert_eq!(
            ok(&param("maybe-div", "a"), json!(u64::MAX)),
            Val::U64(u64::MAX)
        );
    }

    #[test]
    fn integers_accept_decimal_strings() {
        let u64_ty = param("maybe-div", "a");
        let s64_ty = param("checked-div", "a");
        assert_eq!(
            ok(&u64_ty, json!("18446744073709551615")),
            Val::U64(u64::MAX)
        );
        assert_eq!(
            ok(&s64_ty, json!("-9223372036854775808")),
            Val::S64(i64::MIN)
        );
        assert_eq!(ok(&s64_ty, json!("-0")), Val::S64(0));
        assert_eq!(ok(&param("describe-widths", "b"), json!("007")), Val::U8(7));
        // Beyond 2^53, where a float-based JSON reader would round: exact.
        assert_eq!(
            ok(&u64_ty, json!("9007199254740993")),
            Val::U64(9_007_199_254_740_993)
        );
        // Output is a JSON integer, exact whatever its size.
        assert_eq!(
            val_to_json(&Val::U64(u64::MAX)).to_string(),
            "18446744073709551615"
        );
    }

    #[test]
    fn integers_out_of_range_are_errors_not_wraps() {
        let cases: [(&str, &str, Json); 14] = [
            ("describe-widths", "a", json!(128)),
            ("describe-widths", "a", json!(-129)),
            ("describe-widths", "b", json!(-1)),
            ("describe-widths", "b", json!(256)),
            ("describe-widths", "c", json!(40000)),
            ("describe-widths", "d", json!(65536)),
            ("describe-widths", "e", json!(4_294_967_296_u64)),
            ("add", "a", json!(2_147_483_648_u64)),
            ("maybe-div", "a", json!(-1)),
            ("maybe-div", "a", json!("18446744073709551616")),
            (
                "maybe-div",
                "a",
                serde_json::from_str("18446744073709551616").unwrap(),
            ),
            ("checked-div", "a", json!(-1e30)),
            ("checked-div", "a", json!("9223372036854775808")),
            (
                "checked-div",
                "a",
                json!("-99999999999999999999999999999999999999999999"),
            ),
        ];
        for (f, p, json) in cases {
            let e = err(&param(f, p), json.clone());
            assert_eq!(e.path, "$", "{json}");
            assert!(e.got.ends_with("(out of range)"), "{json}: {e}");
        }
        let e = err(&param("describe-widths", "a"), json!(128));
        assert_eq!(e.expected, "s8 (an integer from -128 to 127)");
    }

    #[test]
    fn integers_reject_fractions_and_other_kinds() {
        let ty = param("add", "a");
        for bad in [
            json!(2.5),
            json!(2.0),
            json!(1e3),
            json!(true),
            json!(null),
            json!([1]),
            json!({"a": 1}),
            json!(""),
            json!("-"),
            json!("+5"),
            json!(" 5"),
            json!("5 "),
            json!("1_000"),
            json!("0x10"),
            json!("1e3"),
            json!("2.0"),
        ] {
            let e = err(&ty, bad.clone());
            assert_eq!(
                (e.path.as_str(), e.expected.as_str()),
                ("$", "s32 (an integer from -2147483648 to 2147483647)"),
                "{bad}"
            );
            assert!(!e.got.contains("out of range"), "{bad}: {e}");
        }
        assert_eq!(err(&ty, json!(2.5)).got, "number 2.5");
        assert_eq!(err(&ty, json!("+5")).got, "string \"+5\"");
    }

    #[test]
    fn floats_numbers_integers_and_special_strings() {
        let f64_ty = param("extras", "f");
        let f32_ty = param("describe-widths", "g");
        round_trip(&f64_ty, Val::Float64(1.5), json!(1.5));
        round_trip(&f64_ty, Val::Float64(-0.0), json!(-0.0));
        round_trip(&f64_ty, Val::Float64(f64::MAX), json!(f64::MAX));
        round_trip(&f64_ty, Val::Float64(f64::NAN), json!("nan"));
        round_trip(&f64_ty, Val::Float64(f64::INFINITY), json!("inf"));
        round_trip(&f64_ty, Val::Float64(f64::NEG_INFINITY), json!("-inf"));
        round_trip(&f32_ty, Val::Float32(f32::NAN), json!("nan"));
        round_trip(&f32_ty, Val::Float32(f32::INFINITY), json!("inf"));
        round_trip(&f32_ty, Val::Float32(f32::NEG_INFINITY), json!("-inf"));
        round_trip(&f32_ty, Val::Float32(f32::MAX), json!(3.4028235e38));
        round_trip(
            &f32_ty,
            Val::Float32(f32::MIN_POSITIVE),
            json!(1.1754944e-38),
        );
        // f32 prints its own shortest form, not the widened f64's digits.
        round_trip(&f32_ty, Val::Float32(0.1), json!(0.1));
        round_trip(&f32_ty, Val::Float32(-2.5), json!(-2.5));
        // Integers are numbers too.
        assert_eq!(ok(&f64_ty, json!(3)), Val::Float64(3.0));
        assert_eq!(ok(&f64_ty, json!(-3)), Val::Float64(-3.0));
        assert_eq!(ok(&f32_ty, json!(16_777_216)), Val::Float32(16_777_216.0));
        assert_eq!(ok(&f32_ty, json!(1e-50)), Val::Float32(0.0));
    }

    #[test]
    fn floats_reject_overflow_and_other_kinds() {
        let f32_ty = param("describe-widths", "g");
        let e = err(&f32_ty, json!(1e39));
        assert_eq!(
            e.to_string(),
            "at $: expected f32 (a number, \"nan\", \"inf\" or \"-inf\"), got number 1e+39 (out of range)"
        );
        let e = err(&f32_ty, json!(-1e300));
        assert!(e.got.ends_with("(out of range)"), "{e}");
        let f64_ty = param("extras", "f");
        for bad in [
            json!("NaN"),
            json!("Infinity"),
            json!("+inf"),
            json!("1.5"),
            json!(true),
            json!(null),
            json!([1.0]),
        ] {
            let e = err(&f64_ty, bad.clone());
            assert_eq!(
                e.expected, "f64 (a number, \"nan\", \"inf\" or \"-inf\")",
                "{bad}"
            );
        }
    }

    #[test]
    fn f32_output_reads_back_exactly() {
        let ty = param("describe-widths", "g");
        // A spread of bit patterns: normals, subnormals, both signs.
        let mut bits: u32 = 1;
        for _ in 0..20_000 {
            bits = bits.wrapping_mul(747_796_405).wrapping_add(2_891_336_453);
            let x = f32::from_bits(bits);
            let back = json_to_val(&ty, &val_to_json(&Val::Float32(x)));
            match back {
                Ok(Val::Float32(y)) if x.is_nan() => assert!(y.is_nan()),
                Ok(Val::Float32(y)) => assert_eq!(x.to_bits(), y.to_bits(), "{x:e}"),
                other => panic!("{x:e}: {other:?}"),
            }
        }
    }

    #[test]
    fn char_is_one_scalar() {
        let ty = param("describe-widths", "h");
        round_trip(&ty, Val::Char('a'), json!("a"));
        round_trip(&ty, Val::Char('é'), json!("é"));
        round_trip(&ty, Val::Char('🦀'), json!("🦀"));
        let e = err(&ty, json!("ab"));
        assert_eq!(
            e.to_string(),
            "at $: expected char (a string of one Unicode scalar value), got string \"ab\" (2 characters)"
        );
        assert_eq!(err(&ty, json!("")).got, "string \"\" (0 characters)");
        // `e` + combining acute accent: one glyph, two scalars.
        assert_eq!(
            err(&ty, json!("e\u{301}")).got,
            "string \"e\u{301}\" (2 characters)"
        );
        assert_eq!(err(&ty, json!(97)).got, "number 97");
    }

    #[test]
    fn strings() {
        let ty = param("swap", "t");
        let Type::Tuple(tuple) = &ty else {
            panic!("{ty:?}")
        };
        let string_ty = tuple.types().next().unwrap();
        round_trip(&string_ty, Val::String(String::new()), json!(""));
        round_trip(
            &string_ty,
            Val::String("héllo \"x\"\n".into()),
            json!("héllo \"x\"\n"),
        );
        assert_eq!(err(&string_ty, json!(1)).expected, "string");
        assert_eq!(err(&string_ty, json!(null)).got, "null");
        let long = "x".repeat(100);
        let got = err(&param("add", "a"), json!(long)).got;
        assert_eq!(got, format!("string \"{}\"…", "x".repeat(40)));
    }

    #[test]
    fn lists() {
        let ty = param("sum-list", "xs");
        round_trip(
            &ty,
            Val::List(vec![Val::U32(1), Val::U32(2), Val::U32(3)]),
            json!([1, 2, 3]),
        );
        round_trip(&ty, Val::List(vec![]), json!([]));
        let e = err(&ty, json!([1, -2, 3]));
        assert_eq!(e.path, "$[1]");
        assert_eq!(e.got, "number -2 (out of range)");
        let e = err(&ty, json!({"0": 1}));
        assert_eq!(
            e.to_string(),
            "at $: expected list<u32> (an array), got an object with key 0"
        );
        let bytes = param("bytes-len", "b");
        round_trip(
            &bytes,
            Val::List(vec![Val::U8(0), Val::U8(255)]),
            json!([0, 255]),
        );
        // Not a string, even for bytes: the type says list<u8>.
        assert_eq!(err(&bytes, json!("abc")).expected, "list<u8> (an array)");
        let lo = param("extras", "lo");
        round_trip(
            &lo,
            Val::List(vec![Val::Option(None), some(Val::String("a".into()))]),
            json!([null, "a"]),
        );
        assert_eq!(err(&lo, json!([null, 1])).path, "$[1]");
    }

    #[test]
    fn fixed_length_lists() {
        let ty = param("extras", "fl");
        round_trip(
            &ty,
            Val::FixedLengthList(vec![Val::U8(1), Val::U8(2), Val::U8(3)]),
            json!([1, 2, 3]),
        );
        for bad in [json!([1, 2]), json!([1, 2, 3, 4]), json!([]), json!("abc")] {
            let e = err(&ty, bad.clone());
            assert_eq!(e.path, "$");
            assert_eq!(e.expected, "list<u8, 3> (an array of 3 elements)", "{bad}");
        }
        assert_eq!(err(&ty, json!([1, 2])).got, "an array of 2 elements");
        assert_eq!(err(&ty, json!([1, 2, 256])).path, "$[2]");
    }

    #[test]
    fn records() {
        let ty = param("echo-point", "p");
        round_trip(&ty, point(1, -2), json!({"x": 1, "y": -2}));
        // Fields come out in declared order whatever the JSON order.
        let val = json_to_val(&ty, &serde_json::from_str(r#"{"y": 2, "x": 1}"#).unwrap());
        assert_eq!(val, Ok(point(1, 2)));
        let e = err(&ty, json!({"x": 1}));
        assert_eq!(
            e.to_string(),
            "at $: expected a record with the fields x, y, got an object without `y`"
        );
        let e = err(&ty, json!({"x": 1, "y": 2, "z": 3}));
        assert_eq!(
            e.to_string(),
            "at $: expected a record with the fields x, y, got an object with unknown field `z`"
        );
        let e = err(&ty, json!({"X": 1, "y": 2}));
        assert_eq!(e.got, "an object with unknown field `X`");
        assert_eq!(err(&ty, json!({"x": 1.5, "y": 2})).path, "$.x");
        let e = err(&ty, json!([1, 2]));
        assert_eq!(
            e.to_string(),
            "at $: expected record {x: s32, y: s32} (an object), got an array of 2 elements"
        );
        assert_eq!(err(&ty, json!({})).got, "an object without `x`");
    }

    #[test]
    fn tuples() {
        let ty = param("swap", "t");
        round_trip(
            &ty,
            Val::Tuple(vec![Val::String("a".into()), Val::U8(1)]),
            json!(["a", 1]),
        );
        round_trip(
            &result("swap"),
            Val::Tuple(vec![Val::U8(1), Val::String("a".into())]),
            json!([1, "a"]),
        );
        let e = err(&ty, json!(["a", 1, 2]));
        assert_eq!(
            e.to_string(),
            "at $: expected tuple<string, u8> (an array of 2 elements), got an array of 3 elements"
        );
        assert_eq!(err(&ty, json!(["a"])).got, "an array of 1 element");
        assert_eq!(err(&ty, json!({"0": "a", "1": 1})).path, "$");
        let e = err(&ty, json!(["a", "b"]));
        assert_eq!((e.path.as_str(), e.got.as_str()), ("$[1]", "string \"b\""));
    }

    #[test]
    fn variants() {
        let ty = param("area", "s");
        round_trip(
            &ty,
            Val::Variant("circle".into(), Some(Box::new(Val::Float64(1.5)))),
            json!({"circle": 1.5}),
        );
        round_trip(
            &ty,
            Val::Variant("rect".into(), Some(Box::new(point(2, 3)))),
            json!({"rect": {"x": 2, "y": 3}}),
        );
        round_trip(&ty, Val::Variant("empty".into(), None), json!("empty"));
        assert_eq!(
            ok(&ty, json!({"empty": null})),
            Val::Variant("empty".into(), None)
        );
    }

    #[test]
    fn variant_errors() {
        let ty = param("area", "s");
        let e = err(&ty, json!({"triangle": 1}));
        assert_eq!(
            e.to_string(),
            "at $: expected one of the cases circle, rect, empty, got `triangle`"
        );
        assert_eq!(err(&ty, json!("square")).got, "`square`");
        let e = err(&ty, json!("circle"));
        assert_eq!(
            e.to_string(),
            "at $: expected {\"circle\": f64}, got string \"circle\" (the case `circle` has a payload)"
        );
        let e = err(&ty, json!({"empty": 0}));
        assert_eq!(e.path, "$.empty");
        assert!(
            e.expected.starts_with("null (the case `empty` of variant"),
            "{e}"
        );
        let e = err(&ty, json!({"circle": 1, "empty": null}));
        assert_eq!(e.path, "$");
        assert_eq!(
            e.expected,
            "variant {circle(f64), rect(record {x, y}), empty} (a case name or {\"case\": payload})"
        );
        assert_eq!(err(&ty, json!({})).got, "an empty object");
        assert_eq!(err(&ty, json!(1)).path, "$");
        assert_eq!(err(&ty, json!({"rect": {"x": 1}})).path, "$.rect");
        assert_eq!(
            err(&ty, json!({"rect": {"x": 1, "y": "two"}})).path,
            "$.rect.y"
        );
        assert_eq!(err(&ty, json!({"circle": "wide"})).path, "$.circle");
    }

    #[test]
    fn enums() {
        let ty = param("next-color", "c");
        for case in ["red", "green", "blue"] {
            round_trip(&ty, Val::Enum(case.into()), json!(case));
        }
        let e = err(&ty, json!("purple"));
        assert_eq!(
            e.to_string(),
            "at $: expected one of the cases red, green, blue, got `purple`"
        );
        let e = err(&ty, json!(0));
        assert_eq!(e.expected, "enum {red, green, blue} (a case name)");
        assert_eq!(err(&ty, json!({"red": null})).path, "$");
    }

    #[test]
    fn options() {
        let ty = result("maybe-div");
        round_trip(&ty, Val::Option(None), json!(null));
        round_trip(&ty, some(Val::U64(5)), json!(5));
        assert_eq!(ok(&ty, json!({"some": 5})), some(Val::U64(5)));
        assert_eq!(ok(&ty, json!("5")), some(Val::U64(5)));
        let e = err(&ty, json!("five"));
        assert_eq!(
            e.to_string(),
            "at $: expected null or u64 (an integer from 0 to 18446744073709551615), got string \"five\""
        );
        let e = err(&ty, json!({"some": -1}));
        assert_eq!(
            (e.path.as_str(), e.got.as_str()),
            ("$.some", "number -1 (out of range)")
        );
        let e = err(&ty, json!({"some": 1, "other": 2}));
        assert!(e.expected.starts_with("null or u64"), "{e}");
        // An omitted value is not `{"some": null}`: that is some(<null>).
        assert_eq!(err(&ty, json!({"some": null})).path, "$.some");
    }

    #[test]
    fn nested_options() {
        let ty = param("extras", "oo");
        round_trip(&ty, Val::Option(None), json!(null));
        round_trip(&ty, some(Val::Option(None)), json!({"some": null}));
        round_trip(&ty, some(some(Val::U32(5))), json!({"some": 5}));
        // The bare value is unambiguous, so it is accepted too.
        assert_eq!(ok(&ty, json!(5)), some(some(Val::U32(5))));
        assert_eq!(
            ok(&ty, json!({"some": {"some": 5}})),
            some(some(Val::U32(5)))
        );
        assert_eq!(err(&ty, json!({"some": "x"})).path, "$.some");
        assert_eq!(
            err(&ty, json!("x")).expected,
            "null or u32 (an integer from 0 to 4294967295)"
        );
    }

    #[test]
    fn options_of_values_shaped_like_some() {
        // option<record {some: u32}>: some(r) must be wrapped, or it would
        // read back as the `{"some": x}` form.
        let ty = param("extras", "or");
        let rec = Val::Record(vec![("some".into(), Val::U32(7))]);
        round_trip(&ty, some(rec.clone()), json!({"some": {"some": 7}}));
        round_trip(&ty, Val::Option(None), json!(null));
        let e = err(&ty, json!({"some": 7}));
        assert_eq!(e.path, "$.some");
        // option<variant {some(u32), other(option<u32>), none}>.
        let ty = param("extras", "ov");
        let case_some = Val::Variant("some".into(), Some(Box::new(Val::U32(1))));
        round_trip(&ty, some(case_some), json!({"some": {"some": 1}}));
        let other = Val::Variant("other".into(), Some(Box::new(Val::Option(None))));
        round_trip(&ty, some(other), json!({"other": null}));
        let other = Val::Variant("other".into(), Some(Box::new(some(Val::U32(2)))));
        round_trip(&ty, some(other), json!({"other": 2}));
        round_trip(&ty, some(Val::Variant("none".into(), None)), json!("none"));
        round_trip(
            &ty,
            some(Val::Variant("some".into(), Some(Box::new(Val::U32(0))))),
            json!({"some": {"some": 0}}),
        );
    }

    #[test]
    fn results() {
        let ty = result("checked-div");
        round_trip(
            &ty,
            Val::Result(Ok(Some(Box::new(Val::S64(-4))))),
            json!({"ok": -4}),
        );
        round_trip(
            &ty,
            Val::Result(Err(Some(Box::new(Val::String("division by zero".into()))))),
            json!({"err": "division by zero"}),
        );
        let e = err(&ty, json!({"ok": "x"}));
        assert_eq!(e.path, "$.ok");
        let e = err(&ty, json!({"err": 1}));
        assert_eq!((e.path.as_str(), e.expected.as_str()), ("$.err", "string"));
        let e = err(&ty, json!({"maybe": 1}));
        assert_eq!(
            e.to_string(),
            "at $: expected one of the cases ok, err, got `maybe`"
        );
        for bad in [
            json!({}),
            json!({"ok": 1, "err": "x"}),
            json!(1),
            json!(null),
            json!([1]),
        ] {
            let e = err(&ty, bad.clone());
            assert_eq!(
                e.expected, "result<s64, string> ({\"ok\": value} or {\"err\": value})",
                "{bad}"
            );
        }
        let e = err(&ty, json!("ok"));
        assert_eq!(e.expected, "{\"ok\": s64}");
    }

    #[test]
    fn results_without_payloads() {
        let r0 = param("extras", "r0");
        round_trip(&r0, Val::Result(Ok(None)), json!({"ok": null}));
        round_trip(&r0, Val::Result(Err(None)), json!({"err": null}));
        assert_eq!(ok(&r0, json!("ok")), Val::Result(Ok(None)));
        assert_eq!(ok(&r0, json!("err")), Val::Result(Err(None)));
        let e = err(&r0, json!({"ok": 1}));
        assert_eq!(e.path, "$.ok");
        assert_eq!(e.expected, "null (the case `ok` of result has no payload)");
        let ro = param("extras", "ro");
        round_trip(
            &ro,
            Val::Result(Ok(Some(Box::new(Val::U8(1))))),
            json!({"ok": 1}),
        );
        round_trip(&ro, Val::Result(Err(None)), json!({"err": null}));
        assert_eq!(err(&ro, json!({"err": "x"})).path, "$.err");
        let re = param("extras", "re");
        round_trip(&re, Val::Result(Ok(None)), json!({"ok": null}));
        round_trip(
            &re,
            Val::Result(Err(Some(Box::new(Val::String("e".into()))))),
            json!({"err": "e"}),
        );
    }

    #[test]
    fn flags() {
        let ty = param("toggle-exec", "p");
        let flags = |names: &[&str]| Val::Flags(names.iter().map(|n| n.to_string()).collect());
        round_trip(&ty, flags(&[]), json!([]));
        round_trip(&ty, flags(&["read", "exec"]), json!(["read", "exec"]));
        // Declared order, duplicates folded.
        assert_eq!(
            ok(&ty, json!(["exec", "read", "exec"])),
            flags(&["read", "exec"])
        );
        let e = err(&ty, json!(["read", "delete"]));
        assert_eq!(
            e.to_string(),
            "at $[1]: expected a flag name (one of read, write, exec), got string \"delete\""
        );
        assert_eq!(err(&ty, json!([1])).path, "$[0]");
        let e = err(&ty, json!({"read": true}));
        assert_eq!(
            e.expected,
            "flags {read, write, exec} (an array of flag names)"
        );
        assert_eq!(err(&ty, json!("read")).path, "$");
    }

    #[test]
    fn maps() {
        let ty = param("extras", "m");
        let entry = |k: &str, v: u32| (Val::String(k.into()), Val::U32(v));
        round_trip(
            &ty,
            Val::Map(vec![entry("b", 2), entry("a", 1)]),
            json!([["b", 2], ["a", 1]]),
        );
        round_trip(&ty, Val::Map(vec![]), json!([]));
        let e = err(&ty, json!({"a": 1}));
        assert_eq!(
            e.to_string(),
            "at $: expected map<string, u32> (an array of [key, value] pairs), got an object with key a"
        );
        let e = err(&ty, json!([["a", 1], ["b"]]));
        assert_eq!(
            e.to_string(),
            "at $[1]: expected a [key, value] pair ([string, u32]), got an array of 1 element"
        );
        assert_eq!(err(&ty, json!([["a", 1, 2]])).path, "$[0]");
        assert_eq!(err(&ty, json!(["a"])).path, "$[0]");
        assert_eq!(err(&ty, json!([[1, 1]])).path, "$[0][0]");
        assert_eq!(err(&ty, json!([["a", 1], ["b", -1]])).path, "$[1][1]");
    }

    #[test]
    fn resources_cannot_be_given_as_json() {
        let own = param("extras", "own");
        let e = err(&own, json!(1));
        assert_eq!(
            e.to_string(),
            "at $: expected own<resource> (`own` values cannot be given as JSON), got number 1"
        );
        let borrow = param("extras", "borrow");
        let e = err(&borrow, json!("<borrowed resource>"));
        assert_eq!(
            e.expected,
            "borrow<resource> (`borrow` values cannot be given as JSON)"
        );
        let e = json_to_params(
            &params("extras"),
            &json!([
                true,
                1.0,
                null,
                [],
                [1, 2, 3],
                null,
                null,
                "ok",
                {"ok": 1},
                "ok",
                7,
                8,
                []
            ]),
        )
        .unwrap_err();
        assert_eq!(e.path, "$[10]");
        assert!(e.expected.contains("`own` values cannot be given as JSON"));
    }

    #[test]
    fn resources_render_as_descriptions() {
        struct Thing;
        let mut store = Store::new(&fixture().engine, ());
        let own = Resource::<Thing>::new_own(1)
            .try_into_resource_any(&mut store)
            .unwrap();
        assert_eq!(val_to_json(&Val::Resource(own)), json!("<own resource>"));
        // A borrowed `ResourceAny` exists only during a call into the host,
        // so `"<borrowed resource>"` is not reachable from a unit test.
    }

    #[test]
    fn params_from_an_array() {
        let add = params("add");
        assert_eq!(
            json_to_params(&add, &json!([2, 3])),
            Ok(vec![Val::S32(2), Val::S32(3)])
        );
        let e = json_to_params(&add, &json!([2, 3, 4])).unwrap_err();
        assert_eq!(e.to_string(), "at $: expected 2 arguments, got 3");
        let e = json_to_params(&add, &json!([2])).unwrap_err();
        assert_eq!(e.to_string(), "at $: expected 2 arguments, got 1");
        let e = json_to_params(&add, &json!({"a": 2, "b": 3})).unwrap_err();
        assert_eq!(
            e.to_string(),
            "at $: expected a JSON array of the arguments (2 arguments), got an object with keys a, b"
        );
        let e = json_to_params(&add, &json!([2, "x"])).unwrap_err();
        assert_eq!(e.path, "$[1]");
        let e = json_to_params(&params("sum-list"), &json!([])).unwrap_err();
        assert_eq!(e.to_string(), "at $: expected 1 argument, got 0");
        let widths = json_to_params(
            &params("describe-widths"),
            &json!([-1, 2, -3, 4, 5, "-6", 7.5, "z"]),
        );
        assert_eq!(
            widths,
            Ok(vec![
                Val::S8(-1),
                Val::U8(2),
                Val::S16(-3),
                Val::U16(4),
                Val::U32(5),
                Val::S64(-6),
                Val::Float32(7.5),
                Val::Char('z'),
            ])
        );
        let point = json_to_params(&params("scale"), &json!([{"x": 1, "y": 2}, 3]));
        assert_eq!(point, Ok(vec![super::tests::point(1, 2), Val::S32(3)]));
    }

    #[test]
    fn trailing_option_params_may_be_omitted() {
        let trailing = params("trailing");
        assert_eq!(
            json_to_params(&trailing, &json!([1])),
            Ok(vec![Val::U32(1), Val::Option(None), Val::Option(None)])
        );
        assert_eq!(
            json_to_params(&trailing, &json!([1, 2])),
            Ok(vec![Val::U32(1), some(Val::U32(2)), Val::Option(None)])
        );
        assert_eq!(
            json_to_params(&trailing, &json!([1, null, {"some": null}])),
            Ok(vec![
                Val::U32(1),
                Val::Option(None),
                some(Val::Option(None))
            ])
        );
        let e = json_to_params(&trailing, &json!([])).unwrap_err();
        assert_eq!(e.to_string(), "at $: expected 1 to 3 arguments, got 0");
        let e = json_to_params(&trailing, &json!([1, 2, 3, 4])).unwrap_err();
        assert_eq!(e.to_string(), "at $: expected 1 to 3 arguments, got 4");
        let e = json_to_params(&params("maybe-div"), &json!([1])).unwrap_err();
        assert_eq!(e.to_string(), "at $: expected 2 arguments, got 1");
        assert_eq!(json_to_params(&[], &json!([])), Ok(vec![]));
    }

    #[test]
    fn every_calc_signature_round_trips() {
        let cases: Vec<(&str, Vec<Val>, Json)> = vec![
            (
                "add",
                vec![Val::S32(i32::MIN), Val::S32(i32::MAX)],
                json!([-2147483648, 2147483647]),
            ),
            ("echo-point", vec![point(0, -1)], json!([{"x": 0, "y": -1}])),
            (
                "scale",
                vec![point(3, 4), Val::S32(2)],
                json!([{"x": 3, "y": 4}, 2]),
            ),
            (
                "area",
                vec![Val::Variant("empty".into(), None)],
                json!(["empty"]),
            ),
            (
                "next-color",
                vec![Val::Enum("blue".into())],
                json!(["blue"]),
            ),
            (
                "toggle-exec",
                vec![Val::Flags(vec!["write".into()])],
                json!([["write"]]),
            ),
            ("maybe-div", vec![Val::U64(10), Val::U64(0)], json!([10, 0])),
            (
                "checked-div",
                vec![Val::S64(-10), Val::S64(3)],
                json!([-10, 3]),
            ),
            (
                "sum-list",
                vec![Val::List(vec![Val::U32(u32::MAX)])],
                json!([[4294967295_u32]]),
            ),
            (
                "swap",
                vec![Val::Tuple(vec![Val::String("s".into()), Val::U8(9)])],
                json!([["s", 9]]),
            ),
            ("bytes-len", vec![Val::List(vec![Val::U8(7)])], json!([[7]])),
        ];
        for (name, vals, expected) in cases {
            let json = Json::Array(vals.iter().map(val_to_json).collect());
            assert_eq!(json, expected, "{name}");
            assert_eq!(json_to_params(&params(name), &json), Ok(vals), "{name}");
        }
        let results: Vec<(&str, Val, Json)> = vec![
            ("add", Val::S32(5), json!(5)),
            ("echo-point", point(1, 2), json!({"x": 1, "y": 2})),
            ("area", Val::Float64(f64::NAN), json!("nan")),
            ("next-color", Val::Enum("red".into()), json!("red")),
            (
                "toggle-exec",
                Val::Flags(vec!["read".into(), "exec".into()]),
                json!(["read", "exec"]),
            ),
            (
                "maybe-div",
                some(Val::U64(u64::MAX)),
                json!(18446744073709551615_u64),
            ),
            (
                "checked-div",
                Val::Result(Ok(Some(Box::new(Val::S64(i64::MAX))))),
                json!({"ok": i64::MAX}),
            ),
            ("sum-list", Val::U64(0), json!(0)),
            ("describe-widths", Val::String("x".into()), json!("x")),
            ("bytes-len", Val::U32(3), json!(3)),
        ];
        for (name, val, expected) in results {
            round_trip(&result(name), val, expected);
        }
    }

    /// No JSON input makes any conversion panic.
    #[test]
    fn never_panics() {
        let inputs = [
            json!(null),
            json!(true),
            json!(0),
            json!(-1),
            json!(1.5),
            json!(1e308),
            json!(u64::MAX),
            json!(i64::MIN),
            json!(""),
            json!("a"),
            json!("nan"),
            json!("-"),
            json!("99999999999999999999999999999999999999999999999999"),
            json!([]),
            json!([null]),
            json!([1, 2, 3]),
            json!([["a", 1]]),
            json!({}),
            json!({"some": null}),
            json!({"ok": null}),
            json!({"x": 1, "y": 2}),
            json!({"rect": {"x": 1}}),
            json!({"a": 1, "b": 2}),
        ];
        let mut types = Vec::new();
        for f in fixture().funcs.values() {
            types.extend(f.params().map(|(_, ty)| ty));
            types.extend(f.results());
        }
        for ty in &types {
            for json in &inputs {
                if let Ok(val) = json_to_val(ty, json) {
                    // Whatever was accepted reads back the same.
                    assert_eq!(json_to_val(ty, &val_to_json(&val)), Ok(val), "{json}");
                }
                let _ = json_to_params(std::slice::from_ref(ty), json);
            }
        }
    }
}
