//! How `mother` reports: one-line errors (`error[kind]: message`) or, with
//! `--json`, `{"error": {"kind": ..., "message": ...}}`, always with a
//! non-zero exit status.

use std::process::ExitCode;

/// Exit status of a run or command that failed.
pub const FAILURE: u8 = 1;

/// The machine-readable kind of an error anywhere in `error`'s chain
/// (through `--connect`, the kind the served Mother sent).
pub fn kind(error: &anyhow::Error) -> String {
    error
        .chain()
        .find_map(|error| {
            if let Some(remote) = error.downcast_ref::<patina_membrane::RemoteError>() {
                return Some(remote.kind.clone());
            }
            if let Some(membrane) = error.downcast_ref::<patina_membrane::MembraneError>() {
                return Some(membrane.kind().to_owned());
            }
            if let Some(policy) = error.downcast_ref::<patina_membrane::PolicyError>() {
                return Some(policy.kind().to_owned());
            }
            if let Some(peer) = error.downcast_ref::<patina_peer::PeerError>() {
                return Some(peer.kind().to_owned());
            }
            patina_mother::known_kind(error).map(str::to_owned)
        })
        .unwrap_or_else(|| "error".to_owned())
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
