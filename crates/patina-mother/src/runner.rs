//! [`Runner`]: what every run of a Mother goes through — load the child
//! (off the async runtime, unless [`BlockingWork::Caller`] says so), run
//! it on the host, record it — shared by [`crate::Mother::run`] and the
//! [`crate::MotherInvoker`] that runs the children other children invoke.
//!
//! It holds the host, the installed children and the [`Recorder`], never
//! the [`crate::Mother`]: the `invoke` toy inside the host reaches the runner
//! through its slot, so nothing points back up and there is no cycle. It
//! must never run a child without recording it when the request asks for a
//! recording, and never do blocking work (file reads, hashing, compiling,
//! SQLite) on an async worker thread unless its Mother was opened for one
//! command ([`BlockingWork::Caller`]).

use std::sync::Arc;

use patina_host::{Child, Host, RunReport, RunRequest};
use patina_receipts::{Attribution, Receipt};
use tracing::Instrument;

use crate::stats::RunStats;
use crate::{BlockingWork, ChildRef, ChildStore, MotherError, Recorder, RunSummary};

/// A run that started: the host's report and, when it was recorded, its
/// receipt (already stored).
#[derive(Debug)]
pub struct RunOutput {
    /// The child that ran.
    pub child: Child,
    /// What the run produced (its events moved into the receipt).
    pub report: RunReport,
    /// The receipt of a recorded run.
    pub receipt: Option<Receipt>,
}

impl RunOutput {
    /// The serialisable summary of the run.
    pub fn summary(&self) -> RunSummary {
        RunSummary::of(&self.report, self.receipt.as_ref().map(|r| r.id))
    }
}

/// Loads, runs and records children for one Mother.
#[derive(Debug)]
pub struct Runner {
    host: Host,
    children: ChildStore,
    recorder: Recorder,
    stats: RunStats,
    blocking: BlockingWork,
}

impl Runner {
    /// A runner over these parts (built by [`crate::Mother::open`], which
    /// makes the host protect the home).
    pub(crate) fn new(
        host: Host,
        children: ChildStore,
        recorder: Recorder,
        blocking: BlockingWork,
    ) -> Self {
        Self {
            host,
            children,
            recorder,
            stats: RunStats::default(),
            blocking,
        }
    }

    /// Where this runner does its blocking work.
    pub fn blocking_work(&self) -> BlockingWork {
        self.blocking
    }

    /// What every run so far came to (every door's runs, and invoked ones).
    pub fn stats(&self) -> &RunStats {
        &self.stats
    }

    /// The child host.
    pub fn host(&self) -> &Host {
        &self.host
    }

    /// The installed children.
    pub fn children(&self) -> &ChildStore {
        &self.children
    }

    /// The recorder.
    pub fn recorder(&self) -> &Recorder {
        &self.recorder
    }

    /// Runs blocking `work` on the runner's parts, where
    /// [`Self::blocking_work`] says (a blocking thread, by default).
    pub async fn blocking<T, F>(self: &Arc<Self>, work: F) -> Result<T, MotherError>
    where
        T: Send + 'static,
        F: FnOnce(&Runner) -> Result<T, MotherError> + Send + 'static,
    {
        let runner = self.clone();
        self.blocking.run(move || work(runner.as_ref())).await
    }

    /// Loads the child `reference` names (reading, hashing and compiling it
    /// on a blocking thread).
    pub async fn load(self: &Arc<Self>, reference: &ChildRef) -> Result<Child, MotherError> {
        let reference = reference.clone();
        self.blocking(move |runner| {
            let bytes = match &reference {
                ChildRef::File(path) => {
                    std::fs::read(path).map_err(|source| MotherError::Read {
                        path: path.clone(),
                        source,
                    })?
                }
                ChildRef::Installed(name) => {
                    let id = runner.children.resolve(name)?;
                    // An installed child runs from the artifact this Mother
                    // compiled (and tagged) for its id: its bytes are read
                    // and hashed only when there is none.
                    let source = runner.children.wasm_path(&id);
                    if let Some(child) = runner.host.load_compiled(id, &source) {
                        return Ok(child);
                    }
                    runner.children.read(&id)?
                }
            };
            Ok(runner.host.load(&bytes)?)
        })
        .await
    }

    /// Runs `child` as `request` asks and records it (on a blocking thread)
    /// when the request records. `Err(MotherError::Refused)` means no child
    /// code ran.
    ///
    /// The run and its recording are one spawned task: a caller that stops
    /// waiting (a timeout, a client gone) detaches from it but never cancels
    /// it half-way, so a run whose toy calls happened always ends with its
    /// receipt stored.
    /// `attribution` (who asked) goes into the receipt's header.
    pub async fn run(
        self: &Arc<Self>,
        child: &Child,
        request: &RunRequest,
        attribution: &Attribution,
    ) -> Result<RunOutput, MotherError> {
        let span =
            tracing::info_span!("runner", child = %child.id(), receipt = tracing::field::Empty);
        let (runner, child, request) = (self.clone(), child.clone(), request.clone());
        let attribution = attribution.clone();
        let task = async move {
            let report = match runner.host.run(&child, &request).await {
                Ok(report) => report,
                Err(refused) => {
                    runner.stats.refused();
                    return Err(MotherError::Refused(refused));
                }
            };
            // A recorded run's child bytes are kept (blocking, once per
            // child); the receipt is then awaited without holding a thread.
            let mut report = report;
            if report.recorded && runner.recorder.must_store(&child.id()) {
                let stored = child.clone();
                runner
                    .blocking(move |runner| runner.recorder.store_child(&stored))
                    .await?;
            }
            let receipt = match runner.recorder.submit(&mut report, &attribution)? {
                Some(submitted) => Some(submitted.receipt(runner.blocking).await?),
                None => None,
            };
            let kind = report
                .outcome
                .as_ref()
                .map_or_else(|e| e.kind(), |_| "returned");
            runner.stats.ran(kind, report.elapsed, receipt.is_some());
            let output = RunOutput {
                child,
                report,
                receipt,
            };
            if let Some(receipt) = &output.receipt {
                tracing::Span::current().record("receipt", receipt.id.to_string());
            }
            Ok(output)
        };
        tokio::spawn(task.instrument(span))
            .await
            .map_err(MotherError::task)?
    }
}
