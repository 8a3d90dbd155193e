//! Properties of the visit's state machine over random event sequences: whatever a graduate,
//! the devices and the services do, and in whatever order, these hold.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use gradbooth::config::{Closed, Settings};
use gradbooth::visit::*;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Act {
    Tap(u8),
    Scan,
    TicketOk(u8),
    TicketRefused,
    Captured(bool),
    Reviewed(bool),
    /// The booth could not finish the review of the photo.
    ReviewFailed,
    OrderCreated,
    Paid,
    PaymentDown(u8),
    OrderClosed,
    OrderUnconfirmed,
    Seat(u8),
    Fault(u8),
    Restore(u8),
    Hours(bool),
    Wait(u32),
    /// A cooperating graduate (and devices): whatever moves the current screen forward.
    Forward,
    /// A technician's service code held up.
    ServiceScan,
    /// Its check: a pass, or a refusal (which counts towards the lock-out).
    ServiceOk,
    ServiceRefused(u8),
    /// The service key switch.
    Key(bool),
    /// A technician's touch in the mode (`SERVICE_INTENTS`).
    ServiceTap(u8),
    /// A self-test finished: the exit one or the page's, passed or not.
    SelfTested {
        on_exit: bool,
        passed: bool,
    },
    /// An operator's stick: in, out, read, applied from, exported to (`STICK_EVENTS`).
    Stick(u8),
    /// An operator's touch at the desk: apply, export, close, touch.
    DeskTap(u8),
}

fn act() -> impl Strategy<Value = Act> {
    prop_oneof![
        6 => (0u8..16).prop_map(Act::Tap),
        2 => Just(Act::Scan),
        2 => (0u8..3).prop_map(Act::TicketOk),
        1 => Just(Act::TicketRefused),
        2 => any::<bool>().prop_map(Act::Captured),
        2 => any::<bool>().prop_map(Act::Reviewed),
        1 => Just(Act::ReviewFailed),
        1 => Just(Act::OrderCreated),
        1 => Just(Act::Paid),
        1 => (0u8..4).prop_map(Act::PaymentDown),
        1 => Just(Act::OrderClosed),
        1 => Just(Act::OrderUnconfirmed),
        1 => (0u8..3).prop_map(Act::Seat),
        1 => (0u8..5).prop_map(Act::Fault),
        1 => (0u8..5).prop_map(Act::Restore),
        1 => any::<bool>().prop_map(Act::Hours),
        3 => (0u32..200_000).prop_map(Act::Wait),
        10 => Just(Act::Forward),
        1 => Just(Act::ServiceScan),
        1 => Just(Act::ServiceOk),
        1 => (0u8..4).prop_map(Act::ServiceRefused),
        1 => any::<bool>().prop_map(Act::Key),
        4 => (0u8..17).prop_map(Act::ServiceTap),
        1 => (any::<bool>(), any::<bool>()).prop_map(|(on_exit, passed)| Act::SelfTested { on_exit, passed }),
        1 => (0u8..7).prop_map(Act::Stick),
        2 => (0u8..4).prop_map(Act::DeskTap),
    ]
}

fn stick_event(i: u8) -> StickEvent {
    match i {
        0 => StickEvent::Inserted,
        1 => StickEvent::Removed,
        2 => StickEvent::Read { applicable: Some(7) },
        3 => StickEvent::Read { applicable: None },
        4 => StickEvent::Applied(Ok(7)),
        5 => StickEvent::ExportProgress { done: 1, total: 4 },
        _ => StickEvent::Exported(Ok("gradbooth/export/x".into())),
    }
}

const DESK_INTENTS: [DeskIntent; 4] = [DeskIntent::Apply, DeskIntent::Export, DeskIntent::Close, DeskIntent::Touch];

fn service_intent(i: u8) -> ServiceIntent {
    match i {
        0..=8 => ServiceIntent::Open(ServicePage::ALL[i as usize]),
        9 => ServiceIntent::ChairHold(Motion::Up),
        10 => ServiceIntent::ChairHold(Motion::Down),
        11 => ServiceIntent::ChairRelease,
        12 => ServiceIntent::Touch,
        13 => ServiceIntent::Act(ServiceAction::SelfTest),
        14 => ServiceIntent::Act(ServiceAction::Light { channel: "fill".into(), level: 80 }),
        15 => ServiceIntent::Exit,
        _ => ServiceIntent::Act(ServiceAction::TestLamps),
    }
}

