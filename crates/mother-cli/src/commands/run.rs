//! `mother run <CHILD> [CALL] [--grant G]... [-- ARGS...]`: one run, printed as
//! WAVE for people or as one JSON object with `--json`.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use patina_core::{Grant, Limits, parse_duration, parse_size};
use patina_host::{Call, RunMode, RunReport, RunRequest, values};
use patina_receipts::Receipt;

use crate::cli::{ModeArg, RunArgs};
use crate::mother::Mother;
use crate::output::{self, FAILURE};

pub async fn run(mother: &Mother, args: RunArgs) -> Result<ExitCode> {
    let child = mother.load(&args.child)?;
    let request = request(&args)?;
    let mut report = mother.host.run(&child, &request).await?;
    let receipt = mother.record(&child, &mut report)?;
    Ok(print(&report, receipt.as_ref(), args.json))
}

/// Builds the run request from the command line.
pub fn request(args: &RunArgs) -> Result<RunRequest> {
    let call = match (&args.call, &args.args_json) {
        (Some(function), Some(json)) => Call::Json {
            function: function.clone(),
            args: serde_json::from_str(json).context("--args-json must be a JSON array")?,
        },
        (None, Some(_)) => bail!("--args-json needs the function name as CALL"),
        (Some(_), None) if !args.args.is_empty() => {
            bail!(
                "arguments after `--` are for command children; a typed call takes them in CALL, e.g. 'add(2, 3)'"
            )
        }
        (Some(call), None) => Call::Wave(call.clone()),
        (None, None) => Call::Command {
            args: args.args.clone(),
        },
    };
    let grants = args
        .grants
        .iter()
        .map(|g| g.parse::<Grant>())
        .collect::<Result<Vec<_>, _>>()?;
    let mut limits = Limits::default();
    if let Some(fuel) = args.fuel {
        limits.fuel = fuel;
    }
    if let Some(timeout) = &args.timeout {
        limits.timeout = parse_duration(timeout)?;
    }
    if let Some(memory) = &args.memory {
        limits.memory = parse_size(memory)?;
    }
    Ok(RunRequest {
        call,
        grants,
        deny_missing: args.deny_missing,
        limits,
        // argv[0] is the child id (the default), not how this user named the
        // child, so the same run has the same transcript on every Mother.
        program_name: None,
        mode: match args.mode {
            ModeArg::Record => RunMode::Record,
            ModeArg::Live => RunMode::Live,
        },
        invoked_by: Vec::new(),
    })
}

/// Prints a report and returns the exit status: the command's own status, 0
/// for a call that returned, 1 for a run that failed.
pub fn print(report: &RunReport, receipt: Option<&Receipt>, json: bool) -> ExitCode {
    let status = match &report.outcome {
        Ok(returned) => returned
            .exit_code
            .map_or(0, |code| u8::try_from(code).unwrap_or(FAILURE)),
        Err(_) => FAILURE,
    };
    if json {
        let mut value = report_json(report);
        if let Some(receipt) = receipt {
            value["receipt"] = receipt.id.to_string().into();
        }
        output::print_json(&value);
    } else {
        print_text(report);
        if let Some(receipt) = receipt {
            eprintln!("receipt {}", receipt.id);
        }
    }
    ExitCode::from(status)
}

/// The report as the JSON object `mother run --json` prints.
pub fn report_json(report: &RunReport) -> serde_json::Value {
    let mut value = serde_json::json!({
        "child": report.child,
        "call": report.function,
        "args": report.args.iter().map(values::wave).collect::<Vec<_>>(),
        "grants": report.grants,
        "fuel": report.fuel_consumed,
        "elapsed_ms": report.elapsed.as_secs_f64() * 1000.0,
        "stdout": String::from_utf8_lossy(&report.stdout),
        "stderr": String::from_utf8_lossy(&report.stderr),
        "logs": report.logs,
    });
    if !report.warnings.is_empty() {
        value["warnings"] = serde_json::json!(report.warnings);
    }
    match &report.outcome {
        Ok(returned) => {
            value["result"] = values::results_json(&returned.results);
            value["wave"] = values::results_wave(&returned.results).into();
            if let Some(code) = returned.exit_code {
                value["exit_code"] = code.into();
            }
        }
        Err(error) => {
            value["error"] =
                serde_json::json!({ "kind": error.kind(), "message": error.to_string() });
        }
    }
    value
}

fn print_text(report: &RunReport) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(&report.stdout);
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_all(&report.stderr);
    for line in &report.logs {
        let _ = writeln!(stderr, "[{}] {}", line.level.as_str(), line.message);
    }
    for warning in &report.warnings {
        let _ = writeln!(stderr, "warning: {warning}");
    }
    if report.logs_dropped > 0 {
        let _ = writeln!(stderr, "[{} more log lines dropped]", report.logs_dropped);
    }
    match &report.outcome {
        Ok(returned) if returned.exit_code.is_none() => {
            let wave = values::results_wave(&returned.results);
            if !wave.is_empty() {
                let _ = writeln!(stdout, "{wave}");
            }
        }
        Ok(_) => {}
        Err(error) => {
            let _ = writeln!(stderr, "error[{}]: {error}", error.kind());
        }
    }
}
