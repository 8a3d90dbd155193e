//! What is on an operator's stick, as the desk shows it: the stick read once into memory
//! (`stick::read`), every bundle on it verified against the configuration the booth runs now,
//! and the one that may be applied — the lowest valid serial (bundles are changes, applied in
//! order). A bundle whose serial was applied before but whose bytes differ is an **alarm** for
//! the audit log: somebody signed two different bundles with one serial.

use std::path::Path;

use super::stick::{self, StickError};
use super::{Checkpoint, Refusal, Verified};
use crate::config::generations::Generations;

/// One bundle on the stick and what the booth makes of it.
#[derive(Debug, Clone)]
pub struct Inspected {
    pub name: String,
    pub bytes: Vec<u8>,
    pub result: Result<Verified, Refusal>,
    /// Same serial as an applied bundle, different contents: (serial, the applied one's hash).
    pub alarm: Option<(u64, String)>,
}

/// The stick as the desk shows it.
#[derive(Debug, Clone, Default)]
pub struct StickReport {
    /// The stick could not be read: nothing on it is used.
    pub error: Option<StickError>,
    pub bundles: Vec<Inspected>,
}

impl StickReport {
    /// The bundle that may be applied now: the valid one with the lowest serial.
    pub fn applicable(&self) -> Option<&Inspected> {
        self.bundles.iter().filter(|b| b.result.is_ok()).min_by_key(|b| b.result.as_ref().map_or(u64::MAX, serial))
    }
}

fn serial(v: &Verified) -> u64 {
    v.header.serial
}

/// Reads `stick` and verifies what is on it.
pub fn inspect(stick_dir: &Path, at: &Checkpoint, generations: &Generations) -> StickReport {
    match stick::read(stick_dir) {
        Err(e) => StickReport { error: Some(e), bundles: Vec::new() },
        Ok(found) => StickReport {
            error: None,
            bundles: found
                .into_iter()
                .map(|f| {
                    let result = super::verify(&f.bytes, &f.signatures, at);
                    let alarm = match &result {
                        Err(Refusal::Replay { serial, .. }) => generations
                            .applied_sha256(*serial)
                            .filter(|applied| *applied != crate::journal::storage::sha256_hex(&f.bytes))
                            .map(|applied| (*serial, applied)),
                        _ => None,
                    };
                    Inspected { name: f.name, bytes: f.bytes, result, alarm }
                })
                .collect(),
        },
    }
}
