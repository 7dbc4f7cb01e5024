//! Grant resolution: every grant of a run is parsed, checked against the toys
//! the host offers, and canonicalised exactly once, before any child code runs.
//!
//! `fs:PATH[:ro|rw]` becomes a preopened directory (the path canonicalised, so a
//! symlink cannot later redirect it), `net:IP[:PORT]` an allowed socket
//! address, and every other kind must name a registered toy. A toy whose kind
//! is `fs` (the `fs` and `fs-watch` toys) gets the canonical `fs` grants too:
//! one grant both preopens a directory and enables the recorded toys on it.
//! Nothing here ever widens a grant: conflicting grants are refused, not merged.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use patina_core::{FsAccess, FsScope, Grant, GrantError, NetScope};
use patina_toy::{Toy, ToyRegistry};

/// A directory the child sees through `wasi:filesystem`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Preopen {
    /// The canonical host directory (also the path the child sees).
    pub dir: PathBuf,
    /// Read-only or read-write.
    pub access: FsAccess,
}

/// The grants of one run, resolved.
#[derive(Clone, Default)]
pub struct ResolvedGrants {
    /// Canonical grants, sorted and without repeats (what a receipt records).
    pub canonical: Vec<Grant>,
    /// Directories to preopen.
    pub preopens: Vec<Preopen>,
    /// Socket addresses the child may use.
    pub net: Vec<NetScope>,
    /// Granted toys with their canonical grants (sorted, no repeats).
    pub toys: Vec<(Arc<dyn Toy>, Vec<Grant>)>,
}

impl std::fmt::Debug for ResolvedGrants {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ResolvedGrants")
            .field(&self.canonical)
            .finish()
    }
}

impl ResolvedGrants {
    /// The canonical grants whose use is not recorded call by call: `fs`
    /// grants when the child can reach the preopened directories through
    /// `wasi:filesystem`, `net` grants when it imports `wasi:sockets`. A
    /// receipt names them, and a replay of such a run can never be exact.
    /// (Through the `fs` toys every access is recorded.)
    pub fn unrecorded(&self, uses_filesystem: bool, uses_sockets: bool) -> Vec<String> {
        self.canonical
            .iter()
            .filter(|g| match g.kind() {
                "fs" => uses_filesystem,
                "net" => uses_sockets,
                _ => false,
            })
            .map(ToString::to_string)
            .collect()
    }

    /// The grants that enable `toy` in this run, if it is granted.
    pub fn for_toy(&self, toy: &Arc<dyn Toy>) -> Option<&[Grant]> {
        self.toys
            .iter()
            .find(|(granted, _)| Arc::ptr_eq(granted, toy))
            .map(|(_, grants)| grants.as_slice())
    }

    /// Adds `grant` (canonical) to what enables `toy` in this run.
    fn add_toy_grant(&mut self, toy: &Arc<dyn Toy>, grant: Grant) {
        match self.toys.iter_mut().find(|(t, _)| Arc::ptr_eq(t, toy)) {
            Some((_, grants)) => grants.push(grant),
            None => self.toys.push((toy.clone(), vec![grant])),
        }
    }

    /// Sorts and deduplicates every list, as a receipt records them.
    fn normalise(mut self) -> Self {
        for (_, grants) in &mut self.toys {
            grants.sort();
            grants.dedup();
        }
        self.canonical.sort();
        self.canonical.dedup();
        self.net.dedup();
        self
    }
}

/// Kinds the host serves itself (besides any toy of the same kind).
const HOST_KINDS: [&str; 2] = ["fs", "net"];

fn unknown_kind(grant: &Grant, registry: &ToyRegistry) -> GrantError {
    let mut known: Vec<String> = HOST_KINDS.iter().map(|k| (*k).to_owned()).collect();
    known.extend(registry.kinds());
    known.sort();
    known.dedup();
    GrantError::UnknownKind {
        grant: grant.to_string(),
        kind: grant.kind().to_owned(),
        known: known.join(", "),
    }
}

