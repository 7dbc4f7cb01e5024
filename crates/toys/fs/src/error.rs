//! The `error` variant of `patina:toys/fs`, the lexical check of a child's
//! path, and the mapping of I/O errors (cap-std's sandbox refusals included)
//! to answers.
//!
//! The lexical check is a first, cheap refusal with a clear reason; it is not
//! what keeps a child inside its root (cap-std is). It must never touch the
//! disk, and must never let an absolute path or a `..` above the root through.

use std::io;
use std::path::{Component, Path, PathBuf};

use patina_toy::typed::{Decode, Encode, WaveError, WaveReader, WaveWriter};
use wasmtime::component::{ComponentType, Lift, Lower, Val};

/// Why an `fs` call failed: the WIT `error` variant (also as a typed
/// component value, for the functions linked typed).
#[derive(Clone, Debug, PartialEq, Eq, ComponentType, Lift, Lower)]
#[component(variant)]
pub(crate) enum FsError {
    /// The path would leave the granted root.
    #[component(name = "escape")]
    Escape(String),
    /// Nothing at that path.
    #[component(name = "not-found")]
    NotFound,
    /// A directory was needed.
    #[component(name = "not-a-directory")]
    NotADirectory,
    /// A file was needed.
    #[component(name = "is-a-directory")]
    IsADirectory,
    /// Read-only grant, or the target exists.
    #[component(name = "not-permitted")]
    NotPermitted(String),
    /// Over the read limit, in bytes.
    #[component(name = "too-large")]
    TooLarge(u64),
    /// Any other I/O failure.
    #[component(name = "io")]
    Io(String),
}

impl Encode for FsError {
    fn encode(&self, w: &mut WaveWriter<'_>) {
        match self {
            Self::Escape(reason) => w.case("escape", Some(reason)),
            Self::NotFound => w.case("not-found", None),
            Self::NotADirectory => w.case("not-a-directory", None),
            Self::IsADirectory => w.case("is-a-directory", None),
            Self::NotPermitted(reason) => w.case("not-permitted", Some(reason)),
            Self::TooLarge(size) => w.case("too-large", Some(size)),
            Self::Io(message) => w.case("io", Some(message)),
        }
    }
}

impl Decode for FsError {
    fn decode(r: &mut WaveReader<'_>) -> Result<Self, WaveError> {
        Ok(match r.label()? {
            "escape" => Self::Escape(r.payload()?),
            "not-found" => Self::NotFound,
            "not-a-directory" => Self::NotADirectory,
            "is-a-directory" => Self::IsADirectory,
            "not-permitted" => Self::NotPermitted(r.payload()?),
            "too-large" => Self::TooLarge(r.payload()?),
            "io" => Self::Io(r.payload()?),
            other => return Err(r.error(format!("`{other}` is not an fs error"))),
        })
    }
}

impl FsError {
    /// The WIT value of this error.
    pub(crate) fn to_val(&self) -> Val {
        let (case, payload) = match self {
            Self::Escape(reason) => ("escape", Some(Val::String(reason.clone()))),
            Self::NotFound => ("not-found", None),
            Self::NotADirectory => ("not-a-directory", None),
            Self::IsADirectory => ("is-a-directory", None),
            Self::NotPermitted(reason) => ("not-permitted", Some(Val::String(reason.clone()))),
            Self::TooLarge(size) => ("too-large", Some(Val::U64(*size))),
            Self::Io(message) => ("io", Some(Val::String(message.clone()))),
        };
        Val::Variant(case.to_owned(), payload.map(Box::new))
    }
}

impl From<io::Error> for FsError {
    fn from(error: io::Error) -> Self {
        match error.kind() {
            io::ErrorKind::NotFound => Self::NotFound,
            io::ErrorKind::NotADirectory => Self::NotADirectory,
            io::ErrorKind::IsADirectory => Self::IsADirectory,
            io::ErrorKind::AlreadyExists => Self::NotPermitted("the target already exists".into()),
            // cap-std's sandbox refusal ("a path led outside of the
            // filesystem") is a PermissionDenied without an OS error code; a
            // real EACCES carries one.
            io::ErrorKind::PermissionDenied if error.raw_os_error().is_none() => {
                Self::Escape(format!("{error} (outside the granted directory)"))
            }
            _ => Self::Io(error.to_string()),
        }
    }
}

