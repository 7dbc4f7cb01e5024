//! The capabilities a login hands out — Membrane (graft), Runtime, Receipts
//! and Epoch — each a thin adapter from Cap'n Proto to the Mother, every call
//! gated by its [`Caller`] first.

use super::*;

pub(super) struct MembraneCap {
    pub(super) caller: Rc<Caller>,
}

impl membrane::Server for MembraneCap {
    async fn graft(
        self: CapRc<Self>,
        _: membrane::GraftParams,
        mut results: membrane::GraftResults,
    ) -> Result<(), capnp::Error> {
        self.caller.shared.epoch.check(self.caller.epoch)?;
        let role = &self.caller.role;
        let has = |interface: &str| {
            role.methods
                .iter()
                .any(|m| m.split_once('.').is_some_and(|(i, _)| i == interface))
        };
        let names: Vec<&str> = ["runtime", "receipts", "epoch"]
            .into_iter()
            .filter(|name| has(name))
            .collect();
        let mut exports = results
            .get()
            .init_exports(u32::try_from(names.len()).unwrap_or(0));
        for (index, name) in names.iter().enumerate() {
            let mut export = exports.reborrow().get(u32::try_from(index).unwrap_or(0));
            export.set_name(*name);
            let caller = self.caller.clone();
            match *name {
                "runtime" => export.set_runtime(capnp_rpc::new_client(RuntimeCap { caller })),
                "receipts" => export.set_receipts(capnp_rpc::new_client(ReceiptsCap { caller })),
                _ => export.set_epoch(capnp_rpc::new_client(EpochCap { caller })),
            }
        }
        Ok(())
    }

    async fn explain(
        self: CapRc<Self>,
        _: membrane::ExplainParams,
        mut results: membrane::ExplainResults,
    ) -> Result<(), capnp::Error> {
        self.caller.shared.epoch.check(self.caller.epoch)?;
        let mut value = self.caller.role.explain();
        value["caller"] = serde_json::json!(self.caller.key.to_string());
        value["epoch"] = serde_json::json!(self.caller.epoch);
        results.get().set_json(value.to_string().as_str());
        Ok(())
    }
}

pub(super) fn text(reader: capnp::Result<capnp::text::Reader<'_>>) -> Result<String, capnp::Error> {
    Ok(reader?.to_string()?)
}

pub(super) fn json_text<T: serde::Serialize>(value: &T) -> Result<String, capnp::Error> {
    serde_json::to_string(value)
        .map_err(|e| MembraneError::BadRequest(format!("encoding the answer: {e}")).into())
}

pub(super) struct RuntimeCap {
    pub(super) caller: Rc<Caller>,
}

impl runtime::Server for RuntimeCap {
    async fn install(
        self: CapRc<Self>,
        params: runtime::InstallParams,
        mut results: runtime::InstallResults,
    ) -> Result<(), capnp::Error> {
        let caller = self.caller.clone();
        async move {
            caller.gate("runtime.install")?;
            let params = params.get()?;
            let bytes = params.get_bytes()?.to_vec();
            let name = text(params.get_name())?;
            let name = (!name.is_empty()).then_some(name);
            let mut grants = Vec::new();
            for grant in params.get_grants()? {
                grants.push(grant?.to_string()?);
            }
            if (name.is_some() || !grants.is_empty()) && !caller.role.install_names {
                return Err(MembraneError::InstallNamed {
                    role: caller.role.name.clone(),
                }
                .into());
            }
            for grant in patina_mother::parse_grants(&grants).map_err(MembraneError::Mother)? {
                caller.role.check_grant(&grant)?;
            }
            let mother = caller.shared.mother.clone();
            let installed = caller
                .on_mother(async move { mother.install(bytes, InstallSpec { name, grants }).await })
                .await?;
            results
                .get()
                .set_installed_json(json_text(&installed)?.as_str());
            Ok(())
        }
        .instrument(self.caller.span("runtime.install"))
        .await
    }

    async fn list(
        self: CapRc<Self>,
        _: runtime::ListParams,
        mut results: runtime::ListResults,
    ) -> Result<(), capnp::Error> {
        let caller = self.caller.clone();
        async move {
            caller.gate("runtime.list")?;
            let mother = caller.shared.mother.clone();
            let mut children = caller.on_mother(async move { mother.list().await }).await?;
            children.retain(|child| caller.may_see_child(&child.id, &child.names));
            results
                .get()
                .set_children_json(json_text(&children)?.as_str());
            Ok(())
        }
        .instrument(self.caller.span("runtime.list"))
        .await
    }

