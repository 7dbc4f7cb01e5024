//! Helpers shared by the `mother` binary's tests: run it in a given
//! `$PATINA_HOME` and read what it printed.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

/// Runs `mother` with `args` in the state directory `home`.
pub fn mother(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mother"))
        .env("PATINA_HOME", home)
        .env_remove("PATINA_LOG")
        .args(args)
        .output()
        .expect("mother runs")
}

/// Bytes as (lossy) text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The JSON `mother` printed on stdout.
pub fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", text(&output.stdout), text(&output.stderr)))
}
