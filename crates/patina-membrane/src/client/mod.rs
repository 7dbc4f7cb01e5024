//! The client side: [`Connection`] (a byte stream with the Terminal at the
//! other end) and [`Session`] (a logged-in caller with the capabilities its
//! graft gave), with the answers decoded back into the Mother's own types.
//!
//! Like the server, a client is single-threaded: use it inside a
//! `tokio::task::LocalSet`. Dropping a [`Connection`] (or the [`Session`]
//! holding it) closes the stream.

use std::path::Path;

use capnp::capability::FromClientHook;
use capnp_rpc::{RpcSystem, rpc_twoparty_capnp, twoparty};
use patina_mother::{Installed, InstalledChild, ReplaySummary, RunSpec, RunSummary};
use patina_receipts::{Blob, ExportedReceipt, Receipt};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::RemoteError;
use crate::login::{public_key, sign_login};
use crate::membrane_capnp::{
    LoginStatus, epoch, export, membrane, network, receipts, runtime, terminal,
};

mod network_calls;

/// A challenge as the server sent it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    /// The nonce to sign.
    pub nonce: Vec<u8>,
    /// The server's epoch.
    pub epoch: u64,
    /// The server's id (public key).
    pub server_id: Vec<u8>,
    /// The domain string.
    pub domain: String,
}

/// Every field of a login, as sent (tests forge them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginRequest {
    /// The caller's public key.
    pub key: Vec<u8>,
    /// The nonce.
    pub nonce: Vec<u8>,
    /// The epoch.
    pub epoch: u64,
    /// The server id.
    pub server_id: Vec<u8>,
    /// The signature.
    pub signature: Vec<u8>,
}

impl LoginRequest {
    /// The login `seed`'s key signs for `challenge`. `None` when the
    /// challenge's fields have the wrong sizes.
    pub fn sign(seed: &[u8; 32], challenge: &Challenge) -> Option<Self> {
        let nonce: [u8; 32] = challenge.nonce.as_slice().try_into().ok()?;
        let server: [u8; 32] = challenge.server_id.as_slice().try_into().ok()?;
        Some(Self {
            key: public_key(seed).to_vec(),
            nonce: nonce.to_vec(),
            epoch: challenge.epoch,
            server_id: server.to_vec(),
            signature: sign_login(seed, &nonce, challenge.epoch, &server).to_vec(),
        })
    }
}

/// The stable kind of a refused login's status.
pub fn status_kind(status: LoginStatus) -> &'static str {
    match status {
        LoginStatus::NotGranted => "not-granted",
        LoginStatus::Granted => "granted",
        LoginStatus::BadSignature => "bad-signature",
        LoginStatus::BadRequest => "bad-request",
        LoginStatus::UnknownNonce => "unknown-nonce",
        LoginStatus::ExpiredNonce => "expired-nonce",
        LoginStatus::WrongServer => "wrong-server",
        LoginStatus::StaleEpoch => "stale-epoch",
        LoginStatus::UnknownKey => "unknown-key",
    }
}

/// A stream to a membrane: its Terminal not yet logged in, or (over a
/// transport that authenticated the caller already) its Membrane.
pub struct Connection {
    bootstrap: capnp::capability::Client,
    driver: tokio::task::JoinHandle<()>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

impl Connection {
    /// Starts the RPC system on `stream` (inside a `LocalSet`).
    pub fn open<S>(stream: S) -> Self
    where
        S: AsyncRead + AsyncWrite + Unpin + 'static,
    {
        let (reader, writer) = crate::buffered(stream);
        let network = twoparty::VatNetwork::new(
            reader,
            writer,
            rpc_twoparty_capnp::Side::Client,
            crate::ServeConfig::default().reader_options(),
        );
        let mut rpc = RpcSystem::new(Box::new(network), None);
        let bootstrap: capnp::capability::Client = rpc.bootstrap(rpc_twoparty_capnp::Side::Server);
        // The driver runs before anything waits on the bootstrap capability.
        let driver = tokio::task::spawn_local(async move {
            if let Err(error) = rpc.await {
                tracing::debug!(%error, "membrane connection ended");
            }
        });
        Self { bootstrap, driver }
    }

