//! Tests of the `fs-watch` toy: changes across cursors and across toy
//! instances, refused cursors, symlinks not followed, and waits; the bounds
//! of walks, stores and watches in `limits`.

mod limits;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use patina_core::{ChildId, Grant};

use super::*;

pub(super) struct World {
    pub _tmp: tempfile::TempDir,
    pub root: PathBuf,
    pub other: PathBuf,
    pub outside: PathBuf,
    pub state: PathBuf,
}

impl World {
    pub fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let base = std::fs::canonicalize(tmp.path()).unwrap();
        let (root, other, outside, state) = (
            base.join("root"),
            base.join("other"),
            base.join("outside"),
            base.join("state"),
        );
        for dir in [&root, &other, &outside] {
            std::fs::create_dir_all(dir).unwrap();
        }
        std::fs::write(root.join("a.txt"), b"a").unwrap();
        std::fs::create_dir_all(root.join("sub/deeper")).unwrap();
        std::fs::write(root.join("sub/b.txt"), b"b").unwrap();
        std::fs::write(root.join("sub/deeper/c.txt"), b"c").unwrap();
        std::fs::write(outside.join("secret"), b"secret").unwrap();
        Self {
            _tmp: tmp,
            root,
            other,
            outside,
            state,
        }
    }

    pub fn instance(&self, child: &[u8], root: &Path) -> Box<dyn ToyInstance> {
        self.instance_of(FsWatchToy::new(self.state.clone()), child, root)
    }

    pub fn instance_of(&self, toy: FsWatchToy, child: &[u8], root: &Path) -> Box<dyn ToyInstance> {
        let raw: Grant = format!("fs:{}:ro", root.display()).parse().unwrap();
        let grant = toy.canonicalize(&raw).unwrap();
        toy.instantiate(&ToyContext::new(ChildId::of(child), vec![grant]))
            .unwrap()
    }
}

pub(super) type Changes = Vec<(String, String)>;

pub(super) async fn changes(
    watch: &mut Box<dyn ToyInstance>,
    cursor: Option<&str>,
) -> Result<(Changes, String), String> {
    let arg = Val::Option(cursor.map(|c| Box::new(Val::String(c.into()))));
    let mut results = watch.call("changes", &[arg]).await.unwrap();
    match results.remove(0) {
        Val::Result(Ok(Some(tuple))) => {
            let Val::Tuple(mut parts) = *tuple else {
                panic!()
            };
            let (Val::String(cursor), Val::List(list)) = (parts.remove(1), parts.remove(0)) else {
                panic!()
            };
            let list = list
                .into_iter()
                .map(|change| match change {
                    Val::Record(fields) => match (&fields[0], &fields[1]) {
                        ((_, Val::String(path)), (_, Val::Enum(kind))) => {
                            (path.clone(), kind.clone())
                        }
                        other => panic!("{other:?}"),
                    },
                    other => panic!("{other:?}"),
                })
                .collect();
            Ok((list, cursor))
        }
        Val::Result(Err(Some(message))) => match *message {
            Val::String(message) => Err(message),
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
}

fn expect(items: &[(&str, &str)]) -> Changes {
    items
        .iter()
        .map(|(p, k)| ((*p).to_owned(), (*k).to_owned()))
        .collect()
}

fn touch(path: &Path, seconds: u64) {
    let file = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    file.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(seconds))
        .unwrap();
}

#[tokio::test]
async fn reports_added_modified_and_removed_across_cursors() {
    let world = World::new();
    let mut watch = world.instance(b"child", &world.root);
    let (all, first) = changes(&mut watch, None).await.unwrap();
    assert_eq!(
        all,
        expect(&[
            ("a.txt", "added"),
            ("sub/b.txt", "added"),
            ("sub/deeper/c.txt", "added")
        ])
    );
    assert_eq!(first.len(), 64);
    let (none, same) = changes(&mut watch, Some(&first)).await.unwrap();
    assert!(none.is_empty(), "{none:?}");
    assert_eq!(same, first, "an unchanged tree has the same cursor");

    std::fs::write(world.root.join("sub/b.txt"), b"longer").unwrap();
    touch(&world.root.join("sub/deeper/c.txt"), 1_000_000);
    std::fs::remove_file(world.root.join("a.txt")).unwrap();
    std::fs::write(world.root.join("sub/new.txt"), b"n").unwrap();
    std::fs::create_dir(world.root.join("empty")).unwrap();
    let (diff, second) = changes(&mut watch, Some(&first)).await.unwrap();
    assert_eq!(
        diff,
        expect(&[
            ("a.txt", "removed"),
            ("sub/b.txt", "modified"),
            ("sub/deeper/c.txt", "modified"),
            ("sub/new.txt", "added"),
        ])
    );
    assert_ne!(second, first);
    // The old cursor still works and still says the same.
    assert_eq!(changes(&mut watch, Some(&first)).await.unwrap().0, diff);
    std::fs::remove_dir_all(world.root.join("sub")).unwrap();
    let (gone, _) = changes(&mut watch, Some(&second)).await.unwrap();
    assert_eq!(
        gone,
        expect(&[
            ("sub/b.txt", "removed"),
            ("sub/deeper/c.txt", "removed"),
            ("sub/new.txt", "removed")
        ])
    );
}

#[tokio::test]
async fn cursors_outlive_the_toy_instance() {
    let world = World::new();
    let cursor = {
        let mut run = world.instance(b"child", &world.root);
        changes(&mut run, None).await.unwrap().1
    };
    std::fs::write(world.root.join("later.txt"), b"l").unwrap();
    // A new toy value, as in a second `mother run`.
    let mut second_run = world.instance(b"child", &world.root);
    let (diff, _) = changes(&mut second_run, Some(&cursor)).await.unwrap();
    assert_eq!(diff, expect(&[("later.txt", "added")]));
}

#[tokio::test]
async fn foreign_and_malformed_cursors_are_refused() {
    let world = World::new();
    std::fs::write(world.other.join("a.txt"), b"a").unwrap();
    let mut mine = world.instance(b"child", &world.root);
    let (_, cursor) = changes(&mut mine, None).await.unwrap();
    let mut other_child = world.instance(b"another child", &world.root);
    let refused = changes(&mut other_child, Some(&cursor)).await.unwrap_err();
    assert!(refused.contains("unknown cursor"), "{refused}");
    let mut other_root = world.instance(b"child", &world.other);
    let refused = changes(&mut other_root, Some(&cursor)).await.unwrap_err();
    assert!(refused.contains("unknown cursor"), "{refused}");
    // Two roots with identical content still have different cursors.
    let (_, other_cursor) = changes(&mut other_root, None).await.unwrap();
    assert_ne!(other_cursor, cursor);
    let refused = changes(&mut mine, Some(&other_cursor)).await.unwrap_err();
    assert!(refused.contains("unknown cursor"), "{refused}");

    // A file a malformed cursor might name must never be read.
    let pair_dir = std::fs::read_dir(world.state.clone())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|dir| dir.join(format!("{cursor}.json")).is_file())
        .expect("the pair directory of the cursor");
    std::fs::write(pair_dir.join("x.json"), b"{}").unwrap();
    for bad in [
        "",
        "x",
        "../../../etc/passwd",
        "../x",
        "x.json",
        &format!("{}/", &cursor[..63]),
        &cursor.to_uppercase(),
        &format!("{cursor}0"),
        &format!("/{}", &cursor[1..]),
    ] {
        let refused = changes(&mut mine, Some(bad)).await.unwrap_err();
        assert!(refused.contains("malformed cursor"), "{bad}: {refused}");
    }
    let unknown = "0".repeat(64);
    assert!(
        changes(&mut mine, Some(&unknown))
            .await
            .unwrap_err()
            .contains("unknown")
    );
    // A damaged snapshot is refused, not trusted.
    let stored = pair_dir.join(format!("{cursor}.json"));
    let mut bytes = std::fs::read(&stored).unwrap();
    bytes.push(b' ');
    std::fs::write(&stored, bytes).unwrap();
    assert!(
        changes(&mut mine, Some(&cursor))
            .await
            .unwrap_err()
            .contains("damaged")
    );
}

