//! [`Spill`]: the large payloads a recording holds, written aside to an
//! unnamed file in the host's cache directory while the run goes on, and
//! read back once, when the run ends and its transcript is made. So a
//! recorded run keeps no more of the bytes it moves in memory than a live
//! one does: a 16 MiB blob put and read back is one copy in the child and
//! one in flight, not a third one waiting for the receipt.
//!
//! The file has no name (it is gone when the run's tape is dropped, and
//! after a crash) and only this process holds it. It must never hand back
//! bytes other than those written: a short read is an error, never a
//! shorter blob.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::PoisonError;

use patina_receipts::{Blob, Digest};

/// Payloads at least this long are written aside; shorter ones stay in
/// memory (most payloads are a few bytes, and a write costs a system call).
pub(crate) const SPILL_MIN: usize = 1 << 20;

/// A blob written aside: where its bytes are in the spill file.
pub(crate) struct Spilled {
    digest: Digest,
    offset: u64,
    len: usize,
}

/// The spill file of one run, made when the first payload is written.
pub(crate) struct Spill {
    dir: PathBuf,
    file: Option<File>,
    len: u64,
}

impl Spill {
    /// A spill in `dir`; nothing is created until something is written.
    pub fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
            file: None,
            len: 0,
        }
    }

    /// Writes `bytes` (whose digest is `digest`) aside. `None` when they
    /// could not be written: the caller keeps them in memory instead.
    pub fn write(&mut self, digest: Digest, bytes: &[u8]) -> Option<Spilled> {
        if self.file.is_none() {
            match tempfile::tempfile_in(&self.dir) {
                Ok(file) => self.file = Some(file),
                Err(error) => {
                    tracing::warn!(%error, dir = %self.dir.display(), "cannot write recorded payloads aside; keeping them in memory");
                    return None;
                }
            }
        }
        let file = self.file.as_mut()?;
        let offset = self.len;
        let written = file
            .seek(SeekFrom::Start(offset))
            .and_then(|_| file.write_all(bytes));
        if let Err(error) = written {
            tracing::warn!(%error, "cannot write a recorded payload aside; keeping it in memory");
            return None;
        }
        self.len = offset + bytes.len() as u64;
        Some(Spilled {
            digest,
            offset,
            len: bytes.len(),
        })
    }

    /// The blob `spilled` stands for, read back.
    pub fn read(&mut self, spilled: &Spilled) -> Result<Blob, String> {
        let file = self
            .file
            .as_mut()
            .ok_or("a recorded payload was written aside to no file")?;
        let mut bytes = vec![0; spilled.len];
        file.seek(SeekFrom::Start(spilled.offset))
            .and_then(|_| file.read_exact(&mut bytes))
            .map_err(|error| format!("cannot read back a recorded payload: {error}"))?;
        Ok(Blob {
            digest: spilled.digest,
            bytes,
        })
    }
}

impl super::Tape {
    /// Takes `bytes` (a byte list of a typed call, `digest` its blob's) into
    /// the recording by writing them aside, when they are large and the run
    /// has somewhere to write them; `false` leaves them to the caller.
    pub(super) fn spill(&self, digest: Digest, bytes: &[u8]) -> bool {
        let Some(spill) = &self.inner.spill else {
            return false;
        };
        if bytes.len() < SPILL_MIN {
            return false;
        }
        let mut state = self.lock();
        if state.value_blobs.contains(&digest) {
            return true;
        }
        if !self.admit(&mut state, bytes.len()) {
            return false;
        }
        let written = spill
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .write(digest, bytes);
        match written {
            Some(spilled) => {
                state.value_blobs.insert(digest);
                state.spilled.push(spilled);
                true
            }
            None => {
                // Kept in memory by the caller, and counted there.
                state.bytes = state.bytes.saturating_sub(bytes.len() as u64);
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_written_aside_read_back_whole_and_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let mut spill = Spill::new(dir.path());
        let (a, b) = (vec![7u8; 3 << 20], vec![9u8; 5]);
        let at_a = spill.write(Blob::digest(&a), &a).unwrap();
        let at_b = spill.write(Blob::digest(&b), &b).unwrap();
        assert_eq!(spill.read(&at_b).unwrap(), Blob::new(b));
        assert_eq!(spill.read(&at_a).unwrap(), Blob::new(a));
        // The file has no name: nothing is left in the directory.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_directory_that_cannot_hold_the_file_keeps_nothing_aside() {
        let dir = tempfile::tempdir().unwrap();
        let mut spill = Spill::new(&dir.path().join("missing"));
        assert!(spill.write(Blob::digest(b"x"), b"x").is_none());
        let lost = Spilled {
            digest: Blob::digest(b"x"),
            offset: 0,
            len: 1,
        };
        assert!(spill.read(&lost).unwrap_err().contains("no file"));
    }
}
