//! An operator's configuration bundle (docs/bundle.md): a TOML file holding only the settings
//! it changes, with a `[bundle]` header inside the signed bytes (serial, which booths, when),
//! signed with minisign by operator keys the booth trusts (`[operators] keys`). Verified in
//! memory, before a byte of it is parsed: signatures first, then the header (for this booth?
//! newer than the last applied? in its time?), then each change — an everyday one, or a trust
//! one that needs two different keys — and the whole new configuration through the same
//! checker as at start-up. Every refusal has its own code (`Refusal::code`).

mod changes;
pub mod cmd;
pub mod inspect;
pub mod stick;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, FixedOffset};
use serde::Deserialize;

pub use self::changes::{Change, ChangeKind, Warning};
use super::{ConfigError, Settings};
use crate::validate::{Invalid, invalid};

/// The largest bundle file looked at (a whole configuration is ~12 KB).
pub const MAX_BUNDLE: usize = 256 * 1024;
/// The largest signature file (minisign's are ~300 bytes).
pub const MAX_SIGNATURE: usize = 4096;
/// How far a bundle's `issued_at` may lie ahead of the booth's clock.
const CLOCK_SLACK_SECS: i64 = 300;

/// `[operators]`: who may change this booth, and the price bounds everyday bundles stay in.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorsFile {
    /// Key name → minisign public key (the base64 line of `minisign.pub`).
    #[serde(default)]
    pub keys: BTreeMap<String, String>,
    /// An everyday bundle may set `payment.price_yuan` within these (yuan, as text).
    #[serde(default)]
    pub price_bounds_yuan: Option<[String; 2]>,
    /// Where an operator's USB stick appears (the Pi: `/run/gradbooth/stick`, mounted
    /// read-only by gradbooth-stick@.service); none: the booth takes no stick.
    #[serde(default)]
    pub stick: Option<std::path::PathBuf>,
    /// The command that makes the stick writable for an export (the Pi: starting
    /// gradbooth-stick-rw.service); empty: it is writable as it is.
    #[serde(default)]
    pub stick_writable: Vec<String>,
    /// The command that syncs and unmounts the stick after an export, so it may be pulled.
    #[serde(default)]
    pub stick_eject: Vec<String>,
}

/// `[operators]`, checked.
#[derive(Clone, Default)]
pub struct Operators {
    pub keys: BTreeMap<String, minisign_verify::PublicKey>,
    /// In fen.
    pub price_bounds: Option<(u32, u32)>,
    pub stick: Option<std::path::PathBuf>,
    pub stick_writable: Vec<String>,
    pub stick_eject: Vec<String>,
}

impl std::fmt::Debug for Operators {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Operators")
            .field("keys", &self.keys.keys())
            .field("price_bounds", &self.price_bounds)
            .field("stick", &self.stick)
            .finish()
    }
}

impl OperatorsFile {
    pub fn validate(&self) -> Result<Operators, Invalid> {
        let mut keys = BTreeMap::new();
        for (name, b64) in &self.keys {
            let key = minisign_verify::PublicKey::from_base64(b64.trim()).map_err(|_| {
                invalid(
                    &format!("operators.keys.{name}"),
                    "(not a key)",
                    "a minisign public key: the second line of minisign.pub",
                )
            })?;
            keys.insert(name.clone(), key);
        }
        let price_bounds = match &self.price_bounds_yuan {
            None => None,
            Some([lo, hi]) => {
                let fen = |v: &str| crate::payment::settings::parse_price_fen(v);
                match (fen(lo), fen(hi)) {
                    (Some(lo), Some(hi)) if lo <= hi => Some((lo, hi)),
                    _ => {
                        return Err(invalid(
                            "operators.price_bounds_yuan",
                            format!("{lo:?}, {hi:?}"),
                            "[\"low\", \"high\"] in yuan, low ≤ high, e.g. [\"20.00\", \"40.00\"]",
                        ));
                    }
                }
            }
        };
        Ok(Operators {
            keys,
            price_bounds,
            stick: self.stick.clone(),
            stick_writable: self.stick_writable.clone(),
            stick_eject: self.stick_eject.clone(),
        })
    }
}

/// The signed header of a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// Increases with every bundle for these booths; a booth takes only a higher one.
    pub serial: u64,
    /// The booths it is for (`[booth] id`) …
    #[serde(default)]
    pub booths: Vec<String>,
    /// … or every booth of this site (`[tickets] site`).
    #[serde(default)]
    pub site: Option<String>,
    /// RFC 3339.
    pub issued_at: String,
    /// RFC 3339; not applied after.
    #[serde(default)]
    pub apply_before: Option<String>,
    #[serde(default)]
    pub comment: String,
}

