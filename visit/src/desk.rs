//! The operators' desk, as part of the same pure machine: an operator's USB stick is looked at
//! only while the booth rests (idle or out of service, or closed); one inserted during a visit
//! or the diagnostics mode waits until it ends. What is on the stick is read and verified by
//! the runtime; the desk shows it, applies a bundle or exports the booth's records only on a
//! touch at the booth, and goes back to rest when the stick is pulled or nobody touches it.
//!
//! What a bundle changes and why one is refused is the runtime's (it sends the report to the
//! screen itself); the machine keeps only the flow: which stage, which serial may be applied.

use std::ops::ControlFlow::{self, Break, Continue};
use std::time::Duration;

use super::*;

/// No touch at the desk for this long: back to rest (not while applying or exporting).
pub const DESK_IDLE: Duration = Duration::from_secs(180);
/// Applying or exporting that has not answered in this long has failed (a stick that hangs).
pub const DESK_BUSY: Duration = Duration::from_secs(300);

/// Whether an operator's stick is in the booth, and whether the desk has looked at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StickPresence {
    #[default]
    Absent,
    /// Inserted while the booth was busy: looked at when it rests again.
    Waiting,
    /// Looked at (shown, applied or cancelled): not again until it is pulled and put back.
    Seen,
}

/// What the stick and the runtime tell the desk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StickEvent {
    Inserted,
    Removed,
    /// The stick was read and its bundles verified: the serial of the one that may be applied
    /// (the lowest valid one), if any. The report itself went to the screen.
    Read {
        applicable: Option<u64>,
    },
    /// Applying finished: the serial made current, or why not.
    Applied(Result<u64, String>),
    /// The export wrote `done` of `total` files.
    ExportProgress {
        done: u32,
        total: u32,
    },
    /// The export finished and the stick is synced (its folder), or why not.
    Exported(Result<String, String>),
}

/// An operator's touch at the desk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeskIntent {
    /// Apply the bundle shown.
    Apply,
    /// Write the booth's records onto the stick.
    Export,
    /// Leave the desk (cancel, or done).
    Close,
    /// Any other touch (scrolling the change list): the desk stays.
    Touch,
}

/// Where the desk is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeskStage {
    Reading,
    /// The report is on screen; `applicable` may be applied.
    Shown {
        applicable: Option<u64>,
    },
    Applying {
        serial: u64,
    },
    Applied {
        serial: u64,
    },
    ApplyFailed {
        why: String,
    },
    Exporting {
        done: u32,
        total: u32,
    },
    Exported {
        folder: String,
    },
    ExportFailed {
        why: String,
    },
}

impl DeskStage {
    pub fn code(&self) -> &'static str {
        match self {
            DeskStage::Reading => "reading",
            DeskStage::Shown { .. } => "shown",
            DeskStage::Applying { .. } => "applying",
            DeskStage::Applied { .. } => "applied",
            DeskStage::ApplyFailed { .. } => "apply_failed",
            DeskStage::Exporting { .. } => "exporting",
            DeskStage::Exported { .. } => "exported",
            DeskStage::ExportFailed { .. } => "export_failed",
        }
    }

    /// The booth is writing: neither a pulled stick nor the clock interrupts the screen.
    fn busy(&self) -> bool {
        matches!(self, DeskStage::Applying { .. } | DeskStage::Exporting { .. })
    }
}

/// The desk while it is open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desk {
    pub stage: DeskStage,
    pub last_touch: Instant,
}

/// The desk's events: `Break` with the next phase, or `Continue` when the event is not the
/// desk's business.
pub(crate) fn transition(
    booth: &mut Booth,
    phase: Phase,
    event: Event,
    now: Instant,
    cmds: &mut Vec<Command>,
) -> ControlFlow<Phase, (Phase, Event)> {
    use Event as E;
    match (phase, event) {
        (phase, E::Stick(StickEvent::Inserted)) => {
            cmds.push(audit("stick_inserted", String::new()));
            booth.stick = StickPresence::Waiting;
            Break(look_if_resting(booth, phase, now, cmds))
        }
        (Phase::Desk(d), E::Stick(StickEvent::Removed)) => {
            booth.stick = StickPresence::Absent;
            cmds.push(audit("stick_removed", d.stage.code().to_owned()));
            // While writing, or once the export is done: on the Pi the export's own unmount
            // looks like a pull, and "you may remove the stick" stays until a touch.
            Break(if d.stage.busy() || matches!(d.stage, DeskStage::Exported { .. }) {
                Phase::Desk(d)
            } else {
                close(booth, cmds)
            })
        }
        (phase, E::Stick(StickEvent::Removed)) => {
            booth.stick = StickPresence::Absent;
            Break(phase)
        }
        // The key switch is the booth's, not the desk's (the mode's transition keeps it).
        (Phase::Desk(d), event) if !matches!(event, E::KeySwitch(_)) => Break(at_desk(booth, *d, event, now, cmds)),
        (phase, event) => Continue((phase, event)),
    }
}

