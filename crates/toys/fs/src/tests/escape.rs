//! Escape attempts against the `fs` toy: none may ever read, list, stat,
//! write, create or remove anything outside the granted directory.

use std::os::unix::fs::symlink;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::*;

fn is_escape(result: &Result<Option<Val>, Val>) -> bool {
    matches!(result, Err(Val::Variant(case, Some(_))) if case == "escape")
}

#[tokio::test]
async fn lexical_escapes_are_refused_by_every_function() {
    let world = World::new();
    let mut fs = world.instance("rw");
    let secret = world.secret().display().to_string();
    for path in [
        "../secret.txt",
        "a/../../secret.txt",
        "sub/../../secret.txt",
        "..",
        &secret,
        "/etc/passwd",
    ] {
        for function in ["read", "list", "stat", "create-dir", "remove"] {
            let result = call(&mut fs, function, path, None).await;
            assert!(is_escape(&result), "{function}({path}) = {result:?}");
        }
        let result = call(&mut fs, "write", path, Some(b"pwned")).await;
        assert!(is_escape(&result), "write({path}) = {result:?}");
    }
    assert_eq!(std::fs::read(world.secret()).unwrap(), SECRET);
}

#[tokio::test]
async fn symlinks_leading_out_are_never_followed() {
    let world = World::new();
    symlink("../secret.txt", world.root.join("rel-link")).unwrap();
    symlink(world.secret(), world.root.join("abs-link")).unwrap();
    symlink("../outside", world.root.join("out-dir")).unwrap();
    symlink(&world.outside, world.root.join("abs-dir")).unwrap();
    symlink("sub/../../outside/new", world.root.join("dangling-out")).unwrap();
    symlink("a.txt", world.root.join("in-link")).unwrap();
    let mut fs = world.instance("rw");

    for link in [
        "rel-link",
        "abs-link",
        "out-dir/secret-marker",
        "abs-dir/secret-marker",
    ] {
        let result = call(&mut fs, "read", link, None).await;
        assert!(is_escape(&result), "read({link}) = {result:?}");
        let result = call(&mut fs, "write", link, Some(b"pwned")).await;
        assert!(is_escape(&result), "write({link}) = {result:?}");
    }
    for dir in ["out-dir", "abs-dir", "out-dir/", "out-dir/."] {
        let result = call(&mut fs, "list", dir, None).await;
        assert!(is_escape(&result), "list({dir}) = {result:?}");
    }
    for path in [
        "out-dir/secret-marker",
        "abs-dir/secret-marker",
        "out-dir/./secret-marker",
    ] {
        let result = call(&mut fs, "stat", path, None).await;
        assert!(is_escape(&result), "stat({path}) = {result:?}");
        let result = call(&mut fs, "remove", path, None).await;
        assert!(is_escape(&result), "remove({path}) = {result:?}");
    }
    for path in ["out-dir/new", "abs-dir/new", "dangling-out"] {
        let result = call(&mut fs, "write", path, Some(b"pwned")).await;
        assert!(is_escape(&result), "write({path}) = {result:?}");
        let result = call(&mut fs, "create-dir", path, None).await;
        assert!(
            is_escape(&result) || path == "dangling-out",
            "create-dir({path}) = {result:?}"
        );
    }
    // Nothing outside changed.
    assert_eq!(std::fs::read(world.secret()).unwrap(), SECRET);
    assert_eq!(
        std::fs::read(world.outside.join("secret-marker")).unwrap(),
        SECRET
    );
    assert!(!world.outside.join("new").exists());

    // A symlink itself is inside: stat and list describe it without following
    // it, and removing it removes the link, not its target.
    let Some(Val::Record(meta)) = call(&mut fs, "stat", "abs-link", None).await.unwrap() else {
        panic!()
    };
    assert_eq!(meta[0].1, Val::Enum("symlink".into()));
    let listing = names(call(&mut fs, "list", "", None).await.unwrap());
    assert!(
        listing.contains(&("out-dir".into(), "symlink".into())),
        "{listing:?}"
    );
    // A symlink inside the root to a file inside it is followed.
    assert_eq!(
        bytes(call(&mut fs, "read", "in-link", None).await.unwrap()),
        b"hello"
    );
    call(&mut fs, "remove", "rel-link", None).await.unwrap();
    call(&mut fs, "remove", "out-dir", None).await.unwrap();
    assert!(world.secret().exists());
    assert!(world.outside.join("secret-marker").exists());
}

