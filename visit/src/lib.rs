//! A graduate's visit as a pure state machine: `step(policy, booth, event, now)` returns the
//! next booth state and the commands for the runtime. No I/O, no clock, no threads here.
//!
//! The arms of `step` read like the flow in shared/docs/booth.md. Every way out of a visit
//! goes through `end_visit`, which stops the chair, idles the lights and forgets the visit.

pub mod desk;
mod ending;
mod hours;
mod queries;
pub mod service;
pub mod settings;
mod types;
mod view;

use std::collections::BTreeSet;

pub use desk::{DESK_IDLE, Desk, DeskIntent, DeskStage, StickEvent, StickPresence};
use ending::{booth_failed, end_visit, on_timeout};
pub use hours::{Closed, Schedule};
pub use queries::{CONFIRMING, CodeReading, code_reading, payment_code, timeout_of};
use queries::{chair_may_move, timed_out};
pub use service::{
    Leaving, SelfTestOutcome, Service, ServiceAction, ServiceGuard, ServiceIntent, ServicePage, ServicePass,
    ServiceRefusal,
};
pub use types::*;
pub use view::{PaymentView, Screen, Stage, View, view};

/// The visit in progress: who, which lighting, which attempts and photos.
#[derive(Debug, Clone, PartialEq)]
pub struct Visit {
    pub ticket: Ticket,
    pub mode: LightingMode,
    pub attempts_used: u8,
    pub photos: Vec<PhotoId>,
    /// A photo of an earlier visit that passed review and can still be paid for.
    pub kept: Option<PhotoId>,
}

/// Where the booth is. Each screen of a visit carries the visit and when it was entered.
#[derive(Debug, Clone, PartialEq)]
pub enum Phase {
    Idle,
    OutOfService,
    Scan {
        since: Instant,
        checking: bool,
        refusal: Option<TicketRefusal>,
    },
    Confirm {
        visit: Visit,
        since: Instant,
    },
    Lighting {
        visit: Visit,
        since: Instant,
    },
    Rules {
        visit: Visit,
        since: Instant,
    },
    Seat {
        visit: Visit,
        since: Instant,
        chair: Motion,
    },
    Countdown {
        visit: Visit,
        since: Instant,
    },
    Capturing {
        visit: Visit,
        since: Instant,
    },
    AttemptShown {
        visit: Visit,
        since: Instant,
        photo: PhotoId,
    },
    Reviewing {
        visit: Visit,
        since: Instant,
        photo: PhotoId,
    },
    ReviewResult {
        visit: Visit,
        since: Instant,
        photo: PhotoId,
        verdict: Verdict,
    },
    Payment {
        visit: Visit,
        since: Instant,
        photo: PhotoId,
        stage: PaymentStage,
    },
    Done {
        since: Instant,
    },
    Notice {
        since: Instant,
        notice: Notice,
    },
    /// A code was held up to open the diagnostics mode: being checked, or refused.
    ServiceEntry {
        since: Instant,
        checking: bool,
        refusal: Option<ServiceRefusal>,
    },
    /// The diagnostics mode (`service`): a technician, never a graduate.
    Service(Box<Service>),
    /// The mode ended; the quick self-test decides whether the booth serves again.
    ServiceLeaving {
        since: Instant,
        why: Leaving,
    },
    /// An operator's USB stick is being looked at (`desk`): never during a visit.
    Desk(Box<Desk>),
}

/// The visit a phase holds, if it holds one (by reference or by value, as `$phase` is): the
/// one list of the phases a graduate is in.
macro_rules! visit_of {
    ($phase:expr) => {
        match $phase {
            Phase::Confirm { visit, .. }
            | Phase::Lighting { visit, .. }
            | Phase::Rules { visit, .. }
            | Phase::Seat { visit, .. }
            | Phase::Countdown { visit, .. }
            | Phase::Capturing { visit, .. }
            | Phase::AttemptShown { visit, .. }
            | Phase::Reviewing { visit, .. }
            | Phase::ReviewResult { visit, .. }
            | Phase::Payment { visit, .. } => Some(visit),
            _ => None,
        }
    };
}

impl Phase {
    pub fn visit(&self) -> Option<&Visit> {
        visit_of!(self)
    }

    fn into_visit(self) -> Option<Visit> {
        visit_of!(self)
    }

    /// True while a graduate is at the booth (from the scan screen to payment).
    pub fn in_visit(&self) -> bool {
        matches!(self, Phase::Scan { .. }) || self.visit().is_some()
    }
}

