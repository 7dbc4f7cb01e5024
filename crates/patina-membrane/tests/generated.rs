//! The committed schema code is what `capnp/` generates today (`cargo xtask
//! capnp` regenerates it). Skipped, with a message, where `capnp` is absent.

use std::path::Path;

#[test]
fn the_committed_capnp_code_is_fresh() {
    if std::process::Command::new("capnp")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: the `capnp` tool is not installed (apt-get install capnproto)");
        return;
    }
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let schemas = crate_dir.join("../../capnp");
    let out = tempfile::tempdir().unwrap();
    capnpc::CompilerCommand::new()
        .src_prefix(&schemas)
        .file(schemas.join("membrane.capnp"))
        .output_path(out.path())
        .run()
        .expect("capnp compile");
    let fresh = std::fs::read_to_string(out.path().join("membrane_capnp.rs")).unwrap();
    let committed = std::fs::read_to_string(crate_dir.join("src/membrane_capnp.rs")).unwrap();
    assert!(
        fresh == committed,
        "crates/patina-membrane/src/membrane_capnp.rs is stale: run `cargo xtask capnp` and commit it"
    );
}
