//! The steps `mother demo` is made of: print a section, print the
//! equivalent `mother` command line and run it through the same code as
//! `mother run` / `mother replay`, and where the demo keeps its folders
//! (beside the Mother's home, never inside it). Shared by every part of the
//! demo; it knows nothing of what the demo shows.

use anyhow::Result;
use patina_mother::{Mother, MotherError};
use patina_receipts::ReceiptId;

use crate::cli::{ModeArg, ReplayArgs, RunArgs};
use crate::commands::replay;
use crate::commands::run as run_cmd;

/// Replays receipt `id` like `mother replay`, with a comment on the command line.
pub async fn replay_step(mother: &Mother, id: &ReceiptId, comment: &str) -> Result<()> {
    println!("$ mother replay {}   # {comment}", id.short());
    replay::run(
        &crate::door::Door::Embedded(mother.clone()),
        ReplayArgs {
            receipt: id.short(),
            json: false,
        },
    )
    .await
    .map(drop)
}

/// Where the demo keeps the folders it grants: beside the Mother's home, never
/// inside it (no grant may reach the Mother's own state).
pub fn workspace(mother: &Mother) -> std::path::PathBuf {
    let name = mother
        .root()
        .file_name()
        .map_or_else(|| "patina".into(), |n| n.to_string_lossy().into_owned());
    mother.root().with_file_name(format!("{name}-demo"))
}

pub fn section(title: &str) {
    println!("\n{title}");
}

pub enum Limit {
    Timeout(&'static str),
    Fuel(u64),
    Memory(&'static str),
}

pub fn args(child: &str, call: Option<&str>, grants: &[&str], argv: &[&str]) -> RunArgs {
    RunArgs {
        on: None,
        child: child.to_owned(),
        call: call.map(str::to_owned),
        grants: grants.iter().map(|g| (*g).to_owned()).collect(),
        deny_missing: false,
        fuel: None,
        timeout: None,
        memory: None,
        args_json: None,
        mode: ModeArg::Record,
        json: false,
        args: argv.iter().map(|a| (*a).to_owned()).collect(),
    }
}

fn command_line(args: &RunArgs) -> String {
    let mut line = format!("$ mother run {}", args.child);
    if let Some(call) = &args.call {
        line.push_str(&format!(" '{call}'"));
    }
    for grant in &args.grants {
        line.push_str(&format!(" --grant {grant}"));
    }
    if let Some(fuel) = args.fuel {
        line.push_str(&format!(" --fuel {fuel}"));
    }
    if let Some(timeout) = &args.timeout {
        line.push_str(&format!(" --timeout {timeout}"));
    }
    if let Some(memory) = &args.memory {
        line.push_str(&format!(" --memory {memory}"));
    }
    if !args.args.is_empty() {
        line.push_str(&format!(" -- {}", args.args.join(" ")));
    }
    line
}

/// Runs one step like `mother run` and prints it; returns the receipt id and
/// the returned value in WAVE, when there are any.
pub async fn execute(
    mother: &Mother,
    args: RunArgs,
) -> Result<(Option<ReceiptId>, Option<String>)> {
    println!("{}", command_line(&args));
    let spec = run_cmd::spec(&args)?;
    match mother.run(spec).await {
        Ok(ran) => {
            let report = &ran.report;
            for line in String::from_utf8_lossy(&report.stdout).lines() {
                println!("  {line}");
            }
            for line in String::from_utf8_lossy(&report.stderr).lines() {
                println!("  (stderr) {line}");
            }
            for line in &report.logs {
                println!("  [{}] {}", line.level.as_str(), line.message);
            }
            let wave = report.wave();
            match &report.outcome {
                Ok(returned) => match returned.exit_code {
                    Some(code) => println!("  exit status {code}"),
                    None => println!(
                        "  => {}",
                        patina_host::values::results_wave(&returned.results)
                    ),
                },
                Err(error) => println!("  error[{}]: {error}", error.kind()),
            }
            let receipt = ran.receipt.as_ref().map(|r| r.id);
            let shown = receipt.map_or(String::new(), |id| format!(", receipt {}", id.short()));
            println!(
                "  (fuel {}, {:.1} ms{shown})",
                report.fuel_consumed,
                report.elapsed.as_secs_f64() * 1000.0
            );
            return Ok((receipt, wave));
        }
        Err(MotherError::Refused(error)) => println!("  refused[{}]: {error}", error.kind()),
        Err(error) => return Err(error.into()),
    }
    Ok((None, None))
}

pub async fn step(
    mother: &Mother,
    child: &str,
    call: Option<&str>,
    grants: &[&str],
    argv: &[&str],
) -> Result<Option<ReceiptId>> {
    Ok(execute(mother, args(child, call, grants, argv)).await?.0)
}

pub async fn step_limited(mother: &Mother, call: &str, limit: Limit) -> Result<()> {
    let mut run_args = args("limits", Some(call), &[], &[]);
    match limit {
        Limit::Timeout(t) => run_args.timeout = Some(t.to_owned()),
        Limit::Fuel(f) => run_args.fuel = Some(f),
        Limit::Memory(m) => run_args.memory = Some(m.to_owned()),
    }
    execute(mother, run_args).await.map(drop)
}
