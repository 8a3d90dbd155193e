//! The diagnostics mode, as a specification: who gets in and when, what the chair does, and
//! every way out.

use std::time::Duration;

use super::*;
use crate::tests::policy;

const S: fn(u64) -> Duration = Duration::from_secs;

struct Bench {
    booth: Booth,
    now: Instant,
    cmds: Vec<Command>,
}

impl Bench {
    fn new() -> Self {
        Bench { booth: Booth::default(), now: Instant(0), cmds: vec![] }
    }
    fn send(&mut self, e: Event) -> Vec<Command> {
        let (b, c) = step(&policy(), std::mem::take(&mut self.booth), e, self.now);
        self.booth = b;
        self.cmds.extend(c.clone());
        c
    }
    fn wait(&mut self, d: Duration) -> Vec<Command> {
        self.now = self.now.after(d);
        self.send(Event::Tick)
    }
    fn screen(&self) -> Screen {
        view(&policy(), &self.booth, self.now).screen
    }
    fn pass(&self) -> ServicePass {
        ServicePass {
            technician: "T-0042".into(),
            code_id: "0102030405060708".into(),
            expires_at: self.now.after(S(8 * 3600)),
        }
    }
    fn enter(&mut self) {
        let c = self.send(Event::QrScanned("GBS1:ABC".into()));
        assert_eq!(c, vec![Command::CheckServiceCode("GBS1:ABC".into())]);
        assert_eq!(self.screen(), Screen::ServiceEntry);
        let pass = self.pass();
        let c = self.send(Event::ServiceChecked(Ok(pass)));
        assert!(c.iter().any(|c| matches!(c, Command::Audit { action: "service_entered", .. })), "{c:?}");
        assert_eq!(self.screen(), Screen::Service);
    }
    fn page(&self) -> Option<ServicePage> {
        view(&policy(), &self.booth, self.now).service.map(|s| s.page)
    }
    fn tap(&mut self, i: ServiceIntent) -> Vec<Command> {
        self.send(Event::Service(i))
    }
    fn left_safely(&self, c: &[Command]) -> bool {
        [
            Command::Chair(Motion::Stop),
            Command::Preview(false),
            Command::Lights(LightScene::Idle),
            Command::ServiceEnded,
        ]
        .iter()
        .all(|x| c.contains(x))
            && c.contains(&Command::SelfTest { quick: true })
    }
}

#[test]
fn a_service_code_at_idle_opens_the_mode_on_its_status_page() {
    let mut b = Bench::new();
    b.enter();
    assert_eq!(b.page(), Some(ServicePage::Status));
    assert!(!b.booth.phase.in_visit());
}

#[test]
fn a_graduates_ticket_at_idle_still_starts_a_visit() {
    let mut b = Bench::new();
    let c = b.send(Event::QrScanned("GBT1:XYZ".into()));
    assert_eq!(c, vec![Command::CheckTicket("GBT1:XYZ".into())]);
    assert_eq!(b.screen(), Screen::Scan);
}

#[test]
fn out_of_service_every_code_goes_to_the_service_check_and_a_ticket_is_refused_as_such() {
    let mut b = Bench::new();
    b.send(Event::Fault(Part::Device(DeviceKind::Camera)));
    assert_eq!(b.screen(), Screen::OutOfService);
    let c = b.send(Event::QrScanned("GBT1:XYZ".into()));
    assert_eq!(c, vec![Command::CheckServiceCode("GBT1:XYZ".into())]);
    b.send(Event::ServiceChecked(Err(ServiceRefusal::GraduateTicket)));
    let v = view(&policy(), &b.booth, b.now);
    assert_eq!((v.screen, v.service_refusal), (Screen::ServiceEntry, Some(ServiceRefusal::GraduateTicket)));
    // Nobody touches it: back to out of service.
    b.wait(ENTRY_TIMEOUT);
    assert_eq!(b.screen(), Screen::OutOfService);
}

