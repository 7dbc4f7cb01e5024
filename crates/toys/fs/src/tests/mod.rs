//! Tests of the `fs` toy: success paths, the `ro` refusal, grants and
//! malformed calls here; escapes (lexical, symlinks, races) in `escape`;
//! limits, atomic writes and special files in `hardening`.

#[cfg(unix)]
mod escape;
#[cfg(unix)]
mod hardening;

use std::path::{Path, PathBuf};

use patina_core::{ChildId, Grant};
use wasmtime::component::Val;

use super::*;

/// A tempdir holding `root/` (the granted directory) and files beside it
/// that no call may ever reach.
pub(super) struct World {
    pub _tmp: tempfile::TempDir,
    pub root: PathBuf,
    pub outside: PathBuf,
}

pub(super) const SECRET: &[u8] = b"SECRET-OUTSIDE";

impl World {
    pub fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let base = std::fs::canonicalize(tmp.path()).unwrap();
        let root = base.join("root");
        let outside = base.join("outside");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(root.join("a.txt"), b"hello").unwrap();
        std::fs::write(root.join("sub/b.txt"), b"bee").unwrap();
        std::fs::write(base.join("secret.txt"), SECRET).unwrap();
        std::fs::write(outside.join("secret-marker"), SECRET).unwrap();
        Self {
            _tmp: tmp,
            root,
            outside,
        }
    }

    pub fn secret(&self) -> PathBuf {
        self.outside.parent().unwrap().join("secret.txt")
    }

    pub fn instance(&self, access: &str) -> Box<dyn ToyInstance> {
        instance(&self.root, access)
    }
}

pub(super) fn instance(root: &Path, access: &str) -> Box<dyn ToyInstance> {
    let toy = FsToy::new();
    let raw: Grant = format!("fs:{}:{access}", root.display()).parse().unwrap();
    let grant = toy.canonicalize(&raw).unwrap();
    toy.instantiate(&ToyContext::new(ChildId::of(b"child"), vec![grant]))
        .unwrap()
}

/// Calls `function` with a path (and data for `write`) and unpacks the result.
pub(super) async fn call(
    fs: &mut Box<dyn ToyInstance>,
    function: &str,
    path: &str,
    data: Option<&[u8]>,
) -> Result<Option<Val>, Val> {
    let mut args = vec![Val::String(path.into())];
    if let Some(data) = data {
        args.push(vals::bytes(data));
    }
    let mut results = fs.call(function, &args).await.unwrap();
    assert_eq!(results.len(), 1);
    match results.remove(0) {
        Val::Result(Ok(value)) => Ok(value.map(|v| *v)),
        Val::Result(Err(Some(error))) => Err(*error),
        other => panic!("not a result: {other:?}"),
    }
}

pub(super) fn case(error: &Val) -> &str {
    match error {
        Val::Variant(case, _) => case,
        other => panic!("not an error variant: {other:?}"),
    }
}

pub(super) fn bytes(value: Option<Val>) -> Vec<u8> {
    match value {
        Some(Val::List(items)) => items
            .into_iter()
            .map(|v| match v {
                Val::U8(b) => b,
                other => panic!("{other:?}"),
            })
            .collect(),
        other => panic!("not bytes: {other:?}"),
    }
}