/// Swaps `name` between a real entry inside the root and a symlink leading
/// out, as fast as it can, until `stop`.
fn swapper(
    root: PathBuf,
    target: PathBuf,
    dir: bool,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<u64> {
    std::thread::spawn(move || {
        let path = root.join("race");
        let mut swaps = 0;
        while !stop.load(Ordering::Relaxed) {
            let _ = std::fs::remove_file(&path);
            // The toy writes into the directory: remove it with its files
            // (never following the link, which `remove_dir_all` does not).
            let _ = std::fs::remove_dir_all(&path);
            let _ = symlink(&target, &path);
            let _ = std::fs::remove_file(&path);
            if dir {
                let _ = std::fs::create_dir(&path);
            } else {
                let _ = std::fs::write(&path, b"inside");
            }
            swaps += 1;
        }
        swaps
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_symlink_swapped_in_during_calls_never_leads_out() {
    let world = World::new();
    let stop = Arc::new(AtomicBool::new(false));
    let files = swapper(world.root.clone(), world.secret(), false, stop.clone());
    let mut fs = world.instance("rw");
    // The race must be seen to run: some reads find the real file, some find
    // the link (and are refused). On a loaded machine either can take a while,
    // so keep going past the first 3,000 rounds until both have been seen
    // (for at most a minute, so a broken race still ends the test).
    let (mut reads, mut refused) = (0usize, 0usize);
    let mut i = 0;
    let started = std::time::Instant::now();
    let patience = std::time::Duration::from_secs(60);
    while i < 3000 || ((reads == 0 || refused == 0) && started.elapsed() < patience) {
        let result = call(&mut fs, "read", "race", None).await;
        refused += usize::from(is_escape(&result));
        if let Ok(value) = result {
            assert_ne!(bytes(value), SECRET, "read leaked the outside file");
            reads += 1;
        }
        if let Ok(Some(Val::Record(meta))) = call(&mut fs, "stat", "race", None).await {
            assert_ne!(
                meta[1].1,
                Val::U64(SECRET.len() as u64),
                "stat followed the link"
            );
        }
        let _ = call(&mut fs, "write", "race", Some(format!("w{i}").as_bytes())).await;
        i += 1;
    }
    stop.store(true, Ordering::Relaxed);
    let swaps = files.join().unwrap();
    assert_eq!(
        std::fs::read(world.secret()).unwrap(),
        SECRET,
        "a write leaked out"
    );
    assert!(
        swaps > 0 && reads > 0 && refused > 0,
        "the race did not run: {swaps} swaps, {reads} reads, {refused} refused in {i} rounds"
    );

    let stop = Arc::new(AtomicBool::new(false));
    let _ = std::fs::remove_file(world.root.join("race"));
    let dirs = swapper(
        world.root.clone(),
        world.outside.clone(),
        true,
        stop.clone(),
    );
    // As above: go on until some listings found the real directory and some
    // found the link (and were refused).
    let (mut listed, mut refused) = (0usize, 0usize);
    let mut i = 0;
    let started = std::time::Instant::now();
    while i < 3000 || ((listed == 0 || refused == 0) && started.elapsed() < patience) {
        i += 1;
        let listing = call(&mut fs, "list", "race", None).await;
        refused += usize::from(is_escape(&listing));
        if let Ok(listing) = listing {
            listed += 1;
            let listing = names(listing);
            assert!(
                listing.iter().all(|(name, _)| name != "secret-marker"),
                "list followed the link out"
            );
        }
        let result = call(&mut fs, "read", "race/secret-marker", None).await;
        assert!(
            result.is_err(),
            "read through a swapped directory: {result:?}"
        );
        let _ = call(&mut fs, "write", &format!("race/w{i}"), Some(b"x")).await;
        let _ = call(&mut fs, "remove", "race/secret-marker", None).await;
    }
    stop.store(true, Ordering::Relaxed);
    let swaps = dirs.join().unwrap();
    assert!(
        swaps > 0 && listed > 0 && refused > 0,
        "the race did not run: {swaps} swaps, {listed} listings, {refused} refused in {i} rounds"
    );
    let outside: Vec<_> = std::fs::read_dir(&world.outside)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(outside, vec![std::ffi::OsString::from("secret-marker")]);
}

/// The grant is canonicalised before the run; a directory on its path
/// swapped for a symlink afterwards (the root itself, or a parent) makes the
/// run's open fail instead of landing where the symlink points.
#[test]
fn a_root_swapped_for_a_symlink_after_the_grant_is_not_opened() {
    for swapped_parent in [false, true] {
        let world = World::new();
        let toy = FsToy::new();
        let raw: Grant = format!("fs:{}:ro", world.root.display()).parse().unwrap();
        let grant = toy.canonicalize(&raw).unwrap();
        // Swap the root (or its parent) for a symlink to the outside.
        let victim = if swapped_parent {
            world.root.parent().unwrap().to_path_buf()
        } else {
            world.root.clone()
        };
        let moved = victim.with_extension("moved");
        std::fs::rename(&victim, &moved).unwrap();
        let target = if swapped_parent {
            // A look-alike tree whose `root` is the outside directory.
            let fake = moved.join("fake");
            std::fs::create_dir_all(&fake).unwrap();
            std::os::unix::fs::symlink(moved.join("outside"), fake.join("root")).unwrap();
            fake
        } else {
            moved.join("outside")
        };
        std::os::unix::fs::symlink(&target, &victim).unwrap();
        let ctx = ToyContext::new(ChildId::of(b"child"), vec![grant]);
        let opened = toy.instantiate(&ctx);
        assert!(opened.is_err(), "swapped parent: {swapped_parent}");
        // Undo, so the tempdir cleans up.
        std::fs::remove_file(&victim).unwrap();
        std::fs::rename(&moved, &victim).unwrap();
    }
}
