//! The served host: a real `mother serve` process (its own home), reached
//! through its Unix socket with `patina_membrane::Connection`, logged in
//! with the home's own key (the `admin` role) — every run goes through the
//! membrane, as any client's does.

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use patina_membrane::{Connection, Session};
use tokio::process::Child;

use super::home::Home;
use super::{HostUnderTest, Prepared, Ran, Setup, is_refusal, spec};
use crate::case::Case;

/// How long `mother serve` may take to open its socket.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A `mother serve` process and a session on its socket.
pub struct Served {
    session: Session,
    installed: HashSet<String>,
    _server: Child,
    _home: Home,
}

/// Starts the served host with the setup's `mother` binary.
pub async fn start(setup: &Setup<'_>) -> Result<Box<dyn HostUnderTest>> {
    let mother = setup
        .mother
        .context("the served host needs --mother PATH (the `mother` binary)")?;
    Ok(Box::new(Served::start(mother).await?))
}

impl Served {
    /// Starts `mother serve` (the binary at `mother`) on a fresh home and logs in.
    pub async fn start(mother: &Path) -> Result<Self> {
        let home = Home::new("served", mother)?;
        let root = home.root();
        let socket = root.join("mother.sock");
        let server = home
            .command(&["serve"])
            .spawn()
            .with_context(|| format!("starting `{} serve`", mother.display()))?;
        wait_for(&socket).await?;
        let seed = read_seed(&root.join("identity.key"))?;
        let session = Connection::unix(&socket)
            .await
            .map_err(|e| anyhow::anyhow!("connecting: {}: {}", e.kind, e.message))?
            .login(&seed)
            .await
            .map_err(|e| anyhow::anyhow!("logging in: {}: {}", e.kind, e.message))?;
        Ok(Self {
            session,
            installed: HashSet::new(),
            _server: server,
            _home: home,
        })
    }
}

async fn wait_for(socket: &Path) -> Result<()> {
    let deadline = tokio::time::Instant::now() + START_TIMEOUT;
    while !socket.exists() {
        if tokio::time::Instant::now() > deadline {
            bail!(
                "`mother serve` did not open {} within {START_TIMEOUT:?}",
                socket.display()
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

fn read_seed(path: &Path) -> Result<[u8; 32]> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    bytes
        .try_into()
        .map_err(|_| anyhow::anyhow!("{} is not a 32-byte key", path.display()))
}

#[async_trait::async_trait(?Send)]
impl HostUnderTest for Served {
    fn name(&self) -> &'static str {
        "served"
    }

    fn metered(&self) -> bool {
        true
    }

    fn not_applicable(&self, _: &Case) -> Option<String> {
        None
    }

    async fn run(&mut self, case: &Case, child: &Prepared) -> Result<Ran> {
        if !self.installed.contains(&child.id) {
            self.session
                .install(&child.bytes, None, &[])
                .await
                .map_err(|e| anyhow::anyhow!("installing: {}: {}", e.kind, e.message))?;
            self.installed.insert(child.id.clone());
        }
        let ran = match self.session.run(&spec(case, &child.id)).await {
            Ok(ran) => ran,
            Err(e) if is_refusal(&e.kind) => {
                return Ok(Ran::Refused {
                    kind: e.kind,
                    message: e.message,
                });
            }
            Err(e) => bail!("the served Mother failed: {}: {}", e.kind, e.message),
        };
        let receipt = ran.receipt.context("a recorded run answered no receipt")?;
        let (receipt, blobs) = self
            .session
            .receipt(&receipt.id.hex())
            .await
            .map_err(|e| anyhow::anyhow!("reading the receipt: {}: {}", e.kind, e.message))?;
        Ok(Ran::Recorded {
            receipt: Box::new(receipt),
            blobs,
        })
    }
}
