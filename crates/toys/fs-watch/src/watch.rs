//! File events under the granted root, for `fs-watch.wait`: a `notify`
//! recommended watcher (inotify, FSEvents, ... or polling), recursive, never
//! following symlinks.
//!
//! Events only say *that* something changed; no file content or name from
//! them reaches the child. Blocking waits run in `spawn_blocking`. Access
//! events (opens, reads) are not changes and are ignored.

use std::path::Path;
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::Duration;

use notify::{Config, Event, EventKind, RecommendedWatcher, RecursiveMode, Watcher};

type Events = Receiver<notify::Result<Event>>;

/// A running watch of one root.
pub(crate) struct Watch {
    _watcher: RecommendedWatcher,
    /// `None` while a wait holds it.
    events: Option<Events>,
}

/// Whether `event` reports a change (an error may hide one, so it counts).
fn is_change(event: &notify::Result<Event>) -> bool {
    match event {
        Ok(event) => !matches!(event.kind, EventKind::Access(_)),
        Err(_) => true,
    }
}

/// Takes every queued event; true when one of them was a change.
fn drain(events: &Events) -> bool {
    let mut changed = false;
    while let Ok(event) = events.try_recv() {
        changed |= is_change(&event);
    }
    changed
}

impl Watch {
    /// Starts watching `root` recursively (blocking: it walks the tree).
    pub(crate) fn start(root: &Path) -> Result<Self, String> {
        let (sender, events) = channel();
        let config = Config::default().with_follow_symlinks(false);
        let mut watcher = RecommendedWatcher::new(sender, config)
            .map_err(|e| format!("cannot watch for file events: {e}"))?;
        watcher
            .watch(root, RecursiveMode::Recursive)
            .map_err(|e| format!("cannot watch the granted directory: {e}"))?;
        Ok(Self {
            _watcher: watcher,
            events: Some(events),
        })
    }

    /// Forgets the events queued so far (a snapshot taken now includes them).
    pub(crate) fn forget(&mut self) {
        if let Some(events) = &self.events {
            drain(events);
        }
    }

    /// Waits up to `timeout` for a change; true when one came (or had come
    /// since the last wait or snapshot).
    pub(crate) async fn wait(&mut self, timeout: Duration) -> Result<bool, String> {
        let events = self
            .events
            .take()
            .ok_or_else(|| "a wait is already running".to_owned())?;
        let (events, changed) = tokio::task::spawn_blocking(move || {
            let changed = wait_blocking(&events, timeout);
            (events, changed)
        })
        .await
        .map_err(|e| format!("the wait did not finish: {e}"))?;
        self.events = Some(events);
        changed
    }
}

fn wait_blocking(events: &Events, timeout: Duration) -> Result<bool, String> {
    if drain(events) {
        return Ok(true);
    }
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match events.recv_timeout(left) {
            Ok(event) if is_change(&event) => {
                // Take the rest of the burst too, so the next wait does not
                // wake for what this one already reported.
                std::thread::sleep(Duration::from_millis(20));
                drain(events);
                return Ok(true);
            }
            Ok(_) => {}
            Err(RecvTimeoutError::Timeout) => return Ok(false),
            Err(RecvTimeoutError::Disconnected) => {
                return Err("the file watcher stopped".into());
            }
        }
    }
}
