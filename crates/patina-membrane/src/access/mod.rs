//! [`Access`]: one caller's attenuated view of a Mother — who it is (its
//! [`Principal`]), the role the policy gave it, the epoch it was issued
//! under and the door it came through — and the checks every one of its
//! calls passes. **This is where a caller's authority is decided**: the Cap'n
//! Proto capabilities (Unix socket, libp2p peers) and the in-process doors
//! (HTTP bridge, MCP) all call these methods and nothing below them.
//!
//! An `Access` is `Send + Sync + Clone`, so doors whose frameworks want
//! `Send` futures use it directly. It has no method that changes its role,
//! principal or epoch: a narrowed view can never be widened; after the
//! epoch advances every call fails with `stale-epoch`.
//!
//! Here: the gate and the checks; the operations are in `ops`, the
//! network methods in `network`, fetching a missing child in `fetch`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use patina_core::{ChildId, Grant};
use patina_mother::{ModeSpec, Mother, MotherError, RunSpec};
use patina_receipts::{Approval, Attribution, Caller, Receipt, ReceiptError};

use crate::MembraneError;
use crate::policy::{Children, ReceiptScope, Role};
use crate::principal::Principal;
use crate::shared::{Bucket, Shared};

mod fetch;
mod network;
mod ops;

pub use ops::{MAX_LISTED_RECEIPTS, Metrics};

/// One caller's attenuated access to a Mother. Cheap to clone.
#[derive(Clone)]
pub struct Access {
    inner: Arc<Inner>,
}

struct Inner {
    principal: Principal,
    role: Arc<Role>,
    epoch: u64,
    door: String,
    shared: Arc<Shared>,
    /// Runs and replays in flight: of this access (a login), or of every
    /// access of the same token (an HTTP door makes one per request).
    runs: Arc<AtomicUsize>,
}

impl std::fmt::Debug for Access {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Access")
            .field("principal", &self.inner.principal)
            .field("role", &self.inner.role.name)
            .field("epoch", &self.inner.epoch)
            .field("door", &self.inner.door)
            .finish()
    }
}

impl Access {
    /// An access under `role`, issued at `epoch`. The caller reads the
    /// epoch **before** it looks the role up: a policy is replaced before
    /// the epoch advances, so a role read from the old policy always
    /// carries an epoch that the advance makes stale.
    pub(crate) fn new(
        shared: Arc<Shared>,
        epoch: u64,
        principal: Principal,
        role: Arc<Role>,
        door: &str,
    ) -> Self {
        Self::with_runs(shared, epoch, principal, role, door, Arc::default())
    }

