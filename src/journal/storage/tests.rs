use std::os::unix::fs::PermissionsExt;

use super::*;
use crate::journal::storage::Manifest;
use crate::journal::{NewOrder, OrderState};

const HOUR: Duration = Duration::from_secs(3600);

fn open(dir: &Path, retention: Duration, now: i64) -> (Storage, Recovery) {
    Storage::open(dir, retention, now).unwrap()
}

/// A ticket with an open visit and one attempt taken.
fn visit(s: &Storage, ticket: &str, now: i64) {
    let j = s.journal();
    j.ticket_seen(ticket, now).unwrap();
    j.attempt_started(ticket, 1, now).unwrap();
}

fn order<'a>(no: &'a str, ticket: &'a str, photo: &'a str) -> NewOrder<'a> {
    NewOrder { out_trade_no: no, ticket_id: ticket, photo: Some(photo), amount_fen: 3000 }
}

/// A paid visit: capture, standard photo, order paid. Returns the standard photo's file.
fn paid_visit(s: &Storage, ticket: &str, now: i64) -> String {
    visit(s, ticket, now);
    s.save_photo(ticket, 1, PhotoKind::Capture, b"capture", now).unwrap();
    let standard = s.save_photo(ticket, 1, PhotoKind::Standard, b"standard", now).unwrap();
    let no = format!("{ticket}-1");
    let j = s.journal();
    j.order_created(&order(&no, ticket, &standard), now).unwrap();
    j.order_state(&no, OrderState::Open, now).unwrap();
    j.review(ticket, 1, true, &[], r#"{"face_width":0.41}"#, now).unwrap();
    j.order_paid(&no, &format!("TXN-{no}"), now).unwrap();
    standard
}

#[test]
fn a_photo_is_written_whole_owner_only_and_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let (s, r) = open(dir.path(), Duration::ZERO, 100);
    assert!(r.is_clean(), "{r:?}");
    visit(&s, "T1", 100);
    let file = s.save_photo("T1", 1, PhotoKind::Capture, b"jpeg bytes", 101).unwrap();
    let path = s.photo_path(&file);
    assert_eq!(fs::read(&path).unwrap(), b"jpeg bytes");
    assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(s.files_on_disk().unwrap(), BTreeSet::from([file.clone()]));
    let rows = s.journal().live_photos().unwrap();
    assert_eq!((rows.len(), rows[0].file.as_str(), rows[0].visit_open), (1, file.as_str(), true));
}

#[test]
fn ending_a_visit_deletes_its_photos_but_never_a_paid_one() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = open(dir.path(), Duration::ZERO, 0);
    visit(&s, "UNPAID", 10);
    s.save_photo("UNPAID", 1, PhotoKind::Capture, b"a", 10).unwrap();
    s.save_photo("UNPAID", 1, PhotoKind::Standard, b"b", 10).unwrap();
    let paid = paid_visit(&s, "PAID", 10);
    // While the visits are open nothing goes.
    assert_eq!(s.sweep(11).unwrap(), 0);
    assert_eq!(s.files_on_disk().unwrap().len(), 4);
    s.journal().visit_ended("UNPAID", "exited", false, 12).unwrap();
    s.journal().visit_ended("PAID", "paid", true, 12).unwrap();
    assert_eq!(s.sweep(12).unwrap(), 3);
    assert_eq!(s.files_on_disk().unwrap(), BTreeSet::from([paid.clone()]));
    assert_eq!(s.journal().outbox().unwrap(), vec![(paid, "PAID-1".to_string())]);
}

#[test]
fn an_unpaid_standard_photo_is_kept_for_the_retention_then_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = open(dir.path(), HOUR, 0);
    visit(&s, "T1", 1000);
    let capture = s.save_photo("T1", 1, PhotoKind::Capture, b"a", 1000).unwrap();
    let standard = s.save_photo("T1", 1, PhotoKind::Standard, b"b", 1000).unwrap();
    s.journal().visit_ended("T1", "exited", false, 1001).unwrap();
    assert_eq!(s.sweep(1001).unwrap(), 1, "the capture goes at once");
    assert!(!s.photo_path(&capture).exists());
    assert_eq!(s.sweep(1000 + 3599).unwrap(), 0);
    assert!(s.photo_path(&standard).exists());
    assert_eq!(s.sweep(1000 + 3600).unwrap(), 1);
    assert!(s.files_on_disk().unwrap().is_empty());
}

