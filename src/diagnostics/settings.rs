//! `[diagnostics]`: the keys that sign technicians' service codes (their own list, never the
//! ticket issuers) and the technicians or codes revoked. Without keys no code opens the mode.

use serde::Deserialize;

use super::code::Revoked;
use crate::ticket::Keyring;
use crate::validate::{Invalid, invalid};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiagnosticsFile {
    /// Service code keys: key id → Ed25519 public key, 64 hex digits.
    #[serde(default)]
    issuers: std::collections::BTreeMap<String, String>,
    /// Technician ids, or service code nonces (16 hex digits), that no longer open the mode.
    #[serde(default)]
    revoked: Vec<String>,
}

/// `[diagnostics]`, checked.
#[derive(Debug, Clone, Default)]
pub struct DiagnosticsSettings {
    pub issuers: Keyring,
    pub revoked: Revoked,
}

impl DiagnosticsFile {
    /// `ticket_issuers`: the ticket keys, which must not sign service codes too.
    pub fn validate(&self, ticket_issuers: &Keyring) -> Result<DiagnosticsSettings, Invalid> {
        let issuers = Keyring::from_hex(&self.issuers).map_err(|e| {
            invalid("diagnostics.issuers", e, "each key: key id = \"64 hex digits\" (an Ed25519 public key)")
        })?;
        for id in issuers.ids() {
            if ticket_issuers.ids().any(|t| ticket_issuers.get(t) == issuers.get(id)) {
                return Err(invalid(
                    &format!("diagnostics.issuers.{id}"),
                    "(a ticket key)",
                    "a key of its own: a key that signs graduates' tickets must not open the diagnostics mode",
                ));
            }
        }
        let mut revoked = Revoked::default();
        for r in &self.revoked {
            if !crate::ticket::signed::valid_field(r) {
                return Err(invalid("diagnostics.revoked", format!("{r:?}"), "technician ids or 16-hex-digit nonces"));
            }
            let r = r.trim();
            // A nonce in either case; a technician id as written.
            let nonce = r.len() == 16 && r.chars().all(|c| c.is_ascii_hexdigit());
            revoked.0.insert(if nonce { r.to_ascii_lowercase() } else { r.to_owned() });
        }
        Ok(DiagnosticsSettings { issuers, revoked })
    }
}
