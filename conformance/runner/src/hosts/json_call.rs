//! A case's call, written in WAVE (`add(2, 3)`), as the doors that speak
//! JSON take it: the function's name and a JSON array of its arguments,
//! read against the child's own WIT types with patina-host's one value
//! mapping (`docs/values.md`). It translates; it never judges a call: a call
//! whose arguments do not fit the types (a case that expects
//! `bad-arguments`) is sent as its literal text read as JSON, so the door's
//! own refusal is what the suite compares.

use anyhow::{Context, Result};
use patina_host::ExportedFunction;
use patina_host::values::{json::val_to_json, parse_wave_args, split_call};

use super::{Embedded, Prepared};

/// A call as a JSON door takes it.
#[derive(Debug, PartialEq)]
pub struct JsonCall {
    /// The function, as the case names it.
    pub function: String,
    /// Its arguments, a JSON array.
    pub args: serde_json::Value,
}

/// `call` (WAVE) for `child`, or `None` when it has no JSON form at all
/// (the adapter's cell is then n/a, with that reason).
pub fn translate(embedded: &Embedded, child: &Prepared, call: &str) -> Result<Option<JsonCall>> {
    let Ok((function, args)) = split_call(call) else {
        return Ok(None);
    };
    let loaded = embedded
        .mother()
        .host()
        .load(&child.bytes)
        .with_context(|| format!("loading {}", child.path.display()))?;
    // A function the child does not export is sent by its name as written.
    let args = match loaded.functions().find(function) {
        Ok(found) => json_args(found, args).ok(),
        Err(_) => literal(args),
    };
    let Some(args) = args else {
        return Ok(None);
    };
    Ok(Some(JsonCall {
        function: function.to_owned(),
        args: serde_json::Value::Array(args),
    }))
}

/// The WAVE argument list `args` of `function` as JSON values: read with
/// its types when they fit, else its literal text (so the door's own
/// refusal is compared); `Err` (why the types refused it) when neither.
pub(super) fn json_args(
    function: &ExportedFunction,
    args: Option<&str>,
) -> Result<Vec<serde_json::Value>, String> {
    match parse_wave_args(function, args) {
        Ok(values) => Ok(values.iter().map(val_to_json).collect()),
        Err(refused) => literal(args).ok_or_else(|| refused.to_string()),
    }
}

/// A WAVE argument list read as JSON text as it stands (`("x", 1)` is
/// `["x", 1]`, no list is `[]`); `None` when that text is no JSON array.
fn literal(args: Option<&str>) -> Option<Vec<serde_json::Value>> {
    let Some(args) = args else {
        return Some(Vec::new());
    };
    let inner = args.trim().strip_prefix('(')?.strip_suffix(')')?;
    match serde_json::from_str(&format!("[{inner}]")) {
        Ok(serde_json::Value::Array(values)) => Some(values),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::literal;
    use serde_json::json;

    #[test]
    fn a_wave_argument_list_reads_literally_only_when_it_is_json() {
        assert_eq!(
            literal(Some("(\"x\", 1)")),
            Some(vec![json!("x"), json!(1)])
        );
        assert_eq!(literal(None), Some(vec![]));
        assert_eq!(literal(Some("()")), Some(vec![]));
        // WAVE that is not JSON: a record, a variant case, a char.
        assert_eq!(literal(Some("({x: 1})")), None);
        assert_eq!(literal(Some("(some(1))")), None);
        assert_eq!(literal(Some("('a')")), None);
    }
}
