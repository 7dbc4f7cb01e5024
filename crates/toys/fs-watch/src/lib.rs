//! The `fs-watch` toy (`patina:toys/fs-watch@0.1.0`): what changed under a
//! granted directory since a cursor, and a wait for the next change.
//!
//! Granted with the same `fs:DIR:ro|rw` grant as `fs`. `changes` walks the
//! root through a cap-std `Dir` (never following symlinks), keeps the
//! snapshot content-addressed under the Mother's state directory, one
//! directory per (child, root), and diffs it against the cursor's snapshot.
//! A file is `modified` when its size, mtime or kind differ: a change that
//! keeps both size and mtime is not seen. It never reads file contents, never
//! reads a snapshot of another child or root, and never lets a cursor name a
//! file outside its store. Walks are bounded (entries, depth, path bytes),
//! each pair keeps its newest 16 snapshots, and `wait` refuses trees of more
//! than 10,000 directories rather than add a kernel watch for each.

mod snapshot;
mod store;
#[cfg(test)]
mod tests;
mod watch;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use cap_std::fs::Dir;
use patina_core::{Grant, GrantError, ToyName};
use wasmtime::component::Val;

use patina_toy::canonical_fs_grant;
use patina_toy::{Args, Toy, ToyContext, ToyError, ToyInstance, vals};
use patina_toy_fs::Root;

use snapshot::ChangeKind;

use store::SnapshotStore;
use watch::Watch;

/// Longest wait, in milliseconds.
pub const MAX_WAIT_MS: u32 = 60_000;

/// Most directories (the root included) `wait` watches: each is one
/// inotify watch, a per-user kernel resource. Above it `wait` is an `err`
/// answer and the child can still poll `changes`.
pub(crate) const MAX_WATCH_DIRS: usize = 10_000;

/// The `fs-watch` toy; snapshots live under its state directory.
#[derive(Debug)]
pub struct FsWatchToy {
    interface: ToyName,
    state_dir: PathBuf,
    max_watch_dirs: usize,
}

impl FsWatchToy {
    /// The toy for `patina:toys/fs-watch@0.1.0`, keeping snapshots in
    /// `state_dir` (its own directory, e.g. `<mother state>/fs-watch`; created
    /// when first needed, owner-only), one subdirectory per (child, root).
    pub fn new(state_dir: PathBuf) -> Self {
        let interface = patina_toy::patina_interface("fs-watch");
        Self {
            interface,
            state_dir,
            max_watch_dirs: MAX_WATCH_DIRS,
        }
    }

    /// The same toy with another directory cap for `wait` (tests).
    #[cfg(test)]
    pub(crate) fn with_max_watch_dirs(mut self, max: usize) -> Self {
        self.max_watch_dirs = max;
        self
    }
}

impl Toy for FsWatchToy {
    fn interface(&self) -> &ToyName {
        &self.interface
    }

    fn grant_kind(&self) -> &str {
        "fs"
    }

    fn summary(&self) -> &str {
        "changes under one directory since a cursor (`fs:DIR:ro`), and waits for the next"
    }

    fn functions(&self) -> &[&str] {
        &["changes", "wait"]
    }

    fn canonicalize(&self, grant: &Grant) -> Result<Grant, GrantError> {
        canonical_fs_grant(grant)
    }

    fn instantiate(&self, ctx: &ToyContext) -> Result<Box<dyn ToyInstance>, ToyError> {
        let root = Root::open(ctx)?;
        let root_text = root
            .path
            .to_str()
            .ok_or_else(|| ToyError::Grant {
                reason: "the granted path is not UTF-8".into(),
            })?
            .to_owned();
        Ok(Box::new(FsWatchInstance {
            dir: Arc::new(root.dir),
            path: root.path,
            store: Arc::new(SnapshotStore::new(
                &self.state_dir,
                ctx.child.hex(),
                root_text,
            )),
            watch: None,
            max_watch_dirs: self.max_watch_dirs,
        }))
    }
}

struct FsWatchInstance {
    dir: Arc<Dir>,
    path: PathBuf,
    store: Arc<SnapshotStore>,
    /// Started by the first `wait`, kept for the run.
    watch: Option<Watch>,
    max_watch_dirs: usize,
}

/// A failure of `changes`: an answer, or a broken state directory.
enum Failure {
    Answer(String),
    Store(String),
}

