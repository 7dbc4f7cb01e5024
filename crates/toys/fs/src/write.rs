//! `fs.write`: replaces a file atomically, through the granted root's cap-std
//! [`Dir`] (run it inside `spawn_blocking`).
//!
//! The data goes to a new temp file (`.patina-tmp-*`, created exclusively in
//! the target's own directory), is synced, then renamed over the target. So a
//! reader sees the old file or the new one, never half of one, and the old
//! inode is never written: a hard link to it (maybe from outside the root)
//! keeps its content. This must never open the target for writing, never
//! follow or replace a final symlink, and never touch anything through an
//! ambient path.

use std::io::{self, Write};
use std::path::{Component, Path};

use cap_std::fs::{Dir, File, Metadata, OpenOptions};

use super::error::{FsError, shorten};
use super::ops::{MAX_WRITE, safe_flags};

/// Prefix of the temp files `write` creates (and renames away).
pub(crate) const TEMP_PREFIX: &str = ".patina-tmp-";

/// Replaces or creates the file at `rel` with `data`. The target must be a
/// regular file or absent; its parent directory must exist.
pub(crate) fn write(root: &Dir, rel: &Path, data: &[u8]) -> Result<(), FsError> {
    if data.len() as u64 > MAX_WRITE {
        return Err(FsError::TooLarge(data.len() as u64));
    }
    let (parent, name) = split(rel)?;
    let opened;
    let dir: &Dir = if parent.as_os_str().is_empty() {
        root
    } else {
        opened = root.open_dir(parent)?;
        &opened
    };
    let existing = match dir.symlink_metadata(name) {
        Ok(meta) => Some(meta),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(e.into()),
    };
    if let Some(meta) = &existing {
        if meta.is_symlink() {
            return Err(symlink_refusal(dir, name, rel));
        }
        if meta.is_dir() {
            return Err(FsError::IsADirectory);
        }
        if !meta.is_file() {
            return Err(FsError::Io("not a regular file".into()));
        }
    }
    let (temp, file) = create_temp(dir)?;
    let written = fill(file, data, existing.as_ref()).and_then(|()| dir.rename(&temp, dir, name));
    if let Err(error) = written {
        let _ = dir.remove_file(&temp);
        return Err(error.into());
    }
    Ok(())
}

/// Splits `rel` into its parent directory and final name. A path that ends
/// in `/`, `/.` or `..` names a directory, not a file to write.
fn split(rel: &Path) -> Result<(&Path, &Path), FsError> {
    let text = rel.as_os_str().as_encoded_bytes();
    if text.ends_with(b"/") || text.ends_with(b"/.") {
        return Err(FsError::IsADirectory);
    }
    match rel.components().next_back() {
        Some(Component::Normal(name)) => {
            Ok((rel.parent().unwrap_or(Path::new("")), Path::new(name)))
        }
        _ => Err(FsError::IsADirectory),
    }
}

/// Why a final symlink is not written through: `escape` when it leads out
/// of the root, else `not-permitted`.
fn symlink_refusal(dir: &Dir, name: &Path, rel: &Path) -> FsError {
    if let Err(e) = dir.metadata(name)
        && let escape @ FsError::Escape(_) = FsError::from(e)
    {
        return escape;
    }
    FsError::NotPermitted(format!(
        "`{}` is a symlink; `write` replaces regular files only, write to the link's target",
        shorten(&rel.to_string_lossy())
    ))
}

/// Creates a fresh temp file in `dir` (exclusively: never an existing file
/// or a symlink), returning its name and the open file.
fn create_temp(dir: &Dir) -> Result<(String, File), FsError> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    safe_flags(&mut options);
    let mut last = None;
    for _ in 0..16 {
        let name = format!("{TEMP_PREFIX}{}", unique_suffix());
        match dir.open_with(&name, &options) {
            Ok(file) => return Ok((name, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e.into()),
        }
    }
    Err(FsError::Io(format!(
        "cannot create a temp file: {}",
        last.map(|e| e.to_string()).unwrap_or_default()
    )))
}

/// Writes `data`, keeps the permission bits of the file it replaces, and
/// syncs it to disk.
fn fill(mut file: File, data: &[u8], replaced: Option<&Metadata>) -> io::Result<()> {
    file.write_all(data)?;
    #[cfg(unix)]
    if let Some(meta) = replaced {
        use cap_std::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        file.set_permissions(cap_std::fs::Permissions::from_mode(mode))?;
    }
    #[cfg(not(unix))]
    let _ = replaced;
    file.sync_all()
}

/// A name part no other temp file of this host is likely to use: a digest of
/// the process, a counter and the time.
fn unique_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let mut hasher = blake3::Hasher::new();
    hasher.update(&std::process::id().to_le_bytes());
    hasher.update(&NEXT.fetch_add(1, Ordering::Relaxed).to_le_bytes());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    hasher.update(&now.as_nanos().to_le_bytes());
    hasher.finalize().to_hex()[..16].to_owned()
}
