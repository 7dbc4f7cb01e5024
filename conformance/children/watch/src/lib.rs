//! `conf-watch`: the `fs-watch` toy's answers and errors (conformance
//! suite).

wit_bindgen::generate!({
    path: ["../../../wit/toys", "wit"],
    world: "patina:conformance-watch/watch",
    with: { "patina:toys/fs-watch@0.1.0": generate },
});

use patina::toys::fs_watch;

struct Watch;

fn shown(changes: Vec<fs_watch::Change>) -> Vec<String> {
    changes
        .into_iter()
        .map(|change| {
            let kind = match change.kind {
                fs_watch::ChangeKind::Added => "added",
                fs_watch::ChangeKind::Modified => "modified",
                fs_watch::ChangeKind::Removed => "removed",
            };
            format!("{}:{kind}", change.path)
        })
        .collect()
}

impl Guest for Watch {
    fn changes(cursor: Option<String>) -> Result<(Vec<String>, String), String> {
        let (changes, cursor) = fs_watch::changes(cursor.as_deref())?;
        Ok((shown(changes), cursor))
    }

    fn again() -> Result<Vec<String>, String> {
        let (_, cursor) = fs_watch::changes(None)?;
        let (changes, _) = fs_watch::changes(Some(&cursor))?;
        Ok(shown(changes))
    }

    fn wait(timeout_ms: u32) -> Result<bool, String> {
        fs_watch::wait(timeout_ms)
    }
}

export!(Watch);
