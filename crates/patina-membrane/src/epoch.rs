//! [`EpochGuard`]: the Mother's epoch as the membrane sees it. Every
//! capability is issued under the current epoch and checks it on each call;
//! [`EpochGuard::bump`] makes every older capability stale at once.
//!
//! The epoch is kept in `$PATINA_HOME/epoch` so it only ever grows, across
//! restarts too (a capability from before a restart is stale anyway: its
//! connection is gone). This module must never move the epoch backwards.

use std::path::{Path, PathBuf};

use tokio::sync::watch;

use crate::MembraneError;

/// The current epoch and a watch on it. Cheap to clone (clones share).
#[derive(Clone, Debug)]
pub struct EpochGuard {
    sender: std::sync::Arc<watch::Sender<u64>>,
    file: Option<PathBuf>,
}

impl EpochGuard {
    /// An in-memory epoch starting at `epoch`.
    pub fn new(epoch: u64) -> Self {
        Self {
            sender: std::sync::Arc::new(watch::Sender::new(epoch)),
            file: None,
        }
    }

    /// The epoch kept in `file` (1 when the file does not exist yet).
    pub fn load(file: &Path) -> Result<Self, MembraneError> {
        let epoch = read_epoch(file)?;
        Ok(Self {
            sender: std::sync::Arc::new(watch::Sender::new(epoch)),
            file: Some(file.to_owned()),
        })
    }

    /// The current epoch.
    pub fn current(&self) -> u64 {
        *self.sender.borrow()
    }

    /// A receiver that sees every advance.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.sender.subscribe()
    }

    /// Advances the epoch (and writes it down); returns the new one.
    pub fn bump(&self) -> Result<u64, MembraneError> {
        let next = self.current().saturating_add(1);
        if let Some(file) = &self.file {
            write_epoch(file, next)?;
        }
        self.sender.send_replace(next);
        tracing::info!(epoch = next, "epoch advanced");
        Ok(next)
    }

    /// Moves the epoch up to `at_least` (another process advanced the
    /// home's epoch file): every capability issued before goes stale. The
    /// file is written only when this moves it up. Returns the epoch now.
    pub fn advance_to(&self, at_least: u64) -> Result<u64, MembraneError> {
        let current = self.current();
        if at_least <= current {
            return Ok(current);
        }
        if let Some(file) = &self.file
            && read_epoch(file)? < at_least
        {
            write_epoch(file, at_least)?;
        }
        self.sender.send_replace(at_least);
        tracing::info!(epoch = at_least, "epoch advanced");
        Ok(at_least)
    }

    /// `Ok` when a capability issued at `issued` is still current.
    pub fn check(&self, issued: u64) -> Result<(), MembraneError> {
        let current = self.current();
        if issued == current {
            Ok(())
        } else {
            Err(MembraneError::StaleEpoch { issued, current })
        }
    }
}

/// The epoch in `file` (1 if there is none yet).
pub fn read_epoch(file: &Path) -> Result<u64, MembraneError> {
    match std::fs::read_to_string(file) {
        Ok(text) => text.trim().parse().map_err(|_| {
            MembraneError::BadRequest(format!("{} does not hold an epoch", file.display()))
        }),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(1),
        Err(error) => Err(MembraneError::io(
            format!("reading {}", file.display()),
            error,
        )),
    }
}

/// Writes `epoch` to `file` atomically.
pub fn write_epoch(file: &Path, epoch: u64) -> Result<(), MembraneError> {
    let temporary = file.with_extension("new");
    std::fs::write(&temporary, format!("{epoch}\n"))
        .and_then(|()| std::fs::rename(&temporary, file))
        .map_err(|error| MembraneError::io(format!("writing {}", file.display()), error))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bump_makes_older_epochs_stale_and_persists() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("epoch");
        let guard = EpochGuard::load(&file).unwrap();
        assert_eq!(guard.current(), 1);
        guard.check(1).unwrap();
        assert_eq!(guard.bump().unwrap(), 2);
        assert_eq!(guard.check(1).unwrap_err().kind(), "stale-epoch");
        assert_eq!(EpochGuard::load(&file).unwrap().current(), 2);
    }

    #[test]
    fn an_epoch_advanced_elsewhere_is_taken_up_never_backwards() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("epoch");
        let guard = EpochGuard::load(&file).unwrap();
        assert_eq!(guard.advance_to(1).unwrap(), 1, "never backwards");
        // Another process wrote 5: taken up, the file left as it is.
        write_epoch(&file, 5).unwrap();
        assert_eq!(guard.advance_to(5).unwrap(), 5);
        assert_eq!(guard.check(1).unwrap_err().kind(), "stale-epoch");
        guard.check(5).unwrap();
        assert_eq!(read_epoch(&file).unwrap(), 5);
        // Asked past the file: written down.
        assert_eq!(guard.advance_to(7).unwrap(), 7);
        assert_eq!(read_epoch(&file).unwrap(), 7);
    }
}
