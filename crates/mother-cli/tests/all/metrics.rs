//! `mother metrics`: the table, `--json`, `--prometheus` and `--child`, read
//! from a `$PATINA_HOME/metrics.sqlite` filled through `MetricsStore` the way
//! the `measure` toy fills it at the end of runs.

use crate::common::{json, mother, text};
use patina_core::ChildId;
use patina_toys::measure::{GaugeValue, HistogramData, MetricsStore, RunMetrics};

fn a() -> ChildId {
    ChildId::of(b"metrics child a")
}

fn b() -> ChildId {
    ChildId::of(b"metrics child b")
}

/// A home where child A ran twice and child B once.
fn home_with_metrics() -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    let store = MetricsStore::open(&home.path().join("metrics.sqlite")).unwrap();
    let mut run = RunMetrics::default();
    run.counters.insert("jobs".into(), 3);
    run.gauges.insert(
        "queue_len".into(),
        GaugeValue {
            value: 2.5,
            updated_ms: 1_700_000_000_000,
        },
    );
    let mut latency = HistogramData::default();
    for v in [0.003, 0.2, 7.0] {
        latency.observe(v);
    }
    run.histograms.insert("latency".into(), latency);
    store.apply(&a(), &run).unwrap();
    let mut again = RunMetrics::default();
    again.counters.insert("jobs".into(), 4);
    store.apply(&a(), &again).unwrap();
    let mut other = RunMetrics::default();
    other.counters.insert("jobs".into(), 100);
    store.apply(&b(), &other).unwrap();
    home
}

