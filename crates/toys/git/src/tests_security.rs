//! Escape and isolation tests of the git toy: grants that lead out of the
//! granted directory are refused, repositories changed after the grant are
//! refused per call, and nothing the repository configures is run. Tests only.

use patina_core::Grant;
use wasmtime::component::Val;

use super::tests::Repo;
use super::*;

fn canonicalize(grant: &str) -> Result<Grant, GrantError> {
    GitToy::new().canonicalize(&grant.parse::<Grant>().unwrap())
}

fn refused(repo: &Repo, needle: &str) {
    let err = canonicalize(&repo.grant()).unwrap_err().to_string();
    assert!(err.contains(needle), "{err}");
    let err = repo::open(&repo.dir).unwrap_err().to_string();
    assert!(err.contains(needle), "{err}");
}

/// A second repository made in `repo.outside`.
fn outside_repo(repo: &Repo) -> std::path::PathBuf {
    let other = repo.outside.join("other");
    std::fs::create_dir_all(&other).unwrap();
    repo.git_in(&other, &["init", "-q", "-b", "main"]);
    other
}

#[test]
fn the_grant_is_canonical_and_needs_a_work_tree() {
    let repo = Repo::new();
    repo.write("sub/x.txt", "x\n");
    let dotted = format!("git:{}/sub/..", repo.dir.display());
    assert_eq!(canonicalize(&dotted).unwrap().to_string(), repo.grant());
    let link = repo.outside.join("link");
    std::os::unix::fs::symlink(&repo.dir, &link).unwrap();
    let via_link = format!("git:{}", link.display());
    assert_eq!(canonicalize(&via_link).unwrap().to_string(), repo.grant());

    let bare = canonicalize("git").unwrap_err().to_string();
    assert!(bare.contains("`git` needs a directory"), "{bare}");
    let sub = format!("git:{}/sub", repo.dir.display());
    assert!(
        canonicalize(&sub)
            .unwrap_err()
            .to_string()
            .contains("no `.git`")
    );
    let missing = format!("git:{}/nope", repo.dir.display());
    let missing = canonicalize(&missing).unwrap_err().to_string();
    assert!(missing.contains("cannot resolve"), "{missing}");

    let toy = GitToy::new();
    let two = [repo.grant().parse().unwrap(), via_link.parse().unwrap()];
    assert!(toy.combine(&two[..1]).is_ok());
    let other = format!("git:{}", repo.outside.display()).parse().unwrap();
    let twice = toy.combine(&[two[0].clone(), other]).unwrap_err();
    assert!(
        twice
            .to_string()
            .contains("granted twice with different scopes"),
        "{twice}"
    );
}

#[test]
fn a_bare_repository_is_refused() {
    let repo = Repo::new();
    repo.git(&["config", "core.bare", "true"]);
    refused(&repo, "bare");
}

#[test]
fn a_gitfile_pointing_outside_is_refused() {
    let repo = Repo::new();
    let other = outside_repo(&repo);
    std::fs::remove_dir_all(repo.dir.join(".git")).unwrap();
    let text = format!("gitdir: {}\n", other.join(".git").display());
    std::fs::write(repo.dir.join(".git"), text).unwrap();
    refused(&repo, "outside the granted directory");
    // A relative path climbing out is the same.
    std::fs::write(repo.dir.join(".git"), "gitdir: ../outside/other/.git\n").unwrap();
    refused(&repo, "outside the granted directory");
}

#[test]
fn a_gitfile_inside_the_directory_is_served() {
    let repo = Repo::new();
    repo.write("a.txt", "a\n");
    repo.commit_all("first");
    std::fs::rename(repo.dir.join(".git"), repo.dir.join(".real-git")).unwrap();
    std::fs::write(repo.dir.join(".git"), "gitdir: .real-git\n").unwrap();
    let status = status::status(&repo.open()).unwrap();
    assert_eq!(status.branch.as_deref(), Some("main"));
    assert!(status.staged.is_empty() && status.unstaged.is_empty());
}

#[test]
fn a_symlinked_git_dir_outside_is_refused() {
    let repo = Repo::new();
    let other = outside_repo(&repo);
    std::fs::remove_dir_all(repo.dir.join(".git")).unwrap();
    std::os::unix::fs::symlink(other.join(".git"), repo.dir.join(".git")).unwrap();
    refused(&repo, "outside the granted directory");
}

#[test]
fn core_worktree_elsewhere_is_refused() {
    let repo = Repo::new();
    let elsewhere = repo.outside.display().to_string();
    repo.git(&["config", "core.worktree", &elsewhere]);
    refused(&repo, "core.worktree");
}

