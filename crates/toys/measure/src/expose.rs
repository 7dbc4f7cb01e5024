//! Reading metrics out: the typed snapshot ([`ChildMetrics`], serialisable for
//! `mother metrics --json`) and the Prometheus text exposition (format 0.0.4).
//!
//! Naming: a child's metric `name` is exposed as `patina_child_<name>` with
//! the label `child="b3:<id>"`; a counter gets the conventional `_total`
//! suffix (`patina_child_<name>_total`), a histogram the series `_bucket`
//! (cumulative, `le` label), `_sum` and `_count`. Children may pick names
//! whose exposed forms collide across types (child A's gauge `x_total` and
//! child B's counter `x`, or a gauge `h_count` beside a histogram `h`): the
//! first claimant (children in id order, names sorted) keeps the name and the
//! others are left out with a `# patina: skipped ...` comment, so the text is
//! always valid. Pure functions: nothing here reads the store.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use patina_core::ChildId;
use serde::ser::{SerializeMap, SerializeStruct};
use serde::{Serialize, Serializer};

use super::batch::{DEFAULT_BUCKETS, GaugeValue, HistogramData, MetricKind};

/// The prefix of every exposed metric name.
pub const PREFIX: &str = "patina_child_";

/// One child's metrics, sorted by name.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ChildMetrics {
    /// The child (`b3:...`).
    pub child: ChildId,
    /// Its metrics.
    pub metrics: Vec<Metric>,
}

/// One metric of a child.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Metric {
    /// The name the child gave it.
    pub name: String,
    /// Its type and value(s), serialised flat with a `type` field.
    #[serde(flatten)]
    pub value: MetricValue,
}

/// A metric's type and value.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum MetricValue {
    /// `{"type": "counter", "value": N}`
    Counter {
        /// The total.
        value: u64,
    },
    /// `{"type": "gauge", "value": X, "updated_ms": T}`
    Gauge(GaugeValue),
    /// `{"type": "histogram", "count": N, "sum": X, "buckets": [{"le": "0.005", "count": N}, ...]}`
    /// with cumulative bucket counts, `+Inf` last.
    Histogram(HistogramData),
}

impl MetricValue {
    /// The metric's type.
    pub fn kind(&self) -> MetricKind {
        match self {
            Self::Counter { .. } => MetricKind::Counter,
            Self::Gauge(_) => MetricKind::Gauge,
            Self::Histogram(_) => MetricKind::Histogram,
        }
    }
}

impl Serialize for GaugeValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("GaugeValue", 2)?;
        st.serialize_field("value", &self.value)?;
        st.serialize_field("updated_ms", &self.updated_ms)?;
        st.end()
    }
}

impl Serialize for HistogramData {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Bucket {
            le: String,
            count: u64,
        }
        let buckets: Vec<Bucket> = bucket_bounds()
            .zip(self.cumulative())
            .map(|(le, count)| Bucket { le, count })
            .collect();
        let mut map = s.serialize_map(Some(3))?;
        map.serialize_entry("count", &self.count)?;
        map.serialize_entry("sum", &self.sum)?;
        map.serialize_entry("buckets", &buckets)?;
        map.end()
    }
}

/// The `le` label values, `+Inf` last.
pub fn bucket_bounds() -> impl Iterator<Item = String> {
    DEFAULT_BUCKETS
        .iter()
        .map(|le| number(*le))
        .chain(std::iter::once("+Inf".to_owned()))
}

/// A float as Prometheus writes it: shortest round-trip decimal, `+Inf`,
/// `-Inf`, `NaN`.
pub fn number(x: f64) -> String {
    if x.is_nan() {
        "NaN".to_owned()
    } else if x == f64::INFINITY {
        "+Inf".to_owned()
    } else if x == f64::NEG_INFINITY {
        "-Inf".to_owned()
    } else {
        format!("{x}")
    }
}

