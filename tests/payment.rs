//! The booth paying through the WeChat Pay sandbox: the real runtime, journal, payment client
//! and uploader on simulated devices, with the sandbox misbehaving as WeChat Pay and networks
//! do. What the graduate is shown is read from the views the booth sends its screen; what the
//! booth believes, from its journal.

use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use gradbooth::config::{Gateway, Settings, UploadTarget};
use gradbooth::journal::OrderState;
use gradbooth::payment::Sandbox;
use gradbooth::payment::sandbox::Faults;
use gradbooth::review::ScriptedReviewer;
use gradbooth::runtime::{self, BoothHandle};
use gradbooth::screen::UiMsg;
use gradbooth::storage::Storage;
use gradbooth::visit::{Intent, LightingMode, Screen, View};
use gradbooth::{devices, upload};

struct Booth {
    booth: Option<BoothHandle>,
    rx: mpsc::Receiver<UiMsg>,
    storage: Arc<Storage>,
    view: Option<View>,
    /// Every payment stage shown, in order (repeats collapsed).
    stages: Vec<String>,
}

/// The booth's sandbox lives in the test, so the test can misbehave it and outlive a booth.
struct World {
    sandbox: Sandbox,
    data: tempfile::TempDir,
    store: tempfile::TempDir,
}

impl World {
    fn new() -> Self {
        World {
            sandbox: Sandbox::start().unwrap(),
            data: tempfile::tempdir().unwrap(),
            store: tempfile::tempdir().unwrap(),
        }
    }

    fn settings(&self, tune: &dyn Fn(&mut Settings)) -> Settings {
        let mut s = Settings::parse(include_str!("../config/booth.toml")).unwrap();
        s.data_dir = self.data.path().to_owned();
        s.policy.countdown = Duration::from_millis(100);
        s.payment.gateway = Gateway::Sandbox { url: Some(self.sandbox.url().to_owned()) };
        s.payment.request_timeout = Duration::from_secs(1);
        s.upload.target = UploadTarget::Dir(Some(self.store.path().to_owned()));
        tune(&mut s);
        s
    }

    fn start(&self, tune: &dyn Fn(&mut Settings)) -> Booth {
        let settings = self.settings(tune);
        let (parts, _lights) = devices::simulated(settings, vec![], Arc::new(ScriptedReviewer { pass: true })).unwrap();
        let storage = parts.storage.clone();
        let (tx, rx) = mpsc::channel();
        let booth = runtime::start(parts, Arc::new(tx));
        Booth { booth: Some(booth), rx, storage, view: None, stages: vec![] }
    }

    fn uploaded(&self, no: &str) -> bool {
        let key = upload::object_key("fengxian-d108", no, gradbooth::storage::SealedPart::Manifest);
        self.store.path().join(key).exists()
    }
}

impl Booth {
    fn handle(&self) -> &BoothHandle {
        self.booth.as_ref().unwrap()
    }

    fn wait(&mut self, what: &str, within: Duration, done: impl Fn(&View) -> bool) -> View {
        let deadline = Instant::now() + within;
        loop {
            if let Some(v) = &self.view
                && done(v)
            {
                return v.clone();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "{what} never came; the screen shows {:?} after stages {:?}",
                self.view.as_ref().map(|v| (v.screen, &v.payment)),
                self.stages
            );
            if let Ok(UiMsg::View(v)) = self.rx.recv_timeout(left.min(Duration::from_millis(50))) {
                if let Some(p) = &v.payment
                    && self.stages.last().map(String::as_str) != Some(p.stage)
                {
                    self.stages.push(p.stage.into());
                }
                self.view = Some(*v);
            }
        }
    }

    fn screen(&mut self, s: Screen) -> View {
        self.wait(&format!("{s:?}"), Duration::from_secs(10), |v| v.screen == s)
    }

    fn stage(&mut self, stage: &str, within: Duration) -> View {
        self.wait(&format!("payment {stage}"), within, |v| v.payment.as_ref().is_some_and(|p| p.stage == stage))
    }

    /// Through a visit to the payment code on screen; returns the order number.
    fn through_to_payment(&mut self) -> String {
        self.ask_to_pay();
        self.shown_order()
    }

