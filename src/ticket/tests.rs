use data_encoding::BASE32_NOPAD;

use super::*;

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

const NOW: i64 = 1_748_916_000; // 2025-06-03 10:00 +08:00

fn claims() -> Claims {
    Claims { key_id: "k1".into(), ..demo_claims("fengxian-d108", NOW) }
}

fn ring(keys: &[(&str, &SigningKey)]) -> Keyring {
    let mut r = Keyring::default();
    for (id, k) in keys {
        r.insert(id, k.verifying_key());
    }
    r
}

fn check(text: &str, keys: &Keyring) -> Result<Claims, TicketRefusal> {
    verify(text, &Checkpoint { keys, site: "fengxian-d108", now: NOW })
}

#[test]
fn an_issued_ticket_verifies_and_says_who_it_is_for() {
    let k = key(1);
    let text = issue(&k, &claims());
    assert!(text.starts_with("GBT1:"));
    // Upper-case base32 only: the QR code can use its compact alphanumeric mode.
    assert!(text.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == ':'));
    assert!(text.len() < 300, "{} characters", text.len());
    let c = check(&text, &ring(&[("k1", &k)])).unwrap();
    assert_eq!(c, claims());
    let t = to_ticket(c);
    assert_eq!((t.name.as_str(), t.student_no_masked.as_str()), ("李明", "2022****56"));
}

#[test]
fn every_way_a_code_can_be_wrong_has_its_own_refusal() {
    let k = key(1);
    let keys = ring(&[("k1", &k)]);
    let good = issue(&k, &claims());
    // Forged: signed by someone else under our key id.
    assert_eq!(check(&issue(&key(9), &claims()), &keys), Err(TicketRefusal::BadSignature));
    // Altered: one character of the payload changed.
    let mut altered = good.clone().into_bytes();
    altered[12] = if altered[12] == b'A' { b'B' } else { b'A' };
    assert_eq!(check(std::str::from_utf8(&altered).unwrap(), &keys), Err(TicketRefusal::BadSignature));
    // Truncated.
    assert_eq!(check(&good[..good.len() - 5], &keys), Err(TicketRefusal::BadSignature));
    // An issuer the booth does not trust.
    let stranger = Claims { key_id: "k9".into(), ..claims() };
    assert_eq!(check(&issue(&key(9), &stranger), &keys), Err(TicketRefusal::BadSignature));
    let expired = Claims { expires_at: (NOW - 1) as u32, ..claims() };
    assert_eq!(check(&issue(&k, &expired), &keys), Err(TicketRefusal::Expired));
    let early = Claims { issued_at: (NOW + CLOCK_SLACK_SECS + 60) as u32, ..claims() };
    assert_eq!(check(&issue(&k, &early), &keys), Err(TicketRefusal::NotYetValid));
    let elsewhere = Claims { site: "xuhui-a".into(), ..claims() };
    assert_eq!(check(&issue(&k, &elsewhere), &keys), Err(TicketRefusal::WrongSite));
    for chsi in ["https://www.chsi.com.cn/xlcx/cj.jsp?code=ABC", "HTTPS://XZ.CHSI.COM.CN/capture/123"] {
        assert_eq!(check(chsi, &keys), Err(TicketRefusal::ChsiCaptureCode), "{chsi}");
    }
    for other in ["", "https://weixin.qq.com/r/abc", "GBT0|DEMO|李明|2022123456|学校", "hello"] {
        assert_eq!(check(other, &keys), Err(TicketRefusal::NotATicket), "{other:?}");
    }
}

#[test]
fn a_clock_a_little_behind_the_issuers_is_tolerated() {
    let k = key(1);
    let fresh = Claims { issued_at: (NOW + CLOCK_SLACK_SECS - 10) as u32, ..claims() };
    assert!(check(&issue(&k, &fresh), &ring(&[("k1", &k)])).is_ok());
}

#[test]
fn during_a_key_rotation_both_keys_are_trusted() {
    let (old, new) = (key(1), key(2));
    let keys = ring(&[("k1", &old), ("k2", &new)]);
    assert!(check(&issue(&old, &claims()), &keys).is_ok());
    assert!(check(&issue(&new, &Claims { key_id: "k2".into(), ..claims() }), &keys).is_ok());
    // The key id picks the key: a k2 ticket signed with k1 is refused.
    assert_eq!(
        check(&issue(&old, &Claims { key_id: "k2".into(), ..claims() }), &keys),
        Err(TicketRefusal::BadSignature)
    );
}

#[test]
fn debug_output_names_no_person() {
    let s = format!("{:?}", claims());
    assert!(!s.contains("李明") && !s.contains("2022"), "{s}");
}