/// The grants of a recorded run, for its replay: taken as the receipt states
/// them (canonical already), without touching the file system or the
/// network, since the directories, repositories and files they name may be
/// gone or different on this host. They carry no authority: no directory is
/// preopened, no socket allowed, and the toys they name are linked but never
/// instantiated (a replay answers every toy call from the transcript).
pub(crate) fn recorded_grants(
    grants: &[Grant],
    registry: &ToyRegistry,
) -> Result<ResolvedGrants, GrantError> {
    let mut resolved = ResolvedGrants::default();
    for grant in grants {
        let kind = grant.kind();
        if !HOST_KINDS.contains(&kind) && !registry.has_kind(kind) {
            return Err(unknown_kind(grant, registry));
        }
        resolved.canonical.push(grant.clone());
        for toy in registry.by_kind(kind) {
            resolved.add_toy_grant(toy, grant.clone());
        }
    }
    Ok(resolved.normalise())
}

/// Resolves `grants` against `registry`, then refuses any grant whose path
/// reaches into one of the `protected` directories or contains one (a
/// Mother's own state: its key, receipts and stores must never be a child's).
/// `protected` must hold canonical paths.
pub(crate) fn resolve_grants_protecting(
    grants: &[Grant],
    registry: &ToyRegistry,
    protected: &[PathBuf],
) -> Result<ResolvedGrants, GrantError> {
    let resolved = resolve_grants(grants, registry)?;
    for grant in &resolved.canonical {
        let Some(path) = grant_path(grant) else {
            continue;
        };
        if let Some(dir) = protected
            .iter()
            .find(|dir| path.starts_with(dir) || dir.starts_with(&path))
        {
            return Err(grant.scope_error(format!(
                "it would give the child the Mother's own state in `{}`; grant a directory that neither holds nor lies inside it",
                dir.display()
            )));
        }
    }
    Ok(resolved)
}

/// Refuses a path grant (`fs`, `git` or `kv` with a path) of `grants` that
/// did not resolve to its own text in `resolved`. For grants resolved and
/// checked before the run reached the host (by a membrane, against a
/// role's ceiling: [`RunRequest::grants_fixed`](crate::RunRequest::grants_fixed)):
/// a part of the path swapped for a symlink since that check would
/// otherwise take the run wherever the symlink leads.
pub(crate) fn check_fixed(grants: &[Grant], resolved: &ResolvedGrants) -> Result<(), GrantError> {
    for grant in grants {
        // A relative path was not resolved before (nothing checked it
        // against a path ceiling): the host resolves it as given.
        let fixed = grant_path(grant).is_some_and(|path| path.is_absolute());
        if fixed && !resolved.canonical.contains(grant) {
            return Err(grant.scope_error(
                "it no longer resolves to the path that was checked (a part of it changed, \
                 e.g. into a symlink, since); the run is refused rather than follow it",
            ));
        }
    }
    Ok(())
}

/// The file-system path a canonical grant names, if any: the directory of
/// `fs:DIR:ro|rw`, and an absolute path scope of any other kind (`git:DIR`,
/// `kv:FILE`).
fn grant_path(grant: &Grant) -> Option<PathBuf> {
    let scope = grant.scope()?;
    if grant.kind() == "fs" {
        return FsScope::parse(grant).ok().map(|s| PathBuf::from(s.path));
    }
    scope.starts_with('/').then(|| PathBuf::from(scope))
}

