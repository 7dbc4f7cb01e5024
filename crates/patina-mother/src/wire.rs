//! The wire types: what a caller asks of a Mother ([`RunSpec`]) and what one
//! run comes back as ([`RunSummary`], [`ReplaySummary`], [`Installed`]).
//!
//! They are plain data with serde `Serialize` + `Deserialize`, so the same
//! values cross `mother --json`, a Unix socket, a libp2p stream, an HTTP body
//! or an MCP tool call unchanged. The JSON shape of [`RunSummary`] is exactly
//! what `mother run --json` has always printed. This module must never hold a
//! live object (a child, a report, a store) or decide anything: it describes
//! a request and an answer, the [`crate::Mother`] acts on them.

use patina_core::{ChildId, Grant, Limits};
use patina_host::{Call, LogLine, Returned, RunFailure, RunMode, RunReport, RunRequest, values};
use patina_receipts::{Digest, Divergence, ReceiptId};
use serde::{Deserialize, Serialize};

use crate::{ChildRef, MotherError};

/// What to call.
///
/// JSON: `{"wave": "add(2, 3)"}`, `{"json": {"function": "add", "args": [2, 3]}}`
/// or `{"command": {"args": ["--ls", "/data"]}}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallSpec {
    /// A WAVE call expression such as `add(2, 3)` or `ops.greet("ann")`.
    Wave(String),
    /// A function name and its arguments as a JSON array.
    Json {
        /// The function (same names as for WAVE calls).
        function: String,
        /// One JSON value per parameter.
        args: serde_json::Value,
    },
    /// Run a `wasi:cli/command` child with these arguments (after argv\[0\]).
    Command {
        /// The arguments.
        #[serde(default)]
        args: Vec<String>,
    },
}

/// Limits asked for; each one left out is the host's default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LimitsSpec {
    /// Fuel budget (about one unit per wasm instruction).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fuel: Option<u64>,
    /// Wall-clock deadline in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    /// Memory cap in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<u64>,
    /// Cap on captured stdout and on captured stderr, in bytes each.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<u64>,
}

impl LimitsSpec {
    /// The limits of the run: the host's defaults with these applied.
    pub fn limits(&self) -> Limits {
        let mut limits = Limits::default();
        if let Some(fuel) = self.fuel {
            limits.fuel = fuel;
        }
        if let Some(ms) = self.timeout_ms {
            limits.timeout = std::time::Duration::from_millis(ms);
        }
        if let Some(memory) = self.memory {
            limits.memory = memory;
        }
        if let Some(output) = self.output {
            limits.output = output;
        }
        limits
    }
}

/// Whether a run is recorded. JSON: `"record"` or `"live"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModeSpec {
    /// Record every toy call and sign a receipt (the default).
    #[default]
    Record,
    /// Run without recording or a receipt.
    Live,
}

/// One run asked of a Mother.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunSpec {
    /// The child.
    pub child: ChildRef,
    /// What to call.
    pub call: CallSpec,
    /// Grants in their text form (`log`, `fs:/data:ro`, ...), checked by the Mother.
    #[serde(default)]
    pub grants: Vec<String>,
    /// Fuel, deadline, memory and output bounds.
    #[serde(default)]
    pub limits: LimitsSpec,
    /// Record (default) or live.
    #[serde(default)]
    pub mode: ModeSpec,
    /// Link ungranted imports to stubs that fail with `denied: <import>`
    /// instead of refusing the run.
    #[serde(default)]
    pub deny_missing: bool,
    /// The path grants are already resolved, as a membrane checked them
    /// against the caller's ceiling: the host refuses one that no longer
    /// resolves to itself ([`RunRequest::grants_fixed`]). Never read from
    /// the wire: only the one that checked the grants sets it.
    #[serde(skip)]
    pub grants_fixed: bool,
}

impl RunSpec {
    /// A recorded call of `child` with no grants and default limits.
    pub fn new(child: ChildRef, call: CallSpec) -> Self {
        Self {
            child,
            call,
            grants: Vec::new(),
            limits: LimitsSpec::default(),
            mode: ModeSpec::Record,
            deny_missing: false,
            grants_fixed: false,
        }
    }

    /// The host request this spec asks for (its grants parsed; the host
    /// checks the rest).
    pub fn request(&self) -> Result<RunRequest, MotherError> {
        let grants = parse_grants(&self.grants)?;
        let call = match &self.call {
            CallSpec::Wave(text) => Call::Wave(text.clone()),
            CallSpec::Json { function, args } => Call::Json {
                function: function.clone(),
                args: args.clone(),
            },
            CallSpec::Command { args } => Call::Command { args: args.clone() },
        };
        Ok(RunRequest {
            call,
            grants,
            deny_missing: self.deny_missing,
            limits: self.limits.limits(),
            // argv[0] is the child id (the default), not how this caller named
            // the child, so the same run has the same transcript on every Mother.
            program_name: None,
            mode: match self.mode {
                ModeSpec::Record => RunMode::Record,
                ModeSpec::Live => RunMode::Live,
            },
            invoked_by: Vec::new(),
            grants_fixed: self.grants_fixed,
            deadline: None,
        })
    }
}