/// Where the chair may move: the seat screen, or the diagnostics mode's chair page.
fn chair_may_move(phase: &Phase) -> bool {
    match phase {
        Phase::Seat { .. } => true,
        Phase::Service(s) => s.page == ServicePage::Chair,
        _ => false,
    }
}

fn in_mode(phase: &Phase) -> bool {
    matches!(phase, Phase::ServiceEntry { .. } | Phase::Service(_) | Phase::ServiceLeaving { .. })
}

const INTENTS: [Intent; 16] = [
    Intent::Prepare,
    Intent::Exit,
    Intent::ConfirmData,
    Intent::ChooseLighting(LightingMode::Glasses),
    Intent::ChooseLighting(LightingMode::NoGlasses),
    Intent::AcceptRules,
    Intent::ChairUp,
    Intent::ChairDown,
    Intent::ChairStop,
    Intent::StartCapture,
    Intent::UsePhoto,
    Intent::Retake,
    Intent::GoToPayment,
    Intent::NewPaymentCode,
    Intent::Finish,
    Intent::PayKeptPhoto,
];

/// The world around the machine: it remembers what a journal would (attempts per ticket)
/// and what the reviewer said, and checks the machine against it.
struct World {
    policy: Policy,
    booth: Booth,
    now: Instant,
    attempts: BTreeMap<String, u8>,
    captures: BTreeMap<String, u32>,
    passed: BTreeSet<PhotoId>,
    next_photo: u32,
    orders: u32,
    last_chair: Motion,
    last_lights: LightScene,
    preview: bool,
    /// The camera's exposure and white balance are automatic (idle lights, or the mode ended).
    camera_auto: bool,
    /// An order whose code was shown and that was neither paid nor closed since.
    payable: Option<String>,
    /// Per ticket: its last photo that passed review, until paid for.
    kept: BTreeMap<String, PhotoId>,
}

impl World {
    fn new() -> Self {
        World {
            policy: Settings::parse(include_str!("../config/booth.toml")).unwrap().policy,
            booth: Booth::default(),
            now: Instant(0),
            attempts: BTreeMap::new(),
            captures: BTreeMap::new(),
            passed: BTreeSet::new(),
            next_photo: 1,
            orders: 0,
            last_chair: Motion::Stop,
            last_lights: LightScene::Idle,
            preview: false,
            camera_auto: true,
            payable: None,
            kept: BTreeMap::new(),
        }
    }

