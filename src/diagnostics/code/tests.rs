use ed25519_dalek::SigningKey;
use proptest::prelude::*;

use super::*;

const NOW: i64 = 1_780_000_000;

fn key(n: u8) -> SigningKey {
    SigningKey::from_bytes(&[n; 32])
}

fn ring(keys: &[(&str, &SigningKey)]) -> Keyring {
    let mut r = Keyring::default();
    for (id, k) in keys {
        r.insert(id, k.verifying_key());
    }
    r
}

fn claims() -> ServiceClaims {
    ServiceClaims {
        key_id: "field-2026".into(),
        technician: "T-0042".into(),
        sites: vec!["fengxian-d108".into(), "minhang-a1".into()],
        not_before: (NOW - 600) as u32,
        expires_at: (NOW + 8 * 3600) as u32,
        nonce: [1, 2, 3, 4, 5, 6, 7, 8],
    }
}

fn check_with(text: &str, keys: &Keyring, revoked: &Revoked, now: i64) -> Result<ServiceClaims, ServiceRefusal> {
    verify(text, &ServiceCheckpoint { keys, revoked, site: "fengxian-d108", now })
}

fn check(text: &str) -> Result<ServiceClaims, ServiceRefusal> {
    check_with(text, &ring(&[("field-2026", &key(1))]), &Revoked::default(), NOW)
}

#[test]
fn a_code_signed_by_a_trusted_service_key_for_this_site_opens_and_says_who() {
    let text = issue(&key(1), &claims());
    assert!(text.starts_with("GBS1:") && text[5..].chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()));
    let c = check(&text).unwrap();
    assert_eq!((c.technician.as_str(), c.nonce_hex().as_str()), ("T-0042", "0102030405060708"));
}

#[test]
fn each_wrong_code_has_its_own_refusal() {
    let good = claims();
    let refused = |c: &ServiceClaims| check(&issue(&key(1), c)).unwrap_err();
    assert_eq!(refused(&ServiceClaims { sites: vec!["minhang-a1".into()], ..good.clone() }), ServiceRefusal::WrongSite);
    let late = ServiceClaims { not_before: (NOW + 3600) as u32, expires_at: (NOW + 7200) as u32, ..good.clone() };
    assert_eq!(refused(&late), ServiceRefusal::NotYetValid);
    // Within the five minutes of clock slack it is valid already.
    let soon = ServiceClaims { not_before: (NOW + 200) as u32, ..good.clone() };
    assert!(check(&issue(&key(1), &soon)).is_ok());
    let old = ServiceClaims { not_before: (NOW - 7200) as u32, expires_at: NOW as u32, ..good.clone() };
    assert_eq!(refused(&old), ServiceRefusal::Expired);
    let week = ServiceClaims { expires_at: good.not_before + 7 * 86400, ..good.clone() };
    assert_eq!(refused(&week), ServiceRefusal::TooLong);
    let day = ServiceClaims { expires_at: good.not_before + MAX_VALID_SECS, ..good.clone() };
    assert!(check(&issue(&key(1), &day)).is_ok(), "exactly 24 hours is allowed");
    // Another key, even one the booth trusts for tickets, is not a service key.
    assert_eq!(check(&issue(&key(2), &good)).unwrap_err(), ServiceRefusal::BadSignature);
    let unknown_id = ServiceClaims { key_id: "someone-else".into(), ..good.clone() };
    assert_eq!(refused(&unknown_id), ServiceRefusal::BadSignature);
}

#[test]
fn a_graduates_ticket_a_chsi_code_and_anything_else_are_told_apart() {
    let ticket = crate::ticket::issue(&key(1), &crate::ticket::demo_claims("fengxian-d108", NOW));
    assert_eq!(check(&ticket).unwrap_err(), ServiceRefusal::GraduateTicket);
    assert_eq!(check("https://my.chsi.com.cn/archive/abc").unwrap_err(), ServiceRefusal::ChsiCode);
    assert_eq!(check("hello").unwrap_err(), ServiceRefusal::NotAServiceCode);
    assert_eq!(check("GBS1:NOT-BASE32!").unwrap_err(), ServiceRefusal::BadSignature);
    // And a service code is never a ticket: the ticket's own check refuses it.
    let service = issue(&key(1), &claims());
    let keys = ring(&[("field-2026", &key(1))]);
    let at = crate::ticket::Checkpoint { keys: &keys, site: "fengxian-d108", now: NOW };
    assert_eq!(crate::ticket::verify(&service, &at).unwrap_err(), crate::visit::TicketRefusal::NotATicket);
}

#[test]
fn a_revoked_technician_or_code_is_refused_and_others_are_not() {
    let text = issue(&key(1), &claims());
    let keys = ring(&[("field-2026", &key(1))]);
    let by = |entry: &str| Revoked([entry.to_owned()].into());
    assert_eq!(check_with(&text, &keys, &by("T-0042"), NOW).unwrap_err(), ServiceRefusal::Revoked);
    assert_eq!(check_with(&text, &keys, &by("0102030405060708"), NOW).unwrap_err(), ServiceRefusal::Revoked);
    assert!(check_with(&text, &keys, &by("T-0043"), NOW).is_ok());
    assert!(check_with(&text, &keys, &by("0102030405060709"), NOW).is_ok());
}

#[test]
fn nothing_is_issued_that_a_booth_would_refuse() {
    let good = claims();
    assert!(good.check().is_ok());
    assert!(ServiceClaims { sites: vec![], ..good.clone() }.check().is_err());
    assert!(ServiceClaims { sites: vec!["s".into(); MAX_SITES + 1], ..good.clone() }.check().is_err());
    assert!(ServiceClaims { technician: " ".into(), ..good.clone() }.check().is_err());
    assert!(ServiceClaims { expires_at: good.not_before + MAX_VALID_SECS + 1, ..good.clone() }.check().is_err());
    assert!(ServiceClaims { expires_at: good.not_before, ..good }.check().is_err());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]
    #[test]
    fn the_decoder_never_panics_on_any_payload(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let text = format!("GBS1:{}", data_encoding::BASE32_NOPAD.encode(&bytes));
        prop_assert!(check(&text).is_err());
    }

    #[test]
    fn one_changed_byte_never_verifies(at in 0usize..200, to in any::<u8>()) {
        let good = issue(&key(1), &claims());
        let mut raw = data_encoding::BASE32_NOPAD.decode(&good.as_bytes()[5..]).unwrap();
        let i = at % raw.len();
        prop_assume!(raw[i] != to);
        raw[i] = to;
        let text = format!("GBS1:{}", data_encoding::BASE32_NOPAD.encode(&raw));
        prop_assert!(check(&text).is_err());
    }
}