/// Grants in their text form, parsed (not yet checked against the toys).
pub fn parse_grants(grants: &[String]) -> Result<Vec<Grant>, MotherError> {
    grants
        .iter()
        .map(|g| g.parse::<Grant>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(MotherError::Grant)
}

/// A typed error in an answer: its stable kind and its message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorSummary {
    /// The machine-readable kind (`out-of-fuel`, `trap`, `divergence`, ...).
    pub kind: String,
    /// For people.
    pub message: String,
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RunOutcome {
    /// The call returned (a command child ran to its exit).
    Returned {
        /// The results as JSON (`null` when the function returns nothing).
        result: serde_json::Value,
        /// The results as WAVE text (empty when the function returns nothing).
        wave: String,
        /// A command child's exit status.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        exit_code: Option<i32>,
    },
    /// The run started and stopped without results.
    Failed {
        /// Why (`out-of-fuel`, `deadline-exceeded`, `trap`, ...).
        error: ErrorSummary,
    },
}

/// One finished run, as `mother run --json` prints it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    /// The child that ran.
    pub child: ChildId,
    /// The full name of the function called.
    pub call: String,
    /// Its arguments, each in WAVE.
    pub args: Vec<String>,
    /// The canonical grants of the run.
    pub grants: Vec<Grant>,
    /// Fuel consumed.
    pub fuel: u64,
    /// Wall-clock time of instantiation and call, in milliseconds.
    pub elapsed_ms: f64,
    /// Captured stdout (invalid UTF-8 replaced).
    pub stdout: String,
    /// Captured stderr (invalid UTF-8 replaced).
    pub stderr: String,
    /// Lines logged through the `log` toy.
    pub logs: Vec<LogLine>,
    /// Problems after the call that did not change its outcome.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Results or error.
    #[serde(flatten)]
    pub outcome: RunOutcome,
    /// The receipt of a recorded run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt: Option<ReceiptId>,
}

impl RunSummary {
    /// The summary of `report`, recorded as `receipt` (if it was).
    pub fn of(report: &RunReport, receipt: Option<ReceiptId>) -> Self {
        let outcome = match &report.outcome {
            Ok(returned) => RunOutcome::Returned {
                result: values::results_json(&returned.results),
                wave: values::results_wave(&returned.results),
                exit_code: returned.exit_code,
            },
            Err(error) => RunOutcome::Failed {
                error: ErrorSummary {
                    kind: error.kind().to_owned(),
                    message: error.to_string(),
                },
            },
        };
        Self {
            child: report.child,
            call: report.function.clone(),
            args: report.args.iter().map(values::wave).collect(),
            grants: report.grants.clone(),
            fuel: report.fuel_consumed,
            elapsed_ms: report.elapsed.as_secs_f64() * 1000.0,
            stdout: String::from_utf8_lossy(&report.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&report.stderr).into_owned(),
            logs: report.logs.clone(),
            warnings: report.warnings.clone(),
            outcome,
            receipt,
        }
    }

    /// The exit status a process reporting this run ends with (see
    /// [`exit_status`]).
    pub fn exit_status(&self) -> u8 {
        status(match &self.outcome {
            RunOutcome::Returned { exit_code, .. } => Some(*exit_code),
            RunOutcome::Failed { .. } => None,
        })
    }
}

/// The exit status a process reporting a run that ended with `outcome` ends
/// with: a command's own status (1 for one that does not fit in a byte), 0
/// for a call that returned, 1 for a run that failed.
pub fn exit_status(outcome: &Result<Returned, RunFailure>) -> u8 {
    status(outcome.as_ref().ok().map(|returned| returned.exit_code))
}

/// `returned`: the exit code of a run that returned, `None` for one that failed.
fn status(returned: Option<Option<i32>>) -> u8 {
    match returned {
        Some(exit_code) => exit_code.map_or(0, |code| u8::try_from(code).unwrap_or(FAILED)),
        None => FAILED,
    }
}

/// The exit status of a run that failed.
const FAILED: u8 = 1;

/// One replay, as `mother replay --json` prints it: the replayed run and
/// how it compares with its receipt.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReplaySummary {
    /// The replayed run.
    #[serde(flatten)]
    pub run: RunSummary,
    /// The receipt replayed.
    pub replay_of: ReceiptId,
    /// Whether the replay reproduced the recorded run.
    pub matched: bool,
    /// `false` when the recorded run used authority not recorded call by
    /// call, so a match cannot prove the replay exact.
    pub exact: bool,
    /// The transcript hash of the replayed run.
    pub transcript_hash: Digest,
    /// The transcript hash the receipt recorded.
    pub recorded_transcript_hash: Digest,
    /// Where the replay first differed (`null`: it matched).
    pub divergence: Option<Divergence>,
}