    fn event(&mut self, a: &Act) -> Event {
        let ticket = |i: u8| Ticket {
            id: format!("T{i}"),
            name: "某某".into(),
            student_no_masked: "2022****01".into(),
            school: "S".into(),
        };
        match *a {
            Act::Tap(i) => Event::Intent(INTENTS[i as usize]),
            Act::Scan => Event::QrScanned("code".into()),
            Act::TicketOk(i) => {
                let used = self.attempts.get(&format!("T{i}")).copied().unwrap_or(0);
                // The journal offers the ticket's last passing photo that was never paid for.
                let kept_photo = self.kept.get(&format!("T{i}")).copied();
                Event::TicketChecked(Ok(TicketGrant { ticket: ticket(i), attempts_used: used, kept_photo }))
            }
            Act::TicketRefused => Event::TicketChecked(Err(TicketRefusal::BadSignature)),
            Act::Captured(true) => {
                self.next_photo += 1;
                Event::PhotoCaptured(Ok(PhotoId(self.next_photo)))
            }
            Act::Captured(false) => Event::PhotoCaptured(Err("gone".into())),
            Act::Reviewed(pass) => {
                let photo = match &self.booth.phase {
                    Phase::Reviewing { photo, .. } => *photo,
                    _ => PhotoId(self.next_photo),
                };
                if pass {
                    self.passed.insert(photo);
                    if let Phase::Reviewing { visit, .. } = &self.booth.phase {
                        self.kept.insert(visit.ticket.id.clone(), photo);
                    }
                }
                let findings = if pass {
                    vec![]
                } else {
                    vec![Finding { code: "blurry", severity: Severity::Blocks, measured: 1.0, limit: 2.0 }]
                };
                Event::Reviewed { photo, verdict: Verdict { findings, scripted: false } }
            }
            Act::ReviewFailed => Event::ReviewFailed {
                photo: match &self.booth.phase {
                    Phase::Reviewing { photo, .. } => *photo,
                    _ => PhotoId(self.next_photo),
                },
            },
            Act::OrderCreated => {
                self.orders += 1;
                Event::Payment(PaymentUpdate::Created(PaymentOrder {
                    out_trade_no: format!("O{}", self.orders),
                    code_url: "u".into(),
                    amount_fen: 3000,
                    expires_at: self.now.after(Duration::from_secs(300)),
                    simulated: true,
                }))
            }
            Act::Paid => Event::Payment(PaymentUpdate::Paid { out_trade_no: format!("O{}", self.orders) }),
            Act::PaymentDown(why) => Event::Payment(PaymentUpdate::NoCode(
                [NoCode::Unreachable, NoCode::Refused, NoCode::NotRecorded, NoCode::EarlierUnsettled][why as usize],
            )),
            Act::OrderClosed => Event::Payment(PaymentUpdate::Closed { out_trade_no: format!("O{}", self.orders) }),
            Act::OrderUnconfirmed => {
                Event::Payment(PaymentUpdate::Unconfirmed { out_trade_no: format!("O{}", self.orders) })
            }
            Act::Seat(i) => {
                Event::SeatButton([SeatButton::UpPressed, SeatButton::DownPressed, SeatButton::Released][i as usize])
            }
            Act::Fault(p) => Event::Fault(Part::ALL[p as usize]),
            Act::Restore(p) => Event::Restored(Part::ALL[p as usize]),
            Act::Hours(open) => Event::Hours((!open).then_some(Closed::OutsideHours)),
            Act::Forward => {
                let next = match &self.booth.phase {
                    Phase::Idle | Phase::OutOfService => Act::Tap(0),
                    Phase::Scan { checking: false, .. } => Act::Scan,
                    Phase::Scan { checking: true, .. } => Act::TicketOk(0),
                    Phase::Confirm { .. } => Act::Tap(2),
                    Phase::Lighting { .. } => Act::Tap(4),
                    Phase::Rules { .. } => Act::Tap(5),
                    Phase::Seat { .. } => Act::Tap(9),
                    Phase::Countdown { .. } => Act::Wait(self.policy.countdown.as_millis() as u32),
                    Phase::Capturing { .. } => Act::Captured(true),
                    Phase::AttemptShown { .. } => Act::Tap(10),
                    Phase::Reviewing { .. } => Act::Reviewed(self.next_photo.is_multiple_of(2)),
                    Phase::ReviewResult { verdict, .. } => Act::Tap(if verdict.passed() { 12 } else { 11 }),
                    Phase::Payment { stage: PaymentStage::Creating, .. } => Act::OrderCreated,
                    Phase::Payment { stage: PaymentStage::Waiting(_), .. } => Act::Paid,
                    Phase::Payment { .. } => Act::Tap(13),
                    Phase::Done { .. } | Phase::Notice { .. } => Act::Tap(14),
                    Phase::ServiceEntry { checking: true, .. } => Act::ServiceOk,
                    Phase::ServiceEntry { checking: false, .. } => Act::Tap(1),
                    Phase::Service(_) => Act::ServiceTap(15),
                    Phase::ServiceLeaving { .. } => Act::SelfTested { on_exit: true, passed: true },
                    Phase::Desk(d) => match d.stage {
                        DeskStage::Reading => Act::Stick(3),
                        DeskStage::Applying { .. } => Act::Stick(4),
                        DeskStage::Exporting { .. } => Act::Stick(6),
                        _ => Act::DeskTap(2),
                    },
                };
                self.event(&next)
            }
            Act::Wait(ms) => {
                self.now = self.now.after(Duration::from_millis(ms as u64));
                Event::Tick
            }
            Act::ServiceScan => Event::QrScanned("GBS1:CODE".into()),
            Act::ServiceOk => Event::ServiceChecked(Ok(ServicePass {
                technician: "T-1".into(),
                code_id: "00".into(),
                expires_at: self.now.after(Duration::from_secs(3600)),
            })),
            Act::ServiceRefused(r) => Event::ServiceChecked(Err([
                ServiceRefusal::BadSignature,
                ServiceRefusal::Expired,
                ServiceRefusal::Revoked,
                ServiceRefusal::GraduateTicket,
            ][r as usize])),
            Act::Key(on) => Event::KeySwitch(on),
            Act::ServiceTap(i) => Event::Service(service_intent(i)),
            Act::SelfTested { on_exit, passed } => Event::SelfTested(SelfTestOutcome {
                failed: if passed { vec![] } else { vec!["lights.fill".into()] },
                on_exit,
            }),
            Act::Stick(i) => Event::Stick(stick_event(i)),
            Act::DeskTap(i) => Event::Desk(DESK_INTENTS[i as usize]),
        }
    }

