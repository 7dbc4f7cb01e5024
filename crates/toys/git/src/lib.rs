//! The `git` toy (`patina:toys/git@0.1.0`): read-only views of one granted
//! repository — status, HEAD, log and diff statistics — served with `gix`.
//!
//! Granted with `git:DIR`, `DIR` the work tree of a non-bare repository. The
//! layout of the repository is rechecked on every call (it may change
//! between calls; the answers are recorded), the work tree only for
//! `status`, the one call that reads it (and not when the grant is
//! canonicalised). The repository is reopened on every call: gix, built
//! without its `parallel` feature, cannot move an open repository between
//! the worker threads calls run on. It must never write to
//! the repository, never run a program the repository names (hooks, filters,
//! fsmonitor, credential or diff drivers), and never read outside `DIR`: a
//! `.git` file, `commondir` or alternate object store leading out of `DIR`, or
//! a `core.worktree` naming another directory, is refused; so is any
//! alternate object store, symlink or FIFO in the git directory. Every call
//! runs under [`guard`]: a watchdog, `catch_unwind` and bounded error text.

mod error;
mod guard;
mod history;
mod layout;
mod nested;
mod repo;
mod revspec;
mod status;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_history;
#[cfg(test)]
mod tests_hostile;
#[cfg(test)]
mod tests_limits;
#[cfg(test)]
mod tests_security;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use patina_core::{Grant, GrantError, ToyName};
use wasmtime::component::Val;

use patina_toy::{Args, Toy, ToyContext, ToyError, ToyInstance, vals};

use history::{CommitInfo, DiffSummary};
use layout::Reach;
use status::{FileChange, RepoStatus};
#[cfg(test)]
use {history::FileStat, status::ChangeKind};

const FUNCTIONS: &[&str] = &["status", "head", "log", "diff-stat"];

/// The `git` toy.
#[derive(Debug)]
pub struct GitToy {
    interface: ToyName,
}

impl GitToy {
    /// The toy for `patina:toys/git@0.1.0`.
    pub fn new() -> Self {
        let interface = patina_toy::patina_interface("git");
        Self { interface }
    }
}

impl Default for GitToy {
    fn default() -> Self {
        Self::new()
    }
}

impl Toy for GitToy {
    fn interface(&self) -> &ToyName {
        &self.interface
    }

    fn grant_kind(&self) -> &str {
        "git"
    }

    fn summary(&self) -> &str {
        "read-only status, log and diff statistics of the git work tree DIR (`git:DIR`)"
    }

    fn functions(&self) -> &[&str] {
        FUNCTIONS
    }

    fn canonicalize(&self, grant: &Grant) -> Result<Grant, GrantError> {
        let Some(scope) = grant.scope() else {
            return Err(grant.scope_error("`git` needs a directory: `git:/path/to/work-tree`"));
        };
        let dir = std::fs::canonicalize(scope)
            .map_err(|e| grant.scope_error(format!("cannot resolve `{scope}`: {e}")))?;
        if !dir.is_dir() {
            return Err(grant.scope_error(format!("`{}` is not a directory", dir.display())));
        }
        let text = dir
            .to_str()
            .ok_or_else(|| grant.scope_error("the directory's path is not UTF-8"))?
            .to_owned();
        repo::open_for(&dir, Reach::GitDir).map_err(|e| grant.scope_error(e.to_string()))?;
        grant.with_scope(Some(text))
    }

    fn instantiate(&self, ctx: &ToyContext) -> Result<Box<dyn ToyInstance>, ToyError> {
        let grant = ctx.grant()?;
        let dir = grant.scope().ok_or_else(|| ToyError::Grant {
            reason: format!("grant `{grant}` has no directory"),
        })?;
        Ok(Box::new(GitInstance {
            dir: PathBuf::from(dir),
            deadline: ctx.deadline,
            max_call: guard::MAX_CALL,
            stuck: false,
        }))
    }
}

struct GitInstance {
    dir: PathBuf,
    /// The run's deadline: no call waits past it.
    deadline: Instant,
    /// Longest wait for one call ([`guard::MAX_CALL`]; shorter in tests).
    max_call: Duration,
    /// Set once a call timed out: its worker may still be blocked, so later
    /// calls answer `err` at once instead of leaking one thread each.
    stuck: bool,
}

/// One parsed call.
enum Request {
    Status,
    Head,
    Log(u32),
    DiffStat(String, String),
}

