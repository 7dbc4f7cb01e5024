//! `acme:counter/counter@1.0.0`, a toy written outside Patina's toy crates the
//! way a third party would: against `patina-toy` alone. `tests/all/third_party.rs`
//! grants it to children on a real host; `tests/third-party-toy/tests/deps.rs` proves that writing
//! it compiled none of the backends' crates.

use std::sync::atomic::{AtomicU32, Ordering};

use patina_toy::{Grant, GrantError, Toy, ToyContext, ToyError, ToyInstance, ToyName, Val};

/// The interface it serves.
pub const INTERFACE: &str = "acme:counter/counter@1.0.0";

/// The start value that makes a run's `finish` fail (to test that path).
pub const UNLUCKY: u32 = 13;

/// `acme:counter/counter@1.0.0`: `next: func() -> u32`, counting from the
/// grant's start value (`counter:10`), afresh for every run.
pub struct CounterToy {
    interface: ToyName,
    instances: AtomicU32,
}

impl CounterToy {
    /// The toy, serving `acme:counter/counter@1.0.0`.
    pub fn new() -> Self {
        Self {
            interface: INTERFACE
                .parse()
                .unwrap_or_else(|e| unreachable!("`{INTERFACE}` is a toy name: {e}")),
            instances: AtomicU32::new(0),
        }
    }

    /// How many runs it has served (instances made).
    pub fn instances(&self) -> u32 {
        self.instances.load(Ordering::SeqCst)
    }
}

impl Default for CounterToy {
    fn default() -> Self {
        Self::new()
    }
}

impl Toy for CounterToy {
    fn interface(&self) -> &ToyName {
        &self.interface
    }
    fn grant_kind(&self) -> &str {
        "counter"
    }
    fn summary(&self) -> &str {
        "a counter starting at the grant's value"
    }
    fn functions(&self) -> &[&str] {
        &["next"]
    }
    fn canonicalize(&self, grant: &Grant) -> Result<Grant, GrantError> {
        let start: u32 = grant
            .scope()
            .unwrap_or("0")
            .parse()
            .map_err(|_| grant.scope_error("start must be a u32"))?;
        grant.with_scope(Some(start.to_string()))
    }
    fn instantiate(&self, ctx: &ToyContext) -> Result<Box<dyn ToyInstance>, ToyError> {
        self.instances.fetch_add(1, Ordering::SeqCst);
        let start = ctx
            .grant()?
            .scope()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        Ok(Box::new(Counter {
            next: start,
            unlucky: start == UNLUCKY,
        }))
    }
}

struct Counter {
    next: u32,
    /// Started at [`UNLUCKY`]: fails to finish the run.
    unlucky: bool,
}

#[async_trait::async_trait]
impl ToyInstance for Counter {
    async fn call(&mut self, function: &str, args: &[Val]) -> Result<Vec<Val>, ToyError> {
        if function != "next" {
            return Err(ToyError::NoSuchFunction {
                toy: "acme:counter/counter".into(),
                function: function.into(),
            });
        }
        patina_toy::expect_arity(function, args, 0)?;
        let value = self.next;
        self.next = self.next.wrapping_add(1);
        Ok(vec![Val::U32(value)])
    }

    async fn finish(&mut self) -> Result<(), ToyError> {
        if self.unlucky {
            return Err(ToyError::Backend("the counter's ledger is full".into()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn functions_match_the_wit() {
        let toy = CounterToy::new();
        let wit = include_str!("../wit/counter.wit");
        let grants = vec!["counter:1".parse().unwrap()];
        let functions = patina_toy::wit::check_toy(&toy, "counter.wit", wit, grants)
            .await
            .unwrap();
        assert_eq!(functions[0].params, Vec::<String>::new());
        assert_eq!(functions[0].result.as_deref(), Some("u32"));
    }

    #[test]
    fn grants_are_canonical_start_values() {
        let toy = CounterToy::new();
        let grant = toy.canonicalize(&"counter:007".parse().unwrap()).unwrap();
        assert_eq!(grant.to_string(), "counter:7");
        let err = toy
            .canonicalize(&"counter:many".parse().unwrap())
            .unwrap_err();
        assert!(err.to_string().contains("start must be a u32"), "{err}");
    }
}