pub(super) fn names(value: Option<Val>) -> Vec<(String, String)> {
    let Some(Val::List(entries)) = value else {
        panic!("not a listing: {value:?}")
    };
    entries
        .into_iter()
        .map(|entry| match entry {
            Val::Record(fields) => match (&fields[0], &fields[1]) {
                ((n, Val::String(name)), (k, Val::Enum(kind))) if n == "name" && k == "kind" => {
                    (name.clone(), kind.clone())
                }
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        })
        .collect()
}

#[tokio::test]
async fn reads_lists_and_stats() {
    let world = World::new();
    let mut fs = world.instance("ro");
    assert_eq!(
        bytes(call(&mut fs, "read", "a.txt", None).await.unwrap()),
        b"hello"
    );
    assert_eq!(
        bytes(
            call(&mut fs, "read", "./sub/../sub/b.txt", None)
                .await
                .unwrap()
        ),
        b"bee"
    );
    let listing = names(call(&mut fs, "list", "", None).await.unwrap());
    assert_eq!(
        listing,
        vec![
            ("a.txt".into(), "file".into()),
            ("sub".into(), "directory".into())
        ]
    );
    assert_eq!(
        names(call(&mut fs, "list", ".", None).await.unwrap()),
        listing
    );
    let Some(Val::Record(meta)) = call(&mut fs, "stat", "a.txt", None).await.unwrap() else {
        panic!()
    };
    assert_eq!(meta[0], ("kind".into(), Val::Enum("file".into())));
    assert_eq!(meta[1], ("size".into(), Val::U64(5)));
    let expected = std::fs::metadata(world.root.join("a.txt"))
        .unwrap()
        .modified()
        .unwrap()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    assert_eq!(
        meta[2],
        (
            "modified-ns".into(),
            Val::Option(Some(Box::new(Val::U64(expected))))
        )
    );
    let Some(Val::Record(meta)) = call(&mut fs, "stat", "", None).await.unwrap() else {
        panic!()
    };
    assert_eq!(meta[0].1, Val::Enum("directory".into()));
}

#[tokio::test]
async fn failures_are_typed_answers() {
    let world = World::new();
    let mut fs = world.instance("rw");
    let err = |r: Result<Option<Val>, Val>| case(&r.unwrap_err()).to_owned();
    assert_eq!(err(call(&mut fs, "read", "nope", None).await), "not-found");
    assert_eq!(
        err(call(&mut fs, "read", "sub", None).await),
        "is-a-directory"
    );
    assert_eq!(err(call(&mut fs, "read", "", None).await), "is-a-directory");
    assert_eq!(
        err(call(&mut fs, "list", "a.txt", None).await),
        "not-a-directory"
    );
    assert_eq!(
        err(call(&mut fs, "read", "a.txt/x", None).await),
        "not-a-directory"
    );
    assert_eq!(
        err(call(&mut fs, "create-dir", "sub", None).await),
        "not-permitted"
    );
    assert_eq!(
        err(call(&mut fs, "create-dir", "x/y", None).await),
        "not-found"
    );
    assert_eq!(
        err(call(&mut fs, "write", "sub", Some(b"x")).await),
        "is-a-directory"
    );
    assert_eq!(
        err(call(&mut fs, "remove", "", None).await),
        "not-permitted"
    );
    assert_eq!(
        err(call(&mut fs, "remove", "sub/..", None).await),
        "not-permitted"
    );
    assert_eq!(
        err(call(&mut fs, "remove", "sub", None).await),
        "io",
        "not empty"
    );
    assert_eq!(err(call(&mut fs, "read", "a\0b", None).await), "io");
}

#[tokio::test]
async fn rw_writes_creates_and_removes() {
    let world = World::new();
    let mut fs = world.instance("rw");
    call(&mut fs, "write", "new.txt", Some(b"one"))
        .await
        .unwrap();
    call(&mut fs, "write", "new.txt", Some(b"2")).await.unwrap();
    assert_eq!(std::fs::read(world.root.join("new.txt")).unwrap(), b"2");
    call(&mut fs, "create-dir", "d", None).await.unwrap();
    call(&mut fs, "write", "d/f", Some(b"in d")).await.unwrap();
    assert_eq!(
        bytes(call(&mut fs, "read", "d/f", None).await.unwrap()),
        b"in d"
    );
    call(&mut fs, "remove", "d/f", None).await.unwrap();
    call(&mut fs, "remove", "d", None).await.unwrap();
    call(&mut fs, "remove", "new.txt", None).await.unwrap();
    assert!(!world.root.join("d").exists());
    assert!(!world.root.join("new.txt").exists());
}

#[tokio::test]
async fn ro_refuses_every_write() {
    let world = World::new();
    let mut fs = world.instance("ro");
    for (function, path, data) in [
        ("write", "a.txt", Some(&b"changed"[..])),
        ("write", "new.txt", Some(&b"x"[..])),
        ("create-dir", "d", None),
        ("remove", "a.txt", None),
        ("remove", "sub/b.txt", None),
    ] {
        let error = call(&mut fs, function, path, data).await.unwrap_err();
        assert_eq!(case(&error), "not-permitted", "{function} {path}");
    }
    assert_eq!(std::fs::read(world.root.join("a.txt")).unwrap(), b"hello");
    assert!(world.root.join("sub/b.txt").exists());
    assert!(!world.root.join("new.txt").exists());
    assert!(!world.root.join("d").exists());
}

#[tokio::test]
async fn reads_are_capped() {
    let world = World::new();
    let big = std::fs::File::create(world.root.join("big")).unwrap();
    big.set_len(MAX_READ + 1).unwrap();
    let mut fs = world.instance("ro");
    let error = call(&mut fs, "read", "big", None).await.unwrap_err();
    assert_eq!(
        error,
        Val::Variant("too-large".into(), Some(Box::new(Val::U64(MAX_READ + 1))))
    );
    // At the cap, through the typed `read` (the dynamic path would hold
    // one `Val` per byte).
    big.set_len(MAX_READ).unwrap();
    let typed: &mut dyn std::any::Any = fs.as_mut();
    let typed = typed.downcast_mut::<FsInstance>().unwrap();
    assert_eq!(
        typed.read("big").await.unwrap().unwrap().len() as u64,
        MAX_READ
    );
    let over = typed
        .write("new", vec![0; MAX_WRITE as usize + 1])
        .await
        .unwrap();
    assert_eq!(
        over,
        Err(FsError::NotPermitted(
            "the grant is read-only (`ro`)".into()
        ))
    );
    let mut rw = world.instance("rw");
    let typed: &mut dyn std::any::Any = rw.as_mut();
    let typed = typed.downcast_mut::<FsInstance>().unwrap();
    let over = typed
        .write("new", vec![0; MAX_WRITE as usize + 1])
        .await
        .unwrap();
    assert_eq!(over, Err(FsError::TooLarge(MAX_WRITE + 1)));
    assert!(
        !world.root.join("new").exists(),
        "nothing is written past the cap"
    );
    let at = typed
        .write("new", vec![0; MAX_WRITE as usize])
        .await
        .unwrap();
    assert_eq!(at, Ok(()));
}

#[cfg(unix)]
#[tokio::test]
async fn a_fifo_is_refused_without_blocking() {
    let world = World::new();
    let fifo = world.root.join("pipe");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("no mkfifo: skipped");
        return;
    }
    let mut fs = world.instance("rw");
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        call(&mut fs, "read", "pipe", None),
    )
    .await
    .expect("read of a FIFO blocked");
    assert_eq!(case(&read.unwrap_err()), "io");
    let write = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        call(&mut fs, "write", "pipe", Some(b"x")),
    )
    .await
    .expect("write to a FIFO blocked");
    assert_eq!(case(&write.unwrap_err()), "io");
}

