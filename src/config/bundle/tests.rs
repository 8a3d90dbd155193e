//! Bundles signed by the real `minisign` tool (Debian package minisign; `scripts/setup --tests`
//! installs it), checked against the shipped configuration: what is applied, and each refusal.

use std::path::{Path, PathBuf};
use std::process::Command;

use proptest::prelude::*;

use super::*;

const SHIPPED: &str = include_str!("../../../config/booth.toml");

struct Keys {
    dir: tempfile::TempDir,
}

impl Keys {
    fn new(names: &[&str]) -> Keys {
        let dir = tempfile::tempdir().unwrap();
        for n in names {
            let out = Command::new("minisign")
                .args(["-G", "-W", "-p"])
                .arg(dir.path().join(format!("{n}.pub")))
                .arg("-s")
                .arg(dir.path().join(format!("{n}.key")))
                .output()
                .expect("minisign (Debian package minisign; scripts/setup --tests installs it)");
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        }
        Keys { dir }
    }
    fn public(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(format!("{name}.pub"))).unwrap().lines().nth(1).unwrap().to_owned()
    }
    /// `text` signed by `signers`, as the booth finds it: the bytes and each `.minisig`.
    fn sign(&self, text: &str, signers: &[&str]) -> (Vec<u8>, Vec<String>) {
        let file: PathBuf = self.dir.path().join("bundle.toml");
        std::fs::write(&file, text).unwrap();
        let sigs = signers.iter().map(|s| sign_file(&file, &self.dir.path().join(format!("{s}.key")), s)).collect();
        (text.as_bytes().to_vec(), sigs)
    }
}

fn sign_file(file: &Path, key: &Path, name: &str) -> String {
    let sig = file.with_extension(format!("toml.{name}.minisig"));
    let out =
        Command::new("minisign").arg("-S").arg("-s").arg(key).arg("-m").arg(file).arg("-x").arg(&sig).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    std::fs::read_to_string(sig).unwrap()
}

/// The shipped configuration trusting these operator keys, with these price bounds.
fn booth(keys: &Keys, names: &[&str]) -> String {
    let mut text = SHIPPED.to_owned();
    // The shipped file ends with its (empty) `[operators.keys]`, its price bounds 20 – 40.
    assert!(text.trim_end().ends_with("[operators.keys]"));
    text.push('\n');
    for n in names {
        text.push_str(&format!("{n} = \"{}\"\n", keys.public(n)));
    }
    text
}

fn now() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2026-12-01T10:00:00+08:00").unwrap()
}

fn header(serial: u64) -> String {
    format!(
        "[bundle]\nserial = {serial}\nbooths = [\"fengxian-d108\"]\nissued_at = \"2026-12-01T09:00:00+08:00\"\ncomment = \"winter round\"\n"
    )
}

const WINTER: &str =
    "[service]\nperiod_start = \"2026-12-01\"\nperiod_end = \"2026-12-31\"\nopens = \"10:00\"\ncloses = \"16:00\"\n";

fn check(current: &str, bundle: &[u8], sigs: &[String], floor: u64) -> Result<Verified, Refusal> {
    let settings = Settings::parse(current).unwrap();
    verify(bundle, sigs, &Checkpoint { current_text: current, current: &settings, serial_floor: floor, now: now() })
}

#[test]
fn an_everyday_change_signed_once_is_verified_with_its_changes_before_and_after() {
    let keys = Keys::new(&["office"]);
    let current = booth(&keys, &["office"]);
    let (bytes, sigs) = keys.sign(&format!("{}{WINTER}", header(3)), &["office"]);
    let v = check(&current, &bytes, &sigs, 2).unwrap();
    assert_eq!(v.signers, BTreeSet::from(["office".to_owned()]));
    let change = v.changes.iter().find(|c| c.key == "service.opens").unwrap();
    assert_eq!(
        (change.before.as_deref(), change.after.as_str(), change.kind),
        (Some("09:00"), "10:00", ChangeKind::Everyday)
    );
    assert!(v.changes.iter().all(|c| c.kind == ChangeKind::Everyday), "{:?}", v.changes);
    let new = Settings::parse(&v.new.source_text).unwrap();
    assert_eq!(new.schedule.hours_text(), "10:00–16:00");
    assert_eq!(new.file.booth.id, "fengxian-d108", "the rest is kept");
    assert_eq!(v.short_hash().len(), 16);
    assert!(v.warnings.is_empty(), "{:?}", v.warnings);
}

