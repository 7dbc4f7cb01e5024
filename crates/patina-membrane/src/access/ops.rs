//! What an [`Access`] can ask of the Mother: install, list, describe, run,
//! and the receipts — each gated (epoch, method, child, grant and limit
//! ceilings, rate, runs in flight) before the Mother sees it, and each in a
//! `tracing` span naming the caller. Every run is recorded with the caller
//! in its receipt's header.

use patina_core::{ChildId, Grant};
use patina_mother::{
    CallSpec, ChildRef, HttpCall, HttpOutput, Inspection, InstallSpec, Installed, InstalledChild,
    LimitsSpec, ReceiptRef, ReplayOutput, RunOutput, RunSpec, Verified,
};
use patina_receipts::store::ListFilter;
use patina_receipts::{Blob, Receipt};
use tracing::Instrument;

use super::fetch::RunChild;
use super::{Access, InFlight};

/// The most receipts one [`Access::receipts`] answers, whatever it is
/// asked (`None`, or a larger limit, means this many).
pub const MAX_LISTED_RECEIPTS: usize = 10_000;

/// What [`Access::metrics`] answers.
#[derive(Clone, Debug)]
pub struct Metrics {
    /// The counters of every run of the Mother's process.
    pub runs: patina_mother::RunStatsSnapshot,
    /// The `measure` metrics of the children the caller may see.
    pub children: Vec<patina_mother::MeasuredChild>,
}
use crate::MembraneError;
use crate::policy::{Children, ReceiptScope};

impl Access {
    /// Installs component bytes (stored by digest); a name and install
    /// grants only for a role that may name installs, each grant within the
    /// role's ceiling.
    pub async fn install(
        &self,
        bytes: Vec<u8>,
        name: Option<String>,
        grants: Vec<String>,
    ) -> Result<Installed, MembraneError> {
        async {
            self.gate("runtime.install")?;
            let role = self.role();
            if (name.is_some() || !grants.is_empty()) && !role.install_names {
                return Err(MembraneError::InstallNamed {
                    role: role.name.clone(),
                });
            }
            // A name is a child other callers (and `invoke:` grants) rely
            // on: a role limited to some children may point only those.
            if let (Some(name), Children::Only(list)) = (&name, &role.children)
                && !list.contains(name)
            {
                return Err(MembraneError::ChildDenied {
                    role: role.name.clone(),
                    child: name.clone(),
                });
            }
            // Stored in the form checked (paths resolved once), and
            // refused at install if that form moved since the check.
            let mut checked = Vec::new();
            for grant in patina_mother::parse_grants(&grants)? {
                checked.push(role.admit_grant(&grant, false)?.0.to_string());
            }
            let spec = InstallSpec {
                name,
                grants: checked,
            };
            let mother = self.mother().clone();
            self.on_mother(async move { mother.install_checked(bytes, spec).await })
                .await
        }
        .instrument(self.span("runtime.install"))
        .await
    }

    /// The installed children this caller may see.
    pub async fn list(&self) -> Result<Vec<InstalledChild>, MembraneError> {
        async {
            self.gate("runtime.list")?;
            let mother = self.mother().clone();
            let mut children = self.on_mother(async move { mother.list().await }).await?;
            children.retain(|child| self.may_see_child(&child.id, &child.names));
            Ok(children)
        }
        .instrument(self.span("runtime.list"))
        .await
    }

    /// A child's imports (with how this Mother serves each) and exports
    /// with WIT types and JSON Schemas.
    pub async fn describe(&self, child: &str) -> Result<Inspection, MembraneError> {
        async {
            self.gate("runtime.describe")?;
            let id = self.check_child(child).await?;
            let mother = self.mother().clone();
            self.on_mother(
                async move { mother.inspect(&ChildRef::Installed(id.to_string())).await },
            )
            .await
        }
        .instrument(self.span("runtime.describe"))
        .await
    }

    /// One recorded (or live) run of an installed child, within the role's
    /// ceilings; its receipt names this caller. A `b3:` id this Mother lacks
    /// is fetched through the attached network (and stored by digest) when
    /// the role may have it fetched, after every other check has passed.
    pub async fn run(&self, spec: RunSpec) -> Result<RunOutput, MembraneError> {
        self.run_approved(spec, &[], "").await
    }

