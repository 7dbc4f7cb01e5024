//! The `invoke` toy: a child calls another installed child — composition
//! instead of a shell.
//!
//! This module holds the policy, which no backend can loosen: the callee must
//! be named by an `invoke:NAME` grant of the caller, a child never calls itself
//! or a child already on the call chain, and chains nest at most
//! [`MAX_DEPTH`] deep. Running the callee is the [`Invoker`]'s job (a Mother
//! runs it with the grants it was installed with, never the caller's, and
//! records its receipt). This module must never hand the caller's grants,
//! state or identity to the callee.

mod error;

use std::sync::{Arc, OnceLock, Weak};

use std::time::{Duration, Instant};

use patina_core::{ChildId, Grant, GrantError, Limits, ToyName};
use wasmtime::component::Val;

use patina_toy::{Args, vals};
use patina_toy::{Toy, ToyContext, ToyError, ToyInstance};

pub use error::InvokeError;

/// Deepest chain of nested `invoke` calls (the first caller is depth 1).
pub const MAX_DEPTH: usize = 4;

/// What a caller asks of a callee.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Invocation {
    /// A typed call of an export, in WAVE (`greet("ann")`).
    Call(String),
    /// A typed call of `function` with its arguments as a JSON array; the
    /// answer's value is the results as JSON text.
    CallJson {
        /// The function (as `mother run` names it).
        function: String,
        /// The arguments, a JSON array as text (parsed by the invoker).
        args: String,
    },
    /// A `wasi:cli/command` run with these arguments.
    Run(Vec<String>),
}

/// One call through the `invoke` toy, as the [`Invoker`] receives it.
#[derive(Clone, Debug)]
pub struct InvokeRequest {
    /// The callee, already resolved.
    pub callee: ChildId,
    /// The name the caller used (granted with `invoke:NAME`).
    pub name: String,
    /// The chain that led here, outermost first, ending with the caller.
    /// The callee's run must carry it on (as its `invoked_by`).
    pub chain: Vec<ChildId>,
    /// What to do.
    pub invocation: Invocation,
    /// The callee's limits, as its run records them: never more fuel,
    /// memory, output or time than the caller's own (the smaller of those
    /// and the defaults), so the same call gets the same limits from any
    /// caller.
    pub limits: Limits,
    /// When the callee must stop whatever its limits say: the caller's
    /// deadline, less a margin for recording the callee's run. Not part of
    /// the callee's record (it depends on when the call was made).
    pub deadline: Instant,
}

/// What the callee's run gave back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InvokeAnswer {
    /// A typed call returned.
    Called {
        /// The results in WAVE (JSON text for [`Invocation::CallJson`]).
        value: String,
        /// The callee's receipt id, when its run was recorded.
        receipt: Option<String>,
    },
    /// A command run ended.
    Ran {
        /// Its exit status.
        exit_code: u32,
        /// What it wrote.
        stdout: Vec<u8>,
        /// What it wrote.
        stderr: Vec<u8>,
        /// The callee's receipt id, when its run was recorded.
        receipt: Option<String>,
    },
}

/// Runs callees for the `invoke` toy: resolves names of installed children
/// and runs them under their own grants. `Err`, displayed, is the message the
/// caller gets as its `err` answer (a refused or failed run).
#[async_trait::async_trait]
pub trait Invoker: Send + Sync {
    /// The installed child called `name` (async: finding it may read a
    /// store, which must stay off the async runtime's threads).
    async fn resolve(&self, name: &str) -> Result<ChildId, InvokeError>;

    /// Runs `request.callee` as asked.
    async fn invoke(&self, request: InvokeRequest) -> Result<InvokeAnswer, InvokeError>;
}

/// Where an [`InvokeToy`] finds its [`Invoker`], set once after the host that
/// runs callees exists (the invoker usually owns that host, which owns the
/// toy: the slot holds it weakly, so there is no reference cycle).
#[derive(Clone, Default)]
pub struct InvokerSlot(Arc<OnceLock<Weak<dyn Invoker>>>);

