//! The bounds of `fs-watch`: walks hold one open directory per level and
//! stop at 64 levels, 4096-byte paths and 16 MiB of paths; a pair keeps its
//! 16 most recently used snapshots; `wait` refuses trees with too many
//! directories.

use cap_std::ambient_authority;

use super::*;
use crate::snapshot::{Limits, walk, walk_within};

fn open(path: &Path) -> Dir {
    Dir::open_ambient_dir(path, ambient_authority()).unwrap()
}

/// Makes `levels` nested directories `d/d/...` under `root`, a file in each.
fn deep_tree(root: &Path, levels: usize) {
    let mut path = root.to_path_buf();
    for level in 0..levels {
        path.push("d");
        std::fs::create_dir(&path).unwrap();
        std::fs::write(path.join(format!("f{level}")), b"x").unwrap();
    }
}

/// How many of this process's open file descriptors lead into `root`.
#[cfg(target_os = "linux")]
fn fds_into(root: &Path) -> usize {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|entry| std::fs::read_link(entry.ok()?.path()).ok())
        .filter(|target| target.starts_with(root))
        .count()
}

#[cfg(target_os = "linux")]
#[test]
fn a_deep_walk_holds_one_directory_per_level() {
    let tmp = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(tmp.path()).unwrap();
    deep_tree(&root, 100);
    let dir = open(&root);
    let before = fds_into(&root);
    let mut most = 0;
    let limits = Limits {
        depth: 128,
        ..Limits::SNAPSHOT
    };
    let tree = walk_within(&dir, &limits, &mut || most = most.max(fds_into(&root))).unwrap();
    assert_eq!(tree.files.len(), 100);
    assert_eq!(tree.dirs, 101);
    assert!(tree.files.contains_key(&format!("{}f99", "d/".repeat(100))));
    // One directory per level and one listing (a few fds) at the deepest
    // point; holding a listing per level would be about three per level.
    assert!(
        most <= before + 100 + 4,
        "{most} fds into the tree during the walk, {before} before"
    );
    assert_eq!(fds_into(&root), before, "the walk leaked descriptors");

    // The default depth is 64: the same tree is refused, cleanly.
    let refused = walk(&dir).unwrap_err();
    assert!(refused.contains("deeper than 64"), "{refused}");
    assert_eq!(fds_into(&root), before, "the refusal leaked descriptors");
}

#[test]
fn sixty_four_levels_are_walked_and_sixty_five_refused() {
    let tmp = tempfile::tempdir().unwrap();
    deep_tree(tmp.path(), 64);
    let tree = walk(&open(tmp.path())).unwrap();
    assert_eq!(tree.files.len(), 64);
    std::fs::create_dir(tmp.path().join(format!("d{}", "/d".repeat(64)))).unwrap();
    let refused = walk(&open(tmp.path())).unwrap_err();
    assert!(refused.contains("nested deeper than 64"), "{refused}");
}

#[tokio::test]
async fn a_path_over_4096_bytes_is_an_error_answer() {
    let world = World::new();
    // 17 levels of 250-byte names, made relative to each level (an absolute
    // path this long is refused by the system).
    let name = "n".repeat(250);
    let mut dir = open(&world.root);
    for _ in 0..17 {
        dir.create_dir(&name).unwrap();
        dir = dir.open_dir(&name).unwrap();
    }
    dir.write("leaf", b"x").unwrap();
    let refused = walk(&open(&world.root)).unwrap_err();
    assert!(refused.contains("longer than 4096 bytes"), "{refused}");
    assert!(refused.len() < 400, "the whole path was echoed: {refused}");
    let mut watch = world.instance(b"child", &world.root);
    let answer = changes(&mut watch, None).await.unwrap_err();
    assert!(answer.contains("longer than 4096 bytes"), "{answer}");
}