#[test]
fn the_mode_is_never_entered_during_a_visit() {
    let mut b = Bench::new();
    b.send(Event::QrScanned("GBT1:XYZ".into()));
    let grant = TicketGrant {
        ticket: Ticket {
            id: "T1".into(),
            name: "李明".into(),
            student_no_masked: "2022****56".into(),
            school: "S".into(),
        },
        attempts_used: 0,
        kept_photo: None,
    };
    b.send(Event::TicketChecked(Ok(grant)));
    assert_eq!(b.screen(), Screen::Confirm);
    let c = b.send(Event::QrScanned("GBS1:ABC".into()));
    assert!(c.is_empty(), "{c:?}");
    // A pass arriving late (from a check begun before) opens nothing either.
    let pass = b.pass();
    b.send(Event::ServiceChecked(Ok(pass)));
    assert_eq!(b.screen(), Screen::Confirm);
}

#[test]
fn five_refused_codes_in_ten_minutes_lock_entry_for_fifteen() {
    let mut b = Bench::new();
    for i in 0..5 {
        b.send(Event::QrScanned("GBS1:FORGED".into()));
        b.send(Event::ServiceChecked(Err(ServiceRefusal::BadSignature)));
        if i < 4 {
            assert_eq!(view(&policy(), &b.booth, b.now).service_refusal, Some(ServiceRefusal::BadSignature));
        }
        b.now = b.now.after(S(60));
    }
    let v = view(&policy(), &b.booth, b.now);
    assert_eq!(v.service_refusal, Some(ServiceRefusal::Locked));
    assert!(b.cmds.iter().any(|c| matches!(c, Command::Audit { action: "service_locked", .. })));
    // Even a good code is not checked while locked …
    let c = b.send(Event::QrScanned("GBS1:GOOD".into()));
    assert!(!c.iter().any(|c| matches!(c, Command::CheckServiceCode(_))), "{c:?}");
    assert_eq!(view(&policy(), &b.booth, b.now).service_refusal, Some(ServiceRefusal::Locked));
    // … until the fifteen minutes are over.
    b.now = b.now.after(LOCKOUT);
    b.send(Event::Intent(Intent::Exit));
    let c = b.send(Event::QrScanned("GBS1:GOOD".into()));
    assert_eq!(c, vec![Command::CheckServiceCode("GBS1:GOOD".into())]);
}

#[test]
fn refusals_spread_over_more_than_ten_minutes_do_not_lock_and_mistaken_codes_do_not_count() {
    let mut b = Bench::new();
    for _ in 0..8 {
        b.send(Event::QrScanned("GBS1:OLD".into()));
        b.send(Event::ServiceChecked(Err(ServiceRefusal::Expired)));
        b.now = b.now.after(S(151));
    }
    for _ in 0..6 {
        b.send(Event::QrScanned("GBS1:X".into()));
        b.send(Event::ServiceChecked(Err(ServiceRefusal::GraduateTicket)));
    }
    assert!(!b.booth.guard.locked(b.now));
    // Every refusal is audited, counted or not.
    let audited = b.cmds.iter().filter(|c| matches!(c, Command::Audit { action: "service_refused", .. })).count();
    assert_eq!(audited, 14);
}

#[test]
fn the_chair_runs_only_while_held_on_the_chair_page() {
    let mut b = Bench::new();
    b.enter();
    assert!(b.tap(ServiceIntent::ChairHold(Motion::Up)).iter().all(|c| !matches!(c, Command::Chair(_))), "status page");
    b.tap(ServiceIntent::Open(ServicePage::Chair));
    let c = b.tap(ServiceIntent::ChairHold(Motion::Up));
    assert_eq!(c[0], Command::Chair(Motion::Up));
    assert!(matches!(&c[1], Command::Audit { action: "chair_run", detail, .. } if detail == "up"), "runs are audited");
    // Renewed holds send nothing new.
    b.now = b.now.after(Duration::from_millis(100));
    assert_eq!(b.tap(ServiceIntent::ChairHold(Motion::Up)), vec![]);
    assert_eq!(b.tap(ServiceIntent::ChairRelease), vec![Command::Chair(Motion::Stop)]);
    // A hold that stops being renewed (the touch was lost) stops within 300 ms.
    b.tap(ServiceIntent::ChairHold(Motion::Down));
    assert_eq!(b.wait(Duration::from_millis(200)), vec![]);
    assert_eq!(b.wait(Duration::from_millis(100)), vec![Command::Chair(Motion::Stop)]);
    // Leaving the page while it runs stops it.
    b.tap(ServiceIntent::ChairHold(Motion::Up));
    let c = b.tap(ServiceIntent::Open(ServicePage::Status));
    assert_eq!(c.first(), Some(&Command::Chair(Motion::Stop)));
}

