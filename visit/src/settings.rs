//! The machine's sections of `booth.toml`, checked: `[service]` (the opening hours, a
//! `Schedule`), `[policy]` and `[timeouts]` (with the price, a `Policy`). A bad value is
//! refused with the key that holds it and what would be allowed.

use std::time::Duration;

use chrono::{DateTime, NaiveDate, NaiveTime, Weekday};
use gradbooth_vocab::{Invalid, in_range, invalid};
use serde::Deserialize;

use crate::{GlassesPolicy, Policy, Schedule, Timeouts};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceFile {
    period_start: String,
    period_end: String,
    days: Vec<String>,
    opens: String,
    closes: String,
    #[serde(default)]
    holidays: Vec<String>,
    utc_offset: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyFile {
    max_attempts: u32,
    glasses: GlassesPolicy,
    countdown_seconds: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeoutsFile {
    scan: u32,
    confirm: u32,
    lighting: u32,
    rules: u32,
    seat: u32,
    attempt_shown: u32,
    review: u32,
    review_result: u32,
    payment: u32,
    done: u32,
    notice: u32,
    capture: u32,
    /// The diagnostics mode ends after this long without a touch.
    #[serde(default = "service_idle")]
    service_idle: u32,
}

fn service_idle() -> u32 {
    300
}

fn date(key: &str, s: &str) -> Result<NaiveDate, Invalid> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| invalid(key, format!("{s:?}"), "expected a date YYYY-MM-DD"))
}

fn time_of_day(key: &str, s: &str) -> Result<NaiveTime, Invalid> {
    NaiveTime::parse_from_str(s, "%H:%M").map_err(|_| invalid(key, format!("{s:?}"), "expected a time HH:MM"))
}

impl ServiceFile {
    pub fn validate(&self) -> Result<Schedule, Invalid> {
        let s = self;
        let period_start = date("service.period_start", &s.period_start)?;
        let period_end = date("service.period_end", &s.period_end)?;
        if period_end < period_start {
            return Err(invalid("service.period_end", &s.period_end, "must not be before service.period_start"));
        }
        let mut days = Vec::new();
        for d in &s.days {
            days.push(
                d.parse::<Weekday>()
                    .map_err(|_| invalid("service.days", d, "expected mon, tue, wed, thu, fri, sat or sun"))?,
            );
        }
        let opens = time_of_day("service.opens", &s.opens)?;
        let closes = time_of_day("service.closes", &s.closes)?;
        if closes <= opens {
            return Err(invalid("service.closes", &s.closes, "must be later than service.opens"));
        }
        let holidays = s.holidays.iter().map(|h| date("service.holidays", h)).collect::<Result<_, _>>()?;
        let offset = DateTime::parse_from_rfc3339(&format!("2000-01-01T00:00:00{}", s.utc_offset))
            .map_err(|_| invalid("service.utc_offset", &s.utc_offset, "expected an offset like +08:00"))?
            .offset()
            .to_owned();
        Ok(Schedule { period_start, period_end, days, opens, closes, holidays, offset })
    }
}

impl PolicyFile {
    /// The machine's policy, with its timeouts and the price it asks.
    pub fn validate(&self, t: &TimeoutsFile, price_fen: u32) -> Result<Policy, Invalid> {
        let p = self;
        let secs = |key: &str, v: u32, lo: u32, hi: u32| {
            in_range(&format!("timeouts.{key}"), v, lo, hi).map(|v| Duration::from_secs(v as u64))
        };
        Ok(Policy {
            max_attempts: in_range("policy.max_attempts", p.max_attempts, 1, 3)? as u8,
            glasses: p.glasses,
            countdown: Duration::from_secs(in_range("policy.countdown_seconds", p.countdown_seconds, 1, 10)? as u64),
            timeouts: Timeouts {
                scan: secs("scan", t.scan, 10, 600)?,
                confirm: secs("confirm", t.confirm, 10, 600)?,
                lighting: secs("lighting", t.lighting, 10, 600)?,
                rules: secs("rules", t.rules, 10, 600)?,
                seat: secs("seat", t.seat, 10, 900)?,
                attempt_shown: secs("attempt_shown", t.attempt_shown, 10, 600)?,
                review: secs("review", t.review, 2, 120)?,
                review_result: secs("review_result", t.review_result, 10, 600)?,
                payment: secs("payment", t.payment, 60, 1800)?,
                done: secs("done", t.done, 3, 120)?,
                notice: secs("notice", t.notice, 3, 120)?,
                capture: secs("capture", t.capture, 2, 60)?,
                service_idle: secs("service_idle", t.service_idle, 60, 1800)?,
            },
            price_fen,
        })
    }
}
