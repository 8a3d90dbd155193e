//! The operators' desk, as a specification: when a stick is looked at, what needs a touch,
//! and how the desk gives the booth back.

use std::time::Duration;

use super::*;
use crate::tests::{policy, ticket};

const S: fn(u64) -> Duration = Duration::from_secs;

struct Desk {
    booth: Booth,
    now: Instant,
}

impl Desk {
    fn new() -> Self {
        Desk { booth: Booth::default(), now: Instant(0) }
    }
    fn send(&mut self, e: Event) -> Vec<Command> {
        let (b, c) = step(&policy(), std::mem::take(&mut self.booth), e, self.now);
        self.booth = b;
        c
    }
    fn stick(&mut self, e: StickEvent) -> Vec<Command> {
        self.send(Event::Stick(e))
    }
    fn tap(&mut self, i: DeskIntent) -> Vec<Command> {
        self.send(Event::Desk(i))
    }
    fn wait(&mut self, d: Duration) -> Vec<Command> {
        self.now = self.now.after(d);
        self.send(Event::Tick)
    }
    fn screen(&self) -> Screen {
        view(&policy(), &self.booth, self.now).screen
    }
    fn stage(&self) -> Option<DeskStage> {
        view(&policy(), &self.booth, self.now).desk
    }
    /// Inserted at rest, read with bundle `serial` applicable.
    fn shown(&mut self, serial: Option<u64>) {
        let c = self.stick(StickEvent::Inserted);
        assert!(c.contains(&Command::ReadStick), "{c:?}");
        assert_eq!(self.stage(), Some(DeskStage::Reading));
        self.stick(StickEvent::Read { applicable: serial });
        assert_eq!(self.stage(), Some(DeskStage::Shown { applicable: serial }));
    }
}

#[test]
fn a_bundle_is_applied_only_on_a_touch_and_the_desk_gives_the_booth_back() {
    let mut d = Desk::new();
    d.shown(Some(7));
    // Time passes, nothing is applied by itself.
    let c = d.wait(S(60));
    assert!(!c.iter().any(|c| matches!(c, Command::ApplyBundle { .. })));
    assert_eq!(d.tap(DeskIntent::Apply), vec![Command::ApplyBundle { serial: 7 }]);
    assert_eq!(d.stage(), Some(DeskStage::Applying { serial: 7 }));
    // A second touch while applying does nothing more.
    assert!(d.tap(DeskIntent::Apply).is_empty());
    d.stick(StickEvent::Applied(Ok(7)));
    assert_eq!(d.stage(), Some(DeskStage::Applied { serial: 7 }));
    let c = d.tap(DeskIntent::Close);
    assert!(c.contains(&Command::DeskClosed));
    assert_eq!(d.screen(), Screen::Idle);
    // The same stick left in is not looked at again …
    assert!(!d.wait(S(1)).contains(&Command::ReadStick));
    // … until it is pulled and put back.
    d.stick(StickEvent::Removed);
    assert!(d.stick(StickEvent::Inserted).contains(&Command::ReadStick));
}

#[test]
fn nothing_applicable_cannot_be_applied_but_cancel_and_export_work() {
    let mut d = Desk::new();
    d.shown(None);
    assert!(d.tap(DeskIntent::Apply).is_empty());
    assert_eq!(d.stage(), Some(DeskStage::Shown { applicable: None }));
    assert_eq!(d.tap(DeskIntent::Export), vec![Command::ExportToStick]);
    d.stick(StickEvent::ExportProgress { done: 3, total: 6 });
    assert_eq!(d.stage(), Some(DeskStage::Exporting { done: 3, total: 6 }));
    // Neither closing nor the clock interrupts an export.
    assert!(d.tap(DeskIntent::Close).is_empty());
    assert!(!d.wait(DESK_IDLE + S(1)).contains(&Command::DeskClosed));
    assert_eq!(d.stage(), Some(DeskStage::Exporting { done: 3, total: 6 }));
    d.stick(StickEvent::Exported(Ok("gradbooth/export/fx-d-01-2026-12-01".into())));
    assert!(matches!(d.stage(), Some(DeskStage::Exported { .. })));
    // Unmounted (or pulled) after the export: "you may remove the stick" stays until a touch.
    assert!(!d.stick(StickEvent::Removed).contains(&Command::DeskClosed));
    assert!(matches!(d.stage(), Some(DeskStage::Exported { .. })));
    assert!(d.tap(DeskIntent::Close).contains(&Command::DeskClosed));
    assert_eq!(d.screen(), Screen::Idle);
}

#[test]
fn a_stick_pulled_while_shown_closes_the_desk_but_not_while_applying() {
    let mut d = Desk::new();
    d.shown(Some(3));
    assert!(d.stick(StickEvent::Removed).contains(&Command::DeskClosed));
    assert_eq!(d.screen(), Screen::Idle);

    let mut d = Desk::new();
    d.shown(Some(3));
    d.tap(DeskIntent::Apply);
    assert!(!d.stick(StickEvent::Removed).contains(&Command::DeskClosed));
    assert_eq!(d.stage(), Some(DeskStage::Applying { serial: 3 }));
    // The bundle was in memory: applying finishes, then the booth rests.
    assert!(d.stick(StickEvent::Applied(Ok(3))).contains(&Command::DeskClosed));
    assert_eq!(d.screen(), Screen::Idle);
}

