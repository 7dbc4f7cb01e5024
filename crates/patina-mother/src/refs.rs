//! References: which child ([`ChildRef`]) or receipt ([`ReceiptRef`]) a
//! request means, as plain serialisable data, and how `mother` reads a
//! CHILD or RECEIPT argument (an existing file, else something stored).
//!
//! A reference names; it must never read, resolve or load anything — the
//! [`crate::Mother`] does, so a door facing other callers can refuse the
//! `File` forms before any file is touched.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Which child a request means.
///
/// JSON: `{"installed": "calc"}` or `{"file": "/path/to/child.wasm"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChildRef {
    /// An installed name, a full child id (`b3:…`) or a unique id prefix.
    Installed(String),
    /// A component file the Mother reads (a local caller's; a door facing
    /// other callers should refuse this form).
    File(PathBuf),
}

impl ChildRef {
    /// How `mother` reads a CHILD argument: an existing file, else an
    /// installed name or id (prefix).
    pub fn from_argument(reference: &str) -> Self {
        existing_file(reference).map_or_else(|| Self::Installed(reference.to_owned()), Self::File)
    }
}

impl std::fmt::Display for ChildRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Installed(reference) => f.write_str(reference),
            Self::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// `reference` as a path, if it names an existing file.
fn existing_file(reference: &str) -> Option<PathBuf> {
    let path = std::path::Path::new(reference);
    path.is_file().then(|| path.to_owned())
}

/// Which receipt a request means.
///
/// JSON: `{"stored": "3fa9c2"}` or `{"file": "/path/to/receipt.json"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptRef {
    /// A stored receipt's id or unique prefix (at least 4 hex digits).
    Stored(String),
    /// A receipt file (an export or a bare receipt) the Mother reads.
    File(PathBuf),
}

impl ReceiptRef {
    /// How `mother` reads a RECEIPT argument: an existing file, else a
    /// stored id or prefix.
    pub fn from_argument(reference: &str) -> Self {
        existing_file(reference).map_or_else(|| Self::Stored(reference.to_owned()), Self::File)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_argument_is_a_file_only_when_one_exists() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("child.wasm");
        std::fs::write(&file, b"x").unwrap();
        let text = file.to_str().unwrap();
        assert_eq!(ChildRef::from_argument(text), ChildRef::File(file.clone()));
        assert_eq!(ReceiptRef::from_argument(text), ReceiptRef::File(file));
        assert_eq!(
            ChildRef::from_argument("calc"),
            ChildRef::Installed("calc".into())
        );
        assert_eq!(
            ReceiptRef::from_argument("3fa9c2"),
            ReceiptRef::Stored("3fa9c2".into())
        );
        let json = serde_json::to_string(&ChildRef::Installed("calc".into())).unwrap();
        assert_eq!(json, r#"{"installed":"calc"}"#);
    }
}
