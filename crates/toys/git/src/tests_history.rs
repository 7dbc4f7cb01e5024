//! Tests of `head()`, `log(max)` and `diff-stat(from, to)` against what the
//! `git` binary tells about the same repository. Tests only.

use wasmtime::component::Val;

use super::tests::Repo;
use super::*;

fn history_repo() -> Repo {
    let repo = Repo::new();
    repo.write("a.txt", "one\ntwo\nthree\n");
    repo.write("b.txt", "bee\n");
    repo.write("bin.dat", "\0\x01\x02binary\n");
    repo.commit_all("first commit");
    repo.write("a.txt", "one\n2\nthree\nfour\n");
    repo.write("c/new.txt", "x\ny\n");
    repo.write("bin.dat", "\0\x01\x03binary changed\n");
    std::fs::remove_file(repo.dir.join("b.txt")).unwrap();
    repo.commit_all("second: edit\n\nwith a body");
    repo.git(&["mv", "c/new.txt", "c/moved.txt"]);
    repo.commit_all("third moves a file");
    repo
}

fn git_commit(repo: &Repo, rev: &str) -> CommitInfo {
    let out = repo.git(&["log", "-1", "--format=%H%n%s%n%an <%ae>%n%at", rev]);
    let lines: Vec<&str> = out.lines().collect();
    CommitInfo {
        id: lines[0].into(),
        summary: lines[1].into(),
        author: lines[2].into(),
        time: lines[3].parse().unwrap(),
    }
}

#[test]
fn head_is_the_commit_git_names() {
    let repo = history_repo();
    let head = history::head(&repo.open()).unwrap().unwrap();
    assert_eq!(head, git_commit(&repo, "HEAD"));
    assert_eq!(head.summary, "third moves a file");
    assert_eq!(head.author, "Test User <test@example.com>");

    let unborn = Repo::new();
    assert_eq!(history::head(&unborn.open()).unwrap(), None);
}

#[test]
fn log_is_newest_first_and_capped() {
    let repo = history_repo();
    let ids: Vec<String> = repo
        .git(&["log", "--format=%H"])
        .lines()
        .map(str::to_owned)
        .collect();
    let log = history::log(&repo.open(), 100).unwrap();
    assert_eq!(log.iter().map(|c| c.id.clone()).collect::<Vec<_>>(), ids);
    assert_eq!(log[1], git_commit(&repo, "HEAD~1"));
    assert_eq!(log[1].summary, "second: edit");
    let two = history::log(&repo.open(), 2).unwrap();
    assert_eq!(two, log[..2]);
    assert!(history::log(&repo.open(), 0).unwrap().is_empty());
    assert_eq!(history::log(&repo.open(), u32::MAX).unwrap(), log);

    let unborn = Repo::new();
    let err = history::log(&unborn.open(), 5).unwrap_err();
    assert!(err.contains("unborn"), "{err}");
}

/// `git diff --numstat --no-renames from to`, binary files as 0/0.
fn git_numstat(repo: &Repo, from: &str, to: &str) -> Vec<FileStat> {
    let mut files: Vec<FileStat> = repo
        .git(&["diff", "--numstat", "--no-renames", from, to])
        .lines()
        .map(|line| {
            let mut parts = line.splitn(3, '\t');
            let mut count = || parts.next().unwrap().parse().unwrap_or(0);
            let (insertions, deletions) = (count(), count());
            FileStat {
                insertions,
                deletions,
                path: parts.next().unwrap().into(),
            }
        })
        .collect();
    files.sort();
    files
}

