//! Embeds a Mother: open one in a temporary home, install the component
//! given on the command line, call it and check the run's signed receipt.
//! `cargo run -p patina-mother --example embed -- calc.wasm 'add(2, 3)'`
use patina_mother::{CallSpec, ChildRef, InstallSpec, Mother, MotherConfig, RunSpec};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut argv = std::env::args().skip(1);
    let wasm = argv.next().ok_or("usage: embed CHILD.wasm [WAVE-CALL]")?;
    let call = argv.next().unwrap_or_else(|| "add(2, 3)".to_owned());
    let home = tempfile::tempdir()?;
    let mother = Mother::open(MotherConfig::new(home.path().join("mother")))?;
    let installed = mother
        .install_file(wasm.into(), InstallSpec::default())
        .await?;
    let child = ChildRef::Installed(installed.child.to_string());
    let run = mother
        .run(RunSpec::new(child, CallSpec::Wave(call)))
        .await?;
    println!("{}", serde_json::to_string_pretty(&run.summary())?);
    let receipt = run.receipt.ok_or("a recorded run has a receipt")?;
    patina_receipts::verify(&receipt)?;
    println!(
        "receipt {} verifies (signed by {})",
        receipt.id, receipt.mother
    );
    Ok(())
}
