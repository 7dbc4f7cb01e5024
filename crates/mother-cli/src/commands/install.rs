//! `mother install <FILE> [--name NAME]`: validate, compile (into the cache) and keep.

use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::cli::InstallArgs;
use crate::mother::Mother;
use crate::output;

pub fn run(mother: &Mother, args: InstallArgs) -> Result<ExitCode> {
    let bytes =
        std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let child = mother
        .host
        .load(&bytes)
        .with_context(|| format!("installing {}", args.file.display()))?;
    let id = mother.children.install(&bytes, args.name.as_deref())?;
    debug_assert_eq!(id, child.id());
    if args.json {
        output::print_json(
            &serde_json::json!({ "child": id, "name": args.name, "size": bytes.len() }),
        );
    } else {
        match &args.name {
            Some(name) => println!("installed {id} as {name}"),
            None => println!("installed {id}"),
        }
    }
    Ok(ExitCode::SUCCESS)
}
