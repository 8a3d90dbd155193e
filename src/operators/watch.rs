//! The stick watcher: a thread that looks, twice a second, whether an operator's stick is at
//! `[operators] stick` — on the Pi the mount point gradbooth-stick@.service mounts it on (empty
//! when nothing is mounted), in development and tests any directory — and tells the machine
//! when one arrives or goes (`StickEvent::Inserted` / `Removed`). It only looks whether the
//! place holds anything; what is on the stick is read when the machine asks (`ReadStick`),
//! which it does only while the booth rests.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::bus::Events;
use crate::visit::{Event, StickEvent};

/// How often the place is looked at.
pub const PERIOD: Duration = Duration::from_millis(500);

/// Whether a stick is there: the place exists and holds something.
pub fn present(place: &Path) -> bool {
    std::fs::read_dir(place).is_ok_and(|mut d| d.next().is_some())
}

/// Stops the watcher when dropped.
pub struct Watcher {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Watches `place`; a stick already there at start counts as inserted.
pub fn spawn(place: PathBuf, events: Events) -> Watcher {
    let stop = Arc::new(AtomicBool::new(false));
    let s = stop.clone();
    let thread = std::thread::Builder::new()
        .name("stick-watch".into())
        .spawn(move || {
            let mut was = false;
            while !s.load(Ordering::Relaxed) {
                let is = present(&place);
                if is != was {
                    was = is;
                    tracing::info!(place = %place.display(), present = is, "operator's stick");
                    let e = if is { StickEvent::Inserted } else { StickEvent::Removed };
                    if events.send(Event::Stick(e)).is_err() {
                        break;
                    }
                }
                std::thread::sleep(PERIOD);
            }
        })
        .expect("spawning the stick watcher");
    Watcher { stop, thread: Some(thread) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stick_is_there_when_its_place_holds_something() {
        let d = tempfile::tempdir().unwrap();
        let place = d.path().join("stick");
        assert!(!present(&place), "no place: no stick");
        std::fs::create_dir(&place).unwrap();
        assert!(!present(&place), "an empty mount point: no stick");
        std::fs::create_dir(place.join("gradbooth")).unwrap();
        assert!(present(&place));
    }

    #[test]
    fn the_watcher_tells_of_a_stick_coming_and_going() {
        let d = tempfile::tempdir().unwrap();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let _w = spawn(d.path().to_owned(), tx);
        std::fs::write(d.path().join("x"), b"x").unwrap();
        let next = |rx: &mut tokio::sync::mpsc::UnboundedReceiver<Event>| {
            let until = std::time::Instant::now() + Duration::from_secs(5);
            loop {
                if let Ok(e) = rx.try_recv() {
                    return Some(e);
                }
                if std::time::Instant::now() > until {
                    return None;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        };
        assert_eq!(next(&mut rx), Some(Event::Stick(StickEvent::Inserted)));
        std::fs::remove_file(d.path().join("x")).unwrap();
        assert_eq!(next(&mut rx), Some(Event::Stick(StickEvent::Removed)));
    }
}
