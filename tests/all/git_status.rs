//! The `git-status` child against the `git` toy and real repositories made
//! with the `git` binary: its answers match `git status --porcelain` and
//! `git rev-list --left-right --count`, a replay answers from the receipt
//! after the repository changed, and repositories whose `.git`,
//! `core.worktree`, nested alternates or symlinked refs lead out of the
//! granted directory are refused.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use patina_host::{Host, ReplaySource, RunRefused};
use patina_tests::{child, host_with, run};
use patina_toys::GitToy;
use serde_json::{Value, json};

fn host() -> Host {
    let mut toys = patina_toys::log_only();
    toys.register(Arc::new(GitToy::new()));
    host_with(toys)
}

/// Runs git in `dir` with no global or system configuration.
fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("LC_ALL", "C")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn write(dir: &Path, path: &str, text: &str) {
    let path = dir.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn commit(dir: &Path, message: &str) {
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", message]);
}

fn init(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["config", "user.name", "Test User"]);
    git(dir, &["config", "user.email", "test@example.com"]);
}

/// `(root, work)`: `work` is a clone of `root/origin`, 2 commits ahead and 3
/// behind it, with staged, unstaged, untracked and ignored files.
fn busy_clone() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(tmp.path()).unwrap();
    let origin = root.join("origin");
    init(&origin);
    write(&origin, "README.md", "hello\n");
    write(&origin, ".gitignore", "*.log\n");
    commit(&origin, "base");
    let work = root.join("work");
    let (from, to) = (origin.to_str().unwrap(), work.to_str().unwrap());
    git(&root, &["clone", "-q", from, to]);
    git(&work, &["config", "user.name", "Test User"]);
    git(&work, &["config", "user.email", "test@example.com"]);
    for i in 0..2 {
        write(&work, &format!("mine-{i}.txt"), "mine\n");
        commit(&work, &format!("mine {i}"));
    }
    for i in 0..3 {
        write(&origin, &format!("theirs-{i}.txt"), "theirs\n");
        commit(&origin, &format!("theirs {i}"));
    }
    git(&work, &["fetch", "-q", "origin"]);
    write(&work, "staged.txt", "new\n");
    write(&work, "README.md", "hello, staged\n");
    git(&work, &["add", "staged.txt", "README.md"]);
    write(&work, "mine-0.txt", "changed, not staged\n");
    std::fs::remove_file(work.join("mine-1.txt")).unwrap();
    write(&work, "notes/todo.txt", "untracked\n");
    write(&work, "scratch.txt", "untracked\n");
    write(&work, "debug.log", "ignored\n");
    (tmp, work)
}

/// What `git` says, in the child's `summary` shape (as JSON).
fn expected_summary(work: &Path) -> Value {
    let porcelain = git(
        work,
        &[
            "--no-optional-locks",
            "status",
            "--porcelain=v1",
            "-z",
            "--untracked-files=all",
        ],
    );
    let (mut staged, mut unstaged, mut untracked) = (vec![], vec![], vec![]);
    for entry in porcelain.split('\0').filter(|e| !e.is_empty()) {
        let (x, y, path) = (&entry[0..1], &entry[1..2], &entry[3..]);
        if x == "?" {
            untracked.push(path.to_owned());
            continue;
        }
        if x != " " {
            staged.push(format!("{x} {path}"));
        }
        if y != " " {
            unstaged.push(format!("{y} {path}"));
        }
    }
    staged.sort_by(|a, b| a[2..].cmp(&b[2..]));
    unstaged.sort_by(|a, b| a[2..].cmp(&b[2..]));
    untracked.sort();
    let counts = git(
        work,
        &["rev-list", "--left-right", "--count", "HEAD...@{u}"],
    );
    let (ahead, behind) = counts.trim().split_once('\t').unwrap();
    let head = git(work, &["rev-parse", "HEAD"]);
    json!({
        "branch": "main",
        "head": head.trim(),
        "staged-count": staged.len(),
        "unstaged-count": unstaged.len(),
        "untracked-count": untracked.len(),
        "clean": staged.is_empty() && unstaged.is_empty() && untracked.is_empty(),
        "staged": staged,
        "unstaged": unstaged,
        "untracked": untracked,
        "upstream": "origin/main",
        "ahead": ahead.parse::<u32>().unwrap(),
        "behind": behind.parse::<u32>().unwrap(),
    })
}

