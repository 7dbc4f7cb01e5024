//! [`Deferred`]: a toy's backend opened the first time a run needs it, not
//! when the toy is registered — so a process that runs one child without
//! that toy's grant (`mother run`) never opens, migrates or checkpoints the
//! toy's store.
//!
//! A failed open is not remembered: the next run that needs the backend
//! tries again (and gets the error as its own). It must never hand out a
//! backend that did not open.

use std::sync::{Arc, OnceLock};

use crate::ToyError;

/// How a [`Deferred`] opens its backend.
type Opener<T> = Box<dyn Fn() -> Result<T, ToyError> + Send + Sync>;

/// A backend opened on first use (or given ready).
pub struct Deferred<T> {
    opened: OnceLock<Arc<T>>,
    open: Option<Opener<T>>,
}

impl<T> Deferred<T> {
    /// A backend `open` makes the first time [`Self::get`] is called.
    pub fn new(open: impl Fn() -> Result<T, ToyError> + Send + Sync + 'static) -> Self {
        Self {
            opened: OnceLock::new(),
            open: Some(Box::new(open)),
        }
    }

    /// A backend already open.
    pub fn ready(backend: Arc<T>) -> Self {
        Self {
            opened: OnceLock::from(backend),
            open: None,
        }
    }

    /// The backend, opened now if this is the first use. Two first uses at
    /// once may both open it; one of the two is kept.
    pub fn get(&self) -> Result<Arc<T>, ToyError> {
        if let Some(backend) = self.opened.get() {
            return Ok(Arc::clone(backend));
        }
        let Some(open) = &self.open else {
            return Err(ToyError::Backend("a backend given ready is missing".into()));
        };
        let backend = Arc::new(open()?);
        Ok(Arc::clone(self.opened.get_or_init(|| backend)))
    }

    /// Whether the backend has been opened.
    pub fn is_open(&self) -> bool {
        self.opened.get().is_some()
    }
}

impl<T> std::fmt::Debug for Deferred<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deferred")
            .field("open", &self.is_open())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[test]
    fn opens_once_on_first_use_and_retries_a_failed_open() {
        let opens = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&opens);
        let deferred = Deferred::new(move || {
            let n = counted.fetch_add(1, Ordering::SeqCst);
            if n == 0 {
                Err(ToyError::Backend("not yet".into()))
            } else {
                Ok(n)
            }
        });
        assert!(!deferred.is_open());
        assert_eq!(opens.load(Ordering::SeqCst), 0, "nothing opened before use");
        let first = deferred.get().unwrap_err();
        assert_eq!(
            first.to_string(),
            ToyError::Backend("not yet".into()).to_string()
        );
        assert_eq!(*deferred.get().unwrap(), 1);
        assert_eq!(*deferred.get().unwrap(), 1, "kept, not opened again");
        assert_eq!(opens.load(Ordering::SeqCst), 2);
        assert!(deferred.is_open());
        assert_eq!(*Deferred::ready(Arc::new(7)).get().unwrap(), 7);
    }
}
