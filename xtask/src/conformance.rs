//! `cargo xtask conformance [--host H]... [--case NAME]... [--json]`: builds
//! the `mother` binary (the served host) and the runner, installs the
//! JavaScript host's packages (`npm ci` in `hosts/js` when they are
//! missing), has the runner build the conformance children from source
//! (`patina-conformance build-children`: Rust always; Python and JavaScript
//! when their toolchains are there, said loudly when not), then runs the
//! suite, which prints the matrix and writes
//! `<target>/conformance/report.json`. The exit status is the runner's:
//! non-zero on any failure.

use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::bench::target_dir;
use crate::cargo;

/// Runs the suite; `args` are passed on to the runner.
pub fn run(args: &[String]) -> Result<()> {
    let root = crate::workspace_root();
    let target = target_dir(&root);
    let out = target.join("conformance");
    let children = out.join("children");
    let js = root.join("hosts/js");
    if !js.join("node_modules").is_dir() {
        eprintln!("conformance: installing the JavaScript host's packages (npm ci in hosts/js)");
        let status = Command::new("npm")
            .arg("ci")
            .current_dir(&js)
            .status()
            .context("running npm ci (is Node 20 with npm installed?)")?;
        if !status.success() {
            bail!("npm ci in hosts/js failed ({status})");
        }
    }
    cargo(&["build", "-p", "mother-cli", "-p", "patina-conformance"])?;
    let runner = target.join("debug").join("patina-conformance");
    let status = Command::new(&runner)
        .arg("build-children")
        .arg("--out")
        .arg(&children)
        .status()
        .with_context(|| format!("running {}", runner.display()))?;
    if !status.success() {
        bail!("building the conformance children failed ({status})");
    }
    let status = Command::new(&runner)
        .arg("--children")
        .arg(&children)
        .arg("--mother")
        .arg(target.join("debug").join("mother"))
        .arg("--report")
        .arg(out.join("report.json"))
        .args(args)
        .status()
        .with_context(|| format!("running {}", runner.display()))?;
    eprintln!(
        "conformance: report written to {}",
        out.join("report.json").display()
    );
    if !status.success() {
        bail!("the conformance suite failed ({status})");
    }
    Ok(())
}
