//! The one canonical form of a value a caller wrote: the set flags of a
//! `flags` value in declared order, at any depth. A run's arguments are
//! recorded in the transcript as WAVE text (docs/conformance.md §3.6), so
//! the same call must give the same text whatever door it came through:
//! the JSON reader already keeps declared order, WAVE's parser keeps the
//! order the caller wrote (or sorts), and a replay re-reads the recorded
//! text. This module changes no value's meaning, only its order; it must
//! never drop or add a flag.

use wasmtime::component::{Type, Val};

/// `val`, of type `ty`, in canonical form.
pub fn canonical(ty: &Type, val: Val) -> Val {
    match (ty, val) {
        (Type::Flags(flags), Val::Flags(set)) => Val::Flags(
            flags
                .names()
                .filter(|name| set.iter().any(|s| s == name))
                .map(str::to_owned)
                .collect(),
        ),
        (Type::List(list), Val::List(items)) => Val::List(each(&list.ty(), items)),
        (Type::FixedLengthList(list), Val::FixedLengthList(items)) => {
            Val::FixedLengthList(each(&list.ty(), items))
        }
        (Type::Map(map), Val::Map(entries)) => Val::Map(
            entries
                .into_iter()
                .map(|(k, v)| (canonical(&map.key(), k), canonical(&map.value(), v)))
                .collect(),
        ),
        (Type::Record(record), Val::Record(fields)) => Val::Record(
            fields
                .into_iter()
                .map(|(name, value)| {
                    let value = match record.fields().find(|f| f.name == name) {
                        Some(field) => canonical(&field.ty, value),
                        None => value,
                    };
                    (name, value)
                })
                .collect(),
        ),
        (Type::Tuple(tuple), Val::Tuple(items)) => Val::Tuple(
            items
                .into_iter()
                .zip(tuple.types())
                .map(|(value, ty)| canonical(&ty, value))
                .collect(),
        ),
        (Type::Variant(variant), Val::Variant(name, payload)) => {
            let ty = variant
                .cases()
                .find(|case| case.name == name)
                .and_then(|case| case.ty);
            Val::Variant(name, inside(ty.as_ref(), payload))
        }
        (Type::Option(option), Val::Option(payload)) => {
            Val::Option(inside(Some(&option.ty()), payload))
        }
        (Type::Result(result), Val::Result(Ok(payload))) => {
            Val::Result(Ok(inside(result.ok().as_ref(), payload)))
        }
        (Type::Result(result), Val::Result(Err(payload))) => {
            Val::Result(Err(inside(result.err().as_ref(), payload)))
        }
        (_, val) => val,
    }
}

/// Each of `values` (all of type `ty`) in canonical form.
fn each(ty: &Type, values: Vec<Val>) -> Vec<Val> {
    values.into_iter().map(|v| canonical(ty, v)).collect()
}

fn inside(ty: Option<&Type>, payload: Option<Box<Val>>) -> Option<Box<Val>> {
    match (ty, payload) {
        (Some(ty), Some(value)) => Some(Box::new(canonical(ty, *value))),
        (_, payload) => payload,
    }
}