#[tokio::test]
async fn status_matches_git_and_its_replay_keeps_the_recorded_answer() {
    let (_tmp, work) = busy_clone();
    let host = host();
    let child = child(&host, "git-status");
    let grant = format!("git:{}", work.display());
    let report = run(&host, &child, "status()", &[&grant]).await.unwrap();
    let answer = report.json().expect("the call returned");
    let expected = expected_summary(&work);
    assert_eq!(answer, json!({ "ok": expected }));
    // Spelled out, so a misreading shared by the test and the toy fails.
    assert_eq!(expected["staged"], json!(["M README.md", "A staged.txt"]));
    assert_eq!(
        expected["unstaged"],
        json!(["M mine-0.txt", "D mine-1.txt"])
    );
    assert_eq!(
        expected["untracked"],
        json!(["notes/todo.txt", "scratch.txt"])
    );
    assert_eq!(
        (&expected["ahead"], &expected["behind"]),
        (&json!(2), &json!(3))
    );

    let (transcript, blobs) = report.transcript().expect("recorded");
    assert!(
        transcript
            .events
            .iter()
            .any(|e| e.toy == "patina:toys/git@0.1.0" && e.function == "status")
    );

    // The world moves on: a commit, new files. A live run sees it ...
    write(&work, "later.txt", "later\n");
    commit(&work, "later");
    write(&work, "even-later.txt", "x\n");
    let live = run(&host, &child, "status()", &[&grant]).await.unwrap();
    assert_ne!(live.json(), Some(answer.clone()));
    // ... the replay answers what was recorded, without opening the repository.
    let replay = host
        .replay(&child, ReplaySource { transcript, blobs })
        .await
        .unwrap();
    assert!(replay.matched(), "{:?}", replay.divergence);
    assert_eq!(replay.report.json(), Some(answer));
}

#[tokio::test]
async fn log_lines_match_git_log() {
    let (_tmp, work) = busy_clone();
    let host = host();
    let child = child(&host, "git-status");
    let grant = format!("git:{}", work.display());
    let report = run(&host, &child, "log(2)", &[&grant]).await.unwrap();
    let lines: Vec<String> = git(&work, &["log", "-2", "--abbrev=7", "--format=%h %s"])
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(report.json(), Some(json!({ "ok": lines })));

    let report = run(&host, &child, r#"diff-stat("HEAD~2", "HEAD")"#, &[&grant])
        .await
        .unwrap();
    assert_eq!(
        report.json(),
        Some(json!({ "ok": [
            "1 0 mine-0.txt",
            "1 0 mine-1.txt",
            "2 files changed, 2 insertions(+), 0 deletions(-)",
        ]}))
    );
    let report = run(&host, &child, r#"diff-stat("nope", "HEAD")"#, &[&grant])
        .await
        .unwrap();
    let err = report.json().unwrap()["err"].as_str().unwrap().to_owned();
    assert!(err.contains("nope"), "{err}");
}

#[tokio::test]
async fn repositories_leading_out_of_the_grant_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(tmp.path()).unwrap();
    let outside = root.join("outside");
    init(&outside);
    write(&outside, "secret.txt", "secret\n");
    commit(&outside, "secret");
    let host = host();
    let child = child(&host, "git-status");

    // A `.git` file naming a git directory outside the granted one.
    let gitfile = root.join("gitfile");
    std::fs::create_dir_all(&gitfile).unwrap();
    let target = format!("gitdir: {}\n", outside.join(".git").display());
    std::fs::write(gitfile.join(".git"), target).unwrap();
    let grant = format!("git:{}", gitfile.display());
    let err = run(&host, &child, "status()", &[&grant]).await.unwrap_err();
    assert!(
        err.to_string().contains("outside the granted directory"),
        "{err}"
    );

    // `core.worktree` naming another directory.
    let worktree = root.join("worktree");
    init(&worktree);
    let elsewhere = outside.to_str().unwrap();
    git(&worktree, &["config", "core.worktree", elsewhere]);
    let grant = format!("git:{}", worktree.display());
    let err = run(&host, &child, "status()", &[&grant]).await.unwrap_err();
    assert!(err.to_string().contains("core.worktree"), "{err}");

    // Alternates of alternates leading out (any alternates file is refused).
    let nested = root.join("nested-alternates");
    init(&nested);
    write(&nested, "a.txt", "a\n");
    commit(&nested, "first");
    let alt = nested.join("alt");
    std::fs::create_dir_all(alt.join("info")).unwrap();
    let objects = format!("{}\n", outside.join(".git/objects").display());
    std::fs::write(alt.join("info/alternates"), objects).unwrap();
    let first = format!("{}\n", alt.display());
    std::fs::write(nested.join(".git/objects/info/alternates"), first).unwrap();
    let grant = format!("git:{}", nested.display());
    let err = run(&host, &child, "status()", &[&grant]).await.unwrap_err();
    assert!(err.to_string().contains("alternate object stores"), "{err}");

    // A ref symlinked to a file outside: refused, its content never shown.
    let linked = root.join("linked-ref");
    init(&linked);
    write(&linked, "a.txt", "a\n");
    commit(&linked, "first");
    let secret = root.join("secret-ref");
    std::fs::write(&secret, "TOP-SECRET\n").unwrap();
    let head_ref = linked.join(".git/refs/heads/main");
    std::fs::remove_file(&head_ref).unwrap();
    std::os::unix::fs::symlink(&secret, &head_ref).unwrap();
    let grant = format!("git:{}", linked.display());
    let err = run(&host, &child, "status()", &[&grant]).await.unwrap_err();
    let err = err.to_string();
    assert!(
        err.contains("symbolic link") && !err.contains("TOP-SECRET"),
        "{err}"
    );

    // Without a grant the child cannot start.
    let err = run(&host, &child, "status()", &[]).await.unwrap_err();
    let RunRefused::MissingGrants { missing } = &err else {
        panic!("{err}")
    };
    assert!(
        missing.iter().all(|m| m.grant.as_deref() == Some("git")),
        "{err}"
    );
}