/// A child just installed, as `mother install --json` prints it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Installed {
    /// Its id.
    pub child: ChildId,
    /// The name it was installed as.
    pub name: Option<String>,
    /// Size in bytes.
    pub size: u64,
    /// The canonical grants it runs with when another child invokes it.
    pub grants: Vec<Grant>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(outcome: RunOutcome) -> RunSummary {
        RunSummary {
            child: ChildId::of(b"child"),
            call: "add".into(),
            args: vec!["2".into(), "3".into()],
            grants: vec!["log".parse().unwrap()],
            fuel: 1234,
            elapsed_ms: 1.5,
            stdout: "out".into(),
            stderr: String::new(),
            logs: Vec::new(),
            warnings: Vec::new(),
            outcome,
            receipt: Some(ReceiptId(Digest::of("test", b"r"))),
        }
    }

    #[test]
    fn a_run_spec_round_trips_and_defaults_what_is_left_out() {
        let mut spec = RunSpec::new(
            ChildRef::Installed("calc".into()),
            CallSpec::Json {
                function: "add".into(),
                args: serde_json::json!([2, 3]),
            },
        );
        spec.grants.push("fs:/data:ro".into());
        spec.limits.timeout_ms = Some(500);
        spec.mode = ModeSpec::Live;
        let json = serde_json::to_string(&spec).unwrap();
        assert_eq!(serde_json::from_str::<RunSpec>(&json).unwrap(), spec);

        let short: RunSpec = serde_json::from_str(
            r#"{"child": {"installed": "calc"}, "call": {"wave": "add(2, 3)"}}"#,
        )
        .unwrap();
        assert_eq!(short.mode, ModeSpec::Record);
        assert_eq!(short.request().unwrap().limits, Limits::default());
        let command: CallSpec = serde_json::from_str(r#"{"command": {}}"#).unwrap();
        assert_eq!(command, CallSpec::Command { args: Vec::new() });
    }

    #[test]
    fn a_bad_grant_in_a_spec_is_a_typed_error() {
        let mut spec = RunSpec::new(
            ChildRef::Installed("x".into()),
            CallSpec::Wave("f()".into()),
        );
        spec.grants.push("Not A Grant".into());
        let error = spec.request().unwrap_err();
        assert!(matches!(error, MotherError::Grant(_)), "{error:?}");
        assert_eq!(error.kind(), "bad-grant");
    }

    #[test]
    fn summaries_round_trip_through_json() {
        let returned = summary(RunOutcome::Returned {
            result: serde_json::json!(5),
            wave: "5".into(),
            exit_code: None,
        });
        let failed = summary(RunOutcome::Failed {
            error: ErrorSummary {
                kind: "out-of-fuel".into(),
                message: "out of fuel".into(),
            },
        });
        let nothing = summary(RunOutcome::Returned {
            result: serde_json::Value::Null,
            wave: String::new(),
            exit_code: Some(3),
        });
        for run in [returned, failed, nothing] {
            let json = serde_json::to_string(&run).unwrap();
            assert_eq!(
                serde_json::from_str::<RunSummary>(&json).unwrap(),
                run,
                "{json}"
            );
            let replay = ReplaySummary {
                run: RunSummary {
                    receipt: None,
                    ..run
                },
                replay_of: ReceiptId(Digest::of("test", b"r")),
                matched: false,
                exact: true,
                transcript_hash: Digest::of("test", b"a"),
                recorded_transcript_hash: Digest::of("test", b"b"),
                divergence: Some(Divergence {
                    index: 2,
                    expected: Some("x".into()),
                    got: None,
                }),
            };
            let json = serde_json::to_string(&replay).unwrap();
            assert_eq!(
                serde_json::from_str::<ReplaySummary>(&json).unwrap(),
                replay,
                "{json}"
            );
        }
    }

    #[test]
    fn the_summary_has_the_fields_mother_run_json_always_printed() {
        let value = serde_json::to_value(summary(RunOutcome::Returned {
            result: serde_json::json!(5),
            wave: "5".into(),
            exit_code: None,
        }))
        .unwrap();
        let mut keys: Vec<&str> = value
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "args",
                "call",
                "child",
                "elapsed_ms",
                "fuel",
                "grants",
                "logs",
                "receipt",
                "result",
                "stderr",
                "stdout",
                "wave"
            ]
        );
        assert_eq!(value["child"], ChildId::of(b"child").to_string());
        assert_eq!(value["grants"], serde_json::json!(["log"]));
    }
}
