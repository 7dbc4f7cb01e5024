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
use tokio::process::Command;

/// How long a short `mother` command (an install compiles the child) may take.
const SHORT: Duration = Duration::from_secs(600);

/// A home (`<tempdir>/home`) and the `mother` binary that serves it.
pub struct Home {
    mother: PathBuf,
    root: PathBuf,
    _dir: tempfile::TempDir,
}

impl Home {
    /// A fresh home for the host `what` (named in errors) served by `mother`.
    pub fn new(what: &str, mother: &Path) -> Result<Self> {
        let dir = tempfile::tempdir().with_context(|| format!("a home for the {what} host"))?;
        Ok(Self {
            mother: mother.to_owned(),
            root: dir.path().join("home"),
            _dir: dir,
        })
    }

    /// The home's directory (`PATINA_HOME`).
    pub fn root(&self) -> &Path {
        &self.root
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