#[test]
fn an_empty_home_has_no_metrics() {
    let home = tempfile::tempdir().unwrap();
    let out = mother(home.path(), &["metrics"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("no metrics yet"));
    assert_eq!(
        json(&mother(home.path(), &["metrics", "--json"])),
        serde_json::json!([])
    );
    let out = mother(home.path(), &["metrics", "--prometheus"]);
    assert!(out.status.success());
    assert_eq!(text(&out.stdout), "");
}

#[test]
fn the_table_shows_each_childs_metrics() {
    let home = home_with_metrics();
    let out = mother(home.path(), &["metrics"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains(&a().to_string()), "{stdout}");
    assert!(stdout.contains(&b().to_string()), "{stdout}");
    let line = |name: &str, child: ChildId| -> String {
        let section = stdout
            .split("\n\n")
            .find(|s| s.starts_with(&child.to_string()))
            .unwrap();
        section
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no {name} in {section}"))
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(line("jobs", a()), "jobs counter 7");
    assert_eq!(line("jobs", b()), "jobs counter 100");
    assert_eq!(line("queue_len", a()), "queue_len gauge 2.5");
    assert!(
        line("latency", a()).starts_with("latency histogram count 3, sum 7.203"),
        "{stdout}"
    );
}

#[test]
fn json_lists_children_with_typed_metrics() {
    let home = home_with_metrics();
    let value = json(&mother(home.path(), &["metrics", "--json"]));
    let rows = value.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    let row_a = rows.iter().find(|r| r["child"] == a().to_string()).unwrap();
    let metrics = row_a["metrics"].as_array().unwrap();
    let by_name = |name: &str| metrics.iter().find(|m| m["name"] == name).unwrap();
    assert_eq!(by_name("jobs")["type"], "counter");
    assert_eq!(by_name("jobs")["value"], 7);
    assert_eq!(by_name("queue_len")["type"], "gauge");
    assert_eq!(by_name("queue_len")["value"], 2.5);
    let latency = by_name("latency");
    assert_eq!(latency["type"], "histogram");
    assert_eq!(latency["count"], 3);
    assert_eq!(
        latency["buckets"][0],
        serde_json::json!({"le": "0.005", "count": 1})
    );
    assert_eq!(
        latency["buckets"][11],
        serde_json::json!({"le": "+Inf", "count": 3})
    );
    assert_eq!(row_a["names"], serde_json::json!([]));
}

#[test]
fn prometheus_text_exposes_every_child() {
    let home = home_with_metrics();
    let out = mother(home.path(), &["metrics", "--prometheus"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let (a, b) = (a(), b());
    for expected in [
        "# TYPE patina_child_jobs_total counter".to_owned(),
        format!("patina_child_jobs_total{{child=\"{a}\"}} 7"),
        format!("patina_child_jobs_total{{child=\"{b}\"}} 100"),
        "# TYPE patina_child_queue_len gauge".to_owned(),
        format!("patina_child_queue_len{{child=\"{a}\"}} 2.5"),
        "# TYPE patina_child_latency histogram".to_owned(),
        format!("patina_child_latency_bucket{{child=\"{a}\",le=\"0.005\"}} 1"),
        format!("patina_child_latency_bucket{{child=\"{a}\",le=\"5\"}} 2"),
        format!("patina_child_latency_bucket{{child=\"{a}\",le=\"+Inf\"}} 3"),
        format!("patina_child_latency_count{{child=\"{a}\"}} 3"),
    ] {
        assert!(
            stdout.lines().any(|l| l == expected),
            "missing `{expected}` in\n{stdout}"
        );
    }
    assert_eq!(stdout.matches("# TYPE patina_child_jobs_total").count(), 1);
}

#[test]
fn child_filters_by_id_prefix_and_unknown_children_fail() {
    let home = home_with_metrics();
    let prefix = &b().to_string()[..10];
    let value = json(&mother(
        home.path(),
        &["metrics", "--child", prefix, "--json"],
    ));
    assert_eq!(value.as_array().unwrap().len(), 1);
    assert_eq!(value[0]["child"], b().to_string());
    assert_eq!(value[0]["metrics"][0]["value"], 100);

    let out = mother(
        home.path(),
        &["metrics", "--child", "b3:ffffffff", "--json"],
    );
    assert!(!out.status.success());
    assert_eq!(json(&out)["error"]["kind"], "unknown-child");

    let out = mother(home.path(), &["metrics", "--json", "--prometheus"]);
    assert!(!out.status.success(), "--json and --prometheus conflict");
}

/// The whole path: a real child measures through the `measure` toy, the
/// Mother saves each run's batch when the run ends, `mother metrics` shows
/// the sums, and a replay (answered from the receipt) adds nothing.
#[test]
fn a_child_measures_and_mother_metrics_reads_it() {
    let home = tempfile::tempdir().unwrap();
    let out = mother(
        home.path(),
        &["install", children_artifacts::METERED, "--name", "metered"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    // Without the grant the run is refused, naming the grant it needs.
    let refused = mother(home.path(), &["run", "metered", "work(3)"]);
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("measure"),
        "{}",
        text(&refused.stderr)
    );

    let first = json(&mother(
        home.path(),
        &["run", "metered", "work(3)", "--grant", "measure", "--json"],
    ));
    assert_eq!(first["wave"], "ok(3)", "{first}");
    let second = json(&mother(
        home.path(),
        &["run", "metered", "work(4)", "--grant", "measure", "--json"],
    ));
    assert_eq!(second["wave"], "ok(4)", "{second}");
    let replayed = json(&mother(
        home.path(),
        &["replay", second["receipt"].as_str().unwrap(), "--json"],
    ));
    assert_eq!(replayed["matched"], true, "{replayed}");

    let value = json(&mother(home.path(), &["metrics", "--json"]));
    let rows = value.as_array().unwrap();
    assert_eq!(rows.len(), 1, "{value}");
    assert_eq!(rows[0]["child"], first["child"]);
    assert_eq!(rows[0]["names"], serde_json::json!(["metered"]));
    let metrics = rows[0]["metrics"].as_array().unwrap();
    let by_name = |name: &str| metrics.iter().find(|m| m["name"] == name).unwrap();
    assert_eq!(by_name("items")["value"], 7, "{value}");
    assert_eq!(by_name("batch_size")["value"], 4.0, "{value}");
    let histogram = by_name("item_seconds");
    assert_eq!(histogram["count"], 7, "{value}");
    // Costs 0, .05, .1, .15, 0, .05, .1: sum 0.45.
    let sum = histogram["sum"].as_f64().unwrap();
    assert!((sum - 0.45).abs() < 1e-9, "{value}");

    let prometheus = text(&mother(home.path(), &["metrics", "--prometheus"]).stdout);
    let child = first["child"].as_str().unwrap();
    assert!(
        prometheus
            .lines()
            .any(|l| l == format!("patina_child_items_total{{child=\"{child}\"}} 7")),
        "{prometheus}"
    );
}
