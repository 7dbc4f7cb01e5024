//! Tests of the git toy against hostile repository layouts: nested
//! alternates, symlinks and FIFOs inside `.git`, FIFO pattern files in the
//! work tree, gitfiles probing outside paths, stuck and panicking workers.
//! Anything that could block runs under a timeout, so a regression fails
//! instead of hanging the suite. Tests only.

use std::path::{Path, PathBuf};
use std::time::Duration;

use wasmtime::component::Val;

use super::tests::Repo;
use super::*;

/// Longest any of these checks may take before it counts as a hang.
const HANG: Duration = Duration::from_secs(20);

/// Runs `work` on its own thread and panics if it does not finish in time.
fn within<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    let (send, receive) = std::sync::mpsc::channel();
    std::thread::spawn(move || send.send(work()));
    receive.recv_timeout(HANG).expect("the check hung")
}

/// Both the grant and a later open of `repo` are refused with `needle`.
fn refused(repo: &Repo, needle: &str) {
    let (dir, grant) = (repo.dir.clone(), repo.grant());
    let (at_grant, at_open) = within(move || {
        let toy = GitToy::new();
        let at_grant = toy.canonicalize(&grant.parse().unwrap()).map(|_| ());
        let at_open = repo::open(&dir).map(|_| ());
        (
            at_grant.map_err(|e| e.to_string()),
            at_open.map_err(|e| e.to_string()),
        )
    });
    for err in [at_grant.unwrap_err(), at_open.unwrap_err()] {
        assert!(err.contains(needle), "{err}");
    }
}

/// A call that reads the work tree (`status`) and an open of `repo` for one
/// are refused with `needle`; the grant, which only opens the repository,
/// is not.
fn refused_for_status(repo: &Repo, needle: &str) {
    let (dir, grant) = (repo.dir.clone(), repo.grant());
    let (at_grant, at_open) = within(move || {
        let toy = GitToy::new();
        let at_grant = toy.canonicalize(&grant.parse().unwrap()).map(|_| ());
        let at_open = repo::open(&dir).map(|_| ());
        (
            at_grant.map_err(|e| e.to_string()),
            at_open.map_err(|e| e.to_string()),
        )
    });
    assert!(at_grant.is_ok(), "{at_grant:?}");
    let err = at_open.unwrap_err();
    assert!(err.contains(needle), "{err}");
}

/// The error message `function` answers, within the hang timeout.
async fn answer_err(git: &mut Box<dyn ToyInstance>, function: &str, args: &[Val]) -> String {
    let answer = tokio::time::timeout(HANG, git.call(function, args))
        .await
        .expect("the call hung")
        .unwrap();
    match answer.as_slice() {
        [Val::Result(Err(Some(message)))] => match message.as_ref() {
            Val::String(m) => m.clone(),
            other => panic!("{other:?}"),
        },
        other => panic!("expected an error answer, got {other:?}"),
    }
}

fn mkfifo(path: &Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let _ = std::fs::remove_file(path);
    let made = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(made.success());
}

/// A repository outside the granted directory with one commit; its path.
fn outside_repo(repo: &Repo) -> (PathBuf, String) {
    let other = repo.outside.join("other");
    std::fs::create_dir_all(&other).unwrap();
    repo.git_in(&other, &["init", "-q", "-b", "main"]);
    let who = ["-c", "user.name=O", "-c", "user.email=o@example.com"];
    let args = [
        &who[..],
        &["commit", "-q", "--allow-empty", "-m", "outside"],
    ]
    .concat();
    repo.git_in(&other, &args);
    let id = repo
        .git_in(&other, &["rev-parse", "HEAD"])
        .trim()
        .to_owned();
    (other, id)
}

fn committed() -> Repo {
    let repo = Repo::new();
    repo.write("a.txt", "a\n");
    repo.commit_all("first");
    repo
}

