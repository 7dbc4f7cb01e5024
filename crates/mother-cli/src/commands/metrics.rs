//! `mother metrics [--child CHILD] [--json | --prometheus]`: what children
//! measured with the `measure` toy, read from `$PATINA_HOME/metrics.sqlite`.
//! It only reads: it never changes a child's metrics.

use std::collections::HashMap;
use std::process::ExitCode;

use anyhow::Result;
use patina_core::ChildId;
use patina_mother::{Mother, pick_child};
use patina_toys::measure::{ChildMetrics, MetricValue, MetricsStore, prometheus_text};

use crate::cli::MetricsArgs;
use crate::output;

pub fn run(mother: &Mother, args: MetricsArgs) -> Result<ExitCode> {
    // The same file the Mother's `measure` toy writes.
    let path = mother.home().metrics();
    let mut children = if path.exists() {
        MetricsStore::open(&path)?.snapshot()?
    } else {
        Vec::new()
    };
    if let Some(reference) = &args.child {
        let id = pick(mother, reference, &children)?;
        children.retain(|c| c.child == id);
    }
    if args.prometheus {
        print!("{}", prometheus_text(&children));
        return Ok(ExitCode::SUCCESS);
    }
    let names = installed_names(mother);
    if args.json {
        let mut rows = Vec::with_capacity(children.len());
        for child in &children {
            let mut row = serde_json::to_value(child)?;
            row["names"] =
                serde_json::to_value(names.get(&child.child).cloned().unwrap_or_default())?;
            rows.push(row);
        }
        output::print_json(&serde_json::Value::Array(rows));
        return Ok(ExitCode::SUCCESS);
    }
    if children.is_empty() {
        println!(
            "no metrics yet (a child granted `measure` keeps them: mother run CHILD CALL --grant measure)"
        );
    }
    for (i, child) in children.iter().enumerate() {
        if i > 0 {
            println!();
        }
        print_child(child, names.get(&child.child));
    }
    Ok(ExitCode::SUCCESS)
}

/// The child `reference` names: an installed name or id (prefix), else a
/// prefix of the id of a child that has metrics.
fn pick(mother: &Mother, reference: &str, children: &[ChildMetrics]) -> Result<ChildId> {
    if let Ok(id) = mother.children().resolve(reference) {
        return Ok(id);
    }
    let ids: Vec<ChildId> = children.iter().map(|c| c.child).collect();
    Ok(pick_child(reference, &ids)?)
}

/// Installed children's names by id (empty if the list cannot be read: the
/// names only decorate the output).
fn installed_names(mother: &Mother) -> HashMap<ChildId, Vec<String>> {
    mother
        .children()
        .list()
        .map(|list| list.into_iter().map(|c| (c.id, c.names)).collect())
        .unwrap_or_default()
}

fn print_child(child: &ChildMetrics, names: Option<&Vec<String>>) {
    match names.filter(|n| !n.is_empty()) {
        Some(names) => println!("{} ({})", child.child, names.join(", ")),
        None => println!("{}", child.child),
    }
    let width = child
        .metrics
        .iter()
        .map(|m| m.name.len())
        .max()
        .unwrap_or(0)
        .max(4);
    println!("  {:<width$}  {:<9}  VALUE", "NAME", "TYPE");
    for metric in &child.metrics {
        let value = match &metric.value {
            MetricValue::Counter { value } => value.to_string(),
            MetricValue::Gauge(gauge) => gauge.value.to_string(),
            MetricValue::Histogram(h) => format!("count {}, sum {}", h.count, h.sum),
        };
        println!(
            "  {:<width$}  {:<9}  {value}",
            metric.name,
            metric.value.kind().as_str()
        );
    }
}
