//! Values crossing the host boundary: a call written as WAVE text
//! (`add(2, 3)`, the encoding `wasmtime run --invoke` uses) or as JSON, checked
//! against the function's WIT signature before the child runs, and results
//! rendered back as WAVE and JSON.

mod canonical;
pub mod json;
mod wave_list;

pub use canonical::canonical;
pub use wave_list::{wave_list, write_wave_list};

use wasmtime::component::wasm_wave::{self, untyped::UntypedFuncCall};
use wasmtime::component::{Type, Val};

use crate::RunRefused;
use crate::functions::ExportedFunction;

/// Splits a call expression into the function name and its argument list
/// text (with parentheses). `noop` and `noop()` are both calls without arguments.
pub fn split_call(text: &str) -> Result<(&str, Option<&str>), RunRefused> {
    let text = text.trim();
    let bad = |reason: &str| RunRefused::BadCall {
        call: text.to_owned(),
        reason: reason.to_owned(),
    };
    let (name, args) = match text.find('(') {
        Some(open) => (text[..open].trim_end(), Some(&text[open..])),
        None => (text, None),
    };
    if name.is_empty() {
        return Err(bad("missing function name before `(`"));
    }
    if name.contains(char::is_whitespace) {
        return Err(bad(
            "a function name has no spaces (write `name(arg, ...)`)",
        ));
    }
    Ok((name, args))
}

/// Whether values of `ty` can be written by a caller (no resources, futures, streams).
fn check_writable(ty: &Type) -> Result<(), String> {
    match ty {
        Type::Own(_) | Type::Borrow(_) => Err("it takes a resource handle".into()),
        Type::Future(_) | Type::Stream(_) | Type::ErrorContext => {
            Err("it takes an async value".into())
        }
        Type::List(l) => check_writable(&l.ty()),
        Type::FixedLengthList(l) => check_writable(&l.ty()),
        Type::Map(m) => check_writable(&m.key()).and_then(|()| check_writable(&m.value())),
        Type::Record(r) => r.fields().try_for_each(|f| check_writable(&f.ty)),
        Type::Tuple(t) => t.types().try_for_each(|t| check_writable(&t)),
        Type::Variant(v) => v
            .cases()
            .filter_map(|c| c.ty)
            .try_for_each(|t| check_writable(&t)),
        Type::Option(o) => check_writable(&o.ty()),
        Type::Result(r) => r
            .ok()
            .into_iter()
            .chain(r.err())
            .try_for_each(|t| check_writable(&t)),
        _ => Ok(()),
    }
}

/// The parameter types of `function`, if every one can be written by a caller.
pub fn param_types(function: &ExportedFunction) -> Result<Vec<Type>, RunRefused> {
    let types: Vec<Type> = function.ty.params().map(|(_, ty)| ty).collect();
    for ty in &types {
        check_writable(ty).map_err(|reason| RunRefused::Unsupported {
            function: function.name.clone(),
            reason,
        })?;
    }
    Ok(types)
}

/// Parses WAVE argument text (`(2, 3)`, or none) against `function`'s signature.
pub fn parse_wave_args(
    function: &ExportedFunction,
    args: Option<&str>,
) -> Result<Vec<Val>, RunRefused> {
    let types = param_types(function)?;
    let bad = |reason: String| RunRefused::BadArguments {
        function: function.name.clone(),
        reason,
    };
    let Some(args) = args else {
        return match types.len() {
            0 => Ok(Vec::new()),
            n => Err(bad(format!(
                "it takes {n} argument(s): {}",
                signature(function)
            ))),
        };
    };
    // The WAVE function-name grammar is narrower than export names
    // (`wasi:cli/run@0.2.3.run`), so the name was resolved by us; parse the
    // argument list behind a placeholder name.
    let source = format!("f{args}");
    let call = UntypedFuncCall::parse(&source).map_err(|e| bad(format!("{e} in `{args}`")))?;
    let values = call
        .to_wasm_params::<Val>(types.iter())
        .map_err(|e| bad(format!("{e}; the signature is {}", signature(function))))?;
    Ok(in_canonical_form(&types, values))
}

