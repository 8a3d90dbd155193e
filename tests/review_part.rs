//! The photo review as a part of the booth, like its devices: face models that cannot be
//! loaded, or a review that fails for the booth's own reason, put the booth out of service
//! naming 照片审核; an attempt that ended because the booth failed is given back; a review that
//! finishes after its visit ended leaves nothing behind.

mod booth;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use booth::World;
use gradbooth::review::{BoothReviewer, ModelError, Review, Reviewer, ScriptedReviewer};
use gradbooth::screen::UiMsg;
use gradbooth::visit::{Intent, LightingMode, Notice, Part, Screen};
use gradbooth_hal::RgbImage;

/// Passes every photo, but only after `delay`.
struct SlowReviewer(Duration);

impl Reviewer for SlowReviewer {
    fn review(&self, photo: &RgbImage, mode: LightingMode) -> Result<Review, ModelError> {
        std::thread::sleep(self.0);
        ScriptedReviewer { pass: true }.review(photo, mode)
    }
}

/// Answers its start-up check, then fails the first review it is given as a broken model
/// would, and every check after that.
#[derive(Default)]
struct BreaksOnFirstReview(AtomicBool);

impl Reviewer for BreaksOnFirstReview {
    fn review(&self, _photo: &RgbImage, _mode: LightingMode) -> Result<Review, ModelError> {
        self.0.store(true, Ordering::SeqCst);
        Err(ModelError::Run { model: "face_landmark", reason: "the interpreter returned garbage".into() })
    }
    fn check(&self) -> Result<(), ModelError> {
        match self.0.load(Ordering::SeqCst) {
            true => Err(ModelError::Run { model: "face_landmark", reason: "still broken".into() }),
            false => Ok(()),
        }
    }
}

/// The counted attempts of the one ticket this booth has seen (the demo graduate's).
fn attempts_used(b: &booth::Booth) -> u8 {
    b.storage.journal().most_attempts().unwrap()
}

#[test]
fn a_booth_whose_face_models_cannot_be_loaded_is_out_of_service_naming_the_review() {
    let w = World::new();
    let empty = tempfile::tempdir().unwrap();
    let tune = |s: &mut gradbooth::config::Settings| s.review.models = empty.path().to_owned();
    let reviewer = Arc::new(BoothReviewer::new(&w.settings(&tune).review));
    let mut b = w.start_reviewing(&tune, reviewer);
    let v = b.screen(Screen::OutOfService);
    assert_eq!(v.faults, [Part::Review], "named on screen: 照片审核");
    // Nobody can start a visit whose photo could not be judged: no attempt is used up.
    b.handle().intent(Intent::Prepare);
    b.handle().simulate("demo_ticket");
    std::thread::sleep(Duration::from_millis(500));
    b.wait("still out of service", Duration::from_secs(1), |v| v.screen == Screen::OutOfService);
    assert_eq!(b.storage.journal().summary().unwrap().tickets, 0, "the code was not even looked at");
}

#[test]
fn a_review_failing_for_the_booths_own_reason_gives_the_attempt_back_and_takes_the_booth_out_of_service() {
    let w = World::new();
    let mut b = w.start_reviewing(&|_| {}, Arc::new(BreaksOnFirstReview::default()));
    b.walk_to_photo_shown();
    assert_eq!(attempts_used(&b), 1);
    b.handle().intent(Intent::UsePhoto);
    let v = b.screen(Screen::Notice);
    assert_eq!(v.notice, Some(Notice::Fault(Part::Review)));
    assert_eq!(attempts_used(&b), 0, "the booth failed, not the graduate: the attempt is given back");
    b.handle().intent(Intent::Finish);
    let v = b.screen(Screen::OutOfService);
    assert_eq!(v.faults, [Part::Review]);
}

#[test]
fn a_review_finishing_after_its_visit_ended_is_dropped_with_its_photo() {
    let w = World::new();
    let mut b = w.start_reviewing(
        &|s| {
            s.policy.timeouts.review = Duration::from_secs(1);
            s.unpaid_retention = Duration::from_secs(30 * 60);
        },
        Arc::new(SlowReviewer(Duration::from_secs(3))),
    );
    b.walk_to_photo_shown();
    b.handle().intent(Intent::UsePhoto);
    // The review takes longer than the booth waits: the visit ends, the attempt given back.
    let v = b.screen(Screen::Notice);
    assert_eq!(v.notice, Some(Notice::ReviewUnavailable));
    assert_eq!(attempts_used(&b), 0);
    // The result arrives two seconds later: nobody's any more.
    let until = Instant::now() + Duration::from_secs(4);
    while let Some(left) = until.checked_duration_since(Instant::now()) {
        if let Ok(msg) = b.rx.recv_timeout(left) {
            assert!(!matches!(msg, UiMsg::Photo(Some(_))), "a photo came back to the screen after its visit");
        }
    }
    let j = b.storage.journal();
    assert_eq!(j.summary().unwrap().reviews, 0, "the late result was not journaled");
    assert!(j.live_photos().unwrap().is_empty(), "no photo of the ended visit is kept");
    drop(j);
    assert!(b.storage.files_on_disk().unwrap().is_empty());
    // The graduate scans again: a fresh visit, no kept photo from the dropped result.
    b.handle().intent(Intent::Finish);
    b.screen(Screen::Idle);
    b.handle().intent(Intent::Prepare);
    b.screen(Screen::Scan);
    b.handle().simulate("demo_ticket");
    let v = b.screen(Screen::Confirm);
    assert!(!v.kept_photo, "the late result offered as a kept photo");
    assert_eq!(v.attempts_used, 0);
}
