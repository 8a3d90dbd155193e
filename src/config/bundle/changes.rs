//! What a bundle changes: its settings merged onto the current configuration leaf by leaf,
//! each change classified — everyday (an operator alone), trust (two operators), or not
//! changeable by a bundle at all — and the warnings an operator should see before applying.

use chrono::{DateTime, FixedOffset};

use super::{Operators, Refusal};
use crate::config::Settings;

/// Everyday settings: what an office changes between rounds (one signature).
const EVERYDAY: &[&str] = &[
    "service",
    "help",
    "booth.location",
    "booth.location_en",
    "booth.photo_type",
    "payment.price_yuan",
    "lights",
    "review.checks",
    "review.standard",
    "timeouts",
    "policy",
    "ui",
    "studios",
];

/// Trust settings: who the booth believes and where money and photos go (two signatures).
const TRUST: &[&str] =
    &["tickets.issuers", "diagnostics.issuers", "diagnostics.revoked", "operators", "upload", "payment"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Everyday,
    /// The price: everyday, but highlighted.
    Money,
    Trust,
}

/// One setting before → after (`None`: not set before / removed).
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// Dotted key, `service.period_end`.
    pub key: String,
    pub before: Option<String>,
    pub after: String,
    pub kind: ChangeKind,
}

/// Something an operator should look at twice before applying.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    /// The new service period ends before today.
    PeriodAlreadyEnded,
    /// The price changes by more than half (before, after in fen).
    PriceJump { before: u32, after: u32 },
}

impl Warning {
    pub fn code(&self) -> &'static str {
        match self {
            Warning::PeriodAlreadyEnded => "period_already_ended",
            Warning::PriceJump { .. } => "price_jump",
        }
    }
}

fn under(key: &str, prefix: &str) -> bool {
    key == prefix || key.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('.'))
}

fn kind_of(key: &str) -> Result<ChangeKind, Refusal> {
    if key == "payment.price_yuan" {
        return Ok(ChangeKind::Money);
    }
    if EVERYDAY.iter().any(|p| under(key, p)) {
        return Ok(ChangeKind::Everyday);
    }
    if TRUST.iter().any(|p| under(key, p)) {
        return Ok(ChangeKind::Trust);
    }
    Err(Refusal::NotChangeable(key.to_owned()))
}

fn shown(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `bundle` merged onto `current`: tables merge key by key, any other value replaces.
pub(super) fn merge(current: &toml::Table, bundle: &toml::Table) -> Result<(toml::Table, Vec<Change>), Refusal> {
    let mut merged = current.clone();
    let mut changes = Vec::new();
    merge_into(&mut merged, bundle, "", &mut changes)?;
    Ok((merged, changes))
}

fn merge_into(
    into: &mut toml::Table,
    from: &toml::Table,
    prefix: &str,
    changes: &mut Vec<Change>,
) -> Result<(), Refusal> {
    for (k, v) in from {
        let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
        match (into.get_mut(k), v) {
            (Some(toml::Value::Table(old)), toml::Value::Table(new)) => merge_into(old, new, &key, changes)?,
            (old, new) => {
                if old.as_deref() != Some(new) {
                    let before = old.as_deref().map(shown);
                    changes.push(Change { kind: kind_of(&key)?, key, before, after: shown(new) });
                }
                into.insert(k.clone(), new.clone());
            }
        }
    }
    Ok(())
}

/// An everyday price stays within `[operators] price_bounds_yuan` (a trust bundle may move
/// the bounds themselves).
pub(super) fn within_price_bounds(changes: &[Change], ops: &Operators, new_price: u32) -> Result<(), Refusal> {
    if !changes.iter().any(|c| c.kind == ChangeKind::Money) {
        return Ok(());
    }
    let Some((lo, hi)) = ops.price_bounds else {
        return Err(Refusal::PriceOutOfBounds(
            "[operators] price_bounds_yuan is not set: the price is a trust change".into(),
        ));
    };
    if (lo..=hi).contains(&new_price) {
        Ok(())
    } else {
        let y = crate::screen::yuan;
        Err(Refusal::PriceOutOfBounds(format!("{} is not within {} – {}", y(new_price), y(lo), y(hi))))
    }
}

pub(super) fn warnings(current: &Settings, new: &Settings, now: DateTime<FixedOffset>) -> Vec<Warning> {
    let mut w = Vec::new();
    if new.schedule.period_end < now.date_naive() {
        w.push(Warning::PeriodAlreadyEnded);
    }
    let (before, after) = (current.price_fen, new.price_fen);
    if after.abs_diff(before) * 2 > before {
        w.push(Warning::PriceJump { before, after });
    }
    w
}
