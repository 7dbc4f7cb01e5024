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
//!
//! The module is split by job: `to_val.rs` reads JSON as a value of a given
//! type, `from_val.rs` writes a value as JSON, and `describe.rs` words the
//! error messages. This file is only the public surface: the error type and
//! three thin entry points. It must never hold conversion logic of its own;
//! anything that decides what a JSON value means belongs in `to_val.rs` or
//! `from_val.rs`.

mod describe;

pub(crate) use describe::type_name;
mod from_val;
mod to_val;

#[cfg(test)]
mod tests;

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
    to_val::value(ty, json)
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
    to_val::params(params, json)
}

/// Converts a value to JSON. Never fails: every [`Val`] has a JSON form
/// (resources, futures, streams and error contexts render as descriptive
/// strings such as `"<own resource>"`, which cannot be converted back).
pub fn val_to_json(val: &Val) -> serde_json::Value {
    from_val::to_json(val)
}
