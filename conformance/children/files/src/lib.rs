//! `conf-files`: the `fs` (read-only) and `blob` toys' answers and errors
//! (conformance suite).

wit_bindgen::generate!({
    path: ["../../../wit/toys", "wit"],
    world: "patina:conformance-files/files",
    with: {
        "patina:toys/fs@0.1.0": generate,
        "patina:toys/blob@0.1.0": generate,
    },
});

use patina::toys::{blob, fs};

struct Files;

/// The case name of an fs error, with its payload.
fn case(error: fs::Error) -> String {
    match error {
        fs::Error::Escape(why) => format!("escape: {why}"),
        fs::Error::NotFound => "not-found".into(),
        fs::Error::NotADirectory => "not-a-directory".into(),
        fs::Error::IsADirectory => "is-a-directory".into(),
        fs::Error::NotPermitted(why) => format!("not-permitted: {why}"),
        fs::Error::TooLarge(n) => format!("too-large: {n}"),
        fs::Error::Io(why) => format!("io: {why}"),
    }
}

fn kind(kind: fs::Kind) -> &'static str {
    match kind {
        fs::Kind::File => "file",
        fs::Kind::Directory => "directory",
        fs::Kind::Symlink => "symlink",
        fs::Kind::Other => "other",
    }
}

impl Guest for Files {
    fn read(path: String) -> Result<String, String> {
        let bytes = fs::read(&path).map_err(case)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    fn ls(path: String) -> Result<Vec<String>, String> {
        let entries = fs::list(&path).map_err(case)?;
        Ok(entries
            .into_iter()
            .map(|e| format!("{}:{}", e.name, kind(e.kind)))
            .collect())
    }

    fn write(path: String, text: String) -> Result<(), String> {
        fs::write(&path, text.as_bytes()).map_err(case)
    }

    fn blob_roundtrip(text: String) -> Result<(String, String, bool), String> {
        let id = blob::put(text.as_bytes())?;
        let back = blob::get(&id)?.ok_or("the blob just put is gone")?;
        let has = blob::has(&id)?;
        Ok((id, String::from_utf8_lossy(&back).into_owned(), has))
    }

    fn blob_missing() -> Result<Option<String>, String> {
        let id = format!("b3:{}", "0".repeat(64));
        Ok(blob::get(&id)?.map(|b| String::from_utf8_lossy(&b).into_owned()))
    }
}

export!(Files);