    fn terminal(&self) -> terminal::Client {
        self.bootstrap.clone().cast_to()
    }

    /// The session of a connection whose server serves it with
    /// `MembraneServer::serve_as` (the transport proved who the caller is,
    /// e.g. a libp2p peer): no login, the bootstrap is the Membrane.
    pub async fn authenticated(self) -> Result<Session, RemoteError> {
        let membrane: membrane::Client = self.bootstrap.clone().cast_to();
        let response = membrane.explain_request().send().promise.await?;
        let explained: serde_json::Value =
            serde_json::from_str(response.get()?.get_json()?.to_str()?)?;
        let role = explained
            .get("role")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_owned();
        Session::graft(self, membrane, role).await
    }

    /// Connects to the Unix socket at `path`.
    pub async fn unix(path: &Path) -> Result<Self, RemoteError> {
        let stream = tokio::net::UnixStream::connect(path).await.map_err(|e| {
            RemoteError::new(
                "io",
                format!(
                    "connecting to {} (is `mother serve` running?): {e}",
                    path.display()
                ),
            )
        })?;
        Ok(Self::open(stream))
    }

    /// Asks for a challenge.
    pub async fn challenge(&self) -> Result<Challenge, RemoteError> {
        let response = self.terminal().challenge_request().send().promise.await?;
        let challenge = response.get()?.get_challenge()?;
        Ok(Challenge {
            nonce: challenge.get_nonce()?.to_vec(),
            epoch: challenge.get_epoch(),
            server_id: challenge.get_server_id()?.to_vec(),
            domain: challenge.get_domain()?.to_string()?,
        })
    }

    /// Sends `request`; a refused login is an error of the status's kind
    /// (`unknown-key`, `bad-signature`, `unknown-nonce`, ...).
    pub async fn login_with(self, request: &LoginRequest) -> Result<Session, RemoteError> {
        let mut call = self.terminal().login_request();
        {
            let mut out = call.get().init_request();
            out.set_key(&request.key);
            out.set_nonce(&request.nonce);
            out.set_epoch(request.epoch);
            out.set_server_id(&request.server_id);
            out.set_signature(&request.signature);
        }
        let response = call.send().promise.await?;
        let result = response.get()?.get_result()?;
        // Fail closed: anything but `granted` (including a status this
        // client does not know) is a refusal.
        let status = result.get_status().unwrap_or(LoginStatus::NotGranted);
        if status != LoginStatus::Granted {
            return Err(RemoteError::new(
                status_kind(status),
                format!(
                    "login refused: {}",
                    result.get_reason()?.to_str().unwrap_or("")
                ),
            ));
        }
        let role = result.get_role()?.to_string()?;
        let membrane = result.get_membrane()?;
        Session::graft(self, membrane, role).await
    }