    /// Through a visit to a passing review, and a tap on 去支付.
    fn ask_to_pay(&mut self) {
        self.screen(Screen::Idle);
        self.handle().intent(Intent::Prepare);
        self.screen(Screen::Scan);
        self.handle().simulate("demo_ticket");
        self.screen(Screen::Confirm);
        self.handle().intent(Intent::ConfirmData);
        self.screen(Screen::Lighting);
        self.handle().intent(Intent::ChooseLighting(LightingMode::NoGlasses));
        self.screen(Screen::Rules);
        self.handle().intent(Intent::AcceptRules);
        self.screen(Screen::Seat);
        self.handle().intent(Intent::StartCapture);
        self.screen(Screen::AttemptShown);
        self.handle().intent(Intent::UsePhoto);
        self.screen(Screen::ReviewResult);
        self.handle().intent(Intent::GoToPayment);
    }

    fn shown_order(&mut self) -> String {
        let v = self.stage("waiting", Duration::from_secs(10));
        let code = v.payment.unwrap().code_url.unwrap();
        assert!(code.starts_with("weixin://"), "{code}");
        self.latest_order()
    }

    /// The order the booth made last.
    fn latest_order(&self) -> String {
        self.storage.journal().orders().unwrap().into_iter().map(|o| o.out_trade_no).next_back().expect("an order")
    }

    fn order_state(&self, no: &str) -> Option<OrderState> {
        self.storage.journal().order(no).unwrap()
    }

    fn stop(&mut self) {
        if let Some(b) = self.booth.take() {
            b.shutdown();
        }
    }
}

/// The graduate scans the code on screen and pays (the sandbox's "phone").
fn pay(w: &World, b: &mut Booth) -> String {
    let code = b.view.as_ref().and_then(|v| v.payment.as_ref()).and_then(|p| p.code_url.clone()).unwrap();
    w.sandbox.pay_code(&code).unwrap()
}

const LONG: Duration = Duration::from_secs(20);

#[test]
fn a_paid_order_ends_the_visit_and_its_photo_is_sealed_and_uploaded() {
    let w = World::new();
    let mut b = w.start(&|_| {});
    let no = b.through_to_payment();
    assert!(b.view.as_ref().unwrap().payment.as_ref().unwrap().simulated, "the sandbox says 模拟支付");
    assert_eq!(b.order_state(&no), Some(OrderState::Open));
    assert_eq!(pay(&w, &mut b), no, "the code on screen is this order's");
    b.screen(Screen::Done);
    let txn = w.sandbox.order(&no).unwrap().transaction_id;
    let row = b.storage.journal().orders().unwrap().into_iter().find(|o| o.out_trade_no == no).unwrap();
    assert_eq!((row.state, row.transaction_id), (OrderState::Paid, txn));
    let deadline = Instant::now() + LONG;
    while !w.uploaded(&no) {
        assert!(Instant::now() < deadline, "the paid photo never reached the store");
        std::thread::sleep(Duration::from_millis(50));
    }
    b.stop();
    assert!(b.storage.files_on_disk().unwrap().is_empty(), "no plain photo rests on disk");
    assert_eq!(w.sandbox.requests().1, 0, "every request was signed right");
}

#[test]
fn an_expired_code_is_closed_confirmed_unpaid_and_a_fresh_code_is_a_new_order() {
    let w = World::new();
    let mut b = w.start(&|s| s.policy.timeouts.payment = Duration::from_secs(3));
    let first = b.through_to_payment();
    b.stage("expired", LONG);
    assert_eq!(b.stages, ["creating", "waiting", "confirming", "expired"]);
    assert_eq!(w.sandbox.order(&first).unwrap().trade_state, "CLOSED");
    assert_eq!(b.order_state(&first), Some(OrderState::Closed));
    b.handle().intent(Intent::NewPaymentCode);
    let second = b.shown_order();
    assert_ne!(first, second, "a closed order number is never reused");
    assert!(second.ends_with("-2"), "{second}");
    pay(&w, &mut b);
    b.screen(Screen::Done);
    assert_eq!(b.order_state(&second), Some(OrderState::Paid));
}

#[test]
fn a_payment_made_as_the_code_expires_is_found_and_the_visit_ends_paid() {
    let w = World::new();
    let mut b = w.start(&|s| s.policy.timeouts.payment = Duration::from_secs(3));
    let no = b.through_to_payment();
    // The graduate pays just as the booth closes the order: closing answers ORDERPAID.
    w.sandbox.set_faults(Faults { pay_on_close: true, ..Faults::default() });
    b.screen(Screen::Done);
    assert_eq!(b.stages, ["creating", "waiting", "confirming"]);
    assert_eq!(b.order_state(&no), Some(OrderState::Paid));
}