/// Why a bundle is not applied. Each has its own message on screen and in `bundle verify`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// More than `MAX_BUNDLE` bytes (or a signature over `MAX_SIGNATURE`).
    TooLarge,
    /// Not UTF-8 text, not TOML, or its header is missing or malformed.
    Unreadable(String),
    /// No signature file beside it.
    Unsigned,
    /// A signature that is damaged, or that does not match the bundle's bytes.
    BadSignature,
    /// Signed by a key this booth does not trust (`[operators] keys`).
    UnknownKey,
    /// For other booths or another site.
    NotForThisBooth,
    /// Its serial is not above the last applied one: a replay or a downgrade.
    Replay { serial: u64, floor: u64 },
    /// `apply_before` has passed.
    Expired,
    /// `issued_at` lies in the future.
    NotYetValid,
    /// A trust change signed by only one key.
    TrustNeedsTwo,
    /// A setting a bundle may not change (the booth's id, its hardware, its data directory).
    NotChangeable(String),
    /// An everyday price outside `[operators] price_bounds_yuan`.
    PriceOutOfBounds(String),
    /// The configuration it makes is refused by the checker.
    Invalid(String),
}

impl Refusal {
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::TooLarge => "too_large",
            Refusal::Unreadable(_) => "unreadable",
            Refusal::Unsigned => "unsigned",
            Refusal::BadSignature => "bad_signature",
            Refusal::UnknownKey => "unknown_key",
            Refusal::NotForThisBooth => "not_for_this_booth",
            Refusal::Replay { .. } => "replay",
            Refusal::Expired => "expired",
            Refusal::NotYetValid => "not_yet_valid",
            Refusal::TrustNeedsTwo => "trust_needs_two",
            Refusal::NotChangeable(_) => "not_changeable",
            Refusal::PriceOutOfBounds(_) => "price_out_of_bounds",
            Refusal::Invalid(_) => "invalid_setting",
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::TooLarge => write!(f, "too large (a bundle at most {MAX_BUNDLE} bytes)"),
            Refusal::Unreadable(why) => write!(f, "unreadable: {why}"),
            Refusal::Unsigned => f.write_str("unsigned: no .minisig beside it"),
            Refusal::BadSignature => f.write_str("a signature does not match the bundle (damaged or altered)"),
            Refusal::UnknownKey => f.write_str("signed by a key this booth does not trust ([operators] keys)"),
            Refusal::NotForThisBooth => f.write_str("not for this booth"),
            Refusal::Replay { serial, floor } => {
                write!(f, "serial {serial} is not above {floor}, the last applied: a replay or a downgrade")
            }
            Refusal::Expired => f.write_str("expired (apply_before has passed)"),
            Refusal::NotYetValid => f.write_str("issued in the future (check the booth's clock)"),
            Refusal::TrustNeedsTwo => f.write_str("a trust change needs the signatures of two different operator keys"),
            Refusal::NotChangeable(key) => write!(f, "{key} cannot be changed by a bundle"),
            Refusal::PriceOutOfBounds(why) => write!(f, "price out of bounds: {why}"),
            Refusal::Invalid(why) => write!(f, "the new configuration is refused: {why}"),
        }
    }
}

/// What the booth checks a bundle against.
pub struct Checkpoint<'a> {
    /// The configuration the booth runs now (its text: the base plus the bundles applied).
    pub current_text: &'a str,
    pub current: &'a Settings,
    /// The highest serial applied so far.
    pub serial_floor: u64,
    pub now: DateTime<FixedOffset>,
}

/// A bundle that may be applied: what it changes, who signed it, and the whole configuration
/// it makes (checked).
#[derive(Debug, Clone)]
pub struct Verified {
    pub header: Header,
    /// The names of the operator keys whose signatures verified.
    pub signers: BTreeSet<String>,
    /// SHA-256 of the bundle's bytes (the first 16 hex digits are shown to compare).
    pub sha256: String,
    pub changes: Vec<Change>,
    pub warnings: Vec<Warning>,
    /// The new whole configuration, checked as the booth runs it (its text: `source_text`).
    pub new: Box<Settings>,
}

impl Verified {
    pub fn short_hash(&self) -> &str {
        &self.sha256[..16]
    }
}

