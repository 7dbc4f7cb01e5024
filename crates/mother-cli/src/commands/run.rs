//! `mother run <CHILD> [CALL] [--grant G]... [-- ARGS...]`: one run, printed as
//! WAVE for people or as one JSON object with `--json`.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use patina_core::{parse_duration, parse_size};
use patina_mother::{CallSpec, ChildRef, LimitsSpec, ModeSpec, RunOutcome, RunSpec};

use crate::cli::{ModeArg, RunArgs};
use crate::door::{Door, RunView};
use crate::output;

pub async fn run(mother: &Door, args: RunArgs) -> Result<ExitCode> {
    let spec = spec(&args)?;
    let ran = match &args.on {
        Some(peer) => mother.run_on(peer, spec).await?,
        None => mother.run(spec).await?,
    };
    print(&ran, args.json)
}

/// The run the command line asks for.
pub fn spec(args: &RunArgs) -> Result<RunSpec> {
    let call = match (&args.call, &args.args_json) {
        (Some(function), Some(json)) => CallSpec::Json {
            function: function.clone(),
            args: serde_json::from_str(json).context("--args-json must be a JSON array")?,
        },
        (None, Some(_)) => bail!("--args-json needs the function name as CALL"),
        (Some(_), None) if !args.args.is_empty() => {
            bail!(
                "arguments after `--` are for command children; a typed call takes them in CALL, e.g. 'add(2, 3)'"
            )
        }
        (Some(call), None) => CallSpec::Wave(call.clone()),
        (None, None) => CallSpec::Command {
            args: args.args.clone(),
        },
    };
    let timeout = args.timeout.as_deref().map(parse_duration).transpose()?;
    let limits = LimitsSpec {
        fuel: args.fuel,
        timeout_ms: timeout.map(|t| u64::try_from(t.as_millis()).unwrap_or(u64::MAX)),
        memory: args.memory.as_deref().map(parse_size).transpose()?,
        output: None,
    };
    Ok(RunSpec {
        child: ChildRef::from_argument(&args.child),
        call,
        grants: args.grants.clone(),
        limits,
        mode: match args.mode {
            ModeArg::Record => ModeSpec::Record,
            ModeArg::Live => ModeSpec::Live,
        },
        deny_missing: args.deny_missing,
        grants_fixed: false,
    })
}

/// Prints a run and returns the exit status: the command's own status, 0
/// for a call that returned, 1 for a run that failed.
pub fn print(run: &RunView, json: bool) -> Result<ExitCode> {
    let summary = &run.summary;
    if json {
        output::print_json(&serde_json::to_value(summary)?);
    } else {
        print_text(run);
        if let Some(receipt) = &summary.receipt {
            eprintln!("receipt {receipt}");
        }
    }
    Ok(ExitCode::from(summary.exit_status()))
}

fn print_text(run: &RunView) {
    let summary = &run.summary;
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(&run.stdout);
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_all(&run.stderr);
    for line in &summary.logs {
        let _ = writeln!(stderr, "[{}] {}", line.level.as_str(), line.message);
    }
    for warning in &summary.warnings {
        let _ = writeln!(stderr, "warning: {warning}");
    }
    if run.logs_dropped > 0 {
        let _ = writeln!(stderr, "[{} more log lines dropped]", run.logs_dropped);
    }
    match &summary.outcome {
        RunOutcome::Returned {
            wave,
            exit_code: None,
            ..
        } => {
            if !wave.is_empty() {
                let _ = writeln!(stdout, "{wave}");
            }
        }
        RunOutcome::Returned { .. } => {}
        RunOutcome::Failed { error } => {
            let _ = writeln!(stderr, "error[{}]: {}", error.kind, error.message);
        }
    }
}
