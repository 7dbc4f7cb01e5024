//! `byte-probe`: a test child that puts N bytes through `blob`, `fs`, `kv` and
//! `http` and reads them back, checking every byte. Errors come back as text
//! (`too-large(N)`, the toy's message), so a test can tell a typed refusal
//! from a trap.

wit_bindgen::generate!({
    path: ["../../wit/toys", "wit"],
    world: "patina:byte-probe/probe",
    with: {
        "patina:toys/blob@0.1.0": generate,
        "patina:toys/fs@0.1.0": generate,
        "patina:toys/kv@0.1.0": generate,
        "patina:toys/http@0.1.0": generate,
    },
});

use patina::toys::{blob, fs, http, kv};

struct Probe;

/// `len` bytes of the pattern `i mod 251`.
fn pattern(len: u32) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// The length of `bytes` if they are the pattern, an error otherwise. The
/// bytes are compared where they lie: a second copy of the pattern would
/// double the child's own memory, which the host-memory benchmark measures
/// along with the host's.
fn checked(bytes: &[u8], len: u32) -> Result<u32, String> {
    let is_pattern = bytes.iter().enumerate().all(|(i, b)| *b == (i % 251) as u8);
    if bytes.len() != len as usize || !is_pattern {
        return Err(format!("read back {} bytes that differ", bytes.len()));
    }
    Ok(len)
}

fn fs_error(error: fs::Error) -> String {
    match error {
        fs::Error::Escape(why) => format!("escape({why})"),
        fs::Error::NotFound => "not-found".to_owned(),
        fs::Error::NotADirectory => "not-a-directory".to_owned(),
        fs::Error::IsADirectory => "is-a-directory".to_owned(),
        fs::Error::NotPermitted(why) => format!("not-permitted({why})"),
        fs::Error::TooLarge(n) => format!("too-large({n})"),
        fs::Error::Io(why) => format!("io({why})"),
    }
}

fn http_error(error: http::Error) -> String {
    match error {
        http::Error::Denied(host) => format!("denied({host})"),
        http::Error::Invalid(why) => format!("invalid({why})"),
        http::Error::Timeout => "timeout".to_owned(),
        http::Error::TooLarge(n) => format!("too-large({n})"),
        http::Error::Transport(why) => format!("transport({why})"),
    }
}

impl Guest for Probe {
    fn blob_roundtrip(len: u32) -> Result<u32, String> {
        let id = blob::put(&pattern(len))?;
        let bytes = blob::get(&id)?.ok_or("the blob put is gone")?;
        checked(&bytes, len)
    }

    fn fs_roundtrip(path: String, len: u32) -> Result<u32, String> {
        fs::write(&path, &pattern(len)).map_err(fs_error)?;
        let bytes = fs::read(&path).map_err(fs_error)?;
        checked(&bytes, len)
    }

    fn fs_read(path: String) -> Result<u32, String> {
        let bytes = fs::read(&path).map_err(fs_error)?;
        Ok(bytes.len() as u32)
    }

    fn kv_roundtrip(len: u32) -> Result<u32, String> {
        kv::set("probe", "value", &pattern(len))?;
        let bytes = kv::get("probe", "value")?.ok_or("the value set is gone")?;
        checked(&bytes, len)
    }

    fn http_post(url: String, len: u32) -> Result<u32, String> {
        let response = http::fetch(&http::Request {
            method: "POST".to_owned(),
            url,
            headers: vec![("content-type".to_owned(), "application/octet-stream".to_owned())],
            body: Some(pattern(len)),
            timeout_ms: Some(20_000),
        })
        .map_err(http_error)?;
        Ok(response.body.len() as u32)
    }
}

export!(Probe);