    async fn describe(
        self: CapRc<Self>,
        params: runtime::DescribeParams,
        mut results: runtime::DescribeResults,
    ) -> Result<(), capnp::Error> {
        let caller = self.caller.clone();
        async move {
            caller.gate("runtime.describe")?;
            let child = text(params.get()?.get_child())?;
            let id = caller.check_child(&child).await?;
            let mother = caller.shared.mother.clone();
            let inspection = caller
                .on_mother(
                    async move { mother.inspect(&ChildRef::Installed(id.to_string())).await },
                )
                .await?;
            results
                .get()
                .set_description_json(describe_json(&inspection).to_string().as_str());
            Ok(())
        }
        .instrument(self.caller.span("runtime.describe"))
        .await
    }

    async fn run(
        self: CapRc<Self>,
        params: runtime::RunParams,
        mut results: runtime::RunResults,
    ) -> Result<(), capnp::Error> {
        let caller = self.caller.clone();
        async move {
            caller.gate("runtime.run")?;
            let spec_text = text(params.get()?.get_spec_json())?;
            let mut spec: RunSpec = serde_json::from_str(&spec_text)
                .map_err(|e| MembraneError::BadRequest(format!("specJson: {e}")))?;
            let ChildRef::Installed(reference) = &spec.child else {
                return Err(MembraneError::BadRequest(
                    "a run through the membrane names an installed child (install the bytes first)"
                        .into(),
                )
                .into());
            };
            caller.check_child(reference).await?;
            caller.attenuate(&mut spec)?;
            let _slot = caller.run_slot()?;
            caller.check_rate()?;
            let mother = caller.shared.mother.clone();
            let shared = caller.shared.clone();
            let key = caller.key;
            let in_flight = InFlight::new(&caller.shared);
            // The run and the note of its owner are one task on the Mother's
            // runtime: a caller that disconnects never cancels either.
            let output = caller
                .on_mother(async move {
                    let _in_flight = in_flight;
                    let output = mother.run(spec).await?;
                    if let Some(receipt) = &output.receipt
                        && let Ok(mut owners) = shared.owners.lock()
                    {
                        owners.record(receipt.id.to_string(), key);
                    }
                    Ok(output)
                })
                .await?;
            let summary = output.summary();
            let mut answer = results.get();
            answer.set_summary_json(json_text(&summary)?.as_str());
            answer.set_stdout(&output.report.stdout);
            answer.set_stderr(&output.report.stderr);
            answer.set_logs_dropped(output.report.logs_dropped);
            if let Some(receipt) = output.receipt {
                answer.set_receipt(&ExportedReceipt::new(receipt, &[]).encode());
            }
            tracing::info!(receipt = ?summary.receipt.map(|r| r.short().to_string()), "ran");
            Ok(())
        }
        .instrument(self.caller.span("runtime.run"))
        .await
    }
}

pub(super) struct ReceiptsCap {
    pub(super) caller: Rc<Caller>,
}

impl ReceiptsCap {
    pub(super) async fn fetch_export(
        &self,
        method: &'static str,
        id: String,
    ) -> Result<Vec<u8>, MembraneError> {
        self.caller.gate(method)?;
        let mother = self.caller.shared.mother.clone();
        let (receipt, blobs) = self
            .caller
            .on_mother(async move { mother.receipt(&ReceiptRef::Stored(id)).await })
            .await?;
        self.caller.check_receipt(&receipt)?;
        Ok(ExportedReceipt::new(receipt, &blobs).encode())
    }
}

impl receipts::Server for ReceiptsCap {
    async fn get(
        self: CapRc<Self>,
        params: receipts::GetParams,
        mut results: receipts::GetResults,
    ) -> Result<(), capnp::Error> {
        let id = text(params.get()?.get_id())?;
        let export = self
            .fetch_export("receipts.get", id)
            .instrument(self.caller.span("receipts.get"))
            .await?;
        results.get().set_export(&export);
        Ok(())
    }

    async fn export(
        self: CapRc<Self>,
        params: receipts::ExportParams,
        mut results: receipts::ExportResults,
    ) -> Result<(), capnp::Error> {
        let id = text(params.get()?.get_id())?;
        let export = self
            .fetch_export("receipts.export", id)
            .instrument(self.caller.span("receipts.export"))
            .await?;
        results.get().set_export(&export);
        Ok(())
    }