fn changes(
    dir: &Dir,
    store: &SnapshotStore,
    cursor: Option<&str>,
) -> Result<(Vec<(String, ChangeKind)>, String), Failure> {
    let old = match cursor {
        None => snapshot::Files::new(),
        Some(cursor) => store
            .load(cursor)
            .map_err(|e| Failure::Answer(e.to_string()))?,
    };
    let now = snapshot::walk(dir).map_err(Failure::Answer)?.files;
    let changes = snapshot::diff(&old, &now);
    let cursor = store
        .save(now)
        .map_err(|e| Failure::Store(format!("cannot store the fs-watch snapshot: {e}")))?;
    Ok((changes, cursor))
}

/// Counts the directories under the root with the bounded walk, then starts
/// the watch (one inotify watch per directory) if they are at most `max_dirs`.
fn start_watch(dir: &Dir, path: &std::path::Path, max_dirs: usize) -> Result<Watch, String> {
    let limits = snapshot::Limits {
        dirs: max_dirs,
        ..snapshot::Limits::SNAPSHOT
    };
    snapshot::walk_within(dir, &limits, &mut || {}).map_err(|e| {
        format!("cannot wait: {e} (each directory needs a watch); poll `changes` instead")
    })?;
    Watch::start(path)
}

fn changes_val(changes: &[(String, ChangeKind)], cursor: String) -> Val {
    let list = changes
        .iter()
        .map(|(path, kind)| {
            vals::record([
                ("path", vals::string(path.clone())),
                ("kind", vals::case(kind.as_str())),
            ])
        })
        .collect();
    vals::ok(Some(Val::Tuple(vec![Val::List(list), Val::String(cursor)])))
}

#[async_trait::async_trait]
impl ToyInstance for FsWatchInstance {
    async fn call(&mut self, function: &str, args: &[Val]) -> Result<Vec<Val>, ToyError> {
        match function {
            "changes" => {
                let args = Args::new(function, args, 1)?;
                let cursor = match args.option(0)? {
                    None => None,
                    Some(Val::String(cursor)) => Some(cursor.clone()),
                    Some(other) => {
                        return Err(ToyError::BadArguments {
                            function: function.into(),
                            reason: format!("the cursor must be a string, got {other:?}"),
                        });
                    }
                };
                // Events queued so far are covered by the snapshot taken now.
                if let Some(watch) = &mut self.watch {
                    watch.forget();
                }
                let (dir, store) = (self.dir.clone(), self.store.clone());
                let answer = patina_toy::blocking("changes", move || {
                    changes(&dir, &store, cursor.as_deref())
                })
                .await?;
                match answer {
                    Ok((changes, cursor)) => Ok(vec![changes_val(&changes, cursor)]),
                    Err(Failure::Answer(message)) => Ok(vec![vals::err_string(message)]),
                    Err(Failure::Store(reason)) => Err(ToyError::Store { reason }),
                }
            }
            "wait" => {
                let args = Args::new(function, args, 1)?;
                let timeout = Duration::from_millis(u64::from(args.u32(0)?.min(MAX_WAIT_MS)));
                if self.watch.is_none() {
                    let (dir, path) = (self.dir.clone(), self.path.clone());
                    let max_dirs = self.max_watch_dirs;
                    let started = patina_toy::blocking("starting the watch", move || {
                        start_watch(&dir, &path, max_dirs)
                    })
                    .await?;
                    match started {
                        Ok(watch) => self.watch = Some(watch),
                        Err(message) => return Ok(vec![vals::err_string(message)]),
                    }
                }
                let Some(watch) = &mut self.watch else {
                    return Err(ToyError::Backend("the watch vanished".into()));
                };
                Ok(vec![match watch.wait(timeout).await {
                    Ok(changed) => vals::ok(Some(Val::Bool(changed))),
                    Err(message) => vals::err_string(message),
                }])
            }
            _ => Err(ToyError::NoSuchFunction {
                toy: "patina:toys/fs-watch".into(),
                function: function.into(),
            }),
        }
    }
}

/// `functions()` serves exactly the functions of `wit/fs-watch.wit`, each reading
/// the WIT's number of parameters.
#[cfg(test)]
#[tokio::test]
async fn functions_match_the_wit() {
    let dir = tempfile::tempdir().unwrap();
    let toy = FsWatchToy::new(dir.path().join("snapshots"));
    let grants = vec![
        canonical_fs_grant(&format!("fs:{}:ro", dir.path().display()).parse().unwrap()).unwrap(),
    ];
    let wit = include_str!("../wit/fs-watch.wit");
    patina_toy::wit::check_toy(&toy, "fs-watch.wit", wit, grants)
        .await
        .unwrap();
}
