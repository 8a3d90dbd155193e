//! The visit, screen by screen, as a specification.

use std::time::Duration;

use super::*;

/// The Fengxian booth's rules (config/booth.toml's `[policy]`, `[timeouts]` and price).
pub(crate) fn policy() -> Policy {
    let s = Duration::from_secs;
    Policy {
        max_attempts: 3,
        glasses: GlassesPolicy::Discouraged,
        countdown: s(3),
        timeouts: Timeouts {
            scan: s(90),
            confirm: s(90),
            lighting: s(90),
            rules: s(120),
            seat: s(180),
            attempt_shown: s(90),
            review: s(20),
            review_result: s(120),
            payment: s(300),
            done: s(20),
            notice: s(15),
            capture: s(10),
            service_idle: s(300),
        },
        price_fen: 3000,
    }
}

pub(crate) fn ticket(id: &str) -> Ticket {
    Ticket {
        id: id.into(),
        name: "李明".into(),
        student_no_masked: "2022****56".into(),
        school: "上海电子信息职业技术学院".into(),
    }
}

fn pass() -> Verdict {
    Verdict { findings: vec![], scripted: false }
}

fn fail() -> Verdict {
    Verdict {
        findings: vec![Finding { code: "blurry", severity: Severity::Blocks, measured: 3.0, limit: 12.0 }],
        scripted: false,
    }
}

/// A booth being walked through a visit, keeping every command it issued.
struct Walk {
    policy: Policy,
    booth: Booth,
    now: Instant,
    cmds: Vec<Command>,
}

impl Walk {
    fn new() -> Self {
        Walk { policy: policy(), booth: Booth::default(), now: Instant(0), cmds: vec![] }
    }
    fn send(&mut self, e: Event) -> Vec<Command> {
        let (b, c) = step(&self.policy, std::mem::take(&mut self.booth), e, self.now);
        self.booth = b;
        self.cmds.extend(c.clone());
        c
    }
    fn tap(&mut self, i: Intent) -> Vec<Command> {
        self.send(Event::Intent(i))
    }
    /// Another future from this point on.
    fn clone_walk(&self) -> Walk {
        Walk { policy: self.policy.clone(), booth: self.booth.clone(), now: self.now, cmds: self.cmds.clone() }
    }
    fn wait(&mut self, d: std::time::Duration) -> Vec<Command> {
        self.now = self.now.after(d);
        self.send(Event::Tick)
    }
    fn screen(&self) -> Screen {
        view(&self.policy, &self.booth, self.now).screen
    }
    fn walk_to_seat(&mut self, used: u8) {
        self.tap(Intent::Prepare);
        self.send(Event::QrScanned("code".into()));
        self.send(Event::TicketChecked(Ok(TicketGrant {
            ticket: ticket("T1"),
            attempts_used: used,
            kept_photo: None,
        })));
        self.tap(Intent::ConfirmData);
        self.tap(Intent::ChooseLighting(LightingMode::Glasses));
        self.tap(Intent::AcceptRules);
        assert_eq!(self.screen(), Screen::Seat);
    }
    fn capture(&mut self, photo: u32) {
        self.tap(Intent::StartCapture);
        assert_eq!(self.screen(), Screen::Countdown);
        let c = self.wait(self.policy.countdown);
        assert!(c.iter().any(|c| matches!(c, Command::Capture { .. })), "{c:?}");
        self.send(Event::PhotoCaptured(Ok(PhotoId(photo))));
        assert_eq!(self.screen(), Screen::AttemptShown);
    }
    fn hardware_safe(&self) -> bool {
        let last_chair = self.cmds.iter().rev().find_map(|c| match c {
            Command::Chair(m) => Some(*m),
            _ => None,
        });
        let last_lights = self.cmds.iter().rev().find_map(|c| match c {
            Command::Lights(l) => Some(*l),
            _ => None,
        });
        matches!(last_chair, None | Some(Motion::Stop)) && matches!(last_lights, None | Some(LightScene::Idle))
    }
}