#[test]
fn alternates_and_commondir_outside_are_refused() {
    let repo = Repo::new();
    let other = outside_repo(&repo);
    let alternates = repo.dir.join(".git/objects/info/alternates");
    std::fs::write(
        &alternates,
        format!("{}\n", other.join(".git/objects").display()),
    )
    .unwrap();
    refused(&repo, "alternate object store");
    std::fs::remove_file(&alternates).unwrap();
    std::fs::write(
        repo.dir.join(".git/commondir"),
        format!("{}\n", other.join(".git").display()),
    )
    .unwrap();
    refused(&repo, "common git directory");
}

#[tokio::test]
async fn a_repository_changed_after_the_grant_is_refused_per_call() {
    let repo = Repo::new();
    repo.write("a.txt", "a\n");
    repo.commit_all("first");
    let mut git = repo.instance();
    let ok = git.call("status", &[]).await.unwrap();
    assert!(matches!(ok.as_slice(), [Val::Result(Ok(_))]));
    let elsewhere = repo.outside.display().to_string();
    repo.git(&["config", "core.worktree", &elsewhere]);
    let answer = git.call("status", &[]).await.unwrap();
    let [Val::Result(Err(Some(message)))] = answer.as_slice() else {
        panic!("{answer:?}")
    };
    assert!(matches!(message.as_ref(), Val::String(m) if m.contains("core.worktree")));
}

#[test]
fn nothing_the_repository_configures_is_run_or_written() {
    let repo = Repo::new();
    let marker = repo.outside.join("ran");
    let script = repo.outside.join("evil.sh");
    std::fs::write(
        &script,
        format!("#!/bin/sh\ntouch {}\ncat\n", marker.display()),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    repo.write("a.txt", "one\ntwo\n");
    repo.write("b.txt", "bee\n");
    repo.commit_all("first");
    repo.write("a.txt", "one\n2\n");
    repo.commit_all("second");
    // Configure every program-running hook gix or git could consult.
    let evil = script.display().to_string();
    repo.write(".gitattributes", "* filter=evil diff=evil\n");
    for (key, value) in [
        ("filter.evil.clean", evil.as_str()),
        ("filter.evil.smudge", evil.as_str()),
        ("filter.evil.process", evil.as_str()),
        ("filter.evil.required", "true"),
        ("diff.evil.textconv", evil.as_str()),
        ("diff.evil.command", evil.as_str()),
        ("diff.external", evil.as_str()),
        ("core.fsmonitor", evil.as_str()),
        ("core.hooksPath", repo.outside.to_str().unwrap()),
        ("core.excludesFile", "/etc/passwd"),
    ] {
        repo.git(&["config", key, value]);
    }
    std::fs::copy(&script, repo.dir.join(".git/hooks/post-index-change")).unwrap();
    std::fs::copy(&script, repo.dir.join(".git/hooks/reference-transaction")).unwrap();
    // Same bytes with a new mtime, and new bytes of the same length: both must be hashed.
    std::thread::sleep(std::time::Duration::from_millis(20));
    repo.write("a.txt", "one\n2\n");
    repo.write("b.txt", "BEE\n");
    let index = std::fs::read(repo.dir.join(".git/index")).unwrap();

    let git = repo.open();
    let status = status::status(&git).unwrap();
    assert_eq!(
        status.unstaged,
        vec![FileChange {
            path: "b.txt".into(),
            kind: ChangeKind::Modified
        }]
    );
    assert_eq!(status.untracked, vec![".gitattributes"]);
    let diff = history::diff_stat(&git, "HEAD~1", "HEAD").unwrap();
    assert_eq!((diff.insertions, diff.deletions), (1, 1));
    history::log(&git, 10).unwrap();
    assert!(!marker.exists(), "a program named by the repository ran");
    assert_eq!(std::fs::read(repo.dir.join(".git/index")).unwrap(), index);

    // The configuration gix uses no longer names them.
    let config = git.config_snapshot();
    for key in [
        "filter.evil.clean",
        "diff.evil.textconv",
        "core.fsmonitor",
        "core.hooksPath",
    ] {
        assert_eq!(config.string(key), None, "{key} survived");
    }
    assert_eq!(config.string("user.name"), None);
    assert!(config.boolean("core.bare") == Some(false));
}

#[test]
fn layout_files_that_could_block_or_flood_are_not_read() {
    let repo = Repo::new();
    // A FIFO where gix reads a whole file would block it: refused unread.
    for name in ["commondir", "packed-refs", "info/exclude"] {
        let fifo = repo.dir.join(".git").join(name);
        let _ = std::fs::remove_file(&fifo);
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        refused(&repo, "not a regular file");
        std::fs::remove_file(&fifo).unwrap();
    }
    assert!(canonicalize(&repo.grant()).is_ok());
    // A huge `.git` file is refused without being read whole.
    std::fs::remove_dir_all(repo.dir.join(".git")).unwrap();
    let huge = format!("gitdir: {}\n", "x".repeat(100 << 10));
    std::fs::write(repo.dir.join(".git"), huge).unwrap();
    refused(&repo, "too large");
}
