//! Tests of the git toy's bounds on work and answer size: ahead/behind walk
//! cap, diff file / byte / big-file caps, the revision grammar, status list
//! caps, per-field string caps and the cleaning of error messages. Tests only.

use wasmtime::component::Val;

use super::tests::Repo;
use super::*;

fn line_file(lines: usize, tag: &str) -> String {
    (0..lines).map(|i| format!("{tag} line {i}\n")).collect()
}

#[test]
fn ahead_behind_walks_are_capped_and_failures_are_unknown() {
    let repo = Repo::new();
    repo.write("base.txt", "b\n");
    repo.commit_all("base");
    let base = repo.git(&["rev-parse", "HEAD"]).trim().to_owned();
    for i in 0..3 {
        repo.write(&format!("n{i}.txt"), "x\n");
        repo.commit_all(&format!("c{i}"));
    }
    let git = repo.open();
    let head = git.head_id().unwrap().detach();
    let base = gix::ObjectId::from_hex(base.as_bytes()).unwrap();
    assert_eq!(status::count_only_in(&git, head, base, 10), Some(3));
    assert_eq!(status::count_only_in(&git, head, base, 3), Some(3));
    assert_eq!(status::count_only_in(&git, head, base, 2), None);
    assert_eq!(status::count_only_in(&git, base, head, 2), Some(0));
    let missing = gix::ObjectId::from_hex(&[b'e'; 40]).unwrap();
    assert_eq!(status::count_only_in(&git, missing, head, 10), None);
    assert_eq!(status::MAX_AHEAD_BEHIND, 10_000);
}

#[test]
fn diff_algorithm_is_dropped_and_big_files_count_as_binary() {
    let repo = Repo::new();
    repo.git(&["config", "diff.algorithm", "minimal"]);
    repo.git(&["config", "core.bigFileThreshold", "1g"]);
    let big = repo::BIG_FILE_THRESHOLD as usize + 1024;
    let mut text = "x".repeat(99);
    text.push('\n');
    let body = text.repeat(big / 100);
    repo.write("big.txt", &body);
    repo.write("small.txt", "one\n");
    repo.commit_all("first");
    repo.write("big.txt", &format!("{body}more\n"));
    repo.write("small.txt", "one\ntwo\n");
    repo.commit_all("second");
    let git = repo.open();
    let config = git.config_snapshot();
    assert_eq!(config.string("diff.algorithm"), None);
    assert_eq!(
        config.integer("core.bigFileThreshold"),
        Some(repo::BIG_FILE_THRESHOLD as i64)
    );
    let diff = history::diff_stat(&git, "HEAD~1", "HEAD").unwrap();
    let counts: Vec<(&str, u32, u32)> = diff
        .files
        .iter()
        .map(|f| (f.path.as_str(), f.insertions, f.deletions))
        .collect();
    assert_eq!(counts, [("big.txt", 0, 0), ("small.txt", 1, 0)]);
}

#[test]
fn diff_stat_past_its_file_or_byte_caps_is_an_error() {
    let repo = Repo::new();
    for i in 0..3 {
        repo.write(&format!("f{i}.txt"), &line_file(100, "old"));
    }
    repo.commit_all("first");
    for i in 0..3 {
        repo.write(&format!("f{i}.txt"), &line_file(100, "new"));
    }
    repo.commit_all("second");
    let git = repo.open();
    let all = history::diff_stat_capped(&git, "HEAD~1", "HEAD", 3, 1 << 20).unwrap();
    assert_eq!(all.files.len(), 3);
    let err = history::diff_stat_capped(&git, "HEAD~1", "HEAD", 2, 1 << 20).unwrap_err();
    assert!(err.contains("too many changed files"), "{err}");
    // Each file is about 1.3 KB a side: two files fit in 6 KB, three do not.
    let err = history::diff_stat_capped(&git, "HEAD~1", "HEAD", 10, 6_000).unwrap_err();
    assert!(err.contains("too much to diff"), "{err}");
    assert_eq!(history::MAX_DIFF_FILES, 10_000);
    assert_eq!(history::MAX_DIFF_BYTES, 64 << 20);
}

