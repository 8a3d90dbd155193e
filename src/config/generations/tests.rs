//! Generations: applied on trial, confirmed, rolled back when a trial start never confirmed
//! or the checker refuses it; the serial floor never drops. Bundles here are taken as
//! verified (their signatures are `bundle`'s tests).

use super::*;

const SHIPPED: &str = include_str!("../../../config/booth.toml");

fn bundle(serial: u64, settings: &str) -> (Verified, Vec<u8>) {
    let text = format!(
        "[bundle]\nserial = {serial}\nbooths = [\"fengxian-d108\"]\nissued_at = \"2026-12-01T09:00:00+08:00\"\n{settings}"
    );
    let (header, _) = bundle::read(text.as_bytes()).unwrap();
    let v = Verified {
        header,
        signers: Default::default(),
        sha256: "0".repeat(64),
        changes: vec![],
        warnings: vec![],
        new: Box::new(Settings::parse(SHIPPED).unwrap()),
    };
    (v, text.into_bytes())
}

fn hours(s: &Settings) -> String {
    s.schedule.hours_text()
}

#[test]
fn a_generation_is_on_trial_until_confirmed_and_a_second_unconfirmed_start_rolls_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let g = Generations::at(dir.path());
    let (s, _, notes) = g.start(SHIPPED, None).unwrap();
    assert_eq!((hours(&s), notes.len()), ("09:00–16:30".into(), 0), "no generation: the base file");
    let (v, b) = bundle(3, "[service]\nopens = \"10:00\"\n");
    g.apply(&v, &b).unwrap();
    // First start on trial: the new hours.
    let (s, text, notes) = g.start(SHIPPED, None).unwrap();
    assert_eq!(hours(&s), "10:00–16:30");
    assert!(notes.is_empty());
    assert!(text.contains("opens = \"10:00\""));
    // It never confirmed (a crash): the next start is on the previous generation.
    let (s, _, notes) = g.start(SHIPPED, None).unwrap();
    assert_eq!(hours(&s), "09:00–16:30");
    assert_eq!(notes[0].action, "config_rolled_back");
    assert_eq!(g.state().unwrap().floor, 3, "the floor stays");
    // Applied again (serial 4) and confirmed: it stays over restarts.
    let (v, b) = bundle(4, "[service]\nopens = \"10:00\"\n");
    g.apply(&v, &b).unwrap();
    g.start(SHIPPED, None).unwrap();
    assert!(g.confirm().unwrap());
    for _ in 0..3 {
        assert_eq!(hours(&g.start(SHIPPED, None).unwrap().0), "10:00–16:30");
    }
    assert_eq!(g.state().unwrap().applied, vec![4]);
}

#[test]
fn a_generation_the_checker_refuses_is_rolled_back_at_once_and_a_lower_serial_never_applies() {
    let dir = tempfile::tempdir().unwrap();
    let g = Generations::at(dir.path());
    let (v, b) = bundle(5, "[service]\ncloses = \"17:00\"\n");
    g.apply(&v, &b).unwrap();
    g.start(SHIPPED, None).unwrap();
    g.confirm().unwrap();
    // A bundle that passed its checks against an older base, refused against today's.
    let (v, b) = bundle(6, "[policy]\nmax_attempts = 3\n");
    g.apply(&v, &b).unwrap();
    std::fs::write(g.bundle_path(6), b"[bundle]\nserial = 6\nissued_at = \"x\"\n[policy]\nmax_attempts = 9\n").unwrap();
    let (s, _, notes) = g.start(SHIPPED, None).unwrap();
    assert_eq!(hours(&s), "09:00–17:00", "the previous generation, bundle 5 still in it");
    assert!(notes[0].detail.contains("refused"), "{notes:?}");
    let (v, b) = bundle(6, "");
    assert!(g.apply(&v, &b).is_err(), "6 is not above the floor 6");
}
