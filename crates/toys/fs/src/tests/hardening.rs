//! Hardening of the `fs` toy (the read and write caps are in `mod.rs`): atomic writes that never
//! write an existing inode, FIFOs and devices refused before they are
//! opened, listings that survive vanishing entries and answer `too-large`,
//! and error messages that do not echo a huge path.

use std::os::unix::fs::{OpenOptionsExt, PermissionsExt, symlink};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::*;

#[tokio::test]
async fn a_write_replaces_the_file_and_never_writes_its_inode() {
    let world = World::new();
    // A second name for a.txt's inode (it could as well be outside the root).
    std::fs::hard_link(world.root.join("a.txt"), world.root.join("link")).unwrap();
    std::fs::set_permissions(
        world.root.join("a.txt"),
        std::fs::Permissions::from_mode(0o640),
    )
    .unwrap();
    let mut fs = world.instance("rw");
    call(&mut fs, "write", "a.txt", Some(b"a longer new content"))
        .await
        .unwrap();
    assert_eq!(std::fs::read(world.root.join("link")).unwrap(), b"hello");
    assert_eq!(
        std::fs::read(world.root.join("a.txt")).unwrap(),
        b"a longer new content"
    );
    // Shorter data replaces the content fully, no tail of the old left.
    call(&mut fs, "write", "a.txt", Some(b"short"))
        .await
        .unwrap();
    assert_eq!(std::fs::read(world.root.join("a.txt")).unwrap(), b"short");
    let mode = std::fs::metadata(world.root.join("a.txt"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o640, "the replaced file's mode is kept");
    call(&mut fs, "write", "sub/new", Some(b"")).await.unwrap();
    assert_eq!(std::fs::read(world.root.join("sub/new")).unwrap(), b"");
    // No temp file is left behind.
    for dir in [&world.root, &world.root.join("sub")] {
        for entry in std::fs::read_dir(dir).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            assert!(!name.starts_with(".patina-tmp-"), "left over: {name}");
        }
    }
}

#[tokio::test]
async fn a_write_never_follows_or_replaces_a_final_symlink() {
    let world = World::new();
    symlink("a.txt", world.root.join("in-link")).unwrap();
    symlink("missing", world.root.join("dangling")).unwrap();
    let mut fs = world.instance("rw");
    for link in ["in-link", "dangling"] {
        let error = call(&mut fs, "write", link, Some(b"x")).await.unwrap_err();
        assert_eq!(case(&error), "not-permitted", "{link}");
        assert!(
            std::fs::symlink_metadata(world.root.join(link))
                .unwrap()
                .is_symlink()
        );
    }
    assert_eq!(std::fs::read(world.root.join("a.txt")).unwrap(), b"hello");
    assert!(!world.root.join("missing").exists());
    for path in ["sub/", "sub/.", "sub/x/..", "a.txt/"] {
        let error = call(&mut fs, "write", path, Some(b"x")).await.unwrap_err();
        assert_eq!(case(&error), "is-a-directory", "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fifo_is_refused_without_being_opened() {
    let world = World::new();
    let fifo = world.root.join("pipe");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("no mkfifo: skipped");
        return;
    }
    // A writer's open blocks until some reader opens the FIFO.
    let opened = Arc::new(AtomicBool::new(false));
    let writer = {
        let (fifo, opened) = (fifo.clone(), opened.clone());
        std::thread::spawn(move || {
            let file = std::fs::OpenOptions::new().write(true).open(fifo);
            opened.store(true, Ordering::SeqCst);
            drop(file);
        })
    };
    std::thread::sleep(Duration::from_millis(200));
    let mut fs = world.instance("ro");
    let error = call(&mut fs, "read", "pipe", None).await.unwrap_err();
    assert_eq!(error, FsError::Io("not a regular file".into()).to_val());
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        !opened.load(Ordering::SeqCst),
        "the toy opened the FIFO for reading"
    );
    // Release the writer.
    let _reader = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&fifo)
        .unwrap();
    writer.join().unwrap();
}

#[tokio::test]
async fn a_device_node_is_refused() {
    let world = World::new();
    let made = std::process::Command::new("mknod")
        .arg(world.root.join("null"))
        .args(["c", "1", "3"])
        .status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("cannot mknod: skipped");
        return;
    }
    let mut fs = world.instance("rw");
    let error = call(&mut fs, "read", "null", None).await.unwrap_err();
    assert_eq!(error, FsError::Io("not a regular file".into()).to_val());
    let error = call(&mut fs, "write", "null", Some(b"x"))
        .await
        .unwrap_err();
    assert_eq!(error, FsError::Io("not a regular file".into()).to_val());
}

#[tokio::test]
async fn a_listing_over_the_cap_is_too_large_with_the_count() {
    let world = World::new();
    for n in 0..3 {
        std::fs::write(world.root.join(format!("f{n}")), b"").unwrap();
    }
    // a.txt, sub and three files: five entries.
    let dir =
        cap_std::fs::Dir::open_ambient_dir(&world.root, cap_std::ambient_authority()).unwrap();
    let root = std::path::Path::new(".");
    assert_eq!(ops::list_capped(&dir, root, 5).unwrap().len(), 5);
    assert_eq!(
        ops::list_capped(&dir, root, 3).unwrap_err(),
        FsError::TooLarge(5)
    );
}

#[test]
fn an_entry_vanishing_mid_listing_is_skipped() {
    let vanished = std::io::Error::from(std::io::ErrorKind::NotFound);
    assert_eq!(ops::kind_of(Err(vanished)).unwrap(), None);
    let broken = std::io::Error::other("broken");
    assert!(matches!(ops::kind_of(Err(broken)), Err(FsError::Io(_))));
}

#[tokio::test]
async fn errors_do_not_echo_a_huge_path() {
    let world = World::new();
    let mut fs = world.instance("rw");
    let huge = format!("/{}", "x".repeat(100_000));
    let Err(Val::Variant(case, Some(reason))) = call(&mut fs, "read", &huge, None).await else {
        panic!("not an error")
    };
    assert_eq!(case, "escape");
    let Val::String(reason) = *reason else {
        panic!()
    };
    assert!(reason.len() < 400, "{} bytes", reason.len());
    symlink("a.txt", world.root.join("l".repeat(250))).unwrap();
    let long_link = format!("{}/../{}", "sub", "l".repeat(250));
    let Err(Val::Variant(_, Some(reason))) = call(&mut fs, "write", &long_link, Some(b"x")).await
    else {
        panic!("not an error")
    };
    let Val::String(reason) = *reason else {
        panic!()
    };
    assert!(reason.len() < 400, "{} bytes", reason.len());
}

#[tokio::test]
async fn an_absolute_symlink_is_an_escape_even_to_inside() {
    let world = World::new();
    symlink(world.root.join("a.txt"), world.root.join("abs-in")).unwrap();
    symlink(world.root.join("sub"), world.root.join("abs-in-dir")).unwrap();
    let mut fs = world.instance("rw");
    for (function, path, data) in [
        ("read", "abs-in", None),
        ("write", "abs-in", Some(&b"x"[..])),
        ("list", "abs-in-dir", None),
        ("read", "abs-in-dir/b.txt", None),
    ] {
        let error = call(&mut fs, function, path, data).await.unwrap_err();
        assert_eq!(case(&error), "escape", "{function}({path})");
    }
    assert_eq!(std::fs::read(world.root.join("a.txt")).unwrap(), b"hello");
}