impl InvokerSlot {
    /// An empty slot: calls answer `err` until [`InvokerSlot::set`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Points the slot at `invoker` (only the first call has an effect).
    pub fn set(&self, invoker: Weak<dyn Invoker>) {
        let _ = self.0.set(invoker);
    }

    fn get(&self) -> Option<Arc<dyn Invoker>> {
        self.0.get().and_then(Weak::upgrade)
    }
}

/// The `invoke` toy.
pub struct InvokeToy {
    interface: ToyName,
    slot: InvokerSlot,
}

impl InvokeToy {
    /// A toy that runs callees through the invoker `slot` will hold.
    pub fn new(slot: InvokerSlot) -> Self {
        Self {
            interface: patina_toy::patina_interface("invoke"),
            slot,
        }
    }
}

use patina_core::is_valid_child_name as valid_name;

impl Toy for InvokeToy {
    fn interface(&self) -> &ToyName {
        &self.interface
    }

    fn grant_kind(&self) -> &str {
        "invoke"
    }

    fn summary(&self) -> &str {
        "call the installed child NAME (`invoke:NAME`), which runs with its own grants"
    }

    fn functions(&self) -> &[&str] {
        &["call", "call-json", "run"]
    }

    fn canonicalize(&self, grant: &Grant) -> Result<Grant, GrantError> {
        match grant.scope() {
            Some(name) if valid_name(name) => Ok(grant.clone()),
            Some(name) => Err(grant.scope_error(format!(
                "`{name}` is not a child name (letters, digits, `-`, `_`, `.`)"
            ))),
            None => Err(grant.scope_error("`invoke` needs the child it may call: `invoke:NAME`")),
        }
    }

    fn combine(&self, _grants: &[Grant]) -> Result<(), GrantError> {
        Ok(())
    }

    fn instantiate(&self, ctx: &ToyContext) -> Result<Box<dyn ToyInstance>, ToyError> {
        let mut chain = ctx.invoked_by.clone();
        chain.push(ctx.child);
        Ok(Box::new(InvokeInstance {
            limits: ctx.limits,
            deadline: ctx.deadline,
            slot: self.slot.clone(),
            names: ctx
                .grants
                .iter()
                .filter_map(|g| g.scope().map(str::to_owned))
                .collect(),
            chain,
        }))
    }
}

/// Time kept back from a callee's deadline so that its run can be recorded
/// before the caller's own deadline passes.
const RECORDING_MARGIN: Duration = Duration::from_millis(100);

struct InvokeInstance {
    limits: Limits,
    deadline: Instant,
    slot: InvokerSlot,
    names: Vec<String>,
    chain: Vec<ChildId>,
}

impl InvokeInstance {
    /// The policy: granted name, depth, no cycles.
    async fn admit(&self, invoker: &dyn Invoker, name: &str) -> Result<ChildId, InvokeError> {
        if !self.names.iter().any(|granted| granted == name) {
            return Err(InvokeError::NotGranted { name: name.into() });
        }
        if self.chain.len() >= MAX_DEPTH {
            return Err(InvokeError::TooDeep {
                max: MAX_DEPTH,
                depth: self.chain.len() + 1,
            });
        }
        let callee = invoker.resolve(name).await?;
        if self.chain.last() == Some(&callee) {
            return Err(InvokeError::SelfCall { name: name.into() });
        }
        if self.chain.contains(&callee) {
            return Err(InvokeError::Cycle {
                name: name.into(),
                callee: callee.to_string(),
            });
        }
        Ok(callee)
    }
}