#[test]
fn start_up_recovers_from_a_stop_at_any_instant() {
    let dir = tempfile::tempdir().unwrap();
    let (paid, unpaid_capture) = {
        let (s, _) = open(dir.path(), Duration::ZERO, 0);
        let paid = paid_visit(&s, "PAID", 5);
        visit(&s, "MID", 6);
        s.journal().attempt_started("MID", 2, 7).unwrap();
        let capture = s.save_photo("MID", 2, PhotoKind::Capture, b"c", 7).unwrap();
        // A write cut short, and a complete file whose row never made it.
        fs::write(s.photo_dir().join("0123456789abcdef.jpg.tmp"), b"half").unwrap();
        fs::write(s.photo_dir().join("fedcba9876543210.jpg"), b"whole").unwrap();
        (paid, capture)
    };
    let (s, r) = open(dir.path(), Duration::ZERO, 100);
    assert_eq!(
        r,
        Recovery {
            visits_closed: 2,
            partial_files: 1,
            orphan_files: 1,
            unpaid_deleted: 2,
            paid_missing: 0,
            unsettled_orders: 0,
            stray_sealed_files: 0,
            sealed_set_aside: 0,
            plaintext_deleted: 0,
        }
    );
    assert!(!s.photo_path(&unpaid_capture).exists());
    assert_eq!(s.files_on_disk().unwrap(), BTreeSet::from([paid]));
    let j = s.journal();
    assert!(j.open_visits().unwrap().is_empty());
    // The interrupted visit keeps its counted attempts; the paid one stays finished.
    assert_eq!(j.ticket("MID").unwrap().unwrap().attempts_used, 2);
    assert!(j.ticket("PAID").unwrap().unwrap().finished);
    drop(j);
    // A second start finds nothing to do.
    drop(s);
    let (_, again) = open(dir.path(), Duration::ZERO, 200);
    assert!(again.is_clean() && again.unpaid_deleted == 0, "{again:?}");
}

#[test]
fn a_missing_paid_photo_is_reported_and_unsettled_orders_counted() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (s, _) = open(dir.path(), Duration::ZERO, 0);
        let paid = paid_visit(&s, "PAID", 5);
        fs::remove_file(s.photo_path(&paid)).unwrap();
        visit(&s, "OPEN", 6);
        let standard = s.save_photo("OPEN", 1, PhotoKind::Standard, b"s", 6).unwrap();
        s.journal().order_created(&order("OPEN-1", "OPEN", &standard), 6).unwrap();
    }
    let (_, r) = open(dir.path(), Duration::ZERO, 100);
    assert_eq!((r.paid_missing, r.unsettled_orders), (1, 1));
    assert!(!r.is_clean());
}

#[test]
fn a_paid_order_stays_paid_and_queues_its_photo_once() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = open(dir.path(), Duration::ZERO, 0);
    let paid = paid_visit(&s, "T1", 5);
    let j = s.journal();
    j.order_paid("T1-1", "TXN-OTHER", 6).unwrap();
    j.order_state("T1-1", OrderState::Closed, 7).unwrap();
    assert_eq!(j.order("T1-1").unwrap(), Some(OrderState::Paid));
    assert_eq!(j.outbox().unwrap(), vec![(paid, "T1-1".to_string())]);
}

#[test]
fn a_second_booth_on_the_same_data_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (first, _) = open(dir.path(), Duration::ZERO, 0);
    let err = Storage::open(dir.path(), Duration::ZERO, 0).err().expect("refused");
    assert!(matches!(err, StorageError::InUse { .. }), "{err}");
    drop(first);
    assert!(Storage::open(dir.path(), Duration::ZERO, 0).is_ok(), "free again once the first is gone");
}

fn centre() -> (age::x25519::Identity, crate::upload::seal::Centre) {
    let identity = age::x25519::Identity::generate();
    let centre = identity.to_public().to_string().parse().unwrap();
    (identity, centre)
}

#[test]
fn a_paid_photo_is_sealed_to_the_centre_and_its_plain_file_goes() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = open(dir.path(), Duration::ZERO, 0);
    let (identity, centre) = centre();
    let plain = paid_visit(&s, "T1", 5);
    assert!(s.seal_paid(&centre, "booth-1", "T1-1", 9).unwrap());
    assert!(!s.seal_paid(&centre, "booth-1", "T1-1", 9).unwrap(), "sealed once");
    assert!(!s.photo_path(&plain).exists(), "no plain photo after sealing");
    let sealed = fs::read(s.sealed_path("T1-1", SealedPart::Photo)).unwrap();
    assert_eq!(age::decrypt(&identity, &sealed).unwrap(), b"standard");
    let manifest: Manifest = serde_json::from_slice(
        &age::decrypt(&identity, &fs::read(s.sealed_path("T1-1", SealedPart::Manifest)).unwrap()).unwrap(),
    )
    .unwrap();
    assert_eq!((manifest.ticket_id.as_str(), manifest.transaction_id.as_str()), ("T1", "TXN-T1-1"));
    assert_eq!((manifest.booth_id.as_str(), manifest.measures.get("face_width")), ("booth-1", Some(&0.41)));
    assert_eq!(s.ready_to_send().unwrap(), vec![("T1-1".to_string(), sha256_hex(&sealed))]);
    // Sent: the journal says so and the sealed files go.
    s.upload_done("T1-1", 10).unwrap();
    assert!(s.ready_to_send().unwrap().is_empty());
    assert!(s.sealed_files_on_disk().unwrap().is_empty());
    assert_eq!(s.journal().summary().unwrap().uploaded, 1);
}

