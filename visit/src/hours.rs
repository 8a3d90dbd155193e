//! When the booth serves graduates: the service period, weekdays, opening hours and holidays,
//! and why it is closed at a given moment (the machine hears it as `Event::Hours`).

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveTime, Weekday};

/// When the booth serves graduates.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub days: Vec<Weekday>,
    pub opens: NaiveTime,
    pub closes: NaiveTime,
    pub holidays: Vec<NaiveDate>,
    pub offset: FixedOffset,
}

/// Why the booth is closed right now; the UI shows the matching text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    BeforePeriod,
    AfterPeriod,
    Holiday,
    ClosedDay,
    OutsideHours,
}

impl Closed {
    pub fn code(self) -> &'static str {
        match self {
            Self::BeforePeriod => "before_period",
            Self::AfterPeriod => "after_period",
            Self::Holiday => "holiday",
            Self::ClosedDay => "closed_day",
            Self::OutsideHours => "outside_hours",
        }
    }
}

impl Schedule {
    /// `Ok` when the booth is open at `now`, otherwise why not.
    pub fn check(&self, now: DateTime<FixedOffset>) -> Result<(), Closed> {
        let local = now.with_timezone(&self.offset).naive_local();
        let day = local.date();
        if day < self.period_start {
            Err(Closed::BeforePeriod)
        } else if day > self.period_end {
            Err(Closed::AfterPeriod)
        } else if self.holidays.contains(&day) {
            Err(Closed::Holiday)
        } else if !self.days.contains(&day.weekday()) {
            Err(Closed::ClosedDay)
        } else if local.time() < self.opens || local.time() >= self.closes {
            Err(Closed::OutsideHours)
        } else {
            Ok(())
        }
    }

    /// "09:00–16:30" for the screens.
    pub fn hours_text(&self) -> String {
        format!("{}–{}", self.opens.format("%H:%M"), self.closes.format("%H:%M"))
    }

    /// "2025-05-30 – 2025-06-30".
    pub fn period_text(&self) -> String {
        format!("{} – {}", self.period_start, self.period_end)
    }
}
