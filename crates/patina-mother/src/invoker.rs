//! [`MotherInvoker`]: how a Mother runs a child that another child invokes
//! (the backend of the `invoke` toy).
//!
//! The callee runs with the grants it was installed with (`mother install
//! --name NAME --grant ...`), never the caller's, carries the call chain on
//! (so the toy refuses cycles), and is always recorded: its receipt joins
//! this Mother's chain and its id is part of the caller's answer, so every
//! nested call appears in the caller's receipt. Its limits are the toy's:
//! never more than the caller's, and a deadline before the caller's, so the
//! callee's run ends (and is recorded) before the caller is cut off; the
//! deadline is not recorded, so the callee's transcript is the same from
//! any caller (or from none). The
//! policy (which names a caller may call, cycles, depth) lives in the toy,
//! not here; this module must never widen it.

use std::sync::Arc;

use patina_core::ChildId;
use patina_host::{Call, RunRequest};
use patina_toys::{Invocation, InvokeAnswer, InvokeError, InvokeRequest, Invoker};
use tracing::Instrument;

use patina_core::Grant;
use patina_host::Child;

use crate::{MotherError, Runner, chain_message};

/// Runs invoked children through a [`Runner`] (held strongly: the runner
/// does not know the invoker, the `invoke` toy holds the invoker weakly).
#[derive(Debug)]
pub struct MotherInvoker {
    runner: Arc<Runner>,
}

impl MotherInvoker {
    /// An invoker running callees on `runner`.
    pub fn new(runner: Arc<Runner>) -> Self {
        Self { runner }
    }
}

#[async_trait::async_trait]
impl Invoker for MotherInvoker {
    async fn resolve(&self, name: &str) -> Result<ChildId, InvokeError> {
        // Reading `names/<name>` is file I/O: off the async runtime.
        let owned = name.to_owned();
        let found = self
            .runner
            .blocking(move |runner| runner.children().named(&owned))
            .await
            .map_err(|e| InvokeError::Lookup {
                reason: e.to_string(),
            })?;
        found.ok_or_else(|| InvokeError::NotInstalled { name: name.into() })
    }

    async fn invoke(&self, request: InvokeRequest) -> Result<InvokeAnswer, InvokeError> {
        let span = tracing::info_span!("invoke", callee = %request.callee, name = %request.name);
        self.invoke_in(request).instrument(span).await
    }
}

impl MotherInvoker {
    async fn invoke_in(&self, request: InvokeRequest) -> Result<InvokeAnswer, InvokeError> {
        let name = request.name.as_str();
        // Reading, hashing and (on a cache miss) compiling the callee is
        // blocking work.
        let (owned, callee) = (name.to_owned(), request.callee);
        let (grants, child) = self
            .runner
            .blocking(move |runner| Ok(load_callee(runner, &owned, &callee)))
            .await
            .map_err(|e| InvokeError::Loading {
                name: name.into(),
                reason: match e {
                    MotherError::Task(panic) => panic,
                    e => e.to_string(),
                },
            })??;
        let call = match &request.invocation {
            Invocation::Call(wave) => Call::Wave(wave.clone()),
            Invocation::CallJson { function, args } => Call::Json {
                function: function.clone(),
                args: serde_json::from_str(args).map_err(|e| InvokeError::NotStarted {
                    name: name.into(),
                    reason: format!("the arguments are not JSON: {e}"),
                })?,
            },
            Invocation::Run(args) => Call::Command { args: args.clone() },
        };
        let mut run = RunRequest::new(call);
        // Canonical since the install: run exactly as stored, refused if a
        // part of a path has been swapped (e.g. for a symlink) since.
        run.grants = grants;
        run.grants_fixed = true;
        run.invoked_by = request.chain.clone();
        run.limits = request.limits;
        run.deadline = Some(request.deadline);
        let output = self
            .runner
            .run(&child, &run, &patina_receipts::Attribution::default())
            .await
            .map_err(|e| match e {
                MotherError::Refused(e) => InvokeError::NotStarted {
                    name: name.into(),
                    reason: e.to_string(),
                },
                e => InvokeError::Recording {
                    name: name.into(),
                    reason: chain_message(&e),
                },
            })?;
        let receipt = output.receipt.as_ref().map(|r| r.id.to_string());
        let report = &output.report;
        let returned = match &report.outcome {
            Ok(returned) => returned,
            Err(error) => {
                return Err(InvokeError::Failed {
                    name: name.into(),
                    reason: error.to_string(),
                    receipt,
                });
            }
        };
        Ok(match request.invocation {
            Invocation::Call(_) => InvokeAnswer::Called {
                value: report.wave().unwrap_or_default(),
                receipt,
            },
            Invocation::CallJson { .. } => InvokeAnswer::Called {
                value: report.json().unwrap_or_default().to_string(),
                receipt,
            },
            Invocation::Run(_) => InvokeAnswer::Ran {
                exit_code: u32::try_from(returned.exit_code.unwrap_or(0)).unwrap_or(u32::MAX),
                stdout: report.stdout.clone(),
                stderr: report.stderr.clone(),
                receipt,
            },
        })
    }
}

/// The install grants and the loaded bytes of the callee installed as
/// `name` (blocking), or the refusal the caller gets.
fn load_callee(
    runner: &Runner,
    name: &str,
    callee: &ChildId,
) -> Result<(Vec<Grant>, Child), InvokeError> {
    let load = |reason: String| InvokeError::Load {
        name: name.into(),
        reason,
    };
    let grants = runner
        .children()
        .grants(name, callee)
        .map_err(|e| InvokeError::Grants {
            name: name.into(),
            reason: e.to_string(),
        })?;
    let bytes = runner
        .children()
        .read(callee)
        .map_err(|e| load(e.to_string()))?;
    let child = runner
        .host()
        .load(&bytes)
        .map_err(|e| load(e.to_string()))?;
    Ok((grants, child))
}