#[test]
fn no_touch_for_five_minutes_ends_the_mode_after_a_warning() {
    let mut b = Bench::new();
    b.enter();
    b.wait(policy().timeouts.service_idle - INACTIVITY_WARNING - S(1));
    assert_eq!(view(&policy(), &b.booth, b.now).service.unwrap().inactivity_warning, None);
    b.wait(S(2));
    assert_eq!(view(&policy(), &b.booth, b.now).service.unwrap().inactivity_warning, Some(29));
    let c = b.wait(S(29));
    assert!(b.left_safely(&c), "{c:?}");
    assert_eq!(view(&policy(), &b.booth, b.now).leaving, Some(Leaving::Inactive));
    b.send(Event::SelfTested(SelfTestOutcome { failed: vec![], on_exit: true }));
    assert_eq!(b.screen(), Screen::Idle);
}

#[test]
fn a_touch_keeps_the_mode_open() {
    let mut b = Bench::new();
    b.enter();
    b.wait(policy().timeouts.service_idle - S(10));
    b.tap(ServiceIntent::Touch);
    b.wait(S(20));
    assert_eq!(b.screen(), Screen::Service);
}

#[test]
fn the_code_running_out_ends_the_mode() {
    let mut b = Bench::new();
    let pass = ServicePass { expires_at: Instant(60_000), ..b.pass() };
    b.send(Event::QrScanned("GBS1:ABC".into()));
    b.send(Event::ServiceChecked(Ok(pass)));
    b.tap(ServiceIntent::Open(ServicePage::Chair));
    b.tap(ServiceIntent::ChairHold(Motion::Up));
    b.now = Instant(60_000);
    let c = b.send(Event::Tick);
    assert!(b.left_safely(&c), "{c:?}");
    assert_eq!(view(&policy(), &b.booth, b.now).leaving, Some(Leaving::CodeExpired));
}

#[test]
fn a_failed_exit_self_test_keeps_the_booth_out_of_service_until_one_passes() {
    let mut b = Bench::new();
    b.enter();
    let c = b.tap(ServiceIntent::Exit);
    assert!(b.left_safely(&c), "{c:?}");
    assert_eq!(b.screen(), Screen::ServiceLeaving);
    // The technician's own self-test from the page, finishing late, decides nothing.
    b.send(Event::SelfTested(SelfTestOutcome { failed: vec![], on_exit: false }));
    assert_eq!(b.screen(), Screen::ServiceLeaving);
    b.send(Event::SelfTested(SelfTestOutcome { failed: vec!["lights.key_left".into()], on_exit: true }));
    let v = view(&policy(), &b.booth, b.now);
    assert_eq!((v.screen, v.selftest_failed.clone()), (Screen::OutOfService, vec!["lights.key_left".to_owned()]));
    // A graduate's ticket is not taken.
    let c = b.send(Event::QrScanned("GBT1:XYZ".into()));
    assert_eq!(c, vec![Command::CheckServiceCode("GBT1:XYZ".into())]);
    b.send(Event::ServiceChecked(Err(ServiceRefusal::GraduateTicket)));
    b.send(Event::Intent(Intent::Exit));
    assert_eq!(b.screen(), Screen::OutOfService);
    // The technician comes back, mends the lamp, and leaves with a passing test.
    b.enter();
    b.tap(ServiceIntent::Exit);
    b.send(Event::SelfTested(SelfTestOutcome { failed: vec![], on_exit: true }));
    assert_eq!(b.screen(), Screen::Idle);
}

