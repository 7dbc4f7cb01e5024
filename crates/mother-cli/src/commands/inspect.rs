//! `mother inspect <CHILD> [--json|--wit]`: id, imports (and how each would be
//! served: base, toy + grant, or unserved) and exports, with WIT types.

use std::process::ExitCode;

use anyhow::Result;
use patina_host::{ImportStatus, ItemDescription};
use patina_mother::{ChildRef, Inspection, Mother};

use crate::cli::InspectArgs;
use crate::output;

pub async fn run(mother: &Mother, args: InspectArgs) -> Result<ExitCode> {
    let Inspection {
        child,
        description,
        statuses,
    } = mother
        .inspect(&ChildRef::from_argument(&args.child))
        .await?;
    let child = &child;
    if args.wit {
        print!("{}", description.wit);
        return Ok(ExitCode::SUCCESS);
    }
    if args.json {
        let imports: Vec<serde_json::Value> = description
            .imports
            .iter()
            .zip(&statuses)
            .map(|(item, status)| {
                let mut value = serde_json::to_value(item).unwrap_or_default();
                if let (Some(object), Ok(serde_json::Value::Object(extra))) =
                    (value.as_object_mut(), serde_json::to_value(status))
                {
                    object.extend(extra);
                }
                value
            })
            .collect();
        output::print_json(&serde_json::json!({
            "child": child.id(),
            "size": child.bytes()?.len(),
            "command": child.is_command(),
            "imports": imports,
            "exports": description.exports,
        }));
        return Ok(ExitCode::SUCCESS);
    }
    let kind = if child.is_command() {
        "command (run it with `-- ARGS`)"
    } else {
        "library of typed exports"
    };
    println!("child   {}", child.id());
    println!("size    {} bytes, {kind}", child.bytes()?.len());
    println!("imports");
    for (item, status) in description.imports.iter().zip(&statuses) {
        let how = match status {
            ImportStatus::Base => "base: linked, no authority".to_owned(),
            ImportStatus::Toy { grant } => format!("toy: needs --grant {grant}"),
            ImportStatus::Unserved => "unserved: refused unless --deny-missing".to_owned(),
        };
        println!("  {:<44} {how}", item.name);
        if !matches!(status, ImportStatus::Base) {
            print_functions(item, "    ");
        }
    }
    println!("exports");
    for item in &description.exports {
        if item.functions.len() == 1 && item.functions[0].name == item.name {
            println!("  {}: {}", item.name, item.functions[0].signature);
        } else {
            println!("  {}", item.name);
            print_functions(item, "    ");
        }
        for ty in &item.types {
            println!("    {ty}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_functions(item: &ItemDescription, indent: &str) {
    for function in &item.functions {
        println!("{indent}{}: {}", function.name, function.signature);
    }
}