#[test]
fn a_storm_of_rate_limits_is_waited_out_and_the_payment_still_seen() {
    let w = World::new();
    let mut b = w.start(&|_| {});
    let no = b.through_to_payment();
    w.sandbox.set_faults(Faults { rate_limited: 5, ..Faults::default() });
    let before = w.sandbox.requests().0;
    pay(&w, &mut b);
    // 5 × 429 with the pause doubling from 2 s (4, 8, 16, 16, 16) is ~60 s; the code is
    // valid 300 s.
    b.wait("done", Duration::from_secs(90), |v| v.screen == Screen::Done);
    let asked = w.sandbox.requests().0 - before;
    assert!(asked >= 6, "asked {asked} times");
    assert_eq!(b.order_state(&no), Some(OrderState::Paid));
    assert!(!b.stages.iter().any(|s| s == "unconfirmed" || s == "unreachable"), "{:?}", b.stages);
}

#[test]
fn server_errors_at_creation_are_retried_with_the_same_order_number() {
    let w = World::new();
    let mut b = w.start(&|_| {});
    w.sandbox.set_faults(Faults { server_errors: 2, ..Faults::default() });
    let no = b.through_to_payment();
    assert!(no.ends_with("-1"), "the third try made order 1: {no}");
    assert_eq!(w.sandbox.orders().len(), 1);
    // And while the code is on show.
    w.sandbox.set_faults(Faults { server_errors: 2, ..Faults::default() });
    pay(&w, &mut b);
    b.wait("done", LONG, |v| v.screen == Screen::Done);
}

#[test]
fn a_service_that_keeps_failing_at_creation_shows_unreachable_and_nothing_is_charged() {
    let w = World::new();
    let mut b = w.start(&|_| {});
    w.sandbox.set_faults(Faults { server_errors: 100, ..Faults::default() });
    b.ask_to_pay();
    let v = b.stage("unreachable", LONG);
    assert!(v.photo.is_some(), "the photo stays on the page");
    let no = b.latest_order();
    assert_eq!(b.order_state(&no), Some(OrderState::Unreachable));
    // Back again: a fresh code.
    w.sandbox.set_faults(Faults::default());
    b.handle().intent(Intent::NewPaymentCode);
    b.shown_order();
}

#[test]
fn slow_answers_are_waited_for_and_a_hang_is_outlasted() {
    let w = World::new();
    let mut b = w.start(&|_| {});
    // Slower than usual but inside the 1 s request timeout.
    w.sandbox.set_faults(Faults { delay: Duration::from_millis(600), ..Faults::default() });
    let no = b.through_to_payment();
    // Now it hangs: every request times out.
    w.sandbox.set_faults(Faults { delay: Duration::from_secs(5), ..Faults::default() });
    pay(&w, &mut b);
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(b.view.as_ref().unwrap().screen, Screen::Payment, "no answer, no success");
    assert_eq!(b.order_state(&no), Some(OrderState::Open));
    w.sandbox.set_faults(Faults::default());
    b.wait("done", LONG, |v| v.screen == Screen::Done);
    assert_eq!(b.order_state(&no), Some(OrderState::Paid));
}

#[test]
fn a_paid_answer_with_a_bad_signature_is_refused_and_no_success_shown() {
    let w = World::new();
    let mut b = w.start(&|_| {});
    let no = b.through_to_payment();
    w.sandbox.set_faults(Faults { bad_signatures: 1000, ..Faults::default() });
    pay(&w, &mut b);
    // Several polls (every 2 s) answer "SUCCESS" with a forged signature.
    let until = Instant::now() + Duration::from_secs(7);
    while Instant::now() < until {
        if let Ok(UiMsg::View(v)) = b.rx.recv_timeout(Duration::from_millis(100)) {
            assert_eq!(v.screen, Screen::Payment, "a forged answer showed success");
            b.view = Some(*v);
        }
    }
    assert_eq!(b.order_state(&no), Some(OrderState::Open));
    assert!(b.storage.journal().outbox().unwrap().is_empty(), "nothing queued on a forged answer");
    // Once genuine answers come again, the payment is seen.
    w.sandbox.set_faults(Faults::default());
    b.wait("done", LONG, |v| v.screen == Screen::Done);
}