    fn step(&mut self, e: Event) -> Result<(), TestCaseError> {
        let was_in_visit = self.booth.phase.in_visit();
        let was_in_mode = matches!(self.booth.phase, Phase::Service(_));
        // A visit under way: a ticket accepted, or one being checked.
        let visit_under_way =
            self.booth.phase.visit().is_some() || matches!(self.booth.phase, Phase::Scan { checking: true, .. });
        let was_resting_or_mode = in_mode(&self.booth.phase)
            || matches!(self.booth.phase, Phase::Idle | Phase::OutOfService | Phase::Scan { checking: false, .. });
        // Only an attempt whose photo is not judged yet may be given back.
        let unjudged =
            matches!(self.booth.phase, Phase::Capturing { .. } | Phase::AttemptShown { .. } | Phase::Reviewing { .. });
        // The service says the order is closed: nobody can pay it any more.
        if let Event::Payment(PaymentUpdate::Closed { out_trade_no }) = &e
            && self.payable.as_ref() == Some(out_trade_no)
        {
            self.payable = None;
        }
        let (booth, cmds) = step(&self.policy, std::mem::take(&mut self.booth), e, self.now);
        self.booth = booth;
        for c in &cmds {
            match c {
                Command::Chair(m) => self.last_chair = *m,
                Command::Lights(l) => {
                    self.last_lights = *l;
                    self.camera_auto = *l == LightScene::Idle;
                }
                Command::ServiceEnded => self.camera_auto = true,
                // The bench sets the lights (and, testing lamps, the camera) its own way.
                Command::Service(ServiceAction::Light { .. } | ServiceAction::Scene(_) | ServiceAction::TestLamps) => {
                    self.last_lights = LightScene::Capture(LightingMode::NoGlasses);
                    self.camera_auto = false;
                }
                Command::CheckTicket(_) => {
                    prop_assert!(!in_mode(&self.booth.phase), "a ticket taken in the mode: {:?}", self.booth.phase);
                    prop_assert!(!matches!(self.booth.phase, Phase::Desk(_)), "a ticket taken at the operators' desk");
                }
                // A stick is read, applied from or exported to only at the desk, never in a visit:
                // a visit under way has ended (earlier in the same step) first.
                Command::ReadStick | Command::ApplyBundle { .. } | Command::ExportToStick => {
                    let ended_first =
                        cmds.iter().take_while(|x| *x != c).any(|x| matches!(x, Command::VisitEnded { .. }));
                    prop_assert!(!visit_under_way || ended_first, "{c:?} during a visit: {cmds:?}");
                    prop_assert!(matches!(self.booth.phase, Phase::Desk(_)), "{c:?} away from the desk");
                }
                Command::Preview(p) => self.preview = *p,
                Command::AttemptStarted { ticket_id, attempt } => {
                    self.attempts.insert(ticket_id.clone(), *attempt);
                    *self.captures.entry(ticket_id.clone()).or_default() += 1;
                }
                Command::AttemptVoided { ticket_id, attempt } => {
                    prop_assert!(unjudged, "attempt {attempt} given back from {:?}", self.booth.phase);
                    self.attempts.insert(ticket_id.clone(), attempt - 1);
                    *self.captures.entry(ticket_id.clone()).or_default() -= 1;
                }
                Command::CloseOrder { out_trade_no } if self.payable.as_ref() == Some(out_trade_no) => {
                    self.payable = None;
                }
                Command::VisitEnded { outcome: VisitOutcome::Paid, ticket_id, .. } => {
                    self.payable = None;
                    if let Some(t) = ticket_id {
                        self.kept.remove(t);
                    }
                }
                _ => {}
            }
        }
        if let Phase::Payment { stage: PaymentStage::Waiting(order), .. } = &self.booth.phase {
            prop_assert!(
                self.payable.as_ref().is_none_or(|p| *p == order.out_trade_no),
                "a second code shown while {:?} could still be paid",
                self.payable
            );
            self.payable = Some(order.out_trade_no.clone());
        }
        for (t, n) in &self.captures {
            prop_assert!(*n <= self.policy.max_attempts as u32, "ticket {t} got {n} counted captures");
        }
        if let Phase::Payment { photo, .. } = &self.booth.phase {
            prop_assert!(self.passed.contains(photo), "payment shown for a photo that did not pass review");
        }
        let resting =
            matches!(self.booth.phase, Phase::Idle | Phase::OutOfService | Phase::Done { .. } | Phase::Notice { .. });
        if was_in_visit && resting {
            prop_assert_eq!(self.last_chair, Motion::Stop, "chair left running after the visit");
            prop_assert_eq!(self.last_lights, LightScene::Idle, "lights not idle after the visit");
            prop_assert!(!self.preview, "camera preview left on after the visit");
            prop_assert_eq!(&self.payable, &None, "an order was left payable after the visit");
        }
        if !chair_may_move(&self.booth.phase) {
            prop_assert_eq!(
                self.last_chair,
                Motion::Stop,
                "the chair moves only on the seat screen or the mode's chair page"
            );
        }
        if in_mode(&self.booth.phase) {
            prop_assert!(!visit_under_way, "the mode was entered during a visit");
            prop_assert!(was_resting_or_mode, "the mode was entered from {:?}", self.booth.phase);
        }
        if was_in_mode && !matches!(self.booth.phase, Phase::Service(_)) {
            prop_assert_eq!(self.last_chair, Motion::Stop, "chair left running after the mode");
            prop_assert_eq!(self.last_lights, LightScene::Idle, "lights not idle after the mode");
            prop_assert!(self.camera_auto, "the camera not automatic after the mode");
            prop_assert!(!self.preview, "camera preview left on after the mode");
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn any_sequence_keeps_the_booth_safe_and_every_visit_ends_at_idle(acts in prop::collection::vec(act(), 0..120)) {
        let mut w = World::new();
        for a in &acts {
            let e = w.event(a);
            w.step(e)?;
        }
        // The world calms down: the technician finishes and leaves with a passing self-test,
        // the operator finishes at the desk and takes the stick, the key off, devices back, the
        // booth open, nobody touches anything.
        for _ in 0..6 {
            if in_mode(&w.booth.phase) || matches!(w.booth.phase, Phase::Desk(_)) {
                let e = w.event(&Act::Forward);
                w.step(e)?;
            }
        }
        let e = w.event(&Act::Stick(1));
        w.step(e)?;
        if !w.booth.guard.failed.is_empty() {
            let key = w.booth.guard.key.is_some();
            let e = w.event(&Act::Wait(600_000));
            w.step(e)?;
            let out = if key { Act::Key(false) } else { Act::ServiceTap(15) };
            let mut visit = vec![Act::ServiceScan, Act::ServiceOk, out, Act::SelfTested { on_exit: true, passed: true }];
            if key {
                visit.insert(0, Act::Key(true));
            }
            for a in visit {
                let e = w.event(&a);
                w.step(e)?;
            }
            prop_assert!(w.booth.guard.failed.is_empty(), "a passing exit self-test clears the failures: {:?}", w.booth);
        }
        if w.booth.guard.key.is_some() {
            w.step(Event::KeySwitch(false))?;
        }
        for p in Part::ALL {
            w.step(Event::Restored(p))?;
        }
        w.step(Event::Hours(None))?;
        for _ in 0..20 {
            let e = w.event(&Act::Wait(600_000));
            w.step(e)?;
        }
        prop_assert_eq!(&w.booth.phase, &Phase::Idle);
        prop_assert_eq!(w.last_chair, Motion::Stop);
        prop_assert_eq!(w.last_lights, LightScene::Idle);
    }
}
