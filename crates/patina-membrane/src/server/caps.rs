//! The capabilities a caller holds — Membrane (graft), Runtime, Receipts and
//! Epoch — each a thin adapter from Cap'n Proto to its caller's [`Access`]:
//! read the parameters, call the access (which decides), write the answer.
//! Nothing here decides anything.

use super::*;

pub(super) struct MembraneCap {
    pub(super) access: Arc<Access>,
}

impl membrane::Server for MembraneCap {
    async fn graft(
        self: CapRc<Self>,
        _: membrane::GraftParams,
        mut results: membrane::GraftResults,
    ) -> Result<(), capnp::Error> {
        self.access.check_epoch()?;
        let names: Vec<&str> = ["runtime", "receipts", "epoch", "network"]
            .into_iter()
            .filter(|name| self.access.has_interface(name))
            .collect();
        let mut exports = results
            .get()
            .init_exports(u32::try_from(names.len()).unwrap_or(0));
        for (index, name) in names.iter().enumerate() {
            let mut export = exports.reborrow().get(u32::try_from(index).unwrap_or(0));
            export.set_name(*name);
            let access = self.access.clone();
            match *name {
                "runtime" => export.set_runtime(capnp_rpc::new_client(RuntimeCap { access })),
                "receipts" => export.set_receipts(capnp_rpc::new_client(ReceiptsCap { access })),
                "network" => export.set_network(capnp_rpc::new_client(NetworkCap { access })),
                _ => export.set_epoch(capnp_rpc::new_client(EpochCap { access })),
            }
        }
        Ok(())
    }

    async fn explain(
        self: CapRc<Self>,
        _: membrane::ExplainParams,
        mut results: membrane::ExplainResults,
    ) -> Result<(), capnp::Error> {
        let value = self.access.explain()?;
        results.get().set_json(value.to_string().as_str());
        Ok(())
    }
}

/// The bootstrap of a caller the server does not admit (a key the policy
/// does not name, or one holding all the connections it may): it holds
/// nothing, and says why to every call.
pub(super) struct RefusalCap {
    /// The refusal, as every call is answered.
    pub(super) refused: capnp::Error,
}

impl RefusalCap {
    fn refuse(&self) -> capnp::Error {
        self.refused.clone()
    }
}

impl membrane::Server for RefusalCap {
    async fn graft(
        self: CapRc<Self>,
        _: membrane::GraftParams,
        _: membrane::GraftResults,
    ) -> Result<(), capnp::Error> {
        Err(self.refuse())
    }

    async fn explain(
        self: CapRc<Self>,
        _: membrane::ExplainParams,
        _: membrane::ExplainResults,
    ) -> Result<(), capnp::Error> {
        Err(self.refuse())
    }
}

pub(super) fn text(reader: capnp::Result<capnp::text::Reader<'_>>) -> Result<String, capnp::Error> {
    Ok(reader?.to_string()?)
}

pub(super) fn json_text<T: serde::Serialize>(value: &T) -> Result<String, capnp::Error> {
    serde_json::to_string(value)
        .map_err(|e| MembraneError::BadRequest(format!("encoding the answer: {e}")).into())
}

fn count(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX)
}

pub(super) struct RuntimeCap {
    pub(super) access: Arc<Access>,
}

impl runtime::Server for RuntimeCap {
    async fn install(
        self: CapRc<Self>,
        params: runtime::InstallParams,
        mut results: runtime::InstallResults,
    ) -> Result<(), capnp::Error> {
        let params = params.get()?;
        let bytes = params.get_bytes()?.to_vec();
        let name = text(params.get_name())?;
        let name = (!name.is_empty()).then_some(name);
        let mut grants = Vec::new();
        for grant in params.get_grants()? {
            grants.push(grant?.to_string()?);
        }
        let installed = self.access.install(bytes, name, grants).await?;
        results
            .get()
            .set_installed_json(json_text(&installed)?.as_str());
        Ok(())
    }