/// The whole booth: the current phase and whatever keeps it out of service.
#[derive(Debug, Clone, PartialEq)]
pub struct Booth {
    pub phase: Phase,
    pub faults: BTreeSet<Part>,
    pub closed: Option<Closed>,
    /// The diagnostics mode's lock-out, key switch and last exit self-test.
    pub guard: ServiceGuard,
    /// An operator's stick: in the booth, waiting to be looked at, or seen.
    pub stick: StickPresence,
}

impl Default for Booth {
    fn default() -> Self {
        Booth {
            phase: Phase::Idle,
            faults: BTreeSet::new(),
            closed: None,
            guard: ServiceGuard::default(),
            stick: StickPresence::Absent,
        }
    }
}

impl Booth {
    /// Serving graduates: no fault, open, no service key left on, the last self-test passed.
    pub fn in_service(&self) -> bool {
        self.faults.is_empty() && self.closed.is_none() && self.guard.key != Some(true) && self.guard.failed.is_empty()
    }

    fn resting_phase(&self) -> Phase {
        if self.in_service() { Phase::Idle } else { Phase::OutOfService }
    }
}

/// One step of the booth. Pure: the same inputs always give the same outputs.
pub fn step(policy: &Policy, booth: Booth, event: Event, now: Instant) -> (Booth, Vec<Command>) {
    let mut booth = booth;
    let mut cmds = Vec::new();
    let was_seated = chair_may_move(&booth.phase) || matches!(booth.phase, Phase::Countdown { .. });
    let phase = std::mem::replace(&mut booth.phase, Phase::Idle);
    let next = transition(policy, &mut booth, phase, event, now, &mut cmds);
    // A stick that waited for the booth to rest is looked at now.
    booth.phase = desk::look_if_resting(&mut booth, next, now, &mut cmds);
    // The chair only ever moves on the seat screen (or the mode's chair page).
    if was_seated && !chair_may_move(&booth.phase) && !cmds.contains(&Command::Chair(Motion::Stop)) {
        cmds.insert(0, Command::Chair(Motion::Stop));
    }
    (booth, cmds)
}