#[test]
fn the_staffed_studios_of_a_new_round_are_an_everyday_change() {
    let keys = Keys::new(&["office"]);
    let current = booth(&keys, &["office"]);
    let studios = "[[studios]]\nname = \"虹口\"\nname_en = \"Hongkou\"\naddress = \"虬江支路181号21楼2108室\"\naddress_en = \"Room 2108, 181 Qiujiang Branch Rd\"\nfrom = \"2026-12-01\"\nuntil = \"2026-12-20\"\ndays = [\"mon\", \"sat\"]\nopens = \"09:00\"\ncloses = \"16:30\"\n";
    let (bytes, sigs) = keys.sign(&format!("{}{WINTER}{studios}", header(4)), &["office"]);
    let v = check(&current, &bytes, &sigs, 0).unwrap();
    let change = v.changes.iter().find(|c| c.key == "studios").expect("the studios change");
    assert_eq!(change.kind, ChangeKind::Everyday);
    let new = Settings::parse(&v.new.source_text).unwrap();
    assert_eq!(new.studios.len(), 1, "the round's list replaces the old one whole");
}

#[test]
fn a_trust_change_needs_two_different_keys() {
    let keys = Keys::new(&["office", "centre"]);
    let current = booth(&keys, &["office", "centre"]);
    let issuer = data_encoding::HEXLOWER.encode(crate::ticket::generate_key().verifying_key().as_bytes());
    let trust = format!("{}[tickets.issuers]\nvendor-2026 = \"{issuer}\"\n", header(5));
    let (bytes, one) = keys.sign(&trust, &["office"]);
    assert_eq!(check(&current, &bytes, &one, 0).unwrap_err(), Refusal::TrustNeedsTwo);
    // The same key twice is still one key.
    let (_, twice) = keys.sign(&trust, &["office", "office"]);
    assert_eq!(check(&current, &bytes, &twice, 0).unwrap_err(), Refusal::TrustNeedsTwo);
    let (bytes, two) = keys.sign(&trust, &["office", "centre"]);
    let v = check(&current, &bytes, &two, 0).unwrap();
    assert!(v.changes.iter().any(|c| c.key == "tickets.issuers.vendor-2026" && c.kind == ChangeKind::Trust));
}

#[test]
fn each_refusal_has_its_own_code() {
    let keys = Keys::new(&["office", "stranger"]);
    let current = booth(&keys, &["office"]);
    let good = format!("{}{WINTER}", header(3));
    let (bytes, sigs) = keys.sign(&good, &["office"]);
    let refused = |bytes: &[u8], sigs: &[String], floor: u64| check(&current, bytes, sigs, floor).unwrap_err().code();
    assert_eq!(refused(&bytes, &[], 0), "unsigned");
    let mut altered = bytes.clone();
    altered[good.find("10:00").unwrap()] = b'2';
    assert_eq!(refused(&altered, &sigs, 0), "bad_signature");
    assert_eq!(refused(&bytes, &["not a signature".into()], 0), "bad_signature");
    let (b, s) = keys.sign(&good, &["stranger"]);
    assert_eq!(refused(&b, &s, 0), "unknown_key");
    assert_eq!(refused(&bytes, &sigs, 3), "replay", "the same serial again");
    assert_eq!(refused(&bytes, &sigs, 9), "replay", "an older one");
    let other = good.replace("fengxian-d108", "minhang-a1");
    let (b, s) = keys.sign(&other, &["office"]);
    assert_eq!(refused(&b, &s, 0), "not_for_this_booth");
    let late = good.replace("comment", "apply_before = \"2026-11-30T00:00:00+08:00\"\ncomment");
    let (b, s) = keys.sign(&late, &["office"]);
    assert_eq!(refused(&b, &s, 0), "expired");
    let future = good.replace("2026-12-01T09:00:00", "2026-12-02T09:00:00");
    let (b, s) = keys.sign(&future, &["office"]);
    assert_eq!(refused(&b, &s, 0), "not_yet_valid");
    let (b, s) = keys.sign(&format!("{}[booth]\nid = \"elsewhere\"\n", header(3)), &["office"]);
    assert_eq!(refused(&b, &s, 0), "not_changeable");
    let (b, s) = keys.sign(&format!("{}[policy]\nmax_attempts = 5\n", header(3)), &["office"]);
    let e = check(&current, &b, &s, 0).unwrap_err();
    assert_eq!(e.code(), "invalid_setting");
    assert!(e.to_string().contains("policy.max_attempts"), "names the key: {e}");
    let (b, s) = keys.sign(&format!("{}[payment]\nprice_yuan = \"90.00\"\n", header(3)), &["office"]);
    assert_eq!(refused(&b, &s, 0), "price_out_of_bounds");
    let (b, s) = keys.sign("just some text", &["office"]);
    assert_eq!(refused(&b, &s, 0), "unreadable");
    let big = vec![b'#'; MAX_BUNDLE + 1];
    assert_eq!(refused(&big, &sigs, 0), "too_large");
}