/// After any step: a stick that waited is looked at once the booth rests.
pub(crate) fn look_if_resting(booth: &mut Booth, phase: Phase, now: Instant, cmds: &mut Vec<Command>) -> Phase {
    if booth.stick == StickPresence::Waiting && matches!(phase, Phase::Idle | Phase::OutOfService) {
        booth.stick = StickPresence::Seen;
        cmds.push(Command::ReadStick);
        Phase::Desk(Box::new(Desk { stage: DeskStage::Reading, last_touch: now }))
    } else {
        phase
    }
}

fn audit(action: &'static str, detail: String) -> Command {
    Command::Audit { actor: "operator".to_owned(), action, detail }
}

fn close(booth: &Booth, cmds: &mut Vec<Command>) -> Phase {
    cmds.push(Command::DeskClosed);
    booth.resting_phase()
}

fn at_desk(booth: &mut Booth, mut d: Desk, event: Event, now: Instant, cmds: &mut Vec<Command>) -> Phase {
    use DeskStage as S;
    use Event as E;
    let stage = std::mem::replace(&mut d.stage, S::Reading);
    d.stage = match (stage, event) {
        (stage, E::Tick) if !stage.busy() && now >= d.last_touch.after(DESK_IDLE) => return close(booth, cmds),
        (stage, E::Tick) if stage.busy() && now >= d.last_touch.after(DESK_BUSY) => {
            d.last_touch = now;
            let why = format!("no answer in {} s", DESK_BUSY.as_secs());
            cmds.push(audit("desk_timeout", stage.code().to_owned()));
            match stage {
                S::Exporting { .. } => S::ExportFailed { why },
                _ => S::ApplyFailed { why },
            }
        }
        (S::Reading, E::Stick(StickEvent::Read { applicable })) => S::Shown { applicable },
        (stage, E::Desk(intent)) => {
            d.last_touch = now;
            match (stage, intent) {
                (S::Shown { applicable: Some(serial) }, DeskIntent::Apply) => {
                    cmds.push(Command::ApplyBundle { serial });
                    S::Applying { serial }
                }
                (stage, DeskIntent::Export) if !stage.busy() && !matches!(stage, S::Reading | S::Exported { .. }) => {
                    cmds.push(Command::ExportToStick);
                    S::Exporting { done: 0, total: 0 }
                }
                (stage, DeskIntent::Close) if !stage.busy() => return close(booth, cmds),
                (stage, _) => stage,
            }
        }
        (S::Applying { .. }, E::Stick(StickEvent::Applied(result))) => {
            d.last_touch = now;
            match result {
                Ok(serial) => S::Applied { serial },
                Err(why) => S::ApplyFailed { why },
            }
        }
        (S::Exporting { .. }, E::Stick(StickEvent::ExportProgress { done, total })) => S::Exporting { done, total },
        (S::Exporting { .. }, E::Stick(StickEvent::Exported(result))) => {
            d.last_touch = now;
            match result {
                // Written and synced: the stick may be pulled (and the desk closes when it is).
                Ok(folder) => S::Exported { folder },
                Err(why) => S::ExportFailed { why },
            }
        }
        (stage, _) => stage,
    };
    // Pulled while the booth was applying: back to rest once it has finished.
    if booth.stick == StickPresence::Absent && !d.stage.busy() && !matches!(d.stage, DeskStage::Exported { .. }) {
        return close(booth, cmds);
    }
    Phase::Desk(Box::new(d))
}

#[cfg(test)]
mod tests;