    /// [`Self::run`] with grants a person approved for this one run
    /// (`approved`, each in the role's `ask` list), recorded in the receipt
    /// as approved `by` (e.g. `mcp-elicitation`). Only the in-process doors
    /// that asked a person offer this; no Cap'n Proto method does.
    pub async fn run_approved(
        &self,
        mut spec: RunSpec,
        approved: &[Grant],
        by: &str,
    ) -> Result<RunOutput, MembraneError> {
        async {
            self.gate("runtime.run")?;
            let ChildRef::Installed(reference) = &spec.child else {
                return Err(MembraneError::BadRequest(
                    "a run through the membrane names an installed child (install the bytes first)"
                        .into(),
                ));
            };
            let child = self.child_for_run(reference).await?;
            // The run names the child it was allowed by its id from here on.
            spec.child = ChildRef::Installed(child.id().to_string());
            let approvals = self.attenuate(&mut spec, approved, by)?;
            let _slot = self.run_slot()?;
            self.check_rate()?;
            // Fetched only once every check above has passed.
            if let RunChild::Fetch(id) = child {
                self.fetch_and_store(id).await?;
            }
            let mother = self.mother().clone();
            let attribution = self.attribution(approvals);
            let in_flight = InFlight::new(self.shared());
            // The run is one task on the Mother's runtime: a caller that
            // disconnects never cancels it, and its receipt is kept.
            let output = self
                .on_mother(async move {
                    let _in_flight = in_flight;
                    mother.run_as(spec, &attribution).await
                })
                .await?;
            tracing::info!(
                receipt = ?output.receipt.as_ref().map(|r| r.id.short().to_string()),
                "ran"
            );
            Ok(output)
        }
        .instrument(self.span("runtime.run"))
        .await
    }

    /// One HTTP request served by the bridge child `child` (a child that
    /// exports `wasi:http/incoming-handler`, mounted by an HTTP door), as a
    /// run of this caller: the same checks as [`Self::run`] (method
    /// `runtime.run`, the child, the grant and limit ceilings, rate, runs in
    /// flight), recorded with the caller in the receipt.
    pub async fn handle_http(
        &self,
        child: &str,
        request: HttpCall,
        grants: Vec<String>,
        limits: LimitsSpec,
    ) -> Result<HttpOutput, MembraneError> {
        async {
            self.gate("runtime.run")?;
            let id = self.check_child(child).await?;
            // The ceilings are checked on the run this request becomes.
            let mut spec = RunSpec::new(
                ChildRef::Installed(id.to_string()),
                CallSpec::Wave(String::new()),
            );
            spec.grants = grants;
            spec.limits = limits;
            let approvals = self.attenuate(&mut spec, &[], "")?;
            let _slot = self.run_slot()?;
            self.check_rate()?;
            let mother = self.mother().clone();
            let attribution = self.attribution(approvals);
            let in_flight = InFlight::new(self.shared());
            self.on_mother(async move {
                let _in_flight = in_flight;
                mother
                    .handle_http_as(
                        &spec.child,
                        request,
                        (&spec.grants, spec.grants_fixed),
                        spec.limits,
                        &attribution,
                    )
                    .await
            })
            .await
        }
        .instrument(self.span("runtime.http"))
        .await
    }

    async fn stored_receipt(
        &self,
        method: &'static str,
        id: String,
    ) -> Result<(Receipt, Vec<Blob>), MembraneError> {
        self.gate(method)?;
        let mother = self.mother().clone();
        let (receipt, blobs) = self
            .on_mother(async move { mother.receipt(&ReceiptRef::Stored(id)).await })
            .await
            .map_err(|error| self.without_others(error))?;
        self.check_receipt(&receipt)?;
        Ok((receipt, blobs))
    }

    /// A stored receipt (id or unique prefix) with its blobs.
    pub async fn receipt(&self, id: &str) -> Result<(Receipt, Vec<Blob>), MembraneError> {
        self.stored_receipt("receipts.get", id.to_owned())
            .instrument(self.span("receipts.get"))
            .await
    }

    /// = [`Self::receipt`], under the method `receipts.export`.
    pub async fn export(&self, id: &str) -> Result<(Receipt, Vec<Blob>), MembraneError> {
        self.stored_receipt("receipts.export", id.to_owned())
            .instrument(self.span("receipts.export"))
            .await
    }