    async fn list(
        self: CapRc<Self>,
        _: runtime::ListParams,
        mut results: runtime::ListResults,
    ) -> Result<(), capnp::Error> {
        let children = self.access.list().await?;
        results
            .get()
            .set_children_json(json_text(&children)?.as_str());
        Ok(())
    }

    async fn describe(
        self: CapRc<Self>,
        params: runtime::DescribeParams,
        mut results: runtime::DescribeResults,
    ) -> Result<(), capnp::Error> {
        let child = text(params.get()?.get_child())?;
        let inspection = self.access.describe(&child).await?;
        results
            .get()
            .set_description_json(describe_json(&inspection).to_string().as_str());
        Ok(())
    }

    async fn run(
        self: CapRc<Self>,
        params: runtime::RunParams,
        mut results: runtime::RunResults,
    ) -> Result<(), capnp::Error> {
        let spec = spec_json(params.get()?.get_spec_json())?;
        let output = self.access.run(spec).await?;
        let mut answer = results.get();
        answer.set_summary_json(json_text(&output.summary())?.as_str());
        answer.set_stdout(&output.report.stdout);
        answer.set_stderr(&output.report.stderr);
        answer.set_logs_dropped(output.report.logs_dropped);
        if let Some(receipt) = output.receipt {
            answer.set_receipt(&ExportedReceipt::new(receipt, &[]).encode());
        }
        Ok(())
    }
}

/// A `RunSpec` sent as JSON text.
fn spec_json(reader: capnp::Result<capnp::text::Reader<'_>>) -> Result<RunSpec, capnp::Error> {
    let spec_text = text(reader)?;
    Ok(serde_json::from_str(&spec_text)
        .map_err(|e| MembraneError::BadRequest(format!("specJson: {e}")))?)
}

pub(super) struct NetworkCap {
    pub(super) access: Arc<Access>,
}

impl network_cap::Server for NetworkCap {
    async fn info(
        self: CapRc<Self>,
        _: network_cap::InfoParams,
        mut results: network_cap::InfoResults,
    ) -> Result<(), capnp::Error> {
        let info = self.access.network_info().await?;
        results.get().set_json(json_text(&info)?.as_str());
        Ok(())
    }

    async fn find(
        self: CapRc<Self>,
        params: network_cap::FindParams,
        mut results: network_cap::FindResults,
    ) -> Result<(), capnp::Error> {
        let params = params.get()?;
        let child = text(params.get_child())?;
        let limit = usize::try_from(params.get_limit()).unwrap_or(usize::MAX);
        let providers = self.access.network_find(&child, limit).await?;
        let mut list = results.get().init_providers(count(providers.len()));
        for (index, provider) in providers.iter().enumerate() {
            list.set(count(index), provider.as_str());
        }
        Ok(())
    }

    async fn run(
        self: CapRc<Self>,
        params: network_cap::RunParams,
        mut results: network_cap::RunResults,
    ) -> Result<(), capnp::Error> {
        let params = params.get()?;
        let peer = text(params.get_peer())?;
        let spec = spec_json(params.get_spec_json())?;
        let ran = self.access.network_run(&peer, spec).await?;
        let mut answer = results.get();
        answer.set_summary_json(json_text(&ran.summary)?.as_str());
        answer.set_stdout(&ran.stdout);
        answer.set_stderr(&ran.stderr);
        answer.set_logs_dropped(ran.logs_dropped);
        if let Some(receipt) = ran.receipt {
            answer.set_receipt(&ExportedReceipt::new(receipt, &[]).encode());
        }
        Ok(())
    }

    async fn push(
        self: CapRc<Self>,
        params: network_cap::PushParams,
        mut results: network_cap::PushResults,
    ) -> Result<(), capnp::Error> {
        let params = params.get()?;
        let child = text(params.get_child())?;
        let peer = text(params.get_peer())?;
        let installed = self.access.network_push(&peer, &child).await?;
        results
            .get()
            .set_installed_json(json_text(&installed)?.as_str());
        Ok(())
    }
}

