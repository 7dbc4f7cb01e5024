//! Tests of the `measure` toy: answers, accumulation across runs through a
//! real SQLite file, isolation between children, and the exposition text.

use std::sync::Arc;

use patina_core::{ChildId, Grant};
use wasmtime::component::Val;

use super::*;

fn open() -> (tempfile::TempDir, Arc<MetricsStore>) {
    let dir = tempfile::tempdir().unwrap();
    let store = MetricsStore::open(&dir.path().join("metrics.sqlite")).unwrap();
    (dir, Arc::new(store))
}

fn instance(store: &Arc<MetricsStore>, child: ChildId) -> Box<dyn ToyInstance> {
    let ctx = ToyContext::new(child, vec!["measure".parse::<Grant>().unwrap()]);
    MeasureToy::new(Arc::clone(store))
        .instantiate(&ctx)
        .unwrap()
}

async fn call(
    toy: &mut Box<dyn ToyInstance>,
    function: &str,
    name: &str,
    value: Val,
) -> Result<(), String> {
    let answer = toy
        .call(function, &[Val::String(name.into()), value])
        .await
        .unwrap();
    match answer.as_slice() {
        [Val::Result(Ok(None))] => Ok(()),
        [Val::Result(Err(Some(message)))] => match message.as_ref() {
            Val::String(message) => Err(message.clone()),
            other => panic!("unexpected error value {other:?}"),
        },
        other => panic!("unexpected answer {other:?}"),
    }
}

async fn add(toy: &mut Box<dyn ToyInstance>, name: &str, delta: u64) -> Result<(), String> {
    call(toy, "counter-add", name, Val::U64(delta)).await
}

async fn set(toy: &mut Box<dyn ToyInstance>, name: &str, value: f64) -> Result<(), String> {
    call(toy, "gauge-set", name, Val::Float64(value)).await
}

async fn observe(toy: &mut Box<dyn ToyInstance>, name: &str, value: f64) -> Result<(), String> {
    call(toy, "histogram-observe", name, Val::Float64(value)).await
}

fn value(store: &MetricsStore, child: ChildId, name: &str) -> Option<MetricValue> {
    let snapshot = store.child_snapshot(&child).unwrap();
    snapshot
        .metrics
        .into_iter()
        .find(|m| m.name == name)
        .map(|m| m.value)
}

fn a() -> ChildId {
    ChildId::of(b"child a")
}

fn b() -> ChildId {
    ChildId::of(b"child b")
}

#[tokio::test]
async fn counters_add_across_runs_and_saturate() {
    let (_dir, store) = open();
    let mut run = instance(&store, a());
    add(&mut run, "jobs", 2).await.unwrap();
    add(&mut run, "jobs", 3).await.unwrap();
    add(&mut run, "zero", 0).await.unwrap();
    // Nothing is written before the run ends.
    assert_eq!(value(&store, a(), "jobs"), None);
    run.finish().await.unwrap();
    // A second finish writes nothing twice.
    run.finish().await.unwrap();
    assert_eq!(
        value(&store, a(), "jobs"),
        Some(MetricValue::Counter { value: 5 })
    );
    assert_eq!(
        value(&store, a(), "zero"),
        Some(MetricValue::Counter { value: 0 })
    );

    let mut run = instance(&store, a());
    add(&mut run, "jobs", 10).await.unwrap();
    add(&mut run, "big", u64::MAX - 1).await.unwrap();
    run.finish().await.unwrap();
    assert_eq!(
        value(&store, a(), "jobs"),
        Some(MetricValue::Counter { value: 15 })
    );

    let mut run = instance(&store, a());
    add(&mut run, "big", 5).await.unwrap();
    run.finish().await.unwrap();
    assert_eq!(
        value(&store, a(), "big"),
        Some(MetricValue::Counter { value: u64::MAX })
    );
}

#[tokio::test]
async fn gauges_keep_the_last_write() {
    let (_dir, store) = open();
    let mut run = instance(&store, a());
    set(&mut run, "temp", 1.5).await.unwrap();
    set(&mut run, "temp", -2.25).await.unwrap();
    run.finish().await.unwrap();
    let Some(MetricValue::Gauge(g)) = value(&store, a(), "temp") else {
        panic!("no gauge")
    };
    assert_eq!(g.value, -2.25);
    assert!(g.updated_ms > 0);

    let mut run = instance(&store, a());
    set(&mut run, "temp", 7.0).await.unwrap();
    run.finish().await.unwrap();
    let Some(MetricValue::Gauge(g)) = value(&store, a(), "temp") else {
        panic!("no gauge")
    };
    assert_eq!(g.value, 7.0);
}