fn answer_value(answer: InvokeAnswer) -> Val {
    let receipt = |r: Option<String>| vals::option(r.map(vals::string));
    match answer {
        InvokeAnswer::Called { value, receipt: r } => vals::ok(Some(vals::record([
            ("value", vals::string(value)),
            ("receipt", receipt(r)),
        ]))),
        InvokeAnswer::Ran {
            exit_code,
            stdout,
            stderr,
            receipt: r,
        } => vals::ok(Some(vals::record([
            ("exit-code", Val::U32(exit_code)),
            ("stdout", vals::bytes(&stdout)),
            ("stderr", vals::bytes(&stderr)),
            ("receipt", receipt(r)),
        ]))),
    }
}

/// The `failure` record `call-json` answers a refusal with.
fn failure_value(error: &InvokeError) -> Val {
    vals::err(vals::record([
        ("kind", vals::string(error.kind().to_owned())),
        ("message", vals::string(error.to_string())),
    ]))
}

#[async_trait::async_trait]
impl ToyInstance for InvokeInstance {
    async fn call(&mut self, function: &str, args: &[Val]) -> Result<Vec<Val>, ToyError> {
        let (name, invocation) = match function {
            "call" => {
                let args = Args::new(function, args, 2)?;
                (
                    args.string(0)?.to_owned(),
                    Invocation::Call(args.string(1)?.to_owned()),
                )
            }
            "call-json" => {
                let args = Args::new(function, args, 3)?;
                let invocation = Invocation::CallJson {
                    function: args.string(1)?.to_owned(),
                    args: args.string(2)?.to_owned(),
                };
                (args.string(0)?.to_owned(), invocation)
            }
            "run" => {
                let args = Args::new(function, args, 2)?;
                let run = args.strings(1)?.into_iter().map(str::to_owned).collect();
                (args.string(0)?.to_owned(), Invocation::Run(run))
            }
            other => {
                return Err(ToyError::NoSuchFunction {
                    toy: "patina:toys/invoke".into(),
                    function: other.into(),
                });
            }
        };
        // `call-json` answers with a `failure` record, the others with text.
        let refuse = |error: InvokeError| match function {
            "call-json" => failure_value(&error),
            _ => vals::err_string(error.to_string()),
        };
        Ok(vec![match self.invoke(&name, invocation).await {
            Ok(answer) => answer_value(answer),
            Err(error) => refuse(error),
        }])
    }
}

impl InvokeInstance {
    /// Admits and runs one invocation of the child granted as `name`.
    async fn invoke(
        &self,
        name: &str,
        invocation: Invocation,
    ) -> Result<InvokeAnswer, InvokeError> {
        let invoker = self.slot.get().ok_or(InvokeError::NoInvoker)?;
        let callee = self.admit(invoker.as_ref(), name).await?;
        let deadline = self
            .deadline
            .checked_sub(RECORDING_MARGIN)
            .unwrap_or(self.deadline);
        if deadline <= Instant::now() {
            return Err(InvokeError::NoTimeLeft { name: name.into() });
        }
        let defaults = Limits::default();
        let limits = Limits {
            fuel: defaults.fuel.min(self.limits.fuel),
            timeout: defaults.timeout.min(self.limits.timeout),
            memory: defaults.memory.min(self.limits.memory),
            output: defaults.output.min(self.limits.output),
        };
        tracing::info!(caller = %self.chain.last().map(ToString::to_string).unwrap_or_default(), %callee, name, "invoke");
        let request = InvokeRequest {
            callee,
            name: name.to_owned(),
            chain: self.chain.clone(),
            invocation,
            limits,
            deadline,
        };
        invoker.invoke(request).await
    }
}

#[cfg(test)]
mod tests;

/// `functions()` serves exactly the functions of `wit/invoke.wit`, each reading
/// the WIT's number of parameters.
#[cfg(test)]
#[tokio::test]
async fn functions_match_the_wit() {
    let toy = InvokeToy::new(InvokerSlot::new());
    let grants = vec!["invoke:a".parse().unwrap()];
    let wit = include_str!("../wit/invoke.wit");
    patina_toy::wit::check_toy(&toy, "invoke.wit", wit, grants)
        .await
        .unwrap();
}