/// A label value with `\`, `"` and newlines escaped.
fn label(value: &str) -> String {
    value
        .replace('\\', r"\\")
        .replace('"', "\\\"")
        .replace('\n', r"\n")
}

/// The exposed family name of a metric.
pub fn family_name(name: &str, kind: MetricKind) -> String {
    match kind {
        MetricKind::Counter => format!("{PREFIX}{name}_total"),
        MetricKind::Gauge | MetricKind::Histogram => format!("{PREFIX}{name}"),
    }
}

/// Every sample name a metric's family uses.
fn series_names(family: &str, kind: MetricKind) -> Vec<String> {
    match kind {
        MetricKind::Counter | MetricKind::Gauge => vec![family.to_owned()],
        MetricKind::Histogram => ["", "_bucket", "_sum", "_count"]
            .iter()
            .map(|suffix| format!("{family}{suffix}"))
            .collect(),
    }
}

/// A family's type and its members, in child order.
type Family<'a> = (MetricKind, Vec<(&'a ChildId, &'a Metric)>);

/// The Prometheus text (format 0.0.4) of `children`' metrics: families
/// sorted by name, each with `# HELP` and `# TYPE` and one sample group per
/// child.
pub fn prometheus_text(children: &[ChildMetrics]) -> String {
    let mut sorted: Vec<&ChildMetrics> = children.iter().collect();
    sorted.sort_by_key(|c| c.child);
    // Who owns each exposed name: (family, type).
    let mut claims: HashMap<String, (String, MetricKind)> = HashMap::new();
    let mut families: BTreeMap<String, Family<'_>> = BTreeMap::new();
    let mut skipped = Vec::new();
    for child in sorted {
        let mut metrics: Vec<&Metric> = child.metrics.iter().collect();
        metrics.sort_by(|a, b| a.name.cmp(&b.name));
        for metric in metrics {
            let kind = metric.value.kind();
            let family = family_name(&metric.name, kind);
            let names = series_names(&family, kind);
            let clash = names.iter().find_map(|n| {
                claims
                    .get(n)
                    .filter(|(f, k)| *f != family || *k != kind)
                    .map(|(f, k)| (n.clone(), f.clone(), *k))
            });
            if let Some((name, owner, owner_kind)) = clash {
                skipped.push(format!(
                    "# patina: skipped {kind} `{}` of child=\"{}\": `{name}` is used by the {owner_kind} family `{owner}`\n",
                    metric.name, child.child
                ));
                continue;
            }
            for n in names {
                claims.insert(n, (family.clone(), kind));
            }
            families
                .entry(family)
                .or_insert_with(|| (kind, Vec::new()))
                .1
                .push((&child.child, metric));
        }
    }
    let mut out = String::new();
    for (family, (kind, members)) in &families {
        let name = members.first().map_or("", |(_, m)| m.name.as_str());
        let _ = writeln!(
            out,
            "# HELP {family} The {kind} `{name}` a Patina child keeps (measure toy)."
        );
        let _ = writeln!(out, "# TYPE {family} {kind}");
        for (child, metric) in members {
            let child = label(&child.to_string());
            match &metric.value {
                MetricValue::Counter { value } => {
                    let _ = writeln!(out, "{family}{{child=\"{child}\"}} {value}");
                }
                MetricValue::Gauge(gauge) => {
                    let _ = writeln!(out, "{family}{{child=\"{child}\"}} {}", number(gauge.value));
                }
                MetricValue::Histogram(data) => {
                    for (le, count) in bucket_bounds().zip(data.cumulative()) {
                        let _ = writeln!(
                            out,
                            "{family}_bucket{{child=\"{child}\",le=\"{le}\"}} {count}"
                        );
                    }
                    let _ = writeln!(
                        out,
                        "{family}_sum{{child=\"{child}\"}} {}",
                        number(data.sum)
                    );
                    let _ = writeln!(out, "{family}_count{{child=\"{child}\"}} {}", data.count);
                }
            }
        }
    }
    for line in skipped {
        out.push_str(&line);
    }
    out
}

