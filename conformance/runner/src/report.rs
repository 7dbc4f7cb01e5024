//! The suite's answer: one cell per case and host (pass with the hashes,
//! fail with what differed first, n/a with why), printed as a matrix with
//! the details under it, and written as JSON.

use std::collections::BTreeMap;

use serde::Serialize;

/// One case on one host.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Cell {
    /// It passed.
    Pass {
        /// The full transcript hash of its receipt (none for a refusal).
        #[serde(skip_serializing_if = "Option::is_none")]
        transcript_hash: Option<String>,
        /// The portable hash (fuel left out).
        #[serde(skip_serializing_if = "Option::is_none")]
        portable_hash: Option<String>,
        /// Fuel consumed (0 on a host without a meter).
        #[serde(skip_serializing_if = "Option::is_none")]
        fuel: Option<u64>,
        /// The receipt's id.
        #[serde(skip_serializing_if = "Option::is_none")]
        receipt: Option<String>,
        /// What was compared loosely, and why.
        #[serde(skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// It failed.
    Fail {
        /// What differed first.
        reason: String,
    },
    /// It cannot apply.
    #[serde(rename = "n/a")]
    NotApplicable {
        /// Why.
        reason: String,
    },
}

impl Cell {
    fn word(&self) -> &'static str {
        match self {
            Self::Pass { .. } => "pass",
            Self::Fail { .. } => "FAIL",
            Self::NotApplicable { .. } => "n/a",
        }
    }
}

/// One row.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    /// The case (and the child's language).
    pub case: String,
    /// What it checks.
    pub about: String,
    /// The child's file.
    pub child: String,
    /// Its language.
    pub language: String,
    /// Host name -> cell.
    pub cells: BTreeMap<String, Cell>,
}

/// The whole report.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// Hosts, in matrix order.
    pub hosts: Vec<String>,
    /// Rows, in case order.
    pub rows: Vec<Row>,
    /// Cells passed, failed, not applicable.
    pub totals: BTreeMap<&'static str, usize>,
}

impl Report {
    /// Builds a report and counts its cells.
    pub fn new(hosts: Vec<String>, rows: Vec<Row>) -> Self {
        let mut totals = BTreeMap::from([("pass", 0), ("fail", 0), ("n/a", 0)]);
        for cell in rows.iter().flat_map(|r| r.cells.values()) {
            let key = match cell {
                Cell::Pass { .. } => "pass",
                Cell::Fail { .. } => "fail",
                Cell::NotApplicable { .. } => "n/a",
            };
            *totals.entry(key).or_default() += 1;
        }
        Self {
            hosts,
            rows,
            totals,
        }
    }

    /// Whether any cell failed.
    pub fn failed(&self) -> bool {
        self.totals.get("fail").copied().unwrap_or(0) > 0
    }

    /// The matrix, then every failure and n/a with its reason, then the
    /// transcript hashes per case per host.
    pub fn render(&self) -> String {
        let width = self
            .rows
            .iter()
            .map(|r| r.case.len())
            .max()
            .unwrap_or(4)
            .max(4);
        let mut out = format!("{:width$}", "case");
        for host in &self.hosts {
            out.push_str(&format!("  {host:>8}"));
        }
        out.push('\n');
        for row in &self.rows {
            out.push_str(&format!("{:width$}", row.case));
            for host in &self.hosts {
                let word = row.cells.get(host).map_or("-", Cell::word);
                out.push_str(&format!("  {word:>8}"));
            }
            out.push('\n');
        }
        let mut failures = String::new();
        let mut skipped = String::new();
        let mut hashes = String::new();
        for row in &self.rows {
            for host in &self.hosts {
                match row.cells.get(host) {
                    Some(Cell::Fail { reason }) => {
                        failures.push_str(&format!("  {} on {host}: {reason}\n", row.case));
                    }
                    Some(Cell::NotApplicable { reason }) => {
                        skipped.push_str(&format!("  {} on {host}: {reason}\n", row.case));
                    }
                    Some(Cell::Pass {
                        transcript_hash: Some(full),
                        portable_hash: Some(portable),
                        fuel,
                        note,
                        ..
                    }) => {
                        hashes.push_str(&format!(
                            "  {:width$}  {host:>8}  transcript {}  portable {}  fuel {}{}\n",
                            row.case,
                            &full[..12],
                            &portable[..12],
                            fuel.unwrap_or(0),
                            note.as_ref().map_or(String::new(), |n| format!("  ({n})")),
                        ));
                    }
                    _ => {}
                }
            }
        }
        if !failures.is_empty() {
            out.push_str("\nfailures:\n");
            out.push_str(&failures);
        }
        if !skipped.is_empty() {
            out.push_str("\nnot applicable:\n");
            out.push_str(&skipped);
        }
        if !hashes.is_empty() {
            out.push_str("\ntranscript hashes (first 12 hex digits):\n");
            out.push_str(&hashes);
        }
        out.push_str(&format!(
            "\n{} passed, {} failed, {} not applicable\n",
            self.totals["pass"], self.totals["fail"], self.totals["n/a"]
        ));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_matrix_names_every_failure_and_every_n_a() {
        let cells = BTreeMap::from([
            (
                "embedded".to_owned(),
                Cell::Pass {
                    transcript_hash: Some("a".repeat(64)),
                    portable_hash: Some("b".repeat(64)),
                    fuel: Some(7),
                    receipt: None,
                    note: None,
                },
            ),
            (
                "js".to_owned(),
                Cell::Fail {
                    reason: "event 1 differs".into(),
                },
            ),
            (
                "peer".to_owned(),
                Cell::NotApplicable {
                    reason: "not on main".into(),
                },
            ),
        ]);
        let row = Row {
            case: "hello".into(),
            about: String::new(),
            child: String::new(),
            language: "rust".into(),
            cells,
        };
        let report = Report::new(
            vec!["embedded".into(), "peer".into(), "js".into()],
            vec![row],
        );
        assert!(report.failed());
        let text = report.render();
        assert!(
            text.contains("hello      pass       n/a      FAIL"),
            "{text}"
        );
        assert!(text.contains("hello on js: event 1 differs"), "{text}");
        assert!(text.contains("hello on peer: not on main"), "{text}");
        assert!(
            text.contains("transcript aaaaaaaaaaaa  portable bbbbbbbbbbbb  fuel 7"),
            "{text}"
        );
        assert!(
            text.contains("1 passed, 1 failed, 1 not applicable"),
            "{text}"
        );
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["rows"][0]["cells"]["peer"]["status"], "n/a");
        assert_eq!(json["totals"]["fail"], 1);
    }
}