pub(super) struct ReceiptsCap {
    pub(super) access: Arc<Access>,
}

impl receipts::Server for ReceiptsCap {
    async fn get(
        self: CapRc<Self>,
        params: receipts::GetParams,
        mut results: receipts::GetResults,
    ) -> Result<(), capnp::Error> {
        let id = text(params.get()?.get_id())?;
        let (receipt, blobs) = self.access.receipt(&id).await?;
        results
            .get()
            .set_export(&ExportedReceipt::new(receipt, &blobs).encode());
        Ok(())
    }

    async fn export(
        self: CapRc<Self>,
        params: receipts::ExportParams,
        mut results: receipts::ExportResults,
    ) -> Result<(), capnp::Error> {
        let id = text(params.get()?.get_id())?;
        let (receipt, blobs) = self.access.export(&id).await?;
        results
            .get()
            .set_export(&ExportedReceipt::new(receipt, &blobs).encode());
        Ok(())
    }

    async fn list(
        self: CapRc<Self>,
        params: receipts::ListParams,
        mut results: receipts::ListResults,
    ) -> Result<(), capnp::Error> {
        let params = params.get()?;
        let child = text(params.get_child())?;
        let child = (!child.is_empty()).then_some(child);
        let caller = text(params.get_caller())?;
        let caller = (!caller.is_empty()).then_some(caller);
        let limit = params.get_limit();
        let limit = (limit > 0).then_some(limit as usize);
        let list = self.access.receipts(child, caller, limit).await?;
        let mut out = results.get().init_receipts(count(list.len()));
        for (index, receipt) in list.into_iter().enumerate() {
            out.set(count(index), &ExportedReceipt::new(receipt, &[]).encode());
        }
        Ok(())
    }

    async fn verify(
        self: CapRc<Self>,
        params: receipts::VerifyParams,
        mut results: receipts::VerifyResults,
    ) -> Result<(), capnp::Error> {
        let id = text(params.get()?.get_id())?;
        let verified = self.access.verify(&id).await?;
        let mut answer = results.get();
        answer.set_link(verified.link.to_string().as_str());
        answer.set_receipt(&ExportedReceipt::new(verified.receipt, &[]).encode());
        Ok(())
    }

    async fn replay(
        self: CapRc<Self>,
        params: receipts::ReplayParams,
        mut results: receipts::ReplayResults,
    ) -> Result<(), capnp::Error> {
        let id = text(params.get()?.get_id())?;
        let output = self.access.replay(&id).await?;
        let mut answer = results.get();
        answer.set_summary_json(json_text(&output.summary())?.as_str());
        answer.set_stdout(&output.replay.report.stdout);
        answer.set_stderr(&output.replay.report.stderr);
        let unrecorded = &output.receipt.transcript.unrecorded;
        let mut list = answer.init_unrecorded(count(unrecorded.len()));
        for (index, item) in unrecorded.iter().enumerate() {
            list.set(count(index), item.as_str());
        }
        Ok(())
    }
}

pub(super) struct EpochCap {
    pub(super) access: Arc<Access>,
}

impl epoch::Server for EpochCap {
    async fn current(
        self: CapRc<Self>,
        _: epoch::CurrentParams,
        mut results: epoch::CurrentResults,
    ) -> Result<(), capnp::Error> {
        results.get().set_epoch(self.access.current_epoch()?);
        Ok(())
    }

    async fn watch(
        self: CapRc<Self>,
        params: epoch::WatchParams,
        mut results: epoch::WatchResults,
    ) -> Result<(), capnp::Error> {
        let after = params.get()?.get_after();
        results
            .get()
            .set_epoch(self.access.watch_epoch(after).await?);
        Ok(())
    }
}