#[test]
fn a_paid_answer_for_another_amount_is_refused_and_the_order_disputed() {
    let w = World::new();
    let mut b = w.start(&|_| {});
    let no = b.through_to_payment();
    w.sandbox.set_faults(Faults { paid_amount: Some(1), ..Faults::default() });
    pay(&w, &mut b);
    b.stage("unconfirmed", LONG);
    assert_eq!(b.order_state(&no), Some(OrderState::Disputed));
    assert!(b.storage.journal().outbox().unwrap().is_empty(), "a disputed order sends no photo");
    let ticket = b.storage.journal().orders().unwrap()[0].ticket_id.clone();
    let t = b.storage.journal().ticket(&ticket).unwrap().unwrap();
    assert!(!t.finished, "the ticket is not finished by a contradicting answer");
}

#[test]
fn an_order_paid_while_the_booth_was_down_is_settled_sealed_and_uploaded_at_start_up() {
    let w = World::new();
    let mut b = w.start(&|_| {});
    let no = b.through_to_payment();
    // The booth stops (power) with the code on screen; the graduate pays anyway.
    b.stop();
    let code = w.sandbox.order(&no).unwrap().code_url;
    w.sandbox.pay_code(&code).unwrap();
    drop(b);
    let b = w.start(&|_| {});
    let deadline = Instant::now() + LONG;
    while !w.uploaded(&no) {
        assert!(Instant::now() < deadline, "the photo paid while the booth was down never left");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(b.order_state(&no), Some(OrderState::Paid));
}

#[test]
fn an_unpaid_order_left_by_a_stop_is_closed_at_start_up() {
    let w = World::new();
    // Unpaid photos are not kept past their visit here (unpaid_retention_minutes = 0).
    let no_retention = |s: &mut Settings| s.unpaid_retention = Duration::ZERO;
    let mut b = w.start(&no_retention);
    let no = b.through_to_payment();
    b.stop();
    drop(b);
    let b = w.start(&no_retention);
    let deadline = Instant::now() + LONG;
    while b.order_state(&no) != Some(OrderState::Closed) {
        assert!(Instant::now() < deadline, "the order left open was never closed");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(w.sandbox.order(&no).unwrap().trade_state, "CLOSED", "nobody can pay a code no longer shown");
    // Kept while it could still be paid for, its photo goes once the order is settled.
    while !b.storage.files_on_disk().unwrap().is_empty() {
        assert!(Instant::now() < deadline, "the photo of a closed order stayed");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_payment_that_fails_on_the_phone_offers_a_fresh_code() {
    let w = World::new();
    let mut b = w.start(&|_| {});
    let no = b.through_to_payment();
    w.sandbox.fail_order(&no).unwrap();
    b.stage("failed", LONG);
    assert_eq!(b.order_state(&no), Some(OrderState::Closed));
    b.handle().intent(Intent::NewPaymentCode);
    let again = b.shown_order();
    assert_ne!(again, no);
    pay(&w, &mut b);
    b.screen(Screen::Done);
}

#[test]
fn a_graduate_whose_payment_could_not_go_through_comes_back_and_pays_for_the_kept_photo() {
    let w = World::new();
    let mut b = w.start(&|s| s.unpaid_retention = Duration::from_secs(30 * 60));
    w.sandbox.set_faults(Faults { server_errors: 100, ..Faults::default() });
    b.ask_to_pay();
    b.stage("unreachable", LONG);
    b.handle().intent(Intent::Exit);
    b.screen(Screen::Idle);
    let kept = b.storage.files_on_disk().unwrap();
    assert_eq!(kept.len(), 1, "the capture is gone, the standard photo kept: {kept:?}");
    // Later: the service is back and the graduate scans the same code again.
    w.sandbox.set_faults(Faults::default());
    b.handle().intent(Intent::Prepare);
    b.screen(Screen::Scan);
    b.handle().simulate("demo_ticket");
    let v = b.screen(Screen::Confirm);
    assert!(v.kept_photo, "the confirm screen offers the kept photo");
    b.handle().intent(Intent::PayKeptPhoto);
    let no = b.shown_order();
    pay(&w, &mut b);
    b.screen(Screen::Done);
    let deadline = Instant::now() + LONG;
    while !w.uploaded(&no) {
        assert!(Instant::now() < deadline, "the kept photo never reached the store");
        std::thread::sleep(Duration::from_millis(50));
    }
    let ticket = b.storage.journal().orders().unwrap()[0].ticket_id.clone();
    let t = b.storage.journal().ticket(&ticket).unwrap().unwrap();
    assert_eq!((t.attempts_used, t.finished), (1, true), "paid without another attempt");
    b.stop();
    assert!(b.storage.files_on_disk().unwrap().is_empty(), "and its plain file is gone, sealed");
}
