//! Every way out of a visit: the booth failing before a photo is judged (the attempt given
//! back), a screen timing out, and `end_visit` — chair stopped, preview off, lights idle, an
//! open order closed, the visit forgotten.

use super::*;

/// The visit ends because the booth failed (a capture, a device, the review). An attempt whose
/// photo was not judged yet — being taken, shown, or under review — is given back.
pub(crate) fn booth_failed(
    booth: &Booth,
    phase: Phase,
    notice: Notice,
    now: Instant,
    cmds: &mut Vec<Command>,
) -> Phase {
    let phase = match phase {
        Phase::Capturing { mut visit, since } => {
            give_back(&mut visit, cmds);
            Phase::Capturing { visit, since }
        }
        Phase::AttemptShown { mut visit, since, photo } => {
            give_back(&mut visit, cmds);
            Phase::AttemptShown { visit, since, photo }
        }
        Phase::Reviewing { mut visit, since, photo } => {
            give_back(&mut visit, cmds);
            Phase::Reviewing { visit, since, photo }
        }
        other => other,
    };
    end_visit(booth, phase, VisitOutcome::Failed, Some(notice), now, cmds)
}

fn give_back(visit: &mut Visit, cmds: &mut Vec<Command>) {
    // These phases always follow a counted attempt; nothing to give back otherwise.
    if visit.attempts_used > 0 {
        cmds.push(Command::AttemptVoided { ticket_id: visit.ticket.id.clone(), attempt: visit.attempts_used });
        visit.attempts_used -= 1;
    }
}

pub(crate) fn on_timeout(booth: &Booth, phase: Phase, now: Instant, cmds: &mut Vec<Command>) -> Phase {
    match phase {
        Phase::Countdown { mut visit, .. } => {
            visit.attempts_used += 1;
            let attempt = visit.attempts_used;
            cmds.push(Command::AttemptStarted { ticket_id: visit.ticket.id.clone(), attempt });
            cmds.push(Command::Capture { ticket_id: visit.ticket.id.clone(), attempt });
            Phase::Capturing { visit, since: now }
        }
        phase @ Phase::Capturing { .. } => booth_failed(booth, phase, Notice::CaptureFailed, now, cmds),
        // The review took too long: the booth's failure, not the graduate's.
        phase @ Phase::Reviewing { .. } => booth_failed(booth, phase, Notice::ReviewUnavailable, now, cmds),
        Phase::Payment { visit, photo, stage: PaymentStage::Waiting(order), .. } => {
            // The code has expired: close the order, and find out whether it was paid after all.
            let out_trade_no = order.out_trade_no;
            cmds.push(Command::CloseOrder { out_trade_no: out_trade_no.clone() });
            Phase::Payment { visit, since: now, photo, stage: PaymentStage::Confirming { out_trade_no } }
        }
        Phase::Payment { visit, photo, stage: PaymentStage::Confirming { out_trade_no }, .. } => {
            // No answer in time: the booth goes on asking in the background.
            Phase::Payment { visit, since: now, photo, stage: PaymentStage::Unconfirmed { out_trade_no } }
        }
        Phase::Done { .. } | Phase::Notice { .. } => booth.resting_phase(),
        other => end_visit(booth, other, VisitOutcome::Abandoned, None, now, cmds),
    }
}

/// The only way out of a visit: hardware safe, order closed, personal data dropped.
pub(crate) fn end_visit(
    booth: &Booth,
    phase: Phase,
    outcome: VisitOutcome,
    notice: Option<Notice>,
    now: Instant,
    cmds: &mut Vec<Command>,
) -> Phase {
    let (open_order, paid_photo) = match &phase {
        Phase::Payment { photo, .. } if outcome == VisitOutcome::Paid => (None, Some(*photo)),
        // An order that may still be paid is closed (and settled) when the graduate leaves.
        Phase::Payment { stage: PaymentStage::Waiting(PaymentOrder { out_trade_no, .. }), .. }
        | Phase::Payment { stage: PaymentStage::Unconfirmed { out_trade_no }, .. } => {
            (Some(out_trade_no.clone()), None)
        }
        _ => (None, None),
    };
    cmds.push(Command::Chair(Motion::Stop));
    cmds.push(Command::Preview(false));
    cmds.push(Command::Lights(LightScene::Idle));
    if let Some(out_trade_no) = open_order {
        cmds.push(Command::CloseOrder { out_trade_no });
    }
    let ticket_id = phase.into_visit().map(|v| v.ticket.id);
    cmds.push(Command::VisitEnded { ticket_id, outcome, paid_photo });
    match (outcome, notice) {
        (VisitOutcome::Paid, _) => Phase::Done { since: now },
        (_, Some(notice)) => Phase::Notice { since: now, notice },
        _ => booth.resting_phase(),
    }
}
