//! The booth paying through the WeChat Pay sandbox: the real runtime, journal, payment client
//! and uploader on simulated devices, with the sandbox misbehaving as WeChat Pay and networks
//! do. What the graduate is shown is read from the views the booth sends its screen; what the
//! booth believes, from its journal.

mod booth;

use std::time::{Duration, Instant};

use booth::{Booth, World, pay};
use gradbooth::config::Settings;
use gradbooth::journal::OrderState;
use gradbooth::payment::sandbox::Faults;
use gradbooth::screen::UiMsg;
use gradbooth::visit::{Intent, Screen};

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
    assert!(Booth::counter(&second) > Booth::counter(&first), "{first} then {second}");
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
    let made: Vec<String> = w.sandbox.orders().into_iter().map(|o| o.out_trade_no).collect();
    assert_eq!(made, [no], "the third try made the same order the first two asked for");
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

#[test]
fn an_earlier_code_still_unconfirmed_is_named_as_such_and_no_second_code_is_shown() {
    let w = World::new();
    let mut b = w.start(&|s| s.unpaid_retention = Duration::from_secs(30 * 60));
    let first = b.through_to_payment();
    // The service fails; the graduate leaves with the code unconfirmed (it may have been paid).
    w.sandbox.set_faults(Faults { server_errors: 1000, ..Faults::default() });
    b.handle().intent(Intent::Exit);
    b.screen(Screen::Idle);
    assert_eq!(b.order_state(&first), Some(OrderState::Open), "not settled: the service did not answer");
    // Back with the same code: the kept photo, but no new code while the first is unknown.
    b.stages.clear();
    b.handle().intent(Intent::Prepare);
    b.screen(Screen::Scan);
    b.handle().simulate("demo_ticket");
    assert!(b.screen(Screen::Confirm).kept_photo);
    b.handle().intent(Intent::PayKeptPhoto);
    b.stage("earlier_unsettled", LONG);
    assert!(!b.stages.iter().any(|s| s == "unreachable" || s == "waiting"), "{:?}", b.stages);
    assert_eq!(w.sandbox.orders().len(), 1, "no second order was made");
    // Once the first can be settled (closed unpaid), a fresh code.
    w.sandbox.set_faults(Faults::default());
    b.handle().intent(Intent::NewPaymentCode);
    let second = b.shown_order();
    assert_ne!(second, first);
    assert_eq!(b.order_state(&first), Some(OrderState::Closed));
}

#[test]
fn a_journal_that_cannot_record_the_order_is_named_and_no_code_is_shown() {
    let w = World::new();
    let mut b = w.start(&|_| {});
    b.walk_to_review_result();
    // The journal breaks under the booth (another connection takes the order counter away).
    let journal = rusqlite::Connection::open(w.data.path().join("journal.sqlite3")).unwrap();
    journal.execute_batch("ALTER TABLE counters RENAME TO counters_gone").unwrap();
    b.handle().intent(Intent::GoToPayment);
    b.stage("not_recorded", LONG);
    assert!(w.sandbox.orders().is_empty(), "no order the journal cannot account for");
    assert!(!b.stages.iter().any(|s| s == "unreachable"), "{:?}", b.stages);
    journal.execute_batch("ALTER TABLE counters_gone RENAME TO counters").unwrap();
    b.handle().intent(Intent::NewPaymentCode);
    b.shown_order();
}

#[test]
fn a_service_whose_answers_cannot_be_trusted_at_creation_is_named_refused() {
    let w = World::new();
    let mut b = w.start(&|_| {});
    w.sandbox.set_faults(Faults { bad_signatures: 1000, ..Faults::default() });
    b.ask_to_pay();
    b.stage("refused", LONG);
    assert!(!b.stages.iter().any(|s| s == "unreachable"), "{:?}", b.stages);
}