#[test]
fn diff_stat_matches_git_numstat() {
    let repo = history_repo();
    let git = repo.open();
    for (from, to) in [
        ("HEAD~2", "HEAD~1"),
        ("HEAD~1", "HEAD"),
        ("HEAD~2", "HEAD"),
        ("HEAD", "HEAD~2"),
    ] {
        let ours = history::diff_stat(&git, from, to).unwrap();
        assert_eq!(ours.files, git_numstat(&repo, from, to), "{from}..{to}");
        assert_eq!(
            ours.insertions,
            ours.files.iter().map(|f| f.insertions).sum::<u32>()
        );
        assert_eq!(
            ours.deletions,
            ours.files.iter().map(|f| f.deletions).sum::<u32>()
        );
    }
    let first = history::diff_stat(&git, "HEAD~2", "HEAD~1").unwrap();
    assert_eq!(
        first.files,
        vec![
            FileStat {
                path: "a.txt".into(),
                insertions: 2,
                deletions: 1
            },
            FileStat {
                path: "b.txt".into(),
                insertions: 0,
                deletions: 1
            },
            FileStat {
                path: "bin.dat".into(),
                insertions: 0,
                deletions: 0
            },
            FileStat {
                path: "c/new.txt".into(),
                insertions: 2,
                deletions: 0
            },
        ]
    );
    assert_eq!((first.insertions, first.deletions), (4, 2));
    let same = history::diff_stat(&git, "HEAD", "main").unwrap();
    assert_eq!(same, DiffSummary::default());
}

#[tokio::test]
async fn bad_revisions_and_unborn_heads_are_err_answers() {
    let repo = history_repo();
    let mut git = repo.instance();
    let answer = git
        .call(
            "diff-stat",
            &[
                Val::String("no-such-branch".into()),
                Val::String("HEAD".into()),
            ],
        )
        .await
        .unwrap();
    let [Val::Result(Err(Some(message)))] = answer.as_slice() else {
        panic!("{answer:?}")
    };
    let Val::String(message) = message.as_ref() else {
        panic!()
    };
    assert!(message.contains("no-such-branch"), "{message}");

    let answer = git.call("log", &[Val::U32(2)]).await.unwrap();
    let [Val::Result(Ok(Some(list)))] = answer.as_slice() else {
        panic!("{answer:?}")
    };
    let Val::List(commits) = list.as_ref() else {
        panic!()
    };
    assert_eq!(commits.len(), 2);
    let Val::Record(fields) = &commits[0] else {
        panic!()
    };
    let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["id", "summary", "author", "time"]);
    assert!(matches!(fields[3].1, Val::S64(_)));

    let answer = git.call("head", &[]).await.unwrap();
    assert!(
        matches!(answer.as_slice(), [Val::Result(Ok(Some(v)))] if matches!(v.as_ref(), Val::Option(Some(_))))
    );

    let unborn = Repo::new();
    let mut git = unborn.instance();
    let answer = git.call("log", &[Val::U32(2)]).await.unwrap();
    assert!(
        matches!(answer.as_slice(), [Val::Result(Err(Some(_)))]),
        "{answer:?}"
    );
    let answer = git.call("head", &[]).await.unwrap();
    assert_eq!(
        answer,
        vec![Val::Result(Ok(Some(Box::new(Val::Option(None)))))]
    );
}

/// The id in a `head()` answer.
async fn head_id(git: &mut Box<dyn ToyInstance>) -> String {
    let answer = git.call("head", &[]).await.unwrap();
    let [Val::Result(Ok(Some(head)))] = answer.as_slice() else {
        panic!("{answer:?}")
    };
    let Val::Option(Some(commit)) = head.as_ref() else {
        panic!("{head:?}")
    };
    let Val::Record(fields) = commit.as_ref() else {
        panic!("{commit:?}")
    };
    match &fields[0] {
        (name, Val::String(id)) if name == "id" => id.clone(),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn every_call_sees_the_repository_as_it_is_now() {
    let repo = history_repo();
    let mut git = repo.instance();
    assert_eq!(head_id(&mut git).await, git_commit(&repo, "HEAD").id);
    // New commits are seen by the next call of the same run.
    repo.write("d.txt", "d\n");
    repo.commit_all("fourth");
    assert_eq!(head_id(&mut git).await, git_commit(&repo, "HEAD").id);
    // A changed layout is checked anew, and refused.
    let target = repo.outside.join("ref");
    std::fs::write(&target, "x\n").unwrap();
    std::os::unix::fs::symlink(&target, repo.dir.join(".git/refs/heads/link")).unwrap();
    let answer = git.call("head", &[]).await.unwrap();
    let [Val::Result(Err(Some(message)))] = answer.as_slice() else {
        panic!("{answer:?}")
    };
    assert!(
        matches!(message.as_ref(), Val::String(m) if m.starts_with("refusing the repository")),
        "{message:?}"
    );
}