    /// Challenge, sign with `seed`, log in.
    pub async fn login(self, seed: &[u8; 32]) -> Result<Session, RemoteError> {
        let challenge = self.challenge().await?;
        let request = LoginRequest::sign(seed, &challenge).ok_or_else(|| {
            RemoteError::new("bad-request", "the server's challenge is malformed")
        })?;
        self.login_with(&request).await
    }
}

/// A run as the server answered it.
#[derive(Debug)]
pub struct RemoteRun {
    /// The summary (what `mother run --json` prints).
    pub summary: RunSummary,
    /// Raw stdout.
    pub stdout: Vec<u8>,
    /// Raw stderr.
    pub stderr: Vec<u8>,
    /// Log lines over the run's cap.
    pub logs_dropped: u64,
    /// The signed receipt of a recorded run (its blobs: `Session::receipt`).
    pub receipt: Option<Receipt>,
}

impl RemoteRun {
    /// A run answer's fields, decoded (an empty receipt: a live run).
    fn read(
        summary: &str,
        stdout: &[u8],
        stderr: &[u8],
        logs_dropped: u64,
        receipt: &[u8],
    ) -> Result<Self, RemoteError> {
        let receipt = if receipt.is_empty() {
            None
        } else {
            Some(decode(receipt)?.0)
        };
        Ok(Self {
            summary: serde_json::from_str(summary)?,
            stdout: stdout.to_vec(),
            stderr: stderr.to_vec(),
            logs_dropped,
            receipt,
        })
    }
}

/// A replay as the server answered it.
#[derive(Debug)]
pub struct RemoteReplay {
    /// The summary (what `mother replay --json` prints).
    pub summary: ReplaySummary,
    /// Raw stdout.
    pub stdout: Vec<u8>,
    /// Raw stderr.
    pub stderr: Vec<u8>,
    /// The recorded run's unrecorded authority.
    pub unrecorded: Vec<String>,
}

/// A logged-in caller and the capabilities its graft gave.
pub struct Session {
    role: String,
    membrane: membrane::Client,
    runtime: Option<runtime::Client>,
    receipts: Option<receipts::Client>,
    epoch: Option<epoch::Client>,
    network: Option<network::Client>,
    _connection: Connection,
}

fn missing(what: &str) -> RemoteError {
    RemoteError::new("denied", format!("this caller was not given {what}"))
}

fn decode(bytes: &[u8]) -> Result<(Receipt, Vec<Blob>), RemoteError> {
    Ok(ExportedReceipt::decode(bytes)?)
}

impl Session {
    async fn graft(
        connection: Connection,
        membrane: membrane::Client,
        role: String,
    ) -> Result<Self, RemoteError> {
        let response = membrane.graft_request().send().promise.await?;
        let (mut runtime, mut receipts, mut epoch, mut network) = (None, None, None, None);
        for item in response.get()?.get_exports()? {
            match item
                .which()
                .map_err(|e| RemoteError::new("rpc", e.to_string()))?
            {
                export::Which::Runtime(cap) => runtime = Some(cap?),
                export::Which::Receipts(cap) => receipts = Some(cap?),
                export::Which::Epoch(cap) => epoch = Some(cap?),
                export::Which::Network(cap) => network = Some(cap?),
            }
        }
        Ok(Self {
            role,
            membrane,
            runtime,
            receipts,
            epoch,
            network,
            _connection: connection,
        })
    }

    /// The caller's role.
    pub fn role(&self) -> &str {
        &self.role
    }

    /// Grafts again (e.g. to see that a capability was refused).
    pub async fn regraft(&self) -> Result<Vec<String>, RemoteError> {
        let response = self.membrane.graft_request().send().promise.await?;
        let mut names = Vec::new();
        for item in response.get()?.get_exports()? {
            names.push(item.get_name()?.to_string()?);
        }
        Ok(names)
    }

    /// What this caller may do (JSON, as `mother policy explain` prints it).
    pub async fn explain(&self) -> Result<serde_json::Value, RemoteError> {
        let response = self.membrane.explain_request().send().promise.await?;
        Ok(serde_json::from_str(response.get()?.get_json()?.to_str()?)?)
    }

    fn runtime(&self) -> Result<&runtime::Client, RemoteError> {
        self.runtime.as_ref().ok_or_else(|| missing("a Runtime"))
    }

    fn receipts_cap(&self) -> Result<&receipts::Client, RemoteError> {
        self.receipts.as_ref().ok_or_else(|| missing("Receipts"))
    }

    fn epoch_cap(&self) -> Result<&epoch::Client, RemoteError> {
        self.epoch.as_ref().ok_or_else(|| missing("the Epoch"))
    }

    /// Installs component bytes.
    pub async fn install(
        &self,
        bytes: &[u8],
        name: Option<&str>,
        grants: &[String],
    ) -> Result<Installed, RemoteError> {
        let mut call = self.runtime()?.install_request();
        {
            let mut params = call.get();
            params.set_bytes(bytes);
            params.set_name(name.unwrap_or(""));
            let mut list = params.init_grants(u32::try_from(grants.len()).unwrap_or(0));
            for (index, grant) in grants.iter().enumerate() {
                list.set(u32::try_from(index).unwrap_or(0), grant.as_str());
            }
        }
        let response = call.send().promise.await?;
        Ok(serde_json::from_str(
            response.get()?.get_installed_json()?.to_str()?,
        )?)
    }