/// Values of the parameter `types`, each in canonical form ([`canonical`]).
fn in_canonical_form(types: &[Type], values: Vec<Val>) -> Vec<Val> {
    values
        .into_iter()
        .zip(types)
        .map(|(value, ty)| canonical(ty, value))
        .collect()
}

/// Parses a parenthesised WAVE value list (`(1, "a")`, `()`) against `types`
/// — how receipts store argument and result lists.
pub fn parse_value_list(text: &str, types: &[Type]) -> Result<Vec<Val>, String> {
    // The answer of every function without results (a `log` call, say).
    if types.is_empty() && text == "()" {
        return Ok(Vec::new());
    }
    let source = format!("f{text}");
    let call = UntypedFuncCall::parse(&source).map_err(|e| format!("{e} in `{text}`"))?;
    let values = call
        .to_wasm_params::<Val>(types.iter())
        .map_err(|e| format!("{e} in `{text}`"))?;
    Ok(in_canonical_form(types, values))
}

/// Converts JSON arguments (an array, one element per parameter) for `function`.
pub fn parse_json_args(
    function: &ExportedFunction,
    args: &serde_json::Value,
) -> Result<Vec<Val>, RunRefused> {
    let types = param_types(function)?;
    json::json_to_params(&types, args).map_err(|e| RunRefused::BadArguments {
        function: function.name.clone(),
        reason: format!("{e}; the signature is {}", signature(function)),
    })
}

/// A short WIT-like rendering of a function type, for error messages.
pub fn signature(function: &ExportedFunction) -> String {
    let params: Vec<String> = function
        .ty
        .params()
        .map(|(name, ty)| format!("{name}: {}", json::type_name(&ty, 0)))
        .collect();
    let results: Vec<String> = function
        .ty
        .results()
        .map(|ty| json::type_name(&ty, 0))
        .collect();
    let mut text = format!("{}({})", function.function, params.join(", "));
    if !results.is_empty() {
        text.push_str(" -> ");
        text.push_str(&results.join(", "));
    }
    text
}

/// Renders one value as WAVE text.
pub fn wave(value: &Val) -> String {
    // A resource handle has no WAVE text, and its debug form names host
    // types that differ between builds: it is written as what it is.
    if let Val::Resource(_) = value {
        return "<resource>".to_owned();
    }
    wasm_wave::to_string(value).unwrap_or_else(|_| format!("{value:?}"))
}

/// Renders a function's results as WAVE: nothing for no result, the value for one.
pub fn results_wave(results: &[Val]) -> String {
    match results {
        [] => String::new(),
        [one] => wave(one),
        many => format!("({})", many.iter().map(wave).collect::<Vec<_>>().join(", ")),
    }
}

/// Renders a function's results as JSON: `null` for no result, the value for one.
pub fn results_json(results: &[Val]) -> serde_json::Value {
    match results {
        [] => serde_json::Value::Null,
        [one] => json::val_to_json(one),
        many => serde_json::Value::Array(many.iter().map(json::val_to_json).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_result_list_reads_without_the_parser_and_only_when_empty() {
        assert_eq!(parse_value_list("()", &[]), Ok(Vec::new()));
        assert!(parse_value_list("(1)", &[]).is_err());
        assert!(parse_value_list("()", &[Type::U8]).is_err());
    }

    #[test]
    fn calls_split_into_name_and_arguments() {
        assert_eq!(split_call("add(2, 3)").unwrap(), ("add", Some("(2, 3)")));
        assert_eq!(
            split_call(" ops.greet (\"a(b)\") ").unwrap(),
            ("ops.greet", Some("(\"a(b)\")"))
        );
        assert_eq!(split_call("noop").unwrap(), ("noop", None));
        for (bad, why) in [
            ("(1)", "missing function name"),
            ("two words", "has no spaces"),
        ] {
            match split_call(bad) {
                Err(RunRefused::BadCall { call, reason }) => {
                    assert_eq!(call, bad);
                    assert!(reason.contains(why), "{bad}: {reason}");
                }
                other => panic!("{bad}: {other:?}"),
            }
        }
    }
}