fn transition(
    policy: &Policy,
    booth: &mut Booth,
    phase: Phase,
    event: Event,
    now: Instant,
    cmds: &mut Vec<Command>,
) -> Phase {
    use Event as E;
    use Intent as I;

    // Things that concern the booth rather than the screen.
    match event {
        E::Fault(part) => {
            booth.faults.insert(part);
            return if phase.in_visit() {
                booth_failed(booth, phase, Notice::Fault(part), now, cmds)
            } else if matches!(phase, Phase::Idle) {
                Phase::OutOfService
            } else {
                phase
            };
        }
        E::Restored(part) => {
            booth.faults.remove(&part);
            return if matches!(phase, Phase::OutOfService) { booth.resting_phase() } else { phase };
        }
        E::Hours(closed) => {
            booth.closed = closed;
            // A graduate already inside finishes their visit; closing takes effect at idle.
            return match phase {
                Phase::Idle | Phase::OutOfService => booth.resting_phase(),
                other => other,
            };
        }
        _ => {}
    }

    // An operator's stick (before the mode, which would take its events).
    let (phase, event) = match desk::transition(booth, phase, event, now, cmds) {
        std::ops::ControlFlow::Break(next) => return next,
        std::ops::ControlFlow::Continue(unhandled) => unhandled,
    };

    // The diagnostics mode, and the codes that open it.
    let (phase, event) = match service::transition(policy, booth, phase, event, now, cmds) {
        std::ops::ControlFlow::Break(next) => return next,
        std::ops::ControlFlow::Continue(unhandled) => unhandled,
    };

    if matches!(event, E::Tick) && timed_out(policy, &phase, now) {
        return on_timeout(booth, phase, now, cmds);
    }

    if matches!(event, E::Intent(I::Exit)) && may_exit(&phase) {
        return end_visit(booth, phase, VisitOutcome::Exited, None, now, cmds);
    }

    match (phase, event) {
        (Phase::Idle, E::Intent(I::Prepare)) => Phase::Scan { since: now, checking: false, refusal: None },
        // A graduate in a hurry scans straight away: treat it as "prepare" and the scan.
        (Phase::Idle, E::QrScanned(text)) | (Phase::Scan { checking: false, .. }, E::QrScanned(text)) => {
            cmds.push(Command::CheckTicket(text));
            Phase::Scan { since: now, checking: true, refusal: None }
        }
        (Phase::Scan { checking: true, .. }, E::TicketChecked(result)) => match result {
            // No attempt left and nothing kept to pay for.
            Ok(grant) if grant.attempts_used >= policy.max_attempts && grant.kept_photo.is_none() => {
                Phase::Scan { since: now, checking: false, refusal: Some(TicketRefusal::NoAttemptsLeft) }
            }
            Ok(grant) => {
                let visit = Visit {
                    ticket: grant.ticket,
                    mode: LightingMode::NoGlasses,
                    attempts_used: grant.attempts_used,
                    photos: Vec::new(),
                    kept: grant.kept_photo,
                };
                Phase::Confirm { visit, since: now }
            }
            Err(refusal) => Phase::Scan { since: now, checking: false, refusal: Some(refusal) },
        },
        // A photo kept from an earlier visit: paid for as it is, no retake.
        (Phase::Confirm { visit, .. }, E::Intent(I::PayKeptPhoto)) if visit.kept.is_some() => {
            let photo = visit.kept.expect("guarded");
            start_order(policy, visit, photo, now, cmds)
        }
        // On to a new photo, while attempts are left.
        (Phase::Confirm { visit, .. }, E::Intent(I::ConfirmData)) if visit.attempts_used < policy.max_attempts => {
            if policy.glasses == GlassesPolicy::Forbidden {
                // Nothing to choose: glasses are not allowed at this school.
                Phase::Rules { visit, since: now }
            } else {
                Phase::Lighting { visit, since: now }
            }
        }
        (Phase::Lighting { mut visit, since }, E::Intent(I::ChooseLighting(mode))) => {
            if mode == LightingMode::Glasses && policy.glasses == GlassesPolicy::Forbidden {
                Phase::Lighting { visit, since }
            } else {
                visit.mode = mode;
                Phase::Rules { visit, since: now }
            }
        }
        (Phase::Rules { visit, .. }, E::Intent(I::AcceptRules)) => enter_seat(visit, now, cmds),
        (Phase::Seat { visit, since, chair }, E::Intent(intent)) => match intent {
            I::ChairUp | I::ChairDown | I::ChairStop => {
                let motion = match intent {
                    I::ChairUp => Motion::Up,
                    I::ChairDown => Motion::Down,
                    _ => Motion::Stop,
                };
                cmds.push(Command::Chair(motion));
                Phase::Seat { visit, since, chair: motion }
            }
            I::StartCapture if visit.attempts_used < policy.max_attempts => {
                cmds.push(Command::Lights(LightScene::Capture(visit.mode)));
                Phase::Countdown { visit, since: now }
            }
            _ => Phase::Seat { visit, since, chair },
        },
        (Phase::Seat { visit, since, .. }, E::SeatButton(button)) => {
            let motion = match button {
                SeatButton::UpPressed => Motion::Up,
                SeatButton::DownPressed => Motion::Down,
                SeatButton::Released => Motion::Stop,
            };
            cmds.push(Command::Chair(motion));
            Phase::Seat { visit, since, chair: motion }
        }
        (Phase::Capturing { mut visit, .. }, E::PhotoCaptured(Ok(photo))) => {
            visit.photos.push(photo);
            cmds.push(Command::Preview(false));
            cmds.push(Command::Lights(LightScene::Preview(visit.mode)));
            Phase::AttemptShown { visit, since: now, photo }
        }
        (phase @ Phase::Capturing { .. }, E::PhotoCaptured(Err(_))) => {
            booth_failed(booth, phase, Notice::CaptureFailed, now, cmds)
        }
        (Phase::AttemptShown { visit, photo, .. }, E::Intent(I::UsePhoto)) => {
            cmds.push(Command::Review { photo, mode: visit.mode });
            Phase::Reviewing { visit, since: now, photo }
        }
        (Phase::AttemptShown { visit, .. } | Phase::ReviewResult { visit, .. }, E::Intent(I::Retake))
            if visit.attempts_used < policy.max_attempts =>
        {
            enter_seat(visit, now, cmds)
        }
        (Phase::Reviewing { visit, photo, .. }, E::Reviewed { photo: reviewed, verdict }) if reviewed == photo => {
            Phase::ReviewResult { visit, since: now, photo, verdict }
        }
        (phase @ Phase::Reviewing { photo, .. }, E::ReviewFailed { photo: failed }) if failed == photo => {
            booth_failed(booth, phase, Notice::ReviewUnavailable, now, cmds)
        }
        (Phase::ReviewResult { visit, photo, verdict, .. }, E::Intent(I::GoToPayment)) if verdict.passed() => {
            start_order(policy, visit, photo, now, cmds)
        }
        (Phase::Payment { visit, since, photo, stage }, E::Payment(update)) => {
            let payment = |visit, stage| Phase::Payment { visit, since: now, photo, stage };
            match (&stage, update) {
                (PaymentStage::Creating, PaymentUpdate::Created(order)) => payment(visit, PaymentStage::Waiting(order)),
                // This visit's order paid — or, while a new one is being made, an earlier order
                // of the same ticket found paid.
                (PaymentStage::Creating, PaymentUpdate::Paid { .. }) => {
                    end_visit(booth, Phase::Payment { visit, since, photo, stage }, VisitOutcome::Paid, None, now, cmds)
                }
                (
                    PaymentStage::Waiting(PaymentOrder { out_trade_no: no, .. })
                    | PaymentStage::Confirming { out_trade_no: no }
                    | PaymentStage::Unconfirmed { out_trade_no: no },
                    PaymentUpdate::Paid { out_trade_no },
                ) if *no == out_trade_no => {
                    end_visit(booth, Phase::Payment { visit, since, photo, stage }, VisitOutcome::Paid, None, now, cmds)
                }
                (PaymentStage::Creating, PaymentUpdate::NoCode(why)) => payment(visit, PaymentStage::NoCode(why)),
                // Closed unpaid after the expiry …
                (PaymentStage::Confirming { out_trade_no: no }, PaymentUpdate::Closed { out_trade_no })
                    if *no == out_trade_no =>
                {
                    payment(visit, PaymentStage::Expired)
                }
                // … or while on show: the payment failed on the phone.
                (
                    PaymentStage::Waiting(PaymentOrder { out_trade_no: no, .. }),
                    PaymentUpdate::Closed { out_trade_no },
                ) if *no == out_trade_no => payment(visit, PaymentStage::Failed),
                (
                    PaymentStage::Waiting(PaymentOrder { out_trade_no: no, .. })
                    | PaymentStage::Confirming { out_trade_no: no },
                    PaymentUpdate::Unconfirmed { out_trade_no },
                ) if *no == out_trade_no => payment(visit, PaymentStage::Unconfirmed { out_trade_no }),
                _ => Phase::Payment { visit, since, photo, stage },
            }
        }
        (
            Phase::Payment {
                visit,
                photo,
                stage:
                    stage @ (PaymentStage::Expired
                    | PaymentStage::Failed
                    | PaymentStage::NoCode(_)
                    | PaymentStage::Unconfirmed { .. }),
                ..
            },
            E::Intent(I::NewPaymentCode),
        ) => {
            // An order whose fate is unknown is closed (and settled) before a new code is shown.
            if let PaymentStage::Unconfirmed { out_trade_no } = stage {
                cmds.push(Command::CloseOrder { out_trade_no });
            }
            start_order(policy, visit, photo, now, cmds)
        }
        (Phase::Done { .. } | Phase::Notice { .. }, E::Intent(I::Finish)) => booth.resting_phase(),
        // Anything else changes nothing: a late device answer, a button on the wrong screen.
        (phase, _) => phase,
    }
}

fn may_exit(phase: &Phase) -> bool {
    matches!(
        phase,
        Phase::Scan { .. }
            | Phase::Confirm { .. }
            | Phase::Lighting { .. }
            | Phase::Rules { .. }
            | Phase::Seat { .. }
            | Phase::Countdown { .. }
            | Phase::AttemptShown { .. }
            | Phase::ReviewResult { .. }
            | Phase::Payment { .. }
    )
}

fn enter_seat(visit: Visit, now: Instant, cmds: &mut Vec<Command>) -> Phase {
    cmds.push(Command::Preview(true));
    cmds.push(Command::Lights(LightScene::Preview(visit.mode)));
    Phase::Seat { visit, since: now, chair: Motion::Stop }
}

fn start_order(policy: &Policy, visit: Visit, photo: PhotoId, now: Instant, cmds: &mut Vec<Command>) -> Phase {
    cmds.push(Command::CreateOrder { ticket_id: visit.ticket.id.clone(), photo, amount_fen: policy.price_fen });
    Phase::Payment { visit, since: now, photo, stage: PaymentStage::Creating }
}

#[cfg(test)]
mod tests;