    /// An access whose runs in flight are counted in `runs` (shared by
    /// every access of one token); `epoch` as for [`Self::new`].
    pub(crate) fn with_runs(
        shared: Arc<Shared>,
        epoch: u64,
        principal: Principal,
        role: Arc<Role>,
        door: &str,
        runs: Arc<AtomicUsize>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                principal,
                role,
                epoch,
                door: door.to_owned(),
                shared,
                runs,
            }),
        }
    }

    /// Who is calling.
    pub fn principal(&self) -> &Principal {
        &self.inner.principal
    }

    /// The role the policy gave it.
    pub fn role(&self) -> &Role {
        &self.inner.role
    }

    /// The epoch this access was issued under.
    pub fn epoch(&self) -> u64 {
        self.inner.epoch
    }

    /// The door it came through (`socket`, `peer`, `http`, `mcp`, ...).
    pub fn door(&self) -> &str {
        &self.inner.door
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.inner.shared
    }

    pub(crate) fn mother(&self) -> &Mother {
        &self.inner.shared.mother
    }

    /// Whether this access is still good: its epoch is the Mother's.
    pub fn check_epoch(&self) -> Result<(), MembraneError> {
        self.inner.shared.epoch.check(self.inner.epoch)
    }

    /// The check of every call: the epoch, then the method.
    pub fn gate(&self, method: &str) -> Result<(), MembraneError> {
        self.check_epoch()?;
        if self.inner.role.allows(method) {
            Ok(())
        } else {
            Err(MembraneError::Denied {
                role: self.inner.role.name.clone(),
                method: method.to_owned(),
            })
        }
    }

    /// Whether the role has any method of `interface` (`runtime`, ...).
    pub fn has_interface(&self, interface: &str) -> bool {
        self.inner
            .role
            .methods
            .iter()
            .any(|m| m.split_once('.').is_some_and(|(i, _)| i == interface))
    }

    /// What the caller may do, as JSON (`mother policy explain`'s shape,
    /// with the caller, door and epoch).
    pub fn explain(&self) -> Result<serde_json::Value, MembraneError> {
        self.check_epoch()?;
        let mut value = self.inner.role.explain();
        value["caller"] = serde_json::json!(self.inner.principal.to_string());
        value["door"] = serde_json::json!(self.inner.door);
        value["epoch"] = serde_json::json!(self.inner.epoch);
        Ok(value)
    }

    pub(crate) fn span(&self, method: &'static str) -> tracing::Span {
        tracing::info_span!(
            "call",
            method,
            caller = %self.inner.principal,
            role = %self.inner.role.name,
            door = %self.inner.door,
        )
    }

    /// What a receipt of this caller's run says about who asked.
    pub(crate) fn attribution(&self, approvals: Vec<Approval>) -> Attribution {
        Attribution {
            caller: Some(Caller {
                id: self.inner.principal.to_string(),
                role: self.inner.role.name.clone(),
                door: self.inner.door.clone(),
            }),
            approvals,
        }
    }

    /// Runs the Mother's `work` on the Mother's multi-thread runtime.
    pub(crate) async fn on_mother<T, F>(&self, work: F) -> Result<T, MembraneError>
    where
        T: Send + 'static,
        F: Future<Output = Result<T, MotherError>> + Send + 'static,
    {
        use tracing::Instrument;
        self.inner
            .shared
            .runtime
            .spawn(work.in_current_span())
            .await
            .map_err(|e| MembraneError::Mother(MotherError::Task(e.to_string())))?
            .map_err(MembraneError::Mother)
    }

    /// Blocking `work` on the Mother, off every async thread.
    pub(crate) async fn blocking<T, F>(&self, work: F) -> Result<T, MembraneError>
    where
        T: Send + 'static,
        F: FnOnce(&Mother) -> Result<T, MembraneError> + Send + 'static,
    {
        let mother = self.inner.shared.mother.clone();
        let span = tracing::Span::current();
        self.inner
            .shared
            .runtime
            .spawn_blocking(move || span.in_scope(|| work(&mother)))
            .await
            .map_err(|e| MembraneError::Mother(MotherError::Task(e.to_string())))?
    }

    /// `error` without the ids an ambiguous prefix matched, for a role that
    /// may not see every receipt (or every child): the list would name
    /// receipts and children of others.
    pub(crate) fn without_others(&self, error: MembraneError) -> MembraneError {
        const HIDDEN: &str = "not listed here (some may not be yours to see); give more of the id";
        let role = &self.inner.role;
        match error {
            MembraneError::Mother(MotherError::Receipt(ReceiptError::Ambiguous {
                prefix, ..
            })) if role.receipts == ReceiptScope::Own => {
                MembraneError::Mother(MotherError::Receipt(ReceiptError::Ambiguous {
                    prefix,
                    candidates: vec![HIDDEN.into()],
                }))
            }
            MembraneError::Mother(MotherError::AmbiguousChild { prefix, .. })
                if matches!(role.children, Children::Only(_)) =>
            {
                MembraneError::Mother(MotherError::AmbiguousChild {
                    prefix,
                    candidates: vec![HIDDEN.into()],
                })
            }
            other => other,
        }
    }

    /// The id of the child `reference` names, if the role may use it.
    pub(crate) async fn check_child(&self, reference: &str) -> Result<ChildId, MembraneError> {
        let allowed = match &self.inner.role.children {
            Children::Any => None,
            Children::Only(list) => Some(list.clone()),
        };
        let reference = reference.to_owned();
        let role = self.inner.role.name.clone();
        self.blocking(move |mother| {
            let id = mother.children().resolve(&reference)?;
            if let Some(list) = allowed {
                // An entry is an installed name or a full id, never an id
                // prefix: a prefix would let anyone who may install bytes
                // make their own child the one it matches.
                let ok = list
                    .iter()
                    .any(|entry| entry_names(mother, entry) == Some(id));
                if !ok {
                    return Err(MembraneError::ChildDenied {
                        role,
                        child: reference,
                    });
                }
            }
            Ok(id)
        })
        .await
        .map_err(|error| self.without_others(error))
    }

    /// Whether the role may see the child `id` (installed under `names`).
    pub fn may_see_child(&self, id: &ChildId, names: &[String]) -> bool {
        match &self.inner.role.children {
            Children::Any => true,
            Children::Only(list) => list
                .iter()
                .any(|entry| *entry == id.to_string() || names.contains(entry)),
        }
    }

    /// Whether this caller may read `receipt`: every receipt for a role
    /// whose scope is `all`, else only those whose header names it.
    pub(crate) fn check_receipt(&self, receipt: &Receipt) -> Result<(), MembraneError> {
        if self.inner.role.receipts == ReceiptScope::All || self.owns(receipt) {
            return Ok(());
        }
        Err(MembraneError::ReceiptDenied {
            role: self.inner.role.name.clone(),
            receipt: receipt.id.short().to_string(),
        })
    }

    fn owns(&self, receipt: &Receipt) -> bool {
        receipt
            .caller
            .as_ref()
            .is_some_and(|caller| caller.id == self.inner.principal.to_string())
    }

    /// A slot for one more run of this access, or `busy`.
    pub(crate) fn run_slot(&self) -> Result<RunSlot, MembraneError> {
        let max = self.inner.shared.config.max_runs_per_login;
        let now = self.inner.runs.fetch_add(1, Ordering::SeqCst);
        if now >= max {
            self.inner.runs.fetch_sub(1, Ordering::SeqCst);
            return Err(MembraneError::Busy(format!(
                "{now} runs of this caller are in flight"
            )));
        }
        Ok(RunSlot(self.inner.clone()))
    }

    /// One run against the role's rate (a token bucket per principal).
    pub(crate) fn check_rate(&self) -> Result<(), MembraneError> {
        let Some(rate) = self.inner.role.rate else {
            return Ok(());
        };
        let mut rates = self
            .inner
            .shared
            .rates
            .lock()
            .map_err(|_| MembraneError::Busy("rate table poisoned".into()))?;
        let now = Instant::now();
        let bucket = rates.entry(self.inner.principal.clone()).or_insert(Bucket {
            tokens: f64::from(rate.burst),
            at: now,
        });
        let refill = now.duration_since(bucket.at).as_secs_f64() * rate.per_second;
        bucket.tokens = (bucket.tokens + refill).min(f64::from(rate.burst));
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(MembraneError::RateLimited {
                role: self.inner.role.name.clone(),
                per_second: rate.per_second,
                burst: rate.burst,
            })
        }
    }

    /// Applies the role's ceilings to `spec`: every grant at or below the
    /// grant ceiling — or, for a grant in the role's `ask` list, approved
    /// in `approved` — and every limit at or below its ceiling (a limit
    /// left out becomes the lower of the default and the ceiling). Returns
    /// the approvals the run's receipt must carry.
    pub(crate) fn attenuate(
        &self,
        spec: &mut RunSpec,
        approved: &[Grant],
        by: &str,
    ) -> Result<Vec<Approval>, MembraneError> {
        let role = &self.inner.role;
        if spec.mode == ModeSpec::Live && !role.live {
            return Err(MembraneError::LiveDenied {
                role: role.name.clone(),
            });
        }
        for grant in approved {
            if !role.may_ask(grant) {
                return Err(MembraneError::NotApprovable {
                    grant: grant.to_string(),
                    role: role.name.clone(),
                });
            }
        }
        let mut approvals = Vec::new();
        let mut checked = Vec::new();
        for grant in patina_mother::parse_grants(&spec.grants)? {
            let (form, by_approval) = role.admit_grant(&grant, approved.contains(&grant))?;
            if by_approval {
                approvals.push(Approval {
                    grant: grant.to_string(),
                    by: by.to_owned(),
                });
            }
            checked.push(form.to_string());
        }
        // The run gets the grants as they were checked (paths resolved once),
        // and the host refuses any that no longer resolves to itself.
        spec.grants = checked;
        spec.grants_fixed = true;
        let asked = [
            &mut spec.limits.fuel,
            &mut spec.limits.timeout_ms,
            &mut spec.limits.memory,
            &mut spec.limits.output,
        ];
        let defaults = role.limits.pairs(&patina_core::Limits::default());
        for (asked, (limit, default, ceiling)) in asked.into_iter().zip(defaults) {
            let Some(ceiling) = ceiling else { continue };
            match *asked {
                Some(value) if value > ceiling => {
                    return Err(MembraneError::LimitAboveCeiling {
                        limit,
                        asked: value,
                        ceiling,
                        role: role.name.clone(),
                    });
                }
                Some(_) => {}
                None if default > ceiling => *asked = Some(ceiling),
                None => {}
            }
        }
        Ok(approvals)
    }

    /// Refuses limits (a receipt's, for a replay) above any of the role's
    /// ceilings; nothing is lowered, since a replay must run as recorded.
    pub(crate) fn check_recorded_limits(
        &self,
        limits: &patina_core::Limits,
    ) -> Result<(), MembraneError> {
        let role = &self.inner.role;
        for (limit, asked, ceiling) in role.limits.pairs(limits) {
            if let Some(ceiling) = ceiling
                && asked > ceiling
            {
                return Err(MembraneError::LimitAboveCeiling {
                    limit,
                    asked,
                    ceiling,
                    role: role.name.clone(),
                });
            }
        }
        Ok(())
    }
}

/// The child a role's `children` entry names: a full id, or the child an
/// installed name points at now. Never an id prefix: a prefix would let
/// anyone who may install bytes make their own child the one it matches.
pub(crate) fn entry_names(mother: &Mother, entry: &str) -> Option<ChildId> {
    match entry.parse::<ChildId>() {
        Ok(id) => Some(id),
        Err(_) => mother.children().named(entry).ok().flatten(),
    }
}

/// One run of an access in flight (released when its call ends).
pub(crate) struct RunSlot(Arc<Inner>);

impl Drop for RunSlot {
    fn drop(&mut self) {
        self.0.runs.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Counts a run in flight for graceful shutdown.
pub(crate) struct InFlight(Arc<Shared>);

impl InFlight {
    pub(crate) fn new(shared: &Arc<Shared>) -> Self {
        shared.in_flight.fetch_add(1, Ordering::SeqCst);
        Self(shared.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.0.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}