#[test]
fn an_untouched_desk_goes_back_to_rest_near_its_limit() {
    let mut d = Desk::new();
    d.shown(Some(3));
    assert!(!d.wait(DESK_IDLE - S(1)).contains(&Command::DeskClosed));
    d.tap(DeskIntent::Touch);
    assert!(!d.wait(DESK_IDLE - S(1)).contains(&Command::DeskClosed));
    assert!(d.wait(S(1)).contains(&Command::DeskClosed));
    assert_eq!(d.screen(), Screen::Idle);
}

#[test]
fn a_stick_inserted_during_a_visit_waits_until_the_visit_ends() {
    let mut d = Desk::new();
    d.send(Event::QrScanned("ticket".into()));
    d.send(Event::TicketChecked(Ok(TicketGrant { ticket: ticket("T1"), attempts_used: 0, kept_photo: None })));
    assert_eq!(d.screen(), Screen::Confirm);
    let c = d.stick(StickEvent::Inserted);
    assert!(!c.contains(&Command::ReadStick), "{c:?}");
    assert_eq!(d.screen(), Screen::Confirm);
    // A touch meant for the desk does nothing to the visit.
    assert!(d.tap(DeskIntent::Apply).is_empty());
    assert_eq!(d.screen(), Screen::Confirm);
    // The graduate leaves: the visit ends first, then the stick is read.
    let c = d.send(Event::Intent(Intent::Exit));
    let ended = c.iter().position(|c| matches!(c, Command::VisitEnded { .. })).expect("the visit ended");
    let read = c.iter().position(|c| *c == Command::ReadStick).expect("the stick is read");
    assert!(ended < read, "{c:?}");
    assert_eq!(d.screen(), Screen::Desk);
}

#[test]
fn a_stick_pulled_before_the_visit_ended_is_never_read() {
    let mut d = Desk::new();
    d.send(Event::Intent(Intent::Prepare));
    d.stick(StickEvent::Inserted);
    d.stick(StickEvent::Removed);
    let c = d.send(Event::Intent(Intent::Exit));
    assert!(!c.contains(&Command::ReadStick));
    assert_eq!(d.screen(), Screen::Idle);
}

#[test]
fn out_of_service_the_desk_opens_and_gives_back_out_of_service() {
    let mut d = Desk::new();
    d.send(Event::Fault(Part::Device(DeviceKind::Camera)));
    assert_eq!(d.screen(), Screen::OutOfService);
    d.shown(Some(4));
    // A fault meanwhile does not close the desk.
    d.send(Event::Fault(Part::Device(DeviceKind::QrScanner)));
    assert_eq!(d.screen(), Screen::Desk);
    d.tap(DeskIntent::Close);
    assert_eq!(d.screen(), Screen::OutOfService);
}

#[test]
fn codes_held_up_at_the_desk_open_nothing() {
    let mut d = Desk::new();
    d.shown(Some(4));
    assert!(d.send(Event::QrScanned("GBS1:ABC".into())).is_empty());
    assert!(d.send(Event::Intent(Intent::Prepare)).is_empty());
    assert_eq!(d.screen(), Screen::Desk);
}

#[test]
fn a_stick_inserted_while_a_ticket_is_checked_waits() {
    let mut d = Desk::new();
    d.send(Event::Restored(Part::Device(DeviceKind::Camera)));
    d.send(Event::QrScanned("code".into()));
    let c = d.stick(StickEvent::Inserted);
    assert!(!c.contains(&Command::ReadStick), "{c:?} {:?}", d.booth.phase);
    let c = d.send(Event::Restored(Part::Device(DeviceKind::Camera)));
    assert!(!c.contains(&Command::ReadStick), "{c:?} {:?}", d.booth.phase);
}

#[test]
fn the_service_key_turned_off_at_the_desk_is_not_forgotten() {
    let mut d = Desk::new();
    d.send(Event::KeySwitch(true));
    assert_eq!(d.screen(), Screen::OutOfService);
    d.shown(None);
    d.send(Event::KeySwitch(false));
    assert_eq!(d.screen(), Screen::Desk);
    d.tap(DeskIntent::Close);
    assert_eq!(d.screen(), Screen::Idle, "the key is off: the booth serves");
}

#[test]
fn an_export_that_never_answers_fails_at_its_limit() {
    let mut d = Desk::new();
    d.shown(None);
    d.tap(DeskIntent::Export);
    d.wait(DESK_BUSY - S(1));
    assert!(matches!(d.stage(), Some(DeskStage::Exporting { .. })));
    d.wait(S(1));
    assert!(matches!(d.stage(), Some(DeskStage::ExportFailed { .. })), "{:?}", d.stage());
    // A late answer changes nothing; the desk closes when left alone.
    d.stick(StickEvent::Exported(Ok("late".into())));
    assert!(matches!(d.stage(), Some(DeskStage::ExportFailed { .. })));
    assert!(d.wait(DESK_IDLE).contains(&Command::DeskClosed));
}