#[test]
fn a_price_within_bounds_is_everyday_money_and_a_big_jump_is_warned_about() {
    let keys = Keys::new(&["office"]);
    let current = booth(&keys, &["office"]).replace("price_yuan = \"30.00\"", "price_yuan = \"20.00\"");
    let (b, s) = keys.sign(&format!("{}[payment]\nprice_yuan = \"35.00\"\n", header(3)), &["office"]);
    let v = check(&current, &b, &s, 0).unwrap();
    assert_eq!(v.changes[0].kind, ChangeKind::Money);
    assert!(v.warnings.contains(&Warning::PriceJump { before: 2000, after: 3500 }), "{:?}", v.warnings);
    // The shipped period (2025) has ended: applied, but warned about.
    assert!(v.warnings.contains(&Warning::PeriodAlreadyEnded));
    // A small price change is not.
    let (b, s) = keys.sign(&format!("{}{WINTER}[payment]\nprice_yuan = \"22.00\"\n", header(5)), &["office"]);
    assert_eq!(check(&current, &b, &s, 0).unwrap().warnings, vec![]);
    // An old service period is applied but warned about.
    let old = "[service]\nperiod_start = \"2026-05-01\"\nperiod_end = \"2026-06-30\"\n";
    let (b, s) = keys.sign(&format!("{}{old}", header(4)), &["office"]);
    assert!(check(&current, &b, &s, 0).unwrap().warnings.contains(&Warning::PeriodAlreadyEnded));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// Whatever the bytes, reading them refuses or succeeds, and never panics.
    #[test]
    fn any_bytes_are_read_without_a_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = read(&bytes);
    }

    /// Reading any single-byte change of a valid bundle never panics either.
    #[test]
    fn any_single_byte_change_of_a_bundle_is_read_without_a_panic(at in 0usize..400, byte in any::<u8>()) {
        let mut b = format!("{}{WINTER}", header(3)).into_bytes();
        let at = at % b.len();
        b[at] = byte;
        let _ = read(&b);
    }
}

#[test]
fn any_single_byte_change_of_a_signed_bundle_is_refused() {
    let keys = Keys::new(&["office"]);
    let current = booth(&keys, &["office"]);
    let settings = Settings::parse(&current).unwrap();
    let (bytes, sigs) = keys.sign(&format!("{}{WINTER}", header(3)), &["office"]);
    let at = Checkpoint { current_text: &current, current: &settings, serial_floor: 0, now: now() };
    assert!(verify(&bytes, &sigs, &at).is_ok());
    for i in 0..bytes.len() {
        for flip in [0x01u8, 0x80] {
            let mut b = bytes.clone();
            b[i] ^= flip;
            assert_eq!(verify(&b, &sigs, &at).unwrap_err(), Refusal::BadSignature, "byte {i}");
        }
    }
}

#[test]
fn a_stick_bundle_with_an_applied_serial_and_other_bytes_is_an_alarm_and_a_plain_replay_is_not() {
    let keys = Keys::new(&["office"]);
    let current = booth(&keys, &["office"]);
    let settings = Settings::parse(&current).unwrap();
    let data = tempfile::tempdir().unwrap();
    let g = crate::config::generations::Generations::at(data.path());
    let (applied, sigs) = keys.sign(&format!("{}{WINTER}", header(5)), &["office"]);
    let at0 = Checkpoint { current_text: &current, current: &settings, serial_floor: 0, now: now() };
    g.apply(&verify(&applied, &sigs, &at0).unwrap(), &applied).unwrap();

    let stick = tempfile::tempdir().unwrap();
    let folder = stick.path().join("gradbooth");
    std::fs::create_dir(&folder).unwrap();
    let put = |name: &str, bytes: &[u8], sigs: &[String]| {
        std::fs::write(folder.join(name), bytes).unwrap();
        std::fs::write(folder.join(format!("{name}.minisig")), &sigs[0]).unwrap();
    };
    put("again.toml", &applied, &sigs);
    let (other, other_sigs) = keys.sign(&format!("{}[service]\nopens = \"06:00\"\n", header(5)), &["office"]);
    put("other.toml", &other, &other_sigs);
    let at = Checkpoint { serial_floor: 5, ..at0 };
    let report = inspect::inspect(stick.path(), &at, &g);
    let by = |n: &str| report.bundles.iter().find(|b| b.name == n).unwrap();
    assert_eq!(by("again.toml").result.as_ref().unwrap_err().code(), "replay");
    assert_eq!(by("again.toml").alarm, None, "the same bundle again is a plain replay");
    assert_eq!(by("other.toml").result.as_ref().unwrap_err().code(), "replay");
    let (serial, hash) = by("other.toml").alarm.clone().expect("an alarm");
    assert_eq!((serial, hash), (5, crate::journal::storage::sha256_hex(&applied)));
    assert!(report.applicable().is_none());
}