#[tokio::test]
async fn nested_alternates_are_refused() {
    let repo = committed();
    let (other, id) = outside_repo(&repo);
    // First level inside DIR, second level outside: gix would follow both.
    let alt = repo.dir.join("alt");
    std::fs::create_dir_all(alt.join("info")).unwrap();
    let outside_objects = format!("{}\n", other.join(".git/objects").display());
    std::fs::write(alt.join("info/alternates"), outside_objects).unwrap();
    let first = format!("{}\n", alt.display());
    std::fs::write(repo.dir.join(".git/objects/info/alternates"), first).unwrap();
    std::fs::write(repo.dir.join(".git/refs/heads/main"), format!("{id}\n")).unwrap();
    refused(&repo, "alternate object stores");
    // An alternates file even naming a store inside DIR is refused.
    std::fs::write(repo.dir.join(".git/objects/info/alternates"), "\n").unwrap();
    refused(&repo, "alternate object stores");
    std::fs::remove_file(repo.dir.join(".git/objects/info/alternates")).unwrap();
    let mut git = repo.instance();
    std::fs::write(
        repo.dir.join(".git/objects/info/alternates"),
        format!("{}\n", alt.display()),
    )
    .unwrap();
    let message = answer_err(&mut git, "head", &[]).await;
    assert!(message.contains("alternate"), "{message}");
    assert!(!message.contains(&id), "{message}");
}

#[tokio::test]
async fn symlinks_inside_the_git_directory_are_refused_and_not_echoed() {
    let secret_text = "TOP-SECRET-4711\n";
    for name in ["refs/heads/main", "HEAD", "packed-refs", "info/attributes"] {
        let repo = committed();
        let secret = repo.outside.join("secret.txt");
        std::fs::write(&secret, secret_text).unwrap();
        let mut git = repo.instance();
        let link = repo.dir.join(".git").join(name);
        std::fs::create_dir_all(link.parent().unwrap()).unwrap();
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&secret, &link).unwrap();
        refused(&repo, "symbolic link");
        for function in ["head", "status"] {
            let message = answer_err(&mut git, function, &[]).await;
            assert!(!message.contains("TOP-SECRET"), "{name}: {message}");
            assert!(message.contains("symbolic link"), "{name}: {message}");
        }
    }
    // Another repository's index or object store linked in is not read.
    for name in ["index", "objects"] {
        let repo = committed();
        let (other, _) = outside_repo(&repo);
        let target = other.join(".git").join(name);
        let link = repo.dir.join(".git").join(name);
        if link.is_dir() {
            std::fs::remove_dir_all(&link).unwrap();
        } else {
            std::fs::remove_file(&link).unwrap();
        }
        std::os::unix::fs::symlink(&target, &link).unwrap();
        refused(&repo, "symbolic link");
    }
}

#[tokio::test]
async fn fifos_inside_the_git_directory_are_refused_without_blocking() {
    for name in [
        "HEAD",
        "commondir",
        "shallow",
        "info/attributes",
        "refs/heads/fifo",
        "objects/info/commit-graph",
        "objects/info/commit-graphs/commit-graph-chain",
        "objects/info/alternates",
        "config.worktree",
    ] {
        let repo = committed();
        let mut git = repo.instance();
        mkfifo(&repo.dir.join(".git").join(name));
        refused(&repo, "not a regular file");
        let message = answer_err(&mut git, "status", &[]).await;
        assert!(message.contains("not a regular file"), "{name}: {message}");
    }
}