/// Resolves `grants` against `registry`.
pub(crate) fn resolve_grants(
    grants: &[Grant],
    registry: &ToyRegistry,
) -> Result<ResolvedGrants, GrantError> {
    let mut resolved = ResolvedGrants::default();
    let mut dirs: BTreeMap<PathBuf, FsAccess> = BTreeMap::new();
    for grant in grants {
        match grant.kind() {
            "fs" => {
                // One canonical form, shared with the `fs` toys, which get
                // exactly this grant (not canonicalised a second time).
                let canonical = patina_toy::canonical_fs_grant(grant)?;
                let scope = FsScope::parse(&canonical)?;
                let dir = PathBuf::from(&scope.path);
                if let Some(previous) = dirs.insert(dir.clone(), scope.access) {
                    if previous != scope.access {
                        return Err(grant.scope_error(format!(
                            "`{}` is granted both `{previous}` and `{}`; grant it once",
                            dir.display(),
                            scope.access
                        )));
                    }
                    continue;
                }
                resolved.canonical.push(canonical.clone());
                resolved.preopens.push(Preopen {
                    dir,
                    access: scope.access,
                });
                for toy in registry.by_kind("fs") {
                    resolved.add_toy_grant(toy, canonical.clone());
                }
            }
            "net" => {
                let scope = NetScope::parse(grant)?;
                resolved
                    .canonical
                    .push(grant.with_scope(Some(scope.to_string()))?);
                resolved.net.push(scope);
            }
            kind => {
                if !registry.has_kind(kind) {
                    return Err(unknown_kind(grant, registry));
                }
                for toy in registry.by_kind(kind) {
                    let canonical = toy.canonicalize(grant)?;
                    resolved.canonical.push(canonical.clone());
                    resolved.add_toy_grant(toy, canonical);
                }
            }
        }
    }
    // Whether several grants of one toy combine is decided when the toy is
    // linked (`Toy::combine`): two `fs` directories are fine for a child that
    // only uses `wasi:filesystem`.
    Ok(resolved.normalise())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grants(texts: &[&str]) -> Vec<Grant> {
        texts.iter().map(|t| t.parse().unwrap()).collect()
    }

    #[test]
    fn canonicalises_directories_once() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("data");
        std::fs::create_dir(&sub).unwrap();
        let dotted = format!("fs:{}/./data/../data", dir.path().display());
        let resolved =
            resolve_grants(&grants(&[&dotted, "log"]), &patina_toys::log_only()).unwrap();
        let canon = std::fs::canonicalize(&sub).unwrap();
        assert_eq!(
            resolved.preopens,
            vec![Preopen {
                dir: canon.clone(),
                access: FsAccess::ReadOnly
            }]
        );
        let texts: Vec<String> = resolved.canonical.iter().map(ToString::to_string).collect();
        assert_eq!(
            texts,
            vec![format!("fs:{}:ro", canon.display()), "log".to_owned()]
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_symlinked_grant_resolves_to_its_target() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        std::fs::create_dir(&target).unwrap();
        std::os::unix::fs::symlink(&target, dir.path().join("link")).unwrap();
        let text = format!("fs:{}:rw", dir.path().join("link").display());
        let resolved = resolve_grants(&grants(&[&text]), &patina_toys::log_only()).unwrap();
        assert_eq!(
            resolved.preopens[0].dir,
            std::fs::canonicalize(&target).unwrap()
        );
    }

    /// A grant fixed as it was checked (by a membrane) that no longer
    /// resolves to itself — a directory swapped for a symlink since — is
    /// refused, not followed; one that still does is run as it is.
    #[cfg(unix)]
    #[test]
    fn a_fixed_grant_that_moved_since_it_was_checked_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        let (checked, elsewhere) = (root.join("checked"), root.join("elsewhere"));
        std::fs::create_dir(&checked).unwrap();
        std::fs::create_dir(&elsewhere).unwrap();
        let registry = patina_toys::log_only();
        let fixed = grants(&[&format!("fs:{}:rw", checked.display()), "log"]);
        let resolved = resolve_grants(&fixed, &registry).unwrap();
        check_fixed(&fixed, &resolved).unwrap();

        // Swapped for a symlink after the check: it now leads elsewhere.
        std::fs::remove_dir(&checked).unwrap();
        std::os::unix::fs::symlink(&elsewhere, &checked).unwrap();
        let resolved = resolve_grants(&fixed, &registry).unwrap();
        assert_eq!(
            resolved.preopens[0].dir, elsewhere,
            "followed when not fixed"
        );
        let error = check_fixed(&fixed, &resolved).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("no longer resolves to the path that was checked"),
            "{error}"
        );
        assert!(error.to_string().contains("checked"), "{error}");
    }

    #[test]
    fn refuses_unknown_missing_and_conflicting_grants() {
        let registry = patina_toys::log_only();
        let err = resolve_grants(&grants(&["teleport"]), &registry).unwrap_err();
        assert!(matches!(err, GrantError::UnknownKind { .. }));
        assert!(err.to_string().contains("fs, log, net"), "{err}");
        let missing = grants(&["fs:/definitely/not/here"]);
        assert!(matches!(
            resolve_grants(&missing, &registry),
            Err(GrantError::BadScope { .. })
        ));
        let dir = tempfile::tempdir().unwrap();
        let both = grants(&[
            &format!("fs:{}:ro", dir.path().display()),
            &format!("fs:{}:rw", dir.path().display()),
        ]);
        let err = resolve_grants(&both, &registry).unwrap_err();
        assert!(err.to_string().contains("is granted both"), "{err}");
        let err = resolve_grants(&grants(&["log:loud"]), &registry).unwrap_err();
        assert!(
            matches!(&err, GrantError::Scope { grant, reason } if grant == "log:loud" && reason.contains("takes no scope")),
            "{err:?}"
        );
        let file = dir.path().join("file");
        std::fs::write(&file, b"x").unwrap();
        let err =
            resolve_grants(&grants(&[&format!("fs:{}", file.display())]), &registry).unwrap_err();
        assert!(
            matches!(&err, GrantError::BadScope { reason, .. } if reason.ends_with("is not a directory")),
            "{err:?}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_canonical_path_with_a_newline_is_refused() {
        // A symlink whose target holds a newline would otherwise canonicalise
        // to a grant text that reads as two grants when written down.
        let dir = tempfile::tempdir().unwrap();
        let evil = dir.path().join("a\nfs:/etc");
        std::fs::create_dir_all(&evil).unwrap();
        std::os::unix::fs::symlink(&evil, dir.path().join("link")).unwrap();
        let text = format!("fs:{}", dir.path().join("link").display());
        let err = resolve_grants(&grants(&[&text]), &patina_toys::log_only()).unwrap_err();
        assert!(err.to_string().contains("control characters"), "{err}");
    }

    #[test]
    fn protected_directories_are_neither_reached_nor_contained() {
        let dir = tempfile::tempdir().unwrap();
        let base = std::fs::canonicalize(dir.path()).unwrap();
        let home = base.join("home");
        let inside = home.join("blobs");
        let beside = base.join("notes");
        for d in [&inside, &beside] {
            std::fs::create_dir_all(d).unwrap();
        }
        let registry = patina_toys::log_only();
        let protected = [home.clone()];
        for refused in [&home, &inside, &base] {
            let grant = format!("fs:{}:ro", refused.display());
            let err =
                resolve_grants_protecting(&grants(&[&grant]), &registry, &protected).unwrap_err();
            assert!(err.to_string().contains("the Mother's own state"), "{err}");
        }
        let grant = format!("fs:{}:rw", beside.display());
        assert!(resolve_grants_protecting(&grants(&[&grant]), &registry, &protected).is_ok());
        // A sibling whose name merely starts with the same text is fine.
        let sibling = base.join("home-other");
        std::fs::create_dir(&sibling).unwrap();
        let grant = format!("fs:{}:ro", sibling.display());
        assert!(resolve_grants_protecting(&grants(&[&grant]), &registry, &protected).is_ok());
    }

    #[test]
    fn recorded_grants_need_nothing_they_name_to_exist() {
        let gone = grants(&["fs:/no/such/dir:ro", "net:127.0.0.1:80", "log"]);
        let registry = patina_toys::log_only();
        let err = resolve_grants(&gone, &registry).unwrap_err();
        assert!(
            matches!(&err, GrantError::BadScope { grant, reason } if grant == "fs:/no/such/dir:ro" && reason.starts_with("cannot open `/no/such/dir`")),
            "{err:?}"
        );
        let recorded = recorded_grants(&gone, &registry).unwrap();
        assert!(recorded.preopens.is_empty());
        assert!(recorded.net.is_empty());
        assert_eq!(recorded.canonical.len(), 3);
        assert_eq!(recorded.toys.len(), 1);
        assert!(matches!(
            recorded_grants(&grants(&["teleport"]), &registry),
            Err(GrantError::UnknownKind { kind, .. }) if kind == "teleport"
        ));
    }

    #[test]
    fn net_grants_are_canonical() {
        let resolved = resolve_grants(
            &grants(&["net:127.0.0.1", "net:127.0.0.1:*"]),
            &patina_toys::log_only(),
        )
        .unwrap();
        assert_eq!(resolved.canonical, grants(&["net:127.0.0.1:*"]));
        assert_eq!(resolved.net.len(), 1);
    }
}
