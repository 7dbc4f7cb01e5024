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
    /// The callee's limits: never more fuel, memory or output than the
    /// caller's own, and a deadline before the caller's (what is left of its
    /// time, less a margin for recording the callee's run).
    pub limits: Limits,
}

/// What the callee's run gave back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InvokeAnswer {
    /// A typed call returned.
    Called {
        /// The results in WAVE.
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
        &["call", "run"]
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

#[async_trait::async_trait]
impl ToyInstance for InvokeInstance {
    async fn call(&mut self, function: &str, args: &[Val]) -> Result<Vec<Val>, ToyError> {
        let args = Args::new(function, args, 2)?;
        let name = args.string(0)?;
        let invocation = match function {
            "call" => Invocation::Call(args.string(1)?.to_owned()),
            "run" => Invocation::Run(args.strings(1)?.into_iter().map(str::to_owned).collect()),
            other => {
                return Err(ToyError::NoSuchFunction {
                    toy: "patina:toys/invoke".into(),
                    function: other.into(),
                });
            }
        };
        let Some(invoker) = self.slot.get() else {
            return Ok(vec![vals::err_string(InvokeError::NoInvoker.to_string())]);
        };
        let callee = match self.admit(invoker.as_ref(), name).await {
            Ok(callee) => callee,
            Err(refusal) => return Ok(vec![vals::err_string(refusal.to_string())]),
        };
        let left = self
            .deadline
            .saturating_duration_since(Instant::now())
            .saturating_sub(RECORDING_MARGIN);
        // Whole milliseconds, as limits are recorded.
        let left = Duration::from_millis(u64::try_from(left.as_millis()).unwrap_or(u64::MAX));
        if left.is_zero() {
            let refusal = InvokeError::NoTimeLeft { name: name.into() };
            return Ok(vec![vals::err_string(refusal.to_string())]);
        }
        let defaults = Limits::default();
        let limits = Limits {
            fuel: defaults.fuel.min(self.limits.fuel),
            timeout: defaults.timeout.min(left),
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
        };
        Ok(vec![match invoker.invoke(request).await {
            Ok(answer) => answer_value(answer),
            Err(error) => vals::err_string(error.to_string()),
        }])
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// Answers every call with the request it got, so the tests see what
    /// the policy let through.
    struct Recording {
        ids: Vec<(String, ChildId)>,
        seen: Mutex<Vec<InvokeRequest>>,
    }

    #[async_trait::async_trait]
    impl Invoker for Recording {
        async fn resolve(&self, name: &str) -> Result<ChildId, InvokeError> {
            self.ids
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, id)| *id)
                .ok_or_else(|| InvokeError::NotInstalled { name: name.into() })
        }

        async fn invoke(&self, request: InvokeRequest) -> Result<InvokeAnswer, InvokeError> {
            self.seen.lock().unwrap().push(request);
            Ok(InvokeAnswer::Called {
                value: "\"ok\"".into(),
                receipt: Some("b3:r".into()),
            })
        }
    }

    fn setup(
        grants: &[&str],
        caller: ChildId,
        invoked_by: Vec<ChildId>,
    ) -> (Arc<Recording>, Box<dyn ToyInstance>) {
        let invoker = Arc::new(Recording {
            ids: vec![
                ("a".into(), ChildId::of(b"a")),
                ("b".into(), ChildId::of(b"b")),
                ("self-alias".into(), caller),
            ],
            seen: Mutex::default(),
        });
        let slot = InvokerSlot::new();
        let weak: Weak<dyn Invoker> = Arc::downgrade(&(invoker.clone() as Arc<dyn Invoker>));
        slot.set(weak);
        let toy = InvokeToy::new(slot);
        let grants = grants
            .iter()
            .map(|g| toy.canonicalize(&g.parse().unwrap()).unwrap())
            .collect();
        let mut ctx = ToyContext::new(caller, grants);
        ctx.invoked_by = invoked_by;
        let instance = toy.instantiate(&ctx).unwrap();
        (invoker, instance)
    }

    async fn call(instance: &mut Box<dyn ToyInstance>, name: &str) -> Val {
        let args = [Val::String(name.into()), Val::String("f()".into())];
        instance.call("call", &args).await.unwrap().remove(0)
    }

    fn refusal(value: &Val) -> Option<&str> {
        match value {
            Val::Result(Err(Some(message))) => match message.as_ref() {
                Val::String(text) => Some(text),
                _ => None,
            },
            _ => None,
        }
    }

    #[tokio::test]
    async fn a_granted_callee_gets_the_chain_and_the_call() {
        let me = ChildId::of(b"me");
        let (invoker, mut toy) = setup(&["invoke:a"], me, vec![]);
        let answer = call(&mut toy, "a").await;
        assert!(matches!(answer, Val::Result(Ok(Some(_)))), "{answer:?}");
        let seen = invoker.seen.lock().unwrap();
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].callee, ChildId::of(b"a"));
        assert_eq!(seen[0].chain, vec![me]);
        assert_eq!(seen[0].invocation, Invocation::Call("f()".into()));
    }

    #[tokio::test]
    async fn names_that_are_not_granted_are_refused_before_the_invoker_runs() {
        let (invoker, mut toy) = setup(&["invoke:a"], ChildId::of(b"me"), vec![]);
        let answer = call(&mut toy, "b").await;
        assert!(
            refusal(&answer).unwrap().contains("not granted"),
            "{answer:?}"
        );
        assert!(invoker.seen.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_child_cannot_invoke_itself_even_under_another_name() {
        let me = ChildId::of(b"me");
        let (invoker, mut toy) = setup(&["invoke:self-alias"], me, vec![]);
        let answer = call(&mut toy, "self-alias").await;
        assert!(refusal(&answer).unwrap().contains("itself"), "{answer:?}");
        assert!(invoker.seen.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn cycles_and_deep_chains_are_refused() {
        let me = ChildId::of(b"me");
        let (invoker, mut toy) = setup(&["invoke:a"], me, vec![ChildId::of(b"a")]);
        let answer = call(&mut toy, "a").await;
        assert!(
            refusal(&answer).unwrap().contains("call chain"),
            "{answer:?}"
        );
        let deep = vec![ChildId::of(b"x"), ChildId::of(b"y"), ChildId::of(b"z")];
        let (deep_invoker, mut toy) = setup(&["invoke:b"], me, deep);
        let answer = call(&mut toy, "b").await;
        assert!(refusal(&answer).unwrap().contains("deep"), "{answer:?}");
        assert!(invoker.seen.lock().unwrap().is_empty());
        assert!(deep_invoker.seen.lock().unwrap().is_empty());
    }

    #[test]
    fn grants_name_a_child() {
        let toy = InvokeToy::new(InvokerSlot::new());
        let bare = toy.canonicalize(&"invoke".parse().unwrap()).unwrap_err();
        assert!(bare.to_string().contains("needs the child"), "{bare}");
        let path = toy
            .canonicalize(&"invoke:../x".parse().unwrap())
            .unwrap_err();
        assert!(path.to_string().contains("is not a child name"), "{path}");
        assert!(
            toy.canonicalize(&"invoke:git-status".parse().unwrap())
                .is_ok()
        );
    }

    #[tokio::test]
    async fn without_an_invoker_calls_are_refused() {
        let toy = InvokeToy::new(InvokerSlot::new());
        let ctx = ToyContext::new(ChildId::of(b"me"), vec!["invoke:a".parse().unwrap()]);
        let mut instance = toy.instantiate(&ctx).unwrap();
        let answer = call(&mut instance, "a").await;
        assert!(
            refusal(&answer).is_some_and(|r| r.contains("no invoker")),
            "{answer:?}"
        );
    }
}

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
