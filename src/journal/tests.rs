use super::*;

fn journal() -> (tempfile::TempDir, Journal) {
    let dir = tempfile::tempdir().unwrap();
    let j = Journal::open_dir(dir.path()).unwrap();
    (dir, j)
}

#[test]
fn a_new_journal_is_migrated_in_wal_mode_with_full_sync() {
    let (_d, j) = journal();
    assert_eq!(j.schema_version().unwrap(), MIGRATIONS.len() as i64);
    let mode: String = j.conn.pragma_query_value(None, "journal_mode", |r| r.get(0)).unwrap();
    let sync: i64 = j.conn.pragma_query_value(None, "synchronous", |r| r.get(0)).unwrap();
    assert_eq!((mode.as_str(), sync), ("wal", 2));
}

#[test]
fn attempts_survive_reopening_and_a_paid_ticket_is_finished() {
    let (dir, j) = journal();
    assert_eq!(j.ticket_seen("T1", 10).unwrap(), TicketState { attempts_used: 0, finished: false });
    j.attempt_started("T1", 1, 11).unwrap();
    j.attempt_started("T1", 2, 12).unwrap();
    drop(j);
    let j = Journal::open_dir(dir.path()).unwrap();
    assert_eq!(j.ticket_seen("T1", 20).unwrap(), TicketState { attempts_used: 2, finished: false });
    j.visit_ended("T1", "paid", true, 30).unwrap();
    assert!(j.ticket("T1").unwrap().unwrap().finished);
}

#[test]
fn a_voided_attempt_is_given_back_but_attempts_never_exceed_three() {
    let (_d, j) = journal();
    j.attempt_started("T1", 1, 1).unwrap();
    j.attempt_voided("T1", 1).unwrap();
    assert_eq!(j.ticket("T1").unwrap().unwrap().attempts_used, 0);
    for n in 1..=3 {
        j.attempt_started("T1", n, 2).unwrap();
    }
    // A fourth is refused by the schema itself, whatever the caller does.
    assert!(j.attempt_started("T1", 4, 3).is_err());
    assert_eq!(j.most_attempts().unwrap(), 3);
}

#[test]
fn a_version_2_journal_keeps_its_orders_and_outbox_through_the_migration() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.sqlite3");
    {
        let c = Connection::open(&path).unwrap();
        c.execute_batch(MIGRATIONS[0]).unwrap();
        c.execute_batch(MIGRATIONS[1]).unwrap();
        c.pragma_update(None, "user_version", 2).unwrap();
        c.execute_batch(
            "INSERT INTO tickets (id, first_seen) VALUES ('T1', 1);
             INSERT INTO photos (file, ticket_id, attempt, kind, created_at) VALUES ('p.jpg', 'T1', 1, 'standard', 1);
             INSERT INTO orders VALUES ('O1', 'T1', 'p.jpg', 3000, 'paid', 1, 2);
             INSERT INTO outbox (photo, out_trade_no, queued_at) VALUES ('p.jpg', 'O1', 2);
             INSERT INTO reviews (ticket_id, attempt, at, passed, reasons) VALUES ('T1', 1, 1, 1, '');",
        )
        .unwrap();
    }
    let j = Journal::open(&path).unwrap();
    assert_eq!(j.schema_version().unwrap(), MIGRATIONS.len() as i64);
    assert_eq!(j.order("O1").unwrap(), Some(OrderState::Paid));
    assert_eq!(j.outbox().unwrap(), vec![("p.jpg".to_string(), "O1".to_string())]);
    assert_eq!(j.manifest_of("O1").unwrap().unwrap().measures_json, "{}");
    assert!(j.integrity_ok().unwrap());
    let fk: i64 = j.conn.query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| r.get(0)).unwrap();
    assert_eq!(fk, 0);
    let on: i64 = j.conn.pragma_query_value(None, "foreign_keys", |r| r.get(0)).unwrap();
    assert_eq!(on, 1, "foreign keys on again after the migration");
    // The new state is allowed, and a paid order stays paid.
    j.order_state("O1", OrderState::Disputed, 3).unwrap();
    assert_eq!(j.order("O1").unwrap(), Some(OrderState::Paid));
}

