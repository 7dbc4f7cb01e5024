//! Writing a toy against `patina-toy` compiles none of the backends' heavy
//! crates: the normal dependency tree of this crate (as `cargo tree` resolves
//! it, offline, from the workspace's lock file) holds none of them.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

/// The crates the backends bring in, which a toy SDK user must never compile.
const BACKEND_CRATES: &[&str] = &["gix", "ureq", "notify", "rusqlite", "cap-std"];

/// The packages of `cargo tree -p <package> -e normal`, by name.
fn normal_tree(package: &str) -> BTreeSet<String> {
    // The directory cargo names when it runs the test, not the one baked in
    // at build time: a build cache shared by two clones (CI's
    // `CARGO_TARGET_DIR` under `$HOME/.cache`) may hold a binary built in
    // the other one.
    let dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| env!("CARGO_MANIFEST_DIR").into(), PathBuf::from);
    let manifest = dir.join("../../Cargo.toml");
    let output = Command::new(env!("CARGO"))
        .args([
            "tree",
            "--offline",
            "--locked",
            "-e",
            "normal",
            "--prefix",
            "none",
        ])
        .args(["--format", "{p}", "-p", package, "--manifest-path"])
        .arg(&manifest)
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("cargo tree prints UTF-8")
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_toy_sdk_brings_no_backend_crate() {
    let tree = normal_tree("third-party-toy");
    // The tree is really this crate's: the SDK and wasmtime are in it.
    for expected in ["third-party-toy", "patina-toy", "patina-core", "wasmtime"] {
        assert!(tree.contains(expected), "{expected} missing from {tree:?}");
    }
    let found: Vec<&str> = BACKEND_CRATES
        .iter()
        .copied()
        .filter(|name| tree.contains(*name))
        .collect();
    assert!(
        found.is_empty(),
        "backend crates in the SDK's tree: {found:?}"
    );
    let backends: Vec<&String> = tree
        .iter()
        .filter(|p| p.starts_with("patina-toy-"))
        .collect();
    assert!(
        backends.is_empty(),
        "toy backend crates in the SDK's tree: {backends:?}"
    );
}

/// The check above can see a backend crate when there is one: the facade's
/// tree holds every one of them.
#[test]
fn the_facade_brings_every_backend_crate() {
    let tree = normal_tree("patina-toys");
    for name in BACKEND_CRATES {
        assert!(
            tree.contains(*name),
            "{name} missing from the facade's tree"
        );
    }
}
