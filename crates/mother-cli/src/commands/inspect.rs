//! `mother inspect <CHILD> [--json|--wit|--json-schema]`: id, imports (and
//! how each would be served: base, toy + grant, or unserved) and exports,
//! with WIT types; or each command's JSON Schemas (the same the HTTP bridge
//! serves, `patina_bridge::schemas`).
//!
//! It prints the description the membrane sends (`describe_json`), so the
//! output is the same embedded and through `--connect`.

use std::process::ExitCode;

use anyhow::Result;
use patina_mother::ChildRef;
use serde_json::Value;

use crate::cli::InspectArgs;
use crate::door::Door;
use crate::output;

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or_default()
}

fn list(value: &Value) -> &[Value] {
    value.as_array().map_or(&[], Vec::as_slice)
}

pub async fn run(mother: &Door, args: InspectArgs) -> Result<ExitCode> {
    let mut description = mother
        .describe(&ChildRef::from_argument(&args.child))
        .await?;
    if args.json_schema {
        output::print_json(&serde_json::json!({
            "child": description["child"],
            "commands": patina_bridge::schemas::commands(&description),
        }));
        return Ok(ExitCode::SUCCESS);
    }
    if args.wit {
        print!("{}", text(&description["wit"]));
        return Ok(ExitCode::SUCCESS);
    }
    if args.json {
        if let Some(object) = description.as_object_mut() {
            object.remove("wit");
        }
        output::print_json(&description);
        return Ok(ExitCode::SUCCESS);
    }
    let kind = if description["command"].as_bool().unwrap_or(false) {
        "command (run it with `-- ARGS`)"
    } else {
        "library of typed exports"
    };
    println!("child   {}", text(&description["child"]));
    println!("size    {} bytes, {kind}", description["size"]);
    println!("imports");
    for item in list(&description["imports"]) {
        let status = text(&item["status"]);
        let how = match status {
            "base" => "base: linked, no authority".to_owned(),
            "toy" => format!("toy: needs --grant {}", text(&item["grant"])),
            _ => "unserved: refused unless --deny-missing".to_owned(),
        };
        println!("  {:<44} {how}", text(&item["name"]));
        if status != "base" {
            print_functions(item, "    ");
        }
    }
    println!("exports");
    for item in list(&description["exports"]) {
        let functions = list(&item["functions"]);
        if functions.len() == 1 && functions[0]["name"] == item["name"] {
            println!(
                "  {}: {}",
                text(&item["name"]),
                text(&functions[0]["signature"])
            );
        } else {
            println!("  {}", text(&item["name"]));
            print_functions(item, "    ");
        }
        for ty in list(&item["types"]) {
            println!("    {}", text(ty));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_functions(item: &Value, indent: &str) {
    for function in list(&item["functions"]) {
        println!(
            "{indent}{}: {}",
            text(&function["name"]),
            text(&function["signature"])
        );
    }
}