#[cfg(test)]
mod tests {
    use patina_core::ChildId;

    use super::*;

    fn a() -> ChildId {
        ChildId::of(b"child a")
    }

    fn b() -> ChildId {
        ChildId::of(b"child b")
    }

    fn golden_children() -> Vec<ChildMetrics> {
        let mut h = HistogramData::default();
        for v in [0.004, 0.2, 3.0, 42.0] {
            h.observe(v);
        }
        let metric = |name: &str, value| Metric {
            name: name.into(),
            value,
        };
        vec![
            ChildMetrics {
                child: b(),
                metrics: vec![
                    metric("jobs", MetricValue::Counter { value: 1 }),
                    // Collides with A's counter `jobs` (exposed as `..._jobs_total`).
                    metric(
                        "jobs_total",
                        MetricValue::Gauge(GaugeValue {
                            value: 1.0,
                            updated_ms: 1,
                        }),
                    ),
                ],
            },
            ChildMetrics {
                child: a(),
                metrics: vec![
                    metric("jobs", MetricValue::Counter { value: 7 }),
                    metric(
                        "queue",
                        MetricValue::Gauge(GaugeValue {
                            value: 0.5,
                            updated_ms: 1,
                        }),
                    ),
                    metric("latency", MetricValue::Histogram(h)),
                ],
            },
        ]
    }

    #[test]
    fn prometheus_text_golden() {
        // The ids are fixed digests: `a` sorts before `b`.
        assert_eq!(
            a().to_string(),
            "b3:3aeda9d6875b133b3ff284ee8f14dbfcfa26fa1443a90ac5f33a541d3395b376"
        );
        assert_eq!(
            b().to_string(),
            "b3:981af8e77360abe9d61d86eafe2e7ec821e1e6df5244bcd445bc8b49862ba123"
        );
        let text = prometheus_text(&golden_children());
        assert_eq!(text, include_str!("testdata/golden.prom"));
    }

    #[test]
    fn prometheus_text_skips_a_gauge_named_like_a_histogram_series() {
        let mut h = HistogramData::default();
        h.observe(1.0);
        let gauge = MetricValue::Gauge(GaugeValue {
            value: 2.0,
            updated_ms: 0,
        });
        let (first, second) = if a() < b() { (a(), b()) } else { (b(), a()) };
        let children = vec![
            ChildMetrics {
                child: first,
                metrics: vec![Metric {
                    name: "h".into(),
                    value: MetricValue::Histogram(h),
                }],
            },
            ChildMetrics {
                child: second,
                metrics: vec![Metric {
                    name: "h_count".into(),
                    value: gauge,
                }],
            },
        ];
        let text = prometheus_text(&children);
        assert!(!text.contains("# TYPE patina_child_h_count"), "{text}");
        assert!(text.contains("# patina: skipped gauge `h_count`"), "{text}");
        assert_eq!(text.matches("# TYPE").count(), 1);
    }

    #[test]
    fn snapshot_json_is_flat_and_typed() {
        let json = serde_json::to_value(&golden_children()[1]).unwrap();
        assert_eq!(json["child"], a().to_string());
        assert_eq!(
            json["metrics"][0],
            serde_json::json!({"name": "jobs", "type": "counter", "value": 7})
        );
        assert_eq!(
            json["metrics"][1],
            serde_json::json!({"name": "queue", "type": "gauge", "value": 0.5, "updated_ms": 1})
        );
        let h = &json["metrics"][2];
        assert_eq!(h["type"], "histogram");
        assert_eq!(h["count"], 4);
        assert_eq!(
            h["buckets"][0],
            serde_json::json!({"le": "0.005", "count": 1})
        );
        assert_eq!(
            h["buckets"][11],
            serde_json::json!({"le": "+Inf", "count": 4})
        );
    }
}
