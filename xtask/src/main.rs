//! `cargo xtask <task>`: the project's chores as one command each, so the
//! README, CI and people run the same steps. It only orchestrates `cargo` and
//! the binaries it builds; it must never hold product logic, and it
//! downloads nothing but what the project's own lock files name (`npm ci`
//! in `hosts/js` for the conformance suite's JavaScript host).

mod bench;
mod conformance;

use std::process::Command;

use anyhow::{Context, Result, bail};

const USAGE: &str = "usage: cargo xtask <task>

tasks:
  ci      formatting, clippy (-D warnings) and the whole test suite, as .ci/run does
  bench   every benchmark of the workspace (criterion benches, process-per-call
          `mother run` vs a raw wasmtime embedder), one table of figure, baseline
          and ratio, written to <target>/bench/report.json
  conformance [--host H]... [--case NAME]... [--json]
          the conformance suite: every case on every host (embedded, served, peer,
          bridge, mcp, js), a matrix of pass / fail / n/a, written to
          <target>/conformance/report.json
  capnp   regenerate the membrane's Rust code from capnp/*.capnp (needs the `capnp` tool)";

/// Runs `cargo ARGS`, failing unless it succeeds.
pub(crate) fn cargo(args: &[&str]) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(&cargo)
        .args(args)
        .status()
        .with_context(|| format!("running {cargo}"))?;
    if !status.success() {
        bail!("`cargo {}` failed ({status})", args.join(" "));
    }
    Ok(())
}

fn main() -> Result<()> {
    let task = std::env::args().nth(1).unwrap_or_default();
    match task.as_str() {
        "ci" => {
            cargo(&["fmt", "--all", "--check"])?;
            cargo(&[
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ])?;
            cargo(&["test", "--workspace", "--all-features"])
        }
        "bench" => bench::run(),
        "conformance" => {
            let args: Vec<String> = std::env::args().skip(2).collect();
            conformance::run(&args)
        }
        "capnp" => capnp(),
        _ => {
            eprintln!("{USAGE}");
            bail!("unknown task `{task}`")
        }
    }
}

/// The workspace root (the parent of `xtask/`).
pub(crate) fn workspace_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(
            || std::path::PathBuf::from("."),
            std::path::Path::to_path_buf,
        )
}

/// The schemas and where their generated code is committed.
const SCHEMAS: &[&str] = &["membrane.capnp"];
const GENERATED: &str = "crates/patina-membrane/src";

/// Regenerates `crates/patina-membrane/src/*_capnp.rs` from `capnp/`.
fn capnp() -> Result<()> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("the workspace root")?;
    let mut command = capnpc::CompilerCommand::new();
    command
        .src_prefix(root.join("capnp"))
        .output_path(root.join(GENERATED));
    for schema in SCHEMAS {
        command.file(root.join("capnp").join(schema));
    }
    command
        .run()
        .context("running capnp (install it: apt-get install capnproto)")?;
    for schema in SCHEMAS {
        let name = schema.replace(".capnp", "_capnp.rs");
        println!("wrote {GENERATED}/{name}");
    }
    Ok(())
}