#[test]
fn grants_are_canonicalised_like_the_host_does() {
    let world = World::new();
    let toy = FsToy::new();
    let canonical: Grant = format!("fs:{}:rw", world.root.display()).parse().unwrap();
    assert_eq!(toy.canonicalize(&canonical).unwrap(), canonical);
    let dotted: Grant = format!("fs:{}/sub/..", world.root.display())
        .parse()
        .unwrap();
    assert_eq!(
        toy.canonicalize(&dotted).unwrap().to_string(),
        format!("fs:{}:ro", world.root.display())
    );
    let missing: Grant = format!("fs:{}/nope:ro", world.root.display())
        .parse()
        .unwrap();
    let err = toy.canonicalize(&missing).unwrap_err().to_string();
    assert!(err.contains("cannot open"), "{err}");
    let file: Grant = format!("fs:{}/a.txt:ro", world.root.display())
        .parse()
        .unwrap();
    let err = toy.canonicalize(&file).unwrap_err().to_string();
    assert!(err.contains("is not a directory"), "{err}");
    let err = toy.canonicalize(&"fs".parse().unwrap()).unwrap_err();
    assert!(err.to_string().contains("`fs` needs a directory"), "{err}");
}

#[tokio::test]
async fn malformed_calls_are_errors_not_panics() {
    let world = World::new();
    let mut fs = world.instance("rw");
    assert!(matches!(
        fs.call("chmod", &[]).await,
        Err(ToyError::NoSuchFunction { .. })
    ));
    assert!(matches!(
        fs.call("read", &[]).await,
        Err(ToyError::BadArguments { .. })
    ));
    assert!(matches!(
        fs.call("write", &[Val::String("x".into()), Val::String("y".into())])
            .await,
        Err(ToyError::BadArguments { .. })
    ));
    assert!(matches!(
        fs.call("list", &[Val::U32(1)]).await,
        Err(ToyError::BadArguments { .. })
    ));
}
