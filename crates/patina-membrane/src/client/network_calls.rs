//! The client side of the `Network` capability (`mother peers`, `find`,
//! `run --on`, `push` through a served Mother): each call sends what the
//! caller asked and decodes the answer; the served Mother decides.

use patina_mother::{Installed, RunSpec};

use super::{RemoteRun, Session, missing};
use crate::membrane_capnp::network;
use crate::{NetworkInfo, RemoteError};

impl Session {
    fn network_cap(&self) -> Result<&network::Client, RemoteError> {
        self.network.as_ref().ok_or_else(|| missing("the Network"))
    }

    /// The served Mother's node and its connected peers.
    pub async fn network_info(&self) -> Result<NetworkInfo, RemoteError> {
        let response = self.network_cap()?.info_request().send().promise.await?;
        Ok(serde_json::from_str(response.get()?.get_json()?.to_str()?)?)
    }

    /// Providers of `child` from the DHT, at most `limit`.
    pub async fn network_find(&self, child: &str, limit: u32) -> Result<Vec<String>, RemoteError> {
        let mut call = self.network_cap()?.find_request();
        call.get().set_child(child);
        call.get().set_limit(limit);
        let response = call.send().promise.await?;
        let mut providers = Vec::new();
        for provider in response.get()?.get_providers()? {
            providers.push(provider?.to_string()?);
        }
        Ok(providers)
    }

    /// One run on `peer` (a peer id or a multiaddr) through the served
    /// Mother, which verifies and keeps the peer's receipt.
    pub async fn network_run(&self, peer: &str, spec: &RunSpec) -> Result<RemoteRun, RemoteError> {
        let mut call = self.network_cap()?.run_request();
        call.get().set_peer(peer);
        call.get()
            .set_spec_json(serde_json::to_string(spec)?.as_str());
        let response = call.send().promise.await?;
        let answer = response.get()?;
        RemoteRun::read(
            answer.get_summary_json()?.to_str()?,
            answer.get_stdout()?,
            answer.get_stderr()?,
            answer.get_logs_dropped(),
            answer.get_receipt()?,
        )
    }

    /// Offers the bytes of `child` (held by the served Mother) to `peer`.
    pub async fn network_push(&self, child: &str, peer: &str) -> Result<Installed, RemoteError> {
        let mut call = self.network_cap()?.push_request();
        call.get().set_child(child);
        call.get().set_peer(peer);
        let response = call.send().promise.await?;
        Ok(serde_json::from_str(
            response.get()?.get_installed_json()?.to_str()?,
        )?)
    }
}