/// Verifies `bundle` (its bytes, read once into memory) with its `signatures` (each a
/// `.minisig` file's text) for the booth at `at`.
pub fn verify(bundle: &[u8], signatures: &[String], at: &Checkpoint) -> Result<Verified, Refusal> {
    if bundle.len() > MAX_BUNDLE || signatures.iter().any(|s| s.len() > MAX_SIGNATURE) {
        return Err(Refusal::TooLarge);
    }
    if signatures.is_empty() {
        return Err(Refusal::Unsigned);
    }
    let ops = &at.current.operators;
    let mut signers = BTreeSet::new();
    for text in signatures {
        let sig = minisign_verify::Signature::decode(text).map_err(|_| Refusal::BadSignature)?;
        let mut known = false;
        for (name, key) in &ops.keys {
            match key.verify(bundle, &sig, false) {
                Ok(()) => {
                    signers.insert(name.clone());
                    known = true;
                }
                Err(minisign_verify::Error::UnexpectedKeyId) => {}
                Err(_) => return Err(Refusal::BadSignature),
            }
        }
        if !known {
            return Err(Refusal::UnknownKey);
        }
    }
    // Authenticated: now it may be read.
    let (header, table) = read(bundle)?;
    let booth = &at.current.file.booth.id;
    let site = &at.current.file.tickets.site;
    if !(header.booths.iter().any(|b| b == booth) || header.site.as_ref() == Some(site)) {
        return Err(Refusal::NotForThisBooth);
    }
    if header.serial <= at.serial_floor {
        return Err(Refusal::Replay { serial: header.serial, floor: at.serial_floor });
    }
    let time = |key: &str, v: &str| {
        DateTime::parse_from_rfc3339(v)
            .map_err(|_| Refusal::Unreadable(format!("bundle.{key} = {v:?}: an RFC 3339 time")))
    };
    if time("issued_at", &header.issued_at)?.timestamp() > at.now.timestamp() + CLOCK_SLACK_SECS {
        return Err(Refusal::NotYetValid);
    }
    if let Some(before) = &header.apply_before
        && time("apply_before", before)? <= at.now
    {
        return Err(Refusal::Expired);
    }
    let current: toml::Table = toml::from_str(at.current_text).map_err(|e| Refusal::Invalid(e.message().to_owned()))?;
    let (merged, changes) = changes::merge(&current, &table)?;
    if changes.iter().any(|c| c.kind == ChangeKind::Trust) && signers.len() < 2 {
        return Err(Refusal::TrustNeedsTwo);
    }
    let new_text = toml::to_string(&merged).map_err(|e| Refusal::Invalid(e.to_string()))?;
    // Checked as the booth runs it (a Pi that runs the shared file on its real devices).
    let new = Settings::parse_on(&new_text, Some(at.current.file.hardware.backend))
        .map_err(|e| Refusal::Invalid(describe(&e)))?;
    changes::within_price_bounds(&changes, ops, new.price_fen)?;
    let warnings = changes::warnings(at.current, &new, at.now);
    let sha256 = crate::journal::storage::sha256_hex(bundle);
    Ok(Verified { header, signers, sha256, changes, warnings, new: Box::new(new) })
}

/// A bundle's header and settings, from its bytes (authenticated or not: nothing here trusts
/// them; used after the signatures checked out, and by `bundle new` and the fuzz test).
pub fn read(bundle: &[u8]) -> Result<(Header, toml::Table), Refusal> {
    if bundle.len() > MAX_BUNDLE {
        return Err(Refusal::TooLarge);
    }
    let text = std::str::from_utf8(bundle).map_err(|_| Refusal::Unreadable("not UTF-8 text".into()))?;
    let mut table: toml::Table = toml::from_str(text).map_err(|e| Refusal::Unreadable(e.message().to_owned()))?;
    let header = table.remove("bundle").ok_or_else(|| Refusal::Unreadable("no [bundle] header".into()))?;
    let header: Header =
        header.try_into().map_err(|e: toml::de::Error| Refusal::Unreadable(format!("[bundle]: {}", e.message())))?;
    Ok((header, table))
}

/// A bundle's settings merged onto a configuration (as `verify` merges them).
pub fn merge_settings(current: &toml::Table, settings: &toml::Table) -> Result<toml::Table, Refusal> {
    changes::merge(current, settings).map(|(merged, _)| merged)
}

fn describe(e: &ConfigError) -> String {
    match e {
        ConfigError::Invalid(i) => i.to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests;
