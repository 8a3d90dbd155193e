//! `[tickets]`: this booth's site, as tickets name it, and the issuer keys it trusts (a real
//! booth needs at least one).

use serde::Deserialize;

use crate::validate::{Invalid, invalid};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketsFile {
    /// This booth's site, as tickets name it (a ticket for another site is refused).
    pub site: String,
    /// Trusted issuer public keys: key id → Ed25519 public key, 64 hex digits.
    #[serde(default)]
    issuers: std::collections::BTreeMap<String, String>,
}

impl TicketsFile {
    /// The issuer keys; `real`: a real booth, which must trust at least one.
    pub fn validate(&self, real: bool) -> Result<super::Keyring, Invalid> {
        if self.site.trim().is_empty() || self.site.len() > super::MAX_FIELD {
            return Err(invalid("tickets.site", format!("{:?}", self.site), "a site name of 1 to 64 bytes"));
        }
        let issuers = super::Keyring::from_hex(&self.issuers).map_err(|e| {
            invalid("tickets.issuers", e, "each issuer: key id = \"64 hex digits\" (an Ed25519 public key)")
        })?;
        if issuers.is_empty() && real {
            return Err(invalid(
                "tickets.issuers",
                "{}",
                "the real booth needs at least one issuer key (gradbooth ticket keygen prints one)",
            ));
        }
        Ok(issuers)
    }
}
