//! `mother install <FILE> [--name NAME [--grant GRANT]...]`: validate, compile
//! (into the cache) and keep; the grants are what the child runs with when
//! another child invokes it by NAME.

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
    let grants = args
        .grants
        .iter()
        .map(|g| g.parse::<patina_host::Grant>())
        .collect::<Result<Vec<_>, _>>()
        .context("parsing --grant")?;
    // Checked and canonicalised now, so an invoked child never fails on a
    // grant that was wrong from the start.
    let grants = mother
        .host
        .resolve_grants(&grants)
        .context("checking --grant")?
        .canonical;
    let id = mother.children.install(&bytes, args.name.as_deref())?;
    debug_assert_eq!(id, child.id());
    if let Some(name) = &args.name {
        mother.children.set_grants(name, &id, &grants)?;
    }
    let grant_texts: Vec<String> = grants.iter().map(ToString::to_string).collect();
    if args.json {
        output::print_json(
            &serde_json::json!({ "child": id, "name": args.name, "size": bytes.len(), "grants": grant_texts }),
        );
    } else {
        match &args.name {
            Some(name) if grant_texts.is_empty() => println!("installed {id} as {name}"),
            Some(name) => println!(
                "installed {id} as {name}, invoked with {}",
                grant_texts.join(" ")
            ),
            None => println!("installed {id}"),
        }
    }
    Ok(ExitCode::SUCCESS)
}
