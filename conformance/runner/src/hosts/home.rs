//! A fresh Mother home in a temporary directory, and the `mother` processes
//! started on it (`mother serve`, `mother mcp`, a short `mother install`):
//! the one place a host adapter starts the setup's `mother` binary, so every
//! such process gets the same environment (`PATINA_HOME`, no inherited log
//! settings, killed when dropped). It starts processes; it never reads what
//! a host answered.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use patina_membrane::CallerKey;
use patina_receipts::Identity;
use tokio::process::Command;

/// How long a short `mother` command (an install compiles the child) may take.
const SHORT: Duration = Duration::from_secs(600);

/// A home (`<tempdir>/home`) with its identity, and the `mother` binary
/// that serves it. The key exists before any process starts, so another
/// home's `policy.toml` can name it.
pub struct Home {
    mother: PathBuf,
    root: PathBuf,
    identity: Identity,
    _dir: tempfile::TempDir,
}

impl Home {
    /// A fresh home for the host `what` (named in errors) served by `mother`.
    pub fn new(what: &str, mother: &Path) -> Result<Self> {
        let dir = tempfile::tempdir().with_context(|| format!("a home for the {what} host"))?;
        let root = dir.path().join("home");
        std::fs::create_dir_all(&root).with_context(|| format!("creating {}", root.display()))?;
        let identity = Identity::load_or_create(&root.join("identity.key"))
            .with_context(|| format!("the {what} home's identity"))?;
        Ok(Self {
            mother: mother.to_owned(),
            root,
            identity,
            _dir: dir,
        })
    }

    /// The home's directory (`PATINA_HOME`).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The home's key as `policy.toml` names a caller.
    pub fn key(&self) -> String {
        CallerKey(*self.identity.id().bytes()).to_string()
    }

    /// The home's secret seed (a login as the home's owner).
    pub fn seed(&self) -> [u8; 32] {
        self.identity.seed()
    }

    /// Writes the home's `policy.toml`.
    pub fn write_policy(&self, text: &str) -> Result<()> {
        let path = self.root.join("policy.toml");
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))
    }

    /// `mother ARGS` on this home: no stdin, its stdout and stderr dropped
    /// (a caller that reads them says so), killed when its handle drops.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.mother);
        command
            .args(args)
            .env("PATINA_HOME", &self.root)
            .env_remove("RUST_LOG")
            .env_remove("PATINA_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true);
        command
    }

    /// Runs `mother ARGS` to its end and answers its stdout; a failure
    /// says what it printed on stderr.
    pub async fn run(&self, args: &[&str]) -> Result<Vec<u8>> {
        let shown = format!("`mother {}`", args.join(" "));
        let mut command = self.command(args);
        command.stdout(Stdio::piped()).stderr(Stdio::piped());
        let output = tokio::time::timeout(SHORT, command.output())
            .await
            .with_context(|| format!("{shown} did not end within {SHORT:?}"))?
            .with_context(|| format!("running {shown} ({})", self.mother.display()))?;
        if !output.status.success() {
            bail!(
                "{shown} failed ({}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        Ok(output.stdout)
    }
}
