//! [`ToyName`]: the versioned WIT interface name a toy is known by.
//!
//! `namespace:package/interface@version`, e.g. `patina:toys/log@0.1.0`. The
//! version is optional in the text form (`wasi:cli/environment`), because
//! components may import unversioned interfaces.

use std::fmt;
use std::str::FromStr;

/// A WIT interface name, optionally versioned.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ToyName {
    namespace: String,
    package: String,
    interface: String,
    version: Option<String>,
}

/// A text that is not a WIT interface name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a WIT interface name (`namespace:package/interface[@version]`): {reason}")]
pub struct ToyNameError {
    text: String,
    reason: &'static str,
}

impl ToyName {
    /// `namespace:package`, e.g. `patina:toys`.
    pub fn package(&self) -> String {
        format!("{}:{}", self.namespace, self.package)
    }

    /// The namespace, e.g. `patina` or `wasi`.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The interface, e.g. `log`.
    pub fn interface(&self) -> &str {
        &self.interface
    }

    /// The version, e.g. `0.1.0`, when the name carries one.
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }

    /// The name without its version, e.g. `patina:toys/log`.
    pub fn unversioned(&self) -> String {
        format!("{}:{}/{}", self.namespace, self.package, self.interface)
    }

    /// Whether an import of `other` can be served by an implementation of
    /// `self`: same interface, and versions compatible in the semver sense
    /// (same major, or for `0.x` the same minor; `self` not older than `other`).
    pub fn serves(&self, other: &ToyName) -> bool {
        if self.unversioned() != other.unversioned() {
            return false;
        }
        match (self.version_triple(), other.version_triple()) {
            (None, None) => true,
            (Some(ours), Some(theirs)) => {
                let same_track = if ours.0 == 0 {
                    ours.0 == theirs.0 && ours.1 == theirs.1
                } else {
                    ours.0 == theirs.0
                };
                same_track && ours >= theirs
            }
            _ => false,
        }
    }

    fn version_triple(&self) -> Option<(u64, u64, u64)> {
        let version = self.version.as_deref()?;
        // Pre-release and build suffixes only ever match exactly.
        let core = version.split(['-', '+']).next().unwrap_or(version);
        let mut parts = core.split('.').map(|p| p.parse::<u64>().ok());
        Some((parts.next()??, parts.next()??, parts.next()??))
    }
}

fn is_wit_id(s: &str) -> bool {
    !s.is_empty()
        && s.split('-').all(|word| {
            !word.is_empty()
                && word
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
                && !word.as_bytes()[0].is_ascii_digit()
        })
}

impl FromStr for ToyName {
    type Err = ToyNameError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let err = |reason| ToyNameError {
            text: text.to_owned(),
            reason,
        };
        let (path, version) = match text.split_once('@') {
            Some((path, version)) if !version.is_empty() => (path, Some(version.to_owned())),
            Some(_) => return Err(err("empty version")),
            None => (text, None),
        };
        let (package_part, interface) = path.split_once('/').ok_or_else(|| err("missing `/`"))?;
        let (namespace, package) = package_part
            .split_once(':')
            .ok_or_else(|| err("missing `:`"))?;
        for part in [namespace, package, interface] {
            if !is_wit_id(part) {
                return Err(err("each part must be a lowercase kebab-case identifier"));
            }
        }
        Ok(Self {
            namespace: namespace.to_owned(),
            package: package.to_owned(),
            interface: interface.to_owned(),
            version,
        })
    }
}

impl fmt::Display for ToyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.unversioned())?;
        if let Some(version) = &self.version {
            write!(f, "@{version}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for ToyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ToyName({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> ToyName {
        s.parse().unwrap()
    }

    #[test]
    fn parses_and_prints() {
        let log = name("patina:toys/log@0.1.0");
        assert_eq!(log.package(), "patina:toys");
        assert_eq!(log.interface(), "log");
        assert_eq!(log.version(), Some("0.1.0"));
        assert_eq!(log.to_string(), "patina:toys/log@0.1.0");
        assert_eq!(name("wasi:cli/terminal-stdin").version(), None);
    }

    #[test]
    fn rejects_non_interface_names() {
        for bad in [
            "log",
            "patina:toys",
            "patina/log",
            "Patina:toys/log",
            "p:t/l@",
            "p:t/-x",
            "a:b/c d",
        ] {
            assert!(bad.parse::<ToyName>().is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn semver_compatibility() {
        let ours = name("patina:toys/log@0.1.2");
        assert!(ours.serves(&name("patina:toys/log@0.1.0")));
        assert!(ours.serves(&name("patina:toys/log@0.1.2")));
        assert!(!ours.serves(&name("patina:toys/log@0.1.3")));
        assert!(!ours.serves(&name("patina:toys/log@0.2.0")));
        assert!(!ours.serves(&name("patina:toys/kv@0.1.0")));
        assert!(!ours.serves(&name("patina:toys/log")));
        assert!(name("wasi:io/poll@1.4.0").serves(&name("wasi:io/poll@1.0.0")));
    }
}
