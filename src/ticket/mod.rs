//! The personal shooting QR code: a signed ticket (format in docs/ticket.md).
//!
//! `GBT1:` + base32 (RFC 4648, upper case, no padding — QR alphanumeric mode) of the payload
//! followed by an Ed25519 signature over `b"GBT1" || payload`. The payload is a short binary
//! record: key id, ticket id, name, masked student number, school, photo type, site, issued-at
//! and expires-at (Unix seconds). The booth verifies offline against the issuer keys in its
//! configuration (several, for rotation); every way a code can be wrong has its own refusal.

pub mod cmd;
pub mod settings;
pub mod signed;

use std::collections::BTreeMap;

use ed25519_dalek::{SigningKey, VerifyingKey};

use self::signed::{BadField, Envelope, Reader, Unopened, put_str};

use crate::visit::{Ticket, TicketRefusal};

pub const PREFIX: &str = "GBT1:";
pub use self::signed::MAX_FIELD;
/// Longest QR text the decoder looks at (a full payload is about 250 characters).
pub const MAX_TEXT: usize = 1024;
const ENVELOPE: Envelope = Envelope { prefix: PREFIX, domain: b"GBT1", max_text: MAX_TEXT };
/// Clock difference between issuer and booth that is tolerated before "not yet valid".
pub const CLOCK_SLACK_SECS: i64 = 300;

/// Photo types (the booth serves only the graduate photo).
pub const PHOTO_GRADUATE: u8 = 1;

/// What a ticket says.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Claims {
    pub key_id: String,
    pub id: String,
    pub name: String,
    pub student_no_masked: String,
    pub school: String,
    pub photo_type: u8,
    pub site: String,
    pub issued_at: u32,
    pub expires_at: u32,
}

impl std::fmt::Debug for Claims {
    // Personal fields never reach a log through Debug.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Claims").field("id", &self.id).field("key_id", &self.key_id).finish_non_exhaustive()
    }
}

/// Why a text could not be decoded (before any signature is checked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    NotATicket,
    Chsi,
    Malformed,
}

impl Claims {
    /// The rules the decoder enforces, so nothing is issued that a booth would refuse.
    pub fn check(&self) -> Result<(), String> {
        for (name, v) in [
            ("key id", &self.key_id),
            ("ticket id", &self.id),
            ("name", &self.name),
            ("student number", &self.student_no_masked),
            ("school", &self.school),
            ("site", &self.site),
        ] {
            if !signed::valid_field(v) {
                return Err(format!("{name}: 1 to {MAX_FIELD} bytes of text, no control characters"));
            }
        }
        if self.expires_at <= self.issued_at {
            return Err("the ticket must expire after it is issued".into());
        }
        Ok(())
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(160);
        out.push(1); // payload version
        for s in [&self.key_id, &self.id, &self.name, &self.student_no_masked, &self.school] {
            put_str(&mut out, s);
        }
        out.push(self.photo_type);
        put_str(&mut out, &self.site);
        out.extend_from_slice(&self.issued_at.to_be_bytes());
        out.extend_from_slice(&self.expires_at.to_be_bytes());
        out
    }

    fn from_bytes(b: &[u8]) -> Result<Self, DecodeError> {
        let read = |r: &mut Reader| -> Result<Self, BadField> {
            if r.u8()? != 1 {
                return Err(BadField);
            }
            let (key_id, id, name, student_no_masked, school) = (r.text()?, r.text()?, r.text()?, r.text()?, r.text()?);
            let photo_type = r.u8()?;
            let site = r.text()?;
            let (issued_at, expires_at) = (r.u32()?, r.u32()?);
            r.end()?;
            Ok(Claims { key_id, id, name, student_no_masked, school, photo_type, site, issued_at, expires_at })
        };
        read(&mut Reader(b)).map_err(|BadField| DecodeError::Malformed)
    }
}

/// The CHSI (学信网) capture code that graduates are also given: a link to chsi.com.cn. It is
/// recognised so the graduate can be told to use the mini-program's shooting code instead.
pub fn is_chsi_code(text: &str) -> bool {
    let t = text.trim().to_ascii_lowercase();
    t.contains("chsi.com.cn") || t.contains("chsi.cn/") || t.starts_with("chsi:")
}

/// Splits a QR text into its claims and its signed envelope; no key involved.
pub fn decode(text: &str) -> Result<(Claims, signed::Opened), DecodeError> {
    if is_chsi_code(text) {
        return Err(DecodeError::Chsi);
    }
    let opened = ENVELOPE.open(text).map_err(|e| match e {
        Unopened::OtherPrefix => DecodeError::NotATicket,
        Unopened::Malformed => DecodeError::Malformed,
    })?;
    Ok((Claims::from_bytes(&opened.payload)?, opened))
}

