//! [`Role`]: what a caller may do — methods, children, a grant ceiling, limit
//! ceilings, a receipt scope and a run rate — and the built-in roles. Deny by
//! default: a role grants nothing it does not name.

use super::*;

/// Every method of the membrane a role can list.
pub const METHODS: &[&str] = &[
    "runtime.install",
    "runtime.list",
    "runtime.describe",
    "runtime.run",
    "runtime.metrics",
    "receipts.get",
    "receipts.list",
    "receipts.verify",
    "receipts.export",
    "receipts.replay",
    "epoch.current",
    "epoch.watch",
    "network.peers",
    "network.find",
    "network.run",
    "network.push",
];

/// What the built-in `reader` may call (and `runner`, with install and run).
const READER_METHODS: &[&str] = &[
    "runtime.list",
    "runtime.describe",
    "receipts.get",
    "receipts.list",
    "receipts.verify",
    "receipts.export",
    "epoch.current",
    "epoch.watch",
];

/// A role's method set from method names.
fn methods<'a>(names: impl IntoIterator<Item = &'a &'a str>) -> BTreeSet<String> {
    names.into_iter().map(|m| (*m).to_owned()).collect()
}

/// The built-in roles, which a policy file cannot redefine.
pub const BUILT_IN: &[&str] = &["admin", "runner", "reader"];

/// The default role of an agent (`mother mcp`): built in, but a policy file
/// may define `[roles.agent]` to name the children its agents may run.
pub const AGENT: &str = "agent";

/// What the built-in `agent` may call: see and run children, and the
/// receipts (get, verify, replay) of its own runs.
const AGENT_METHODS: &[&str] = &[
    "runtime.list",
    "runtime.describe",
    "runtime.run",
    "receipts.get",
    "receipts.list",
    "receipts.verify",
    "receipts.export",
    "receipts.replay",
    "epoch.current",
    "epoch.watch",
];

/// Which children a role may use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Children {
    /// Any child.
    Any,
    /// Only these names or ids (`b3:…`).
    Only(Vec<String>),
}

/// Whose receipts a role may read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReceiptScope {
    /// Every receipt.
    All,
    /// Only the receipts of runs this caller's key started through the membrane.
    Own,
}

/// The most a role's run may ask for; `None`: the host's maximum.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LimitCeiling {
    /// Fuel.
    pub fuel: Option<u64>,
    /// Deadline in milliseconds.
    pub timeout_ms: Option<u64>,
    /// Memory in bytes.
    pub memory: Option<u64>,
    /// The cap on captured stdout, and on captured stderr, in bytes each.
    pub output: Option<u64>,
}

impl LimitCeiling {
    /// Each limit of `limits` by name (as `limit-above-ceiling` names it),
    /// with its value there and this ceiling of it: the one table every
    /// check of limits against a role walks.
    pub fn pairs(&self, limits: &patina_core::Limits) -> [(&'static str, u64, Option<u64>); 4] {
        [
            ("fuel", limits.fuel, self.fuel),
            (
                "timeout_ms",
                u64::try_from(limits.timeout.as_millis()).unwrap_or(u64::MAX),
                self.timeout_ms,
            ),
            ("memory", limits.memory, self.memory),
            ("output", limits.output, self.output),
        ]
    }
}

/// A run rate: a token bucket per caller key.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rate {
    /// Sustained runs a second.
    pub per_second: f64,
    /// Runs at once after a quiet time.
    pub burst: u32,
}

/// A role: what a caller holding it may do.
#[derive(Clone, Debug, PartialEq)]
pub struct Role {
    /// Its name.
    pub name: String,
    /// The methods it may call (`runtime.run`, ...).
    pub methods: BTreeSet<String>,
    /// The children it may use.
    pub children: Children,
    /// The grant ceiling: every grant of a run must be at or below one of these.
    pub grants: Vec<Ceiling>,
    /// Grants above the ceiling that a person at the caller's client may
    /// approve for one run (MCP elicitation); the approval is recorded in
    /// the run's receipt. Empty: nothing can be approved.
    pub ask: Vec<Ceiling>,
    /// The limit ceilings.
    pub limits: LimitCeiling,
    /// Whose receipts it may read.
    pub receipts: ReceiptScope,
    /// Whether installs may name the child (and give install grants).
    pub install_names: bool,
    /// Whether its runs may be live (`mode = live`): no transcript, no
    /// receipt, so nothing on this Mother records what the caller ran.
    /// Deny by default: a role runs recorded unless it says `live = true`.
    pub live: bool,
    /// The run rate, if bounded.
    pub rate: Option<Rate>,
}

impl Role {
    /// Whether the role includes `method`.
    pub fn allows(&self, method: &str) -> bool {
        self.methods.contains(method)
    }

    /// `admin`: every method, any child, any grant, no ceilings.
    pub fn admin() -> Self {
        Self {
            name: "admin".into(),
            methods: methods(METHODS),
            children: Children::Any,
            grants: vec![Ceiling::Any],
            ask: Vec::new(),
            limits: LimitCeiling::default(),
            receipts: ReceiptScope::All,
            install_names: true,
            live: true,
            rate: None,
        }
    }

