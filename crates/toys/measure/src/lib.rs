//! The `measure` toy (`patina:toys/measure@0.1.0`): counters, gauges and
//! histograms a child keeps about its own work, granted with a bare `measure`.
//!
//! A run's calls accumulate in its instance ([`RunMetrics`], no I/O per
//! call) and are written to the [`MetricsStore`] in one transaction by
//! [`ToyInstance::finish`] when the run ends (returned or trapped; a replay
//! never writes). Metrics are keyed by the run's child id, which the host
//! gives, never the child: a child never sees or changes another's metrics.
//! Bad names, non-finite values and a name used with a second type are
//! `err(string)` answers; so are runs past the limits on names.

mod batch;
mod expose;
mod store;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use patina_core::{ChildId, ToyName};
use wasmtime::component::Val;

use patina_toy::{Args, Deferred, Toy, ToyContext, ToyError, ToyInstance, vals};

pub use batch::{
    BUCKETS, DEFAULT_BUCKETS, GaugeValue, HistogramData, MAX_NAME, MAX_NAMES_PER_CHILD,
    MAX_NAMES_PER_RUN, MetricKind, Recorder, RunMetrics, check_name,
};
pub use expose::{ChildMetrics, Metric, MetricValue, family_name, prometheus_text};
pub use store::{Applied, MetricsStore};

const FUNCTIONS: &[&str] = &["counter-add", "gauge-set", "histogram-observe"];

/// The `measure` toy, writing to one [`MetricsStore`].
#[derive(Debug)]
pub struct MeasureToy {
    interface: ToyName,
    store: Deferred<MetricsStore>,
}

impl MeasureToy {
    /// The toy for `patina:toys/measure@0.1.0`, saving runs' metrics in `store`.
    pub fn new(store: Arc<MetricsStore>) -> Self {
        Self::with_store(Deferred::ready(store))
    }

    /// The toy saving runs' metrics in the store at `path`, opened
    /// ([`MetricsStore::open`]) by the first run granted `measure`: a run
    /// without that grant never touches the file.
    pub fn deferred(path: std::path::PathBuf) -> Self {
        Self::with_store(Deferred::new(move || MetricsStore::open(&path)))
    }

    fn with_store(store: Deferred<MetricsStore>) -> Self {
        let interface = patina_toy::patina_interface("measure");
        Self { interface, store }
    }

    /// The store runs' metrics go to (opened now if no run has opened it).
    pub fn store(&self) -> Result<Arc<MetricsStore>, ToyError> {
        self.store.get()
    }
}

impl Toy for MeasureToy {
    fn interface(&self) -> &ToyName {
        &self.interface
    }

    fn grant_kind(&self) -> &str {
        "measure"
    }

    fn summary(&self) -> &str {
        "counters, gauges and histograms kept per child (`mother metrics`)"
    }

    fn functions(&self) -> &[&str] {
        FUNCTIONS
    }

    fn instantiate(&self, ctx: &ToyContext) -> Result<Box<dyn ToyInstance>, ToyError> {
        ctx.grant()?;
        Ok(Box::new(MeasureInstance {
            store: self.store.get()?,
            child: ctx.child,
            recorder: None,
        }))
    }
}

/// One run's metrics. The child's stored name→type map is read on the
/// first call (off the async threads), not per call.
struct MeasureInstance {
    store: Arc<MetricsStore>,
    child: ChildId,
    recorder: Option<Recorder>,
}

impl MeasureInstance {
    async fn recorder(&mut self) -> Result<&mut Recorder, ToyError> {
        if self.recorder.is_none() {
            let (store, child) = (Arc::clone(&self.store), self.child);
            let kinds =
                patina_toy::blocking("reading metric types", move || store.kinds(&child)).await??;
            self.recorder = Some(Recorder::new(kinds));
        }
        self.recorder
            .as_mut()
            .ok_or_else(|| ToyError::Backend("metrics recorder missing".into()))
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[async_trait::async_trait]
impl ToyInstance for MeasureInstance {
    async fn call(&mut self, function: &str, args: &[Val]) -> Result<Vec<Val>, ToyError> {
        let args = match function {
            "counter-add" | "gauge-set" | "histogram-observe" => Args::new(function, args, 2)?,
            _ => {
                return Err(ToyError::NoSuchFunction {
                    toy: "patina:toys/measure".into(),
                    function: function.into(),
                });
            }
        };
        let name = args.string(0)?;
        let answer = match function {
            "counter-add" => {
                let delta = args.u64(1)?;
                self.recorder().await?.counter_add(name, delta)
            }
            "gauge-set" => {
                let value = args.f64(1)?;
                self.recorder().await?.gauge_set(name, value, now_ms())
            }
            _ => {
                let value = args.f64(1)?;
                self.recorder().await?.histogram_observe(name, value)
            }
        };
        Ok(vec![match answer {
            Ok(()) => vals::ok(None),
            Err(message) => vals::err_string(message),
        }])
    }

    async fn finish(&mut self) -> Result<(), ToyError> {
        let Some(recorder) = self.recorder.take() else {
            return Ok(());
        };
        if recorder.run.is_empty() {
            return Ok(());
        }
        let (store, child, run) = (Arc::clone(&self.store), self.child, recorder.run);
        let applied =
            patina_toy::blocking("saving metrics", move || store.apply(&child, &run)).await??;
        tracing::debug!(child = %self.child.short(), written = applied.written, "metrics saved");
        Ok(())
    }
}

/// `functions()` serves exactly the functions of `wit/measure.wit`, each reading
/// the WIT's number of parameters.
#[cfg(test)]
#[tokio::test]
async fn functions_match_the_wit() {
    let dir = tempfile::tempdir().unwrap();
    let toy = MeasureToy::new(Arc::new(
        MetricsStore::open(&dir.path().join("m.sqlite")).unwrap(),
    ));
    let grants = vec!["measure".parse().unwrap()];
    let wit = include_str!("../wit/measure.wit");
    patina_toy::wit::check_toy(&toy, "measure.wit", wit, grants)
        .await
        .unwrap();
}