#[test]
fn the_path_bytes_of_a_walk_are_capped() {
    let world = World::new();
    let dir = open(&world.root);
    // a.txt, sub, sub/b.txt, sub/deeper, sub/deeper/c.txt: 43 bytes.
    let within = |total| Limits {
        total_path_bytes: total,
        ..Limits::SNAPSHOT
    };
    assert_eq!(
        walk_within(&dir, &within(43), &mut || {})
            .unwrap()
            .files
            .len(),
        3
    );
    let refused = walk_within(&dir, &within(42), &mut || {}).unwrap_err();
    assert!(refused.contains("more than 42 bytes"), "{refused}");
    assert_eq!(snapshot::MAX_TOTAL_PATH_BYTES, 16 << 20);
}

fn files_numbered(n: usize) -> snapshot::Files {
    let state = snapshot::FileState {
        kind: "file".into(),
        size: n as u64,
        mtime_ns: None,
    };
    [(format!("f{n}"), state)].into_iter().collect()
}

#[test]
fn a_pair_keeps_its_sixteen_most_recently_used_snapshots() {
    let world = World::new();
    let store = store::SnapshotStore::new(&world.state, "c".into(), "/r".into());
    let cursors: Vec<String> = (0..store::KEEP)
        .map(|n| store.save(files_numbered(n)).unwrap())
        .collect();
    // Using the oldest keeps it; the next oldest goes instead.
    assert_eq!(store.load(&cursors[0]).unwrap(), files_numbered(0));
    let newest = store.save(files_numbered(100)).unwrap();
    assert!(store.load(&cursors[0]).is_ok());
    let evicted = store.load(&cursors[1]).unwrap_err().to_string();
    assert!(evicted.contains("unknown cursor"), "{evicted}");
    // Returning an unchanged snapshot's cursor again counts as a use.
    assert_eq!(store.save(files_numbered(2)).unwrap(), cursors[2]);
    store.save(files_numbered(101)).unwrap();
    assert!(store.load(&cursors[2]).is_ok());
    let evicted = store.load(&cursors[3]).unwrap_err().to_string();
    assert!(evicted.contains("unknown cursor"), "{evicted}");
    assert!(store.load(&newest).is_ok());
    let pair_dir = std::fs::read_dir(&world.state)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let stored = std::fs::read_dir(pair_dir).unwrap().count();
    assert_eq!(stored, store::KEEP, "exactly the kept snapshots remain");
}

#[tokio::test]
async fn an_evicted_cursor_is_unknown_to_changes() {
    let world = World::new();
    let mut watch = world.instance(b"child", &world.root);
    let (_, first) = changes(&mut watch, None).await.unwrap();
    for n in 0..store::KEEP {
        std::fs::write(world.root.join(format!("new{n}")), b"n").unwrap();
        changes(&mut watch, None).await.unwrap();
    }
    let refused = changes(&mut watch, Some(&first)).await.unwrap_err();
    assert!(refused.contains("unknown cursor"), "{refused}");
}

async fn wait_answer(watch: &mut Box<dyn ToyInstance>) -> Result<Val, String> {
    match watch.call("wait", &[Val::U32(50)]).await.unwrap().remove(0) {
        Val::Result(Ok(Some(value))) => Ok(*value),
        Val::Result(Err(Some(message))) => match *message {
            Val::String(message) => Err(message),
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn wait_refuses_a_tree_with_too_many_directories() {
    let world = World::new();
    // The root, sub and sub/deeper: three directories.
    let capped = FsWatchToy::new(world.state.clone()).with_max_watch_dirs(2);
    let mut watch = world.instance_of(capped, b"child", &world.root);
    let refused = wait_answer(&mut watch).await.unwrap_err();
    assert!(refused.contains("more than 2 directories"), "{refused}");
    assert!(refused.contains("poll `changes`"), "{refused}");
    // Polling still works.
    assert_eq!(changes(&mut watch, None).await.unwrap().0.len(), 3);

    let enough = FsWatchToy::new(world.state.clone()).with_max_watch_dirs(3);
    let mut watch = world.instance_of(enough, b"child", &world.root);
    assert_eq!(wait_answer(&mut watch).await.unwrap(), Val::Bool(false));
    assert_eq!(MAX_WATCH_DIRS, 10_000);
}