    /// Receipts this caller may see, newest first: of the child `child`
    /// names, of the caller `caller` names, at most `limit` and never more
    /// than [`MAX_LISTED_RECEIPTS`] (`None`: that many).
    pub async fn receipts(
        &self,
        child: Option<String>,
        caller: Option<String>,
        limit: Option<usize>,
    ) -> Result<Vec<Receipt>, MembraneError> {
        async {
            self.gate("receipts.list")?;
            // The child named, as checked: its id, never the name resolved
            // a second time (it could point elsewhere by then).
            let child = match &child {
                Some(child) => Some(self.check_child(child).await?),
                None => None,
            };
            // A role that sees only its own receipts asks the store for
            // exactly those (by the caller its receipts name).
            let own = self.role().receipts == ReceiptScope::Own;
            let me = self.principal().to_string();
            let caller = match caller {
                Some(other) if own && other != me => {
                    return Err(MembraneError::ReceiptDenied {
                        role: self.role().name.clone(),
                        receipt: format!("receipts of {other}"),
                    });
                }
                _ if own => Some(me),
                caller => caller,
            };
            // Never more than MAX_LISTED_RECEIPTS, whatever was asked: the answer is
            // built in memory, and a list is no way to read a whole store.
            let limit = limit.map_or(MAX_LISTED_RECEIPTS, |asked| asked.min(MAX_LISTED_RECEIPTS));
            // A role kept to some children asks the store for theirs only,
            // never for the whole store to filter here.
            let entries = match (&self.role().children, child) {
                (Children::Only(entries), None) => Some(entries.clone()),
                _ => None,
            };
            let mut list = self
                .blocking(move |mother| {
                    let children = entries.map(|entries| {
                        let mut ids: Vec<ChildId> = entries
                            .iter()
                            .filter_map(|entry| super::entry_names(mother, entry))
                            .collect();
                        // A name and the id it points at are one child.
                        ids.sort();
                        ids.dedup();
                        ids
                    });
                    let filter = ListFilter {
                        child,
                        children,
                        caller,
                        limit: Some(limit),
                    };
                    mother
                        .receipts()
                        .list(&filter)
                        .map_err(|e| MembraneError::Mother(e.into()))
                })
                .await?;
            // At most `limit` already: the store answered that many.
            list.retain(|receipt| self.check_receipt(receipt).is_ok());
            Ok(list)
        }
        .instrument(self.span("receipts.list"))
        .await
    }

    /// Verifies a stored receipt: signature, hashes and chain link.
    pub async fn verify(&self, id: &str) -> Result<Verified, MembraneError> {
        async {
            self.gate("receipts.verify")?;
            let mother = self.mother().clone();
            let id = id.to_owned();
            let verified = self
                .on_mother(async move { mother.verify_receipt(&ReceiptRef::Stored(id)).await })
                .await
                .map_err(|error| self.without_others(error))?;
            self.check_receipt(&verified.receipt)?;
            Ok(verified)
        }
        .instrument(self.span("receipts.verify"))
        .await
    }

    /// Replays a stored receipt this caller may see.
    pub async fn replay(&self, id: &str) -> Result<ReplayOutput, MembraneError> {
        async {
            self.gate("receipts.replay")?;
            let (receipt, _) = self
                .stored_receipt("receipts.replay", id.to_owned())
                .await?;
            // A replay runs the receipt's child at the receipt's limits: both
            // must be within this caller's role, as for a run of its own.
            self.check_child(&receipt.transcript.child.to_string())
                .await?;
            self.check_recorded_limits(&receipt.transcript.call.limits)?;
            let _slot = self.run_slot()?;
            // A replay runs the child again: it counts against the rate too.
            self.check_rate()?;
            let in_flight = InFlight::new(self.shared());
            let mother = self.mother().clone();
            let id = receipt.id.to_string();
            self.on_mother(async move {
                let _in_flight = in_flight;
                mother.replay(&ReceiptRef::Stored(id)).await
            })
            .await
        }
        .instrument(self.span("receipts.replay"))
        .await
    }

    /// The Mother's metrics: the counters of every run (whatever door
    /// asked for it) and what the children this caller may see measured
    /// with the `measure` toy.
    pub async fn metrics(&self) -> Result<Metrics, MembraneError> {
        async {
            self.gate("runtime.metrics")?;
            let mother = self.mother().clone();
            let runs = mother.run_stats();
            let mut children = self
                .on_mother(async move { mother.metrics(None).await })
                .await?;
            children.retain(|c| self.may_see_child(&c.metrics.child, &c.names));
            Ok(Metrics { runs, children })
        }
        .instrument(self.span("runtime.metrics"))
        .await
    }

    /// The Mother's epoch now.
    pub fn current_epoch(&self) -> Result<u64, MembraneError> {
        self.gate("epoch.current")?;
        Ok(self.shared().epoch.current())
    }

    /// Returns once the Mother's epoch is above `after`.
    pub async fn watch_epoch(&self, after: u64) -> Result<u64, MembraneError> {
        self.gate("epoch.watch")?;
        let mut receiver = self.shared().epoch.subscribe();
        match receiver.wait_for(|epoch| *epoch > after).await {
            Ok(epoch) => Ok(*epoch),
            Err(_) => Err(MembraneError::Busy("the membrane is closing".into())),
        }
    }
}
