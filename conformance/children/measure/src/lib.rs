//! `conf-measure`: the `measure` toy's answers and errors (conformance
//! suite). Each export passes its arguments straight to the toy.

wit_bindgen::generate!({
    path: ["../../../wit/toys", "wit"],
    world: "patina:conformance-measure/measure",
    with: { "patina:toys/measure@0.1.0": generate },
});

use patina::toys::measure;

struct Measure;

impl Guest for Measure {
    fn add(name: String, delta: u64) -> Result<(), String> {
        measure::counter_add(&name, delta)
    }

    fn set(name: String, value: f64) -> Result<(), String> {
        measure::gauge_set(&name, value)
    }

    fn observe(name: String, value: f64) -> Result<(), String> {
        measure::histogram_observe(&name, value)
    }

    fn work() -> Result<(), String> {
        measure::counter_add("jobs_done", 3)?;
        measure::gauge_set("queue_depth", 7.5)?;
        measure::histogram_observe("job_seconds", 0.25)
    }

    fn clash(name: String) -> Result<(), String> {
        measure::counter_add(&name, 1)?;
        measure::gauge_set(&name, 1.0)
    }
}

export!(Measure);
