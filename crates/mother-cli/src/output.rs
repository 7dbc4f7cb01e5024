//! How `mother` reports: one-line errors (`error[kind]: message`) or, with
//! `--json`, `{"error": {"kind": ..., "message": ...}}`, always with a
//! non-zero exit status.

use std::process::ExitCode;

/// Exit status of a run or command that failed.
pub const FAILURE: u8 = 1;

/// The machine-readable kind of an error anywhere in `error`'s chain.
pub fn kind(error: &anyhow::Error) -> &'static str {
    error
        .chain()
        .find_map(patina_mother::known_kind)
        .unwrap_or("error")
}

/// The error as one JSON object.
pub fn error_json(error: &anyhow::Error) -> serde_json::Value {
    serde_json::json!({ "error": { "kind": kind(error), "message": format!("{error:#}") } })
}

/// Prints `error` and returns the failure exit status.
pub fn fail(error: &anyhow::Error, json: bool) -> ExitCode {
    if json {
        println!("{}", error_json(error));
    } else {
        eprintln!("error[{}]: {error:#}", kind(error));
    }
    ExitCode::from(FAILURE)
}

/// Prints a JSON value on one line.
pub fn print_json(value: &serde_json::Value) {
    println!("{value}");
}
