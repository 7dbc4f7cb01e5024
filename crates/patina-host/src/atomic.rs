//! Atomic file writes for on-disk state (the host's compiled artifacts, a
//! Mother's installed children): readers see the old file or the whole new one.
//!
//! It must never leave a torn or partly written file under the final name,
//! and never write outside the directory it is given.

use std::io::Write;
use std::path::Path;

use crate::error::IoError;

/// Writes `bytes` to `dir/file` so that readers see the old file or the
/// whole new one, never a torn write: a synced temp file, then a rename.
pub fn write_atomically(dir: &Path, file: &str, bytes: &[u8]) -> Result<(), IoError> {
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .map_err(|e| IoError::new(format!("writing into {}", dir.display()), e))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| IoError::new(format!("writing {file}"), e))?;
    tmp.persist(dir.join(file))
        .map_err(|e| IoError::new(format!("saving {file}"), e.error))?;
    Ok(())
}
