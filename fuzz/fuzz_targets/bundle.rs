//! An operator's bundle on any bytes, with any signature text: verified against the shipped
//! configuration — refused or accepted, never a panic — and, since a fuzzer cannot forge a
//! signature, what the booth does with the bytes once they are authenticated: read, merged
//! onto the configuration and the result checked whole. The first byte splits the input into
//! bundle and signature.
#![no_main]

use std::sync::LazyLock;

use gradbooth::config::Settings;
use gradbooth::config::bundle::{self, Checkpoint};
use libfuzzer_sys::fuzz_target;

const SHIPPED: &str = include_str!("../../config/booth.toml");

static SETTINGS: LazyLock<Settings> = LazyLock::new(|| Settings::parse(SHIPPED).expect("the shipped configuration"));

fuzz_target!(|data: &[u8]| {
    let Some((&cut, rest)) = data.split_first() else { return };
    let cut = usize::from(cut).min(rest.len());
    let (sig, bytes) = rest.split_at(cut);
    if let Ok((_, settings)) = bundle::read(bytes) {
        let current: toml::Table = toml::from_str(SHIPPED).expect("the shipped configuration");
        if let Ok(merged) = bundle::merge_settings(&current, &settings)
            && let Ok(text) = toml::to_string(&merged)
        {
            let _ = Settings::parse(&text);
        }
    }
    let now = chrono::DateTime::parse_from_rfc3339("2026-12-01T10:00:00+08:00").expect("a time");
    let at = Checkpoint { current_text: SHIPPED, current: &SETTINGS, serial_floor: 0, now };
    let _ = bundle::verify(bytes, &[String::from_utf8_lossy(sig).into_owned()], &at);
});
