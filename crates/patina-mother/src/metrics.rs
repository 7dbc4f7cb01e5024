//! [`Mother::metrics`]: what children measured with the `measure` toy, read
//! from the home's metrics store, each with the names it is installed under.
//!
//! It only reads: it must never change a child's metrics, and a child list
//! that cannot be read only costs the names (they decorate, they decide
//! nothing).

use std::collections::HashMap;

use patina_core::ChildId;
use patina_toys::measure::{ChildMetrics, MetricsStore};

use crate::{Mother, MotherError, pick_child};

/// One child's metrics and its installed names.
#[derive(Clone, Debug)]
pub struct MeasuredChild {
    /// What it measured.
    pub metrics: ChildMetrics,
    /// The names it is installed under (sorted; empty if none).
    pub names: Vec<String>,
}

impl Mother {
    /// The counters of every run this Mother's process made so far
    /// ([`crate::RunStats`]): by outcome, durations, receipts appended.
    pub fn run_stats(&self) -> crate::RunStatsSnapshot {
        self.runner().stats().snapshot()
    }

    /// Every child's metrics, or only those of the child `child` names: an
    /// installed name or id (prefix), else a prefix of the id of a child that
    /// has metrics.
    pub async fn metrics(&self, child: Option<String>) -> Result<Vec<MeasuredChild>, MotherError> {
        self.blocking(move |mother| {
            // The same file the Mother's `measure` toy writes.
            let path = mother.home().metrics();
            let mut children = if path.exists() {
                MetricsStore::open(&path)
                    .and_then(|store| store.snapshot())
                    .map_err(MotherError::Metrics)?
            } else {
                Vec::new()
            };
            if let Some(reference) = &child {
                let id = match mother.children().resolve(reference) {
                    Ok(id) => id,
                    Err(_) => {
                        let ids: Vec<ChildId> = children.iter().map(|c| c.child).collect();
                        pick_child(reference, &ids)?
                    }
                };
                children.retain(|c| c.child == id);
            }
            let names: HashMap<ChildId, Vec<String>> = mother
                .children()
                .list()
                .map(|list| list.into_iter().map(|c| (c.id, c.names)).collect())
                .unwrap_or_default();
            Ok(children
                .into_iter()
                .map(|metrics| MeasuredChild {
                    names: names.get(&metrics.child).cloned().unwrap_or_default(),
                    metrics,
                })
                .collect())
        })
        .await
    }
}
