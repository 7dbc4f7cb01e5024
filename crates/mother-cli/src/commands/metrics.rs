//! `mother metrics [--child CHILD] [--json | --prometheus]`: what children
//! measured with the `measure` toy ([`Mother::metrics`]), printed as text,
//! JSON or Prometheus text. It only reads: it never changes a child's metrics.

use std::process::ExitCode;

use anyhow::Result;
use patina_mother::Mother;
use patina_toys::measure::{ChildMetrics, MetricValue, prometheus_text};

use crate::cli::MetricsArgs;
use crate::output;

pub async fn run(mother: &Mother, args: MetricsArgs) -> Result<ExitCode> {
    let children = mother.metrics(args.child).await?;
    if args.prometheus {
        let metrics: Vec<ChildMetrics> = children.iter().map(|c| c.metrics.clone()).collect();
        print!("{}", prometheus_text(&metrics));
        return Ok(ExitCode::SUCCESS);
    }
    if args.json {
        let mut rows = Vec::with_capacity(children.len());
        for child in &children {
            let mut row = serde_json::to_value(&child.metrics)?;
            row["names"] = serde_json::to_value(&child.names)?;
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
        print_child(&child.metrics, &child.names);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_child(child: &ChildMetrics, names: &[String]) {
    if names.is_empty() {
        println!("{}", child.child);
    } else {
        println!("{} ({})", child.child, names.join(", "));
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
