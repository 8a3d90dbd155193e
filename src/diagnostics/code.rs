//! The technician's service code (format in docs/service-code.md): the ticket's signed
//! envelope (`ticket::signed`) with its own prefix `GBS1:` and domain, so a graduate's ticket
//! can never open the mode and a service code can never start a visit. The payload names the
//! technician, the sites it is good for, when it is valid (at most 24 hours) and a nonce that
//! a revocation can name. Trusted keys are `[diagnostics.issuers]`, not the ticket issuers.

use ed25519_dalek::SigningKey;

use crate::ticket::signed::{self, BadField, Envelope, Reader, Unopened, put_str};
use crate::ticket::{self, CLOCK_SLACK_SECS, Keyring};

pub const PREFIX: &str = crate::visit::service::SERVICE_PREFIX;
const ENVELOPE: Envelope = Envelope { prefix: PREFIX, domain: b"GBS1", max_text: 1024 };
/// The longest a service code may be valid.
pub const MAX_VALID_SECS: u32 = 24 * 3600;
/// The most sites one code may name.
pub const MAX_SITES: usize = 8;

/// What a service code says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceClaims {
    pub key_id: String,
    /// Who the technician is (their staff id: audited, shown on the status page).
    pub technician: String,
    /// The booths' sites it opens (`tickets.site`).
    pub sites: Vec<String>,
    /// Unix seconds.
    pub not_before: u32,
    pub expires_at: u32,
    /// Random: names this one code in a revocation.
    pub nonce: [u8; 8],
}

/// Why a scanned code does not open the mode (the machine's own list: it shows each one).
pub use crate::visit::ServiceRefusal;

impl ServiceClaims {
    /// The rules the decoder enforces, so nothing is issued that a booth would refuse.
    pub fn check(&self) -> Result<(), String> {
        for (name, v) in [("key id", &self.key_id), ("technician", &self.technician)] {
            if !signed::valid_field(v) {
                return Err(format!("{name}: 1 to {} bytes of text, no control characters", signed::MAX_FIELD));
            }
        }
        if self.sites.is_empty() || self.sites.len() > MAX_SITES || !self.sites.iter().all(|s| signed::valid_field(s)) {
            return Err(format!("sites: 1 to {MAX_SITES} site names"));
        }
        if self.expires_at <= self.not_before {
            return Err("the code must expire after it becomes valid".into());
        }
        if self.expires_at - self.not_before > MAX_VALID_SECS {
            return Err("a service code is valid for 24 hours at most".into());
        }
        Ok(())
    }

    fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![1]; // payload version
        put_str(&mut out, &self.key_id);
        put_str(&mut out, &self.technician);
        out.push(self.sites.len().min(MAX_SITES) as u8);
        for s in self.sites.iter().take(MAX_SITES) {
            put_str(&mut out, s);
        }
        out.extend_from_slice(&self.not_before.to_be_bytes());
        out.extend_from_slice(&self.expires_at.to_be_bytes());
        out.extend_from_slice(&self.nonce);
        out
    }

    fn from_bytes(b: &[u8]) -> Result<Self, BadField> {
        let r = &mut Reader(b);
        if r.u8()? != 1 {
            return Err(BadField);
        }
        let (key_id, technician) = (r.text()?, r.text()?);
        let n = r.u8()? as usize;
        if n == 0 || n > MAX_SITES {
            return Err(BadField);
        }
        let sites = (0..n).map(|_| r.text()).collect::<Result<_, _>>()?;
        let (not_before, expires_at, nonce) = (r.u32()?, r.u32()?, r.bytes::<8>()?);
        r.end()?;
        Ok(ServiceClaims { key_id, technician, sites, not_before, expires_at, nonce })
    }

    /// The pass the machine opens the mode with: the code's expiry in booth time.
    pub fn pass(&self, wall_now: i64, now: crate::visit::Instant) -> crate::visit::ServicePass {
        let left = (self.expires_at as i64 - wall_now).max(0) as u64;
        crate::visit::ServicePass {
            technician: self.technician.clone(),
            code_id: self.nonce_hex(),
            expires_at: now.after(std::time::Duration::from_secs(left)),
        }
    }

    /// The nonce as the revocation list writes it (16 hex digits).
    pub fn nonce_hex(&self) -> String {
        data_encoding::HEXLOWER.encode(&self.nonce)
    }
}

/// Technicians and codes that no longer open the mode: technician ids, or nonces in hex.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Revoked(pub std::collections::BTreeSet<String>);

impl Revoked {
    fn covers(&self, c: &ServiceClaims) -> bool {
        self.0.contains(&c.technician) || self.0.contains(&c.nonce_hex())
    }
}

/// Where and when the booth checks a service code.
pub struct ServiceCheckpoint<'a> {
    pub keys: &'a Keyring,
    pub revoked: &'a Revoked,
    pub site: &'a str,
    /// Unix seconds.
    pub now: i64,
}

/// Signs claims into the QR text (the caller checked them: `ServiceClaims::check`).
pub fn issue(key: &SigningKey, claims: &ServiceClaims) -> String {
    ENVELOPE.seal(key, claims.to_bytes())
}

/// A new nonce from the operating system's randomness.
pub fn nonce() -> [u8; 8] {
    let mut n = [0u8; 8];
    getrandom::fill(&mut n).expect("the operating system's random source");
    n
}

/// Verifies a scanned text as a service code: format, key, signature, site, validity, revocation.
pub fn verify(text: &str, at: &ServiceCheckpoint) -> Result<ServiceClaims, ServiceRefusal> {
    let opened = ENVELOPE.open(text).map_err(|e| match e {
        Unopened::Malformed => ServiceRefusal::BadSignature,
        Unopened::OtherPrefix if ticket::is_chsi_code(text) => ServiceRefusal::ChsiCode,
        Unopened::OtherPrefix if text.trim().starts_with(ticket::PREFIX) => ServiceRefusal::GraduateTicket,
        Unopened::OtherPrefix => ServiceRefusal::NotAServiceCode,
    })?;
    let claims = ServiceClaims::from_bytes(&opened.payload).map_err(|BadField| ServiceRefusal::BadSignature)?;
    let key = at.keys.get(&claims.key_id).ok_or(ServiceRefusal::BadSignature)?;
    if !opened.signed_by(key) {
        return Err(ServiceRefusal::BadSignature);
    }
    if !claims.sites.iter().any(|s| s == at.site) {
        return Err(ServiceRefusal::WrongSite);
    }
    if claims.expires_at <= claims.not_before || claims.expires_at - claims.not_before > MAX_VALID_SECS {
        return Err(ServiceRefusal::TooLong);
    }
    if (claims.not_before as i64) > at.now + CLOCK_SLACK_SECS {
        return Err(ServiceRefusal::NotYetValid);
    }
    if (claims.expires_at as i64) <= at.now {
        return Err(ServiceRefusal::Expired);
    }
    if at.revoked.covers(&claims) {
        return Err(ServiceRefusal::Revoked);
    }
    Ok(claims)
}

#[cfg(test)]
mod tests;
