//! [`Ceiling`]: the most a role's grant may be — one entry of a grant
//! ceiling, in the grants' own text form.
//!
//! - `*`: any grant (the `admin` role);
//! - `KIND:*`: any grant of that kind;
//! - `fs:DIR:ro|rw`, `git:DIR`, `kv:FILE`: the same kind on DIR or a path
//!   under it (and for `fs`, `ro` under an `rw` ceiling but never `rw` under
//!   `ro`). Paths are compared component by component as the file system
//!   resolves them — the part that exists canonicalised, symlinks and `..`
//!   followed in the order the kernel follows them, as the host does when it
//!   canonicalises the grant — so neither `fs:/srv/data/../etc` nor
//!   `fs:/srv/data/link/../etc` (`link` pointing out) is under `/srv/data`;
//!   a `.` or `..` in a part that does not exist yet is refused;
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

    /// Whether `grant` is at or below this ceiling (its path, for a path
    /// grant, resolved first: [`checked_form`]).
    pub fn allows(&self, grant: &Grant) -> bool {
        self.allows_form(grant, checked_form(grant).as_ref())
    }

    /// Whether `grant`, whose [`checked_form`] is `form`, is at or below
    /// this ceiling. A path ceiling compares the form's path as it is
    /// written, never resolving it again (what is checked is exactly what
    /// is run), and refuses a grant with no form; `*` and `KIND:*` take any
    /// path, resolvable or not (the host says what is wrong with it).
    pub fn allows_form(&self, grant: &Grant, form: Option<&Grant>) -> bool {
        match self {
            Self::Any => true,
            Self::Kind(kind) => grant.kind() == kind,
            Self::Grant(ceiling) => form.is_some_and(|form| within(ceiling, form)),
        }
    }
}

