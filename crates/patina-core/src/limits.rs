//! [`Limits`]: the hard bounds of one run — fuel, wall-clock deadline, memory,
//! captured output — and the parsers for their human text forms (`5s`, `64MiB`).

use std::time::Duration;

/// Bounds applied to every run. Each, when reached, ends the run with its own
/// typed error and leaves the host serving other runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Fuel budget (roughly one unit per wasm instruction).
    pub fuel: u64,
    /// Wall-clock deadline, enforced by epoch interruption.
    #[serde(with = "duration_ms")]
    pub timeout: Duration,
    /// Cap on the linear memory of the child (all its memories together), in bytes.
    pub memory: u64,
    /// Cap on captured stdout and on captured stderr, in bytes each.
    pub output: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            fuel: 10_000_000_000,
            timeout: Duration::from_secs(10),
            memory: 256 << 20,
            output: 4 << 20,
        }
    }
}

/// A limit written in a form we cannot read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitsError {
    /// Not a size such as `64MiB`.
    #[error("`{0}` is not a size (examples: 65536, 512KiB, 64MiB, 1GiB, 100MB)")]
    BadSize(String),
    /// Not a duration such as `5s`.
    #[error("`{0}` is not a duration of whole milliseconds (examples: 500ms, 5s, 2m)")]
    BadDuration(String),
}

/// Parses a byte size: a number with an optional unit. `K`, `M`, `G` and the
/// `KiB`/`MiB`/`GiB` forms are powers of 1024; `KB`/`MB`/`GB` powers of 1000.
pub fn parse_size(text: &str) -> Result<u64, LimitsError> {
    let bad = || LimitsError::BadSize(text.to_owned());
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (digits, unit) = trimmed.split_at(split);
    let number: u64 = digits.parse().map_err(|_| bad())?;
    let multiplier: u64 = match unit.trim() {
        "" | "B" | "b" => 1,
        "K" | "k" | "KiB" => 1 << 10,
        "M" | "m" | "MiB" => 1 << 20,
        "G" | "g" | "GiB" => 1 << 30,
        "KB" | "kB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        _ => return Err(bad()),
    };
    number.checked_mul(multiplier).ok_or_else(bad)
}

/// Parses a duration such as `500ms`, `5s` or `2m`; a bare number is seconds.
/// Receipts keep limits in whole milliseconds, so anything else is refused.
pub fn parse_duration(text: &str) -> Result<Duration, LimitsError> {
    let trimmed = text.trim();
    let duration = match trimmed.parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => humantime::parse_duration(trimmed)
            .map_err(|_| LimitsError::BadDuration(text.to_owned()))?,
    };
    if duration.is_zero() || duration.subsec_nanos() % 1_000_000 != 0 {
        return Err(LimitsError::BadDuration(text.to_owned()));
    }
    Ok(duration)
}

mod duration_ms {
    use std::time::Duration;

    pub fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let ms: u64 = serde::Deserialize::deserialize(d)?;
        Ok(Duration::from_millis(ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("65536"), Ok(65536));
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("64M"), Ok(64 << 20));
        assert_eq!(parse_size("1 GiB"), Ok(1 << 30));
        assert_eq!(parse_size("100MB"), Ok(100_000_000));
        for bad in ["", "MiB", "-1", "12XB", "99999999999999999999G", "1.5M"] {
            assert_eq!(
                parse_size(bad),
                Err(LimitsError::BadSize(bad.to_owned())),
                "{bad}"
            );
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("5"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        for bad in ["soon", "0", "500us", "1500us"] {
            assert_eq!(
                parse_duration(bad),
                Err(LimitsError::BadDuration(bad.to_owned())),
                "{bad}"
            );
        }
    }

    #[test]
    fn limits_serialize_with_millisecond_timeout() {
        let json = serde_json::to_value(Limits::default()).unwrap();
        assert_eq!(json["timeout"], 10_000);
        assert_eq!(
            serde_json::from_value::<Limits>(json).unwrap(),
            Limits::default()
        );
    }
}