#[test]
fn a_whole_visit_from_idle_to_paid_and_back() {
    let mut w = Walk::new();
    w.walk_to_seat(0);
    w.capture(1);
    w.tap(Intent::UsePhoto);
    assert_eq!(w.screen(), Screen::Reviewing);
    w.send(Event::Reviewed { photo: PhotoId(1), verdict: pass() });
    assert_eq!(w.screen(), Screen::ReviewResult);
    let c = w.tap(Intent::GoToPayment);
    assert_eq!(c, vec![Command::CreateOrder { ticket_id: "T1".into(), photo: PhotoId(1), amount_fen: 3000 }]);
    let order = PaymentOrder {
        out_trade_no: "O1".into(),
        code_url: "weixin://x".into(),
        amount_fen: 3000,
        expires_at: w.now.after(std::time::Duration::from_secs(120)),
        simulated: true,
    };
    w.send(Event::Payment(PaymentUpdate::Created(order)));
    assert_eq!(view(&w.policy, &w.booth, w.now).payment.unwrap().stage.code(), "waiting");
    let c = w.send(Event::Payment(PaymentUpdate::Paid { out_trade_no: "O1".into() }));
    assert!(c.contains(&Command::VisitEnded {
        ticket_id: Some("T1".into()),
        outcome: VisitOutcome::Paid,
        paid_photo: Some(PhotoId(1))
    }));
    assert!(!c.iter().any(|c| matches!(c, Command::CloseOrder { .. })), "a paid order is not closed");
    assert_eq!(w.screen(), Screen::Done);
    w.wait(w.policy.timeouts.done);
    assert_eq!(w.screen(), Screen::Idle);
    assert!(w.hardware_safe());
}

#[test]
fn exit_from_the_lighting_screen_returns_to_idle_and_forgets_the_visit() {
    let mut w = Walk::new();
    w.tap(Intent::Prepare);
    w.send(Event::QrScanned("code".into()));
    w.send(Event::TicketChecked(Ok(TicketGrant { ticket: ticket("T1"), attempts_used: 0, kept_photo: None })));
    assert_eq!(view(&w.policy, &w.booth, w.now).name, "李明");
    w.tap(Intent::ConfirmData);
    assert_eq!(w.screen(), Screen::Lighting);
    let c = w.tap(Intent::Exit);
    assert!(c.contains(&Command::VisitEnded {
        ticket_id: Some("T1".into()),
        outcome: VisitOutcome::Exited,
        paid_photo: None
    }));
    assert_eq!(w.screen(), Screen::Idle);
    assert_eq!(w.booth.phase, Phase::Idle, "no personal data stays in the state");
    assert!(w.hardware_safe());
}

#[test]
fn an_abandoned_rules_screen_times_out_to_idle() {
    let mut w = Walk::new();
    w.tap(Intent::Prepare);
    w.send(Event::QrScanned("code".into()));
    w.send(Event::TicketChecked(Ok(TicketGrant { ticket: ticket("T1"), attempts_used: 0, kept_photo: None })));
    w.tap(Intent::ConfirmData);
    w.tap(Intent::ChooseLighting(LightingMode::NoGlasses));
    assert_eq!(w.screen(), Screen::Rules);
    w.wait(w.policy.timeouts.rules - std::time::Duration::from_millis(1));
    assert_eq!(w.screen(), Screen::Rules, "not yet");
    let c = w.wait(std::time::Duration::from_millis(1));
    assert_eq!(w.screen(), Screen::Idle);
    assert!(c.iter().any(|c| matches!(c, Command::VisitEnded { outcome: VisitOutcome::Abandoned, .. })));
}

#[test]
fn a_refused_code_is_explained_and_the_graduate_may_scan_again() {
    let mut w = Walk::new();
    w.tap(Intent::Prepare);
    w.send(Event::QrScanned("chsi".into()));
    w.send(Event::TicketChecked(Err(TicketRefusal::ChsiCaptureCode)));
    let v = view(&w.policy, &w.booth, w.now);
    assert_eq!((v.screen, v.refusal), (Screen::Scan, Some(TicketRefusal::ChsiCaptureCode)));
    let c = w.send(Event::QrScanned("good".into()));
    assert_eq!(c, vec![Command::CheckTicket("good".into())]);
}

#[test]
fn a_ticket_with_all_attempts_used_is_refused() {
    let mut w = Walk::new();
    w.send(Event::QrScanned("code".into()));
    w.send(Event::TicketChecked(Ok(TicketGrant { ticket: ticket("T1"), attempts_used: 3, kept_photo: None })));
    assert_eq!(view(&w.policy, &w.booth, w.now).refusal, Some(TicketRefusal::NoAttemptsLeft));
}

#[test]
fn re_scanning_a_ticket_keeps_its_used_attempts() {
    let mut w = Walk::new();
    w.walk_to_seat(2);
    w.capture(7);
    let v = view(&w.policy, &w.booth, w.now);
    assert_eq!(v.attempts_used, 3);
    assert!(!v.can_retake());
    w.tap(Intent::Retake);
    assert_eq!(w.screen(), Screen::AttemptShown, "no fourth attempt");
}

