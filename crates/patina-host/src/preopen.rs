//! Pinning a granted directory for its `wasi:filesystem` preopen.
//!
//! The grant's directory was resolved (and, for a caller a membrane let in,
//! checked against its ceiling) before the run; wasmtime then opens a
//! preopen by path. Between the two, anything that can write near the path
//! — another run with `fs:…:rw`, whose child may make symlinks — could swap
//! a part of it for a symlink, and the preopen would follow it. So the host
//! opens the directory itself first, checks that what it opened is the
//! directory at the resolved path (the kernel's own name for the open file,
//! `/proc/self/fd/N`, must be that path: no symlink was followed on the
//! way), and hands wasmtime the open directory by that name, which the
//! kernel resolves to the very same directory whatever the path says by
//! then.
//!
//! Where there is no `/proc/self/fd` (another system, or no `/proc`), the
//! preopen falls back to the path, as checked just before. This module must
//! never hand wasmtime a directory other than the one resolved, and never
//! follow a symlink to find it.

use std::fs::File;
use std::path::{Path, PathBuf};

/// A granted directory held open for its preopen.
pub(crate) struct PinnedDir {
    /// Keeps the directory open while wasmtime opens it by `path`.
    _file: Option<File>,
    /// What to hand wasmtime: `/proc/self/fd/N`, or the resolved path.
    path: PathBuf,
}

impl PinnedDir {
    /// The path wasmtime opens the preopen by.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

/// Opens the resolved directory `dir` and checks that it is the directory
/// at that path. `Err` names why not (it is not a directory, a part of the
/// path is a symlink now, it moved or was removed).
pub(crate) fn pin(dir: &Path) -> Result<PinnedDir, String> {
    use std::os::unix::fs::OpenOptionsExt;

    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(OPEN_FLAGS)
        .open(dir)
        .map_err(|e| format!("cannot open {}: {e}", dir.display()))?;
    let by_fd = fd_path(&file);
    let Ok(opened) = std::fs::read_link(&by_fd) else {
        // No /proc here: the path, as the host checked it just before.
        tracing::debug!(dir = %dir.display(), "no /proc/self/fd: preopened by path");
        return Ok(PinnedDir {
            _file: None,
            path: dir.to_owned(),
        });
    };
    if opened != dir {
        return Err(format!(
            "{} is not the directory that was resolved: it opens as {} (a part of the \
             path changed since, e.g. into a symlink); the run is refused rather than follow it",
            dir.display(),
            opened.display()
        ));
    }
    Ok(PinnedDir {
        _file: Some(file),
        path: by_fd,
    })
}

/// A directory, never through a symlink at its last part (one before it
/// shows in the name the kernel gives the open file). On Linux, by
/// `O_PATH`, as wasmtime opens a preopen: no read permission needed.
#[cfg(target_os = "linux")]
const OPEN_FLAGS: i32 = libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC;
#[cfg(not(target_os = "linux"))]
const OPEN_FLAGS: i32 = libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC;

#[cfg(target_os = "linux")]
fn fd_path(file: &File) -> PathBuf {
    use std::os::fd::AsRawFd;
    PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd()))
}

#[cfg(not(target_os = "linux"))]
fn fd_path(_file: &File) -> PathBuf {
    // Only Linux's /proc/self/fd reopens the same directory by a name;
    // elsewhere `read_link` of this fails and the path is used.
    PathBuf::from("/nonexistent/no-proc-self-fd")
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::MetadataExt;

    use super::*;

    fn canonical(dir: &tempfile::TempDir) -> PathBuf {
        dir.path().canonicalize().unwrap()
    }

    #[test]
    fn a_pinned_directory_stays_the_one_resolved_when_its_path_is_swapped() {
        let root = tempfile::tempdir().unwrap();
        let root = canonical(&root);
        let granted = root.join("granted");
        let elsewhere = root.join("elsewhere");
        std::fs::create_dir(&granted).unwrap();
        std::fs::create_dir(&elsewhere).unwrap();
        let original = std::fs::metadata(&granted).unwrap().ino();

        let pinned = pin(&granted).unwrap();
        // The swap a child with write access near the grant could make.
        std::fs::rename(&granted, root.join("moved")).unwrap();
        std::os::unix::fs::symlink(&elsewhere, &granted).unwrap();

        if cfg!(target_os = "linux") {
            assert!(pinned.path().starts_with("/proc/self/fd"));
            let reopened = File::open(pinned.path()).unwrap();
            assert_eq!(reopened.metadata().unwrap().ino(), original);
        }
        // By path, the swap would have led elsewhere.
        let by_path = std::fs::metadata(&granted).unwrap().ino();
        assert_ne!(by_path, original);
    }

    #[test]
    fn a_path_that_is_a_symlink_now_is_refused() {
        let root = tempfile::tempdir().unwrap();
        let root = canonical(&root);
        let elsewhere = root.join("elsewhere");
        std::fs::create_dir(&elsewhere).unwrap();
        let granted = root.join("granted");
        std::os::unix::fs::symlink(&elsewhere, &granted).unwrap();
        let why = pin(&granted).err().expect("a symlink is not followed");
        assert!(why.contains("cannot open"), "{why}");
    }

    #[test]
    fn a_symlink_inside_the_path_is_refused() {
        let root = tempfile::tempdir().unwrap();
        let root = canonical(&root);
        std::fs::create_dir_all(root.join("real/data")).unwrap();
        std::os::unix::fs::symlink(root.join("real"), root.join("link")).unwrap();
        let result = pin(&root.join("link/data"));
        if cfg!(target_os = "linux") {
            let why = result.err().expect("the opened directory has another name");
            assert!(
                why.contains("is not the directory that was resolved"),
                "{why}"
            );
        }
    }

    #[test]
    fn a_file_is_not_a_directory_to_pin() {
        let root = tempfile::tempdir().unwrap();
        let file = canonical(&root).join("file");
        std::fs::write(&file, b"x").unwrap();
        let why = pin(&file).err().expect("not a directory");
        assert!(why.contains("cannot open"), "{why}");
    }
}