#[tokio::test]
async fn histogram_buckets_sum_and_count_are_exact() {
    let (_dir, store) = open();
    let mut run = instance(&store, a());
    // 0.005 is in the first bucket (le is inclusive), 11 only in +Inf.
    for v in [0.005, 0.007, 0.3, 10.0, 11.0, -1.0] {
        observe(&mut run, "latency", v).await.unwrap();
    }
    run.finish().await.unwrap();
    let mut run = instance(&store, a());
    observe(&mut run, "latency", 1.0).await.unwrap();
    run.finish().await.unwrap();

    let Some(MetricValue::Histogram(h)) = value(&store, a(), "latency") else {
        panic!("no histogram")
    };
    //              .005 .01 .025 .05 .1 .25 .5 1 2.5 5 10 +Inf
    assert_eq!(h.buckets, [2, 1, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1]);
    assert_eq!(h.cumulative(), [2, 3, 3, 3, 3, 3, 4, 5, 5, 5, 6, 7]);
    assert_eq!(h.count, 7);
    assert_eq!(h.sum, 0.005 + 0.007 + 0.3 + 10.0 + 11.0 - 1.0 + 1.0);
}

#[tokio::test]
async fn bad_names_are_refused_answers() {
    let (_dir, store) = open();
    let mut run = instance(&store, a());
    let long = "a".repeat(MAX_NAME + 1);
    let huge = "a".repeat(100_000);
    for bad in [
        "", "9lives", "_x", "Upper", "a-b", "a.b", "é", "a b", "a\0", &long, &huge,
    ] {
        let message = add(&mut run, bad, 1).await.unwrap_err();
        assert!(message.contains("metric name"), "{bad:?}: {message}");
        assert!(message.len() < 200, "an answer never echoes a huge name");
        let message = set(&mut run, bad, 1.0).await.unwrap_err();
        assert!(message.contains("metric name"), "{bad:?}: {message}");
        let message = observe(&mut run, bad, 1.0).await.unwrap_err();
        assert!(message.contains("metric name"), "{bad:?}: {message}");
    }
    add(&mut run, &"a".repeat(MAX_NAME), 1).await.unwrap();
    add(&mut run, "a_1_b__2", 1).await.unwrap();
    run.finish().await.unwrap();
    assert_eq!(store.child_snapshot(&a()).unwrap().metrics.len(), 2);
}

#[tokio::test]
async fn non_finite_values_are_refused() {
    let (_dir, store) = open();
    let mut run = instance(&store, a());
    for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        assert!(
            set(&mut run, "g", v)
                .await
                .unwrap_err()
                .contains("not finite")
        );
        assert!(
            observe(&mut run, "h", v)
                .await
                .unwrap_err()
                .contains("not finite")
        );
    }
    run.finish().await.unwrap();
    // Refused calls leave nothing behind, not even the name.
    assert!(store.child_snapshot(&a()).unwrap().metrics.is_empty());
}

#[tokio::test]
async fn one_name_keeps_one_type_in_a_run_and_in_the_store() {
    let (_dir, store) = open();
    let mut run = instance(&store, a());
    add(&mut run, "x", 1).await.unwrap();
    let message = set(&mut run, "x", 1.0).await.unwrap_err();
    assert!(message.contains("is a counter, not a gauge"), "{message}");
    let message = observe(&mut run, "x", 1.0).await.unwrap_err();
    assert!(
        message.contains("is a counter, not a histogram"),
        "{message}"
    );
    run.finish().await.unwrap();

    // A later run is checked against the store.
    let mut run = instance(&store, a());
    let message = observe(&mut run, "x", 1.0).await.unwrap_err();
    assert!(
        message.contains("is a counter, not a histogram"),
        "{message}"
    );
    add(&mut run, "x", 1).await.unwrap();
    run.finish().await.unwrap();
    assert_eq!(
        value(&store, a(), "x"),
        Some(MetricValue::Counter { value: 2 })
    );
}

#[tokio::test]
async fn a_racing_run_cannot_give_a_stored_name_a_second_type() {
    let (_dir, store) = open();
    // Both runs start before either has saved anything.
    let mut first = instance(&store, a());
    let mut second = instance(&store, a());
    add(&mut first, "x", 1).await.unwrap();
    set(&mut second, "x", 1.0).await.unwrap();
    set(&mut second, "y", 2.0).await.unwrap();
    first.finish().await.unwrap();
    second.finish().await.unwrap();
    assert_eq!(
        value(&store, a(), "x"),
        Some(MetricValue::Counter { value: 1 })
    );
    assert!(matches!(
        value(&store, a(), "y"),
        Some(MetricValue::Gauge(_))
    ));

    let mut batch = RunMetrics::default();
    batch
        .histograms
        .insert("x".into(), HistogramData::default());
    let applied = store.apply(&a(), &batch).unwrap();
    assert_eq!(
        applied.conflicts,
        vec![("x".to_owned(), MetricKind::Counter)]
    );
    assert_eq!(applied.written, 0);
}

