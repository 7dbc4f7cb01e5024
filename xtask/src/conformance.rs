//! `cargo xtask conformance [--host H]... [--case NAME]... [--json]`: builds
//! what the suite runs — the conformance children from source
//! (`conformance/children`: Rust always; Python with componentize-py and
//! JavaScript with componentize-js when those toolchains are there, and it
//! says so loudly when they are not), the `mother` binary (the served host),
//! the JavaScript host's packages (`npm ci` in `hosts/js` when they are
//! missing) — then runs `patina-conformance`, which prints the matrix and
//! writes `<target>/conformance/report.json`. The exit status is the
//! runner's: non-zero on any failure.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::bench::target_dir;
use crate::cargo;

/// The Rust conformance children: (crate, produced file, name in the cases).
const RUST_CHILDREN: &[(&str, &str, &str)] = &[
    ("conf-values", "conf_values.wasm", "values"),
    ("conf-hello", "conf_hello.wasm", "hello"),
    ("conf-kvstore", "conf_kvstore.wasm", "kvstore"),
    ("conf-files", "conf_files.wasm", "files"),
    ("conf-limits", "conf_limits.wasm", "limits"),
    ("conf-ambient", "conf_ambient.wasm", "ambient"),
    ("conf-cmd", "conf-cmd.wasm", "cmd"),
];

/// Runs the suite; `args` are passed on to the runner.
pub fn run(args: &[String]) -> Result<()> {
    let root = crate::workspace_root();
    let target = target_dir(&root);
    let out = target.join("conformance");
    let children = out.join("children");
    build_rust(&root, &out, &children.join("rust"))?;
    crate::conformance_langs::build_python(&root, &children.join("python"));
    let hosts: Vec<&str> = args
        .windows(2)
        .filter(|w| w[0] == "--host")
        .map(|w| w[1].as_str())
        .collect();
    let wants_js = hosts.is_empty() || hosts.contains(&"js");
    let js = root.join("hosts/js");
    if wants_js && !js.join("node_modules").is_dir() {
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
    crate::conformance_langs::build_js(&root, &children.join("js"));
    cargo(&["build", "-p", "mother-cli", "-p", "patina-conformance"])?;
    let runner = target.join("debug").join("patina-conformance");
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
    eprintln!("conformance: report written to {}", out.join("report.json").display());
    if !status.success() {
        bail!("the conformance suite failed ({status})");
    }
    Ok(())
}

/// Builds `conformance/children` for wasm32-wasip2 (a nested cargo, with
/// nothing of this build's flags) and copies each child to `dest/<name>.wasm`.
fn build_rust(root: &Path, out: &Path, dest: &Path) -> Result<()> {
    let manifest = root.join("conformance/children/Cargo.toml");
    let wasm_target = out.join("wasm-target");
    let cargo_bin = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo_bin);
    command
        .args(["build", "--release", "--target", "wasm32-wasip2", "--locked", "--manifest-path"])
        .arg(&manifest)
        .env("CARGO_TARGET_DIR", &wasm_target);
    for (key, _) in std::env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        let leaks = matches!(key, "RUSTFLAGS" | "CARGO_ENCODED_RUSTFLAGS" | "RUSTC_WRAPPER")
            || key.starts_with("CARGO_PROFILE_")
            || (key.starts_with("CARGO_BUILD_") && key != "CARGO_BUILD_JOBS");
        if leaks {
            command.env_remove(key);
        }
    }
    let status = command.status().context("building the conformance children")?;
    if !status.success() {
        bail!("building conformance/children for wasm32-wasip2 failed ({status}); `rustup target add wasm32-wasip2` if the target is missing");
    }
    std::fs::create_dir_all(dest)?;
    let release = wasm_target.join("wasm32-wasip2").join("release");
    for (krate, file, name) in RUST_CHILDREN {
        let built: PathBuf = release.join(file);
        std::fs::copy(&built, dest.join(format!("{name}.wasm")))
            .with_context(|| format!("{krate}: {} was not built", built.display()))?;
    }
    Ok(())
}
