//! The wiring table for technicians: which Raspberry Pi header pin goes to which device,
//! generated from the configuration (`gradbooth wiring`), so the README's table and the
//! booth's pins cannot drift apart (a test compares them).

use super::settings::Hardware;

/// BCM GPIO number → physical pin of the 40-pin header.
fn header_pin(bcm: u8) -> Option<u8> {
    const HEADER: [(u8, u8); 28] = [
        (0, 27),
        (1, 28),
        (2, 3),
        (3, 5),
        (4, 7),
        (5, 29),
        (6, 31),
        (7, 26),
        (8, 24),
        (9, 21),
        (10, 19),
        (11, 23),
        (12, 32),
        (13, 33),
        (14, 8),
        (15, 10),
        (16, 36),
        (17, 11),
        (18, 12),
        (19, 35),
        (20, 38),
        (21, 40),
        (22, 15),
        (23, 16),
        (24, 18),
        (25, 22),
        (26, 37),
        (27, 13),
    ];
    HEADER.iter().find(|(b, _)| *b == bcm).map(|(_, p)| *p)
}

/// The Markdown table, rows by header pin.
pub fn table(hardware: &Hardware) -> String {
    let mut rows: Vec<(u8, u8, String)> =
        hardware.gpio_uses().into_iter().map(|(bcm, what)| (header_pin(bcm).unwrap_or(0), bcm, what)).collect();
    rows.sort();
    let mut out = String::from("| header pin | GPIO (BCM) | device |\n|---|---|---|\n");
    for (pin, bcm, what) in rows {
        out.push_str(&format!("| {pin} | {bcm} | {what} |\n"));
    }
    if let Some(s) = &hardware.scanner {
        out.push_str(&format!("| USB | — | QR scanner (USB CDC serial) at `{}`, {} baud |\n", s.path, s.baud));
    }
    out.push_str("| USB | — | camera (UVC) |\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;

    #[test]
    fn the_readme_wiring_table_is_the_default_configurations() {
        let settings = Settings::parse(include_str!("../../config/booth.toml")).unwrap();
        let table = table(&settings.file.hardware);
        assert!(table.contains("| 11 | 17 | chair motor up"), "{table}");
        let readme = include_str!("../../README.md");
        assert!(
            readme.contains(&table),
            "README.md's wiring table differs from config/booth.toml; paste `gradbooth wiring`:\n{table}"
        );
    }

    #[test]
    fn every_gpio_has_a_header_pin() {
        assert!((0..=27).all(|b| header_pin(b).is_some()));
        assert_eq!(header_pin(28), None);
    }
}
