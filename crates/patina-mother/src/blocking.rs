//! [`BlockingWork`]: where a Mother does the work that blocks a thread —
//! reading, hashing and compiling children, SQLite, sealing receipts.
//!
//! A Mother serving many callers must never do it on an async worker
//! thread (every other caller on that thread would wait), so by default it
//! goes to tokio's blocking threads. A process that runs one command and
//! exits has no other caller to keep waiting, and starting a blocking
//! thread (its stack, its allocator arena, the hand-offs to and fro) costs
//! more than the work it would carry; it may ask for the work to be done
//! where it is awaited. This module only chooses the thread: it must never
//! change what the work does, nor leave work half done when the awaiting
//! future is dropped (either way the work runs to its end once started).

use crate::MotherError;

/// Where a Mother does its blocking work ([`crate::MotherConfig::blocking`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum BlockingWork {
    /// On tokio's blocking threads, off the async runtime: for a Mother
    /// that serves (the default).
    #[default]
    Pool,
    /// On the thread that awaits it, blocking that thread: for a process
    /// that runs one command on a current-thread runtime and has nothing
    /// else to do meanwhile (`mother run`). On a runtime that serves
    /// others it stalls them: use [`Self::Pool`] there. Timers of that
    /// thread (a run's timeout) fire only once the work is done; a child's
    /// own deadline (the engine's epochs) is kept regardless.
    Caller,
}

impl BlockingWork {
    /// Does `work` where this says, inside the caller's span.
    pub(crate) async fn run<T, F>(self, work: F) -> Result<T, MotherError>
    where
        T: Send + 'static,
        F: FnOnce() -> Result<T, MotherError> + Send + 'static,
    {
        match self {
            // A panic ends the work as it would on a blocking thread: as a
            // typed error, not by unwinding through the caller (a run that
            // invoked this one, or the process).
            Self::Caller => std::panic::catch_unwind(std::panic::AssertUnwindSafe(work))
                .unwrap_or_else(|panic| Err(MotherError::Task(panic_message(&*panic)))),
            Self::Pool => {
                let span = tracing::Span::current();
                tokio::task::spawn_blocking(move || span.in_scope(work))
                    .await
                    .map_err(MotherError::task)?
            }
        }
    }
}

/// What a panic said, as a task's join error says it.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".to_owned());
    format!("the work panicked: {what}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a current-thread runtime")
    }

    fn thread_of(mode: BlockingWork) -> std::thread::ThreadId {
        runtime()
            .block_on(mode.run(|| Ok(std::thread::current().id())))
            .expect("the work ran")
    }

    #[test]
    fn caller_work_runs_on_the_awaiting_thread() {
        assert_eq!(thread_of(BlockingWork::Caller), std::thread::current().id());
    }

    #[test]
    fn pooled_work_runs_on_another_thread() {
        assert_ne!(thread_of(BlockingWork::Pool), std::thread::current().id());
    }

    #[test]
    fn a_panic_in_the_work_comes_back_as_a_task_error_in_either_mode() {
        let runtime = runtime();
        for mode in [BlockingWork::Caller, BlockingWork::Pool] {
            let error = runtime
                .block_on(mode.run(|| -> Result<(), MotherError> { panic!("boom") }))
                .expect_err("the work panicked");
            assert!(
                matches!(&error, MotherError::Task(why) if why.contains("panic")),
                "{mode:?}: {error:?}"
            );
        }
    }

    #[test]
    fn an_error_of_the_work_comes_back_as_it_is() {
        let runtime = runtime();
        for mode in [BlockingWork::Caller, BlockingWork::Pool] {
            let error = runtime
                .block_on(mode.run(|| Err::<(), _>(MotherError::Task("nope".into()))))
                .expect_err("the work failed");
            assert!(
                matches!(&error, MotherError::Task(why) if why == "nope"),
                "{error:?}"
            );
        }
    }
}
