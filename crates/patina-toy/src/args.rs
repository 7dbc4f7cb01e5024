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

    /// Argument `index` as a `u32`.
    pub fn u32(&self, index: usize) -> Result<u32, ToyError> {
        match self.values.get(index) {
            Some(Val::U32(n)) => Ok(*n),
            _ => Err(self.bad(index, "a u32")),
        }
    }

    /// Argument `index` as an `f64`.
    pub fn f64(&self, index: usize) -> Result<f64, ToyError> {
        match self.values.get(index) {
            Some(Val::Float64(n)) => Ok(*n),
            _ => Err(self.bad(index, "an f64")),
        }
    }

    /// Argument `index` as a `list<u8>`.
    pub fn bytes(&self, index: usize) -> Result<Vec<u8>, ToyError> {
        match self.values.get(index) {
            Some(Val::List(items)) => items
                .iter()
                .map(|item| match item {
                    Val::U8(b) => Ok(*b),
                    _ => Err(self.bad(index, "a list<u8>")),
                })
                .collect(),
            _ => Err(self.bad(index, "a list<u8>")),
        }
    }

    /// Argument `index` as a `list<string>`.
    pub fn strings(&self, index: usize) -> Result<Vec<&'a str>, ToyError> {
        match self.values.get(index) {
            Some(Val::List(items)) => items
                .iter()
                .map(|item| match item {
                    Val::String(s) => Ok(s.as_str()),
                    _ => Err(self.bad(index, "a list<string>")),
                })
                .collect(),
            _ => Err(self.bad(index, "a list<string>")),
        }
    }

    /// Argument `index` as an `option<T>`: the inner value, if any.
    pub fn option(&self, index: usize) -> Result<Option<&'a Val>, ToyError> {
        match self.values.get(index) {
            Some(Val::Option(inner)) => Ok(inner.as_deref()),
            _ => Err(self.bad(index, "an option")),
        }
    }

    /// Argument `index` as a record: its fields in declaration order.
    pub fn record(&self, index: usize) -> Result<&'a [(String, Val)], ToyError> {
        match self.values.get(index) {
            Some(Val::Record(fields)) => Ok(fields),
            _ => Err(self.bad(index, "a record")),
        }
    }

    /// Argument `index` as a raw value (for shapes the helpers above lack).
    pub fn value(&self, index: usize) -> Result<&'a Val, ToyError> {
        self.values
            .get(index)
            .ok_or_else(|| self.bad(index, "a value"))
    }
}

/// Builders for the values toys answer with.
pub mod vals {
    use wasmtime::component::Val;

    /// A `list<u8>`.
    pub fn bytes(data: &[u8]) -> Val {
        Val::List(data.iter().map(|b| Val::U8(*b)).collect())
    }

    /// A `string`.
    pub fn string(text: impl Into<String>) -> Val {
        Val::String(text.into())
    }

    /// A `list<string>`.
    pub fn strings<S: Into<String>>(items: impl IntoIterator<Item = S>) -> Val {
        Val::List(items.into_iter().map(|s| Val::String(s.into())).collect())
    }

    /// An `option<T>`.
    pub fn option(value: Option<Val>) -> Val {
        Val::Option(value.map(Box::new))
    }

    /// `ok(value)` of a `result<T, E>` (`None` for `result<_, E>`).
    pub fn ok(value: Option<Val>) -> Val {
        Val::Result(Ok(value.map(Box::new)))
    }

    /// `err(value)` of a `result<T, E>`.
    pub fn err(value: Val) -> Val {
        Val::Result(Err(Some(Box::new(value))))
    }

    /// `err(message)` of a `result<T, string>`.
    pub fn err_string(message: impl Into<String>) -> Val {
        err(Val::String(message.into()))
    }

    /// A record from `(field, value)` pairs, in the WIT's field order.
    pub fn record<const N: usize>(fields: [(&str, Val); N]) -> Val {
        Val::Record(
            fields
                .into_iter()
                .map(|(name, value)| (name.to_owned(), value))
                .collect(),
        )
    }

    /// An enum case.
    pub fn case(name: &str) -> Val {
        Val::Enum(name.to_owned())
    }
}
