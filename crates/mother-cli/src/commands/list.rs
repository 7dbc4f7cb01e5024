//! `mother list [--json]`: the installed children.

use std::process::ExitCode;

use anyhow::Result;

use crate::cli::ListArgs;
use crate::door::Door;
use crate::output;

pub async fn run(mother: &Door, args: ListArgs) -> Result<ExitCode> {
    let children = mother.list().await?;
    if args.json {
        output::print_json(&serde_json::to_value(&children)?);
        return Ok(ExitCode::SUCCESS);
    }
    if children.is_empty() {
        println!(
            "no children installed in {} (try `mother install FILE --name NAME`)",
            mother.root().display()
        );
    }
    for child in children {
        let names = if child.names.is_empty() {
            "-".to_owned()
        } else {
            child.names.join(",")
        };
        println!("{names:<20} {}  {:>8} bytes", child.id, child.size);
    }
    Ok(ExitCode::SUCCESS)
}