#[tokio::test]
async fn only_plain_revisions_are_resolved() {
    let repo = Repo::new();
    repo.write("a.txt", "secret words\n");
    repo.commit_all("first mentions secret");
    repo.write("a.txt", "b\n");
    repo.commit_all("second");
    repo.git(&["tag", "v1", "HEAD~1"]);
    let git = repo.open();
    let id = repo.git(&["rev-parse", "HEAD~1"]).trim().to_owned();
    for ok in [
        "HEAD~1",
        "HEAD^",
        "v1",
        "main",
        &id,
        &id[..8],
        "refs/heads/main~1",
    ] {
        history::diff_stat(&git, ok, "HEAD").unwrap_or_else(|e| panic!("{ok}: {e}"));
    }
    for refused in [
        ":/secret",
        "HEAD^{/secret}",
        "HEAD@{0}",
        "@{-1}",
        "HEAD:a.txt",
        "HEAD~1..HEAD",
    ] {
        let err = history::diff_stat(&git, refused, "HEAD").unwrap_err();
        assert!(err.contains("unsupported revision"), "{refused}: {err}");
    }
    let mut toy = repo.instance();
    let answer = toy
        .call(
            "diff-stat",
            &[Val::String(":/secret".into()), Val::String("HEAD".into())],
        )
        .await
        .unwrap();
    assert!(
        matches!(answer.as_slice(), [Val::Result(Err(Some(_)))]),
        "{answer:?}"
    );
}

#[test]
fn status_lists_past_the_cap_are_an_error() {
    let repo = Repo::new();
    repo.write("a.txt", "a\n");
    repo.commit_all("first");
    for i in 0..4 {
        repo.write(&format!("u{i}.txt"), "u\n");
    }
    let git = repo.open();
    assert_eq!(status::status_capped(&git, 4).unwrap().untracked.len(), 4);
    let err = status::status_capped(&git, 3).unwrap_err();
    assert!(err.starts_with("too many changes"), "{err}");
    assert!(err.contains("untracked"), "{err}");
    assert_eq!(status::MAX_LIST, 10_000);
}

#[test]
fn long_fields_are_cut_on_a_char_boundary() {
    let repo = Repo::new();
    // Five 250-byte directory names: a 1.2 KiB untracked path.
    let long_dir: String = (0..5).map(|_| "d".repeat(250) + "/").collect();
    repo.write(&format!("{long_dir}f.txt"), "x\n");
    repo.write("a.txt", "a\n");
    repo.git(&["add", "a.txt"]);
    let summary = "é".repeat(3000);
    repo.git(&["commit", "-q", "-m", &summary]);
    let git = repo.open();
    let head = history::head(&git).unwrap().unwrap();
    assert!(head.summary.len() <= guard::MAX_FIELD && head.summary.len() > 1000);
    assert!(head.summary.chars().all(|c| c == 'é'));
    let untracked = status::status(&git).unwrap().untracked;
    assert_eq!(untracked.len(), 1);
    assert_eq!(untracked[0].len(), guard::MAX_FIELD);
}

#[test]
fn error_messages_elide_quoted_input_and_are_short() {
    let raw = r#"cannot read HEAD: Reference content could not be parsed, input="TOP-SECRET \"quoted\" data", path=".git/HEAD""#;
    let clean = guard::clean_message(raw);
    assert!(
        !clean.contains("TOP-SECRET") && !clean.contains("quoted"),
        "{clean}"
    );
    assert!(
        clean.contains("input=<elided>") && clean.contains("path="),
        "{clean}"
    );
    let unterminated = guard::clean_message("x input=\"SECRET never closed");
    assert_eq!(unterminated, "x input=<elided>");
    let long = guard::clean_message(&"é".repeat(500));
    assert!(long.len() <= guard::MAX_MESSAGE && long.ends_with("..."));
    assert_eq!(guard::cap("abc".into(), 10), "abc");
    assert_eq!(guard::cap("aé".into(), 2), "a");
}

#[tokio::test]
async fn a_regular_ref_with_garbage_is_answered_without_its_content() {
    let repo = Repo::new();
    repo.write("a.txt", "a\n");
    repo.commit_all("first");
    std::fs::write(
        repo.dir.join(".git/refs/heads/main"),
        "TOP-SECRET garbage\n",
    )
    .unwrap();
    let mut git = repo.instance();
    let answer = git.call("head", &[]).await.unwrap();
    let [Val::Result(Err(Some(message)))] = answer.as_slice() else {
        panic!("{answer:?}")
    };
    let Val::String(message) = message.as_ref() else {
        panic!("{message:?}")
    };
    assert!(!message.contains("TOP-SECRET"), "{message}");
    assert!(message.len() <= guard::MAX_MESSAGE, "{message}");
}
