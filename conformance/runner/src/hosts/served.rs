//! The served host: a real `mother serve` process (the one the bridge and
//! peer hosts share, `front.rs`), reached through its Unix socket with
//! `patina_membrane::Connection`, logged in with the home's own key (the
//! `admin` role) — every run goes through the membrane, as any client's
//! does. The peer host asks through it too.

use std::collections::HashSet;
use std::rc::Rc;

use anyhow::{Context, Result, bail};
use patina_membrane::Session;
use tokio::sync::Mutex;

use super::home::Home;
use super::serve_process::ServeProcess;
use super::{HostUnderTest, InstallKey, Prepared, Ran, Setup, is_refusal, spec};
use crate::case::{Case, Named};

/// A `mother serve` process and a session on its socket.
pub struct Served {
    serve: ServeProcess,
    /// What is installed here.
    installed: HashSet<InstallKey>,
}

/// The served door of the shared `mother serve`.
struct ServedHost {
    served: Rc<Mutex<Served>>,
}

/// Starts the served host (the shared `mother serve`, if no other host has).
pub async fn start(setup: &Setup<'_>) -> Result<Box<dyn HostUnderTest>> {
    let front = setup.front("served").await?;
    Ok(Box::new(ServedHost {
        served: front.served,
    }))
}

impl Served {
    /// Starts `mother serve FLAGS` on `home` and logs in.
    pub async fn start(home: Home, flags: &[&str]) -> Result<Self> {
        Ok(Self {
            serve: ServeProcess::start(home, flags).await?,
            installed: HashSet::new(),
        })
    }

    /// What `mother serve --json` printed (peer id, listen addresses).
    pub fn printed(&self) -> &str {
        &self.serve.printed
    }

    /// The session on its socket (the home's own key).
    pub fn session(&self) -> &Session {
        &self.serve.session
    }

    /// The REST bridge's address, if it was started with `--http`.
    pub fn http(&self) -> Option<&str> {
        self.serve.http.as_deref()
    }

    /// Installs `child` here (by digest, as the home's owner), once.
    pub async fn install(&mut self, child: &Prepared) -> Result<()> {
        self.install_as(child, None).await
    }

    /// Installs `child` here under `named`'s name with its grants, once.
    pub async fn install_named(&mut self, named: &Named, child: &Prepared) -> Result<()> {
        self.install_as(child, Some(named)).await
    }

    async fn install_as(&mut self, child: &Prepared, named: Option<&Named>) -> Result<()> {
        let key = (named.map(|n| n.name.clone()), child.id.clone());
        if self.installed.contains(&key) {
            return Ok(());
        }
        let (name, grants) =
            named.map_or((None, &[][..]), |n| (Some(n.name.as_str()), &n.grants[..]));
        self.serve
            .session
            .install(&child.bytes, name, grants)
            .await
            .map_err(|e| anyhow::anyhow!("installing {name:?}: {}: {}", e.kind, e.message))?;
        self.installed.insert(key);
        Ok(())
    }

    /// Runs `case` with `child` on this Mother, or, with `on`, on the peer
    /// `on` names through this Mother's network (`network.run`: the peer's
    /// receipt comes back checked and is kept here). The child is
    /// installed here first, once.
    pub async fn run_on(&mut self, on: Option<&str>, case: &Case, child: &Prepared) -> Result<Ran> {
        self.install(child).await?;
        let session = &self.serve.session;
        let spec = spec(case, &child.id);
        let answer = match on {
            None => session.run(&spec).await,
            Some(peer) => session.network_run(peer, &spec).await,
        };
        let ran = match answer {
            Ok(ran) => ran,
            Err(e) if is_refusal(&e.kind) => {
                return Ok(Ran::Refused {
                    kind: e.kind,
                    message: e.message,
                });
            }
            Err(e) => bail!("the Mother failed: {}: {}", e.kind, e.message),
        };
        let receipt = ran.receipt.context("a recorded run answered no receipt")?;
        let (receipt, blobs) = session
            .receipt(&receipt.id.hex())
            .await
            .map_err(|e| anyhow::anyhow!("reading the receipt: {}: {}", e.kind, e.message))?;
        Ok(Ran::Recorded {
            receipt: Box::new(receipt),
            blobs,
        })
    }
}

#[async_trait::async_trait(?Send)]
impl HostUnderTest for ServedHost {
    fn name(&self) -> &'static str {
        "served"
    }

    fn metered(&self) -> bool {
        true
    }

    fn not_applicable(&self, _: &Case) -> Option<String> {
        None
    }

    async fn install_named(&mut self, named: &Named, child: &Prepared) -> Result<Option<String>> {
        self.served.lock().await.install_named(named, child).await?;
        Ok(None)
    }

    async fn run(&mut self, case: &Case, child: &Prepared) -> Result<Ran> {
        self.served.lock().await.run_on(None, case, child).await
    }
}
