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
//! On Linux (and Android) a directory that cannot be checked this way —
//! no `/proc` mounted — is refused, never preopened by path. Other Unix
//! systems have no such name for an open directory: there the host checks
//! the last part is not a symlink and preopens by path right after its
//! grant check. This module must never hand wasmtime a directory other
//! than the one at the resolved path, and never follow a symlink to find
//! it.

use std::path::{Path, PathBuf};

/// A granted directory held open for its preopen.
pub(crate) struct PinnedDir {
    /// Keeps the directory open while wasmtime opens it by `path`.
    _file: Option<std::fs::File>,
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
/// at that path. `Err` names why not (a part of the path is a symlink now,
/// it is no directory, it moved or was removed, or it cannot be checked).
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) fn pin(dir: &Path) -> Result<PinnedDir, String> {
    use std::os::fd::AsRawFd;

    // `O_PATH`, as wasmtime opens a preopen: no read permission needed.
    let file = open_nofollow(dir, libc::O_PATH)?;
    let by_fd = PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd()));
    let opened = std::fs::read_link(&by_fd).map_err(|e| {
        format!(
            "cannot check which directory {} is ({}: {e}); the run is refused rather than \
             preopen it by path",
            dir.display(),
            by_fd.display()
        )
    })?;
    if opened != dir {
        return Err(moved(dir, &format!("it opens as {}", opened.display())));
    }
    Ok(PinnedDir {
        _file: Some(file),
        path: by_fd,
    })
}

/// [`pin`] where the open directory has no name of its own: the last part
/// is checked not to be a symlink, and the path is handed over.
#[cfg(all(unix, not(any(target_os = "linux", target_os = "android"))))]
pub(crate) fn pin(dir: &Path) -> Result<PinnedDir, String> {
    open_nofollow(dir, 0)?;
    Ok(PinnedDir {
        _file: None,
        path: dir.to_owned(),
    })
}

/// [`pin`] without Unix: the path, as the host checked it.
#[cfg(not(unix))]
pub(crate) fn pin(dir: &Path) -> Result<PinnedDir, String> {
    Ok(PinnedDir {
        _file: None,
        path: dir.to_owned(),
    })
}

/// Opens `dir` as a directory, not following a symlink at its last part.
#[cfg(unix)]
fn open_nofollow(dir: &Path, flags: i32) -> Result<std::fs::File, String> {
    use std::os::unix::fs::OpenOptionsExt;

    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(flags | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(dir)
        .map_err(|e| match e.raw_os_error() {
            // A symlink at the last part: ELOOP (Linux), EMLINK (FreeBSD).
            Some(libc::ENOTDIR | libc::ELOOP | libc::EMLINK) => {
                moved(dir, &format!("it is no directory ({e})"))
            }
            _ => format!("cannot open {}: {e}", dir.display()),
        })
}

/// The refusal of a directory that is not the one resolved.
#[cfg(unix)]
fn moved(dir: &Path, how: &str) -> String {
    format!(
        "{} is not the directory that was resolved: {how}; a part of the path changed since \
         (e.g. into a symlink), and the run is refused rather than follow it",
        dir.display()
    )
}

#[cfg(all(test, unix))]
mod tests {
    use std::fs::File;
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

        if cfg!(any(target_os = "linux", target_os = "android")) {
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
        assert!(
            why.contains("is not the directory that was resolved"),
            "{why}"
        );
    }

    #[test]
    fn a_symlink_inside_the_path_is_refused() {
        let root = tempfile::tempdir().unwrap();
        let root = canonical(&root);
        std::fs::create_dir_all(root.join("real/data")).unwrap();
        std::os::unix::fs::symlink(root.join("real"), root.join("link")).unwrap();
        let result = pin(&root.join("link/data"));
        if cfg!(any(target_os = "linux", target_os = "android")) {
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
        assert!(why.contains("it is no directory"), "{why}");
    }
}