    /// The installed children this caller may see.
    pub async fn list(&self) -> Result<Vec<InstalledChild>, RemoteError> {
        let response = self.runtime()?.list_request().send().promise.await?;
        Ok(serde_json::from_str(
            response.get()?.get_children_json()?.to_str()?,
        )?)
    }

    /// A child's description (`crate::describe_json`'s shape).
    pub async fn describe(&self, child: &str) -> Result<serde_json::Value, RemoteError> {
        let mut call = self.runtime()?.describe_request();
        call.get().set_child(child);
        let response = call.send().promise.await?;
        Ok(serde_json::from_str(
            response.get()?.get_description_json()?.to_str()?,
        )?)
    }

    /// One run.
    pub async fn run(&self, spec: &RunSpec) -> Result<RemoteRun, RemoteError> {
        let mut call = self.runtime()?.run_request();
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

    /// A receipt (id or unique prefix) with its blobs.
    pub async fn receipt(&self, id: &str) -> Result<(Receipt, Vec<Blob>), RemoteError> {
        let mut call = self.receipts_cap()?.get_request();
        call.get().set_id(id);
        let response = call.send().promise.await?;
        decode(response.get()?.get_export()?)
    }

    /// A receipt's export encoding (`mother receipts export`).
    pub async fn export(&self, id: &str) -> Result<Vec<u8>, RemoteError> {
        let mut call = self.receipts_cap()?.export_request();
        call.get().set_id(id);
        let response = call.send().promise.await?;
        Ok(response.get()?.get_export()?.to_vec())
    }

    /// Receipts newest first, of `child` and of `caller` if given (`limit`
    /// 0: no limit).
    pub async fn receipts(
        &self,
        child: Option<&str>,
        caller: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Receipt>, RemoteError> {
        let mut call = self.receipts_cap()?.list_request();
        call.get().set_child(child.unwrap_or(""));
        call.get().set_caller(caller.unwrap_or(""));
        call.get().set_limit(limit);
        let response = call.send().promise.await?;
        let mut list = Vec::new();
        for bytes in response.get()?.get_receipts()? {
            list.push(decode(bytes?)?.0);
        }
        Ok(list)
    }

    /// Verifies a stored receipt: the receipt and its chain link in words.
    pub async fn verify(&self, id: &str) -> Result<(Receipt, String), RemoteError> {
        let mut call = self.receipts_cap()?.verify_request();
        call.get().set_id(id);
        let response = call.send().promise.await?;
        let answer = response.get()?;
        Ok((
            decode(answer.get_receipt()?)?.0,
            answer.get_link()?.to_string()?,
        ))
    }

    /// Replays a stored receipt on the server.
    pub async fn replay(&self, id: &str) -> Result<RemoteReplay, RemoteError> {
        let mut call = self.receipts_cap()?.replay_request();
        call.get().set_id(id);
        let response = call.send().promise.await?;
        let answer = response.get()?;
        let mut unrecorded = Vec::new();
        for item in answer.get_unrecorded()? {
            unrecorded.push(item?.to_string()?);
        }
        Ok(RemoteReplay {
            summary: serde_json::from_str(answer.get_summary_json()?.to_str()?)?,
            stdout: answer.get_stdout()?.to_vec(),
            stderr: answer.get_stderr()?.to_vec(),
            unrecorded,
        })
    }

    /// The server's epoch.
    pub async fn epoch(&self) -> Result<u64, RemoteError> {
        let response = self.epoch_cap()?.current_request().send().promise.await?;
        Ok(response.get()?.get_epoch())
    }

    /// Waits until the epoch is above `after`.
    pub async fn watch_epoch(&self, after: u64) -> Result<u64, RemoteError> {
        let mut call = self.epoch_cap()?.watch_request();
        call.get().set_after(after);
        let response = call.send().promise.await?;
        Ok(response.get()?.get_epoch())
    }
}

impl From<std::str::Utf8Error> for RemoteError {
    fn from(error: std::str::Utf8Error) -> Self {
        RemoteError::new("rpc", format!("text that is not UTF-8: {error}"))
    }
}
