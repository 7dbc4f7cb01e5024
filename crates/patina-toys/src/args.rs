//! Typed access to the dynamic arguments of a toy call, with errors that say
//! which argument was wrong instead of panicking.

use wasmtime::component::Val;

use crate::ToyError;

/// The arguments of one toy call, for typed extraction.
pub struct Args<'a> {
    function: &'a str,
    values: &'a [Val],
}

/// Checks that `function` got exactly `n` arguments.
pub fn expect_arity(function: &str, values: &[Val], n: usize) -> Result<(), ToyError> {
    if values.len() == n {
        Ok(())
    } else {
        Err(ToyError::BadArguments {
            function: function.to_owned(),
            reason: format!("expected {n} arguments, got {}", values.len()),
        })
    }
}

impl<'a> Args<'a> {
    /// Wraps the arguments of a call to `function`, which takes `arity` of them.
    pub fn new(function: &'a str, values: &'a [Val], arity: usize) -> Result<Self, ToyError> {
        expect_arity(function, values, arity)?;
        Ok(Self { function, values })
    }

    fn bad(&self, index: usize, expected: &str) -> ToyError {
        ToyError::BadArguments {
            function: self.function.to_owned(),
            reason: format!(
                "argument {index} must be {expected}, got {:?}",
                self.values.get(index)
            ),
        }
    }

    /// Argument `index` as a string.
    pub fn string(&self, index: usize) -> Result<&'a str, ToyError> {
        match self.values.get(index) {
            Some(Val::String(s)) => Ok(s),
            _ => Err(self.bad(index, "a string")),
        }
    }

    /// Argument `index` as an enum case name.
    pub fn enum_case(&self, index: usize) -> Result<&'a str, ToyError> {
        match self.values.get(index) {
            Some(Val::Enum(case)) => Ok(case),
            _ => Err(self.bad(index, "an enum case")),
        }
    }

    /// Argument `index` as a `u64`.
    pub fn u64(&self, index: usize) -> Result<u64, ToyError> {
        match self.values.get(index) {
            Some(Val::U64(n)) => Ok(*n),
            _ => Err(self.bad(index, "a u64")),
        }
    }
}
