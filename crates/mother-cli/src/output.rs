//! How `mother` reports: one-line errors (`error[kind]: message`) or, with
//! `--json`, `{"error": {"kind": ..., "message": ...}}`, always with a
//! non-zero exit status.

use std::process::ExitCode;

use patina_core::{GrantError, LimitsError};
use patina_host::{HostError, LoadError, RunFailure, RunRefused};

/// Exit status of a run or command that failed.
pub const FAILURE: u8 = 1;

/// The machine-readable kind of an error anywhere in `error`'s chain.
pub fn kind(error: &anyhow::Error) -> &'static str {
    for cause in error.chain() {
        if let Some(host) = cause.downcast_ref::<HostError>() {
            return host.kind();
        }
        if let Some(load) = cause.downcast_ref::<LoadError>() {
            return load.kind();
        }
        if let Some(refused) = cause.downcast_ref::<RunRefused>() {
            return refused.kind();
        }
        if let Some(failure) = cause.downcast_ref::<RunFailure>() {
            return failure.kind();
        }
        if let Some(receipt) = cause.downcast_ref::<patina_receipts::ReceiptError>() {
            return receipt.kind();
        }
        if cause.downcast_ref::<GrantError>().is_some() {
            return "bad-grant";
        }
        if cause.downcast_ref::<LimitsError>().is_some() {
            return "bad-limit";
        }
        if cause.downcast_ref::<serde_json::Error>().is_some() {
            return "bad-json";
        }
        if cause.downcast_ref::<std::io::Error>().is_some() {
            return "io";
        }
    }
    "error"
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
