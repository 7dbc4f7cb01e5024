//! `git-status`: a typed child that summarises the granted git work tree
//! through the `git` toy (`--grant git:DIR`). It only reads what the toy
//! answers; it has no other capability.

wit_bindgen::generate!({
    path: ["../../wit/toys", "wit"],
    world: "patina:git-status/git-status",
    with: { "patina:toys/git@0.1.0": generate },
});

use patina::toys::git::{self, ChangeKind, FileChange};

struct GitStatus;

fn letter(kind: ChangeKind) -> char {
    match kind {
        ChangeKind::Added => 'A',
        ChangeKind::Modified => 'M',
        ChangeKind::Deleted => 'D',
        ChangeKind::Renamed => 'R',
        ChangeKind::TypeChanged => 'T',
    }
}

fn lines(changes: &[FileChange]) -> Vec<String> {
    changes
        .iter()
        .map(|c| format!("{} {}", letter(c.kind), c.path))
        .collect()
}

fn count(items: usize) -> u32 {
    u32::try_from(items).unwrap_or(u32::MAX)
}

impl Guest for GitStatus {
    fn status() -> Result<Summary, String> {
        let s = git::status()?;
        Ok(Summary {
            clean: s.staged.is_empty() && s.unstaged.is_empty() && s.untracked.is_empty(),
            staged_count: count(s.staged.len()),
            unstaged_count: count(s.unstaged.len()),
            untracked_count: count(s.untracked.len()),
            staged: lines(&s.staged),
            unstaged: lines(&s.unstaged),
            untracked: s.untracked,
            branch: s.branch,
            head: s.head,
            upstream: s.upstream,
            ahead: s.ahead,
            behind: s.behind,
        })
    }

    fn log(n: u32) -> Result<Vec<String>, String> {
        Ok(git::log(n)?
            .into_iter()
            .map(|c| format!("{} {}", c.id.get(..7).unwrap_or(&c.id), c.summary))
            .collect())
    }

    fn diff_stat(from: String, to: String) -> Result<Vec<String>, String> {
        let d = git::diff_stat(&from, &to)?;
        let mut out: Vec<String> = d
            .files
            .iter()
            .map(|f| format!("{} {} {}", f.insertions, f.deletions, f.path))
            .collect();
        out.push(format!(
            "{} files changed, {} insertions(+), {} deletions(-)",
            d.files.len(),
            d.insertions,
            d.deletions
        ));
        Ok(out)
    }
}

export!(GitStatus);