#[test]
fn a_kept_photo_is_the_last_passing_unpaid_standard_photo_within_its_time() {
    let (_d, j) = journal();
    let photo = |file: &str, attempt: u8, at: i64| {
        j.attempt_started("T1", attempt, at).unwrap();
        j.photo_saved(file, "T1", attempt, PhotoKind::Standard, at).unwrap();
    };
    photo("a1.jpg", 1, 100);
    j.review("T1", 1, true, &[], "{}", 101).unwrap();
    photo("a2.jpg", 2, 200);
    j.review("T1", 2, false, &["blurry"], "{}", 201).unwrap();
    let kept = |now| j.kept_photo("T1", now, 1800).unwrap().map(|k| (k.file, k.attempt));
    assert_eq!(kept(300), Some(("a1.jpg".into(), 1)), "the failed attempt 2 is not offered");
    assert_eq!(kept(100 + 1800), None, "kept for the retention only");
    j.photo_deleted("a1.jpg", 400).unwrap();
    assert_eq!(kept(500), None);
    photo("a3.jpg", 3, 600);
    j.review("T1", 3, true, &[], "{}", 601).unwrap();
    assert_eq!(kept(700), Some(("a3.jpg".into(), 3)));
    let order = NewOrder { out_trade_no: "O1", ticket_id: "T1", photo: Some("a3.jpg"), amount_fen: 3000 };
    j.order_created(&order, 700).unwrap();
    j.order_state("O1", OrderState::Disputed, 701).unwrap();
    assert_eq!(kept(702), None, "not one whose payment is disputed");
    assert_eq!(j.kept_photo("T2", 702, 1800).unwrap(), None);
}

proptest::proptest! {
    /// Order numbers come from one counter of the booth's, whatever the tickets are called
    /// and however the clock moves: never twice, across restarts and a journal started
    /// afresh later, and none of them carries the ticket.
    #[test]
    fn order_numbers_never_repeat_whatever_the_tickets_and_the_clock(
        orders in proptest::collection::vec(
            (proptest::prop_oneof!["A-1", "A1", "a1", "DEMO-0001", "[A-Za-z0-9_-]{1,40}"], -5i64..120),
            1..40,
        ),
        reopen_after in 0usize..40,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open_dir(dir.path()).unwrap();
        let mut clock = 1_748_916_000i64;
        let mut seen = std::collections::BTreeSet::new();
        for (i, (ticket, step)) in orders.iter().enumerate() {
            if i == reopen_after {
                drop(j);
                j = Journal::open_dir(dir.path()).unwrap();
            }
            clock += step;
            j.ticket_seen(ticket, clock).unwrap();
            let no = crate::payment::out_trade_no("fengxian-d108", j.next_order(clock).unwrap());
            let counter = no.strip_prefix("fengxian-d108_").unwrap_or("");
            proptest::prop_assert!(!counter.is_empty() && counter.chars().all(|c| c.is_ascii_digit()), "{}", no);
            proptest::prop_assert!(seen.insert(no.clone()), "{} handed out twice", no);
        }
    }
}

#[test]
fn a_fresh_journal_does_not_reuse_the_numbers_of_the_one_set_aside() {
    let (_d, j) = journal();
    let first: Vec<u64> = (0..3).map(|_| j.next_order(1_748_916_000).unwrap()).collect();
    assert_eq!(first, [1_748_916_000, 1_748_916_001, 1_748_916_002]);
    // The clock going back (a Pi without its time yet) does not lower the counter.
    assert_eq!(j.next_order(1_000).unwrap(), 1_748_916_003);
    let (_e, fresh) = journal();
    assert!(fresh.next_order(1_748_916_000 + 3600).unwrap() > first[2]);
}

#[test]
fn a_journal_from_a_newer_gradbooth_is_refused_not_damaged() {
    let (dir, j) = journal();
    j.conn.pragma_update(None, "user_version", 99).unwrap();
    drop(j);
    let err = Journal::open_dir(dir.path()).err().unwrap();
    assert!(err.to_string().contains("newer gradbooth"), "{err}");
}