#[async_trait::async_trait]
impl ToyInstance for GitInstance {
    async fn call(&mut self, function: &str, args: &[Val]) -> Result<Vec<Val>, ToyError> {
        let request = match function {
            "status" => {
                Args::new(function, args, 0)?;
                Request::Status
            }
            "head" => {
                Args::new(function, args, 0)?;
                Request::Head
            }
            "log" => Request::Log(Args::new(function, args, 1)?.u32(0)?),
            "diff-stat" => {
                let args = Args::new(function, args, 2)?;
                Request::DiffStat(args.string(0)?.to_owned(), args.string(1)?.to_owned())
            }
            _ => {
                return Err(ToyError::NoSuchFunction {
                    toy: "patina:toys/git".into(),
                    function: function.into(),
                });
            }
        };
        if self.stuck {
            return Ok(vec![vals::err_string(
                "timed out (an earlier call to this repository did not finish)",
            )]);
        }
        let dir = self.dir.clone();
        let limit = self.max_call.min(guard::call_limit(self.deadline));
        if limit.is_zero() {
            return Ok(vec![vals::err_string(guard::TIMED_OUT)]);
        }
        let guarded =
            tokio::task::spawn_blocking(move || guard::run(limit, move || serve(&dir, request)))
                .await
                .map_err(|e| ToyError::Worker {
                    what: "git worker".into(),
                    reason: e.to_string(),
                })?;
        let answer = match guarded {
            guard::Guarded::Answer(answer) => answer,
            guard::Guarded::TimedOut => {
                self.stuck = true;
                Err(guard::TIMED_OUT.to_owned())
            }
        };
        tracing::debug!(target: "patina::toys::git", function, ok = answer.is_ok(), "git call");
        Ok(vec![match answer {
            Ok(value) => vals::ok(Some(value)),
            Err(message) => vals::err_string(guard::clean_message(&message)),
        }])
    }
}

/// What `request` reads: only `status` reads the work tree.
fn reach(request: &Request) -> Reach {
    match request {
        Request::Status => Reach::WorkTree,
        Request::Head | Request::Log(_) | Request::DiffStat(..) => Reach::GitDir,
    }
}

/// Checks the layout (as far as `request` reads), opens the repository and
/// answers `request` (blocking).
fn serve(dir: &std::path::Path, request: Request) -> Result<Val, String> {
    let repo = repo::open_for(dir, reach(&request)).map_err(|e| e.to_string())?;
    Ok(match request {
        Request::Status => status_val(status::status(&repo)?),
        Request::Head => vals::option(history::head(&repo)?.map(commit_val)),
        Request::Log(max) => Val::List(
            history::log(&repo, max)?
                .into_iter()
                .map(commit_val)
                .collect(),
        ),
        Request::DiffStat(from, to) => diff_val(history::diff_stat(&repo, &from, &to)?),
    })
}

fn opt_string(value: Option<String>) -> Val {
    vals::option(value.map(vals::string))
}

fn changes_val(changes: Vec<FileChange>) -> Val {
    Val::List(
        changes
            .into_iter()
            .map(|c| {
                vals::record([
                    ("path", vals::string(c.path)),
                    ("kind", vals::case(c.kind.as_str())),
                ])
            })
            .collect(),
    )
}

fn status_val(s: RepoStatus) -> Val {
    vals::record([
        ("branch", opt_string(s.branch)),
        ("head", opt_string(s.head)),
        ("staged", changes_val(s.staged)),
        ("unstaged", changes_val(s.unstaged)),
        ("untracked", vals::strings(s.untracked)),
        ("upstream", opt_string(s.upstream)),
        ("ahead", vals::option(s.ahead.map(Val::U32))),
        ("behind", vals::option(s.behind.map(Val::U32))),
    ])
}

fn commit_val(c: CommitInfo) -> Val {
    vals::record([
        ("id", vals::string(c.id)),
        ("summary", vals::string(c.summary)),
        ("author", vals::string(c.author)),
        ("time", Val::S64(c.time)),
    ])
}

fn diff_val(d: DiffSummary) -> Val {
    vals::record([
        (
            "files",
            Val::List(
                d.files
                    .into_iter()
                    .map(|f| {
                        vals::record([
                            ("path", vals::string(f.path)),
                            ("insertions", Val::U32(f.insertions)),
                            ("deletions", Val::U32(f.deletions)),
                        ])
                    })
                    .collect(),
            ),
        ),
        ("insertions", Val::U32(d.insertions)),
        ("deletions", Val::U32(d.deletions)),
    ])
}

/// `functions()` serves exactly the functions of `wit/git.wit`, each reading
/// the WIT's number of parameters.
#[cfg(test)]
#[tokio::test]
async fn functions_match_the_wit() {
    let toy = GitToy::new();
    let grants = vec!["git:/nonexistent".parse().unwrap()];
    let wit = include_str!("../wit/git.wit");
    patina_toy::wit::check_toy(&toy, "git.wit", wit, grants)
        .await
        .unwrap();
}