#[tokio::test]
async fn children_never_see_or_overwrite_each_others_metrics() {
    let (_dir, store) = open();
    let mut run = instance(&store, a());
    add(&mut run, "shared", 5).await.unwrap();
    set(&mut run, "only_a", 1.0).await.unwrap();
    run.finish().await.unwrap();

    // B may use A's name with another type: it is B's own metric.
    let mut run = instance(&store, b());
    set(&mut run, "shared", 9.0).await.unwrap();
    add(&mut run, "only_a", 1).await.unwrap();
    run.finish().await.unwrap();

    assert_eq!(
        value(&store, a(), "shared"),
        Some(MetricValue::Counter { value: 5 })
    );
    assert!(matches!(value(&store, a(), "only_a"), Some(MetricValue::Gauge(g)) if g.value == 1.0));
    assert!(matches!(value(&store, b(), "shared"), Some(MetricValue::Gauge(g)) if g.value == 9.0));
    assert_eq!(
        value(&store, b(), "only_a"),
        Some(MetricValue::Counter { value: 1 })
    );
    assert_eq!(store.kinds(&a()).unwrap().len(), 2);
    assert_eq!(store.snapshot().unwrap().len(), 2);
}

#[tokio::test]
async fn names_per_run_are_bounded() {
    let (_dir, store) = open();
    let mut run = instance(&store, a());
    for i in 0..MAX_NAMES_PER_RUN {
        add(&mut run, &format!("n{i}"), 1).await.unwrap();
    }
    let message = add(&mut run, "one_more", 1).await.unwrap_err();
    assert!(message.contains("at most"), "{message}");
    // Names already touched still work.
    add(&mut run, "n0", 1).await.unwrap();
    run.finish().await.unwrap();
    assert_eq!(store.kinds(&a()).unwrap().len(), MAX_NAMES_PER_RUN);
}

#[tokio::test]
async fn malformed_calls_are_errors_not_panics() {
    let (_dir, store) = open();
    let mut run = instance(&store, a());
    assert!(matches!(
        run.call("nope", &[]).await,
        Err(ToyError::NoSuchFunction { .. })
    ));
    assert!(matches!(
        run.call("counter-add", &[Val::String("x".into())]).await,
        Err(ToyError::BadArguments { .. })
    ));
    let wrong = [Val::String("x".into()), Val::Float64(1.0)];
    assert!(matches!(
        run.call("counter-add", &wrong).await,
        Err(ToyError::BadArguments { .. })
    ));
    let wrong = [Val::U32(1), Val::Float64(1.0)];
    assert!(matches!(
        run.call("gauge-set", &wrong).await,
        Err(ToyError::BadArguments { .. })
    ));
    // A run that measured nothing writes nothing.
    run.finish().await.unwrap();
    assert!(store.snapshot().unwrap().is_empty());
}

#[test]
fn the_grant_is_bare() {
    let (_dir, store) = open();
    let toy = MeasureToy::new(store);
    assert!(toy.canonicalize(&"measure".parse().unwrap()).is_ok());
    let err = toy
        .canonicalize(&"measure:all".parse().unwrap())
        .unwrap_err();
    assert!(
        err.to_string().contains("`measure` takes no scope"),
        "{err}"
    );
    assert_eq!(toy.interface().to_string(), "patina:toys/measure@0.1.0");
}

#[test]
fn the_store_round_trips_through_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("metrics.sqlite");
    let mut batch = RunMetrics::default();
    batch.counters.insert("c".into(), 3);
    let mut h = HistogramData::default();
    h.observe(0.02);
    batch.histograms.insert("h".into(), h);
    MetricsStore::open(&path)
        .unwrap()
        .apply(&a(), &batch)
        .unwrap();
    let store = MetricsStore::open(&path).unwrap();
    let snapshot = store.child_snapshot(&a()).unwrap();
    assert_eq!(snapshot.metrics.len(), 2);
    assert!(
        store
            .prometheus_text()
            .unwrap()
            .contains("patina_child_c_total")
    );
    assert_eq!(store.child_snapshot(&b()).unwrap().metrics, vec![]);
}

/// Several handles opening one new store at once all succeed (as two
/// `mother` commands on a fresh home do).
#[test]
fn many_handles_open_a_new_store_at_once() {
    for _round in 0..20 {
        let dir = tempfile::tempdir().unwrap();
        let metrics = dir.path().join("m.sqlite");
        std::thread::scope(|scope| {
            for _ in 0..8 {
                scope.spawn(|| MetricsStore::open(&metrics).unwrap());
            }
        });
    }
}
