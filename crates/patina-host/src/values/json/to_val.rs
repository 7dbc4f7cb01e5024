//! JSON → [`Val`], directed by the WIT [`Type`]: the reading half of the
//! module (see `mod.rs` for the rules).
//!
//! Every conversion starts from the type the function declares and asks
//! whether the JSON has the shape that type takes; the first part that does
//! not fit is a [`JsonValueError`] naming its path. This file must never guess
//! a type from the JSON alone, never return a best-effort value for JSON that
//! does not fit, never wrap, truncate or round an integer, never let an `f32`
//! overflow quietly to infinity, and never panic on any input. Wording the
//! messages is `describe.rs`'s job, not this file's.

use std::fmt;

use serde_json::Value as Json;
use wasmtime::component::{Type, Val};

use super::JsonValueError;
use super::describe::{describe_json, expected, kind, plural, type_name};

/// Converts `json` to a value of type `ty` (`json_to_val`).
pub(super) fn value(ty: &Type, json: &Json) -> Result<Val, JsonValueError> {
    convert(ty, json, &Path::Root)
}

/// Converts a JSON array of arguments to values of the parameter types
/// (`json_to_params`); trailing `option` parameters may be omitted.
pub(super) fn params(params: &[Type], json: &Json) -> Result<Vec<Val>, JsonValueError> {
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

/// The key and value of a one-key object: how `{"some": x}`, `{"ok": x}`
/// and `{"case": payload}` are recognised (`from_val.rs` relies on it too).
pub(super) fn only_entry(json: &Json) -> Option<(&str, &Json)> {
    match json {
        Json::Object(object) if object.len() == 1 => {
            object.iter().next().map(|(k, v)| (k.as_str(), v))
        }
        _ => None,
    }
}