    /// `runner`: run any child (bytes it offers are stored by digest first)
    /// with no grant but `log`, at default limits, recorded (never live);
    /// the receipts of its own runs.
    pub fn runner() -> Self {
        let defaults = patina_core::Limits::default();
        Self {
            name: "runner".into(),
            methods: methods(
                READER_METHODS
                    .iter()
                    .chain(&["runtime.install", "runtime.run"]),
            ),
            children: Children::Any,
            // A literal that parses; were it ever not to, no grant (never `Any`).
            grants: Ceiling::parse("log").into_iter().collect(),
            ask: Vec::new(),
            limits: LimitCeiling {
                fuel: Some(defaults.fuel),
                timeout_ms: Some(u64::try_from(defaults.timeout.as_millis()).unwrap_or(u64::MAX)),
                memory: Some(defaults.memory),
                output: Some(defaults.output),
            },
            receipts: ReceiptScope::Own,
            install_names: false,
            live: false,
            rate: None,
        }
    }

    /// `agent` (unless a policy file defines `[roles.agent]`): list and
    /// describe children, run none of them (the file names the ones it may
    /// run), with no grant at all, at the default limits; the receipts of
    /// its own runs. It can never install, and no method takes a role or a
    /// grant ceiling, so it can never widen itself.
    pub fn agent() -> Self {
        let runner = Self::runner();
        Self {
            name: AGENT.into(),
            methods: methods(AGENT_METHODS),
            children: Children::Only(Vec::new()),
            grants: Vec::new(),
            ask: Vec::new(),
            limits: runner.limits,
            receipts: ReceiptScope::Own,
            install_names: false,
            live: false,
            rate: None,
        }
    }

    /// `reader`: list, describe, every receipt and the Mother's metrics
    /// (a monitoring token's role); no run, no install.
    pub fn reader() -> Self {
        Self {
            name: "reader".into(),
            methods: methods(READER_METHODS.iter().chain(&["runtime.metrics"])),
            children: Children::Any,
            grants: Vec::new(),
            ask: Vec::new(),
            limits: LimitCeiling::default(),
            receipts: ReceiptScope::All,
            install_names: false,
            live: false,
            rate: None,
        }
    }

    /// What the role may do, as JSON (`mother policy explain`, `Membrane.explain`).
    pub fn explain(&self) -> serde_json::Value {
        serde_json::json!({
            "role": self.name,
            "methods": self.methods,
            "children": match &self.children {
                Children::Any => serde_json::json!("*"),
                Children::Only(list) => serde_json::json!(list),
            },
            "grants": self.grants.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "ask": self.ask.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "limits": {
                "fuel": self.limits.fuel,
                "timeout_ms": self.limits.timeout_ms,
                "memory": self.limits.memory,
                "output": self.limits.output,
            },
            "receipts": match self.receipts { ReceiptScope::All => "all", ReceiptScope::Own => "own" },
            "install_names": self.install_names,
            "live": self.live,
            "rate": self.rate.map(|r| serde_json::json!({"runs_per_second": r.per_second, "burst": r.burst})),
        })
    }

    /// Whether a person may approve `grant` for one run of this role.
    pub fn may_ask(&self, grant: &Grant) -> bool {
        self.ask.iter().any(|ceiling| ceiling.allows(grant))
    }

    /// Checks `grant` against the ceiling; the error names the grant and the
    /// ceiling, and says when a person could approve it for one run
    /// ([`crate::MembraneError::ApprovalRequired`]).
    pub fn check_grant(&self, grant: &Grant) -> Result<(), crate::MembraneError> {
        self.admit_grant(grant, false).map(|_| ())
    }

    /// `grant` in the form it was checked in and must be run with (a path
    /// grant's path resolved once: [`crate::ceiling::checked_form`]), when
    /// the ceiling allows that form, or when a person `approved` it and the
    /// role's `ask` list allows it; with whether it rests on that approval.
    /// Else the error of [`Self::check_grant`].
    pub fn admit_grant(
        &self,
        grant: &Grant,
        approved: bool,
    ) -> Result<(Grant, bool), crate::MembraneError> {
        let checked = crate::ceiling::checked_form(grant);
        let within = |list: &[Ceiling]| {
            list.iter()
                .any(|ceiling| ceiling.allows_form(grant, checked.as_ref()))
        };
        // A grant no path ceiling could check (`*`, `KIND:*` took it) goes
        // as it was asked.
        let form = || checked.clone().unwrap_or_else(|| grant.clone());
        if within(&self.grants) {
            return Ok((form(), false));
        }
        if within(&self.ask) {
            if approved {
                return Ok((form(), true));
            }
            return Err(crate::MembraneError::ApprovalRequired {
                grant: grant.to_string(),
                role: self.name.clone(),
            });
        }
        let ceiling = if self.grants.is_empty() {
            "no grants".to_owned()
        } else {
            self.grants
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        Err(crate::MembraneError::GrantAboveCeiling {
            grant: grant.to_string(),
            role: self.name.clone(),
            ceiling,
        })
    }
}
