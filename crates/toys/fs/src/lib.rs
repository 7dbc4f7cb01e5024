//! The `fs` toy (`patina:toys/fs@0.1.0`): read, list, stat, write, create and
//! remove files inside one granted directory, every access a recorded call.
//!
//! Granted with `fs:DIR:ro|rw`, the same grant that preopens `DIR` for
//! `wasi:filesystem`. The directory is opened once per run as a cap-std `Dir`
//! and every access goes through it, so nothing leads out of it: absolute
//! paths, `..` above the root, absolute symlinks and relative symlinks
//! leading out (even swapped in during a call) are answered `escape`. An `ro`
//! grant never writes; a write replaces the file atomically (temp file and
//! rename), never writing an existing inode. A failure the WIT can name is an
//! answer; only malformed calls end the run.

mod error;
mod ops;
mod root;
#[cfg(test)]
mod tests;
mod write;

use std::sync::Arc;

use cap_std::fs::Dir;
use patina_core::{FsAccess, Grant, GrantError, ToyName};
use wasmtime::component::Val;

use patina_toy::typed::{LinkTypedError, TypedLinker};
use patina_toy::{Args, Toy, ToyContext, ToyError, ToyInstance, vals};

pub use ops::{MAX_LIST, MAX_READ, MAX_WRITE};

pub use error::shorten;
pub use patina_toy::canonical_fs_grant;
pub use root::Root;

use error::{ChildPath, FsError, check_path};

/// The functions of `patina:toys/fs`.
const FUNCTIONS: &[&str] = &["read", "list", "stat", "write", "create-dir", "remove"];

/// The `fs` toy. Stateless: each run opens its granted directory.
#[derive(Debug)]
pub struct FsToy {
    interface: ToyName,
}

impl FsToy {
    /// The toy for `patina:toys/fs@0.1.0`.
    pub fn new() -> Self {
        let interface = patina_toy::patina_interface("fs");
        Self { interface }
    }
}

impl Default for FsToy {
    fn default() -> Self {
        Self::new()
    }
}

impl Toy for FsToy {
    fn interface(&self) -> &ToyName {
        &self.interface
    }

    fn grant_kind(&self) -> &str {
        "fs"
    }

    fn summary(&self) -> &str {
        "files inside one directory (`fs:DIR:ro` or `fs:DIR:rw`), every access recorded"
    }

    fn functions(&self) -> &[&str] {
        FUNCTIONS
    }

    fn canonicalize(&self, grant: &Grant) -> Result<Grant, GrantError> {
        canonical_fs_grant(grant)
    }

    fn instantiate(&self, ctx: &ToyContext) -> Result<Box<dyn ToyInstance>, ToyError> {
        let root = Root::open(ctx)?;
        Ok(Box::new(FsInstance {
            dir: Arc::new(root.dir),
            access: root.access,
        }))
    }

    fn link_typed(&self, linker: &mut TypedLinker<'_, '_>) -> Result<(), LinkTypedError> {
        link_typed(linker)
    }
}

struct FsInstance {
    dir: Arc<Dir>,
    access: FsAccess,
}

/// One parsed call.
enum Op {
    Read,
    List,
    Stat,
    Write(Vec<u8>),
    CreateDir,
    Remove,
}

impl Op {
    fn writes(&self) -> bool {
        matches!(self, Self::Write(_) | Self::CreateDir | Self::Remove)
    }
}

/// A successful answer, before it becomes a value.
enum Answer {
    Bytes(Vec<u8>),
    Entries(Vec<(String, ops::Kind)>),
    Stat(ops::Stat),
    Done,
}

impl Answer {
    fn to_val(&self) -> Val {
        match self {
            Self::Bytes(data) => vals::ok(Some(vals::bytes(data))),
            Self::Entries(entries) => vals::ok(Some(Val::List(
                entries
                    .iter()
                    .map(|(name, kind)| {
                        vals::record([
                            ("name", vals::string(name.clone())),
                            ("kind", vals::case(kind.as_str())),
                        ])
                    })
                    .collect(),
            ))),
            Self::Stat(stat) => vals::ok(Some(vals::record([
                ("kind", vals::case(stat.kind.as_str())),
                ("size", Val::U64(stat.size)),
                ("modified-ns", vals::option(stat.modified_ns.map(Val::U64))),
            ]))),
            Self::Done => vals::ok(None),
        }
    }
}

