//! Makes sure the compiler of this build has the `wasm32-wasip2` standard
//! library before the nested build needs it.
//!
//! `rust-toolchain.toml` lists the target, but rustup installs listed targets
//! only when it installs the toolchain itself: a toolchain that is already
//! present is used as it is, and the nested build then stops with "can't find
//! crate for `core`". So, like cargo-component, this adds the target with
//! `rustup target add` where rustup manages the toolchain, and otherwise
//! stops with the exact command to run. It never downloads anything itself.

use std::env;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Returns once `target`'s standard library is in the sysroot of `$RUSTC`.
pub fn ensure_installed(target: &str) {
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let sysroot = sysroot(&rustc);
    let std_dir = sysroot.join("lib").join("rustlib").join(target).join("lib");
    if std_dir.is_dir() {
        return;
    }
    let toolchain = active_toolchain(&sysroot);
    let command = format!("rustup target add {target} --toolchain {toolchain}");
    let Some(rustup) = rustup() else {
        panic!(
            "the {target} target is not installed for {} (sysroot {}), and rustup was not \
             found, so it cannot be added here.\nRun `rustup toolchain install {pinned} \
             --target {target}` (rustup from rustup.rs; {pinned} is the toolchain \
             rust-toolchain.toml pins), or install the {target} standard library of the \
             distribution that provided this compiler, then build again.",
            Path::new(&rustc).display(),
            sysroot.display(),
            pinned = pinned_channel().unwrap_or_else(|| "stable".into()),
        );
    };
    // Shown by cargo as `warning: children-artifacts@…: …`, once.
    println!(
        "cargo:warning=installing the {target} target for toolchain {toolchain} \
         (needed once, to build the example children): {command}"
    );
    let status = Command::new(&rustup)
        .args(["target", "add", target, "--toolchain", &toolchain])
        .status()
        .unwrap_or_else(|e| panic!("could not run `{command}`: {e}"));
    if !status.success() {
        panic!("`{command}` failed ({status}); run it by hand and build again");
    }
    if !std_dir.is_dir() {
        panic!(
            "`{command}` succeeded but {} is still missing: rustup's toolchain \
             {toolchain} is not the compiler this build uses ({})",
            std_dir.display(),
            Path::new(&rustc).display(),
        );
    }
}

fn sysroot(rustc: &OsString) -> PathBuf {
    let output = Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "could not run `{} --print sysroot`: {e}",
                Path::new(rustc).display()
            )
        });
    if !output.status.success() {
        panic!(
            "`{} --print sysroot` failed ({}): {}",
            Path::new(rustc).display(),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    PathBuf::from(String::from_utf8_lossy(&output.stdout).trim())
}

/// The toolchain rustup chose for this build (`RUSTUP_TOOLCHAIN`, which the
/// rustup proxies set for everything they start), else the sysroot's name
/// (`~/.rustup/toolchains/<name>`).
fn active_toolchain(sysroot: &Path) -> String {
    env::var("RUSTUP_TOOLCHAIN")
        .ok()
        .filter(|t| !t.trim().is_empty())
        .or_else(|| {
            sysroot
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "stable".into())
}

/// The `channel` rust-toolchain.toml pins, read from the repository root.
fn pinned_channel() -> Option<String> {
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR")?);
    let text =
        std::fs::read_to_string(manifest.ancestors().nth(2)?.join("rust-toolchain.toml")).ok()?;
    text.lines().find_map(|line| {
        let value = line
            .trim()
            .strip_prefix("channel")?
            .trim()
            .strip_prefix('=')?;
        Some(value.trim().trim_matches('"').to_owned())
    })
}

/// `rustup` on `PATH`, else in `$CARGO_HOME/bin` or `~/.cargo/bin`.
fn rustup() -> Option<PathBuf> {
    let works = |p: &Path| {
        Command::new(p)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let cargo_home = env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    std::iter::once(PathBuf::from("rustup"))
        .chain(cargo_home.map(|h| h.join("bin").join("rustup")))
        .find(|p| works(p))
}
