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
    /// Where the Prometheus metrics are served (`127.0.0.1:9464`); empty or absent = not at all.
    #[serde(default)]
    metrics_listen: String,
    /// Serve the metrics beyond this machine (a school's Prometheus on its network).
    #[serde(default)]
    metrics_public: bool,
    /// Below this much free space on the data directory, the storage check warns (MB).
    #[serde(default = "default_warn_mb")]
    storage_warn_mb: u64,
    /// The self-test may run the chair to each limit and back (no one may be seated).
    #[serde(default = "yes")]
    selftest_chair: bool,
}

fn default_warn_mb() -> u64 {
    1024
}

fn yes() -> bool {
    true
}

/// `[diagnostics]`, checked.
#[derive(Debug, Clone)]
pub struct DiagnosticsSettings {
    pub issuers: Keyring,
    pub revoked: Revoked,
    pub metrics_listen: Option<std::net::SocketAddr>,
    pub storage_warn_mb: u64,
    pub selftest_chair: bool,
}

impl Default for DiagnosticsSettings {
    fn default() -> Self {
        DiagnosticsSettings {
            issuers: Keyring::default(),
            revoked: Revoked::default(),
            metrics_listen: None,
            storage_warn_mb: default_warn_mb(),
            selftest_chair: true,
        }
    }
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
        let metrics_listen = match self.metrics_listen.trim() {
            "" => None,
            text => {
                let addr: std::net::SocketAddr = text.parse().map_err(|_| {
                    invalid(
                        "diagnostics.metrics_listen",
                        format!("{text:?}"),
                        "an address:port, e.g. \"127.0.0.1:9464\"",
                    )
                })?;
                if !addr.ip().is_loopback() && !self.metrics_public {
                    return Err(invalid(
                        "diagnostics.metrics_listen",
                        format!("{text:?}"),
                        "a loopback address (127.0.0.1); to serve the network set metrics_public = true as well",
                    ));
                }
                Some(addr)
            }
        };
        if self.storage_warn_mb == 0 {
            return Err(invalid("diagnostics.storage_warn_mb", 0, "1 or more (MB)"));
        }
        Ok(DiagnosticsSettings {
            issuers,
            revoked,
            metrics_listen,
            storage_warn_mb: self.storage_warn_mb,
            selftest_chair: self.selftest_chair,
        })
    }
}
