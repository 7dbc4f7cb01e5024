//! `folder-watcher`: a typed child that imports the `fs-watch` toy and
//! reports, run after run, which files of a granted folder were added,
//! modified or removed since the cursor it returned last time.

wit_bindgen::generate!({
    path: ["../../wit/toys", "wit"],
    world: "patina:folder-watcher/watcher",
    with: { "patina:toys/fs-watch@0.1.0": generate },
});

use patina::toys::fs_watch::{self, ChangeKind};

struct FolderWatcher;

impl Guest for FolderWatcher {
    fn changes(since: Option<String>) -> Result<Report, String> {
        let (changes, cursor) = fs_watch::changes(since.as_deref())?;
        let mut report = Report {
            added: Vec::new(),
            modified: Vec::new(),
            removed: Vec::new(),
            cursor,
        };
        for change in changes {
            match change.kind {
                ChangeKind::Added => report.added.push(change.path),
                ChangeKind::Modified => report.modified.push(change.path),
                ChangeKind::Removed => report.removed.push(change.path),
            }
        }
        Ok(report)
    }
}

export!(FolderWatcher);