#[tokio::test]
async fn hostile_pattern_files_in_the_work_tree_are_refused_without_blocking() {
    for name in [
        ".gitignore",
        "sub/.gitignore",
        ".gitattributes",
        ".gitmodules",
    ] {
        let repo = committed();
        repo.write("sub/x.txt", "x\n");
        let mut git = repo.instance();
        mkfifo(&repo.dir.join(name));
        refused_for_status(&repo, "not a regular file");
        let message = answer_err(&mut git, "status", &[]).await;
        assert!(message.contains("not a regular file"), "{name}: {message}");
        // The calls that never read the work tree never walk it: the same
        // FIFO, which the walk refuses, neither blocks nor refuses them.
        for (function, args) in [
            ("head", vec![]),
            ("log", vec![Val::U32(5)]),
            (
                "diff-stat",
                vec![Val::String("HEAD".into()), Val::String("HEAD".into())],
            ),
        ] {
            let answer = tokio::time::timeout(HANG, git.call(function, &args))
                .await
                .expect("the call hung")
                .unwrap();
            assert!(
                matches!(answer.as_slice(), [Val::Result(Ok(Some(_)))]),
                "{name}: {function}: {answer:?}"
            );
        }
    }
    // A symlinked `.gitattributes` (gix would follow it out) and a nested
    // `.git` FIFO (gix probes it) are refused too.
    let repo = committed();
    let outside = repo.outside.join("attrs");
    std::fs::write(&outside, "* binary\n").unwrap();
    std::os::unix::fs::symlink(&outside, repo.dir.join(".gitattributes")).unwrap();
    refused_for_status(&repo, "not a regular file");
    let repo = committed();
    mkfifo(&repo.dir.join("nested/.git"));
    refused_for_status(&repo, "not a regular file");
}

#[test]
fn untracked_gitfiles_do_not_reveal_outside_repositories() {
    let repo = committed();
    let (other, _) = outside_repo(&repo);
    repo.write("kept.txt", "k\n");
    let inner = repo.dir.join("inner");
    std::fs::create_dir_all(&inner).unwrap();
    repo.git_in(&inner, &["init", "-q"]);
    repo.write("probe/notes.txt", "n\n");
    let untracked = |target: &Path| {
        let text = format!("gitdir: {}\n", target.display());
        std::fs::write(repo.dir.join("probe/.git"), text).unwrap();
        status::status(&repo.open()).unwrap().untracked
    };
    let exists = untracked(&other.join(".git"));
    let missing = untracked(&repo.outside.join("missing/.git"));
    assert_eq!(exists, missing);
    assert_eq!(exists, vec!["inner/", "kept.txt"]);
}

#[test]
fn stuck_and_panicking_workers_are_answers() {
    let started = std::time::Instant::now();
    let stuck = guard::run(Duration::from_millis(50), || {
        std::thread::sleep(Duration::from_secs(5));
        Ok(())
    });
    assert_eq!(stuck, guard::Guarded::TimedOut);
    assert!(started.elapsed() < Duration::from_secs(3));
    let panicked = guard::run::<()>(HANG, || panic!("gix panicked on a hostile repo"));
    assert_eq!(
        panicked,
        guard::Guarded::Answer(Err(guard::PANICKED.to_owned()))
    );
    assert_eq!(guard::run(HANG, || Ok(7)), guard::Guarded::Answer(Ok(7)));
}

#[tokio::test]
async fn calls_past_the_deadline_or_after_a_stuck_call_answer_at_once() {
    let repo = committed();
    let instance = |deadline, stuck| -> Box<dyn ToyInstance> {
        Box::new(GitInstance {
            dir: repo.dir.clone(),
            deadline,
            max_call: guard::MAX_CALL,
            stuck,
        })
    };
    let now = std::time::Instant::now();
    let mut late = instance(now, false);
    assert_eq!(answer_err(&mut late, "status", &[]).await, "timed out");
    let mut after_stuck = instance(now + HANG, true);
    let message = answer_err(&mut after_stuck, "head", &[]).await;
    assert!(message.starts_with("timed out"), "{message}");
    // With time left and no stuck worker the same repository is served.
    let ok = instance(now + HANG, false).call("head", &[]).await.unwrap();
    assert!(matches!(ok.as_slice(), [Val::Result(Ok(_))]), "{ok:?}");
}
