//! The blocking file operations of the `fs` toy, each done through the
//! granted root's cap-std [`Dir`] (run them inside `spawn_blocking`).
//!
//! cap-std resolves every path beneath the root (openat2 `RESOLVE_BENEATH` on
//! Linux, a checked component-by-component walk elsewhere), so `..`, absolute
//! symlinks and symlinks leading out are refused even when swapped in during
//! the call. These functions must never open a path by any other means, and
//! must never block on a FIFO or device, nor open one for reading (a path
//! is checked to be a regular file before it is opened, and opened
//! non-blocking and without acquiring a controlling terminal). `write` lives
//! in `write.rs`.

use std::io::{self, Read};
use std::path::Path;

use cap_std::fs::{Dir, FileType, Metadata, OpenOptions};

use super::error::FsError;

/// Largest file `read` returns, in bytes.
///
/// 16 MiB: `read` is linked typed, so the answer is held once, as bytes.
pub const MAX_READ: u64 = 16 << 20;
/// Largest file `write` writes, in bytes: the same as [`MAX_READ`], so that
/// whatever a child writes it can read back. More is `too-large(length)`.
pub const MAX_WRITE: u64 = MAX_READ;
/// Most entries `list` returns; more is `too-large(count)`.
pub const MAX_LIST: usize = 100_000;

/// What a path names (the WIT `kind` enum).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    File,
    Directory,
    Symlink,
    Other,
}

impl Kind {
    pub(crate) fn of(file_type: FileType) -> Self {
        if file_type.is_symlink() {
            Self::Symlink
        } else if file_type.is_dir() {
            Self::Directory
        } else if file_type.is_file() {
            Self::File
        } else {
            Self::Other
        }
    }

    /// The WIT case name.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::File => "file",
            Self::Directory => "directory",
            Self::Symlink => "symlink",
            Self::Other => "other",
        }
    }
}

/// What `stat` answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Stat {
    pub kind: Kind,
    pub size: u64,
    pub modified_ns: Option<u64>,
}

/// Nanoseconds since the Unix epoch of the last modification, if known and
/// not before the epoch.
pub(crate) fn modified_ns(meta: &Metadata) -> Option<u64> {
    let modified = meta.modified().ok()?.into_std();
    let since = modified.duration_since(std::time::UNIX_EPOCH).ok()?;
    u64::try_from(since.as_nanos()).ok()
}

/// Flags for every file the toy opens: never block on a FIFO or device, and
/// never make a terminal the host's controlling terminal.
pub(crate) fn safe_flags(options: &mut OpenOptions) -> &mut OpenOptions {
    #[cfg(unix)]
    {
        use cap_std::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    options
}

/// Checks that `meta` (of an opened file or of a path) is a regular file.
fn regular(meta: Metadata) -> Result<Metadata, FsError> {
    if meta.is_dir() {
        Err(FsError::IsADirectory)
    } else if !meta.is_file() {
        Err(FsError::Io("not a regular file".into()))
    } else {
        Ok(meta)
    }
}

/// The content of the file at `rel` (symlinks inside the root are followed).
/// Anything but a regular file (a FIFO, a device) is refused from its
/// metadata, before it is opened.
pub(crate) fn read(root: &Dir, rel: &Path) -> Result<Vec<u8>, FsError> {
    regular(root.metadata(rel)?)?;
    let mut options = OpenOptions::new();
    options.read(true);
    let file = root.open_with(rel, safe_flags(&mut options))?;
    // It may have been swapped since the check: check the opened file too.
    let size = regular(file.metadata()?)?.len();
    if size > MAX_READ {
        return Err(FsError::TooLarge(size));
    }
    let mut data = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    // The file may grow after the check: never read past the limit.
    (&file).take(MAX_READ + 1).read_to_end(&mut data)?;
    let read = data.len() as u64;
    if read > MAX_READ {
        return Err(FsError::TooLarge(read.max(size)));
    }
    Ok(data)
}

/// The entries of the directory at `rel`, sorted by name. Names that are not
/// UTF-8 are skipped: a child could not name them in a path anyway.
pub(crate) fn list(root: &Dir, rel: &Path) -> Result<Vec<(String, Kind)>, FsError> {
    list_capped(root, rel, MAX_LIST)
}

/// [`list`] with at most `max` entries; past that, `too-large(count)` with
/// the number of (UTF-8 named) entries.
pub(crate) fn list_capped(
    root: &Dir,
    rel: &Path,
    max: usize,
) -> Result<Vec<(String, Kind)>, FsError> {
    let mut entries = Vec::new();
    let mut count: u64 = 0;
    for entry in root.read_dir(rel)? {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e.into()),
        };
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if entries.len() >= max {
            // Only count the rest, for the answer.
            count += 1;
            continue;
        }
        if let Some(kind) = kind_of(entry.file_type())? {
            count += 1;
            entries.push((name, kind));
        }
    }
    if count > max as u64 {
        return Err(FsError::TooLarge(count));
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(entries)
}

/// The kind of a listed entry; `None` when it vanished since it was listed.
pub(crate) fn kind_of(file_type: io::Result<FileType>) -> Result<Option<Kind>, FsError> {
    match file_type {
        Ok(file_type) => Ok(Some(Kind::of(file_type))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// What `rel` is, without following a final symlink.
pub(crate) fn stat(root: &Dir, rel: &Path) -> Result<Stat, FsError> {
    let meta = root.symlink_metadata(rel)?;
    Ok(Stat {
        kind: Kind::of(meta.file_type()),
        size: meta.len(),
        modified_ns: modified_ns(&meta),
    })
}

/// Creates the directory `rel`; its parent must exist.
pub(crate) fn create_dir(root: &Dir, rel: &Path) -> Result<(), FsError> {
    root.create_dir(rel)?;
    Ok(())
}

/// Removes the file, symlink (not its target) or empty directory at `rel`.
pub(crate) fn remove(root: &Dir, rel: &Path) -> Result<(), FsError> {
    if root.symlink_metadata(rel)?.is_dir() {
        root.remove_dir(rel)?;
    } else {
        root.remove_file(rel)?;
    }
    Ok(())
}
