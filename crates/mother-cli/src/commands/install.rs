//! `mother install <FILE> [--name NAME [--grant GRANT]...]`: validate, compile
//! (into the cache) and keep; the grants are what the child runs with when
//! another child invokes it by NAME.

use std::process::ExitCode;

use anyhow::Result;
use patina_mother::{InstallSpec, MotherError};

use crate::cli::InstallArgs;
use crate::door::Door;
use crate::output;

pub async fn run(mother: &Door, args: InstallArgs) -> Result<ExitCode> {
    let spec = InstallSpec {
        name: args.name.clone(),
        grants: args.grants.clone(),
    };
    let installed = mother
        .install(args.file.clone(), spec)
        .await
        .map_err(|error| match error.downcast::<MotherError>() {
            Ok(MotherError::Grant(error)) => anyhow::Error::new(error).context("parsing --grant"),
            Ok(MotherError::GrantRefused(error)) => {
                anyhow::Error::new(error).context("checking --grant")
            }
            Ok(error) => error.into(),
            Err(error) => error,
        })?;
    if args.json {
        output::print_json(&serde_json::to_value(&installed)?);
        return Ok(ExitCode::SUCCESS);
    }
    let id = installed.child;
    let grant_texts: Vec<String> = installed.grants.iter().map(ToString::to_string).collect();
    match &installed.name {
        Some(name) if grant_texts.is_empty() => println!("installed {id} as {name}"),
        Some(name) => println!(
            "installed {id} as {name}, invoked with {}",
            grant_texts.join(" ")
        ),
        None => println!("installed {id}"),
    }
    Ok(ExitCode::SUCCESS)
}