/// `grant` in the form a ceiling checks it and a run gets it: a path grant
/// (`fs`, `git` or `kv` with a path) with its path resolved once as the
/// file system has it ([`resolve`]: the part that exists canonical), any
/// other as it is. `None` for a path grant whose path cannot be resolved
/// (it is refused). The host refuses a run's grant in this form if it no
/// longer resolves to itself.
pub fn checked_form(grant: &Grant) -> Option<Grant> {
    let text = match (grant.kind(), grant.scope()) {
        ("fs", Some(_)) => {
            let scope = FsScope::parse(grant).ok()?;
            let path = resolve(Path::new(&scope.path))?.to_str()?.to_owned();
            FsScope { path, ..scope }.to_string()
        }
        ("git" | "kv", Some(path)) => resolve(Path::new(path))?.to_str()?.to_owned(),
        _ => return Some(grant.clone()),
    };
    grant.with_scope(Some(text)).ok()
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

/// Whether `path` (resolved already: absolute, no `.` or `..`) is `top`
/// or under it, `top` resolved as the file system has it now.
fn under(top: &Path, path: &Path) -> bool {
    let plain = path.is_absolute()
        && path
            .components()
            .all(|c| matches!(c, Component::RootDir | Component::Normal(_)));
    plain && resolve(top).is_some_and(|top| path.starts_with(top))
}

/// `path` as the file system resolves it: its longest part that exists
/// canonicalised, the rest appended as it is. `..` is never resolved by the
/// text: after a symlink it leads where the symlink's target leads, and the
/// host canonicalises a grant with the kernel, so this check must too.
/// `None` (refuse) for a relative path, a `..` in the part that does not
/// exist (where it would lead is not known until it does), a symlink whose
/// target does not exist (it would lead wherever that target is made), and
/// any failure but "not found".
fn resolve(path: &Path) -> Option<PathBuf> {
    if !path.is_absolute() {
        return None;
    }
    let mut existing = path.to_path_buf();
    let mut rest = Vec::new();
    loop {
        match std::fs::canonicalize(&existing) {
            Ok(real) => {
                let mut full = real;
                for part in rest.iter().rev() {
                    full.push(part);
                }
                return Some(full);
            }
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => return None,
            Err(_) => {}
        }
        // Not found: a name that does not exist yet, or a dangling symlink
        // (or a path through one), which is refused.
        if std::fs::symlink_metadata(&existing).is_ok() {
            return None;
        }
        match existing.components().next_back()? {
            Component::Normal(name) => rest.push(name.to_owned()),
            _ => return None,
        }
        if !existing.pop() {
            return None;
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

    /// `..` after a symlink leads where the kernel takes it — out of the
    /// ceiling when the symlink points out — not one step up the text.
    #[test]
    fn dot_dot_is_resolved_as_the_file_system_resolves_it() {
        let root = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(root.path()).unwrap();
        let (data, out) = (root.join("data"), root.join("out"));
        for dir in [data.join("real"), out.join("inner"), out.join("ssl")] {
            std::fs::create_dir_all(dir).unwrap();
        }
        std::os::unix::fs::symlink(out.join("inner"), data.join("link")).unwrap();
        let top = format!("fs:{}:rw", data.display());
        let d = data.display();

        // The host canonicalises with the kernel: `link/..` is `out`, so
        // `link/../ssl` is `out/ssl`, above the ceiling, and refused.
        let escape = format!("{d}/link/../ssl");
        assert_eq!(std::fs::canonicalize(&escape).unwrap(), out.join("ssl"));
        assert!(!allows(&top, &format!("fs:{escape}:ro")));
        assert!(!allows(&top, &format!("fs:{d}/link:ro")));

        // `..` through real directories stays inside.
        assert!(allows(&top, &format!("fs:{d}/real/../real:ro")));
        assert!(allows(&top, &format!("fs:{d}/real/not-yet/deeper:rw")));
        // `..` in a part that does not exist cannot be known: refused.
        assert!(!allows(&top, &format!("fs:{d}/not-yet/../real:ro")));
    }

    /// A symlink whose target does not exist would lead wherever that target
    /// is made later: refused, not taken for a name that does not exist yet.
    #[test]
    fn a_dangling_symlink_is_refused() {
        let root = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(root.path()).unwrap();
        let data = root.join("data");
        std::fs::create_dir(&data).unwrap();
        std::os::unix::fs::symlink(root.join("made-later"), data.join("dangling")).unwrap();
        let top = format!("fs:{}:rw", data.display());
        let d = data.display();
        assert!(!allows(&top, &format!("fs:{d}/dangling:rw")));
        assert!(!allows(&top, &format!("fs:{d}/dangling/deeper:rw")));
        assert!(
            allows(&top, &format!("fs:{d}/made-later:rw")),
            "a real name that does not exist yet"
        );
    }

    /// What a ceiling checks is what the run gets: the path resolved once,
    /// and compared as written after that.
    #[test]
    fn the_checked_form_is_the_resolved_path_compared_as_written() {
        let root = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(root.path()).unwrap();
        let data = root.join("data");
        std::fs::create_dir_all(data.join("real")).unwrap();
        let d = data.display();
        let asked: Grant = format!("fs:{d}/real/../real:ro").parse().unwrap();
        let checked = checked_form(&asked).unwrap();
        assert_eq!(checked.to_string(), format!("fs:{d}/real:ro"));
        let ceiling = Ceiling::parse(&format!("fs:{d}:ro")).unwrap();
        assert!(ceiling.allows_form(&asked, Some(&checked)));
        // Compared as written: a form with `..` left in is never under it.
        assert!(!ceiling.allows_form(&asked, Some(&asked)));
        // A path that cannot be resolved (relative here) has no form: a path
        // ceiling refuses it, `*` and `fs:*` leave it to the host.
        let relative: Grant = "fs:data/x:ro".parse().unwrap();
        assert_eq!(checked_form(&relative), None);
        assert!(!ceiling.allows(&relative));
        assert!(Ceiling::Any.allows(&relative));
        assert!(Ceiling::parse("fs:*").unwrap().allows(&relative));
        // Grants without a path are their own checked form.
        let log: Grant = "log".parse().unwrap();
        assert_eq!(checked_form(&log), Some(log));
    }
}