#[test]
fn recovery_removes_stray_sealed_files_and_plain_files_of_sealed_photos() {
    let dir = tempfile::tempdir().unwrap();
    let (_, centre) = centre();
    let plain;
    {
        let (s, _) = open(dir.path(), Duration::ZERO, 0);
        plain = paid_visit(&s, "T1", 5);
        let kept = fs::read(s.photo_path(&plain)).unwrap();
        s.seal_paid(&centre, "b", "T1-1", 6).unwrap();
        // A stop between the journal's "sealed" and the plain file's deletion …
        fs::write(s.photo_path(&plain), kept).unwrap();
        s.journal().raw().execute("UPDATE photos SET deleted_at = NULL", []).unwrap();
        // … and one while an older sealing was written but never journaled.
        fs::write(dir.path().join("outbox/T9-1.jpg.age"), b"x").unwrap();
        fs::write(dir.path().join("outbox/T1-1.jpg.age.tmp"), b"x").unwrap();
    }
    let (s, r) = open(dir.path(), Duration::ZERO, 100);
    assert_eq!((r.plaintext_deleted, r.stray_sealed_files, r.paid_missing), (1, 1, 0), "{r:?}");
    // T9-1 is an order the journal does not know: perhaps the only copy of a paid photo.
    assert_eq!(r.sealed_set_aside, 1);
    assert!(dir.path().join("outbox-unpaired/T9-1.jpg.age").exists(), "kept, not deleted");
    assert!(!s.photo_path(&plain).exists());
    assert_eq!(s.sealed_files_on_disk().unwrap(), BTreeSet::from(["T1-1.jpg.age".into(), "T1-1.json.age".into()]));
}

#[test]
fn a_photo_whose_order_is_not_settled_is_kept_until_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = open(dir.path(), Duration::ZERO, 0);
    visit(&s, "T1", 1);
    let standard = s.save_photo("T1", 1, PhotoKind::Standard, b"s", 1).unwrap();
    s.journal().order_created(&order("T1-1", "T1", &standard), 2).unwrap();
    s.journal().order_state("T1-1", OrderState::Open, 2).unwrap();
    s.journal().visit_ended("T1", "abandoned", false, 3).unwrap();
    assert_eq!(s.sweep(4).unwrap(), 0, "it may still be paid for");
    s.journal().order_state("T1-1", OrderState::Closed, 5).unwrap();
    assert_eq!(s.sweep(5).unwrap(), 1);
    assert!(!s.photo_path(&standard).exists());
}

#[test]
fn sealing_from_the_payment_and_from_the_sweep_at_once_seals_each_order_once() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = open(dir.path(), Duration::ZERO, 0);
    let (identity, centre) = centre();
    for round in 0..24 {
        let ticket = format!("R{round}");
        paid_visit(&s, &ticket, 5);
        let no = format!("{ticket}-1");
        let start = std::sync::Barrier::new(2);
        // The payment path seals its order while the pending sweep finds it "not sealed yet".
        let (paid, swept) = std::thread::scope(|sc| {
            let paid = sc.spawn(|| {
                start.wait();
                s.seal_paid(&centre, "b", &no, 9)
            });
            let swept = sc.spawn(|| {
                start.wait();
                s.seal_pending(&centre, "b", 9)
            });
            (paid.join().unwrap(), swept.join().unwrap())
        });
        let paid = paid.unwrap_or_else(|e| panic!("round {round}: the payment path failed: {e}"));
        let swept = swept.unwrap_or_else(|e| panic!("round {round}: the sweep failed: {e}"));
        assert_eq!(usize::from(paid) + swept, 1, "round {round}: sealed exactly once");
        // What is on disk is what the journal vouches for, so the uploader will send it.
        let sealed = fs::read(s.sealed_path(&no, SealedPart::Photo)).unwrap();
        let entry = s.journal().outbox_entry(&no).unwrap().unwrap();
        assert_eq!(entry.sealed_sha256, Some(sha256_hex(&sealed)), "round {round}");
        assert_eq!(age::decrypt(&identity, &sealed).unwrap(), b"standard");
    }
}

#[test]
fn a_journal_a_newer_gradbooth_wrote_is_never_set_aside_and_a_garbage_one_is() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (s, _) = open(dir.path(), Duration::ZERO, 0);
        s.journal().raw().pragma_update(None, "user_version", 99).unwrap();
    }
    let why = Storage::open(dir.path(), Duration::ZERO, 0).err().expect("a newer journal does not open").to_string();
    let rescue = Storage::open_rescue(dir.path(), Duration::ZERO, why).unwrap();
    let e = rescue.set_aside_journal(10).unwrap_err();
    assert!(e.to_string().contains("newer gradbooth"), "{e}");
    assert!(dir.path().join("journal.sqlite3").exists(), "left where it is");
    drop(rescue);
    fs::write(dir.path().join("journal.sqlite3"), b"garbage garbage garbage").unwrap();
    let _ = fs::remove_file(dir.path().join("journal.sqlite3-wal"));
    let rescue = Storage::open_rescue(dir.path(), Duration::ZERO, "not a database".into()).unwrap();
    let aside = rescue.set_aside_journal(11).unwrap();
    assert!(aside.kept_as.ends_with("journal.set-aside-11.sqlite3"));
    assert_eq!(rescue.broken(), None);
}
