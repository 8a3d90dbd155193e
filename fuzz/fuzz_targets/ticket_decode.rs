//! The ticket decoder on any input: as text (what a scanner could deliver) and as a ticket
//! body (the bytes base32-encoded behind the prefix, to reach the binary payload parser).
//! It must never panic; libFuzzer's -rss_limit_mb / -malloc_limit_mb bound its memory.
#![no_main]

use std::sync::LazyLock;

use gradbooth::ticket::{self, Checkpoint, Keyring};
use libfuzzer_sys::fuzz_target;

static KEYS: LazyLock<Keyring> = LazyLock::new(|| {
    let mut k = Keyring::default();
    k.insert("fuzz", ed25519_dalek::SigningKey::from_bytes(&[9; 32]).verifying_key());
    k
});

fn check(text: &str) {
    let _ = ticket::is_chsi_code(text);
    if let Ok((claims, _)) = ticket::decode(text) {
        // Whatever decodes must be describable and checkable without panicking.
        let _ = claims.check();
        let _ = format!("{claims:?}");
    }
    let at = Checkpoint { keys: &KEYS, site: "fengxian-d108", now: 1_750_000_000 };
    let _ = ticket::verify(text, &at);
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        check(text);
    }
    let body = format!("{}{}", ticket::PREFIX, data_encoding::BASE32_NOPAD.encode(data));
    check(&body);
});