#[test]
fn an_exit_self_test_that_never_answers_counts_as_failed() {
    let mut b = Bench::new();
    b.enter();
    b.tap(ServiceIntent::Exit);
    b.wait(LEAVING_TIMEOUT);
    assert_eq!(view(&policy(), &b.booth, b.now).selftest_failed, vec!["selftest.timeout".to_owned()]);
    assert_eq!(b.screen(), Screen::OutOfService);
}

#[test]
fn with_a_key_switch_entry_needs_the_key_and_the_key_off_ends_the_mode() {
    let mut b = Bench::new();
    b.send(Event::KeySwitch(false));
    assert_eq!(b.screen(), Screen::Idle);
    b.send(Event::QrScanned("GBS1:ABC".into()));
    let pass = b.pass();
    b.send(Event::ServiceChecked(Ok(pass)));
    assert_eq!(view(&policy(), &b.booth, b.now).service_refusal, Some(ServiceRefusal::KeyOff));
    b.send(Event::Intent(Intent::Exit));
    // Turning the key alone opens nothing: the booth waits out of service for the code.
    b.send(Event::KeySwitch(true));
    assert_eq!(b.screen(), Screen::OutOfService);
    assert!(view(&policy(), &b.booth, b.now).key_left_on);
    b.enter();
    let c = b.send(Event::KeySwitch(false));
    assert!(b.left_safely(&c), "{c:?}");
    assert_eq!(view(&policy(), &b.booth, b.now).leaving, Some(Leaving::KeyOff));
    b.send(Event::SelfTested(SelfTestOutcome { failed: vec![], on_exit: true }));
    assert_eq!(b.screen(), Screen::Idle);
}

#[test]
fn a_key_left_on_after_the_mode_keeps_the_booth_out_of_service() {
    let mut b = Bench::new();
    b.send(Event::KeySwitch(true));
    b.enter();
    b.tap(ServiceIntent::Exit);
    b.send(Event::SelfTested(SelfTestOutcome { failed: vec![], on_exit: true }));
    assert_eq!(b.screen(), Screen::OutOfService);
    b.send(Event::KeySwitch(false));
    assert_eq!(b.screen(), Screen::Idle);
}

#[test]
fn the_scanner_page_inspects_codes_and_takes_no_ticket() {
    let mut b = Bench::new();
    b.enter();
    assert!(b.send(Event::QrScanned("GBT1:XYZ".into())).is_empty(), "status page: ignored");
    b.tap(ServiceIntent::Open(ServicePage::Scanner));
    assert_eq!(code_reading(&b.booth), CodeReading::Shown);
    assert_eq!(b.send(Event::QrScanned("GBT1:XYZ".into())), vec![Command::InspectCode("GBT1:XYZ".into())]);
    assert_eq!(b.screen(), Screen::Service);
}

#[test]
fn actions_are_audited_and_handed_to_the_runtime() {
    let mut b = Bench::new();
    b.enter();
    let act = ServiceAction::Light { channel: "key_left".into(), level: 80 };
    let c = b.tap(ServiceIntent::Act(act.clone()));
    assert_eq!(c[1], Command::Service(act));
    assert!(matches!(&c[0], Command::Audit { actor, action: "service_action", .. } if actor == "T-0042"));
}

#[test]
fn leaving_the_lights_page_idles_the_lights_and_the_camera_pages_preview() {
    let mut b = Bench::new();
    b.enter();
    assert_eq!(b.tap(ServiceIntent::Open(ServicePage::Lights)), vec![Command::Preview(true)]);
    assert_eq!(b.tap(ServiceIntent::Open(ServicePage::Camera)), vec![Command::Lights(LightScene::Idle)]);
    assert_eq!(b.tap(ServiceIntent::Open(ServicePage::Storage)), vec![Command::Preview(false)]);
}

#[test]
fn a_fault_during_the_mode_keeps_it_open_and_shows_on_return() {
    let mut b = Bench::new();
    b.enter();
    b.send(Event::Fault(Part::Device(DeviceKind::Lights)));
    assert_eq!(b.screen(), Screen::Service);
    b.tap(ServiceIntent::Exit);
    b.send(Event::SelfTested(SelfTestOutcome { failed: vec![], on_exit: true }));
    assert_eq!(b.screen(), Screen::OutOfService);
}