fn run(dir: &Dir, op: Op, path: &ChildPath) -> Result<Answer, FsError> {
    let rel = path.rel.as_path();
    if path.is_root && op.writes() {
        return Err(FsError::NotPermitted(
            "the granted directory itself cannot be written, created or removed".into(),
        ));
    }
    Ok(match op {
        Op::Read => Answer::Bytes(ops::read(dir, rel)?),
        Op::List => Answer::Entries(ops::list(dir, rel)?),
        Op::Stat => Answer::Stat(ops::stat(dir, rel)?),
        Op::Write(data) => {
            write::write(dir, rel, &data)?;
            Answer::Done
        }
        Op::CreateDir => {
            ops::create_dir(dir, rel)?;
            Answer::Done
        }
        Op::Remove => {
            ops::remove(dir, rel)?;
            Answer::Done
        }
    })
}

impl FsInstance {
    /// Serves `op` on the child's `path`: the answer, or the WIT error.
    async fn serve(&self, op: Op, path: &str) -> Result<Result<Answer, FsError>, ToyError> {
        let path = match check_path(path) {
            Ok(path) => path,
            Err(error) => return Ok(Err(error)),
        };
        if op.writes() && self.access == FsAccess::ReadOnly {
            let refused = FsError::NotPermitted("the grant is read-only (`ro`)".into());
            return Ok(Err(refused));
        }
        let dir = self.dir.clone();
        let answer = patina_toy::blocking("the fs call", move || run(&dir, op, &path)).await?;
        if let Err(error) = &answer {
            tracing::debug!(?error, "fs call refused");
        }
        Ok(answer)
    }

    /// `read`, typed.
    async fn read(&self, path: &str) -> Result<Result<Vec<u8>, FsError>, ToyError> {
        Ok(match self.serve(Op::Read, path).await? {
            Ok(Answer::Bytes(data)) => Ok(data),
            Ok(_) => Err(FsError::Io("`read` answered something else".into())),
            Err(error) => Err(error),
        })
    }

    /// `write`, typed.
    async fn write(&self, path: &str, data: Vec<u8>) -> Result<Result<(), FsError>, ToyError> {
        Ok(self.serve(Op::Write(data), path).await?.map(|_| ()))
    }
}

/// Links `read` and `write`, which move bytes, with typed lifting.
fn link_typed(linker: &mut TypedLinker<'_, '_>) -> Result<(), LinkTypedError> {
    linker.func("read", |fs: &mut FsInstance, (path,): (String,)| {
        Box::pin(async move { Ok((fs.read(&path).await?,)) })
    })?;
    linker.func(
        "write",
        |fs: &mut FsInstance, (path, data): (String, Vec<u8>)| {
            Box::pin(async move { Ok((fs.write(&path, data).await?,)) })
        },
    )
}

/// The dynamic path: every function, as component values.
#[async_trait::async_trait]
impl ToyInstance for FsInstance {
    async fn call(&mut self, function: &str, args: &[Val]) -> Result<Vec<Val>, ToyError> {
        let (op, path) = match function {
            "write" => {
                let args = Args::new(function, args, 2)?;
                (Op::Write(args.bytes(1)?), args.string(0)?)
            }
            "read" | "list" | "stat" | "create-dir" | "remove" => {
                let args = Args::new(function, args, 1)?;
                let op = match function {
                    "read" => Op::Read,
                    "list" => Op::List,
                    "stat" => Op::Stat,
                    "create-dir" => Op::CreateDir,
                    _ => Op::Remove,
                };
                (op, args.string(0)?)
            }
            _ => {
                return Err(ToyError::NoSuchFunction {
                    toy: "patina:toys/fs".into(),
                    function: function.into(),
                });
            }
        };
        Ok(vec![match self.serve(op, path).await? {
            Ok(answer) => answer.to_val(),
            Err(error) => vals::err(error.to_val()),
        }])
    }
}

/// `functions()` serves exactly the functions of `wit/fs.wit`, each reading
/// the WIT's number of parameters.
#[cfg(test)]
#[tokio::test]
async fn functions_match_the_wit() {
    let dir = tempfile::tempdir().unwrap();
    let toy = FsToy::new();
    let grants = vec![
        canonical_fs_grant(&format!("fs:{}:ro", dir.path().display()).parse().unwrap()).unwrap(),
    ];
    let wit = include_str!("../wit/fs.wit");
    patina_toy::wit::check_toy(&toy, "fs.wit", wit, grants)
        .await
        .unwrap();
}