/// Signs claims into the QR text.
pub fn issue(key: &SigningKey, claims: &Claims) -> String {
    ENVELOPE.seal(key, claims.to_bytes())
}

/// The issuer keys a booth trusts, by key id.
#[derive(Debug, Clone, Default)]
pub struct Keyring(BTreeMap<String, VerifyingKey>);

impl Keyring {
    pub fn insert(&mut self, key_id: &str, key: VerifyingKey) {
        self.0.insert(key_id.to_owned(), key);
    }

    /// From `key id → hex public key` (the `[tickets.issuers]` table).
    pub fn from_hex(keys: &BTreeMap<String, String>) -> Result<Self, String> {
        let mut ring = Keyring::default();
        for (id, hex) in keys {
            ring.insert(id, public_key_from_hex(hex).map_err(|e| format!("{id}: {e}"))?);
        }
        Ok(ring)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, key_id: &str) -> Option<&VerifyingKey> {
        self.0.get(key_id)
    }

    /// The trusted key ids.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }
}

pub fn public_key_from_hex(hex: &str) -> Result<VerifyingKey, String> {
    let bytes =
        data_encoding::HEXLOWER_PERMISSIVE.decode(hex.trim().as_bytes()).map_err(|_| "not hexadecimal".to_string())?;
    let bytes: [u8; 32] =
        bytes.try_into().map_err(|_| "an Ed25519 public key is 32 bytes (64 hex digits)".to_string())?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| "not a valid Ed25519 public key".to_string())
}

pub fn public_key_hex(key: &VerifyingKey) -> String {
    data_encoding::HEXLOWER.encode(key.as_bytes())
}

/// Where and when the booth checks a ticket.
#[derive(Debug, Clone)]
pub struct Checkpoint<'a> {
    pub keys: &'a Keyring,
    pub site: &'a str,
    /// Unix seconds.
    pub now: i64,
}

/// Verifies a scanned text: format, issuer key, signature, photo type, site, validity period.
pub fn verify(text: &str, at: &Checkpoint) -> Result<Claims, TicketRefusal> {
    let (claims, opened) = decode(text).map_err(|e| match e {
        DecodeError::Chsi => TicketRefusal::ChsiCaptureCode,
        DecodeError::NotATicket => TicketRefusal::NotATicket,
        // It says it is ours but is damaged or altered: treat like a forgery.
        DecodeError::Malformed => TicketRefusal::BadSignature,
    })?;
    let key = at.keys.get(&claims.key_id).ok_or(TicketRefusal::BadSignature)?;
    if !opened.signed_by(key) {
        return Err(TicketRefusal::BadSignature);
    }
    if claims.photo_type != PHOTO_GRADUATE {
        return Err(TicketRefusal::WrongSite);
    }
    if claims.site != at.site {
        return Err(TicketRefusal::WrongSite);
    }
    if (claims.issued_at as i64) > at.now + CLOCK_SLACK_SECS {
        return Err(TicketRefusal::NotYetValid);
    }
    if (claims.expires_at as i64) <= at.now {
        return Err(TicketRefusal::Expired);
    }
    Ok(claims)
}

/// The visit's view of a verified ticket.
pub fn to_ticket(c: Claims) -> Ticket {
    Ticket { id: c.id, name: c.name, student_no_masked: c.student_no_masked, school: c.school }
}

/// Show the first four and last two characters: 2022123456 → 2022****56.
pub fn mask(student_no: &str) -> String {
    let chars: Vec<char> = student_no.chars().collect();
    if chars.len() <= 6 {
        return "*".repeat(chars.len());
    }
    let (head, tail) = (&chars[..4], &chars[chars.len() - 2..]);
    format!("{}{}{}", head.iter().collect::<String>(), "*".repeat(chars.len() - 6), tail.iter().collect::<String>())
}

/// A new signing key from the operating system's randomness.
pub fn generate_key() -> SigningKey {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).expect("the operating system's random source");
    SigningKey::from_bytes(&seed)
}

/// The demo graduate (李明), as the simulated scanner and the scripted graduate present him.
/// The demo graduate's full student number: the ticket carries it masked (`mask`).
pub const DEMO_STUDENT_NO: &str = "2022123456";

pub fn demo_claims(site: &str, now: i64) -> Claims {
    Claims {
        key_id: "sim".into(),
        id: "DEMO-0001".into(),
        name: "李明".into(),
        student_no_masked: mask(DEMO_STUDENT_NO),
        school: "上海电子信息职业技术学院".into(),
        photo_type: PHOTO_GRADUATE,
        site: site.into(),
        issued_at: (now - 3600).max(0) as u32,
        expires_at: (now + 30 * 86400).max(0) as u32,
    }
}

#[cfg(test)]
mod tests;