#[test]
fn the_third_failed_review_offers_no_retake() {
    let mut w = Walk::new();
    w.walk_to_seat(0);
    for photo in 1..=3 {
        w.capture(photo);
        w.tap(Intent::UsePhoto);
        w.send(Event::Reviewed { photo: PhotoId(photo), verdict: fail() });
        assert_eq!(w.screen(), Screen::ReviewResult);
        w.tap(Intent::GoToPayment);
        assert_eq!(w.screen(), Screen::ReviewResult, "a failed photo cannot be paid for");
        w.tap(Intent::Retake);
    }
    assert_eq!(w.screen(), Screen::ReviewResult);
    assert_eq!(w.cmds.iter().filter(|c| matches!(c, Command::Capture { .. })).count(), 3);
}

#[test]
fn a_failed_capture_gives_the_attempt_back_and_ends_the_visit_with_a_notice() {
    let mut w = Walk::new();
    w.walk_to_seat(0);
    w.tap(Intent::StartCapture);
    w.wait(w.policy.countdown);
    let c = w.send(Event::PhotoCaptured(Err("camera gone".into())));
    assert!(c.contains(&Command::AttemptVoided { ticket_id: "T1".into(), attempt: 1 }));
    assert_eq!(view(&w.policy, &w.booth, w.now).notice, Some(Notice::CaptureFailed));
    assert!(w.hardware_safe());
}

/// A walk to the payment screen with order "O1" on show for 60 s.
fn waiting_for_payment() -> Walk {
    let mut w = Walk::new();
    w.walk_to_seat(0);
    w.capture(1);
    w.tap(Intent::UsePhoto);
    w.send(Event::Reviewed { photo: PhotoId(1), verdict: pass() });
    w.tap(Intent::GoToPayment);
    let order = PaymentOrder {
        out_trade_no: "O1".into(),
        code_url: "u".into(),
        amount_fen: 3000,
        expires_at: w.now.after(std::time::Duration::from_secs(60)),
        simulated: true,
    };
    w.send(Event::Payment(PaymentUpdate::Created(order)));
    w
}

fn stage(w: &Walk) -> &'static str {
    view(&w.policy, &w.booth, w.now).payment.map_or("-", |p| p.stage.code())
}

#[test]
fn an_expired_payment_code_is_closed_confirmed_unpaid_and_a_fresh_one_can_be_asked_for() {
    let mut w = waiting_for_payment();
    let c = w.wait(std::time::Duration::from_secs(60));
    assert_eq!(c, vec![Command::CloseOrder { out_trade_no: "O1".into() }]);
    assert_eq!(stage(&w), "confirming", "no fresh code before the old one is known unpaid");
    assert!(w.tap(Intent::NewPaymentCode).is_empty());
    // An answer about another order changes nothing.
    w.send(Event::Payment(PaymentUpdate::Closed { out_trade_no: "O0".into() }));
    assert_eq!(stage(&w), "confirming");
    w.send(Event::Payment(PaymentUpdate::Closed { out_trade_no: "O1".into() }));
    assert_eq!(stage(&w), "expired");
    let c = w.tap(Intent::NewPaymentCode);
    assert!(matches!(c[..], [Command::CreateOrder { .. }]));
}

#[test]
fn a_payment_made_at_the_last_second_ends_the_visit_paid() {
    let mut w = waiting_for_payment();
    w.wait(std::time::Duration::from_secs(60));
    let c = w.send(Event::Payment(PaymentUpdate::Paid { out_trade_no: "O1".into() }));
    assert_eq!(w.screen(), Screen::Done);
    assert!(
        c.iter().any(|c| matches!(c, Command::VisitEnded { outcome: VisitOutcome::Paid, paid_photo: Some(_), .. }))
    );
    assert!(!c.iter().any(|c| matches!(c, Command::CloseOrder { .. })), "a paid order is not closed");
}

#[test]
fn an_order_whose_fate_cannot_be_told_says_so_and_is_settled_when_the_graduate_leaves() {
    let mut w = waiting_for_payment();
    w.wait(std::time::Duration::from_secs(60));
    w.wait(CONFIRMING);
    assert_eq!(stage(&w), "unconfirmed", "no answer in time");
    // The background settling may still find it paid while the graduate is there.
    let mut paid_late = w.clone_walk();
    paid_late.send(Event::Payment(PaymentUpdate::Paid { out_trade_no: "O1".into() }));
    assert_eq!(paid_late.screen(), Screen::Done);
    let c = w.tap(Intent::Exit);
    assert!(c.contains(&Command::CloseOrder { out_trade_no: "O1".into() }));
    assert!(w.hardware_safe());
}