#[test]
fn public_keys_round_trip_through_hex_and_bad_ones_are_explained() {
    let k = key(3).verifying_key();
    assert_eq!(public_key_from_hex(&public_key_hex(&k)).unwrap(), k);
    assert!(public_key_from_hex("abc").unwrap_err().contains("hex") || public_key_from_hex("abc").is_err());
    assert!(public_key_from_hex(&"00".repeat(31)).unwrap_err().contains("32 bytes"));
}

#[test]
fn short_numbers_are_masked_whole() {
    assert_eq!(mask("12345"), "*****");
    assert_eq!(mask("1234567"), "1234*67");
    assert_eq!(mask("2022123456"), "2022****56");
}

mod decoder_never_panics {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]
        #[test]
        fn on_any_text(s in "\\PC{0,400}") {
            let _ = decode(&s);
        }

        #[test]
        fn on_any_base32_after_the_prefix(s in "[A-Z2-7]{0,600}") {
            let _ = decode(&format!("GBT1:{s}"));
        }

        #[test]
        fn on_any_bytes_as_a_payload(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let text = format!("GBT1:{}", BASE32_NOPAD.encode(&bytes));
            let _ = verify(&text, &Checkpoint { keys: &Keyring::default(), site: "x", now: NOW });
        }

        #[test]
        fn on_a_valid_ticket_with_one_byte_changed(at in 0usize..200, to in any::<u8>()) {
            let k = key(1);
            let good = issue(&k, &claims());
            let mut raw = BASE32_NOPAD.decode(&good.as_bytes()[5..]).unwrap();
            let i = at % raw.len();
            prop_assume!(raw[i] != to);
            raw[i] = to;
            let text = format!("GBT1:{}", BASE32_NOPAD.encode(&raw));
            prop_assert!(check(&text, &ring(&[("k1", &k)])).is_err());
        }
    }
}

/// The published test vectors (docs/ticket-vectors.json): made from a fixed test key that no
/// booth trusts. `GRADBOOTH_WRITE_VECTORS=1 cargo test --lib vectors` rewrites the file.
#[test]
fn the_published_test_vectors_verify_as_documented() {
    let k = key(7);
    let base = Claims { key_id: "test".into(), site: "fengxian-d108".into(), ..demo_claims("fengxian-d108", NOW) };
    let good = issue(&k, &base);
    let mut altered = good.clone().into_bytes();
    altered[30] = if altered[30] == b'Q' { b'R' } else { b'Q' };
    let cases: Vec<(&str, String, Result<(), TicketRefusal>)> = vec![
        ("valid", good.clone(), Ok(())),
        ("altered_payload", String::from_utf8(altered).unwrap(), Err(TicketRefusal::BadSignature)),
        ("forged_signature", issue(&key(8), &base), Err(TicketRefusal::BadSignature)),
        (
            "unknown_issuer",
            issue(&key(8), &Claims { key_id: "other".into(), ..base.clone() }),
            Err(TicketRefusal::BadSignature),
        ),
        ("expired", issue(&k, &Claims { expires_at: (NOW - 60) as u32, ..base.clone() }), Err(TicketRefusal::Expired)),
        (
            "not_yet_valid",
            issue(&k, &Claims { issued_at: (NOW + 86400) as u32, ..base.clone() }),
            Err(TicketRefusal::NotYetValid),
        ),
        ("wrong_site", issue(&k, &Claims { site: "xuhui-a".into(), ..base.clone() }), Err(TicketRefusal::WrongSite)),
        ("truncated", good[..good.len() - 8].to_string(), Err(TicketRefusal::BadSignature)),
        ("chsi_capture_code", "https://www.chsi.com.cn/xlcx/index.jsp".into(), Err(TicketRefusal::ChsiCaptureCode)),
        ("unrelated", "https://u.wechat.com/abc".into(), Err(TicketRefusal::NotATicket)),
    ];
    let keys = ring(&[("test", &k)]);
    let mut vectors = Vec::new();
    for (name, text, want) in &cases {
        let got = check(text, &keys).map(|_| ());
        assert_eq!(&got, want, "{name}");
        vectors.push(serde_json::json!({
            "name": name,
            "text": text,
            "expect": match want { Ok(()) => "valid", Err(r) => r.code() },
        }));
    }
    let doc = serde_json::json!({
        "about": "gradbooth ticket test vectors (docs/ticket.md). The test key below is public: no booth may trust it.",
        "test_secret_key_hex": data_encoding::HEXLOWER.encode(&k.to_bytes()),
        "issuers": { "test": public_key_hex(&k.verifying_key()) },
        "site": "fengxian-d108",
        "now_unix": NOW,
        "vectors": vectors,
    });
    let text = serde_json::to_string_pretty(&doc).unwrap() + "\n";
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/ticket-vectors.json");
    if std::env::var_os("GRADBOOTH_WRITE_VECTORS").is_some() {
        std::fs::write(path, &text).unwrap();
    }
    assert_eq!(std::fs::read_to_string(path).unwrap_or_default(), text, "docs/ticket-vectors.json is stale");
}