/// Longest part of a child's path an error message repeats, in bytes.
pub(crate) const SHOWN_PATH: usize = 200;

/// `path` for an error message: at most [`SHOWN_PATH`] bytes (cut on a char
/// boundary, marked with `…`), so a huge path is not echoed back whole.
pub fn shorten(path: &str) -> String {
    if path.len() <= SHOWN_PATH {
        return path.to_owned();
    }
    let end = path.floor_char_boundary(SHOWN_PATH);
    format!("{}… ({} bytes)", &path[..end], path.len())
}

/// A child's path, checked lexically.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ChildPath {
    /// The path to hand to the root `Dir` (`.` for the root itself).
    pub rel: PathBuf,
    /// Whether it names the root itself (`""`, `.`, `a/..`).
    pub is_root: bool,
}

/// Checks `path` (relative to the root, `/`-separated) without touching the
/// disk: no absolute path, no `..` above the root, no NUL byte.
pub(crate) fn check_path(path: &str) -> Result<ChildPath, FsError> {
    if path.contains('\0') {
        return Err(FsError::Io("the path contains a NUL byte".into()));
    }
    if path.is_empty() {
        return Ok(ChildPath {
            rel: PathBuf::from("."),
            is_root: true,
        });
    }
    let mut depth: usize = 0;
    for component in Path::new(path).components() {
        match component {
            Component::Prefix(_) | Component::RootDir => {
                return Err(FsError::Escape(format!(
                    "`{}` is absolute; paths are relative to the granted directory",
                    shorten(path)
                )));
            }
            Component::CurDir => {}
            Component::ParentDir => {
                depth = depth.checked_sub(1).ok_or_else(|| {
                    FsError::Escape(format!(
                        "`{}` climbs above the granted directory",
                        shorten(path)
                    ))
                })?;
            }
            Component::Normal(_) => depth += 1,
        }
    }
    Ok(ChildPath {
        rel: PathBuf::from(path),
        is_root: depth == 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexical_checks() {
        assert!(check_path("").unwrap().is_root);
        assert!(check_path(".").unwrap().is_root);
        assert!(check_path("a/..").unwrap().is_root);
        assert!(!check_path("a/b/../c").unwrap().is_root);
        for bad in ["../x", "a/../../x", "/etc/passwd", "..", "./../x", "//x"] {
            assert!(
                matches!(check_path(bad), Err(FsError::Escape(_))),
                "{bad} passed"
            );
        }
        assert!(matches!(check_path("a\0b"), Err(FsError::Io(_))));
    }

    #[test]
    fn error_messages_never_echo_a_whole_long_path() {
        let long = format!("/{}", "é".repeat(3000));
        let Err(FsError::Escape(message)) = check_path(&long) else {
            panic!("not an escape")
        };
        assert!(message.len() < SHOWN_PATH + 100, "{} bytes", message.len());
        assert!(message.contains("(6001 bytes)"), "{message}");
        let climbing = format!("{}/../../x", "a".repeat(5000));
        let Err(FsError::Escape(message)) = check_path(&climbing) else {
            panic!("not an escape")
        };
        assert!(message.len() < SHOWN_PATH + 100, "{} bytes", message.len());
        assert_eq!(shorten("short/path"), "short/path");
        // Cut on a char boundary: 'é' is two bytes, 200 falls inside none.
        assert!(shorten(&format!("a{}", "é".repeat(200))).starts_with('a'));
    }

    #[test]
    fn sandbox_refusals_are_escapes_and_os_denials_are_not() {
        let sandbox = io::Error::new(io::ErrorKind::PermissionDenied, "a path led outside");
        assert!(matches!(FsError::from(sandbox), FsError::Escape(_)));
        #[cfg(unix)]
        let eacces = io::Error::from_raw_os_error(13);
        #[cfg(unix)]
        assert!(matches!(FsError::from(eacces), FsError::Io(_)));
    }
}
