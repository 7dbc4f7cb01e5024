//! [`Ceiling`]: the most a role's grant may be — one entry of a grant
//! ceiling, in the grants' own text form.
//!
//! - `*`: any grant (the `admin` role);
//! - `KIND:*`: any grant of that kind;
//! - `fs:DIR:ro|rw`, `git:DIR`, `kv:FILE`: the same kind on DIR or a path
//!   under it (and for `fs`, `ro` under an `rw` ceiling but never `rw` under
//!   `ro`). Paths are compared component by component after resolving `.`,
//!   `..` and, when the path exists, symlinks, so `fs:/srv/data/../etc` is
//!   not under `/srv/data`;
//! - `http:*.example.com`: `http:` of example.com's subdomains (or of a
//!   narrower wildcard); `http:HOST`: exactly that host;
//! - `net:IP:*` covers every port of IP; anything else: exactly that grant.
//!
//! This module must never widen: a check that cannot decide refuses.

use std::fmt;
use std::path::{Component, Path, PathBuf};

use patina_core::{FsAccess, FsScope, Grant};

/// One entry of a grant ceiling.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ceiling {
    /// Any grant.
    Any,
    /// Any grant of this kind.
    Kind(String),
    /// At or below this grant.
    Grant(Grant),
}

impl fmt::Display for Ceiling {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Any => f.write_str("*"),
            Self::Kind(kind) => write!(f, "{kind}:*"),
            Self::Grant(grant) => write!(f, "{grant}"),
        }
    }
}

impl Ceiling {
    /// Parses one ceiling entry.
    pub fn parse(text: &str) -> Result<Self, patina_core::GrantError> {
        if text == "*" {
            return Ok(Self::Any);
        }
        if let Some(kind) = text.strip_suffix(":*")
            && !kind.contains(':')
        {
            Grant::new(kind, None)?;
            return Ok(Self::Kind(kind.to_owned()));
        }
        Ok(Self::Grant(text.parse()?))
    }

    /// Whether `grant` is at or below this ceiling.
    pub fn allows(&self, grant: &Grant) -> bool {
        match self {
            Self::Any => true,
            Self::Kind(kind) => grant.kind() == kind,
            Self::Grant(ceiling) => within(ceiling, grant),
        }
    }
}

fn within(ceiling: &Grant, grant: &Grant) -> bool {
    if ceiling.kind() != grant.kind() {
        return false;
    }
    match (ceiling.scope(), grant.scope()) {
        (None, None) => true,
        (None, Some(_)) | (Some(_), None) => false,
        (Some(top), Some(asked)) => match grant.kind() {
            "fs" => match (FsScope::parse(ceiling), FsScope::parse(grant)) {
                (Ok(top), Ok(asked)) => {
                    (top.access == FsAccess::ReadWrite || asked.access == FsAccess::ReadOnly)
                        && under(Path::new(&top.path), Path::new(&asked.path))
                }
                _ => false,
            },
            "git" | "kv" => under(Path::new(top), Path::new(asked)),
            "http" => host_within(top, asked),
            "net" => match top.strip_suffix(":*") {
                Some(ip) => asked == ip || asked.rsplit_once(':').is_some_and(|(a, _)| a == ip),
                None => top == asked,
            },
            _ => top == asked,
        },
    }
}

fn host_within(top: &str, asked: &str) -> bool {
    let top = top.to_ascii_lowercase();
    let asked = asked.to_ascii_lowercase();
    match top.strip_prefix("*.") {
        // `*.example.com` covers `a.example.com`, `*.a.example.com` and
        // `*.example.com`, never `example.com` or `badexample.com`.
        Some(domain) => {
            let asked = asked.strip_prefix("*.").unwrap_or(&asked);
            asked.len() > domain.len()
                && asked.ends_with(domain)
                && asked.as_bytes()[asked.len() - domain.len() - 1] == b'.'
                && !asked.contains(['/', ':', '@'])
        }
        None => top == asked,
    }
}

/// Whether `path` is `top` or under it. Both must be absolute; `.` and `..`
/// are resolved lexically, then symlinks of whatever part exists.
fn under(top: &Path, path: &Path) -> bool {
    match (resolve(top), resolve(path)) {
        (Some(top), Some(path)) => path.starts_with(&top),
        _ => false,
    }
}

fn resolve(path: &Path) -> Option<PathBuf> {
    if !path.is_absolute() {
        return None;
    }
    let mut lexical = PathBuf::new();
    for component in path.components() {
        match component {
            Component::RootDir => lexical.push("/"),
            Component::CurDir => {}
            Component::ParentDir => {
                lexical.pop();
            }
            Component::Normal(part) => lexical.push(part),
            Component::Prefix(_) => return None,
        }
    }
    // Resolve symlinks of the longest existing ancestor.
    let mut existing = lexical.clone();
    let mut rest = Vec::new();
    loop {
        if let Ok(real) = std::fs::canonicalize(&existing) {
            let mut full = real;
            for part in rest.iter().rev() {
                full.push(part);
            }
            return Some(full);
        }
        let name = existing.file_name()?.to_owned();
        rest.push(name);
        if !existing.pop() {
            return Some(lexical);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allows(ceiling: &str, grant: &str) -> bool {
        Ceiling::parse(ceiling)
            .unwrap()
            .allows(&grant.parse().unwrap())
    }

    #[test]
    fn fs_ceilings() {
        assert!(allows("fs:/srv/data:ro", "fs:/srv/data:ro"));
        assert!(allows("fs:/srv/data:ro", "fs:/srv/data/sub:ro"));
        assert!(!allows("fs:/srv/data:ro", "fs:/srv/data:rw"));
        assert!(allows("fs:/srv/data:rw", "fs:/srv/data/x:ro"));
        assert!(!allows("fs:/srv/data:ro", "fs:/srv/database:ro"));
        assert!(!allows("fs:/srv/data:ro", "fs:/srv/data/../etc:ro"));
        assert!(!allows("fs:/srv/data:ro", "fs:/srv:ro"));
    }

    #[test]
    fn http_ceilings() {
        assert!(allows("http:*.example.com", "http:api.example.com"));
        assert!(allows("http:*.example.com", "http:*.api.example.com"));
        assert!(!allows("http:*.example.com", "http:example.com"));
        assert!(!allows("http:*.example.com", "http:badexample.com"));
        assert!(!allows("http:*.example.com", "http:*.com"));
        assert!(allows("http:api.example.com", "http:API.example.com"));
    }

    #[test]
    fn kinds_and_exact_grants() {
        assert!(allows("log", "log"));
        assert!(!allows("log", "kv"));
        assert!(!allows("log", "invoke:calc"));
        assert!(allows("invoke:*", "invoke:calc"));
        assert!(allows("*", "invoke:calc"));
        assert!(allows("net:127.0.0.1:*", "net:127.0.0.1:8080"));
        assert!(!allows("net:127.0.0.1:80", "net:127.0.0.1:8080"));
    }
}
