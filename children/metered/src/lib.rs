//! `metered`: a small worker that reports counters, a gauge and a histogram
//! through the `measure` toy (the example for `mother metrics`).

wit_bindgen::generate!({
    path: ["../../wit/toys", "wit"],
    world: "patina:metered/metered",
    with: { "patina:toys/measure@0.1.0": generate },
});

use patina::toys::measure;

struct Metered;

impl Guest for Metered {
    fn work(items: u32) -> Result<u32, String> {
        measure::counter_add("items", u64::from(items))?;
        measure::gauge_set("batch_size", f64::from(items))?;
        for i in 0..items {
            // A deterministic stand-in for "how long this item took".
            measure::histogram_observe("item_seconds", f64::from(i % 4) * 0.05)?;
        }
        Ok(items)
    }
}

export!(Metered);
