//! [`MotherInvoker`]: how this Mother runs a child that another child
//! invokes (the `invoke` toy's backend).
//!
//! The callee runs with the grants it was installed with (`mother install
//! --name NAME --grant ...`), never the caller's, carries the call chain on
//! (so the toy refuses cycles), and is always recorded: its receipt joins
//! this Mother's chain and its id is part of the caller's answer, so every
//! nested call appears in the caller's receipt. Its limits are the toy's:
//! never more than the caller's, and a deadline before the caller's, so the
//! callee's run ends (and is recorded) before the caller is cut off. The policy (which names a
//! caller may call, cycles, depth) lives in the toy, not here.

use std::sync::{Arc, Weak};

use patina_core::ChildId;
use patina_host::{Call, RunRequest};
use patina_toys::{Invocation, InvokeAnswer, InvokeError, InvokeRequest, Invoker};
use tracing::Instrument;

use crate::mother::Mother;

/// Runs invoked children on a [`Mother`].
pub struct MotherInvoker {
    mother: Weak<Mother>,
}

impl MotherInvoker {
    /// An invoker for `mother` (held weakly: the Mother owns the invoker).
    pub fn new(mother: Weak<Mother>) -> Self {
        Self { mother }
    }

    fn mother(&self) -> Result<Arc<Mother>, InvokeError> {
        self.mother
            .upgrade()
            .ok_or_else(|| InvokeError::Unavailable {
                reason: "the Mother is shutting down".to_owned(),
            })
    }
}

#[async_trait::async_trait]
impl Invoker for MotherInvoker {
    fn resolve(&self, name: &str) -> Result<ChildId, InvokeError> {
        self.mother()?
            .children
            .named(name)
            .map_err(|e| InvokeError::Lookup {
                reason: e.to_string(),
            })?
            .ok_or_else(|| InvokeError::NotInstalled { name: name.into() })
    }

    async fn invoke(&self, request: InvokeRequest) -> Result<InvokeAnswer, InvokeError> {
        let span = tracing::info_span!("invoke", callee = %request.callee, name = %request.name);
        self.invoke_in(request).instrument(span).await
    }
}

impl MotherInvoker {
    async fn invoke_in(&self, request: InvokeRequest) -> Result<InvokeAnswer, InvokeError> {
        let mother = self.mother()?;
        let name = request.name.as_str();
        // Reading, hashing and (on a cache miss) compiling the callee is
        // blocking work.
        let (grants, child) = {
            let (mother, owned, callee) = (mother.clone(), name.to_owned(), request.callee);
            tokio::task::spawn_blocking(move || {
                let name = owned.as_str();
                let load = |reason: String| InvokeError::Load {
                    name: name.into(),
                    reason,
                };
                let grants =
                    mother
                        .children
                        .grants(name, &callee)
                        .map_err(|e| InvokeError::Grants {
                            name: name.into(),
                            reason: e.to_string(),
                        })?;
                let bytes = mother
                    .children
                    .read(&callee)
                    .map_err(|e| load(e.to_string()))?;
                let child = mother.host.load(&bytes).map_err(|e| load(e.to_string()))?;
                Ok::<_, InvokeError>((grants, child))
            })
            .await
            .map_err(|e| InvokeError::Loading {
                name: name.into(),
                reason: e.to_string(),
            })??
        };
        let call = match &request.invocation {
            Invocation::Call(wave) => Call::Wave(wave.clone()),
            Invocation::Run(args) => Call::Command { args: args.clone() },
        };
        let mut run = RunRequest::new(call);
        run.grants = grants;
        run.invoked_by = request.chain.clone();
        run.limits = request.limits;
        let mut report =
            mother
                .host
                .run(&child, &run)
                .await
                .map_err(|e| InvokeError::NotStarted {
                    name: name.into(),
                    reason: e.to_string(),
                })?;
        // Sealing and the durable append are blocking work.
        let (recorded, report) = {
            let (mother, child) = (mother.clone(), child.clone());
            tokio::task::spawn_blocking(move || (mother.record(&child, &mut report), report))
                .await
                .map_err(|e| InvokeError::Recording {
                    name: name.into(),
                    reason: e.to_string(),
                })?
        };
        let receipt = recorded
            .map_err(|e| InvokeError::Recording {
                name: name.into(),
                reason: format!("{e:#}"),
            })?
            .map(|receipt| receipt.id.to_string());
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
            Invocation::Run(_) => InvokeAnswer::Ran {
                exit_code: u32::try_from(returned.exit_code.unwrap_or(0)).unwrap_or(u32::MAX),
                stdout: report.stdout.clone(),
                stderr: report.stderr.clone(),
                receipt,
            },
        })
    }
}