    async fn list(
        self: CapRc<Self>,
        params: receipts::ListParams,
        mut results: receipts::ListResults,
    ) -> Result<(), capnp::Error> {
        let caller = self.caller.clone();
        async move {
            caller.gate("receipts.list")?;
            let params = params.get()?;
            let child = text(params.get_child())?;
            let child = (!child.is_empty()).then_some(child);
            if let Some(child) = &child {
                caller.check_child(child).await?;
            }
            let limit = params.get_limit();
            let limit = (limit > 0).then_some(limit as usize);
            let own = caller.role.receipts == ReceiptScope::Own;
            let mother = caller.shared.mother.clone();
            // Filtering happens after the store's limit, so an `own` caller
            // asks for more and keeps the first `limit` that are its own.
            let fetch = if own || matches!(caller.role.children, Children::Only(_)) {
                None
            } else {
                limit
            };
            let mut list = caller
                .on_mother(async move { mother.receipts_of(child, fetch).await })
                .await?;
            let allowed_children: Option<Vec<ChildId>> = match &caller.role.children {
                Children::Any => None,
                Children::Only(entries) => {
                    let entries = entries.clone();
                    Some(
                        caller
                            .blocking(move |mother| {
                                Ok(entries
                                    .iter()
                                    .filter_map(|e| mother.children().resolve(e).ok())
                                    .collect())
                            })
                            .await?,
                    )
                }
            };
            list.retain(|receipt| {
                caller.check_receipt(receipt).is_ok()
                    && allowed_children
                        .as_ref()
                        .is_none_or(|ids| ids.contains(&receipt.transcript.child))
            });
            if let Some(limit) = limit {
                list.truncate(limit);
            }
            let mut out = results
                .get()
                .init_receipts(u32::try_from(list.len()).unwrap_or(0));
            for (index, receipt) in list.into_iter().enumerate() {
                out.set(
                    u32::try_from(index).unwrap_or(0),
                    &ExportedReceipt::new(receipt, &[]).encode(),
                );
            }
            Ok(())
        }
        .instrument(self.caller.span("receipts.list"))
        .await
    }

    async fn verify(
        self: CapRc<Self>,
        params: receipts::VerifyParams,
        mut results: receipts::VerifyResults,
    ) -> Result<(), capnp::Error> {
        let caller = self.caller.clone();
        async move {
            caller.gate("receipts.verify")?;
            let id = text(params.get()?.get_id())?;
            let mother = caller.shared.mother.clone();
            let verified = caller
                .on_mother(async move { mother.verify_receipt(&ReceiptRef::Stored(id)).await })
                .await?;
            caller.check_receipt(&verified.receipt)?;
            let mut answer = results.get();
            answer.set_link(verified.link.to_string().as_str());
            answer.set_receipt(&ExportedReceipt::new(verified.receipt, &[]).encode());
            Ok(())
        }
        .instrument(self.caller.span("receipts.verify"))
        .await
    }

    async fn replay(
        self: CapRc<Self>,
        params: receipts::ReplayParams,
        mut results: receipts::ReplayResults,
    ) -> Result<(), capnp::Error> {
        let caller = self.caller.clone();
        async move {
            caller.gate("receipts.replay")?;
            let id = text(params.get()?.get_id())?;
            let mother = caller.shared.mother.clone();
            let probe = mother.clone();
            let probe_id = id.clone();
            let (receipt, _) = caller
                .on_mother(async move { probe.receipt(&ReceiptRef::Stored(probe_id)).await })
                .await?;
            caller.check_receipt(&receipt)?;
            let _slot = caller.run_slot()?;
            let in_flight = InFlight::new(&caller.shared);
            let output = caller
                .on_mother(async move {
                    let _in_flight = in_flight;
                    mother.replay(&ReceiptRef::Stored(id)).await
                })
                .await?;
            let mut answer = results.get();
            answer.set_summary_json(json_text(&output.summary())?.as_str());
            answer.set_stdout(&output.replay.report.stdout);
            answer.set_stderr(&output.replay.report.stderr);
            let unrecorded = &output.receipt.transcript.unrecorded;
            let mut list = answer.init_unrecorded(u32::try_from(unrecorded.len()).unwrap_or(0));
            for (index, item) in unrecorded.iter().enumerate() {
                list.set(u32::try_from(index).unwrap_or(0), item.as_str());
            }
            Ok(())
        }
        .instrument(self.caller.span("receipts.replay"))
        .await
    }
}

pub(super) struct EpochCap {
    pub(super) caller: Rc<Caller>,
}

impl epoch::Server for EpochCap {
    async fn current(
        self: CapRc<Self>,
        _: epoch::CurrentParams,
        mut results: epoch::CurrentResults,
    ) -> Result<(), capnp::Error> {
        self.caller.gate("epoch.current")?;
        results.get().set_epoch(self.caller.shared.epoch.current());
        Ok(())
    }

    async fn watch(
        self: CapRc<Self>,
        params: epoch::WatchParams,
        mut results: epoch::WatchResults,
    ) -> Result<(), capnp::Error> {
        self.caller.gate("epoch.watch")?;
        let after = params.get()?.get_after();
        let mut receiver = self.caller.shared.epoch.subscribe();
        let epoch = match receiver.wait_for(|epoch| *epoch > after).await {
            Ok(epoch) => *epoch,
            Err(_) => return Err(MembraneError::Busy("the membrane is closing".into()).into()),
        };
        results.get().set_epoch(epoch);
        Ok(())
    }
}
