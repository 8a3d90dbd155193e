//! `[[studios]]`: the staffed photo studios graduates can go to instead (the seed notice's
//! Hongkou and Yangpu studios), each with its dates and hours. The screen shows only the ones
//! open on the day — on the closed and out of service screens and after the last attempt —
//! where it would otherwise only say "go to a staffed photo studio".

use chrono::{NaiveDate, NaiveTime, Weekday};
use serde::Deserialize;

use crate::validate::{Invalid, invalid};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StudioFile {
    name: String,
    name_en: String,
    address: String,
    address_en: String,
    /// First and last day it takes graduates (YYYY-MM-DD, inclusive).
    from: String,
    until: String,
    days: Vec<String>,
    opens: String,
    closes: String,
}

/// A studio, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Studio {
    pub name: String,
    pub name_en: String,
    pub address: String,
    pub address_en: String,
    pub from: NaiveDate,
    pub until: NaiveDate,
    pub days: Vec<Weekday>,
    pub opens: NaiveTime,
    pub closes: NaiveTime,
}

impl Studio {
    /// It takes graduates on `day` (its dates; one of its weekdays).
    pub fn open_on(&self, day: NaiveDate) -> bool {
        use chrono::Datelike;
        (self.from..=self.until).contains(&day) && self.days.contains(&day.weekday())
    }

    /// "09:00–16:30", for the screen.
    pub fn hours(&self) -> String {
        format!("{}–{}", self.opens.format("%H:%M"), self.closes.format("%H:%M"))
    }
}

pub fn validate(files: &[StudioFile]) -> Result<Vec<Studio>, Invalid> {
    files
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let key = |k: &str| format!("studios[{i}].{k}");
            let date = |k: &str, v: &str| {
                NaiveDate::parse_from_str(v, "%Y-%m-%d")
                    .map_err(|_| invalid(&key(k), format!("{v:?}"), "a date YYYY-MM-DD"))
            };
            let time = |k: &str, v: &str| {
                NaiveTime::parse_from_str(v, "%H:%M").map_err(|_| invalid(&key(k), format!("{v:?}"), "a time HH:MM"))
            };
            let (from, until) = (date("from", &f.from)?, date("until", &f.until)?);
            if until < from {
                return Err(invalid(&key("until"), &f.until, "not before `from`"));
            }
            let (opens, closes) = (time("opens", &f.opens)?, time("closes", &f.closes)?);
            if closes <= opens {
                return Err(invalid(&key("closes"), &f.closes, "later than `opens`"));
            }
            let days = f
                .days
                .iter()
                .map(|d| {
                    d.parse::<Weekday>().map_err(|_| invalid(&key("days"), d, "mon, tue, wed, thu, fri, sat or sun"))
                })
                .collect::<Result<_, _>>()?;
            for (k, v) in
                [("name", &f.name), ("name_en", &f.name_en), ("address", &f.address), ("address_en", &f.address_en)]
            {
                if v.trim().is_empty() {
                    return Err(invalid(&key(k), "\"\"", "the studio's name and address, in Chinese and English"));
                }
            }
            Ok(Studio {
                name: f.name.clone(),
                name_en: f.name_en.clone(),
                address: f.address.clone(),
                address_en: f.address_en.clone(),
                from,
                until,
                days,
                opens,
                closes,
            })
        })
        .collect()
}

impl Studio {
    /// As the screen names it.
    pub fn place(&self) -> crate::bus::Place {
        crate::bus::Place {
            name: self.name.clone(),
            name_en: self.name_en.clone(),
            address: self.address.clone(),
            address_en: self.address_en.clone(),
            hours: self.hours(),
        }
    }
}

/// The studios open on `day` (closed on public holidays, as the booth is).
pub fn open_on(studios: &[Studio], day: NaiveDate, holidays: &[NaiveDate]) -> Vec<Studio> {
    if holidays.contains(&day) {
        return Vec::new();
    }
    studios.iter().filter(|s| s.open_on(day)).cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn studios() -> Vec<Studio> {
        let text = include_str!("../../config/booth.toml");
        let file: toml::Table = toml::from_str(text).unwrap();
        let list: Vec<StudioFile> = file["studios"].clone().try_into().unwrap();
        validate(&list).unwrap()
    }

    #[test]
    fn only_the_studio_open_that_day_is_shown() {
        let s = studios();
        let d = |t: &str| NaiveDate::parse_from_str(t, "%Y-%m-%d").unwrap();
        let holidays = [d("2025-05-31"), d("2025-06-01"), d("2025-06-02")];
        let names = |day: &str| open_on(&s, d(day), &holidays).into_iter().map(|s| s.name_en).collect::<Vec<_>>();
        assert_eq!(names("2025-06-03"), ["Hongkou studio"], "a Tuesday in the first half");
        assert_eq!(names("2025-06-15"), Vec::<String>::new(), "a Sunday: none");
        assert_eq!(names("2025-06-02"), Vec::<String>::new(), "a public holiday (a Monday): none");
        assert_eq!(names("2025-06-16"), ["Yangpu studio"], "the first day of the second");
        assert_eq!(names("2025-06-30"), ["Yangpu studio"], "its last day");
        assert_eq!(names("2025-07-01"), Vec::<String>::new(), "after both");
    }
}
