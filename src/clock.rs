//! The booth's two clocks, which every part may use: `WallClock` (calendar time, for opening
//! hours, ticket validity and the journal's timestamps) and `Clock` (monotonic, the visit
//! machine's `Instant`).

use chrono::{DateTime, FixedOffset};

use crate::visit::Instant;

/// The wall clock: the system's, or a simulated one that starts at a configured instant and
/// runs at real speed.
#[derive(Debug, Clone, Copy)]
pub enum WallClock {
    System,
    Simulated { start: DateTime<FixedOffset>, at: std::time::Instant },
}

impl WallClock {
    pub fn simulated(start: DateTime<FixedOffset>) -> Self {
        WallClock::Simulated { start, at: std::time::Instant::now() }
    }
    pub fn now(&self) -> DateTime<FixedOffset> {
        match self {
            WallClock::System => chrono::Local::now().fixed_offset(),
            WallClock::Simulated { start, at } => *start + chrono::Duration::from_std(at.elapsed()).unwrap_or_default(),
        }
    }
    /// Now, in seconds since 1970 (the journal's time).
    pub fn now_s(&self) -> i64 {
        self.now().timestamp()
    }

    /// Today's midnight in the clock's own time zone, in seconds since 1970 ("today" counters).
    pub fn start_of_day(&self) -> i64 {
        let now = self.now();
        now.date_naive()
            .and_hms_opt(0, 0, 0)
            .and_then(|m| m.and_local_timezone(*now.offset()).single())
            .map_or(now.timestamp(), |m| m.timestamp())
    }
}

/// The booth's monotonic clock, shared by the loop and its tasks.
#[derive(Debug, Clone, Copy)]
pub struct Clock(std::time::Instant);

impl Clock {
    pub fn start() -> Self {
        Clock(std::time::Instant::now())
    }
    pub fn now(&self) -> Instant {
        Instant(self.0.elapsed().as_millis() as u64)
    }
    /// The moment the clock started.
    pub fn started(&self) -> std::time::Instant {
        self.0
    }
}

/// A wait that doubles after each failure, from `first` up to `max`: the devices' reopening,
/// the payment queries and the uploads all back off with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub first: std::time::Duration,
    pub max: std::time::Duration,
}

impl Backoff {
    /// The wait after `last` (none yet: `first`).
    pub fn after(&self, last: Option<std::time::Duration>) -> std::time::Duration {
        last.map_or(self.first, |w| (w * 2).min(self.max))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::Backoff;

    #[test]
    fn a_backoff_doubles_from_its_first_wait_and_stops_at_its_most() {
        let b = Backoff { first: Duration::from_millis(200), max: Duration::from_secs(1) };
        let mut waits = vec![];
        let mut last = None;
        for _ in 0..5 {
            let w = b.after(last);
            waits.push(w.as_millis());
            last = Some(w);
        }
        assert_eq!(waits, [200, 400, 800, 1000, 1000]);
    }
}