#[test]
fn a_forged_or_contradicting_answer_while_waiting_shows_no_success() {
    let mut w = waiting_for_payment();
    let c = w.send(Event::Payment(PaymentUpdate::Unconfirmed { out_trade_no: "O1".into() }));
    assert!(c.is_empty());
    assert_eq!((w.screen(), stage(&w)), (Screen::Payment, "unconfirmed"));
    // A fresh code may be asked for; the old order is closed and settled first.
    let c = w.tap(Intent::NewPaymentCode);
    assert!(
        matches!(&c[..], [Command::CloseOrder { out_trade_no }, Command::CreateOrder { .. }] if out_trade_no == "O1"),
        "{c:?}"
    );
}

#[test]
fn a_camera_fault_mid_visit_ends_it_and_keeps_the_booth_out_of_service_until_restored() {
    let mut w = Walk::new();
    w.walk_to_seat(0);
    w.send(Event::Fault(Part::Device(DeviceKind::Camera)));
    assert_eq!(w.screen(), Screen::Notice);
    assert!(w.hardware_safe());
    w.wait(w.policy.timeouts.notice);
    assert_eq!(w.screen(), Screen::OutOfService);
    w.tap(Intent::Prepare);
    assert_eq!(w.screen(), Screen::OutOfService);
    w.send(Event::Restored(Part::Device(DeviceKind::Camera)));
    assert_eq!(w.screen(), Screen::Idle);
}

#[test]
fn closing_time_lets_the_graduate_inside_finish() {
    let mut w = Walk::new();
    w.walk_to_seat(0);
    w.send(Event::Hours(Some(Closed::OutsideHours)));
    assert_eq!(w.screen(), Screen::Seat);
    w.tap(Intent::Exit);
    assert_eq!(w.screen(), Screen::OutOfService);
    w.send(Event::Hours(None));
    assert_eq!(w.screen(), Screen::Idle);
}

#[test]
fn the_chair_moves_only_on_the_seat_screen() {
    let mut w = Walk::new();
    w.tap(Intent::Prepare);
    assert!(w.send(Event::SeatButton(SeatButton::UpPressed)).is_empty());
    w.walk_to_seat_from_scan();
    assert_eq!(w.send(Event::SeatButton(SeatButton::UpPressed)), vec![Command::Chair(Motion::Up)]);
    let c = w.tap(Intent::StartCapture);
    assert_eq!(c[0], Command::Chair(Motion::Stop), "leaving the seat screen stops the motor first");
}

#[test]
fn where_glasses_are_forbidden_there_is_no_lighting_choice() {
    let mut w = Walk::new();
    w.policy.glasses = GlassesPolicy::Forbidden;
    w.send(Event::QrScanned("code".into()));
    w.send(Event::TicketChecked(Ok(TicketGrant { ticket: ticket("T1"), attempts_used: 0, kept_photo: None })));
    w.tap(Intent::ConfirmData);
    assert_eq!(w.screen(), Screen::Rules);
    assert_eq!(w.booth.phase.visit().unwrap().mode, LightingMode::NoGlasses);
}

#[test]
fn there_is_no_exit_while_the_photo_is_reviewed() {
    let mut w = Walk::new();
    w.walk_to_seat(0);
    w.capture(1);
    w.tap(Intent::UsePhoto);
    assert!(w.tap(Intent::Exit).is_empty());
    assert_eq!(w.screen(), Screen::Reviewing);
    let c = w.wait(w.policy.timeouts.review);
    assert_eq!(view(&w.policy, &w.booth, w.now).notice, Some(Notice::ReviewUnavailable));
    // Taking too long is the booth's failure: the attempt is given back.
    assert!(c.contains(&Command::AttemptVoided { ticket_id: "T1".into(), attempt: 1 }), "{c:?}");
}

/// Through a capture to the review of attempt 1.
fn under_review() -> Walk {
    let mut w = Walk::new();
    w.walk_to_seat(0);
    w.capture(1);
    w.tap(Intent::UsePhoto);
    assert_eq!(w.screen(), Screen::Reviewing);
    w
}

#[test]
fn a_review_the_booth_could_not_finish_gives_the_attempt_back() {
    let mut w = under_review();
    let c = w.send(Event::ReviewFailed { photo: PhotoId(1) });
    assert!(c.contains(&Command::AttemptVoided { ticket_id: "T1".into(), attempt: 1 }), "{c:?}");
    assert_eq!(view(&w.policy, &w.booth, w.now).notice, Some(Notice::ReviewUnavailable));
    assert!(w.hardware_safe());
}

