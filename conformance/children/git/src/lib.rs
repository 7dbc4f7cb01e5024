//! `conf-git`: the `git` toy's answers and errors (conformance suite),
//! each answer flattened to lines of text a case can name exactly.

wit_bindgen::generate!({
    path: ["../../../wit/toys", "wit"],
    world: "patina:conformance-git/git",
    with: { "patina:toys/git@0.1.0": generate },
});

use patina::toys::git;

struct Git;

fn kind(kind: git::ChangeKind) -> &'static str {
    match kind {
        git::ChangeKind::Added => "added",
        git::ChangeKind::Modified => "modified",
        git::ChangeKind::Deleted => "deleted",
        git::ChangeKind::Renamed => "renamed",
        git::ChangeKind::TypeChanged => "type-changed",
    }
}

fn commit(commit: &git::Commit) -> String {
    format!(
        "{} {} {} {}",
        commit.id, commit.author, commit.time, commit.summary
    )
}

fn or_none<T: std::fmt::Display>(value: &Option<T>) -> String {
    value
        .as_ref()
        .map_or_else(|| "none".to_owned(), ToString::to_string)
}

impl Guest for Git {
    fn status() -> Result<Vec<String>, String> {
        let status = git::status()?;
        let mut lines = vec![format!(
            "branch={} head={} upstream={} ahead={} behind={}",
            or_none(&status.branch),
            or_none(&status.head),
            or_none(&status.upstream),
            or_none(&status.ahead),
            or_none(&status.behind),
        )];
        for change in &status.staged {
            lines.push(format!("staged {} {}", kind(change.kind), change.path));
        }
        for change in &status.unstaged {
            lines.push(format!("unstaged {} {}", kind(change.kind), change.path));
        }
        for path in &status.untracked {
            lines.push(format!("untracked {path}"));
        }
        Ok(lines)
    }

    fn head() -> Result<String, String> {
        Ok(git::head()?.map_or_else(|| "none".to_owned(), |c| commit(&c)))
    }

    fn log(max: u32) -> Result<Vec<String>, String> {
        Ok(git::log(max)?.iter().map(commit).collect())
    }

    fn diff_stat(from: String, to: String) -> Result<Vec<String>, String> {
        let summary = git::diff_stat(&from, &to)?;
        let mut lines: Vec<String> = summary
            .files
            .iter()
            .map(|f| format!("{} +{} -{}", f.path, f.insertions, f.deletions))
            .collect();
        lines.push(format!("total +{} -{}", summary.insertions, summary.deletions));
        Ok(lines)
    }
}

export!(Git);