#[cfg(unix)]
#[tokio::test]
async fn symlinks_are_entries_and_never_followed() {
    let world = World::new();
    std::os::unix::fs::symlink(&world.outside, world.root.join("out-dir")).unwrap();
    std::os::unix::fs::symlink("../outside/secret", world.root.join("out-file")).unwrap();
    let mut watch = world.instance(b"child", &world.root);
    let (all, cursor) = changes(&mut watch, None).await.unwrap();
    let paths: Vec<&str> = all.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "a.txt",
            "out-dir",
            "out-file",
            "sub/b.txt",
            "sub/deeper/c.txt"
        ]
    );
    // Changing what a link points at outside is not a change inside.
    std::fs::write(world.outside.join("secret"), b"a much longer secret").unwrap();
    std::fs::write(world.outside.join("new"), b"n").unwrap();
    let (diff, _) = changes(&mut watch, Some(&cursor)).await.unwrap();
    assert!(diff.is_empty(), "{diff:?}");
}

async fn wait(watch: &mut Box<dyn ToyInstance>, ms: u32) -> Val {
    match watch.call("wait", &[Val::U32(ms)]).await.unwrap().remove(0) {
        Val::Result(Ok(Some(value))) => *value,
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_sees_a_write_and_times_out_otherwise() {
    let world = World::new();
    let mut watch = world.instance(b"child", &world.root);
    let started = std::time::Instant::now();
    assert_eq!(wait(&mut watch, 300).await, Val::Bool(false));
    assert!(started.elapsed() >= Duration::from_millis(300));

    let path = world.root.join("sub/deeper/written.txt");
    let writer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        std::fs::write(path, b"new").unwrap();
    });
    let started = std::time::Instant::now();
    assert_eq!(wait(&mut watch, 20_000).await, Val::Bool(true));
    assert!(started.elapsed() < Duration::from_secs(15));
    writer.join().unwrap();
    // Reading files under the root is not a change.
    let _ = changes(&mut watch, None).await.unwrap();
    std::fs::read(world.root.join("a.txt")).unwrap();
    assert_eq!(wait(&mut watch, 300).await, Val::Bool(false));
}

#[tokio::test]
async fn malformed_calls_are_errors_not_panics() {
    let world = World::new();
    let mut watch = world.instance(b"child", &world.root);
    assert!(matches!(
        watch.call("watch", &[]).await,
        Err(ToyError::NoSuchFunction { .. })
    ));
    assert!(matches!(
        watch.call("changes", &[Val::String("x".into())]).await,
        Err(ToyError::BadArguments { .. })
    ));
    assert!(matches!(
        watch.call("wait", &[Val::U64(1)]).await,
        Err(ToyError::BadArguments { .. })
    ));
}

#[test]
fn snapshots_are_private_and_content_addressed() {
    let world = World::new();
    let store = store::SnapshotStore::new(&world.state, "c".into(), "/r".into());
    let files =
        snapshot::walk(&Dir::open_ambient_dir(&world.root, cap_std::ambient_authority()).unwrap())
            .unwrap()
            .files;
    let one = store.save(files.clone()).unwrap();
    let two = store.save(files.clone()).unwrap();
    assert_eq!(one, two);
    assert_eq!(store.load(&one).unwrap(), files);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(world.state.clone())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "{mode:o}");
    }
}
