//! Tests of `status()` against real repositories made with the `git` binary,
//! compared with `git status --porcelain=v1 -z --untracked-files=all`; and the
//! shared helpers of the git toy's tests. Tests only.

use std::path::{Path, PathBuf};
use std::process::Command;

use patina_core::{ChildId, Grant};
use wasmtime::component::Val;

use super::*;

/// A repository in a tempdir, driven by the `git` binary with no global or
/// system configuration.
pub(super) struct Repo {
    _tmp: tempfile::TempDir,
    /// The canonical work tree.
    pub dir: PathBuf,
    /// A scratch directory beside the work tree (outside it).
    pub outside: PathBuf,
    clock: std::cell::Cell<u64>,
}

impl Repo {
    /// `git init -b main` with a user configured in the repository.
    pub fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(tmp.path()).unwrap();
        let dir = root.join("work");
        let outside = root.join("outside");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        let repo = Self {
            _tmp: tmp,
            dir,
            outside,
            clock: std::cell::Cell::new(1_700_000_000),
        };
        repo.git(&["init", "-q", "-b", "main"]);
        repo.git(&["config", "user.name", "Test User"]);
        repo.git(&["config", "user.email", "test@example.com"]);
        repo
    }

    /// Runs git in `dir` and returns its stdout; panics if it fails.
    pub fn git_in(&self, dir: &Path, args: &[&str]) -> String {
        let tick = self.clock.get() + 60;
        self.clock.set(tick);
        let date = format!("@{tick} +0000");
        let out = Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", &self.outside)
            .env("XDG_CONFIG_HOME", &self.outside)
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
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

    /// Runs git in the work tree.
    pub fn git(&self, args: &[&str]) -> String {
        self.git_in(&self.dir, args)
    }

    /// Writes `path` (making parent directories).
    pub fn write(&self, path: &str, text: &str) {
        let path = self.dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// Stages everything and commits.
    pub fn commit_all(&self, message: &str) {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
    }

    /// The canonical grant text.
    pub fn grant(&self) -> String {
        format!("git:{}", self.dir.display())
    }

    /// A toy instance for this repository, through `canonicalize`.
    pub fn instance(&self) -> Box<dyn ToyInstance> {
        let toy = GitToy::new();
        let grant = toy
            .canonicalize(&self.grant().parse::<Grant>().unwrap())
            .unwrap();
        toy.instantiate(&ToyContext::new(ChildId::of(b"child"), vec![grant]))
            .unwrap()
    }

    /// The repository opened as the toy opens it.
    pub fn open(&self) -> gix::Repository {
        repo::open(&self.dir).unwrap()
    }
}

/// `git status --porcelain=v1 -z --untracked-files=all`, parsed into the
/// toy's shape.
fn git_status(repo: &Repo) -> (Vec<FileChange>, Vec<FileChange>, Vec<String>) {
    // `--no-optional-locks`: git status must not refresh (write) the index,
    // which the tests check our status never does.
    let out = repo.git(&[
        "--no-optional-locks",
        "status",
        "--porcelain=v1",
        "-z",
        "--untracked-files=all",
    ]);
    let mut fields = out.split('\0').filter(|f| !f.is_empty());
    let (mut staged, mut unstaged, mut untracked) = (vec![], vec![], vec![]);
    let kind = |c: char| match c {
        'A' => ChangeKind::Added,
        'M' => ChangeKind::Modified,
        'D' => ChangeKind::Deleted,
        'R' => ChangeKind::Renamed,
        'T' => ChangeKind::TypeChanged,
        other => panic!("unexpected status letter {other:?} in {out:?}"),
    };
    while let Some(field) = fields.next() {
        let (x, y, path) = (
            field.chars().next().unwrap(),
            field.chars().nth(1).unwrap(),
            field[3..].to_owned(),
        );
        if x == 'R' || x == 'C' {
            fields.next(); // the source path of the rename
        }
        if (x, y) == ('?', '?') {
            untracked.push(path);
            continue;
        }
        if x != ' ' {
            staged.push(FileChange {
                path: path.clone(),
                kind: kind(x),
            });
        }
        if y != ' ' {
            unstaged.push(FileChange {
                path,
                kind: kind(y),
            });
        }
    }
    staged.sort();
    unstaged.sort();
    untracked.sort();
    (staged, unstaged, untracked)
}

fn change(path: &str, kind: ChangeKind) -> FileChange {
    FileChange {
        path: path.into(),
        kind,
    }
}

/// A repository with every kind of change git status shows.
fn busy_repo() -> Repo {
    let repo = Repo::new();
    repo.write(".gitignore", "*.log\nbuild/\n");
    repo.write("a.txt", "alpha\n");
    repo.write("b.txt", "bravo\n");
    repo.write("gone.txt", "to be deleted\n");
    repo.write("staged-gone.txt", "removed with git rm\n");
    repo.write(
        "old-name.txt",
        "a file that is renamed with enough content\nto be found\n",
    );
    repo.write("dir/nested.txt", "nested\n");
    repo.write("link-target.txt", "target\n");
    repo.commit_all("first");
    repo.write("a.txt", "alpha changed\n");
    repo.git(&["add", "a.txt"]);
    repo.write("a.txt", "alpha changed twice\n");
    repo.write("new-staged.txt", "new\n");
    repo.git(&["add", "new-staged.txt"]);
    repo.git(&["rm", "-q", "staged-gone.txt"]);
    repo.git(&["mv", "old-name.txt", "new-name.txt"]);
    repo.write("b.txt", "bravo changed\n");
    std::fs::remove_file(repo.dir.join("gone.txt")).unwrap();
    std::fs::remove_file(repo.dir.join("link-target.txt")).unwrap();
    std::os::unix::fs::symlink("a.txt", repo.dir.join("link-target.txt")).unwrap();
    repo.write("untracked.txt", "u\n");
    repo.write("deep/er/file.txt", "u\n");
    repo.write("deep/other.txt", "u\n");
    repo.write("noise.log", "ignored\n");
    repo.write("build/out.bin", "ignored\n");
    repo
}

#[test]
fn status_matches_git_porcelain() {
    let repo = busy_repo();
    let index = std::fs::read(repo.dir.join(".git/index")).unwrap();
    let ours = status::status(&repo.open()).unwrap();
    let (staged, unstaged, untracked) = git_status(&repo);
    assert_eq!(ours.staged, staged);
    assert_eq!(ours.unstaged, unstaged);
    assert_eq!(ours.untracked, untracked);
    // What git says, spelled out, so a shared misunderstanding cannot pass.
    assert_eq!(
        ours.staged,
        vec![
            change("a.txt", ChangeKind::Modified),
            change("new-name.txt", ChangeKind::Renamed),
            change("new-staged.txt", ChangeKind::Added),
            change("staged-gone.txt", ChangeKind::Deleted),
        ]
    );
    assert_eq!(
        ours.unstaged,
        vec![
            change("a.txt", ChangeKind::Modified),
            change("b.txt", ChangeKind::Modified),
            change("gone.txt", ChangeKind::Deleted),
            change("link-target.txt", ChangeKind::TypeChanged),
        ]
    );
    assert_eq!(
        ours.untracked,
        vec!["deep/er/file.txt", "deep/other.txt", "untracked.txt"]
    );
    assert_eq!(ours.branch.as_deref(), Some("main"));
    assert_eq!(
        ours.head.as_deref(),
        Some(repo.git(&["rev-parse", "HEAD"]).trim())
    );
    assert_eq!((ours.upstream, ours.ahead, ours.behind), (None, None, None));
    assert_eq!(
        std::fs::read(repo.dir.join(".git/index")).unwrap(),
        index,
        "status wrote the index"
    );
}

#[test]
fn a_clean_repo_has_empty_lists_and_a_touched_file_is_not_modified() {
    let repo = Repo::new();
    repo.write("a.txt", "alpha\n");
    repo.commit_all("first");
    std::thread::sleep(std::time::Duration::from_millis(20));
    repo.write("a.txt", "alpha\n"); // same bytes, new mtime: hashed, unchanged
    let index = std::fs::read(repo.dir.join(".git/index")).unwrap();
    let ours = status::status(&repo.open()).unwrap();
    assert!(ours.staged.is_empty() && ours.unstaged.is_empty() && ours.untracked.is_empty());
    assert_eq!(git_status(&repo), (vec![], vec![], vec![]));
    assert_eq!(std::fs::read(repo.dir.join(".git/index")).unwrap(), index);
}

#[test]
fn unborn_and_detached_heads() {
    let repo = Repo::new();
    repo.write("first.txt", "1\n");
    repo.git(&["add", "first.txt"]);
    let unborn = status::status(&repo.open()).unwrap();
    assert_eq!(unborn.branch.as_deref(), Some("main"));
    assert_eq!(unborn.head, None);
    assert_eq!(unborn.staged, vec![change("first.txt", ChangeKind::Added)]);
    assert_eq!(git_status(&repo).0, unborn.staged);

    repo.commit_all("first");
    repo.write("second.txt", "2\n");
    repo.commit_all("second");
    repo.git(&["checkout", "-q", "--detach", "HEAD~1"]);
    let detached = status::status(&repo.open()).unwrap();
    assert_eq!(detached.branch, None);
    assert_eq!(
        detached.head.as_deref(),
        Some(repo.git(&["rev-parse", "HEAD~0"]).trim())
    );
    assert_eq!((detached.upstream, detached.ahead), (None, None));
}

#[test]
fn ahead_and_behind_match_rev_list() {
    let upstream = Repo::new();
    upstream.write("base.txt", "base\n");
    upstream.commit_all("base");
    let repo = Repo::new();
    let url = upstream.dir.display().to_string();
    repo.git(&["remote", "add", "origin", &url]);
    repo.git(&["fetch", "-q", "origin"]);
    repo.git(&["checkout", "-q", "-B", "main", "--track", "origin/main"]);
    for i in 0..2 {
        repo.write(&format!("mine-{i}.txt"), "x\n");
        repo.commit_all(&format!("mine {i}"));
    }
    for i in 0..3 {
        upstream.write(&format!("theirs-{i}.txt"), "y\n");
        upstream.commit_all(&format!("theirs {i}"));
    }
    repo.git(&["fetch", "-q", "origin"]);
    let ours = status::status(&repo.open()).unwrap();
    let counts = repo.git(&["rev-list", "--left-right", "--count", "HEAD...@{u}"]);
    let (ahead, behind) = counts.trim().split_once('\t').unwrap();
    assert_eq!(ours.upstream.as_deref(), Some("origin/main"));
    assert_eq!(ours.ahead, Some(ahead.parse().unwrap()));
    assert_eq!(ours.behind, Some(behind.parse().unwrap()));
    assert_eq!((ours.ahead, ours.behind), (Some(2), Some(3)));

    // An upstream whose tracking ref is gone is named but not counted.
    repo.git(&["update-ref", "-d", "refs/remotes/origin/main"]);
    let gone = status::status(&repo.open()).unwrap();
    assert_eq!(gone.upstream.as_deref(), Some("origin/main"));
    assert_eq!((gone.ahead, gone.behind), (None, None));
}

#[tokio::test]
async fn status_call_answers_a_record_in_wit_order() {
    let repo = busy_repo();
    let mut git = repo.instance();
    let answer = git.call("status", &[]).await.unwrap();
    let [Val::Result(Ok(Some(record)))] = answer.as_slice() else {
        panic!("{answer:?}")
    };
    let Val::Record(fields) = record.as_ref() else {
        panic!("{record:?}")
    };
    let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "branch",
            "head",
            "staged",
            "unstaged",
            "untracked",
            "upstream",
            "ahead",
            "behind"
        ]
    );
    assert_eq!(
        fields[0].1,
        Val::Option(Some(Box::new(Val::String("main".into()))))
    );
    let Val::List(staged) = &fields[2].1 else {
        panic!()
    };
    assert_eq!(
        staged[1],
        Val::Record(vec![
            ("path".into(), Val::String("new-name.txt".into())),
            ("kind".into(), Val::Enum("renamed".into())),
        ])
    );
    assert_eq!(fields[7].1, Val::Option(None));
}

#[tokio::test]
async fn malformed_calls_are_errors_not_panics() {
    let repo = Repo::new();
    let mut git = repo.instance();
    assert!(matches!(
        git.call("push", &[]).await,
        Err(ToyError::NoSuchFunction { .. })
    ));
    assert!(matches!(
        git.call("status", &[Val::U32(1)]).await,
        Err(ToyError::BadArguments { .. })
    ));
    assert!(matches!(
        git.call("log", &[Val::String("10".into())]).await,
        Err(ToyError::BadArguments { .. })
    ));
    assert!(matches!(
        git.call("diff-stat", &[Val::String("HEAD".into())]).await,
        Err(ToyError::BadArguments { .. })
    ));
}
