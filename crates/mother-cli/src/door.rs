//! [`Door`]: where a command's answers come from — the Mother opened in
//! this process, or a served Mother reached through the membrane
//! (`--connect`). Both give the same values, so every command prints them
//! with one piece of code and its output is the same either way.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use patina_membrane::Session;
use patina_mother::{
    ChildRef, InstallSpec, Installed, InstalledChild, Mother, ReceiptRef, ReplaySummary, RunSpec,
    RunSummary,
};
use patina_receipts::{ExportedReceipt, Receipt};

/// A Mother in this process, or one behind a socket.
pub enum Door {
    /// `Mother::open` of the home.
    Embedded(Mother),
    /// A logged-in session with a served Mother.
    Remote {
        /// The session.
        session: Session,
        /// The home (for messages that name it).
        home: PathBuf,
    },
}

/// One run, whichever door it went through.
pub struct RunView {
    /// What `--json` prints.
    pub summary: RunSummary,
    /// Raw stdout.
    pub stdout: Vec<u8>,
    /// Raw stderr.
    pub stderr: Vec<u8>,
    /// Log lines dropped over the cap.
    pub logs_dropped: u64,
}

/// One replay, whichever door it went through.
pub struct ReplayView {
    /// What `--json` prints.
    pub summary: ReplaySummary,
    /// Raw stdout.
    pub stdout: Vec<u8>,
    /// Raw stderr.
    pub stderr: Vec<u8>,
    /// The recorded run's unrecorded authority.
    pub unrecorded: Vec<String>,
}

fn stored(reference: &ReceiptRef) -> Result<&str> {
    match reference {
        ReceiptRef::Stored(id) => Ok(id),
        ReceiptRef::File(path) => bail!(
            "with --connect, give a stored receipt's id, not a file ({})",
            path.display()
        ),
    }
}

impl Door {
    /// The home directory.
    pub fn root(&self) -> &Path {
        match self {
            Self::Embedded(mother) => mother.root(),
            Self::Remote { home, .. } => home,
        }
    }

    /// The embedded Mother, for the commands only it serves.
    pub fn mother(&self, command: &str) -> Result<&Mother> {
        match self {
            Self::Embedded(mother) => Ok(mother),
            Self::Remote { .. } => bail!("`mother {command}` does not work with --connect"),
        }
    }

    /// A child the remote Mother can name: a local file's bytes are
    /// installed by digest first.
    async fn remote_child(session: &Session, child: &ChildRef) -> Result<String> {
        match child {
            ChildRef::Installed(reference) => Ok(reference.clone()),
            ChildRef::File(path) => {
                let bytes =
                    std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
                Ok(session.install(&bytes, None, &[]).await?.child.to_string())
            }
        }
    }

    pub async fn list(&self) -> Result<Vec<InstalledChild>> {
        Ok(match self {
            Self::Embedded(mother) => mother.list().await?,
            Self::Remote { session, .. } => session.list().await?,
        })
    }

    /// `patina_membrane::describe_json`.
    pub async fn describe(&self, child: &ChildRef) -> Result<serde_json::Value> {
        Ok(match self {
            Self::Embedded(mother) => patina_membrane::describe_json(&mother.inspect(child).await?),
            Self::Remote { session, .. } => {
                let child = Self::remote_child(session, child).await?;
                session.describe(&child).await?
            }
        })
    }

    pub async fn install(&self, file: PathBuf, spec: InstallSpec) -> Result<Installed> {
        Ok(match self {
            Self::Embedded(mother) => mother.install_file(file, spec).await?,
            Self::Remote { session, .. } => {
                let bytes =
                    std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
                session
                    .install(&bytes, spec.name.as_deref(), &spec.grants)
                    .await?
            }
        })
    }