#[test]
fn the_photo_review_failing_takes_the_booth_out_of_service_by_name_and_gives_the_attempt_back() {
    let mut w = under_review();
    let c = w.send(Event::Fault(Part::Review));
    assert!(c.contains(&Command::AttemptVoided { ticket_id: "T1".into(), attempt: 1 }), "{c:?}");
    let v = view(&w.policy, &w.booth, w.now);
    assert_eq!((v.screen, v.notice), (Screen::Notice, Some(Notice::Fault(Part::Review))));
    w.tap(Intent::Finish);
    let v = view(&w.policy, &w.booth, w.now);
    assert_eq!((v.screen, v.faults), (Screen::OutOfService, vec![Part::Review]));
    // No visit while photos cannot be judged: a code goes to the technicians' check only.
    let c = w.send(Event::QrScanned("code".into()));
    assert_eq!(c, vec![Command::CheckServiceCode("code".into())]);
    w.send(Event::ServiceChecked(Err(ServiceRefusal::NotAServiceCode)));
    w.tap(Intent::Exit);
    w.send(Event::Restored(Part::Review));
    assert_eq!(w.screen(), Screen::Idle);
}

#[test]
fn a_device_failing_before_the_photo_is_judged_gives_the_attempt_back_but_not_after() {
    let mut shown = Walk::new();
    shown.walk_to_seat(0);
    shown.capture(1);
    assert_eq!(shown.screen(), Screen::AttemptShown);
    let c = shown.send(Event::Fault(Part::Device(DeviceKind::Lights)));
    assert!(c.contains(&Command::AttemptVoided { ticket_id: "T1".into(), attempt: 1 }), "{c:?}");
    // Once judged, the attempt was used: a fault on the result screen ends the visit, no more.
    let mut judged = under_review();
    judged.send(Event::Reviewed { photo: PhotoId(1), verdict: Verdict { findings: vec![], scripted: false } });
    assert_eq!(judged.screen(), Screen::ReviewResult);
    let c = judged.send(Event::Fault(Part::Device(DeviceKind::Chair)));
    assert!(!c.iter().any(|c| matches!(c, Command::AttemptVoided { .. })), "{c:?}");
    assert_eq!(judged.screen(), Screen::Notice);
}

impl Walk {
    fn walk_to_seat_from_scan(&mut self) {
        self.send(Event::QrScanned("code".into()));
        self.send(Event::TicketChecked(Ok(TicketGrant { ticket: ticket("T1"), attempts_used: 0, kept_photo: None })));
        self.tap(Intent::ConfirmData);
        self.tap(Intent::ChooseLighting(LightingMode::NoGlasses));
        self.tap(Intent::AcceptRules);
    }
}

#[test]
fn a_kept_photo_can_be_paid_for_without_a_retake_even_with_no_attempt_left() {
    let mut w = Walk::new();
    w.tap(Intent::Prepare);
    w.send(Event::QrScanned("code".into()));
    let grant = TicketGrant { ticket: ticket("T1"), attempts_used: 3, kept_photo: Some(PhotoId(7)) };
    w.send(Event::TicketChecked(Ok(grant)));
    assert_eq!(w.screen(), Screen::Confirm, "not refused: there is a photo to pay for");
    assert!(view(&w.policy, &w.booth, w.now).kept_photo);
    assert!(w.tap(Intent::ConfirmData).is_empty(), "no attempt left for a new photo");
    assert_eq!(w.screen(), Screen::Confirm);
    let c = w.tap(Intent::PayKeptPhoto);
    assert_eq!(c, vec![Command::CreateOrder { ticket_id: "T1".into(), photo: PhotoId(7), amount_fen: 3000 }]);
    assert_eq!(view(&w.policy, &w.booth, w.now).photo, Some(PhotoId(7)), "the kept photo is what is paid for");
}

#[test]
fn with_attempts_left_a_kept_photo_or_a_new_one_may_be_chosen_and_without_one_nothing_is_paid_from_confirm() {
    let mut w = Walk::new();
    w.tap(Intent::Prepare);
    w.send(Event::QrScanned("code".into()));
    let grant = TicketGrant { ticket: ticket("T1"), attempts_used: 1, kept_photo: Some(PhotoId(7)) };
    w.send(Event::TicketChecked(Ok(grant)));
    w.tap(Intent::ConfirmData);
    assert_eq!(w.screen(), Screen::Lighting, "a new photo instead");
    let mut plain = Walk::new();
    plain.tap(Intent::Prepare);
    plain.send(Event::QrScanned("code".into()));
    plain.send(Event::TicketChecked(Ok(TicketGrant { ticket: ticket("T1"), attempts_used: 0, kept_photo: None })));
    assert!(plain.tap(Intent::PayKeptPhoto).is_empty());
    assert_eq!(plain.screen(), Screen::Confirm);
}
