//! The envelope every signed gradbooth code shares — the graduate's ticket (`GBT1:`) and the
//! technician's service code (`GBS1:`): `<prefix><BASE32(payload || signature)>`, base32 as in
//! RFC 4648, upper case, no padding (QR alphanumeric mode), the Ed25519 signature over
//! `domain || payload` so a code of one kind can never be replayed as another. `Reader` and
//! `put_str` are the payload's field encoding (a length byte, then UTF-8).

use data_encoding::BASE32_NOPAD;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};

/// Longest text field, in bytes.
pub const MAX_FIELD: usize = 64;

/// A kind of signed code: its prefix and the bytes its signature is bound to.
pub struct Envelope {
    pub prefix: &'static str,
    pub domain: &'static [u8],
    /// Longest text after the prefix that is looked at.
    pub max_text: usize,
}

/// Why a text is not an envelope of this kind (before any key is involved).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unopened {
    OtherPrefix,
    /// It has the prefix but is damaged: too long, not base32, too short for a signature.
    Malformed,
}

/// An envelope taken apart: the payload, and its signature (not yet checked).
pub struct Opened {
    pub payload: Vec<u8>,
    signature: Signature,
    domain: &'static [u8],
}

impl Opened {
    /// Whether `key` signed this payload.
    pub fn signed_by(&self, key: &VerifyingKey) -> bool {
        let mut signed = self.domain.to_vec();
        signed.extend_from_slice(&self.payload);
        key.verify_strict(&signed, &self.signature).is_ok()
    }
}

impl Envelope {
    pub fn seal(&self, key: &SigningKey, payload: Vec<u8>) -> String {
        let mut signed = self.domain.to_vec();
        signed.extend_from_slice(&payload);
        let sig = key.sign(&signed);
        let mut raw = payload;
        raw.extend_from_slice(&sig.to_bytes());
        format!("{}{}", self.prefix, BASE32_NOPAD.encode(&raw))
    }

    pub fn open(&self, text: &str) -> Result<Opened, Unopened> {
        let body = text.trim().strip_prefix(self.prefix).ok_or(Unopened::OtherPrefix)?;
        if body.len() > self.max_text {
            return Err(Unopened::Malformed);
        }
        let raw = BASE32_NOPAD.decode(body.as_bytes()).map_err(|_| Unopened::Malformed)?;
        if raw.len() < 64 + 1 {
            return Err(Unopened::Malformed);
        }
        let (payload, sig) = raw.split_at(raw.len() - 64);
        let signature = Signature::from_bytes(sig.try_into().map_err(|_| Unopened::Malformed)?);
        Ok(Opened { payload: payload.to_vec(), signature, domain: self.domain })
    }
}

/// A text field: one length byte (at most `MAX_FIELD`), then its bytes.
pub fn put_str(out: &mut Vec<u8>, s: &str) {
    let b = s.as_bytes();
    out.push(b.len().min(MAX_FIELD) as u8);
    out.extend_from_slice(&b[..b.len().min(MAX_FIELD)]);
}

/// Whether `s` may be a text field: 1 to `MAX_FIELD` bytes, not only spaces, no control characters.
pub fn valid_field(s: &str) -> bool {
    !s.trim().is_empty() && s.len() <= MAX_FIELD && !s.chars().any(char::is_control)
}

/// A payload field that does not fit its encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadField;

/// Reads a payload's fields in order; any field that does not fit is `Err(BadField)`.
pub struct Reader<'a>(pub &'a [u8]);

impl Reader<'_> {
    pub fn u8(&mut self) -> Result<u8, BadField> {
        let (&v, rest) = self.0.split_first().ok_or(BadField)?;
        self.0 = rest;
        Ok(v)
    }

    pub fn u32(&mut self) -> Result<u32, BadField> {
        let (v, rest) = self.0.split_first_chunk::<4>().ok_or(BadField)?;
        self.0 = rest;
        Ok(u32::from_be_bytes(*v))
    }

    pub fn bytes<const N: usize>(&mut self) -> Result<[u8; N], BadField> {
        let (v, rest) = self.0.split_first_chunk::<N>().ok_or(BadField)?;
        self.0 = rest;
        Ok(*v)
    }

    pub fn text(&mut self) -> Result<String, BadField> {
        let n = self.u8()? as usize;
        if n == 0 || n > MAX_FIELD || n > self.0.len() {
            return Err(BadField);
        }
        let (s, rest) = self.0.split_at(n);
        self.0 = rest;
        let s = std::str::from_utf8(s).map_err(|_| BadField)?;
        if !valid_field(s) {
            return Err(BadField);
        }
        Ok(s.to_owned())
    }

    /// Nothing may follow the last field.
    pub fn end(&self) -> Result<(), BadField> {
        if self.0.is_empty() { Ok(()) } else { Err(BadField) }
    }
}