    pub async fn run(&self, mut spec: RunSpec) -> Result<RunView> {
        Ok(match self {
            Self::Embedded(mother) => {
                let output = mother.run(spec).await?;
                RunView {
                    summary: output.summary(),
                    logs_dropped: output.report.logs_dropped,
                    stdout: output.report.stdout,
                    stderr: output.report.stderr,
                }
            }
            Self::Remote { session, .. } => {
                spec.child = ChildRef::Installed(Self::remote_child(session, &spec.child).await?);
                let ran = session.run(&spec).await?;
                RunView {
                    summary: ran.summary,
                    stdout: ran.stdout,
                    stderr: ran.stderr,
                    logs_dropped: ran.logs_dropped,
                }
            }
        })
    }

    /// A run on `peer` through the served Mother (`mother run --on`); the
    /// peer's receipt is verified and kept in the served Mother's store.
    pub async fn run_on(&self, peer: &str, mut spec: RunSpec) -> Result<RunView> {
        let session = self.session("run --on")?;
        spec.child = ChildRef::Installed(Self::remote_child(session, &spec.child).await?);
        let ran = session.network_run(peer, &spec).await?;
        Ok(RunView {
            summary: ran.summary,
            stdout: ran.stdout,
            stderr: ran.stderr,
            logs_dropped: ran.logs_dropped,
        })
    }

    /// The session with the served Mother, for the commands only it serves.
    pub fn session(&self, command: &str) -> Result<&Session> {
        match self {
            Self::Remote { session, .. } => Ok(session),
            Self::Embedded(_) => bail!("`mother {command}` works through a served Mother"),
        }
    }

    /// A child the served Mother can name (a file's bytes installed there first).
    pub async fn served_child(&self, child: &ChildRef) -> Result<String> {
        Self::remote_child(self.session("push")?, child).await
    }

    pub async fn receipt(&self, reference: &ReceiptRef) -> Result<Receipt> {
        Ok(match self {
            Self::Embedded(mother) => mother.receipt(reference).await?.0,
            Self::Remote { session, .. } => session.receipt(stored(reference)?).await?.0,
        })
    }

    pub async fn receipts(
        &self,
        child: Option<String>,
        caller: Option<String>,
        limit: usize,
    ) -> Result<Vec<Receipt>> {
        Ok(match self {
            Self::Embedded(mother) => mother.receipts_by(child, caller, Some(limit)).await?,
            Self::Remote { session, .. } => {
                let limit = u32::try_from(limit).unwrap_or(u32::MAX).max(1);
                session
                    .receipts(child.as_deref(), caller.as_deref(), limit)
                    .await?
            }
        })
    }

    /// The receipt and its chain link in words.
    pub async fn verify(&self, reference: &ReceiptRef) -> Result<(Receipt, String)> {
        Ok(match self {
            Self::Embedded(mother) => {
                let verified = mother.verify_receipt(reference).await?;
                (verified.receipt, verified.link.to_string())
            }
            Self::Remote { session, .. } => session.verify(stored(reference)?).await?,
        })
    }

    /// The export encoding.
    pub async fn export(&self, reference: &ReceiptRef) -> Result<Vec<u8>> {
        Ok(match self {
            Self::Embedded(mother) => mother.export_receipt(reference).await?.encode(),
            Self::Remote { session, .. } => {
                let bytes = session.export(stored(reference)?).await?;
                // Checked here too: what is printed is a receipt export.
                ExportedReceipt::decode(&bytes)?;
                bytes
            }
        })
    }

    pub async fn replay(&self, reference: &ReceiptRef) -> Result<ReplayView> {
        Ok(match self {
            Self::Embedded(mother) => {
                let output = mother.replay(reference).await?;
                ReplayView {
                    summary: output.summary(),
                    unrecorded: output.receipt.transcript.unrecorded.clone(),
                    stdout: output.replay.report.stdout,
                    stderr: output.replay.report.stderr,
                }
            }
            Self::Remote { session, .. } => {
                let replayed = session.replay(stored(reference)?).await?;
                ReplayView {
                    summary: replayed.summary,
                    stdout: replayed.stdout,
                    stderr: replayed.stderr,
                    unrecorded: replayed.unrecorded,
                }
            }
        })
    }
}
