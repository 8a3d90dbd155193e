//! What the runtime and the view ask of the booth's state: how codes are read now, the
//! payment code on show, each screen's timeout, where the chair may move.

use super::*;

/// How the camera-based QR reader should work now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeReading {
    Off,
    /// Idle: a code held up starts the visit, but nobody is shown the camera's picture.
    Unseen,
    /// The scan screen: the graduate sees what the camera sees, to aim the code.
    Shown,
}

/// The booth reads codes while it waits for one: idle or out of service (a technician's code),
/// the scan screen or the service code screen not checking one, the mode's scanner page.
pub fn code_reading(booth: &Booth) -> CodeReading {
    match &booth.phase {
        Phase::Idle | Phase::OutOfService => CodeReading::Unseen,
        Phase::Scan { checking: false, .. } | Phase::ServiceEntry { checking: false, .. } => CodeReading::Shown,
        Phase::Service(s) if s.page == ServicePage::Scanner => CodeReading::Shown,
        _ => CodeReading::Off,
    }
}

/// Where the chair may move: the seat screen, or the mode's chair page.
pub(crate) fn chair_may_move(phase: &Phase) -> bool {
    match phase {
        Phase::Seat { .. } => true,
        Phase::Service(s) => s.page == ServicePage::Chair,
        _ => false,
    }
}

/// The payment code on screen, if one is.
pub fn payment_code(booth: &Booth) -> Option<&str> {
    match &booth.phase {
        Phase::Payment { stage: PaymentStage::Waiting(order), .. } => Some(&order.code_url),
        _ => None,
    }
}

/// How long the booth waits for the answer about an expired code before it says it cannot tell.
pub const CONFIRMING: std::time::Duration = std::time::Duration::from_secs(45);

/// The timeout of the screen `phase` shows, if it has one.
pub fn timeout_of(policy: &Policy, phase: &Phase) -> Option<(Instant, std::time::Duration)> {
    let t = &policy.timeouts;
    let (since, d) = match phase {
        Phase::Idle | Phase::OutOfService | Phase::Service(_) => return None,
        Phase::Desk(d) => (&d.last_touch, crate::desk::DESK_IDLE),
        Phase::ServiceEntry { since, .. } => (since, service::ENTRY_TIMEOUT),
        Phase::ServiceLeaving { since, .. } => (since, service::LEAVING_TIMEOUT),
        Phase::Scan { since, .. } => (since, t.scan),
        Phase::Confirm { since, .. } => (since, t.confirm),
        Phase::Lighting { since, .. } => (since, t.lighting),
        Phase::Rules { since, .. } => (since, t.rules),
        Phase::Seat { since, .. } => (since, t.seat),
        Phase::Countdown { since, .. } => (since, policy.countdown),
        Phase::Capturing { since, .. } => (since, t.capture),
        Phase::AttemptShown { since, .. } => (since, t.attempt_shown),
        Phase::Reviewing { since, .. } => (since, t.review),
        Phase::ReviewResult { since, .. } => (since, t.review_result),
        Phase::Payment { since, stage: PaymentStage::Waiting(order), .. } => {
            return Some((*since, order.expires_at.since(*since)));
        }
        Phase::Payment { since, stage: PaymentStage::Confirming { .. }, .. } => (since, CONFIRMING),
        Phase::Payment { since, .. } => (since, t.payment),
        Phase::Done { since } => (since, t.done),
        Phase::Notice { since, .. } => (since, t.notice),
    };
    Some((*since, d))
}

pub(crate) fn timed_out(policy: &Policy, phase: &Phase, now: Instant) -> bool {
    timeout_of(policy, phase).is_some_and(|(since, d)| now >= since.after(d))
}
